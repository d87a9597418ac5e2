"""the vote relay's ballots and transactions, kept so a restart or another replica carries on

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_ballot",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("proposal_id", sa.String(length=78), nullable=False),
        sa.Column("voter", sa.String(length=42), nullable=False),
        sa.Column("support", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=78), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("signature", sa.String(length=132), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.Column("accepted_block", sa.BigInteger(), nullable=False),
        sa.Column("relay_nonce", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("counted_by_relay", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
    )
    op.create_index("ix_relay_ballot_voter", "relay_ballot", ["voter"])
    op.create_index("ix_relay_ballot_status", "relay_ballot", ["status"])
    op.create_table(
        "relay_transaction",
        sa.Column("sender", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("to", sa.String(length=42), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("gas", sa.BigInteger(), nullable=False),
        sa.Column("max_fee", sa.String(length=78), nullable=False),
        sa.Column("tip", sa.String(length=78), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("ballot_ids", sa.Text(), nullable=False),
        sa.Column("hashes", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("sender", "nonce"),
    )
    op.create_index("ix_relay_transaction_done", "relay_transaction", ["done"])


def downgrade() -> None:
    op.drop_index("ix_relay_transaction_done", table_name="relay_transaction")
    op.drop_table("relay_transaction")
    op.drop_index("ix_relay_ballot_status", table_name="relay_ballot")
    op.drop_index("ix_relay_ballot_voter", table_name="relay_ballot")
    op.drop_table("relay_ballot")
