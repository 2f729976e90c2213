"""The console server as `make run` starts it: health, the webhook route, the sandbox's simulators below
/sandbox, one scheduler, a clean stop; and a database held by another process is a message, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console import runtime
from tests import console_helpers as helpers

pytestmark = pytest.mark.loopback


def test_the_server_serves_pages_health_webhook_and_sandbox_then_stops_cleanly(tmp_path: Path) -> None:
    server = helpers.Server(tmp_path)
    try:
        health = server.wait_healthy()
        assert health == {"status": "ok", "sandbox": True, "db": "ok", "scheduler": "running", "jobs": 2}

        page = httpx.get(f"{server.base}/Koppelen?identity=3", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()

        activation = httpx.get(
            f"{server.base}/sandbox/snelstart/web/couplings/activate/gripp-sandbox",
            params={"referenceKey": "abc", "successUrl": f"{server.base}/Koppelen?identity=3&ref=abc"}, timeout=10)
        assert activation.status_code == 200 and "Een enkele administratie koppelen" in activation.text
        assert httpx.get(f"{server.base}/sandbox/nothing-here", timeout=10).status_code == 404

        refused = httpx.post(f"{server.base}/webhooks/snelstart", content=b"not json", timeout=10)
        assert refused.status_code == 400  # the webhook route is there, and refuses what it cannot trust
        unknown = httpx.post(f"{server.base}/webhooks/snelstart", timeout=10, json={
            "KoppelSleutel": "a" * 64, "ActionType": "Create", "ReferenceKey": "never-issued"})
        assert unknown.status_code == 404
    finally:
        code = server.stop()
    log = server.log()
    assert code in (0, -15, 143, 2), log  # uvicorn re-raises the TERM after its graceful shutdown
    assert "Scheduler running with 2 jobs" in log
    assert "Console stopped: scheduler shut down, database closed." in log, log
    assert "Traceback" not in log, log


@pytest.fixture
def held_database(tmp_path: Path) -> Iterator[Path]:
    """Another process holding the DuckDB file read-write (as a running console would)."""
    path = tmp_path / "sync.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(120)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        yield path
    finally:
        holder.kill()
        holder.wait(10)


def test_a_locked_database_is_a_clear_message_on_every_page(held_database: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNC_DB_PATH", str(held_database))
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "http://console.test")
    runtime.stop()
    try:
        for name in helpers.PAGES:
            at = helpers.page(name)
            helpers.no_exception(at)
            assert any("is in gebruik door proces" in e.value for e in at.error), name
        assert runtime.health()["status"] == "error"
        assert "in use" in str(runtime.health()["db"])
    finally:
        runtime.stop()


def test_a_second_server_on_a_held_database_stays_up_and_says_why(held_database: Path) -> None:
    server = helpers.Server(held_database.parent)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(f"{server.base}/healthz", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.process.poll() is None, server.log()
                time.sleep(0.25)
        assert answer.status_code == 503
        assert answer.json()["db"].startswith("The database") and "in use" in answer.json()["db"]
    finally:
        server.stop()
    assert "Traceback" not in server.log()
