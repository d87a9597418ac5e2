"""A relay process as an API replica runs it (the relay routes, its SQL store, its own sending thread), for the
tests and benchmarks that kill it with SIGKILL or run several on one database.

Run: python -m tests.relay_server RPC_URL MANIFEST_FILE DATABASE_URL PORT [RELAY_OPTIONS_JSON]
with the relayer's key in COMMONS_RELAYER_PRIVATE_KEY.
"""

import json
import sys
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from api.db import make_engine
from api.errors import add_error_handlers
from api.relay_store import SqlRelayStore
from api.routes.relay import router
from governance.chain import connect
from governance.client import Commons
from governance.config import get_settings
from governance.keys import relayer_signer
from governance.manifest import Manifest
from governance.relayer import Relayer, RelayOptions


def relay_app(rpc_url: str, manifest_file: Path, database_url: str, options: RelayOptions) -> FastAPI:
    """An app serving only the relay routes, its relayer started on the store at `database_url`."""
    commons = Commons(connect(rpc_url), Manifest.from_json(manifest_file.read_text()))
    store = SqlRelayStore(make_engine(database_url))
    app = FastAPI()
    add_error_handlers(app)
    app.include_router(router)
    app.state.relayer = Relayer(commons, relayer_signer(get_settings()), store, options).start()
    return app


def main() -> None:
    rpc_url, manifest_file, database_url, port, *rest = sys.argv[1:]
    options = RelayOptions(**json.loads(rest[0])) if rest else RelayOptions(batch_window=0.1)
    app = relay_app(rpc_url, Path(manifest_file), database_url, options)
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
