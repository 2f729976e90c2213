"""The background schedule: one APScheduler for the process, one job per linked identity across every account, and
at most `max_concurrent_runs` syncs at once, taken in turn across accounts (`sync.jobs.fair_queue`).

One `SyncScheduler` per process (the console server creates it in its lifespan; "jobs run twice" nearly always
means two schedulers were started). A job's id carries its account. When a job fires it only queues its identity;
the fair queue starts it when a slot is free, so one account with many identities never starves another. A
scheduled run and a manual one for the same identity never overlap: the runner's lock refuses the second, and a
refused scheduled run is simply skipped (`AlreadyRunning`). Pausing is stored on the link, so it survives a
restart. A failed automatic run raises an alert (in the runner); a run that crashes outside the runner is logged
and alerted here. Pacing stays where it was: Gripp's per account (each account has its own client), SnelStart's
per administration.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.auth.access import Actor, authorize
from sync.core.clock import on_clock
from sync.core.dates import AMSTERDAM
from sync.core.events import AlertKind, EventKind, Trigger
from sync.jobs.fair_queue import FairRunner
from sync.jobs.locks import AlreadyRunning
from sync.jobs.runner import run_identity
from sync.jobs.services import Accounts, Services
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.catalog import DEFAULT_ACCOUNT
from sync.store.setup import Link, LinkHealth

log = logging.getLogger(__name__)

JOB_PREFIX = "sync-"
MISFIRE_GRACE_SECONDS = 300
ACTOR = "scheduler"

TriggerFactory = Callable[[Link], BaseTrigger]


def job_id(identity_id: int, account: str = DEFAULT_ACCOUNT) -> str:
    return f"{JOB_PREFIX}{account}:{identity_id}"


def _parse(job: str) -> tuple[str, int] | None:
    if not job.startswith(JOB_PREFIX) or ":" not in job:
        return None
    account, _, identity = job[len(JOB_PREFIX):].rpartition(":")
    return (account, int(identity)) if identity.isdigit() else None


def interval_trigger(link: Link) -> BaseTrigger:
    return IntervalTrigger(minutes=max(1, int(link.interval_minutes)), timezone=AMSTERDAM)


class OneAccount:
    """A single account's services, seen as the accounts a scheduler runs (tools and tests that build one
    `Services`); it keeps no health rows."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self.settings = services.settings
        self.next_run_of: Callable[[str], datetime | None] = lambda key: None

    def keys(self) -> list[str]:
        return [self._services.account]

    def services(self, key: str) -> Services:
        return self._services

    def record_health(self, services: Services) -> None:
        return None


class ScheduleControls:
    """What a person does to the schedule (pause, resume, change the interval), the same whichever runs it: the
    link records it, the event log says who, and `reload` makes the runner follow."""

    _accounts: Accounts

    @property
    def services(self) -> Services:
        """The only account's services (single-account callers)."""
        return self._accounts.services(self._default())

    def _default(self, account: str | None = None) -> str:
        if account is not None:
            return account
        keys = self._accounts.keys()
        if len(keys) == 1:
            return keys[0]
        if self._accounts.settings.default_account in keys:  # SYNC_ACCOUNT
            return str(self._accounts.settings.default_account)
        raise LookupError(f"name the account: there are {len(keys)}")

    def for_account(self, account: str) -> AccountSchedule:
        return AccountSchedule(self, account)

    def reload(self, account: str | None = None) -> None:
        raise NotImplementedError

    def jobs(self, account: str | None = None) -> list[str]:
        raise NotImplementedError

    def next_run(self, identity_id: int, account: str | None = None) -> datetime | None:
        raise NotImplementedError

    def pause(self, identity_id: int, actor: Actor | str = "console", account: str | None = None) -> None:
        actor = authorize(actor, "schedule")
        services = self._accounts.services(self._default(account))
        setup_repo.set_link_schedule(services.store, identity_id, paused=True)
        self._note(services, identity_id, EventKind.SCHEDULE_PAUSED, {}, actor)
        self.reload(services.account)

    def resume(self, identity_id: int, actor: Actor | str = "console", account: str | None = None) -> None:
        actor = authorize(actor, "schedule")
        services = self._accounts.services(self._default(account))
        setup_repo.set_link_schedule(services.store, identity_id, paused=False)
        self._note(services, identity_id, EventKind.SCHEDULE_RESUMED, {}, actor)
        self.reload(services.account)

    def set_interval(self, identity_id: int, minutes: int, actor: Actor | str = "console",
                     account: str | None = None) -> None:
        actor = authorize(actor, "schedule")
        if minutes < 1:
            raise ValueError("The interval is at least one minute.")
        services = self._accounts.services(self._default(account))
        setup_repo.set_link_schedule(services.store, identity_id, interval_minutes=int(minutes))
        self._note(services, identity_id, EventKind.SCHEDULE_INTERVAL, {"minutes": minutes}, actor)
        self.reload(services.account)

    def _note(self, services: Services, identity_id: int, kind: EventKind, data: dict, actor: str) -> None:
        history.log_event(services.store, kind, data=data, identity_id=identity_id, actor=actor)


def run_due(services: Services, identity_id: int, *, trigger: Trigger = Trigger.SCHEDULE,
            actor: Actor | str = ACTOR) -> None:
    """A run the schedule (or a queued request) asked for, now, on this thread. A scheduled one is skipped when the
    link is paused, gone or refused, or a run of the identity is going already."""
    link = setup_repo.get_link(services.store, identity_id)
    if link is None or (trigger == Trigger.SCHEDULE and link.paused):
        return
    if trigger == Trigger.SCHEDULE and link.health == LinkHealth.BROKEN:
        # SnelStart refused the koppelsleutel: every run would fail the same way and alert again. The sync stays
        # stopped (as the reason's fix says) until a new key, a check or a manual sync finds the link working.
        log.info("Scheduled sync of %s/%s skipped: SnelStart refused its koppelsleutel.", services.account,
                 identity_id)
        return
    try:
        run_identity(services, identity_id, trigger=trigger, actor=actor)
    except AlreadyRunning:
        log.info("Sync of %s/%s skipped: one is already running.", services.account, identity_id)


def crashed(accounts: Accounts, account: str, identity_id: int, exc: BaseException) -> None:
    """A run that crashed outside the runner: logged, in the account's event log and alerted."""
    log.error("Sync of %s/%s crashed", account, identity_id, exc_info=exc)
    try:
        store = accounts.services(account).store
        name = setup_repo.identity_name(store, identity_id)
        what = f"{type(exc).__name__}: {exc}"
        history.log_event(store, EventKind.SCHEDULE_FAILED, identity_id=identity_id, data={"error": what},
                          actor=ACTOR)
        history.raise_alert(store, identity_id, None, AlertKind.AUTO_SYNC_FAILED, {"name": name, "reason": what})
    except Exception:  # the alert must never take the scheduler down
        log.exception("Could not record the crashed run %s/%s", account, identity_id)


class SyncScheduler(ScheduleControls):
    def __init__(self, accounts: Accounts, *, trigger_for: TriggerFactory = interval_trigger,
                 scheduler: BackgroundScheduler | None = None, max_concurrent: int | None = None,
                 runner: FairRunner | None = None) -> None:
        self._accounts = accounts
        self.trigger_for = trigger_for
        self._scheduler = scheduler or BackgroundScheduler(
            timezone=AMSTERDAM,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self._scheduler.add_listener(self._on_job_event, EVENT_JOB_MISSED)
        self._lock = threading.RLock()
        self._intervals: dict[tuple[str, int], int] = {}  # (account, identity) -> the interval of its job
        cap = max_concurrent or self._accounts.settings.max_concurrent_runs
        self.runner = runner or FairRunner(cap, self._run_queued)
        self._accounts.next_run_of = self.next_run_of_account

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if not self._scheduler.running:
                self._scheduler.start()
        self.reload()

    def shutdown(self, wait: bool = True) -> None:
        """Stop; with `wait`, a running sync finishes first (it is never cut off halfway)."""
        with self._lock:
            if self._scheduler.running:
                self._scheduler.shutdown(wait=wait)
        self.runner.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    # -- jobs -------------------------------------------------------------------------------------------
    def reload(self, account: str | None = None) -> None:
        """Make the jobs match the links: one per linked identity of every account (or of `account`), paused
        where the link is paused. A job whose interval did not change keeps its next run time."""
        present = set(self._accounts.keys())
        keys = [account] if account is not None else sorted(present)
        for key in keys:
            if key in present:
                self._reload_account(key)
        if account is None or account not in present:  # accounts that are gone lose their jobs
            with self._lock:
                for job in self._scheduler.get_jobs():
                    parsed = _parse(job.id)
                    if parsed is not None and parsed[0] not in present:
                        job.remove()
                        self._intervals.pop(parsed, None)

    def _reload_account(self, key: str) -> None:
        services = self._accounts.services(key)
        links = {link.identity_id: link for link in setup_repo.links(services.store)}
        with self._lock:
            for job in self._scheduler.get_jobs():
                parsed = _parse(job.id)
                if parsed is not None and parsed[0] == key and parsed[1] not in links:
                    job.remove()
                    self._intervals.pop(parsed, None)
            for identity_id, link in links.items():
                job = self._scheduler.get_job(job_id(identity_id, key))
                if job is None or self._intervals.get((key, identity_id)) != link.interval_minutes:
                    job = self._scheduler.add_job(
                        self._due, trigger=self.trigger_for(link), args=[key, identity_id],
                        id=job_id(identity_id, key), name=f"sync {key} identity {identity_id}",
                        replace_existing=True, max_instances=1, coalesce=True,
                        misfire_grace_time=MISFIRE_GRACE_SECONDS,
                    )
                    self._intervals[(key, identity_id)] = link.interval_minutes
                if link.paused and job.next_run_time is not None:
                    job.pause()
                elif not link.paused and job.next_run_time is None:
                    job.resume()
        self._accounts.record_health(services)  # its schedule and next run, for the support overview

    def every(self, job: str, seconds: int, func: Callable[[], object]) -> None:
        """A job of the process's own that runs every `seconds` (delivering notifications): one at a time, a late
        one dropped, never queued behind the syncs (it is no sync: `jobs()` does not list it)."""
        with self._lock:
            self._scheduler.add_job(func, trigger=IntervalTrigger(seconds=seconds), id=job, name=job,
                                    replace_existing=True, max_instances=1, coalesce=True, misfire_grace_time=seconds)

    def jobs(self, account: str | None = None) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs()
                if (parsed := _parse(job.id)) is not None and (account is None or parsed[0] == account)]

    def next_run(self, identity_id: int, account: str | None = None) -> datetime | None:
        """When the identity's next automatic sync starts; None when paused, not linked or its key was refused."""
        key = self._default(account)
        job = self._scheduler.get_job(job_id(identity_id, key))
        if job is None or identity_id in self._refused(key) or job.next_run_time is None:
            return None
        return self._on_clock(key, job.next_run_time)

    def next_run_of_account(self, account: str) -> datetime | None:
        refused = self._refused(account)
        times = [job.next_run_time for job in self._scheduler.get_jobs()
                 if (parsed := _parse(job.id)) is not None and parsed[0] == account and parsed[1] not in refused
                 and job.next_run_time is not None]
        return self._on_clock(account, min(times)) if times else None

    def _on_clock(self, account: str, planned: datetime) -> datetime:
        """APScheduler plans on the system clock; the pages and the health rows read the account's (the sandbox
        keeps its own calendar), so a next run is said on that."""
        try:
            return on_clock(self._accounts.services(account).clock, planned)
        except LookupError:
            return planned

    def _refused(self, account: str) -> set[int]:
        """The identities whose koppelsleutel SnelStart refused: their job stays, but `run_job` skips it until the
        link works again, so no next run is promised for them."""
        try:
            store = self._accounts.services(account).store
        except LookupError:
            return set()
        return {link.identity_id for link in setup_repo.links(store) if link.health == LinkHealth.BROKEN}

    # -- the job ----------------------------------------------------------------------------------------
    def _due(self, account: str, identity_id: int) -> None:
        """APScheduler's job: queue the run; the fair queue starts it when a slot is free."""
        if not self.runner.submit(account, identity_id):
            log.info("Scheduled sync of %s/%s coalesced: it is already waiting or running.", account, identity_id)

    def _run_queued(self, account: str, identity_id: int) -> None:
        try:
            self.run_job(identity_id, account)
        except Exception as exc:  # a crash outside the runner: logged and alerted, the scheduler goes on
            crashed(self._accounts, account, identity_id, exc)

    def run_job(self, identity_id: int, account: str | None = None) -> None:
        """One scheduled run, now, on this thread (skipped when paused, unlinked, refused or already running)."""
        key = self._default(account)
        try:
            services = self._accounts.services(key)
        except LookupError:
            return  # the account was removed since the job fired
        run_due(services, identity_id)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        parsed = _parse(event.job_id)
        if parsed is None:
            return
        account, identity_id = parsed
        try:
            store = self._accounts.services(account).store
            history.log_event(store, EventKind.SCHEDULE_MISSED, identity_id=identity_id, actor=ACTOR)
        except Exception:  # the listener must never take the scheduler down
            log.exception("Could not record the missed job %s", event.job_id)


class AccountSchedule:
    """The schedule as one account's pages see it: the same calls, bound to that account."""

    def __init__(self, scheduler: ScheduleControls, account: str) -> None:
        self._scheduler, self.account = scheduler, account

    def next_run(self, identity_id: int) -> datetime | None:
        return self._scheduler.next_run(identity_id, self.account)

    def pause(self, identity_id: int, actor: Actor | str = "console") -> None:
        self._scheduler.pause(identity_id, actor, self.account)

    def resume(self, identity_id: int, actor: Actor | str = "console") -> None:
        self._scheduler.resume(identity_id, actor, self.account)

    def set_interval(self, identity_id: int, minutes: int, actor: Actor | str = "console") -> None:
        self._scheduler.set_interval(identity_id, minutes, actor, self.account)

    def reload(self) -> None:
        self._scheduler.reload(self.account)

    def jobs(self) -> list[str]:
        return self._scheduler.jobs(self.account)
