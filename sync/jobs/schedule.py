"""The background schedule: one APScheduler job per linked identity, at that identity's interval.

One `SyncScheduler` per process (the console server creates it in its lifespan; "jobs run twice" nearly always
means two schedulers were started). A scheduled run and a manual one for the same identity never overlap: the
runner's lock refuses the second, and a refused scheduled run is simply skipped (`AlreadyRunning`). Pausing is
stored on the link, so it survives a restart. A failed automatic run raises an alert (in the runner); a job that
crashes outside the runner is logged and alerted here, from the scheduler's error listener.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync.auth.access import Actor, authorize
from sync.core.dates import AMSTERDAM
from sync.jobs.locks import AlreadyRunning
from sync.jobs.runner import run_identity
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.setup import Link
from sync.wiring import Services

log = logging.getLogger(__name__)

JOB_PREFIX = "sync-"
MISFIRE_GRACE_SECONDS = 300
ACTOR = "scheduler"

TriggerFactory = Callable[[Link], BaseTrigger]


def job_id(identity_id: int) -> str:
    return f"{JOB_PREFIX}{identity_id}"


def interval_trigger(link: Link) -> BaseTrigger:
    return IntervalTrigger(minutes=max(1, int(link.interval_minutes)), timezone=AMSTERDAM)


class SyncScheduler:
    def __init__(self, services: Services, *, trigger_for: TriggerFactory = interval_trigger,
                 scheduler: BackgroundScheduler | None = None) -> None:
        self.services = services
        self.trigger_for = trigger_for
        self._scheduler = scheduler or BackgroundScheduler(
            timezone=AMSTERDAM,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        )
        self._scheduler.add_listener(self._on_job_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)
        self._lock = threading.Lock()
        self._intervals: dict[int, int] = {}  # identity -> the interval its job was scheduled with

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

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    # -- jobs -------------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Make the jobs match the links: one per linked identity, paused where the link is paused.
        A job whose interval did not change keeps its next run time."""
        links = {link.identity_id: link for link in setup_repo.links(self.services.store)}
        with self._lock:
            for job in self._scheduler.get_jobs():
                if job.id.startswith(JOB_PREFIX) and int(job.id[len(JOB_PREFIX):]) not in links:
                    job.remove()
                    self._intervals.pop(int(job.id[len(JOB_PREFIX):]), None)
            for identity_id, link in links.items():
                job = self._scheduler.get_job(job_id(identity_id))
                if job is None or self._intervals.get(identity_id) != link.interval_minutes:
                    job = self._scheduler.add_job(
                        self.run_job, trigger=self.trigger_for(link), args=[identity_id], id=job_id(identity_id),
                        name=f"sync identity {identity_id}", replace_existing=True, max_instances=1, coalesce=True,
                        misfire_grace_time=MISFIRE_GRACE_SECONDS,
                    )
                    self._intervals[identity_id] = link.interval_minutes
                if link.paused and job.next_run_time is not None:
                    job.pause()
                elif not link.paused and job.next_run_time is None:
                    job.resume()

    def jobs(self) -> list[str]:
        return [job.id for job in self._scheduler.get_jobs() if job.id.startswith(JOB_PREFIX)]

    def next_run(self, identity_id: int) -> datetime | None:
        """When the identity's next automatic sync starts; None when paused or not linked."""
        job = self._scheduler.get_job(job_id(identity_id))
        return job.next_run_time if job is not None else None

    def pause(self, identity_id: int, actor: Actor | str = "console") -> None:
        actor = authorize(actor, "schedule")
        setup_repo.set_link_schedule(self.services.store, identity_id, paused=True)
        self._note(identity_id, "schedule_paused", {}, actor)
        self.reload()

    def resume(self, identity_id: int, actor: Actor | str = "console") -> None:
        actor = authorize(actor, "schedule")
        setup_repo.set_link_schedule(self.services.store, identity_id, paused=False)
        self._note(identity_id, "schedule_resumed", {}, actor)
        self.reload()

    def set_interval(self, identity_id: int, minutes: int, actor: Actor | str = "console") -> None:
        actor = authorize(actor, "schedule")
        if minutes < 1:
            raise ValueError("The interval is at least one minute.")
        setup_repo.set_link_schedule(self.services.store, identity_id, interval_minutes=int(minutes))
        self._note(identity_id, "schedule_interval", {"minutes": minutes}, actor)
        self.reload()

    def run_soon(self, identity_id: int, when: datetime | None = None) -> None:
        """Move the identity's next automatic run forward (used by tests and by 'run the schedule now')."""
        job = self._scheduler.get_job(job_id(identity_id))
        if job is not None:
            job.modify(next_run_time=when or datetime.now(AMSTERDAM) + timedelta(milliseconds=50))

    # -- the job ----------------------------------------------------------------------------------------
    def run_job(self, identity_id: int) -> None:
        link = setup_repo.get_link(self.services.store, identity_id)
        if link is None or link.paused:
            return
        try:
            run_identity(self.services, identity_id, trigger="schedule", actor=ACTOR)
        except AlreadyRunning:
            log.info("Scheduled sync of identity %s skipped: one is already running.", identity_id)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        if not event.job_id.startswith(JOB_PREFIX):
            return
        identity_id = int(event.job_id[len(JOB_PREFIX):])
        store = self.services.store
        try:
            if event.code == EVENT_JOB_MISSED:
                history.log_event(store, "schedule_missed", identity_id=identity_id, actor=ACTOR)
                return
            name = setup_repo.identity_name(store, identity_id)
            what = f"{type(event.exception).__name__}: {event.exception}"
            history.log_event(store, "schedule_failed", identity_id=identity_id, data={"error": what}, actor=ACTOR)
            history.raise_alert(store, identity_id, None, "auto_sync_failed", {"name": name, "reason": what})
        except Exception:  # the listener must never take the scheduler down
            log.exception("Could not record the failed job %s", event.job_id)

    def _note(self, identity_id: int, kind: str, data: dict, actor: str) -> None:
        history.log_event(self.services.store, kind, data=data, identity_id=identity_id, actor=actor)
