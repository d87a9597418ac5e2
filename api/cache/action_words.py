"""Actions in words as the cache knows the commons: its contracts, members by handle and tokens in their units,
for proposals and initiatives alike."""

from collections.abc import Iterator, Mapping, Sequence

import sqlalchemy as sa
from eth_utils import to_checksum_address
from sqlalchemy.engine import Connection, RowMapping

from api.cache.tables import MEMBERS
from api.cache.treasury_queries import known_tokens
from governance import actions as act
from governance.readings import Context, Reading, read_action
from governance.vocabulary import ROLES, Addresses


class HandlesOnDemand(Mapping[str, str]):
    """Members' handles by lower-case address, each read from the cache the first time a reading names it.

    A reading names a few addresses; loading every member's handle for it cost ~20 ms on a commons of 10,000
    members, on every proposal answer built. Iterating gives only the handles read so far.
    """

    def __init__(self, conn: Connection):
        self.conn = conn
        self.read: dict[str, str | None] = {}

    def __getitem__(self, address: str) -> str:
        if address not in self.read:
            # Addresses are stored checksummed; a reading asks in lower case (governance.readings.Context.who).
            stored = to_checksum_address(address)
            self.read[address] = self.conn.execute(sa.select(MEMBERS.c.handle).where(MEMBERS.c.address == stored)).scalar()
        handle = self.read[address]
        if handle is None:
            raise KeyError(address)
        return handle

    def __iter__(self) -> Iterator[str]:
        return (address for address, handle in self.read.items() if handle is not None)

    def __len__(self) -> int:
        return sum(1 for handle in self.read.values() if handle is not None)


def cached_addresses(at: RowMapping) -> Addresses:
    """The commons' contracts by role as the sync cursor `at` holds them: the three every commons has, and the
    Initiatives and Contributions contracts ("" when the commons has none, or the cache has not been told yet)."""
    return Addresses(*(at[role] for role in ROLES), initiatives=at["initiatives"] or "", contributions=at["contributions"] or "")


def read_actions(
    conn: Connection, at: RowMapping, targets: Sequence[str], values: Sequence[str], calldatas: Sequence[str]
) -> list[Reading]:
    """Each action (as the cache stores them: values in decimal, calldata in 0x-hex) read in words."""
    context = Context(cached_addresses(at), HandlesOnDemand(conn), known_tokens(conn))
    return [read_action(act.Action(t, int(v), bytes.fromhex(c[2:])), context) for t, v, c in zip(targets, values, calldatas)]
