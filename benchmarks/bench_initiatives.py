"""Gas of initiatives: a draft, a posted signature of support, and submission with 2, 10 and 50 supporters.

Run: .venv/bin/python benchmarks/bench_initiatives.py
Starts its own anvil, deploys a commons of 52 founders, prints a Markdown table (a share of 0.01 %, so 2 supporters and the author suffice). The draft pays one ETH from the
treasury, with a text of about 300 characters, as a typical initiative; a relay pays the same to post a signature.
"""

import argparse
import sys
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import actions as act  # noqa: E402
from governance.chain import KeySigner, NodeSigner, connect  # noqa: E402
from governance.client import Commons  # noqa: E402
from governance.deploy import deploy_commons  # noqa: E402
from governance.initiatives import Initiatives, SupportSignature, sign_support  # noqa: E402
from governance.manifest import CommonsSettings  # noqa: E402
from governance.node import LocalNode  # noqa: E402
from tests.helpers import free_port  # noqa: E402

TEXT = "# Pay for the new greenhouse glass\n\n" + "The north side lost four panes in the storm; this pays the glazier. " * 4
MEMBERS = 52


def member_key(i: int) -> KeySigner:
    return KeySigner(Account.from_key(keccak(text=f"bench-initiatives-member-{i}")))


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    node = LocalNode(free_port(), None, extra_args=("--gas-limit", "300000000"))
    w3 = connect(node.start())
    try:
        keys = [member_key(i) for i in range(MEMBERS)]
        for k in keys:
            w3.provider.make_request("anvil_setBalance", [k.address, hex(10**20)])
        deployer = NodeSigner(w3.eth.accounts[0])
        manifest = deploy_commons(
            w3,
            deployer,
            "Bench Initiatives",
            [(k.address, f"m{i}") for i, k in enumerate(keys)],
            [keys[0].address],
            CommonsSettings(initiative_support_bps=1),
        )
        commons = Commons(w3, manifest)
        initiatives = Initiatives(commons)
        relay = NodeSigner(w3.eth.accounts[1])
        rows = []
        for count in (2, 10, 50):
            author = keys[0]
            receipt = commons.submit(initiatives.plan_draft([act.pay(keys[1].address, 10**18)], TEXT + f" ({count})"), author)
            initiative_id = initiatives.count()
            if count == 2:
                rows.append(("draft (1 payment, 300-character text)", receipt["gasUsed"]))
            expiry = commons.chain_time() + 7 * 24 * 3600
            for i, supporter in enumerate(keys[1 : count + 1]):
                typed = initiatives.support_typed_data(initiative_id, supporter.address, expiry)
                signature = SupportSignature(
                    initiative_id, 0, supporter.address, 0, expiry, sign_support(typed, supporter.account)
                )
                posted = commons.submit(initiatives.plan_post_support(signature), relay)
                if count == 2 and i == 0:
                    rows.append(("post one signature of support (by a relay)", posted["gasUsed"]))
            submitted = commons.submit(initiatives.plan_submit(initiative_id), relay)
            rows.append((f"submit with {count} supporters (the author besides)", submitted["gasUsed"]))
        print("| act | gas |\n| --- | ---: |")
        for what, gas in rows:
            print(f"| {what} | {gas:,} |")
    finally:
        node.stop()


if __name__ == "__main__":
    main()
