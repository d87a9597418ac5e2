"""decision log and votes: unique by position in the chain (block number, log index), not by hashes;
decision log indexed by (kind, seq) for the API's kind filter, instead of (kind, timestamp)

The hash-keyed unique indexes took random inserts on every row of a backfill; the position keys grow at
their end and also serve the rollback's `block_number >` deletes, so the block_number indexes go too.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decision_entry", schema=None) as batch_op:
        batch_op.drop_constraint("uq_decision_log_identity", type_="unique")
        batch_op.drop_index("ix_decision_entry_block_number")
        batch_op.create_unique_constraint("uq_decision_entry_position", ["block_number", "log_index"])
        batch_op.drop_index("ix_decision_entry_kind_timestamp")
        batch_op.create_index("ix_decision_entry_kind_seq", ["kind", "seq"], unique=False)
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_constraint("uq_vote_log", type_="unique")
        batch_op.drop_index("ix_vote_block_number")
        batch_op.create_unique_constraint("uq_vote_position", ["block_number", "log_index"])


def downgrade() -> None:
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.drop_constraint("uq_vote_position", type_="unique")
        batch_op.create_index("ix_vote_block_number", ["block_number"], unique=False)
        batch_op.create_unique_constraint("uq_vote_log", ["tx_hash", "log_index"])
    with op.batch_alter_table("decision_entry", schema=None) as batch_op:
        batch_op.drop_constraint("uq_decision_entry_position", type_="unique")
        batch_op.drop_index("ix_decision_entry_kind_seq")
        batch_op.create_index("ix_decision_entry_kind_timestamp", ["kind", "timestamp"], unique=False)
        batch_op.create_index("ix_decision_entry_block_number", ["block_number"], unique=False)
        batch_op.create_unique_constraint("uq_decision_log_identity", ["block_hash", "tx_hash", "log_index"])
