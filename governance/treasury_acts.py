"""The treasury's acts for a client: contributing (ETH, or a token after allowing the Contributions contract to move
it), and reading the treasury now, each as `Plan`s the CLI shows, simulates and sends like any other act."""

from dataclasses import dataclass

from eth_utils import to_checksum_address

from governance import treasury
from governance.client import Commons, Plan
from governance.errors import InvalidInput
from governance.treasury import ETHER, Asset


def reader(commons: Commons, block: int | str = "latest") -> treasury.ReadCall:
    return treasury.web3_reader(commons.w3, block)


def resolve_asset(commons: Commons, reference: str | None) -> Asset:
    """ETH or a token the commons tracks, by symbol or address; InvalidInput naming the tracked ones otherwise."""
    return treasury.resolve_asset(reader(commons), commons.manifest.contributions, reference)


def _contributions(commons: Commons) -> str:
    address = commons.manifest.contributions
    if not address:
        raise InvalidInput("This commons was deployed without a Contributions contract: send ETH to the treasury directly.")
    return address


def plan_contribution(commons: Commons, asset: Asset, units: int, note: str, sender: str) -> list[Plan]:
    """The transactions that give `units` of `asset` to the treasury as `sender`'s, with `note`: for a token, an
    approval first when the Contributions contract may not move enough yet.

    Raises InvalidInput, in words, for nothing to give, a note too long, or more than the sender holds.
    """
    contributions = _contributions(commons)
    data, value = treasury.contribute_call(asset, units, note)
    amount = asset.amount_in_words(units)
    name = commons.manifest.name
    said = f" with the note “{note}”" if note else ""
    details = [f"It goes straight to the treasury (timelock) {commons.manifest.timelock}, recorded as yours{said}."]
    read = reader(commons)
    held = (
        commons.w3.eth.get_balance(to_checksum_address(sender))
        if asset.is_eth
        else treasury.balance_of(read, asset.address, sender)
    )
    if held < units:
        raise InvalidInput(f"{sender} holds {asset.amount_in_words(held)}, less than the {amount} to contribute.")
    plans = []
    if not asset.is_eth and treasury.allowance(read, asset.address, sender, contributions) < units:
        plans.append(
            Plan(
                "approve",
                f"Allow the Contributions contract to move {amount} from {sender}",
                [f"Then it moves them to “{name}”'s treasury in the contribution that follows, and no more."],
                asset.address,
                treasury.approve_call(contributions, units),
            )
        )
    plans.append(Plan("contribute", f"Contribute {amount} to “{name}”", details, contributions, data, value))
    return plans


@dataclass
class Holding:
    """What the treasury holds of one asset now."""

    asset: Asset
    units: int
    tracked: bool

    @property
    def in_words(self) -> str:
        return self.asset.amount_in_words(self.units)


def holdings(commons: Commons, block: int | str = "latest") -> list[Holding]:
    """ETH and each tracked token the treasury holds at `block`, from the chain."""
    read = reader(commons, block)
    timelock = commons.manifest.timelock
    held = [Holding(ETHER, commons.w3.eth.get_balance(timelock, block), True)]  # type: ignore[arg-type]
    if commons.manifest.contributions:
        for token in treasury.tracked_addresses(read, commons.manifest.contributions):
            held.append(Holding(treasury.read_asset(read, token), treasury.balance_of(read, token, timelock), True))
    return held
