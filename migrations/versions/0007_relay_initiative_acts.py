"""the relay's initiative acts (signed drafts, revisions, withdrawals, supports) and members' free actions per day

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_initiative_act",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("member", sa.String(length=42), nullable=False),
        sa.Column("initiative", sa.String(length=78), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("accepted_at", sa.Float(), nullable=False),
        sa.Column("accepted_block", sa.BigInteger(), nullable=False),
        sa.Column("relay_nonce", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("by_relay", sa.Boolean(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("id"),
        sa.UniqueConstraint("member", "day", "slot", name="uq_relay_initiative_act_slot"),
    )
    op.create_index("ix_relay_initiative_act_member", "relay_initiative_act", ["member"])
    op.create_index("ix_relay_initiative_act_status", "relay_initiative_act", ["status"])


def downgrade() -> None:
    op.drop_index("ix_relay_initiative_act_status", table_name="relay_initiative_act")
    op.drop_index("ix_relay_initiative_act_member", table_name="relay_initiative_act")
    op.drop_table("relay_initiative_act")
