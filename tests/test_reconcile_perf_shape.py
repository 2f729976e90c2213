"""The shape of the work at scale — statements, POSTs and calls counted, never timed: pages go into DuckDB in
bulk, Gripp's pages travel many to a POST, the open-items comparison is one query, and an unchanged rerun reads
only SnelStart's open-items pages and writes nothing anywhere."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import pytest

from sync.core.clock import RunningClock
from sync.core.config import SANDBOX_GRIPP_TOKEN
from sync.core.vault import vault_for
from sync.gripp.client import GrippClient
from sync.jobs import push, reconcile, refresh, runner
from sync.jobs.runner import run_identity
from sync.sandbox.bulk import build_bulk_world
from sync.sandbox.sandbox import Sandbox, world_noon
from sync.store.db import Store
from sync.wiring import Services, bootstrap_sandbox_setup
from tests.bench.engine import ADMIN, fill_reconcile_store
from tests.conftest import CONSOLE_URL, sandbox_settings


class CountingStore(Store):
    """A store that remembers every statement it was asked to run."""

    def __init__(self, path: Path | str, **options) -> None:
        self.statements: list[str] = []
        super().__init__(path, **options)

    def cursor(self):  # the DuckDB cursor, wrapped
        return _Counting(super().cursor(), self.statements)

    def writes(self, table: str) -> int:
        return sum(1 for sql in self.statements
                   if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) and f" {table}" in sql)


class _Counting:
    def __init__(self, cursor, log: list[str]) -> None:
        self._cursor, self._log = cursor, log

    def execute(self, sql: str, *args, **kwargs):
        self._log.append(sql)
        return self._cursor.execute(sql, *args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._cursor, name)


class _Calls:
    """A slice of a sandbox's call log, for `Sandbox.writes`."""

    def __init__(self, calls: list) -> None:
        self.calls = calls


class OpenItems:
    def __init__(self, items: list[dict]) -> None:
        self.items = items

    def verkoopfacturen(self):
        return iter(self.items)


def open_item(n: int, amount: Decimal) -> dict:
    return {"id": f"vf-{n}", "verkoopBoeking": {"id": f"bk-{n}"}, "factuurnummer": str(n),
            "relatie": {"id": "rel"}, "factuurDatum": "2026-01-05T00:00:00", "vervalDatum": "2026-02-04T00:00:00",
            "factuurBedrag": amount, "openstaandSaldo": amount, "modifiedOn": "2026-01-05T10:00:00"}


def test_a_thousand_open_items_go_into_duckdb_in_one_insert(tmp_path):
    store = CountingStore(tmp_path / "s.duckdb")
    items = [open_item(n, Decimal("121.00")) for n in range(1_234)]
    assert refresh.refresh_open_items(store, OpenItems(items), ADMIN) == 1_234
    assert store.writes("ss_open_items") == 2  # the administration's old rows out, the new ones in: no row loop
    assert store.scalar("SELECT count(*) FROM ss_open_items") == 1_234


def test_amounts_of_every_size_and_scale_are_stored_exactly(tmp_path):
    """DuckDB guesses a Decimal column's type from a sample of its values; a later amount with more digits or
    decimals must still land exactly."""
    store = Store(tmp_path / "s.duckdb")
    items = [open_item(n, Decimal("12.5")) for n in range(3_000)]
    items += [open_item(3_000, Decimal("123456.78")), open_item(3_001, Decimal("2259.83"))]
    refresh.refresh_open_items(store, OpenItems(items), ADMIN)
    stored = dict(store.cursor().execute(
        "SELECT factuurnummer, factuur_bedrag FROM ss_open_items WHERE factuurnummer IN ('0', '3000', '3001')"
    ).fetchall())
    assert stored == {"0": Decimal("12.50"), "3000": Decimal("123456.78"), "3001": Decimal("2259.83")}


def test_gripp_refresh_pages_by_key_with_every_query_in_one_post_a_round_and_writes_a_post_at_a_time(tmp_path):
    world, _ = build_bulk_world(3_000)
    clock = RunningClock(world_noon(world))
    sandbox = Sandbox(world, base_url=CONSOLE_URL, clock=clock)
    client = GrippClient(f"{CONSOLE_URL}/sandbox/gripp/public/api3.php", SANDBOX_GRIPP_TOKEN,
                         transport=sandbox.transport(), sleep=lambda seconds: None, clock=clock)
    store = CountingStore(tmp_path / "s.duckdb", clock=clock)
    assert refresh.refresh_gripp(store, client) == {"gripp_invoices": 3_000, "gripp_companies": 300}
    posts = max(math.ceil(3_000 / refresh.PAGE), math.ceil(300 / refresh.PAGE))  # invoices and companies together
    assert client.request_count == posts
    assert store.writes("gripp_invoices") <= posts  # one bulk upsert per POST, never one per invoice
    assert store.scalar("SELECT count(*) FROM gripp_invoices") == 3_000

    before = client.request_count
    refresh.refresh_gripp(store, client)
    assert client.request_count - before == 1  # the four incremental queries and the sent-count probe in one POST


def test_the_open_items_comparison_is_one_query_and_classifies_every_difference(tmp_path):
    store = CountingStore(tmp_path / "s.duckdb")
    today = fill_reconcile_store(store, 4_000)
    store.statements.clear()
    frame = reconcile.open_items(store, 1, ADMIN, None, today)
    assert len(store.statements) == 1
    classes = set(frame["class"])
    assert {"not_booked", "drift_deleted", "only_in_snelstart", "drift_changed", "payment_not_in_gripp",
            "paid_in_gripp_only", "in_sync"} <= classes
    settled = store.scalar("""SELECT count(*) FROM gripp_invoices g JOIN ss_open_items s ON s.factuurnummer = g.number
                              WHERE g.total_open = 0 AND s.openstaand_saldo = 0
                                AND g.total_incl_vat = s.factuur_bedrag""")
    assert settled > 0 and len(frame) == 4_000 + 40 - settled  # settled on both sides: not shown
    summary = reconcile.summary(frame)
    assert list(summary.index) == [c for c in reconcile.CLASSES if c in classes]
    assert int(summary["count"].sum()) == len(frame)


@pytest.fixture
def bulk_services(tmp_path):
    world, setup = build_bulk_world(120, payments=0)
    sandbox = Sandbox(world, base_url=CONSOLE_URL, clock=RunningClock(world_noon(world)))
    settings = sandbox_settings(tmp_path)
    services = Services(settings=settings, store=Store(settings.db_path, clock=sandbox.clock),
                        vault=vault_for(settings),
                        sandbox=sandbox, transport=sandbox.transport(), sleep=lambda seconds: None)
    bootstrap_sandbox_setup(services, setup)
    yield services, sandbox, setup.links[0].identity_id
    services.close()


def test_an_unchanged_rerun_reads_only_the_open_items_pages_and_writes_nothing(bulk_services):
    services, sandbox, identity_id = bulk_services
    first = run_identity(services, identity_id)
    assert first.counts["booked"] == 120
    assert first.counts.get("class_in_sync", 0) == 120 and not first.counts.get("class_drift_deleted")
    services.gripp_freshness.forget()

    start = len(sandbox.calls)
    again = run_identity(services, identity_id)
    calls = sandbox.calls[start:]
    assert again.outcome == "ok" and again.counts["booked"] == 0
    snelstart = [c for c in calls if c[0] == "snelstart-api"]
    assert [(c[1], c[2].split("?")[0]) for c in snelstart] == [("GET", "verkoopfacturen")]  # 120 items: one page
    assert [c for c in calls if c[0] == "gripp"] and len([c for c in calls if c[0] == "gripp"]) == 1
    assert not [c for c in calls if c[0] == "pdf"]
    writes = len(sandbox.writes())
    assert writes > 0 and len(Sandbox.writes(_Calls(calls))) == 0


@pytest.fixture
def counted_bulk_services(tmp_path):
    world, setup = build_bulk_world(250, payments=0)
    sandbox = Sandbox(world, base_url=CONSOLE_URL, clock=RunningClock(world_noon(world)))
    settings = sandbox_settings(tmp_path)
    store = CountingStore(settings.db_path, clock=sandbox.clock)
    services = Services(settings=settings, store=store, vault=vault_for(settings), sandbox=sandbox,
                        transport=sandbox.transport(), sleep=lambda seconds: None)
    bootstrap_sandbox_setup(services, setup)
    yield services, store, setup.links[0].identity_id
    services.close()


def test_a_first_run_writes_the_outbox_a_batch_at_a_time_not_an_invoice_at_a_time(counted_bulk_services):
    services, store, identity_id = counted_bulk_services
    store.statements.clear()
    first = run_identity(services, identity_id)
    assert first.counts["booked"] == 250 and first.counts["pdf_attached"] == 250
    batches = math.ceil(250 / push.BATCH)
    assert store.writes("bookings") == 2 * batches  # each batch: its intents in, then what was made
    assert store.writes("events") <= batches + 1
    commits = sum(1 for sql in store.statements if sql.strip().upper() == "COMMIT")
    assert commits <= 2 * batches + 7  # the batches' two, the refreshes', and the run's start and end
    assert services.store.scalar("SELECT count(*) FROM bookings WHERE state = 'done'") == 250


def test_an_unchanged_rerun_writes_only_its_run(counted_bulk_services, monkeypatch):
    services, store, identity_id = counted_bulk_services
    monkeypatch.setattr(runner, "PROGRESS_EVERY", 3600.0)  # progress is written by the second: not this test's
    run_identity(services, identity_id)
    services.gripp_freshness.forget()
    store.statements.clear()
    again = run_identity(services, identity_id, trigger="schedule", actor="scheduler")  # what most runs are
    assert again.outcome == "ok" and again.counts["booked"] == 0
    assert store.writes("ss_open_items") == 0  # the same open items: not written again
    assert store.writes("bookings") == 0 and store.writes("events") == 0
    assert store.writes("runs") == 2  # started and finished
