"""Gas of initiatives through the relay: a signed draft (draftBySig) and a signed support (postSupport) the relay
sends, beside the same draft sent from the author's wallet.

Run: .venv/bin/python benchmarks/bench_initiative_relay.py
Starts its own anvil, deploys a commons of 3 founders, runs a real relay (its store in a temporary SQLite file) and
prints a Markdown table. The draft pays one ETH from the treasury, with a text of about 300 characters, as
bench_initiatives.py's does.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.db import make_engine, migrate  # noqa: E402
from api.relay_store import SqlRelayStore  # noqa: E402
from governance import actions as act  # noqa: E402
from governance.chain import KeySigner, NodeSigner, connect  # noqa: E402
from governance.client import Commons  # noqa: E402
from governance.deploy import deploy_commons  # noqa: E402
from governance.initiative_relay import SignedAct  # noqa: E402
from governance.initiatives import Initiatives  # noqa: E402
from governance.manifest import CommonsSettings  # noqa: E402
from governance.node import LocalNode  # noqa: E402
from governance.relayer import Relayer, RelayOptions  # noqa: E402
from tests.helpers import free_port  # noqa: E402

TEXT = "# Pay for the new greenhouse glass\n\n" + "The north side lost four panes in the storm; this pays the glazier. " * 4


def key(label: str) -> KeySigner:
    return KeySigner(Account.from_key(keccak(text=f"bench-initiative-relay-{label}")))


def signed(account, typed: dict) -> bytes:
    return bytes(account.sign_message(encode_typed_data(full_message=typed)).signature)


def done(relayer: Relayer, act_id: str) -> dict:
    """The receipt of the relay's transaction for the act, once done."""
    assert relayer.initiatives is not None
    for _ in range(2000):
        record = relayer.initiatives.store.get(act_id)
        if record is not None and record.status == "done":
            return dict(relayer.w3.eth.get_transaction_receipt(record.tx_hash))
        if record is not None and record.status == "refused":
            raise SystemExit(f"the relay refused the act: {record.error}")
        time.sleep(0.01)
    raise SystemExit("the relay did not send the act")


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    node = LocalNode(free_port(), None)
    w3 = connect(node.start())
    relayer = None
    try:
        members = [key(f"member-{i}") for i in range(3)]
        relay_key = key("relay")
        for k in [*members, relay_key]:
            w3.provider.make_request("anvil_setBalance", [k.address, hex(10**20)])
        manifest = deploy_commons(
            w3, NodeSigner(w3.eth.accounts[0]), "Bench Relay", [(k.address, f"m{i}") for i, k in enumerate(members)],
            [members[0].address], CommonsSettings(),
        )  # fmt: skip
        commons = Commons(w3, manifest)
        initiatives = Initiatives(commons)
        proposal = [act.pay(members[1].address, 10**18)]
        rows = [
            (
                "draft from the author's wallet (draft)",
                commons.submit(initiatives.plan_draft(proposal, TEXT), members[0])["gasUsed"],
            )
        ]
        engine = make_engine(f"sqlite:///{tempfile.mkdtemp()}/relay.db")
        migrate(engine)
        relayer = Relayer(commons, relay_key, SqlRelayStore(engine), RelayOptions(batch_window=0.01)).start()
        relay = relayer.initiatives
        assert relay is not None
        author = members[0]
        typed = relay.typed_data("draft", author.address, proposal=proposal, text=TEXT)
        message = typed["message"]
        draft = SignedAct(
            "draft", author.address, signed(author.account, typed), nonce=message["nonce"], deadline=message["deadline"],
            proposal=proposal, text=TEXT,
        )  # fmt: skip
        receipt = done(relayer, relay.accept(draft).id)
        rows.append(("draft through the relay (draftBySig, signature checked)", receipt["gasUsed"]))
        initiative = initiatives.count()
        supporter = members[1]
        typed = relay.typed_data("support", supporter.address, initiative=initiative, days=7)
        support = SignedAct(
            "support", supporter.address, signed(supporter.account, typed), initiative=initiative,
            deadline=typed["message"]["expiry"],
        )  # fmt: skip
        receipt = done(relayer, relay.accept(support).id)
        rows.append(("support through the relay (postSupport)", receipt["gasUsed"]))
        print("| act | gas |\n| --- | ---: |")
        for what, gas in rows:
            print(f"| {what} | {gas:,} |")
    finally:
        if relayer is not None:
            relayer.stop()
        node.stop()


if __name__ == "__main__":
    main()
