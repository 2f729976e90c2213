"""The distributed mode with real processes: a served sandbox (`python -m sync sandbox serve`), `python -m sync worker`
nodes each with a data folder of its own, one throwaway Postgres. Two workers racing for one account never run it
at once and both get work; a worker SIGKILLed in the middle of a run (its folder deleted, as a machine that is gone)
has its job completed by the other, with every invoice booked once with one PDF and no payment made twice in Gripp.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.sandbox.seed import SANDBOX_TODAY, VAT_21, demo_setup
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import FIRST_ACCOUNT
from sync.store.run_plan import SyncJob
from tests.cluster import (
    Cluster,
    WorldAccount,
    booked_once_with_one_pdf,
    bulk_accounts,
    create_invoices,
    duplicates,
    overlapping,
    serve,
)

pytestmark = pytest.mark.slow  # Postgres, a served sandbox and worker processes: seconds each


@pytest.fixture
def served_world(postgres_url: str) -> Iterator[tuple[Cluster, list[WorldAccount]]]:
    """The small demo beside three plain Gripp customers (2 identities × 10 invoices each), served; the plain ones
    registered as accounts, and the demo's too (`sandbox register`)."""
    world = small_world()
    accounts = bulk_accounts(world, 3, identities=2, invoices=10)
    folder = Path(tempfile.mkdtemp(prefix="nodes-workers-"))
    cluster = Cluster(folder, postgres_url, serve(folder / "served", world))
    try:
        for account in accounts:
            cluster.register(account)
        yield cluster, accounts
    finally:
        cluster.close()
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_racing_for_one_account_never_run_it_at_once(served_world) -> None:
    cluster, accounts = served_world
    raced, *others = [account.key for account in accounts]
    first, second = cluster.start_node(2), cluster.start_node(2)
    identities = {key: cluster.linked(key) for key in [raced, *others]}
    deferred: dict[str, int] = {key: 0 for key in identities}
    job_ids = []
    for _ in range(4):  # a manual run of each identity may wait once at a time: again once the last one started
        batch = [SyncJob(raced, (identity,), "manual", "support") for identity in identities[raced]]
        batch += [SyncJob(key, (identity,), "manual", "support") for key in others for identity in identities[key]]
        made = cluster.defer(batch)
        assert len(made) == len(batch)
        job_ids += made
        for job in batch:
            deferred[job.account] += 1
        deadline = time.monotonic() + 60
        while cluster.counts().get("todo") and time.monotonic() < deadline:
            time.sleep(0.05)
    cluster.drain(120)
    assert set(cluster.finished(job_ids).values()) == {"succeeded"}
    with cluster.connect() as connection:  # before the nodes stop: a stopped worker's row goes, and its jobs' ids
        workers = {(str(r[0]), r[1]) for r in connection.execute(
            "SELECT args->>'account', worker_id FROM procrastinate_jobs WHERE id = ANY(%s)", [job_ids])}
    assert {worker for _, worker in workers} == {first.worker_id, second.worker_id}  # both got work
    for node in (first, second):
        assert cluster.stop(node) == 130  # SIGTERM: the interrupted exit code, after the runs in hand
    for key, count in deferred.items():
        runs = [run for run in cluster.runs(key) if run["trigger"] == "manual"]
        assert len(runs) == count
        assert {run["outcome"] for run in runs} == {"ok"}
        assert overlapping(runs) == 0


def test_a_killed_workers_job_is_completed_by_another_with_nothing_done_twice(served_world) -> None:
    cluster, _ = served_world
    cluster.register_demo()
    identity = min(cluster.linked(FIRST_ACCOUNT))
    ledger = next(row.gripp_id for row in demo_setup().mappings_for(identity, "ledger"))
    new = create_invoices(cluster.served.settings["GRIPP_API_URL"], demo_setup().gripp_api_token, identity, 50,
                          on=SANDBOX_TODAY, vat_id=VAT_21, ledger_id=ledger)
    assert len(new) == 50
    first, second = cluster.start_node(2), cluster.start_node(2)
    [job_id] = cluster.defer([SyncJob(FIRST_ACCOUNT, (identity,), "manual", "support")])
    deadline = time.monotonic() + 30
    while not (doing := [row for row in cluster.doing() if row[0] == job_id]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert doing, "the job never started"
    time.sleep(2)  # well into the run: booking and attaching
    assert cluster.doing() == doing, "the run ended before it could be cut short: give it more work"
    victim = cluster.node_of_worker(doing[0][3])
    assert victim is not None
    survivor = second if victim is first else first
    cluster.kill(victim)  # and its data folder is gone
    killed_at = time.monotonic()
    cluster.drain(90)
    assert time.monotonic() - killed_at < 60  # the rescue (a worker silent 10 s) and the rerun
    assert cluster.finished([job_id]) == {job_id: "succeeded"}
    with cluster.connect() as connection:
        [(worker,)] = connection.execute("SELECT worker_id FROM procrastinate_jobs WHERE id = %s", [job_id])
    assert worker == survivor.worker_id
    assert cluster.stop(survivor) == 130
    [rerun] = [run for run in cluster.runs(FIRST_ACCOUNT) if run["trigger"] == "manual"]
    assert rerun["outcome"] in ("ok", "warnings")
    with cluster.checked_in(FIRST_ACCOUNT) as store:  # the demo's customer whose details contradict: held back
        held = {row["number"] for row in store.rows("SELECT number FROM bookings WHERE state = 'blocked'")}
    world = cluster.served.stopped_world()
    administration = next(link.administration_id for link in demo_setup().links if link.identity_id == identity)
    assert len(held & set(new)) < 10
    assert booked_once_with_one_pdf(world, administration, set(new) - held) == {}
    assert {number: found for number, found in booked_once_with_one_pdf(world, administration, held & set(new)).items()
            if found != (0, 0)} == {}
    assert str(duplicates(world)) == "0 / 0 / 0"
    # payments came back from SnelStart in the run: each once
    assert any(p.extendedproperties for p in world.gripp.payments.values())


def test_a_stopped_worker_finishes_its_run_and_nobody_runs_it_again(served_world) -> None:
    # SIGTERM (a deploy, systemd stopping it): no new job is taken, the run in hand finishes and is checked in, and
    # the worker keeps saying it is alive meanwhile, so no other node takes that job for a dead node's.
    cluster, _ = served_world
    cluster.register_demo()
    identity = min(cluster.linked(FIRST_ACCOUNT))
    ledger = next(row.gripp_id for row in demo_setup().mappings_for(identity, "ledger"))
    create_invoices(cluster.served.settings["GRIPP_API_URL"], demo_setup().gripp_api_token, identity, 200,
                    on=SANDBOX_TODAY, vat_id=VAT_21, ledger_id=ledger)  # a run that outlasts a rescue (13 s)
    for _ in range(2):
        cluster.start_node(2)
    [job_id] = cluster.defer([SyncJob(FIRST_ACCOUNT, (identity,), "manual", "support")])
    deadline = time.monotonic() + 30
    while not (doing := [row for row in cluster.doing() if row[0] == job_id]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert doing, "the job never started"
    stopping = cluster.node_of_worker(doing[0][3])
    assert stopping is not None
    stopping.process.send_signal(signal.SIGTERM)
    assert stopping.process.wait(180) == 130, stopping.log()[-3000:]  # once its run had ended
    assert cluster.finished([job_id]) == {job_id: "succeeded"}, stopping.log()[-3000:]
    with cluster.connect() as connection:
        retried = connection.execute("SELECT count(*) FROM procrastinate_events WHERE job_id = %s AND type = "
                                     "'retried'", [job_id]).fetchone()
    assert retried == (0,)  # the other node never took it
    [run] = [run for run in cluster.runs(FIRST_ACCOUNT) if run["trigger"] == "manual"]
    assert run["outcome"] in ("ok", "warnings")
