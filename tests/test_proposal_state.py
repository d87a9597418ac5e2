"""The state rule's two spellings agree: `proposal_state_at` (Python, one proposal) and `STATE_SQL` (the database's,
used to filter by state), on SQLite and PostgreSQL, over every combination of facts around one block's time."""

import itertools

import sqlalchemy as sa

from api.cache.tables import PROPOSALS
from api.db import make_engine
from governance.proposal_state import STATE_SQL, ProposalFacts, proposal_state_at
from governance.vocabulary import PROPOSAL_STATES

NOW = 1_000
# Each fact just before, at and after the block's time, or on both sides of each comparison the rule makes.
FACTS = list(
    itertools.product(
        (NOW - 1, NOW, NOW + 1),  # snapshot
        (NOW - 1, NOW, NOW + 1),  # deadline
        (0, NOW + 60),  # eta
        (0, 1, 2),  # for
        (0, 1, 2),  # against
        (0, 1),  # abstain
        (None, 0, 2, 3),  # quorum
        (False, True),  # executed
        (False, True),  # canceled
    )
)


def proposal_row(number: int, facts: ProposalFacts) -> dict:
    """A proposal table row with these facts (everything else a placeholder)."""
    return {
        "proposal_id": str(number),
        "number": number,
        "proposer": "0x" + "00" * 20,
        "title": "",
        "description": "",
        "targets": [],
        "values": [],
        "calldatas": [],
        "signatures": [],
        "actions_in_words": [],
        "snapshot": facts.snapshot,
        "vote_end": facts.deadline,
        "deadline": facts.deadline,
        "eta": facts.eta,
        "votes_for": facts.votes_for,
        "votes_against": facts.votes_against,
        "votes_abstain": facts.votes_abstain,
        "quorum": facts.quorum,
        "created_block": 1,
        "created_tx": "0x",
        "created_time": 0,
        "executed_block": 5 if facts.executed else None,
        "canceled_block": 6 if facts.canceled else None,
    }


def test_the_sql_state_rule_agrees_with_the_python_one_on_every_state(cache_url):
    every = {number: ProposalFacts(*values) for number, values in enumerate(FACTS, start=1)}
    engine = make_engine(cache_url)
    with engine.begin() as conn:
        conn.execute(PROPOSALS.insert(), [proposal_row(number, facts) for number, facts in every.items()])
        in_sql = dict(conn.execute(sa.text(f"SELECT number, {STATE_SQL} AS state FROM proposal").bindparams(timestamp=NOW)).all())
        conn.execute(PROPOSALS.delete())
    engine.dispose()
    in_python = {number: proposal_state_at(facts, NOW) for number, facts in every.items()}
    assert in_sql == in_python
    # GovernorTimelockControl never reports `expired` (OpenZeppelin 5's Governor has no expiry of its own).
    assert set(in_python.values()) == set(PROPOSAL_STATES) - {"expired"}
