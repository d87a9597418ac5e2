"""The relay's initiative acts and members' free actions in the database (SQLite and PostgreSQL): a refused act gives
its free action back only if the relay never paid for it on-chain, so undoing an act from the wallet just before the
relay's transaction is mined cannot buy unlimited free tries."""

import secrets

from api.db import make_engine
from api.relay_act_store import SqlActStore
from governance.relay_store import QUEUED, REFUSED, ActRecord

DAY = "2026-12-06"


def _act(member: str, n: int) -> ActRecord:
    return ActRecord("0x" + secrets.token_hex(32), "support", member, 1, bytes([n]), b"\x01" * 65, DAY)


def test_a_refusal_gives_the_free_action_back_only_when_the_relay_paid_nothing(cache_url):
    store = SqlActStore(make_engine(cache_url))
    member = "0x" + secrets.token_hex(20)  # the PostgreSQL database is shared by the session: a member of its own
    first, second = store.add(_act(member, 1), 2), store.add(_act(member, 2), 2)
    assert first is not None and second is not None and store.add(_act(member, 3), 2) is None
    # Refused before it was sent: the slot is given back (the relay's resolve sets slot None).
    first.status, first.slot = REFUSED, None
    # Refused after the relay's transaction for it was mined and reverted: the slot stays used.
    second.status = REFUSED
    store.update([first, second])
    assert store.used(member, DAY) == 1
    again = store.add(_act(member, 4), 2)
    assert again is not None and store.add(_act(member, 5), 2) is None
    # The same refused act, accepted anew (it passed every check again), keeps the slot it held: no second one.
    second.status = QUEUED
    readded = store.add(second, 2)
    assert readded is not None and readded.slot == second.slot and store.used(member, DAY) == 2
