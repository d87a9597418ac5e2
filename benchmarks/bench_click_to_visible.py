"""Click-to-visible: from a member's signed ballot to their vote visible in the API, on anvil with 1 s blocks.

Run: .venv/bin/python benchmarks/bench_click_to_visible.py [--votes 30]
Each member in turn fetches the typed data, signs it (the "click"), POSTs it to the relay, then
polls the proposal in the read API every 50 ms until their vote is listed. Goal: within two blocks.
The app is the real one (create_app) on a SQLite cache, its background indexer following anvil, so
"visible" means relayed, mined, indexed and answered by GET /api/proposals/{id}.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from eth_account.messages import encode_typed_data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.relay_store import SqlRelayStore  # noqa: E402
from benchmarks.bench_relay import open_proposal, start_commons  # noqa: E402
from governance.relayer import Relayer, RelayOptions  # noqa: E402
from tests.web_support import Server, served_app, wait_indexed  # noqa: E402

BLOCK_SECONDS = 1.0


def visible(http: requests.Session, url: str, voter: str) -> bool:
    answer = http.get(url)
    return answer.status_code == 200 and any(v["voter"] == voter for v in answer.json()["votes"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=30)
    parser.add_argument("--port", type=int, default=18746)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    node, commons, keys, relay_key = start_commons(args.votes + 1, args.port, block_time=BLOCK_SECONDS)
    timings = []
    try:
        pid = open_proposal(commons, keys[0], "Click to visible")
        cache_dir = tempfile.TemporaryDirectory()
        app = served_app(commons.manifest, node.url, Path(cache_dir.name) / "cache.db")
        relayer = Relayer(commons, relay_key, SqlRelayStore(app.state.engine), RelayOptions(batch_window=0.1)).start()
        app.state.relayer = relayer
        with Server(app) as server, requests.Session() as http:
            wait_indexed(server.url, commons.w3)  # the backfill is not part of what is measured
            for key in keys[1 : args.votes + 1]:
                typed = http.post(
                    f"{server.url}/api/relay/typed-data",
                    json={"proposal_id": str(pid), "support": "for", "voter": key.address, "reason": "timed"},
                ).json()
                signature = key.account.sign_message(encode_typed_data(full_message=typed)).signature
                clicked = time.monotonic()
                answer = http.post(
                    f"{server.url}/api/relay/ballots",
                    json={
                        "proposal_id": str(pid),
                        "support": "for",
                        "voter": key.address,
                        "nonce": typed["message"]["nonce"],
                        "reason": "timed",
                        "signature": "0x" + bytes(signature).hex(),
                    },
                )
                assert answer.status_code == 202, answer.text
                posted = time.monotonic() - clicked
                while not visible(http, f"{server.url}/api/proposals/{pid}", key.address):
                    time.sleep(0.05)
                timings.append(time.monotonic() - clicked)
                if args.verbose:
                    print(f"POST answered {posted:.2f} s, visible {timings[-1]:.2f} s")
        relayer.stop()
        cache_dir.cleanup()
    finally:
        node.stop()
    median, p95 = statistics.median(timings), statistics.quantiles(timings, n=20)[18]
    print(
        f"Click-to-visible over {len(timings)} votes, anvil block time {BLOCK_SECONDS:.0f} s: "
        f"median {median:.2f} s ({median / BLOCK_SECONDS:.1f} blocks), p95 {p95:.2f} s ({p95 / BLOCK_SECONDS:.1f} blocks), "
        f"max {max(timings):.2f} s. Goal: within two blocks."
    )


if __name__ == "__main__":
    main()
