"""The benchmark: `python -m tests.bench` (what `make bench` runs). Not part of the test suite.

It runs the engine on the sandbox, with the services' rate limits on and a simulated network latency on every
call, for bulk worlds of 1,000 and 10,000 invoices (`sync.sandbox.bulk`), and prints each figure beside its
target. Per world: a first run (every invoice booked with its PDF), an unchanged rerun, then the world's payments
booked in SnelStart as bank bookings and a run that brings them back to Gripp. Then the open-items comparison
(`reconcile.open_items` + `summary`) on a store of 100,000 invoices.

Time. At 100 calls a minute, 10,000 invoices are 200 minutes of SnelStart's budget; waiting for that in real time
would make the benchmark useless. So every sleep — the latency, the pacing, a `Retry-After` — waits on one
`IdleSkipClock`, shared by the simulators (rate-limit windows, token expiry) and the clients. That clock is real
time, except that whenever the whole process sits idle with somebody asleep, it jumps to the earliest wake-up.
Everything that actually runs (the engine, DuckDB, the simulators) costs its real time and overlaps other threads'
waits as it would for real; only idleness is skipped. A jump can only make a run look slower than it would be in
real time, never faster: work that was going on at that moment (a disk flush, say) now finishes after the jump
instead of during the wait. The figures are in those seconds, the same unit as the bound.

The bound for a first run's wall time is what the limits allow for the calls the run made, whatever the engine:
    max over the services of  calls / allowed rate  and  calls × latency / allowed concurrency
SnelStart: the run's API calls at the tier's calls per minute, and with the tier's concurrency; Gripp: its API
requests at the burst bucket's 4 a second (PDF downloads are not API requests). The run's measured time must stay
within 1.25 × that. (SnelStart's window lets a minute's budget go at once, so a run can come in a little under.)

The engine's own real time is the run's real time less the time in which a simulator was at work (the union of
their calls' intervals, the latency waits not included) and less the time the process sat idle waiting before the
clock skipped ahead (the watcher needs a poll interval of idleness to see it, a millisecond or two a wait) and the
clock's own CPU time (its watcher, and the sleepers' bookkeeping: each sleeper has its own wake-up, so a jump wakes
only those whose time has come): what the link itself costs, its DuckDB writes and disk syncs included. Engine work
that overlaps a simulator's (DuckDB's own threads and disk syncs run without Python's lock) is not counted; pure
Python cannot overlap, it waits for the same lock. It is an upper bound: a poll interval in which the process was
busy for more than a quarter is not idle, so the rest of it, spent waiting, is counted too. Printed below it, the
engine's CPU time alone (the process's, less the simulators' and the clock's) is the lower bound.

`--scenario accounts`: an unchanged scheduled cycle over many Gripp accounts (300 accounts × 3 identities × 200
invoices by default). Each account is one Gripp customer with its own DuckDB file, as the accounts design has it.
Bringing 180,000 invoices to "booked" through first runs would take an hour of rendering PDFs in the simulator, so
one account is synced for real (its first runs: every invoice booked with its PDF) and its file copied for every
other account; one simulated world, read-only in an unchanged cycle, stands behind all of them, each account with
its own simulators (their own rate limits) and its own clients, over the same simulated latency as the worlds
scenario.

The cycle: every identity of every account once, accounts `--concurrent` at a time (the scheduler's global cap),
an account's identities one after the other with its DuckDB file open for them only (opening it is part of the
cost). Before it, as the console's scheduler does at start, every account's file is opened once (read whole to
catch a damaged file) and closed; a file this process closed and nobody touched since is not read whole again at
its next open, so that start-up is timed on its own line. Printed beside their targets: the cycle's time (bench
clock and real), the most SnelStart and Gripp calls one identity made, and the process's peak resident memory.

Open items are read in pages of 500 until a page comes back short: SnelStart sends no count and no next link, so
n open items take n // 500 + 1 reads, and that is the rerun's target.

Memory is the growth of the process's resident memory (its high-water mark, reset before the run) over what it
held before the first run, when the libraries and the simulated world were already loaded. It includes what the
simulators add during the run (10,000 bookings and their PDFs) and DuckDB's own memory.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.bench import sizes

BENCH_URL = "http://bench.invalid"
TARGET = {
    "snelstart_per_invoice": 2.2,
    "gripp_per_1000_first": 12,
    "gripp_rerun": 3,
    "wall_vs_bound": 1.25,
    "reconcile_ms": 300,
    "memory_mb": 300,
    "payments_per_request": 50,
    "engine_ms_per_invoice": 5,
}
OPEN_ITEMS_PAGE = 500
GRIPP_BURST_RATE = 4.0  # requests a second once the bucket of 20 is spent


# ------------------------------------------------------------------------------------------------- the clock


class IdleSkipClock:
    """Real time, minus the stretches in which the whole process sat idle waiting for a timer.

    `now()` is epoch seconds; `sleep()` waits on this clock. A watcher thread samples the process's CPU time every
    `poll` seconds; when the process used less than `idle_share` of a core in that interval and someone is asleep,
    nothing can happen before the earliest wake-up, so the clock jumps there and the sleepers are woken.
    """

    def __init__(self, *, poll: float = 0.001, idle_share: float = 0.25) -> None:
        self.poll = poll
        self.idle_share = idle_share
        self._lock = threading.Lock()
        self._real0 = time.perf_counter()
        self._epoch0 = time.time()
        self._skipped = 0.0
        self._wakeups: list[tuple[float, int, threading.Event]] = []  # (deadline, order, its sleeper's wake-up)
        self._seq = 0
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="bench-clock", daemon=True)
        self.jumps = 0
        self.idle_real = 0.0  # real seconds the process sat idle with someone asleep, before each jump
        self.own_cpu = 0.0  # CPU seconds of the watcher itself: the benchmark's instrument, not the engine
        self.sleep_cpu = 0.0  # CPU seconds threads spent in this clock's sleep bookkeeping: the instrument's too

    def __enter__(self) -> IdleSkipClock:
        self._watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._watcher.join()

    def now(self) -> float:
        return self._epoch0 + (time.perf_counter() - self._real0) + self._skipped

    @property
    def skipped(self) -> float:
        return self._skipped

    def sleep(self, seconds: float) -> None:
        # Each sleeper has its own wake-up, set when the clock jumps to or past its deadline: waking every sleeper
        # at every jump (one shared condition) cost milliseconds per booked invoice that the engine was billed for.
        if seconds <= 0:
            return
        cpu0 = time.thread_time()
        wake = threading.Event()
        with self._lock:
            deadline = self.now() + seconds
            self._seq += 1
            entry = (deadline, self._seq, wake)
            heapq.heappush(self._wakeups, entry)
        try:
            while (left := deadline - self.now()) > 0:
                wake.wait(left)
                wake.clear()
        finally:
            with self._lock:
                self._wakeups.remove(entry)
                heapq.heapify(self._wakeups)
                self.sleep_cpu += time.thread_time() - cpu0

    def _watch(self) -> None:
        last_cpu, last_real = time.process_time(), time.perf_counter()
        while not self._stop.wait(self.poll):
            self.own_cpu = time.thread_time()
            cpu, real = time.process_time(), time.perf_counter()
            interval = max(real - last_real, 1e-9)
            busy = (cpu - last_cpu) / interval
            last_cpu, last_real = cpu, real
            if busy >= self.idle_share:
                continue
            with self._lock:
                if not self._wakeups:
                    continue
                self.idle_real += interval  # waited for real before this jump: nobody's work
                gap = self._wakeups[0][0] - self.now()
                if gap > 0:
                    self._skipped += gap
                    self.jumps += 1
                now = self.now()
                for deadline, _, wake in self._wakeups:
                    if deadline <= now:
                        wake.set()


# -------------------------------------------------------------------------------------- the network between


def service_of(path: str) -> str:
    for fragment, service in (("/sandbox/snelstart/api/", "snelstart-api"), ("/sandbox/snelstart/auth/",
                              "snelstart-auth"), ("/sandbox/gripp/pdf/", "pdf"), ("/sandbox/gripp/", "gripp")):
        if fragment in path:
            return service
    return "other"


class Network:
    """The sandbox behind a simulated latency: half on the way there, half on the way back, on the bench clock.
    Counts the calls in flight per service (the bench has one administration, so SnelStart's count is per
    administration)."""

    def __init__(self, sandbox: Any, clock: IdleSkipClock, latency: float) -> None:
        self.sandbox, self.clock, self.latency = sandbox, clock, latency
        self._lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        self._simulating = 0  # calls inside the simulators right now
        self._simulating_since = 0.0
        self.simulator_seconds = 0.0  # real seconds in which at least one simulator was at work
        self.simulator_cpu = 0.0  # CPU seconds the simulators used, summed over the threads calling them

    def reset_peaks(self) -> None:
        with self._lock:
            self.peak = Counter(self.in_flight)

    def handle(self, request: httpx.Request) -> httpx.Response:
        service = service_of(request.url.path)
        with self._lock:
            self.in_flight[service] += 1
            self.peak[service] = max(self.peak[service], self.in_flight[service])
        try:
            self.clock.sleep(self.latency / 2)
            response = self._simulate(request)
            self.clock.sleep(self.latency / 2)
            return response
        finally:
            with self._lock:
                self.in_flight[service] -= 1

    def _simulate(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            if not self._simulating:
                self._simulating_since = time.perf_counter()
            self._simulating += 1
        cpu0 = time.thread_time()
        try:
            return self.sandbox.handle(request)
        finally:
            with self._lock:
                self.simulator_cpu += time.thread_time() - cpu0
                self._simulating -= 1
                if not self._simulating:
                    self.simulator_seconds += time.perf_counter() - self._simulating_since

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


# ------------------------------------------------------------------------------------------------- memory


def _status_kb(field_name: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Linux: start the high-water mark of resident memory again from now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        import resource

        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def rss_mb() -> float:
    kb = _status_kb("VmRSS")
    return (kb or 0) / 1024


# ---------------------------------------------------------------------------------------------- one world


@dataclass
class Phase:
    name: str
    seconds: float  # on the bench clock
    real_seconds: float
    simulator_seconds: float  # real seconds in which a simulator was at work (not the link's own)
    idle_seconds: float  # real seconds the process sat idle waiting, before the clock skipped the wait
    clock_seconds: float  # CPU seconds the bench clock used (its watcher, and its sleepers' bookkeeping)
    engine_cpu: float  # CPU seconds of the process less the simulators' and the bench clock's
    calls: list[tuple[str, str, str, tuple[str, ...]]]
    result: Any
    peak_snelstart_in_flight: int
    throttled_snelstart: int
    throttled_gripp: int
    over_quota_gripp: int

    def count(self, service: str, *, method: str | None = None, prefix: str | None = None) -> int:
        return sum(1 for c in self.calls if c[0] == service and (method is None or c[1] == method)
                   and (prefix is None or c[2].startswith(prefix)))

    @property
    def snelstart_calls(self) -> int:
        return self.count("snelstart-api")

    @property
    def snelstart_writes(self) -> int:
        return sum(1 for c in self.calls if c[0] == "snelstart-api" and c[1] != "GET")

    @property
    def gripp_requests(self) -> int:
        return self.count("gripp")

    @property
    def gripp_payment_requests(self) -> int:
        return sum(1 for c in self.calls if c[0] == "gripp" and "payment.create" in c[3])

    @property
    def gripp_payment_calls(self) -> int:
        return sum(c[3].count("payment.create") for c in self.calls if c[0] == "gripp")


@dataclass
class WorldReport:
    invoices: int
    tier: Any
    latency: float
    first: Phase
    rerun: Phase
    payments: Phase
    n_payments: int
    open_items_after_first: int
    peak_memory_mb: float
    memory_before_mb: float
    rows: list[tuple[str, str, str, bool | None]] = field(default_factory=list)


def run_world(n: int, *, tier_name: str, latency: float, work_dir: Path, log: Callable[[str], None]) -> WorldReport:
    from sync.core.config import load_settings
    from sync.core.vault import vault_for
    from sync.jobs.runner import run_identity
    from sync.sandbox.bulk import build_bulk_world
    from sync.sandbox.sandbox import Sandbox
    from sync.snelstart.constants import tier
    from sync.store.db import Store
    from sync.wiring import Services, bootstrap_sandbox_setup

    limits = tier(tier_name)
    world, setup = build_bulk_world(n, payments=n)
    identity_id = setup.links[0].identity_id
    db_dir = Path(tempfile.mkdtemp(prefix=f"bench-{n}-", dir=work_dir))
    settings = load_settings({"SYNC_DB_PATH": str(db_dir / "sync.duckdb"), "CONSOLE_PUBLIC_URL": BENCH_URL,
                              "SNELSTART_TIER": limits.name})
    with IdleSkipClock() as clock:
        sandbox = Sandbox(world, base_url=BENCH_URL, clock=clock.now, sleep=clock.sleep, rate_limits=True)
        sandbox.snelstart.per_minute = limits.per_minute
        sandbox.snelstart.max_concurrent = limits.concurrent
        network = Network(sandbox, clock, latency)
        services = Services(settings=settings, store=Store(settings.db_path, clock=clock.now),
                            vault=vault_for(settings), sandbox=sandbox, transport=network.transport(),
                            sleep=clock.sleep)
        try:
            bootstrap_sandbox_setup(services, setup)

            def phase(name: str) -> Phase:
                services.gripp_freshness.forget()
                network.reset_peaks()
                start_calls = len(sandbox.calls)
                ss_throttled = sandbox.snelstart.stats.get("throttled", 0)
                g_throttled = sandbox.gripp.stats["throttled"]
                g_over = sandbox.gripp.stats["over_quota"]
                t0, r0 = clock.now(), time.perf_counter()
                s0, i0, c0 = network.simulator_seconds, clock.idle_real, clock.own_cpu + clock.sleep_cpu
                p0, sc0 = time.process_time(), network.simulator_cpu
                result = run_identity(services, identity_id, trigger="cli")
                seconds, real = clock.now() - t0, time.perf_counter() - r0
                instrument = clock.own_cpu + clock.sleep_cpu - c0
                engine_cpu = time.process_time() - p0 - (network.simulator_cpu - sc0) - instrument
                done = Phase(name, seconds, real, network.simulator_seconds - s0, clock.idle_real - i0,
                             instrument, engine_cpu, list(sandbox.calls[start_calls:]), result,
                             network.peak["snelstart-api"],
                             sandbox.snelstart.stats.get("throttled", 0) - ss_throttled,
                             sandbox.gripp.stats["throttled"] - g_throttled,
                             sandbox.gripp.stats["over_quota"] - g_over)
                log(f"  {name}: {result.outcome}, {seconds:,.0f} s on the bench clock ({real:,.0f} s real); "
                    f"{result.words('en')}")
                return done

            memory_before = rss_mb()
            reset_peak_rss()
            first = phase("first run")
            peak_memory = peak_rss_mb()
            open_items = services.store.scalar("SELECT count(*) FROM ss_open_items") or 0
            rerun = phase("unchanged rerun")
            n_payments = apply_bank_payments(world, setup, clock.now)
            payments = phase("payments run")
        finally:
            services.close()
            shutil.rmtree(db_dir, ignore_errors=True)
    report = WorldReport(n, limits, latency, first, rerun, payments, n_payments, open_items, peak_memory,
                         memory_before)
    report.rows = judge(report)
    return report


def apply_bank_payments(world: Any, setup: Any, now: Callable[[], float]) -> int:
    """The bulk world's payments, as SnelStart bank bookings against the bookings the first run made."""
    from sync.core.dates import AMSTERDAM
    from sync.sandbox.world import SnelStartBankBooking, SnelStartBankLine, new_guid

    admin = world.snelstart.administrations[setup.links[0].administration_id]
    # SnelStart's times are Amsterdam wall-clock times without a zone.
    stamp = datetime.fromtimestamp(now(), AMSTERDAM).replace(microsecond=0, tzinfo=None)
    with world.lock:
        by_number = {b.factuurnummer: b for b in admin.bookings.values()}
        for number, on, amount in setup.bulk_payments:
            booking = by_number[number]
            text = f"Betaling factuur {number}"
            bank = SnelStartBankBooking(id=new_guid(), datum=on, omschrijving=text, bedrag_ontvangen=amount,
                                        verkoop_regels=[SnelStartBankLine(booking.id, amount, omschrijving=text)],
                                        modified_on=stamp)
            admin.bank_bookings[bank.id] = bank
    return len(setup.bulk_payments)


def wall_bound(phase: Phase, tier: Any, latency: float) -> float:
    """What the limits allow for the calls this run made (see the module docstring)."""
    ss = phase.snelstart_calls
    gripp = phase.gripp_requests
    return max(ss / (tier.per_minute / 60.0), ss * latency / tier.concurrent, gripp / GRIPP_BURST_RATE)


def judge(r: WorldReport) -> list[tuple[str, str, str, bool | None]]:
    """(figure, measured, target, passed); passed None is information only."""
    rows: list[tuple[str, str, str, bool | None]] = []
    first, rerun, pay = r.first, r.rerun, r.payments
    booked = first.result.counts.get("booked", 0) + first.result.counts.get("adopted", 0)
    left = sum(first.result.counts.get(k, 0) for k in ("failed", "retry_later", "pdf_pending", "blocked"))
    rows.append(("invoices booked with PDF / left over (first run)",
                 f"{booked:,} / {left}", f"{r.invoices:,} / 0", booked == r.invoices and left == 0))
    per_invoice = first.snelstart_calls / max(booked, 1)
    rows.append(("SnelStart calls per booked invoice (first run)",
                 f"{per_invoice:.3f} ({first.snelstart_calls:,} calls, {first.snelstart_writes:,} writes)",
                 f"≤ {TARGET['snelstart_per_invoice']}", per_invoice <= TARGET["snelstart_per_invoice"]))
    pages = r.open_items_after_first // OPEN_ITEMS_PAGE + 1
    rerun_reads = rerun.snelstart_calls - rerun.snelstart_writes
    rows.append(("SnelStart calls, unchanged rerun (reads / writes)", f"{rerun_reads} / {rerun.snelstart_writes}",
                 f"≤ {pages} / 0 ({r.open_items_after_first:,} open items / 500, + the short last page)",
                 rerun_reads <= pages and rerun.snelstart_writes == 0
                 and rerun.count("snelstart-api", prefix="verkoopfacturen") == rerun_reads))
    per_1000 = first.gripp_requests / (r.invoices / 1000)
    rows.append(("Gripp requests per 1,000 invoices (first run)",
                 f"{per_1000:.1f} ({first.gripp_requests} requests; {first.count('pdf'):,} PDF downloads)",
                 f"≤ {TARGET['gripp_per_1000_first']}", per_1000 <= TARGET["gripp_per_1000_first"]))
    rows.append(("Gripp requests, unchanged rerun (writes)",
                 f"{rerun.gripp_requests} ({sum(1 for c in rerun.calls if c[0] == 'gripp' and _gripp_write(c))})",
                 f"≤ {TARGET['gripp_rerun']} (0)",
                 rerun.gripp_requests <= TARGET["gripp_rerun"] and not any(_gripp_write(c) for c in rerun.calls)))
    bound = wall_bound(first, r.tier, r.latency)
    ratio = first.seconds / bound if bound else float("inf")
    rows.append(("wall time, first run: measured / bound",
                 f"{_duration(first.seconds)} / {_duration(bound)} = {ratio:.3f}×",
                 f"≤ {TARGET['wall_vs_bound']}×", ratio <= TARGET["wall_vs_bound"]))
    rows.append(("  of which real seconds (the rest was idle waiting, skipped)",
                 _duration(first.real_seconds), "", None))
    engine = first.real_seconds - first.simulator_seconds - first.idle_seconds - first.clock_seconds
    engine_ms = engine * 1000 / max(booked, 1)
    rows.append(("engine's own real time per booked invoice (first run, waits skipped)",
                 f"{engine_ms:.1f} ms ({_duration(engine)}; simulators {_duration(first.simulator_seconds)}, "
                 f"idle before the skips {_duration(first.idle_seconds)}, bench clock "
                 f"{_duration(first.clock_seconds)})", f"≤ {TARGET['engine_ms_per_invoice']} ms",
                 engine_ms <= TARGET["engine_ms_per_invoice"]))
    rows.append(("  of which the engine's CPU (the process's, less the simulators' and the clock's)",
                 f"{first.engine_cpu * 1000 / max(booked, 1):.1f} ms ({_duration(first.engine_cpu)})", "", None))
    rows.append(("most SnelStart calls in flight (first run)", str(first.peak_snelstart_in_flight),
                 f"≤ {r.tier.concurrent}", first.peak_snelstart_in_flight <= r.tier.concurrent))
    throttles = sum(p.throttled_snelstart + p.throttled_gripp for p in (first, rerun, pay))
    over = sum(p.over_quota_gripp for p in (first, rerun, pay))
    rows.append(("throttled answers met (SnelStart 429 + Gripp 503, all runs)", str(throttles),
                 "waited out", None))
    rows.append(("Gripp hourly quota exceeded (429), all runs", str(over), "0", over == 0))
    registered = pay.result.counts.get("payments_registered", 0)
    pending = pay.result.counts.get("payments_pending", 0)
    rows.append(("payments registered in Gripp / pending", f"{registered:,} / {pending}", f"{r.n_payments:,} / 0",
                 registered == r.n_payments and pending == 0))
    allowed = math.ceil(r.n_payments / TARGET["payments_per_request"])
    rows.append(("Gripp requests carrying the payments",
                 f"{pay.gripp_payment_requests} (of {pay.gripp_requests} in the run)",
                 f"≤ {allowed} (1 per {TARGET['payments_per_request']})", pay.gripp_payment_requests <= allowed))
    rows.append(("payments run: time / SnelStart calls",
                 f"{_duration(pay.seconds)} ({_duration(pay.real_seconds)} real) / {pay.snelstart_calls}", "", None))
    grown = r.peak_memory_mb - r.memory_before_mb
    rows.append(("peak memory of the first run, over the process before it",
                 f"{grown:,.0f} MB (peak {r.peak_memory_mb:,.0f} MB, before {r.memory_before_mb:,.0f} MB)",
                 f"< {TARGET['memory_mb']} MB", grown < TARGET["memory_mb"]))
    return rows


def _gripp_write(call: tuple[str, str, str, tuple[str, ...]]) -> bool:
    return any(m.split(".")[-1] in ("create", "update", "delete") for m in call[3])


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds:,.1f} s"


# ------------------------------------------------------------------------------------ the 100k comparison


def reconcile_benchmark(n: int, work_dir: Path, *, repeats: int = 7) -> tuple[float, list[float], dict[str, int]]:
    """Median milliseconds of `open_items` + `summary` over a store of `n` invoices, after one warm-up."""
    from sync.jobs import reconcile
    from sync.store.db import Store

    db_dir = Path(tempfile.mkdtemp(prefix="bench-reconcile-", dir=work_dir))
    store = Store(db_dir / "sync.duckdb")
    try:
        today = fill_reconcile_store(store, n)
        timings = []
        frame = None
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            frame = reconcile.open_items(store, 1, ADMIN, None, today)
            reconcile.summary(frame)
            timings.append((time.perf_counter() - t0) * 1000)
        classes = {str(k): int(v) for k, v in frame["class"].value_counts().items()} if frame is not None else {}
        return statistics.median(timings[1:]), timings[1:], classes
    finally:
        store.close()
        shutil.rmtree(db_dir, ignore_errors=True)


ADMIN = "b0000000-0000-4000-8000-000000000001"


def fill_reconcile_store(store: Any, n: int) -> date:
    """`n` invoices of one identity, every one booked: about half still open, and a few percent of each kind of
    difference the comparison classifies. Written in bulk, straight into the cache tables."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(11)
    today = date(2026, 11, 28)
    ids = np.arange(1, n + 1)
    numbers = (10_000_000 + ids).astype(str)
    day = pd.to_datetime(today) - pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    total = np.round(rng.uniform(50, 5000, n), 2)
    kind = rng.random(n)
    gripp_open = np.where(kind < 0.5, total, 0.0)  # half open in Gripp
    ss_total = total.copy()
    ss_open = gripp_open.copy()
    ss_open[(kind >= 0.50) & (kind < 0.53)] = total[(kind >= 0.50) & (kind < 0.53)]  # paid in Gripp only
    ss_open[(kind >= 0.53) & (kind < 0.58)] = 0.0  # payment not in Gripp yet
    ss_open[(kind < 0.05)] = 0.0
    ss_total[(kind >= 0.58) & (kind < 0.59)] += 10  # amount differs
    in_ss = ~((kind >= 0.59) & (kind < 0.61))  # deleted in SnelStart, or never booked (blocked)
    state = np.where((kind >= 0.60) & (kind < 0.61), "blocked", "done")
    stamp = pd.Timestamp("2026-11-28 12:00", tz="Europe/Amsterdam")
    gripp = pd.DataFrame({
        "invoice_id": ids, "identity_id": 1, "number": numbers, "company_id": 10_000 + ids % 1000,
        "company_name": [f"Klant {i % 1000} B.V." for i in ids], "invoice_date": day.date, "due_date":
        (day + pd.to_timedelta(30, unit="D")).date, "status": "SENT", "subject": "Werkzaamheden",
        "total_incl_vat": [Decimal(f"{v:.2f}") for v in total],
        "total_excl_vat": [Decimal(f"{v / 1.21:.2f}") for v in total],
        "total_open": [Decimal(f"{v:.2f}") for v in gripp_open],
        "total_paid": [Decimal(f"{v:.2f}") for v in total - gripp_open], "createdon": stamp, "updatedon": stamp,
        "directpdfurl": "", "lines_json": "[]", "payments_json": "[]", "fetched_at": stamp,
    })
    ss = pd.DataFrame({
        "administration_id": ADMIN, "verkoopfactuur_id": [f"vf-{i}" for i in ids], "booking_id":
        [f"bk-{i}" for i in ids], "factuurnummer": numbers, "relatie_id": "rel", "factuur_datum": day.date,
        "verval_datum": (day + pd.to_timedelta(30, unit="D")).date,
        "factuur_bedrag": [Decimal(f"{v:.2f}") for v in ss_total],
        "openstaand_saldo": [Decimal(f"{v:.2f}") for v in ss_open], "modified_on": stamp.tz_localize(None),
        "fetched_at": stamp,
    })[in_ss]
    extra = pd.DataFrame({  # in SnelStart only: booked there by hand
        "administration_id": ADMIN, "verkoopfactuur_id": [f"vf-x{i}" for i in range(n // 100)],
        "booking_id": [f"bk-x{i}" for i in range(n // 100)], "factuurnummer": [f"HAND-{i}" for i in range(n // 100)],
        "relatie_id": "rel", "factuur_datum": today, "verval_datum": today + timedelta(days=14),
        "factuur_bedrag": Decimal("121.00"), "openstaand_saldo": Decimal("121.00"),
        "modified_on": stamp.tz_localize(None), "fetched_at": stamp,
    })
    bookings = pd.DataFrame({
        "identity_id": 1, "invoice_id": ids, "number": numbers, "state": state,
        "booking_id": [f"bk-{i}" if s == "done" else None for i, s in zip(ids, state, strict=True)],
        "relatie_id": "rel", "fingerprint": "f", "amount": [Decimal(f"{v:.2f}") for v in total],
        "reasons_json": np.where(state == "blocked", '[{"code": "VAT_UNMAPPED"}]', None),
        "attempts": 1, "adopted": False, "changed_in_gripp": False, "updated_at": stamp, "booked_at": stamp,
    })
    cur = store.cursor()
    for table, frame in (("gripp_invoices", gripp), ("ss_open_items", ss), ("ss_open_items", extra),
                         ("bookings", bookings)):
        cur.register("_bench_frame", frame)
        cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _bench_frame")
        cur.unregister("_bench_frame")
    return today


# -------------------------------------------------------------------------- the many-accounts scenario

ACCOUNT_TARGET = {"cycle_seconds": 60, "snelstart_per_identity": 2, "gripp_per_identity": 1, "peak_memory_mb": 1024}


@dataclass
class Account:
    """One simulated account: its own DuckDB file, its own simulators over the shared world, its identities."""
    path: Path
    sandbox: Any
    network: Any
    identities: list[int]
    calls: list[tuple[int, int, int]] = field(default_factory=list)  # (identity, SnelStart API calls, Gripp)
    failures: list[str] = field(default_factory=list)


def synced_template(identities: int, invoices: int, work_dir: Path) -> tuple[Any, Any, Path]:
    """One account synced for real: its world, its setup and its DuckDB file (closed), after a first run and an
    unchanged one."""
    from sync.core.config import load_settings
    from sync.core.vault import vault_for
    from sync.jobs.runner import run_all
    from sync.sandbox.bulk import build_bulk_world
    from sync.sandbox.sandbox import Sandbox
    from sync.store.db import Store
    from sync.wiring import Services, bootstrap_sandbox_setup

    world, setup = build_bulk_world(identities * invoices, identities=identities)
    path = work_dir / "template" / "sync.duckdb"
    settings = load_settings(_environment(path))
    sandbox = Sandbox(world, base_url=BENCH_URL)
    services = Services(settings=settings, store=Store(path), vault=vault_for(settings), sandbox=sandbox,
                        transport=httpx.MockTransport(sandbox.handle), sleep=lambda s: None)
    try:
        bootstrap_sandbox_setup(services, setup)
        for _ in range(2):
            services.gripp_freshness.forget()
            results = run_all(services, trigger="cli")
            if any(r.outcome != "ok" for r in results):
                raise RuntimeError(f"the template account did not sync cleanly: {[r.words('en') for r in results]}")
        if services.store.scalar("SELECT count(*) FROM bookings WHERE state = 'done'") != identities * invoices:
            raise RuntimeError("the template account did not book every invoice with its PDF")
    finally:
        services.close()
    return world, setup, path


def run_accounts(n_accounts: int, identities: int, invoices: int, *, concurrent: int, latency: float,
                 work_dir: Path, log: Callable[[str], None]) -> list[tuple[str, str, str, bool | None]]:
    from sync.sandbox.sandbox import Sandbox
    from sync.store.db import Store

    root = Path(tempfile.mkdtemp(prefix="bench-accounts-", dir=work_dir))
    try:
        t0 = time.perf_counter()
        world, setup, template = synced_template(identities, invoices, root)
        log(f"  one account synced for real ({identities} × {invoices} invoices) in "
            f"{time.perf_counter() - t0:,.0f} s; its file copied for {n_accounts} accounts")
        identity_ids = [link.identity_id for link in setup.links]
        with IdleSkipClock() as clock:
            accounts = []
            for n in range(n_accounts):
                path = root / f"account-{n:04d}" / "sync.duckdb"
                path.parent.mkdir(mode=0o700)
                for name in (template.name, "sandbox-secret.key"):  # its file, and the key its koppelsleutels need
                    shutil.copyfile(template.with_name(name), path.with_name(name))
                sandbox = Sandbox(world, base_url=BENCH_URL, clock=clock.now, sleep=clock.sleep, rate_limits=True)
                turn = n % len(identity_ids)  # accounts side by side start at different identities
                accounts.append(Account(path, sandbox, Network(sandbox, clock, latency),
                                        identity_ids[turn:] + identity_ids[:turn]))
            # As the console starts: its scheduler opens every account once (its file read whole, its jobs loaded),
            # keeping the few it runs open; so by the first cycle this process knows every file it closed.
            s0 = time.perf_counter()
            for account in accounts:
                Store(account.path, clock=clock.now).close()
            startup = time.perf_counter() - s0
            reset_peak_rss()
            b0, r0 = clock.now(), time.perf_counter()
            with ThreadPoolExecutor(max_workers=concurrent, thread_name_prefix="account") as pool:
                failed = sum(pool.map(lambda account: _account_cycle(account, clock), accounts))
            seconds, real = clock.now() - b0, time.perf_counter() - r0
            peak = peak_rss_mb()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    log(f"  start-up: every account's file opened and read whole once in {startup:,.1f} s")
    log(f"  the cycle: {seconds:,.1f} s on the bench clock ({real:,.1f} s real)")
    for reason in sorted({reason for account in accounts for reason in account.failures})[:3]:
        log(f"  not ok: {reason}")
    calls = [c for account in accounts for c in account.calls]
    most_ss = max(c[1] for c in calls)
    most_gripp = max(c[2] for c in calls)
    return [
        (f"unchanged scheduled cycle: {n_accounts} accounts × {len(identity_ids)} identities × {invoices} invoices "
         f"({concurrent} accounts at a time)",
         f"{seconds:,.1f} s ({real:,.1f} s real; {len(calls):,} identity runs, {failed} not ok)",
         f"≤ {ACCOUNT_TARGET['cycle_seconds']} s", seconds <= ACCOUNT_TARGET["cycle_seconds"]
         and len(calls) == n_accounts * len(identity_ids) and failed == 0),
        (f"  start-up before it: {n_accounts} account files opened and read whole, one after the other",
         f"{startup:,.1f} s", "", None),
        ("  SnelStart / Gripp calls per identity (most of any identity)",
         f"{most_ss} / {most_gripp} (average {sum(c[1] for c in calls) / len(calls):.2f} / "
         f"{sum(c[2] for c in calls) / len(calls):.2f})",
         f"≤ {ACCOUNT_TARGET['snelstart_per_identity']} / ≤ {ACCOUNT_TARGET['gripp_per_identity']}",
         most_ss <= ACCOUNT_TARGET["snelstart_per_identity"] and most_gripp <= ACCOUNT_TARGET["gripp_per_identity"]),
        ("  peak resident memory of the process during the cycle", f"{peak:,.0f} MB",
         f"< {ACCOUNT_TARGET['peak_memory_mb']:,} MB", peak < ACCOUNT_TARGET["peak_memory_mb"]),
    ]


def _account_cycle(account: Account, clock: IdleSkipClock) -> int:
    """The account's identities one after the other, its database open for them only (an open DuckDB file holds
    about 10 MB, so a process serving hundreds of accounts keeps only the few it is running open); how many runs
    did not end ok."""
    from sync.core.config import load_settings
    from sync.core.vault import vault_for
    from sync.jobs.runner import run_identity
    from sync.store.db import Store
    from sync.wiring import Services

    settings = load_settings(_environment(account.path))
    services = Services(settings=settings, store=Store(account.path, clock=clock.now), vault=vault_for(settings),
                        sandbox=account.sandbox, transport=account.network.transport(), sleep=clock.sleep,
                        account=account.path.parent.name)  # its own key: its runs lock its identities only
    failed = 0
    try:
        for identity_id in account.identities:
            before = len(account.sandbox.calls)
            result = run_identity(services, identity_id, trigger="schedule")
            made = account.sandbox.calls[before:]
            account.calls.append((identity_id, sum(1 for c in made if c[0] == "snelstart-api"),
                                  sum(1 for c in made if c[0] == "gripp")))
            if result.outcome != "ok":
                failed += 1
                account.failures.append(result.words("en"))
    finally:
        services.close()
    return failed


def _environment(path: Path) -> dict[str, str]:
    return {"SYNC_DB_PATH": str(path), "CONSOLE_PUBLIC_URL": BENCH_URL}


# ------------------------------------------------------------------------------------------------- output


def machine() -> str:
    import duckdb

    mem = _status_kb_file("/proc/meminfo", "MemTotal")
    memory = f"{mem / 1024 / 1024:.1f} GiB RAM" if mem else "RAM unknown"
    cpu = platform.processor() or platform.machine()
    return (f"{platform.node() or 'this machine'}: {os.cpu_count()} CPUs ({cpu}), {memory}; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, {platform.system()}")


def _status_kb_file(path: str, name: str) -> int | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def table(rows: list[tuple[str, str, str, bool | None]]) -> str:
    head = ("figure", "measured", "target", "")
    cells = [head] + [(a, b, c, "" if ok is None else ("PASS" if ok else "FAIL")) for a, b, c, ok in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(4)]
    lines = []
    for i, row in enumerate(cells):
        lines.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


@contextmanager
def quiet_logging() -> Iterator[None]:
    import logging

    previous = logging.root.level
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
        logging.root.setLevel(previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, nargs="+", default=[1000, 10000],
                        help="world sizes to run, each in a fresh process (default: 1000 10000)")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="simulated latency of every call (40)")
    parser.add_argument("--tier", default="test", help="SnelStart rate-limit tier: test or production (test)")
    parser.add_argument("--reconcile-invoices", type=int, default=100_000,
                        help="invoices in the open-items comparison benchmark; 0 skips it (100000)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="where the temporary databases go (default: the system's temp directory)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--one-world", type=int, default=None, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--scenario", choices=("worlds", "accounts", "nodes"), default="worlds",
                        help="worlds: the figures above (default); accounts: the unchanged cycle over many accounts; "
                             "nodes: the same over worker processes on Postgres, one of them killed "
                             "(tests/bench/nodes.py)")
    parser.add_argument("--accounts", type=int, default=300, help="accounts in the accounts scenario (300)")
    parser.add_argument("--identities", type=int, default=3, help="identities per account (3)")
    parser.add_argument("--invoices-per-identity", type=int, default=200, help="(200)")
    parser.add_argument("--concurrent", type=int, default=4, help="accounts synced at a time (4)")
    parser.add_argument("--nodes", type=int, default=3, help="worker processes in the nodes scenario (3)")
    parser.add_argument("--concurrency", type=int, default=4, help="runs at a time per node, nodes scenario (4)")
    args = parser.parse_args(argv)

    from sync.snelstart.constants import tier

    limits = tier(args.tier)
    work_dir = args.work_dir or Path(tempfile.gettempdir())
    work_dir.mkdir(parents=True, exist_ok=True)
    if args.one_world is not None:
        return _one_world(args.one_world, limits.name, args.latency_ms / 1000, work_dir, args.json)
    if args.scenario == "accounts":
        return _accounts(args, work_dir)
    if args.scenario == "nodes":
        return _nodes(args, work_dir)

    log(f"Benchmark on {machine()}")
    log(f"SnelStart tier '{limits.name}': {limits.per_minute} calls/min and {limits.concurrent} in flight per "
        f"administration; Gripp: 1,000 requests/h, burst bucket 20 at 4/s; latency {args.latency_ms:g} ms a call.")
    log("Times are on the bench clock: real time with idle waits skipped (see `python -m tests.bench --help`).\n")
    started = time.perf_counter()
    out: dict[str, Any] = {"machine": machine(), "tier": limits.name, "latency_ms": args.latency_ms, "worlds": {}}
    all_ok = True
    for n in args.invoices:
        # Each world in a process of its own: its memory figure owes nothing to an earlier world's.
        with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
            figures = Path(tmp) / "figures.json"
            child = subprocess.run([sys.executable, "-m", "tests.bench", "--one-world", str(n), "--tier", limits.name,
                                    "--latency-ms", str(args.latency_ms), "--work-dir", str(work_dir),
                                    "--json", str(figures)], check=False)
            all_ok &= child.returncode == 0
            out["worlds"][str(n)] = json.loads(figures.read_text()) if figures.exists() else None
    if args.reconcile_invoices:
        n = args.reconcile_invoices
        log(f"open-items comparison at {n:,} invoices")
        median, timings, classes = reconcile_benchmark(n, work_dir)
        rows = [(f"reconcile.open_items + summary, {n:,} invoices (median of {len(timings)} after a warm-up)",
                 f"{median:.0f} ms ({min(timings):.0f}–{max(timings):.0f})", f"< {TARGET['reconcile_ms']} ms",
                 median < TARGET["reconcile_ms"]),
                ("  rows shown, by class", ", ".join(f"{k} {v:,}" for k, v in sorted(classes.items())), "", None)]
        log("\n" + table(rows) + "\n")
        all_ok &= bool(rows[0][3])
        out["reconcile"] = {"invoices": n, "median_ms": median, "timings_ms": timings, "classes": classes}
    log("the bulk demo's build and the log's search, at size")
    rows = sizes.rows(work_dir)
    log("\n" + table(rows) + "\n")
    all_ok &= all(row[3] for row in rows)
    out["sizes"] = rows
    log(f"{'All figures meet their targets' if all_ok else 'Some figures miss their targets'}; the benchmark took "
        f"{_duration(time.perf_counter() - started)} of real time.")
    log("The unchanged cycle over 300 accounts (several minutes, so not run by default): "
        "python -m tests.bench --scenario accounts")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    return 0 if all_ok else 1


def _accounts(args: argparse.Namespace, work_dir: Path) -> int:
    log(f"Benchmark on {machine()}")
    log(f"Unchanged scheduled cycle: {args.accounts} accounts × {args.identities} identities × "
        f"{args.invoices_per_identity} invoices, latency {args.latency_ms:g} ms a call; times on the bench clock.\n")
    with quiet_logging():
        rows = run_accounts(args.accounts, args.identities, args.invoices_per_identity, concurrent=args.concurrent,
                            latency=args.latency_ms / 1000, work_dir=work_dir, log=log)
    log("\n" + table(rows) + "\n")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("figure", "measured", "target", "passed"), row, strict=True))
                                         for row in rows], indent=2), encoding="utf-8")
    return 0 if all(ok is not False for *_, ok in rows) else 1


def _nodes(args: argparse.Namespace, work_dir: Path) -> int:
    from tests.bench import nodes

    log(f"Benchmark on {machine()}")
    log(f"Nodes: {args.accounts} accounts × {args.identities} identities × {args.invoices_per_identity} invoices over "
        f"{args.nodes} worker processes ({args.concurrency} runs at a time each) on Postgres and a served sandbox "
        "(rate limits off); real time.\n")
    with quiet_logging():
        rows = nodes.run(args, work_dir, log)
    log("\n" + table(rows) + "\n")
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("figure", "measured", "target", "passed"), row, strict=True))
                                         for row in rows], indent=2), encoding="utf-8")
    return 0 if all(ok is not False for *_, ok in rows) else 1


def _one_world(n: int, tier_name: str, latency: float, work_dir: Path, figures: Path | None) -> int:
    log(f"{n:,} invoices")
    with quiet_logging():
        report = run_world(n, tier_name=tier_name, latency=latency, work_dir=work_dir, log=log)
    log("\n" + table(report.rows) + "\n")
    if figures is not None:
        figures.write_text(json.dumps([dict(zip(("figure", "measured", "target", "passed"), row, strict=True))
                                       for row in report.rows], indent=2), encoding="utf-8")
    return 0 if all(ok is not False for *_, ok in report.rows) else 1


def log(text: str) -> None:
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
