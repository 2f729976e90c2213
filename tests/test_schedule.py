"""The background schedule: one job per linked identity, pause/resume kept on the link, the next run time, and
an alert when an automatic run fails. Triggers are replaced by near-immediate ones; nothing sleeps for long."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from apscheduler.triggers.date import DateTrigger

from sync.core.dates import AMSTERDAM
from sync.core.events import render, render_alert
from sync.jobs import schedule as schedule_module
from sync.jobs.locks import exclusive
from sync.jobs.schedule import OneAccount, SyncScheduler, job_id
from sync.sandbox.seed import ADMIN_STUDIO, koppelsleutel_for
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.setup import LinkHealth
from sync.wiring import Services


@pytest.fixture
def scheduler(services: Services) -> Iterator[SyncScheduler]:
    made = SyncScheduler(OneAccount(services))
    made.start()
    try:
        yield made
    finally:
        made.shutdown()


def soon(link: setup_repo.Link) -> DateTrigger:
    return DateTrigger(run_date=datetime.now(AMSTERDAM) + timedelta(milliseconds=100), timezone=AMSTERDAM)


def wait_until(condition: Callable[[], object], seconds: float = 20.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_one_job_per_linked_identity_at_its_interval(services: Services, scheduler: SyncScheduler) -> None:
    linked = [link.identity_id for link in setup_repo.links(services.store)]
    assert linked == [1, 2]
    assert sorted(scheduler.jobs()) == [job_id(1), job_id(2)]
    for identity_id in linked:
        next_run = scheduler.next_run(identity_id)
        assert next_run is not None
        assert timedelta(minutes=19) < next_run - datetime.now(AMSTERDAM) <= timedelta(minutes=20)
    assert scheduler.next_run(3) is None  # not linked: no job


def test_reload_keeps_the_next_run_and_follows_links(services: Services, scheduler: SyncScheduler) -> None:
    before = scheduler.next_run(1)
    scheduler.reload()
    scheduler.reload()
    assert scheduler.next_run(1) == before  # reloading does not keep pushing the next run away
    assert sorted(scheduler.jobs()) == [job_id(1), job_id(2)]  # still one job each

    setup_repo.delete_link(services.store, 2)
    scheduler.reload()
    assert scheduler.jobs() == [job_id(1)]


def test_interval_change_reschedules(services: Services, scheduler: SyncScheduler) -> None:
    scheduler.set_interval(1, 5, actor="tester")
    assert setup_repo.get_link(services.store, 1).interval_minutes == 5
    assert scheduler.next_run(1) - datetime.now(AMSTERDAM) <= timedelta(minutes=5)
    with pytest.raises(ValueError):
        scheduler.set_interval(1, 0)


def test_pause_and_resume_are_kept_on_the_link(services: Services, scheduler: SyncScheduler) -> None:
    scheduler.pause(1, actor="tester")
    assert scheduler.next_run(1) is None
    assert setup_repo.get_link(services.store, 1).paused is True
    assert scheduler.next_run(2) is not None

    # A restart (a new scheduler on the same database) keeps the pause.
    scheduler.shutdown()
    again = SyncScheduler(OneAccount(services))
    again.start()
    try:
        assert again.next_run(1) is None
        again.resume(1, actor="tester")
        assert again.next_run(1) is not None
        assert setup_repo.get_link(services.store, 1).paused is False
    finally:
        again.shutdown()
    kinds = [e["kind"] for e in history.events(services.store, identity_id=1)]
    assert {"schedule_paused", "schedule_resumed"} <= set(kinds)  # both in the audit log


def test_a_scheduled_run_syncs_with_the_schedule_trigger(services: Services) -> None:
    made = SyncScheduler(OneAccount(services), trigger_for=soon)
    made.start()
    try:
        run = wait_until(lambda: next((r for r in history.recent_runs(services.store, 2)
                                       if r["outcome"] != "running"), None), seconds=60)
    finally:
        made.shutdown()
    assert run["trigger"] == "schedule"
    assert run["actor"] == "scheduler"
    assert run["outcome"] in ("ok", "warnings")


def test_a_failed_automatic_run_raises_an_alert(services: Services) -> None:
    services.sandbox.snelstart.revoke_key(koppelsleutel_for(ADMIN_STUDIO))  # the customer revoked the key
    made = SyncScheduler(OneAccount(services), trigger_for=soon)
    made.start()
    try:
        alerts = wait_until(lambda: history.open_alerts(services.store, 1), seconds=60)
    finally:
        made.shutdown()
    assert "Studio Noord" in render_alert(alerts[0], "nl")
    assert history.recent_runs(services.store, 1)[0]["outcome"] == "failed"
    assert setup_repo.get_link(services.store, 1).health == "broken"


def test_a_job_that_crashes_outside_the_runner_is_logged_and_alerted(services: Services,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(schedule_module, "run_identity", explode)
    made = SyncScheduler(OneAccount(services), trigger_for=soon)
    made.start()
    try:
        alerts = wait_until(lambda: history.open_alerts(services.store, 1), seconds=10)
    finally:
        made.shutdown()
    assert "disk full" in render_alert(alerts[0], "en")
    errors = history.events(services.store, identity_id=1, level="error")
    assert any("disk full" in render(e, "en") for e in errors)


def test_a_scheduled_run_is_skipped_while_a_manual_one_runs(services: Services) -> None:
    made = SyncScheduler(OneAccount(services))
    with exclusive(services.lock_key(1)):  # a manual sync holds the identity
        made.run_job(1)  # must neither wait nor fail
    assert history.recent_runs(services.store, 1) == []
    assert history.open_alerts(services.store) == []


def test_a_paused_identity_is_not_run_even_when_its_job_fires(services: Services) -> None:
    setup_repo.set_link_schedule(services.store, 1, paused=True)
    SyncScheduler(OneAccount(services)).run_job(1)
    assert history.recent_runs(services.store, 1) == []


def test_a_refused_key_stops_the_automatic_sync_with_one_alert_until_the_link_works_again(services: Services) -> None:
    # A new-user trial saw a revoked link run every interval, each time with another identical alert, while the
    # reason's fix said "this identity's sync is stopped until then".
    services.sandbox.snelstart.revoke_key(koppelsleutel_for(ADMIN_STUDIO))
    made = SyncScheduler(OneAccount(services))
    made.run_job(1)
    assert history.recent_runs(services.store, 1)[0]["outcome"] == "failed"
    assert len(history.open_alerts(services.store, 1)) == 1
    assert setup_repo.get_link(services.store, 1).health == "broken"
    made.run_job(1)
    made.run_job(1)
    assert len(history.recent_runs(services.store, 1)) == 1  # stopped: no second call with a refused key
    assert len(history.open_alerts(services.store, 1)) == 1
    setup_repo.set_link_health(services.store, 1, LinkHealth.OK)  # a check or a new key found it working
    made.run_job(1)
    assert len(history.recent_runs(services.store, 1)) == 2  # runs again (and fails again: still revoked) …
    assert len(history.open_alerts(services.store, 1)) == 1  # … and the alert nobody has seen yet is the same one


def test_no_next_run_is_promised_while_snelstart_refuses_the_key(services: Services, scheduler: SyncScheduler) -> None:
    assert scheduler.next_run(1) is not None
    setup_repo.set_link_health(services.store, 1, LinkHealth.BROKEN)
    assert scheduler.next_run(1) is None and scheduler.next_run(2) is not None
    assert scheduler.next_run_of_account(services.account) == scheduler.next_run(2)
    setup_repo.set_link_health(services.store, 1, LinkHealth.OK)
    assert scheduler.next_run(1) is not None


def test_shutdown_stops_the_scheduler(services: Services) -> None:
    made = SyncScheduler(OneAccount(services))
    made.start()
    assert made.running
    made.shutdown()
    assert not made.running
    made.shutdown()  # twice is harmless
