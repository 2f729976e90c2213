"""`/metrics`: after a sandbox run, the console's Prometheus endpoint parses as Prometheus text and says what the
store says (last successful run, runs by outcome, invoices waiting, open problems), with no name or secret in a
label; setup checks that fail; notification deliveries: those that ended by outcome (a counter, never going down)
and those waiting (a gauge), test messages in neither."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import anyio
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from starlette.applications import Starlette
from starlette.routing import Route

from console import runtime, server
from console.metrics import scrape
from sync.core.clock import RunningClock
from sync.jobs.checks import run_checks
from sync.jobs.runner import run_all
from sync.sandbox.seed import demo_accounts
from sync.store.catalog import Account, Catalog, Health
from sync.store.db import Store
from sync.store.metrics import IdentityFigures
from sync.wiring import Services

P = "gripp_snelstart"


def get_metrics() -> httpx.Response:
    """GET /metrics through the server's own route, in process."""
    app = Starlette(routes=[Route("/metrics", server.metrics)])

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as c:
            return await c.get("/metrics")

    return anyio.run(get)


def scraped() -> dict[str, list[Sample]]:
    """/metrics parsed the way Prometheus reads it: samples by name."""
    answer = get_metrics()
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    found: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def by_labels(samples: list[Sample], *names: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[n] for n in names): s.value for s in samples}


HOFSTRA = "hofstra-installatie"  # the sandbox's account whose koppelsleutel SnelStart refuses


@pytest.fixture
def after_a_run(console: Services) -> Iterator[list[Services]]:
    """The sandbox after one run of every linked identity of the demo account (done with warnings) and of Hofstra
    (failed: its link is refused), in the console's own deployment."""
    hofstra = runtime.services(HOFSTRA)
    outcomes = {str(r.outcome) for services in (console, hofstra) for r in run_all(services)}
    assert {"warnings", "failed"} <= outcomes, outcomes
    yield [console, hofstra]


def from_store(services: Services, sql: str) -> list[tuple]:
    return [(services.account, *row) for row in services.store.cursor().execute(sql).fetchall()]


def test_after_a_sandbox_run_metrics_parse_and_match_the_store(after_a_run: list[Services]) -> None:
    studio = after_a_run[0]
    run_checks(studio, 1, include_dry_run=False)  # the demo's deliberate misconfigurations fail
    runtime.deployment().record_health(studio)
    found = scraped()
    ran = {services.account for services in after_a_run}

    def mine(figures: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float]:
        return {k: v for k, v in figures.items() if k[0] in ran and v}

    expected_last = {(a, str(i)): at.timestamp() for services in after_a_run for a, i, at in from_store(
        services, "SELECT identity_id, max(started_at) FROM runs WHERE NOT dry_run AND outcome IN ('ok', 'warnings') "
                  "GROUP BY identity_id")}
    assert expected_last  # the run succeeded somewhere
    last = by_labels(found[f"{P}_last_success_timestamp_seconds"], "account", "identity")
    assert mine(last) == pytest.approx(expected_last)

    expected_runs = {(a, str(i), outcome): float(n) for services in after_a_run for a, i, outcome, n in from_store(
        services, "SELECT identity_id, outcome, count(*) FROM runs WHERE NOT dry_run GROUP BY ALL")}
    assert {key[2] for key in expected_runs} == {"warnings", "failed"}
    assert mine(by_labels(found[f"{P}_runs_total"], "account", "identity", "outcome")) == expected_runs

    label = {"blocked": "blocked", "failed": "refused", "conflict": "conflict"}
    expected_waiting = {(a, str(i), label[state]): float(n) for services in after_a_run
                        for a, i, state, n in from_store(
        services, "SELECT identity_id, state, count(*) FROM bookings WHERE state IN ('blocked', 'failed', 'conflict') "
                  "GROUP BY ALL")}
    assert {key[2] for key in expected_waiting} >= {"blocked", "conflict"}  # the demo's deliberate problems
    assert mine(by_labels(found[f"{P}_invoices_waiting"], "account", "identity", "state")) == expected_waiting

    # Every sandbox account has its figures' time; the open problems are the watch's ledger (Hofstra's refused
    # link, the demo's invoices waiting for a person); no target, so no delivery: no samples.
    updated = by_labels(found[f"{P}_account_figures_updated_timestamp_seconds"], "account")
    assert set(updated) == {(demo.key,) for demo in demo_accounts()}
    expected_problems: dict[tuple[str, ...], float] = {}
    for notice in runtime.deployment().catalog.notices().open_notices():
        key = (notice.account_key, "" if notice.identity_id is None else str(notice.identity_id), notice.kind)
        expected_problems[key] = expected_problems.get(key, 0.0) + 1
    assert (HOFSTRA, "1", "link_refused") in expected_problems
    assert by_labels(found[f"{P}_open_problems"], "account", "identity", "kind") == expected_problems
    assert f"{P}_notification_deliveries_total" not in found
    # The setup checks that fail are the health rows': the demo's deliberate misconfigurations.
    health = {h.account_key: h.failing_checks for h in runtime.deployment().catalog.health()}
    checks = by_labels(found[f"{P}_checks_failing"], "account")
    assert checks == {(key,): float(n) for key, n in health.items()} and checks[(studio.account,)] > 0


def test_no_label_carries_a_name_or_a_secret(after_a_run: list[Services]) -> None:
    names = [demo.name for demo in demo_accounts()]
    secrets = [demo.gripp_token for demo in demo_accounts()]
    for services in after_a_run:
        names += [n for (n,) in services.store.cursor().execute("SELECT name FROM identities").fetchall()]
        secrets += [services.vault.decrypt(enc) for (enc,) in services.store.cursor().execute(
            "SELECT koppelsleutel_enc FROM links WHERE koppelsleutel_enc IS NOT NULL").fetchall()]
    assert names and secrets
    keys = {demo.key for demo in demo_accounts()}
    for samples in scraped().values():
        for sample in samples:
            assert set(sample.labels) <= {"account", "identity", "outcome", "state", "kind"}, sample
            assert sample.labels["account"] in keys, sample
            assert sample.labels.get("identity", "").isdigit() or sample.labels.get("identity") in (None, ""), sample
            text = " ".join(sample.labels.values())
            assert not any(word in text for word in [*names, *secrets] if word), sample


def test_open_problems_are_counted_by_kind_and_closed_ones_are_not(console: Services) -> None:
    store = runtime.deployment().catalog._store  # the test writes the watch helper's rows: its code is not in yet
    account = console.account
    for identity, kind, ended in ((2, "run_failed", None), (2, "run_failed", None), (None, "gripp_key_refused", None),
                                  (3, "schedule_overdue", datetime(2026, 11, 27, tzinfo=UTC))):
        store.execute("INSERT INTO notices (account_key, identity_id, kind, started_at, ended_at) "
                      "VALUES (?, ?, ?, ?, ?)", [account, identity, kind, datetime(2026, 11, 26, tzinfo=UTC), ended])
    problems = by_labels(scraped()[f"{P}_open_problems"], "account", "identity", "kind")
    assert problems == {(account, "2", "run_failed"): 2.0, (account, "", "gripp_key_refused"): 1.0}


def scrape_of(catalog: Catalog) -> tuple[dict[str, list[Sample]], dict[str, str]]:
    """A catalog's /metrics text parsed as Prometheus reads it: samples by name, and each family's type."""
    found: dict[str, list[Sample]] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(scrape(catalog).decode()):
        types[family.name] = family.type
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found, types


def test_deliveries_only_grow_waiting_ones_are_a_gauge_and_tests_are_not_counted(tmp_path) -> None:
    at = datetime(2026, 11, 28, 12, tzinfo=UTC)
    catalog = Catalog(tmp_path / "catalog.duckdb", clock=RunningClock(at))
    try:
        assert f"{P}_notification_deliveries_total" not in scrape_of(catalog)[0]
        book = catalog.deliveries()  # two problems to account a's target, one to the support team's (not yet sent)
        problems = [book.add_message(account_key="a", said="started", values={}, target_key=None, now=at)
                    for _ in range(2)]
        book.plan(problems[0], [("t-a", "a"), ("t-team", None)], at)
        book.plan(problems[1], [("t-a", "a")], at)
        tests = [book.add_test(account_key="a", target_key="t-a", target_account="a", now=at) for _ in range(2)]

        def figures() -> tuple[dict[tuple[str, ...], float], dict[tuple[str, ...], float]]:
            found, types = scrape_of(catalog)
            assert types[f"{P}_notification_deliveries"] == "counter"
            assert types[f"{P}_notification_deliveries_waiting"] == "gauge"
            return (by_labels(found[f"{P}_notification_deliveries_total"], "account", "outcome"),
                    by_labels(found[f"{P}_notification_deliveries_waiting"], "account"))

        zero = {(account, outcome): 0.0 for account in ("", "a") for outcome in ("sent", "gave_up", "dropped")}
        assert figures() == (zero, {("",): 1.0, ("a",): 2.0})

        book.record(problems[0], "t-a", account_key="a", hint="json://x", ok=True, error=None, now=at, retry_at=None)
        book.record(problems[1], "t-a", account_key="a", hint="json://x", ok=False, error="refused", now=at,
                    retry_at=None)
        book.record(tests[0], "t-a", account_key="a", hint="json://x", ok=True, error=None, now=at, retry_at=None)
        book.record(tests[1], "t-a", account_key="a", hint="json://x", ok=False, error="refused", now=at,
                    retry_at=None)
        assert figures() == ({**zero, ("a", "sent"): 1.0, ("a", "gave_up"): 1.0}, {("",): 1.0, ("a",): 0.0})

        book.record(problems[0], "t-team", account_key=None, hint="json://y", ok=True, error=None, now=at,
                    retry_at=None)
        assert figures() == ({**zero, ("a", "sent"): 1.0, ("a", "gave_up"): 1.0, ("", "sent"): 1.0},
                             {("",): 0.0, ("a",): 0.0})
    finally:
        catalog.close()


def test_failing_checks_are_the_health_rows_and_an_account_without_one_has_none(tmp_path) -> None:
    at = datetime(2026, 11, 28, 12, tzinfo=UTC)
    catalog = Catalog(tmp_path / "catalog.duckdb", clock=RunningClock(at))
    try:
        for key in ("a", "b", "c"):
            catalog.add(Account(key=key, name=key.upper(), db_path=tmp_path / f"{key}.duckdb"), actor="test")
        catalog.put_health(Health("a", failing_checks=2))
        catalog.put_health(Health("b"))
        found, types = scrape_of(catalog)
        assert types[f"{P}_checks_failing"] == "gauge"
        assert by_labels(found[f"{P}_checks_failing"], "account") == {("a",): 2.0, ("b",): 0.0}
    finally:
        catalog.close()


def test_an_identity_gone_from_the_file_goes_from_the_figures_and_a_removed_account_from_the_scrape(
        tmp_path) -> None:
    at = datetime(2026, 11, 28, 12, tzinfo=UTC)
    catalog = Catalog(tmp_path / "catalog.duckdb", clock=RunningClock(at))
    try:
        for key in ("a", "b"):
            catalog.add(Account(key=key, name=key.upper(), db_path=tmp_path / f"{key}.duckdb"), actor="test")
        rows = catalog.metrics()
        rows.put("a", [IdentityFigures(1, at, {"ok": 3}, {"blocked": 2}), IdentityFigures(2)], at=at)
        rows.put("a", [IdentityFigures(1, at, {"ok": 4}, {})], at=at)
        rows.put("b", [IdentityFigures(7)], at=at)
        catalog.remove("b", actor="test")
        [a] = rows.accounts()
        assert a.account_key == "a" and [f.identity_id for f in a.identities] == [1]
        assert a.identities[0].runs["ok"] == 4 and a.identities[0].waiting["blocked"] == 0
    finally:
        catalog.close()


def test_identity_figures_of_an_empty_account_file_are_none(tmp_path) -> None:
    from sync.store.metrics import identity_figures

    store = Store(tmp_path / "empty.duckdb")
    try:
        assert identity_figures(store) == []
    finally:
        store.close()


def test_a_deployment_whose_database_is_held_answers_503_naming_no_path(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "sync.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(120)", str(path)], stdout=subprocess.PIPE, text=True)
    monkeypatch.setenv("SYNC_DB_PATH", str(path))
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "http://console.test")
    runtime.stop()
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        answer = get_metrics()
    finally:
        runtime.stop()
        holder.kill()
        holder.wait(10)
    assert answer.status_code == 503 and str(tmp_path) not in answer.text and str(holder.pid) not in answer.text
    assert list(text_string_to_metric_families(answer.text)) == []  # a comment only: still Prometheus text
