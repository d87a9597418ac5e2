"""The cache as an audit source: the API's own routes, run in process over a database URL (no server needed)."""

from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from governance.errors import CommonsError


class CacheSource:
    """Reads the cache at `database_url` through the public routes, exactly as a client of the API would."""

    def __init__(self, database_url: str | None = None):
        self.client = TestClient(create_app(database_url, upgrade_schema=False))

    def get(self, path: str, params: dict | None = None) -> Any:
        """The JSON the API would answer; CommonsError (in words) for anything but 200."""
        response = self.client.get(path, params=params)
        if response.status_code != 200:
            raise CommonsError(f"The cache answered {response.status_code} for {path}: {response.json().get('detail')}")
        return response.json()
