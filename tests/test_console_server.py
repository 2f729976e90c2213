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
from prometheus_client.parser import text_string_to_metric_families

from console import runtime
from sync.sandbox.seed import demo_accounts
from tests import console_helpers as helpers

pytestmark = [pytest.mark.loopback, pytest.mark.slow]  # real console processes (`make run`)


def test_the_server_serves_pages_health_webhook_and_sandbox_then_stops_cleanly(tmp_path: Path) -> None:
    server = helpers.Server(tmp_path)
    try:
        health = server.wait_healthy()
        assert health == {"status": "ok", "sandbox": True, "db": "ok", "scheduler": "running", "jobs": 3}

        page = httpx.get(f"{server.base}/Koppelen?identity=3", timeout=10)
        assert page.status_code == 200 and "<html" in page.text.lower()

        activation = httpx.get(
            f"{server.base}/sandbox/snelstart/web/couplings/activate/gripp-sandbox",
            params={"referenceKey": "abc", "successUrl": f"{server.base}/Koppelen?identity=3&ref=abc"}, timeout=10)
        assert activation.status_code == 200 and "Een enkele administratie koppelen" in activation.text
        assert httpx.get(f"{server.base}/sandbox/nothing-here", timeout=10).status_code == 404

        metrics = httpx.get(f"{server.base}/metrics", timeout=10)  # the figures in Prometheus' text (test_metrics.py)
        assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
        updated = {s.labels["account"] for f in text_string_to_metric_families(metrics.text) for s in f.samples
                   if s.name == "gripp_snelstart_account_figures_updated_timestamp_seconds"}
        assert updated == {demo.key for demo in demo_accounts()}, metrics.text

        refused = httpx.post(f"{server.base}/webhooks/snelstart", content=b"not json", timeout=10)
        assert refused.status_code == 400  # the webhook route is there, and refuses what it cannot trust
        unknown = httpx.post(f"{server.base}/webhooks/snelstart", timeout=10, json={
            "KoppelSleutel": "a" * 64, "ActionType": "Create", "ReferenceKey": "never-issued"})
        assert unknown.status_code == 404
    finally:
        code = server.stop()
    log = server.log()
    assert code in (0, -15, 143, 2), log  # uvicorn re-raises the TERM after its graceful shutdown
    # the process's own lines, in Dutch as `make run` starts it (`python -m console --lang en` for English)
    assert "Console op http://localhost:" in log and "Planner draait met 3 taken" in log, log
    assert "Console gestopt: planner stilgezet, database gesloten." in log, log
    assert "Traceback" not in log, log
    assert "You can now view" not in log, log  # Streamlit's own English welcome: our line names the address


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """Another process holding the DuckDB file read-write (as a running console would): the file and its PID."""
    path = tmp_path / "sync.duckdb"
    process = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(120)", str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ok"
        yield path, process.pid
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture
def held_database(holder: tuple[Path, int]) -> Path:
    return holder[0]


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
        assert runtime.health()["db"] == "locked"
    finally:
        runtime.stop()


def health_of(server: helpers.Server) -> httpx.Response:
    """The first answer of `/healthz` (the server may be unhealthy; it must stay up)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(f"{server.base}/healthz", timeout=2)
        except httpx.HTTPError:
            assert time.monotonic() < deadline and server.process.poll() is None, server.log()
            time.sleep(0.25)


def test_a_server_on_a_held_database_stays_up_and_healthz_names_no_path_or_process(holder) -> None:
    path, pid = holder
    server = helpers.Server(path.parent)
    try:
        answer = health_of(server)
    finally:
        server.stop()
    assert answer.status_code == 503 and answer.json()["db"] == "locked", answer.text
    assert str(path.parent) not in answer.text and str(pid) not in answer.text and "PID" not in answer.text
    assert "Traceback" not in server.log()


def test_a_server_on_a_damaged_database_stays_up_and_healthz_calls_it_unreadable(tmp_path: Path) -> None:
    helpers.damaged_database(tmp_path / "sync.duckdb")
    server = helpers.Server(tmp_path)
    try:
        answer = health_of(server)
    finally:
        server.stop()
    assert answer.status_code == 503 and answer.json()["db"] == "unreadable", answer.text
    assert str(tmp_path) not in answer.text
    assert "Traceback" not in server.log() and "cannot be read" in server.log()
    assert "Console gestart ZONDER zijn database: De database " in server.log()  # said to the operator, in Dutch


def test_a_real_console_without_accounts_answers_what_it_cannot_place_with_a_4xx_and_no_traceback(
        tmp_path: Path) -> None:
    """A real deployment with no account at all (no GRIPP_API_TOKEN, none added): SnelStart's webhook, or anyone
    posting to it, gets a 4xx for whatever it cannot place; the log gets one line per refusal, at most 30 a minute."""
    from tests import real_console

    settings = {k: v for k, v in real_console.REAL_SETTINGS.items() if k != "GRIPP_API_TOKEN"}
    bodies = [
        b'{"KoppelSleutel":"x","ActionType":"Create","ReferenceKey":"abc"}',
        b'{"ActionType":"Create"}',
        b"not json",
        b"[" * 5_000 + b"]" * 5_000,
        b'{"KoppelSleutel":"' + b"k" * 40 + b'","ActionType":"Create","ReferenceKey":"acme.abc"}',
    ]
    with real_console.start(tmp_path, real_console.secrets_toml(settings)) as server:
        answers = [httpx.post(f"{server.base}/webhooks/snelstart", content=body, timeout=10) for body in bodies]
        assert [a.status_code for a in answers] == [404, 400, 400, 400, 404], [a.text for a in answers]
        assert all(a.json()["error"] in ("malformed", "unknown_reference") for a in answers)
        for _ in range(40):  # a flood
            httpx.post(f"{server.base}/webhooks/snelstart", content=bodies[0], timeout=10)
        log = server.log()
    assert "Traceback" not in log, log
    refused = [line for line in log.splitlines() if "SnelStart webhook refused" in line]
    assert len(refused) == 30, log  # 45 refusals: the first 30 logged, one line each …
    assert log.count("the rest are counted, not logged") == 1, log  # … then one line says the rest are not
