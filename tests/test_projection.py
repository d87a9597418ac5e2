"""Events → rows without a database or a chain: the projection reads through a RowSource and holds named rows."""

from dataclasses import fields

from api.cache.projection import LogRow, MemberRow, Projection, ProposalRow, SettingRow, StewardRow, VoteRow
from api.cache.tables import LOG, MEMBERS, PROPOSALS, SETTINGS, STEWARDS, VOTES
from governance.events import Event
from governance.vocabulary import Addresses

ADDRESSES = Addresses("0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20)
ADA = "0x" + "aa" * 20


class EmptyCache:
    """A RowSource with no rows yet."""

    def member(self, address):
        return None

    def steward(self, address):
        return None

    def proposal(self, proposal_id):
        return None

    def proposal_of_operation(self, operation_id):
        return None

    def last_proposal_number(self):
        return 0


def event(block: int, name: str, **args) -> Event:
    contract = "membership" if name.startswith("Member") else "governor"
    return Event(block, f"0x{block:064x}", f"0x{block:064x}", 0, 1_000 + block, contract, name, args)


def test_each_row_names_the_columns_of_its_table():
    assert {f.name for f in fields(MemberRow)} == set(MEMBERS.c.keys())
    assert {f.name for f in fields(StewardRow)} == set(STEWARDS.c.keys())
    assert {f.name for f in fields(SettingRow)} == set(SETTINGS.c.keys())
    assert {f.name for f in fields(ProposalRow)} == set(PROPOSALS.c.keys())
    assert set(VoteRow._fields) == set(VOTES.c.keys()) - {"id"}
    assert LogRow._fields == tuple(LOG.c.keys())


def test_a_member_admitted_and_resigned_in_one_run_is_one_new_row_that_left():
    projection = Projection(EmptyCache(), ADDRESSES)
    projection.apply(event(1, "MemberAdmitted", member=ADA, tokenId=7, handle="ada"))
    projection.apply(event(2, "MemberResigned", member=ADA))
    held = projection.members[ADA]
    assert held.is_new and held.row.member_number == 7 and held.row.first_admitted_block == 1
    assert (held.row.is_member, held.row.left_how, held.row.left_block) == (False, "resigned", 2)


def test_votes_on_a_proposal_created_in_the_same_run_count_into_its_row():
    projection = Projection(EmptyCache(), ADDRESSES)
    projection.apply(
        event(
            1,
            "ProposalCreated",
            proposalId=42,
            proposer=ADA,
            targets=[ADA],
            values=[5],
            signatures=[""],
            calldatas=["0x"],
            voteStart=1_010,
            voteEnd=1_020,
            description="# Buy seeds\n\nFor spring.",
        )
    )
    projection.apply(event(2, "VoteCast", voter=ADA, proposalId=42, support=1, weight=1, reason="yes"))
    projection.apply(event(3, "VoteCast", voter=ADA, proposalId=43, support=2, weight=1, reason=""))
    row = projection.proposals["42"].row
    assert (row.number, row.title, row.votes_for, row.voter_count) == (1, "Buy seeds", 1, 1)
    assert projection.tallies["43"].votes_abstain == 1 and "42" not in projection.tallies
    assert [v.proposal_id for v in projection.votes] == ["42", "43"]
