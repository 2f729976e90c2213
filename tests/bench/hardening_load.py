"""Load run: N invoices and M payments through the whole engine, on the sandbox with its rate limits on.

    python -m tests.bench.hardening_load --invoices 10000 --payments 10000

Run 1 books every invoice (with its PDF) in SnelStart; then the payments are applied in SnelStart as bank
bookings, as a bank import would; run 2 brings them back to Gripp. Both services' rate limits are on (SnelStart:
100 calls a minute per administration and 5 at once; Gripp: the burst bucket and the hourly quota), on a
*virtual* clock shared by the simulators and the clients: every wait (pacing, `Retry-After`) advances that clock
instead of the wall clock, so hours of rate-limited traffic run in minutes while every limit still bites.

What it proves: both runs end `ok` with nothing failed or left for later, no rate-limit answer surfaces as an
error or a warning, every invoice is booked once with one document and every payment registered once. What it
reports: wall time per run, the virtual time the same traffic would take against the real limits, the calls and
the throttled answers, and the process's peak memory (`ru_maxrss`), before and after the runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path

from sync.core.config import load_settings
from sync.core.events import render
from sync.core.vault import vault_for
from sync.jobs.payments import MARKER_KEY
from sync.jobs.runner import RunResult, run_identity
from sync.sandbox.bulk import build_bulk_world
from sync.sandbox.sandbox import Sandbox, VirtualClock, world_noon
from sync.sandbox.seed import SandboxSetup
from sync.sandbox.world import SnelStartBankBooking, SnelStartBankLine, World, new_guid
from sync.store import history as log
from sync.store.db import Store
from sync.wiring import Services, bootstrap_sandbox_setup

IDENTITY = 1


@dataclass
class RunNumbers:
    outcome: str
    wall_seconds: float
    virtual_seconds: float
    counts: dict[str, int]
    snelstart_calls: int
    gripp_posts: int
    snelstart_throttled: int
    gripp_throttled: int
    peak_rss_mb: float
    problems: list[str] = field(default_factory=list)  # warning/error events: must stay empty


@dataclass
class LoadReport:
    invoices: int
    payments: int
    rss_before_mb: float
    runs: list[RunNumbers]
    booked_once: bool
    documents_once: bool
    payments_once: bool

    @property
    def ok(self) -> bool:
        return (all(r.outcome == "ok" and not r.problems for r in self.runs) and self.booked_once
                and self.documents_once and self.payments_once)


def peak_rss_mb() -> float:
    """The process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def apply_bank_payments(world: World, setup: SandboxSetup, administration_id: str) -> int:
    """`setup.bulk_payments` as SnelStart bank bookings against the bookings run 1 made (one line each)."""
    admin = world.snelstart.administrations[administration_id]
    by_number = {b.factuurnummer: b for b in admin.bookings.values()}
    applied = 0
    with world.lock:
        for number, day, amount in setup.bulk_payments:
            booking = by_number.get(number)
            if booking is None:
                continue
            bank = SnelStartBankBooking(
                id=new_guid(), datum=day, omschrijving=f"Betaling factuur {number}", bedrag_ontvangen=amount,
                verkoop_regels=[SnelStartBankLine(booking.id, amount, omschrijving=f"Factuur {number}")],
                modified_on=datetime.combine(world.today, dtime(12, 0)),
            )
            admin.bank_bookings[bank.id] = bank
            applied += 1
    return applied


def _run(services: Services, sandbox: Sandbox, clock: VirtualClock) -> tuple[RunResult, RunNumbers]:
    services.gripp_freshness.forget()
    calls_before = Counter(call[0] for call in sandbox.calls)
    ss_throttled = sandbox.snelstart.stats.get("throttled", 0)
    gripp_throttled = sandbox.gripp.stats.get("throttled", 0)
    virtual, wall = clock(), time.perf_counter()
    result = run_identity(services, IDENTITY, trigger="cli")
    wall = time.perf_counter() - wall
    calls = Counter(call[0] for call in sandbox.calls) - calls_before
    problems = [f"{e['level']}: {render(e, 'en')}"
                for e in log.events(services.store, run_id=result.run_id, limit=100_000)
                if e["level"] in ("warning", "error")]
    return result, RunNumbers(
        outcome=result.outcome, wall_seconds=round(wall, 1), virtual_seconds=round(clock() - virtual),
        counts=dict(result.counts), snelstart_calls=calls["snelstart-api"], gripp_posts=calls["gripp"],
        snelstart_throttled=sandbox.snelstart.stats.get("throttled", 0) - ss_throttled,
        gripp_throttled=sandbox.gripp.stats.get("throttled", 0) - gripp_throttled,
        peak_rss_mb=round(peak_rss_mb(), 1), problems=problems[:20],
    )


def load_run(n_invoices: int, n_payments: int, db_dir: Path, *, snelstart_per_minute: int | None = None,
             gripp_burst: int | None = None) -> LoadReport:
    """`snelstart_per_minute`/`gripp_burst` make the simulators stricter than the limits the clients pace
    themselves to, so 429s and 503s do come back and must be waited out."""
    world, setup = build_bulk_world(n_invoices, payments=n_payments)
    clock = VirtualClock(world_noon(world).timestamp())
    sandbox = Sandbox(world, base_url="http://load.test", clock=clock, sleep=clock.sleep, rate_limits=True)
    if snelstart_per_minute is not None:
        sandbox.snelstart.per_minute = snelstart_per_minute
    if gripp_burst is not None:
        sandbox.gripp.burst_capacity, sandbox.gripp._tokens = gripp_burst, float(gripp_burst)
    # The clients pace themselves to SnelStart's test tier: the limits the simulator enforces here.
    settings = load_settings({"SYNC_DB_PATH": str(db_dir / "sync.duckdb"), "CONSOLE_PUBLIC_URL": "http://load.test",
                              "SNELSTART_TIER": "test"})
    services = Services(settings=settings, store=Store(settings.db_path, clock=clock), vault=vault_for(settings),
                        sandbox=sandbox, transport=sandbox.transport(), sleep=clock.sleep)
    bootstrap_sandbox_setup(services, setup)
    administration_id = setup.links[0].administration_id
    rss_before = peak_rss_mb()
    try:
        _, first = _run(services, sandbox, clock)
        apply_bank_payments(world, setup, administration_id)
        _, second = _run(services, sandbox, clock)
    finally:
        services.close()

    admin = world.snelstart.administrations[administration_id]
    numbers = Counter(b.factuurnummer for b in admin.bookings.values())
    documents = Counter(d.parent_id for d in admin.documents.values())
    markers = Counter(p.extendedproperties for p in world.gripp.payments.values()
                      if p.extendedproperties and MARKER_KEY in p.extendedproperties)
    paid: dict[int, Decimal] = {}
    for p in world.gripp.payments.values():
        if p.extendedproperties and MARKER_KEY in p.extendedproperties:
            paid[p.invoice_id] = paid.get(p.invoice_id, Decimal(0)) + p.amount
    expected_paid = sorted(amount for _, _, amount in setup.bulk_payments)
    return LoadReport(
        invoices=n_invoices, payments=n_payments, rss_before_mb=round(rss_before, 1), runs=[first, second],
        booked_once=len(numbers) == n_invoices and set(numbers.values()) == {1},
        documents_once=len(documents) == n_invoices and set(documents.values()) == {1},
        payments_once=max(markers.values(), default=1) == 1 and sorted(paid.values()) == expected_paid,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.hardening_load", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--db-dir", type=Path, help="where the DuckDB file goes (default: a temporary folder)")
    parser.add_argument("--snelstart-per-minute", type=int, help="the simulator's limit, if stricter than 100")
    parser.add_argument("--gripp-burst", type=int, help="the simulator's burst bucket, if smaller than 20")
    args = parser.parse_args(argv)
    options = {"snelstart_per_minute": args.snelstart_per_minute, "gripp_burst": args.gripp_burst}
    if args.db_dir:
        args.db_dir.mkdir(parents=True, exist_ok=True)
        report = load_run(args.invoices, args.payments, args.db_dir, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="hardening-load-") as folder:
            report = load_run(args.invoices, args.payments, Path(folder), **options)
    print(json.dumps({**asdict(report), "ok": report.ok}, indent=2, default=str))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
