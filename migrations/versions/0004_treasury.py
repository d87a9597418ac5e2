"""the treasury in several assets: tracked tokens with their balances, and every flow in and out

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "treasury_asset",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("tracked", sa.Boolean(), nullable=False),
        sa.Column("tracked_block", sa.BigInteger(), nullable=False),
        sa.Column("untracked_block", sa.BigInteger(), nullable=True),
        sa.Column("balance", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "treasury_flow",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("asset", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("counterparty", sa.String(length=42), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.String(length=66), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("block_number", "log_index", name="uq_treasury_flow_position"),
    )
    op.create_index("ix_treasury_flow_counterparty", "treasury_flow", ["counterparty"])
    op.create_index("ix_treasury_flow_operation_id", "treasury_flow", ["operation_id"])


def downgrade() -> None:
    op.drop_index("ix_treasury_flow_operation_id", table_name="treasury_flow")
    op.drop_index("ix_treasury_flow_counterparty", table_name="treasury_flow")
    op.drop_table("treasury_flow")
    op.drop_table("treasury_asset")
