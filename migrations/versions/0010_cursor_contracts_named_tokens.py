"""sync cursor: the Initiatives and Contributions contracts; named_token: tokens that actions name, as they name
themselves

The API reads actions in words with the commons' contracts from the cursor, which held only the membership
registry, the governor and the timelock: a call to the Initiatives or Contributions contract (a setting of the
initiatives, a token to track) read as an unknown call. The two columns are left empty here for a cache indexed
before this revision (the cache knows the contracts by role, never by address, so it cannot say them): the indexer
writes them from the manifest with its next batch, as it writes the other three with every batch.

named_token starts empty: tokens named by proposals and initiatives indexed from now on are read as they are indexed.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_cursor", sa.Column("initiatives", sa.String(length=42), nullable=True))
    op.add_column("sync_cursor", sa.Column("contributions", sa.String(length=42), nullable=True))
    op.create_table(
        "named_token",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("symbol", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.Column("read_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("named_token")
    with op.batch_alter_table("sync_cursor") as batch:
        batch.drop_column("contributions")
        batch.drop_column("initiatives")
