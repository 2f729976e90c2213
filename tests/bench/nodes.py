"""`python -m tests.bench --scenario nodes`: the distributed mode with real processes, timed.

It starts a throwaway Postgres (or uses `SYNC_DATABASE_URL`: give it an empty database), serves the simulators once
(`python -m sync sandbox serve --no-limits`: one world for every node, its rate limits off, as the many accounts of
this benchmark all read one simulated Gripp customer), and registers `--accounts` accounts of `--identities`
identities × `--invoices-per-identity` invoices the way `--scenario accounts` makes them: one account synced for real
(every invoice booked with its PDF), its checked-in file copied for the others. Beside them the sandbox's demo
accounts (`sandbox register`), whose first runs are the real work of the cycle in which a node is killed. Then
`--nodes` worker processes (`python -m sync worker --concurrency N`), each with a data folder of its own, and:

1. a warm-up cycle and the timed unchanged cycle: every identity of every account deferred at once (the run plan's
   order: every account's first identity, then every account's second, …), timed until the queue is empty;
2. the queue's own cost per job: jobs deferred one at a time to idle workers, deferred → started from
   procrastinate's events;
3. a cycle with real work (new invoices made in the served Gripp for the demo's first account, whose runs are
   deferred first): once that account's run is well under way its node is SIGKILLed and its data folder deleted;
   timed until every run the dead node held has completed on another node. Then the duplicates in the world serve
   saved when it stopped, the runs of each account overlapping in time (from the checked-in files), what the dead
   node's accounts had checked in before it died and no longer have, and each node's peak memory (VmHWM).

Real time throughout (no bench clock: these are separate processes); it takes about five minutes at full size.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

from tests.cluster import (
    Cluster,
    Node,
    WorldAccount,
    booked_once_with_one_pdf,
    bulk_accounts,
    create_invoices,
    duplicates,
    lost,
    overlapping,
    serve,
)

TARGET = {"cycle_seconds": 60, "queue_ms": 50, "takeover_seconds": 90, "peak_memory_mb": 1024}
NEW_INVOICES = 100  # made in the served Gripp for the demo's first account before the cycle with a death in it
QUEUE_SAMPLES = 30
Row = tuple[str, str, str, bool | None]


def run(args: argparse.Namespace, work_dir: Path, log: Callable[[str], None]) -> list[Row]:
    from tests.postgres import start_postgres

    folder = Path(tempfile.mkdtemp(prefix="bench-nodes-", dir=work_dir))
    stop_postgres: Callable[[], None] | None = None
    try:
        url = os.environ.get("SYNC_DATABASE_URL")
        if not url:
            server, stop_postgres = start_postgres(Path(tempfile.mkdtemp(prefix="bench-postgres-")))
            name = f"bench_{secrets.token_hex(4)}"
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            url = f"{server}/{name}"
        return _run(args, folder, url, log)
    finally:
        if stop_postgres is not None:
            stop_postgres()
        shutil.rmtree(folder, ignore_errors=True)


def _run(args: argparse.Namespace, folder: Path, url: str, log: Callable[[str], None]) -> list[Row]:
    from sync.sandbox.seed import SANDBOX_TODAY, VAT_21, demo_setup
    from sync.sandbox.seed_small import small_world
    from sync.sandbox.world import FIRST_ACCOUNT
    from sync.store.run_plan import SyncJob

    t0 = time.perf_counter()
    world = small_world()
    [template] = bulk_accounts(world, 1, identities=args.identities, invoices=args.invoices_per_identity,
                               prefix="acct")
    cluster = Cluster(folder, url, serve(folder / "served", world))
    try:
        keys = _accounts(cluster, template, args.accounts, log)
        cluster.register_demo()
        log(f"  {args.accounts} accounts and the demo's registered in {time.perf_counter() - t0:,.0f} s")
        nodes = [cluster.start_node(args.concurrency) for _ in range(args.nodes)]
        identities = cluster.linked(keys[0])
        # as the run plan gives a tick: one job per account with every identity of it that is due
        cycle = [SyncJob(key, tuple(identities)) for key in keys]

        warm = _cycle(cluster, cycle, nodes)
        log(f"  warm-up cycle: {warm:,.1f} s")
        for node in nodes:  # the peak of the measured cycle, not of the start-up
            node.peak_mb = 0.0
        cpu0 = _cpu(cluster, nodes)
        seconds = _cycle(cluster, cycle, nodes)
        cpu = {name: used - cpu0[name] for name, used in _cpu(cluster, nodes).items()}
        log(f"  unchanged cycle: {seconds:,.1f} s; CPU seconds meanwhile: "
            + ", ".join(f"{name} {used:,.1f}" for name, used in cpu.items()))

        queue_ms = _queue_cost(cluster, keys, identities)
        log(f"  queue's cost per job: median {statistics.median(queue_ms):.1f} ms")

        # -- a cycle with a death in it
        busy = min(cluster.linked(FIRST_ACCOUNT))
        ledger = next(row.gripp_id for row in demo_setup().mappings_for(busy, "ledger"))
        new = create_invoices(cluster.served.settings["GRIPP_API_URL"], demo_setup().gripp_api_token, busy,
                              NEW_INVOICES, on=SANDBOX_TODAY, vat_id=VAT_21, ledger_id=ledger)
        demo_jobs = [SyncJob(FIRST_ACCOUNT, tuple(cluster.linked(FIRST_ACCOUNT)))]
        cluster.defer(demo_jobs)
        cluster.defer(cycle)
        victim, held, kill_seconds = _kill_mid_run(cluster, FIRST_ACCOUNT, nodes)
        killed_at = time.monotonic()
        held_accounts = sorted({account for _, account, _, _ in held})
        before = {key: cluster.kept(key) for key in held_accounts}  # the dead node checks in nothing any more
        _until_done(cluster, [job for job, *_ in held], 300.0)
        takeover = time.monotonic() - killed_at
        log(f"  {victim.name} killed {kill_seconds:,.1f} s into the cycle holding {len(held)} runs "
            f"({', '.join(held_accounts)}); all completed elsewhere {takeover:,.1f} s later")
        cluster.drain(600, watch=nodes)
        statuses = cluster.finished([job for job, *_ in held])
        gone = {kind: 0 for kind in ("links", "mappings", "decisions", "runs", "events")}
        for key in held_accounts:
            for kind, n in lost(before[key], cluster.kept(key)).items():
                gone[kind] += n
        survivors = [node for node in nodes if node is not victim]
        peaks = {node.name: node.memory_mb() for node in nodes}
        for node in survivors:
            cluster.stop(node)

        overlaps = not_ok = 0
        runs_seen = 0
        for key in [*keys, FIRST_ACCOUNT]:
            runs = [r for r in cluster.runs(key) if r["trigger"] == "schedule"]
            runs_seen += len(runs)
            overlaps += overlapping(runs)
            if key != FIRST_ACCOUNT:
                not_ok += sum(1 for r in runs if r["outcome"] != "ok")
        with cluster.checked_in(FIRST_ACCOUNT) as store:  # the demo's customer whose details contradict: held back
            held_back = {row["number"] for row in store.rows("SELECT number FROM bookings WHERE state = 'blocked'")}
        served_world = cluster.served.stopped_world()
        found = duplicates(served_world)
        administration = next(link.administration_id for link in demo_setup().links if link.identity_id == busy)
        missing = booked_once_with_one_pdf(served_world, administration, set(new) - held_back)
    finally:
        cluster.close()

    cycle_runs = sum(len(job.identity_ids) for job in cycle)
    expected_runs = 3 * cycle_runs + sum(len(job.identity_ids) for job in demo_jobs)
    peak = max(peaks.values())
    n = f"{len(keys)} accounts × {len(identities)} identities × {args.invoices_per_identity} invoices"
    return [
        (f"unchanged cycle, {n} over {args.nodes} nodes ({args.concurrency} runs at a time per node)",
         f"{seconds:,.1f} s ({cycle_runs:,} runs in {len(cycle):,} jobs)", f"≤ {TARGET['cycle_seconds']} s",
         seconds <= TARGET["cycle_seconds"]),
        ("  the warm-up cycle before it (each node's first copy of the files it runs)", f"{warm:,.1f} s", "", None),
        ("  CPU seconds used during the unchanged cycle, by process",
         ", ".join(f"{name} {used:,.1f}" for name, used in cpu.items()), "", None),
        ("the queue's own cost per job (deferred → started, idle workers), median",
         f"{statistics.median(queue_ms):.1f} ms (of {len(queue_ms)}; {min(queue_ms):.1f}–{max(queue_ms):.1f})",
         f"≤ {TARGET['queue_ms']} ms", statistics.median(queue_ms) <= TARGET["queue_ms"]),
        ("a node SIGKILLed mid-cycle, its folder deleted: until every run it held completed elsewhere",
         f"{takeover:,.1f} s ({len(held)} runs; {', '.join(sorted(set(statuses.values())))})",
         f"≤ {TARGET['takeover_seconds']} s",
         takeover <= TARGET["takeover_seconds"] and set(statuses.values()) == {"succeeded"}),
        ("after that: duplicate bookings / PDFs / Gripp payments", str(found), "0 / 0 / 0",
         (found.bookings, found.documents, found.payments) == (0, 0, 0)),
        (f"  the {len(new)} new invoices not booked exactly once with one PDF (less {len(held_back & set(new))} "
         "held back: a customer whose details contradict)", str(len(missing)), "0", not missing),
        ("runs of one account overlapping on two nodes (from the runs' start and end times)",
         f"{overlaps} ({runs_seen:,} runs read, {expected_runs:,} deferred)", "0",
         overlaps == 0 and runs_seen == expected_runs),
        ("links, mappings, decisions, runs and events of the dead node's accounts lost",
         " / ".join(str(v) for v in gone.values()), "0", not any(gone.values())),
        ("peak memory per node during the cycles (VmHWM)",
         f"{peak:,.0f} MB (" + ", ".join(f"{k} {v:,.0f}" for k, v in peaks.items()) + ")",
         f"< {TARGET['peak_memory_mb']:,} MB", peak < TARGET["peak_memory_mb"]),
        ("  runs of the benchmark's accounts that did not end ok", str(not_ok), "", None),
    ]


def _cpu(cluster: Cluster, nodes: list[Node]) -> dict[str, float]:
    from tests.cluster import cpu_seconds, postgres_cpu_seconds

    found = {node.name: node.cpu_seconds() for node in nodes}
    found["serve"] = cpu_seconds(cluster.served.process.pid)
    found["postgres"] = postgres_cpu_seconds()
    return found


def _accounts(cluster: Cluster, template: WorldAccount, count: int, log: Callable[[str], None]) -> list[str]:
    """The template account registered and synced for real (first run, then an unchanged one), then its
    checked-in file copied for `count - 1` more accounts, with its catalog rows; the accounts' keys."""
    from sync.jobs.runner import run_all
    from sync.store import setup as setup_repo
    from sync.store.health import summarise

    t0 = time.perf_counter()
    cluster.register(template)
    deployment = cluster.deployment()
    with deployment.holding(template.key) as services:
        for _ in range(2):
            services.gripp_freshness.forget()
            results = run_all(services, trigger="cli")
            if any(r.outcome != "ok" for r in results):
                raise RuntimeError(f"the template did not sync cleanly: {[r.words('en') for r in results]}")
        links = setup_repo.known_links(services.store)
        health = summarise(services.store, template.key)
        booked = services.store.scalar("SELECT count(*) FROM bookings WHERE state = 'done'")
    log(f"  one account synced for real ({booked:,} invoices booked with their PDFs) in "
        f"{time.perf_counter() - t0:,.0f} s; its file copied for {count - 1} more")
    original = deployment.account(template.key)
    keys = [template.key] + [f"acct-{n:03d}" for n in range(1, count)]
    catalog = deployment.catalog
    for key in keys[1:]:
        catalog.add(replace(original, key=key, name=f"Account {key}", db_path=deployment.settings.accounts_dir /
                            f"{key}.duckdb", created_at=None), actor="bench")
        catalog.know_links(key, links)
    catalog.put_health_rows([replace(health, account_key=key) for key in keys[1:]])
    with cluster.connect() as connection:
        connection.execute(
            "INSERT INTO account_files (key, version, data, size, checked_in_at, checked_in_by) SELECT k, 1, data, "
            "size, checked_in_at, 'bench' FROM account_files, unnest(%s::text[]) AS k WHERE key = %s",
            [keys[1:], template.key])
    return keys


def _cycle(cluster: Cluster, jobs: list[Any], nodes: list[Node]) -> float:
    started = time.monotonic()
    deferred = cluster.defer(jobs)
    if len(deferred) != len(jobs):
        raise RuntimeError(f"{len(jobs) - len(deferred)} runs were waiting already")
    cluster.drain(600, every=0.05, watch=nodes)
    return time.monotonic() - started


def _queue_cost(cluster: Cluster, keys: list[str], identities: list[int]) -> list[float]:
    """Jobs deferred one at a time, each once the last has ended (every slot idle): deferred → started."""
    from sync.store.run_plan import SyncJob

    ids = []
    for n in range(QUEUE_SAMPLES):
        [job] = cluster.defer([SyncJob(keys[n % len(keys)], (identities[n % len(identities)],), "manual", "bench")])
        ids.append(job)
        _until_done(cluster, [job], 60.0, every=0.01)
    at: dict[tuple[int, str], Any] = {(job, kind): when for job, kind, when in cluster.events(ids)}
    return [(at[(job, "started")] - at[(job, "deferred")]).total_seconds() * 1000 for job in ids]


def _kill_mid_run(cluster: Cluster, account: str, nodes: list[Node]) -> tuple[Node, list[tuple], float]:
    """Once `account`'s run has gone on for two seconds, SIGKILL its node and delete its folder: the node, the sync
    jobs it held (job, account, identity, worker) and when, in seconds after the cycle was deferred."""
    started = time.monotonic()
    deadline = started + 120
    since: float | None = None
    while time.monotonic() < deadline:
        for node in nodes:
            node.memory_mb()
        doing = [row for row in cluster.doing() if row[1] == account]
        if doing and since is None:
            since = time.monotonic()
        if doing and since is not None and time.monotonic() - since >= 2.0:
            victim = cluster.node_of_worker(doing[0][3])
            if victim is None:
                raise RuntimeError(f"no node has worker {doing[0][3]}")
            cluster.kill(victim)
            held = [row for row in cluster.doing() if row[3] == victim.worker_id]
            return victim, held, time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"{account}'s run did not start, or ended before it could be cut short")


def _until_done(cluster: Cluster, job_ids: list[int], timeout: float, *, every: float = 0.1) -> float:
    started = time.monotonic()
    while True:
        statuses = cluster.finished(job_ids)
        if all(status not in ("todo", "doing") for status in statuses.values()):
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"jobs not done in {timeout:.0f} s: {statuses}")
        time.sleep(every)
