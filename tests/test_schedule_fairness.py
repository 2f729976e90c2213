"""One scheduler over every account: a global cap on runs at once, and slots taken in turn across accounts, so no
account starves another. Runs are fakes that wait on events; nothing here depends on timing."""

from __future__ import annotations

import threading

from sync.jobs.fair_queue import FairQueue, FairRunner


def test_with_the_cap_full_a_second_accounts_due_run_goes_before_the_first_accounts_next_one() -> None:
    queue = FairQueue(cap=1)
    assert queue.submit(("a", 1))
    assert queue.take() == ("a", 1)  # the one slot is taken
    for job in (("a", 2), ("a", 3), ("b", 1)):  # a's next identities became due before b's
        assert queue.submit(job)
    assert queue.take() is None  # the cap holds
    queue.done(("a", 1))
    assert queue.take() == ("b", 1)  # b has waited without a slot: it goes first
    queue.done(("b", 1))
    assert queue.take() == ("a", 2)
    queue.done(("a", 2))
    assert queue.take() == ("a", 3)


def test_slots_go_round_the_accounts_and_never_above_the_cap() -> None:
    queue = FairQueue(cap=2)
    for account in ("a", "b", "c"):
        for identity in (1, 2, 3):
            queue.submit((account, identity))
    order, peak = [], 0
    while queue.waiting or queue.running:
        job = queue.take()
        while job is not None:
            order.append(job)
            job = queue.take()
        peak = max(peak, len(queue.running))
        for running in sorted(queue.running):
            queue.done(running)
    assert peak == 2
    assert [account for account, _ in order] == ["a", "b", "c"] * 3  # every account gets a turn each round
    assert sorted(order) == [(a, i) for a in "abc" for i in (1, 2, 3)]


def test_a_run_already_waiting_or_running_is_not_queued_twice() -> None:
    queue = FairQueue(cap=1)
    assert queue.submit(("a", 1)) and not queue.submit(("a", 1))
    assert queue.take() == ("a", 1)
    assert not queue.submit(("a", 1))  # running: the due run coalesces
    assert queue.submit(("b", 1))  # the same identity id of another account is another run


def test_the_runner_keeps_the_cap_and_the_turns_with_real_threads() -> None:
    started: list[tuple[str, int]] = []
    release = {job: threading.Event() for job in (("a", 1), ("a", 2), ("a", 3), ("b", 1))}
    began = {job: threading.Event() for job in release}
    lock = threading.Lock()
    at_once = {"now": 0, "peak": 0}

    def run(account: str, identity: int) -> None:
        job = (account, identity)
        with lock:
            started.append(job)
            at_once["now"] += 1
            at_once["peak"] = max(at_once["peak"], at_once["now"])
        began[job].set()
        assert release[job].wait(30)
        with lock:
            at_once["now"] -= 1

    runner = FairRunner(1, run)
    try:
        runner.submit("a", 1)
        assert began[("a", 1)].wait(30)
        runner.submit("a", 2)
        runner.submit("a", 3)
        runner.submit("b", 1)
        assert started == [("a", 1)]  # the cap is full: the others wait
        release[("a", 1)].set()
        assert began[("b", 1)].wait(30)
        assert started == [("a", 1), ("b", 1)]
        release[("b", 1)].set()
        assert began[("a", 2)].wait(30)
        release[("a", 2)].set()
        assert began[("a", 3)].wait(30)
        release[("a", 3)].set()
    finally:
        for event in release.values():
            event.set()
        runner.shutdown()
    assert started == [("a", 1), ("b", 1), ("a", 2), ("a", 3)] and at_once["peak"] == 1


# -- the scheduler over a deployment's accounts ----------------------------------------------------------------
def test_one_scheduler_holds_a_job_per_linked_identity_of_every_account(tmp_path) -> None:
    from datetime import date

    from sync.core.config import SANDBOX_GRIPP_TOKEN, load_settings
    from sync.jobs import accounts
    from sync.jobs.linking import link_with_key
    from sync.jobs.schedule import SyncScheduler, job_id
    from sync.sandbox.seed import ADMIN_STUDIO, FIRST_ACCOUNT, koppelsleutel_for
    from sync.store import history
    from sync.wiring import Deployment

    deployment = Deployment(load_settings({"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"),
                                           "CONSOLE_PUBLIC_URL": "http://console.test"}), sleep=lambda s: None)
    scheduler = SyncScheduler(deployment, max_concurrent=2)
    try:
        accounts.add_account(deployment, "acme", "Acme B.V.", SANDBOX_GRIPP_TOKEN, actor="test")
        acme = deployment.services("acme")
        link_with_key(acme, 1, koppelsleutel_for(ADMIN_STUDIO), start_date=date(2026, 1, 1), actor="test",
                      confirm_shared=True)  # beside Studio Noord's own link, on purpose
        scheduler.start()
        assert scheduler.jobs("acme") == [job_id(1, "acme")]
        assert sorted(scheduler.jobs(FIRST_ACCOUNT)) == [job_id(1, FIRST_ACCOUNT), job_id(2, FIRST_ACCOUNT)]
        assert scheduler.jobs("hofstra-installatie") and not scheduler.jobs("kleimeer")  # kleimeer links nothing
        assert scheduler.runner.queue.cap == 2
        health = {row.key: row.health for row in accounts.overview(deployment, "cli")}
        assert health["acme"].next_run_at == scheduler.next_run(1, "acme")  # the support overview's "next run"
        assert health[FIRST_ACCOUNT].next_run_at is not None

        scheduler.run_job(1, "acme")  # acme's identity 1: only acme's database gets the run
        assert [r["trigger"] for r in history.recent_runs(acme.store, 1)] == ["schedule"]
        assert history.recent_runs(deployment.services(FIRST_ACCOUNT).store, 1) == []

        accounts.remove_account(deployment, "acme", actor="test")
        scheduler.reload("acme")
        assert scheduler.jobs("acme") == [] and len(scheduler.jobs(FIRST_ACCOUNT)) == 2
    finally:
        scheduler.shutdown()
        deployment.close()
