"""proposal: the members' initiative it came from (initiative_id), filled in for proposals already indexed

An initiative's proposal is proposed on-chain by the Initiatives contract; its author and supporters are named by the
InitiativeSubmitted entry (subject `initiative:<id>`), which the API reads through the proposal's initiative_id.
Proposals indexed before this revision get theirs from the InitiativeSubmitted entries the log already holds.

Revision ID: 0009
Revises: 0008
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("proposal", sa.Column("initiative_id", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    submitted = conn.execute(sa.text("SELECT data FROM decision_entry WHERE kind = 'InitiativeSubmitted'")).scalars()
    for data in submitted:
        d = json.loads(data)
        conn.execute(
            sa.text("UPDATE proposal SET initiative_id = :initiative WHERE proposal_id = :proposal"),
            {"initiative": int(d["id"]), "proposal": str(d["proposalId"])},
        )


def downgrade() -> None:
    with op.batch_alter_table("proposal") as batch:
        batch.drop_column("initiative_id")
