"""Response schemas of the treasury's routes (api/routes/treasury.py). Amounts are decimal strings in the asset's
smallest units (`amount`), with the same in words (`amount_text`, e.g. '12.5 gUSD'); ether is the zero address."""

from sqlmodel import SQLModel


class AssetBalance(SQLModel):
    address: str
    symbol: str
    name: str
    decimals: int
    tracked: bool
    balance: str
    balance_text: str


class TreasuryFlowPublic(SQLModel):
    """Money into or out of the treasury: a contribution (with its note), an unattributed inflow, a payment by a
    passed proposal (#N, to its recipient), or another outflow. `log_index` -1: ether seen in the balance only."""

    id: int
    block_number: int
    log_index: int
    tx_hash: str
    timestamp: int
    direction: str
    kind: str
    asset: str
    symbol: str
    decimals: int
    amount: str
    amount_text: str
    counterparty: str
    handle: str | None
    note: str
    operation_id: str | None
    proposal_id: str | None
    proposal_number: int | None
    proposal_title: str | None


class TreasuryFlowsPublic(SQLModel):
    data: list[TreasuryFlowPublic]
    count: int
    next_after: int | None


class AssetAmount(SQLModel):
    asset: str
    symbol: str
    amount: str
    amount_text: str


class ContributionNote(SQLModel):
    note: str
    timestamp: int
    amount: str
    amount_text: str


class Contributor(SQLModel):
    contributor: str
    handle: str | None
    is_member: bool
    count: int
    totals: list[AssetAmount]
    notes: list[ContributionNote]


class MonthTotals(SQLModel):
    month: str
    asset: str
    symbol: str
    inflow: str
    outflow: str
    inflow_text: str
    outflow_text: str


class IndexedAt(SQLModel):
    number: int
    hash: str
    timestamp: int


class TreasuryPublic(SQLModel):
    """The treasury at the indexed block: balances per asset, recent inflows and outflows (newest first),
    contributors with their notes, and in/out per asset per month."""

    indexed_block: IndexedAt
    balances: list[AssetBalance]
    inflows: list[TreasuryFlowPublic]
    outflows: list[TreasuryFlowPublic]
    contributors: list[Contributor]
    monthly: list[MonthTotals]
    contributions: str | None = None  # the contract that takes contributions (for wallets)


class MonthFunders(SQLModel):
    period: str
    funders: int


class FundersPublic(SQLModel):
    """Who funds the commons: contributors, members among them and others, and per month."""

    funders: int
    member_funders: int
    other_funders: int
    contributions: int
    per_month: list[MonthFunders]
