"""A sync run for one identity: refresh → push → payments back → reconcile, recorded as a run with its events.

A manual and a scheduled run for the same identity never overlap (`AlreadyRunning`). A failed *automatic* run
raises an alert that stays until someone acknowledges it. Everything here is reachable from the command line,
the console and the scheduler alike.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sync.auth.access import Actor, authorize
from sync.core.events import AlertKind, EventKind, Outcome, Step, Trigger, run_state, run_summary_message
from sync.core.words import Msg, say
from sync.jobs import after_booking, errors, refresh
from sync.jobs.inputs import invoice_ceiling
from sync.jobs.locks import AlreadyRunning, exclusive
from sync.jobs.payments import PaymentReport, booked_invoices, pull_payments
from sync.jobs.push import Pusher, PushReport
from sync.jobs.reconcile import class_counts
from sync.jobs.services import Services
from sync.store import history as log
from sync.store import outbox
from sync.store import setup as setup_repo
from sync.store.setup import Link, LinkHealth

_log = logging.getLogger(__name__)

REFERENCE_MAX_AGE = timedelta(hours=6)
PROGRESS_EVERY = 1.0  # seconds between writes of a run's progress

STEPS = (Step.GRIPP, Step.SNELSTART, Step.PUSH, Step.PAYMENTS, Step.RECONCILE)  # a run's, in order

Progress = Callable[[Step, float], None]


@dataclass
class RunResult:
    run_id: str
    identity_id: int
    outcome: Outcome  # ok | warnings | failed
    counts: dict[str, Any] = field(default_factory=dict)
    reason: Msg | None = None  # why it failed
    push: PushReport | None = None
    payments: PaymentReport | None = None
    resumes_at: datetime | None = None  # Gripp's quota was spent: the run stopped there, to go on at this time

    @property
    def summary(self) -> Msg:
        """What the run did (or why it failed)."""
        return run_summary_message(self.outcome, self.counts, self.reason)

    def words(self, lang: str) -> str:
        """The summary in the reader's language."""
        return say(self.summary, lang)




def run_identity(services: Services, identity_id: int, *, trigger: Trigger = Trigger.CLI, actor: Actor | str = "system",
                 progress: Progress | None = None, today: date | None = None) -> RunResult:
    """Run one identity's sync. Raises AlreadyRunning when one is going for that identity. (A dry run is not a
    run: `sync.jobs.preview`.)"""
    actor = authorize(actor, "sync")
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise LookupError(f"Identity {identity_id} is not linked to a SnelStart administration.")  # callers check
    with exclusive(services.lock_key(identity_id)):
        try:
            return _run_recorded(services, link, identity_id, trigger, actor, progress, today)
        finally:
            services.ran()


def _run_recorded(services: Services, link: Link, identity_id: int, trigger: Trigger, actor: str,
                  progress: Progress | None, today: date | None) -> RunResult:
    store = services.store
    try:
        with store.transaction():  # one commit for the run's start
            log.close_interrupted_runs(store, identity_id)  # one process owns the file: 'running' is a dead run
            run_id = log.start_run(store, identity_id, trigger, actor=actor)
            if trigger in (Trigger.MANUAL, Trigger.CLI):  # the audit log says who started it: a person, a command
                log.log_event(store, EventKind.MANUAL_SYNC, run_id=run_id, identity_id=identity_id, actor=actor)
    except Exception as exc:
        if errors.kind_of(exc) != errors.STORE:
            raise
        return RunResult("", identity_id, Outcome.FAILED, {}, reason=errors.explain(exc))
    report = progress or (lambda step, fraction: None)

    written_at = [time.monotonic()]

    def step(name: Step, fraction: float) -> None:
        overall = (STEPS.index(name) + fraction) / len(STEPS)
        # Each write is a DuckDB commit (~10 ms): the console's view of a run is kept at most a second behind,
        # and a run shorter than that (an unchanged scheduled one) writes none.
        if time.monotonic() - written_at[0] >= PROGRESS_EVERY:
            log.progress(store, run_id, name, overall)
            written_at[0] = time.monotonic()
        report(name, overall)

    try:
        result = _run(services, link, run_id, step, today or services.today())
    except AlreadyRunning:
        raise
    except Exception as exc:  # the run failed as a whole: record it, alert if nobody was watching
        if errors.kind_of(exc) == errors.LINK:
            broken = errors.link_broken(exc)
            setup_repo.set_link_health(store, identity_id, LinkHealth.BROKEN, broken.message)
            return _failed(services, run_id, identity_id, trigger, actor, broken.message, kind=errors.LINK)
        return _failed(services, run_id, identity_id, trigger, actor, errors.explain(exc), kind=errors.kind_of(exc))
    outcome = Outcome.OK
    if any(result.counts.get(k) for k in ("blocked", "conflicts", "failed", "retry_later", "pdf_pending",
                                          "payments_pending", "payments_held")):
        outcome = Outcome.WARNINGS
    if result.resumes_at is not None:
        outcome = Outcome.WARNINGS  # stopped on purpose, resumes by itself: not a failure, no alert
        result.counts["resumes_at"] = result.resumes_at.isoformat()
        log.log_event(store, EventKind.PAUSED, run_id=run_id, identity_id=identity_id,
                      data={"resumes_at": result.resumes_at.isoformat()})
    # Booked nothing because everything is stuck, with nothing of the identity in SnelStart: failed, stored as such so
    # every reader (exit code, metrics, the watcher, health) judges it alike (sync.core.events.run_state).
    outcome = run_state(outcome, result.counts)
    result.outcome = outcome
    try:
        with store.transaction():  # the run's end and the link's health: one commit
            log.finish_run(store, run_id, outcome, result.counts)
            setup_repo.set_link_health(store, identity_id, LinkHealth.OK)
    except Exception as exc:
        if errors.kind_of(exc) != errors.STORE:
            raise
        return _failed(services, run_id, identity_id, trigger, actor, errors.explain(exc), kind=errors.STORE)
    return result


def _run(services: Services, link: Link, run_id: str, step: Progress, today: date) -> RunResult:
    store = services.store
    counts: dict[str, int] = {}
    step(Step.GRIPP, 0.0)
    paused: BaseException | None = None
    try:
        counts.update(refresh_gripp_once(services))
    except Exception as exc:
        if errors.kind_of(exc) != errors.PAUSED:
            raise
        paused = exc  # Gripp's quota is spent: book from what the cache holds, leave what needs Gripp for later
    # booked invoices Gripp no longer shows as sent (as far as the cache knows): told once, never touched
    after_booking.note_gone(store, link.identity_id, run_id=run_id)
    step(Step.SNELSTART, 0.0)
    client = services.snelstart(link.identity_id, link=link)
    counts["open_items"] = refresh.refresh_open_items(store, client, link.administration_id,
                                                      identity_id=link.identity_id, run_id=run_id)
    pusher = Pusher(store, services.gripp(), client, link, run_id=run_id, workers=client.parallel_calls,
                    max_total=invoice_ceiling(link, services.settings),
                    progress=lambda f: step(Step.PUSH, f), sleep=services.sleep)
    age = refresh.reference_age(store, link.administration_id)
    if age is None or age > REFERENCE_MAX_AGE or pusher.has_pending():
        counts.update(refresh.refresh_reference(store, client, link.administration_id))
    step(Step.PUSH, 0.0)
    push = pusher.run()
    counts.update(push.counts())
    # What stands in SnelStart after this run, booked now or before: a rerun that only finds the same blocked
    # invoices again is as far along as the run before it, not "nothing booked" (sync.core.events.run_state).
    booked_states = push.unchanged_states
    if booked_states is None:
        booked_states = outbox.counts(store, link.identity_id)
    counts["in_snelstart"] = sum(booked_states.get(state, 0) for state in outbox.BOOKED_STATES)
    step(Step.PAYMENTS, 0.0)
    if push.booked or push.adopted:  # new bookings: their open items are not in the cache yet
        counts["open_items"] = refresh.refresh_open_items(store, client, link.administration_id,
                                                      identity_id=link.identity_id, run_id=run_id)
    booked = booked_invoices(store, link)
    # Bank bookings date the payments SnelStart shows beyond what Gripp knows: read them only when there are any.
    if any(facts.paid_differs for facts, _ in booked):
        counts["bank_lines"] = refresh.refresh_bank_lines(store, client, link.administration_id)
    payments = pull_payments(store, services.gripp(), link, run_id=run_id, dry_run=paused is not None,
                             today=today, invoices=booked)
    if paused is not None:  # planned, not sent: they wait for the quota
        payments.pending = len(payments.would_register) + len(payments.would_reverse)
        payments.would_register, payments.would_reverse, payments.paused = [], [], paused
    paused = paused or payments.paused
    counts.update(payments.counts())
    step(Step.RECONCILE, 0.0)
    for name, n in class_counts(store, link.identity_id, link.administration_id, link.start_date, today).items():
        counts[f"class_{name}"] = n
    step(Step.RECONCILE, 1.0)
    return RunResult(run_id, link.identity_id, Outcome.OK, counts, push=push, payments=payments,
                     resumes_at=errors.resume_at(paused) if paused is not None else None)


def refresh_gripp_once(services: Services) -> dict[str, int]:
    """Gripp's invoices into the cache — once for a "sync all", not once per identity."""
    return services.gripp_freshness.read_unless_fresh(
        services.clock, lambda: refresh.refresh_gripp(services.store, services.gripp()))


def _failed(services: Services, run_id: str, identity_id: int, trigger: Trigger, actor: str, reason: Msg, *,
            kind: errors.ErrorKind) -> RunResult:
    store = services.store
    try:
        log.log_event(store, EventKind.RUN_FAILED, run_id=run_id, identity_id=identity_id, actor=actor,
                      data={"kind": kind, "reason": reason})
        log.finish_run(store, run_id, Outcome.FAILED, {}, reason)
        if trigger == Trigger.SCHEDULE:
            name = setup_repo.identity_name(store, identity_id)
            log.raise_alert(store, identity_id, run_id, AlertKind.AUTO_SYNC_FAILED, {"name": name, "reason": reason})
    except Exception as exc:
        if errors.kind_of(exc) != errors.STORE:
            raise
        # The database refuses writes: the run cannot be recorded now. Its row stays 'running' and the next run
        # closes it as interrupted; the caller still gets the reason.
        _log.error("Run %s of identity %s failed and could not be recorded: %s", run_id, identity_id,
                   say(reason, "en"))
    return RunResult(run_id, identity_id, Outcome.FAILED, {}, reason=reason)


def run_all(services: Services, *, trigger: Trigger = Trigger.CLI, actor: Actor | str = "system",
            progress: Callable[[int, Step, float], None] | None = None) -> list[RunResult]:
    """Every linked, unpaused identity; one identity's failure does not stop the others."""
    results = []
    for link in setup_repo.links(services.store):
        if link.paused and trigger == Trigger.SCHEDULE:
            continue
        callback = (lambda step, f, i=link.identity_id: progress(i, step, f)) if progress else None
        try:
            results.append(run_identity(services, link.identity_id, trigger=trigger, actor=actor, progress=callback))
        except AlreadyRunning:
            continue
    return results

