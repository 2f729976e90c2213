"""The distributed mode's work: procrastinate (a task queue on Postgres) runs "sync identity I (or identities I, J)
of account A" on whichever node has a free slot.

Every node that works jobs (`python -m sync worker`, and the console unless told not to) runs one procrastinate
worker with `concurrency` slots (SYNC_MAX_CONCURRENT_RUNS: the cap per node; the nodes' caps add up). A job holds
its account's lease while it runs (`Nodes.holding`), so its file is the newest and is checked in after. The plan
(`sync.store.run_plan`) is a periodic task, deferred once a minute by whichever worker's periodic deferrer gets
there first; a job whose worker stopped sending heartbeats (killed, its machine gone) is put back in the queue by
any live worker (`_rescue`), and runs again elsewhere: the outbox and the markers in Gripp and SnelStart make that
rerun book, attach and pay nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import procrastinate
import psycopg
from procrastinate.schema import SchemaManager
from procrastinate.worker import Worker
from psycopg_pool import ConnectionPool

from sync.core.events import Trigger
from sync.jobs.schedule import crashed, run_due
from sync.jobs.services import Accounts, Services
from sync.store import run_plan
from sync.store.account_files import SESSION
from sync.store.catalog import UnknownAccount
from sync.store.run_plan import SYNC_QUEUE, SYNC_TASK, SyncJob

log = logging.getLogger(__name__)

PLAN_TASK, PRUNE_TASK, PLAN_QUEUE = "link:plan_runs", "link:prune_jobs", "plan"
HEARTBEAT_SECONDS = 2.0  # how often a worker says it is alive
STALLED_SECONDS = 10.0  # a worker silent this long is gone: its jobs go back in the queue
RESCUE_SECONDS = 3.0  # how often a worker looks for such jobs
POLL_SECONDS = 0.2  # besides Postgres' LISTEN/NOTIFY, how often an idle worker looks for a job
KEEP_DONE = timedelta(hours=24)  # finished jobs kept this long (the queue's own history)
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # a retry "at" this moment runs at once, whatever the clocks say


class Nodes(Accounts, Protocol):
    """What a worker runs jobs on: `sync.wiring.Deployment`."""

    def holding(self, key: str) -> AbstractContextManager[Services]: ...


class Queue:
    """The deployment's queue on Postgres: defer, plan and work sync jobs."""

    def __init__(self, url: str, *, now: Callable[[], datetime], node: str = "node") -> None:
        self._now, self.node = now, node
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
        # The plan's and the console's statements (a next run per identity on a page): a few pooled sessions.
        self._pool = ConnectionPool(url, min_size=0, max_size=4, kwargs=SESSION, open=True,
                                    check=ConnectionPool.check_connection, name="queue")
        self._nodes: Nodes | None = None
        self.working = 0  # jobs this process runs now (for /healthz)
        self._count = threading.Lock()
        self._register()

    def _register(self) -> None:
        @self.app.task(name=SYNC_TASK, queue=SYNC_QUEUE)
        def sync_identities(account: str, identity_ids: list[int], trigger: str, actor: str) -> None:
            self.run(SyncJob(account, tuple(identity_ids), trigger, actor))

        @self.app.periodic(cron="* * * * *", periodic_id="plan")
        @self.app.task(name=PLAN_TASK, queue=PLAN_QUEUE, queueing_lock="plan")
        def plan_runs(timestamp: int) -> None:
            self.plan()

        @self.app.periodic(cron="17 * * * *", periodic_id="prune")
        @self.app.task(name=PRUNE_TASK, queue=PLAN_QUEUE, queueing_lock="prune")
        def prune_jobs(timestamp: int) -> None:
            self.prune()

    # -- the database ---------------------------------------------------------------------------------
    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._pool.connection() as connection:
            yield connection

    def close(self) -> None:
        self._pool.close()

    def create(self) -> None:
        """procrastinate's tables and the run plan, once for the deployment (the first node to start makes them)."""
        with self._connection() as connection:
            run_plan.create(connection, SchemaManager.get_schema())

    def defer(self, job: SyncJob) -> int | None:
        """Queue a run now; None when that run is waiting already."""
        with self._connection() as connection:
            if job.trigger == Trigger.SCHEDULE:
                return run_plan.defer(connection, job)
            return run_plan.request(connection, job, self._now())

    def plan(self) -> list[SyncJob]:
        with self._connection() as connection:
            return run_plan.plan(connection, self._now())

    def next_runs(self, account: str | None = None) -> dict[tuple[str, int], datetime]:
        with self._connection() as connection:
            return run_plan.next_runs(connection, account)

    def waiting(self, account: str | None = None) -> dict[str, int]:
        with self._connection() as connection:
            return run_plan.waiting(connection, account)

    def prune(self) -> int:
        with self._connection() as connection:
            return run_plan.prune(connection, self._now() - KEEP_DONE)

    # -- the work ---------------------------------------------------------------------------------------
    def run(self, job: SyncJob) -> None:
        """One job, on this thread, holding its account: its identities one after another, the account's health
        written once after them. One that crashes is recorded and alerted; the others still run."""
        nodes = self._nodes
        if nodes is None:
            raise RuntimeError("a queue that works no jobs was given one")
        with self._count:
            self.working += 1
        try:
            crash: Exception | None = None
            with nodes.holding(job.account) as services, services.batched():
                for identity_id in job.identity_ids:
                    try:
                        run_due(services, identity_id, trigger=Trigger(job.trigger), actor=job.actor)
                    except Exception as exc:  # recorded and alerted like the scheduler's; the job ends failed
                        crashed(nodes, job.account, identity_id, exc)
                        crash = exc
            if crash is not None:
                raise crash
        except UnknownAccount:
            log.info("Sync of %s %s dropped: the account was removed.", job.account, job.identity_ids)
        finally:
            with self._count:
                self.working -= 1

    def work(self, nodes: Nodes, *, concurrency: int, stop: threading.Event,
             also: Callable[[], object] | None = None, every: float = 5.0) -> None:
        """Work jobs until `stop` is set, then let the running ones finish. `also` runs every `every` seconds
        beside them (delivering notifications)."""
        self._nodes = nodes
        asyncio.run(self._work(concurrency, stop, also, every))

    async def _work(self, concurrency: int, stop: threading.Event, also: Callable[[], object] | None,
                    every: float) -> None:
        async with self.app.open_async():
            worker = Worker(self.app, queues=[SYNC_QUEUE, PLAN_QUEUE], concurrency=concurrency, name=self.node,
                            wait=True, install_signal_handlers=False, update_heartbeat_interval=HEARTBEAT_SECONDS,
                            stalled_worker_timeout=STALLED_SECONDS, fetch_job_polling_interval=POLL_SECONDS,
                            listen_notify=True)
            running = asyncio.create_task(worker.run())  # type: ignore[no-untyped-call]  # procrastinate: untyped
            side = [asyncio.create_task(self._rescue(stop))]
            if also is not None:
                side.append(asyncio.create_task(self._repeat(also, every, stop)))
            while not stop.is_set() and not running.done():
                await asyncio.sleep(0.2)
            # procrastinate lets the running jobs finish, but stops its heartbeat first: keep saying this worker is
            # alive meanwhile, or another node would take its jobs for a dead node's and run them again
            alive = asyncio.create_task(self._heartbeat(worker))
            worker.stop()  # type: ignore[no-untyped-call]  # procrastinate: untyped; no new job, the running go on
            for task in side:
                task.cancel()
            await asyncio.gather(running, *side, return_exceptions=True)
            while self.working:  # a run's thread may outlive procrastinate's wait: the deployment stays open for it
                await asyncio.sleep(0.2)
            alive.cancel()
            await asyncio.gather(alive, return_exceptions=True)

    async def _heartbeat(self, worker: Worker) -> None:
        while True:
            if worker.worker_id is not None:
                try:
                    await self.app.job_manager.update_heartbeat(worker.worker_id)
                except Exception:  # the next beat tries again
                    log.exception("could not send a heartbeat while stopping")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _rescue(self, stop: threading.Event) -> None:
        """Jobs of a worker that went silent (its node died) back in the queue, to run elsewhere."""
        manager = self.app.job_manager
        while not stop.is_set():
            await asyncio.sleep(RESCUE_SECONDS)
            try:
                for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS):
                    log.warning("Job %s (%s) of a node that stopped is run again.", job.id, job.task_name)
                    # "now" by Postgres' clock, not this node's: a node whose clock runs ahead must not park the job
                    await manager.retry_job(job, retry_at=LONG_AGO)
            except Exception:  # the next round tries again
                log.exception("could not put stalled jobs back")

    async def _repeat(self, func: Callable[[], object], every: float, stop: threading.Event) -> None:
        while not stop.is_set():
            await asyncio.to_thread(func)
            await asyncio.sleep(every)
