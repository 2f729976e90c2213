"""Nodes of the distributed mode for the tests: deployments (each with a data folder of its own) on one Postgres
and one shared SYNC_SECRET_KEY; the `nodes` fixture gives two of them on one sandbox world."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.core.config import Settings, load_settings
from sync.sandbox.sandbox import Sandbox
from sync.wiring import Deployment

SECRET = "one-key-for-every-node-0123456789"


def node_settings(folder: Path, database_url: str) -> Settings:
    return load_settings({"SYNC_DB_PATH": str(folder / "sync.duckdb"), "CONSOLE_PUBLIC_URL": "http://console.test",
                          "SYNC_DATABASE_URL": database_url, "SYNC_SECRET_KEY": SECRET})


@pytest.fixture
def nodes(tmp_path: Path, sandbox: Sandbox, postgres_url: str) -> Iterator[tuple[Deployment, Deployment]]:
    first = Deployment(node_settings(tmp_path / "a", postgres_url), sandbox=sandbox, sleep=lambda s: None)
    second = Deployment(node_settings(tmp_path / "b", postgres_url), sandbox=sandbox, sleep=lambda s: None)
    try:
        yield first, second
    finally:
        second.close()
        first.close()
