"""decision log: two partial indexes for the API's reads that missed an index on a large history

- (subject, kind) over entries other than votes: a proposal's timeline (its lifecycle entries) was found by
  reading every entry about the proposal, its votes included: 20 ms for a proposal with 10,000 votes;
- the delegatee of DelegateChanged entries: the decision log's `member=` filter found delegations to a member
  by reading every delegation's data (25 ms on a commons of 10,000 members, twice a page).

Votes are most of the log and are in neither index, so a backfill barely pays for them.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As api/cache/tables.py words them (a query must repeat them word for word); copied, as a migration stays as written.
NOT_A_VOTE = "kind NOT IN ('VoteCast', 'VoteCastWithParams')"
A_DELEGATION = "kind = 'DelegateChanged'"
DELEGATEE = "substr(data, length(data) - 43, 42)"


def upgrade() -> None:
    op.create_index(
        "ix_decision_entry_subject_kind_not_votes",
        "decision_entry",
        ["subject", "kind"],
        sqlite_where=sa.text(NOT_A_VOTE),
        postgresql_where=sa.text(NOT_A_VOTE),
    )
    op.create_index(
        "ix_decision_entry_delegatee",
        "decision_entry",
        [sa.text(DELEGATEE)],
        sqlite_where=sa.text(A_DELEGATION),
        postgresql_where=sa.text(A_DELEGATION),
    )


def downgrade() -> None:
    op.drop_index("ix_decision_entry_delegatee", table_name="decision_entry")
    op.drop_index("ix_decision_entry_subject_kind_not_votes", table_name="decision_entry")
