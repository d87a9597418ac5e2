"""the cache: cursor, blocks, decision log, members, stewards, settings, proposals, votes

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:23:20.111980
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

# uint256 columns: exact NUMERIC(78) on PostgreSQL, 64-bit integers on SQLite (values bounded far below 2**63).
UINT256 = sa.Numeric(78, 0).with_variant(sa.BigInteger(), "sqlite")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_entry",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("tx_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("contract", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=78), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("prev_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("block_hash", "tx_hash", "log_index", name="uq_decision_log_identity"),
    )
    with op.batch_alter_table("decision_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_entry_block_number"), ["block_number"], unique=False)
        batch_op.create_index("ix_decision_entry_kind_timestamp", ["kind", "timestamp"], unique=False)
        batch_op.create_index("ix_decision_entry_subject_seq", ["subject", "seq"], unique=False)

    op.create_table(
        "indexed_block",
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "member",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("member_number", UINT256, nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("delegate", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
        sa.Column("first_admitted_block", sa.BigInteger(), nullable=False),
        sa.Column("first_admitted_time", sa.BigInteger(), nullable=False),
        sa.Column("admitted_block", sa.BigInteger(), nullable=False),
        sa.Column("admitted_time", sa.BigInteger(), nullable=False),
        sa.Column("left_how", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("left_block", sa.BigInteger(), nullable=True),
        sa.Column("left_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_is_member"), ["is_member"], unique=False)

    op.create_table(
        "proposal",
        sa.Column("proposal_id", sqlmodel.sql.sqltypes.AutoString(length=78), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("proposer", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("calldatas", sa.JSON(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.Column("actions_in_words", sa.JSON(), nullable=False),
        sa.Column("snapshot", UINT256, nullable=False),
        sa.Column("vote_end", UINT256, nullable=False),
        sa.Column("deadline", UINT256, nullable=False),
        sa.Column("eta", UINT256, nullable=False),
        sa.Column("votes_for", UINT256, nullable=False),
        sa.Column("votes_against", UINT256, nullable=False),
        sa.Column("votes_abstain", UINT256, nullable=False),
        sa.Column("voter_count", sa.Integer(), nullable=False),
        sa.Column("quorum", UINT256, nullable=True),
        sa.Column("electorate", sa.Integer(), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("timelock_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("queued_block", sa.BigInteger(), nullable=True),
        sa.Column("queued_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("queued_time", sa.BigInteger(), nullable=True),
        sa.Column("executed_block", sa.BigInteger(), nullable=True),
        sa.Column("executed_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("executed_time", sa.BigInteger(), nullable=True),
        sa.Column("canceled_block", sa.BigInteger(), nullable=True),
        sa.Column("canceled_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("canceled_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("proposal_id"),
        sa.UniqueConstraint("number"),
    )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proposal_proposer"), ["proposer"], unique=False)
        batch_op.create_index(batch_op.f("ix_proposal_timelock_id"), ["timelock_id"], unique=False)

    op.create_table(
        "setting",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("value", UINT256, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "steward",
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("appointed_block", sa.BigInteger(), nullable=False),
        sa.Column("appointed_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("appointed_time", sa.BigInteger(), nullable=False),
        sa.Column("recalled_block", sa.BigInteger(), nullable=True),
        sa.Column("recalled_tx", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("recalled_time", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "sync_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("membership", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("governor", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("timelock", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("deployment_block", sa.BigInteger(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("block_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("head_block", sa.BigInteger(), nullable=False),
        sa.Column("treasury_wei", sqlmodel.sql.sqltypes.AutoString(length=78), nullable=False),
        sa.Column("log_seq", sa.BigInteger(), nullable=False),
        sa.Column("log_head_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "vote",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("proposal_id", sqlmodel.sql.sqltypes.AutoString(length=78), nullable=False),
        sa.Column("voter", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("weight", UINT256, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index", name="uq_vote_log"),
    )
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vote_block_number"), ["block_number"], unique=False)
        batch_op.create_index("ix_vote_proposal_id_id", ["proposal_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vote_voter"), ["voter"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vote_voter"))
        batch_op.drop_index("ix_vote_proposal_id_id")
        batch_op.drop_index(batch_op.f("ix_vote_block_number"))

    op.drop_table("vote")
    op.drop_table("sync_cursor")
    op.drop_table("steward")
    op.drop_table("setting")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_timelock_id"))
        batch_op.drop_index(batch_op.f("ix_proposal_proposer"))

    op.drop_table("proposal")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_is_member"))

    op.drop_table("member")
    op.drop_table("indexed_block")
    with op.batch_alter_table("decision_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_decision_entry_subject_seq")
        batch_op.drop_index("ix_decision_entry_kind_timestamp")
        batch_op.drop_index(batch_op.f("ix_decision_entry_block_number"))

    op.drop_table("decision_entry")
