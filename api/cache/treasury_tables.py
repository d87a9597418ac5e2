"""The treasury's tables: the assets it holds besides ether, and every flow in and out (api/cache/treasury_sink.py
writes them, api/cache/treasury_queries.py reads them). Amounts are decimal strings: wei exceed SQLite's integers."""

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class TreasuryAsset(SQLModel, table=True):
    """A token the commons tracks or once tracked, and the treasury's balance of it at the indexed block."""

    __tablename__ = "treasury_asset"
    address: str = Field(primary_key=True, max_length=42)
    symbol: str = Field(max_length=64)
    name: str = Field(max_length=256)
    decimals: int
    tracked: bool
    tracked_block: int = Field(sa_type=sa.BigInteger)
    untracked_block: int | None = Field(default=None, sa_type=sa.BigInteger)
    balance: str = Field(default="0", max_length=78)  # in the token's smallest units, from its transfers


class TreasuryFlow(SQLModel, table=True):
    """Money into or out of the treasury (governance/treasury.py's Flow), where the chain records it."""

    __tablename__ = "treasury_flow"
    __table_args__ = (
        sa.UniqueConstraint("block_number", "log_index", name="uq_treasury_flow_position"),
        sa.Index("ix_treasury_flow_counterparty", "counterparty"),
    )
    id: int | None = Field(default=None, primary_key=True, sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"))
    block_number: int = Field(sa_type=sa.BigInteger)
    log_index: int  # -1: ether counted from the treasury's balance, which no log shows
    tx_hash: str = Field(max_length=66)
    timestamp: int = Field(sa_type=sa.BigInteger)
    direction: str = Field(max_length=3)  # in | out
    kind: str = Field(max_length=16)  # contribution | unattributed | payment | other
    asset: str = Field(max_length=42)  # the zero address for ether
    amount: str = Field(max_length=78)
    counterparty: str = Field(max_length=42)
    note: str = Field(default="", sa_type=sa.Text)
    operation_id: str | None = Field(default=None, max_length=66, index=True)


ASSETS, FLOWS = TreasuryAsset.__table__, TreasuryFlow.__table__
