"""The distributed mode's queue on a real Postgres: the plan defers a due run once, a person's request is queued
with why, and two nodes' workers (in this process, each its own deployment) run every job, one account at a time."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest

from sync.core.clock import moment
from sync.core.events import Outcome
from sync.jobs.queue import Queue
from sync.sandbox.world import FIRST_ACCOUNT
from sync.store import setup as setup_repo
from sync.store.run_plan import SyncJob


def runs_of(deployment, key: str) -> list[dict]:
    store = deployment.services(key).store
    return store.rows("SELECT identity_id, trigger, outcome, started_at, finished_at FROM runs ORDER BY started_at")


def test_the_plan_defers_a_due_run_once_and_moves_it_on(nodes) -> None:
    first, _ = nodes
    queue = first.queue()
    queue.create()
    assert queue.plan() == []  # new links: their first run one interval from now, as APScheduler's interval did
    planned = queue.next_runs(FIRST_ACCOUNT)
    linked = {link.identity_id for link in setup_repo.links(first.services(FIRST_ACCOUNT).store)}
    assert {identity for _, identity in planned} == linked
    later = moment(first.clock) + timedelta(hours=2)
    ahead = Queue(first.settings.database_url or "", now=lambda: later)
    due = ahead.plan()
    # one job per account, with every identity of it that is due: one lease, one file shipped, one Gripp read
    assert [job.identity_ids for job in due if job.account == FIRST_ACCOUNT] == [tuple(sorted(linked))]
    assert ahead.plan() == []  # moved on by whole intervals: not due again
    assert ahead.waiting(FIRST_ACCOUNT) == {"waiting": len(linked), "running": 0}
    # a person's request for a run that waits already: not queued twice
    assert ahead.defer(SyncJob(FIRST_ACCOUNT, (min(linked),), "manual", "anna")) is None
    assert all(when > later for when in ahead.next_runs(FIRST_ACCOUNT).values())
    ahead.close()


@pytest.mark.slow
def test_two_nodes_work_every_job_and_never_one_account_on_both(nodes) -> None:
    first, second = nodes
    queue = first.queue()
    queue.create()
    keys = first.keys()
    jobs = [SyncJob(key, (link.identity_id,), "manual", "support") for key in keys
            for link in setup_repo.links(first.services(key).store)]
    assert len(jobs) >= 3
    stop = threading.Event()
    workers = [threading.Thread(target=node.queue().work, kwargs={"nodes": node, "concurrency": 2, "stop": stop})
               for node in (first, second)]
    for worker in workers:
        worker.start()
    try:
        for job in jobs:
            assert queue.defer(job) is not None
        deadline = time.monotonic() + 120
        while queue.waiting() != {"waiting": 0, "running": 0} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert queue.waiting() == {"waiting": 0, "running": 0}
    finally:
        stop.set()
        for worker in workers:
            worker.join(60)
    for key in keys:
        runs = [run for run in runs_of(second, key) if run["trigger"] == "manual"]
        assert len(runs) == sum(1 for job in jobs if job.account == key)
        assert all(run["outcome"] != Outcome.RUNNING for run in runs)
        for earlier, later in itertools.pairwise(runs):
            assert earlier["finished_at"] <= later["started_at"]  # one at a time, whichever node ran it


def test_sync_now_in_the_console_queues_each_linked_identity_once(nodes) -> None:
    from console import manual

    first, _ = nodes
    queue = first.queue()
    queue.create()
    services = first.services(FIRST_ACCOUNT)
    linked = sorted(link.identity_id for link in setup_repo.links(services.store))
    run = manual.start(services, manual.ALL, actor="anna", queue=queue)
    assert run.done.is_set() and sorted(run.queued) == linked and run.waiting == []
    again = manual.start(services, manual.ALL, actor="anna", queue=queue)
    assert again.queued == [] and sorted(again.waiting) == linked  # waiting already: not queued twice
    assert queue.waiting(FIRST_ACCOUNT) == {"waiting": len(linked), "running": 0}
