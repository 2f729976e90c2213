"""Manual syncs started from a page, run in a worker thread the console owns.

The worker never touches `st.*`: it fills a `ManualRun` and the runner writes its progress into the store
(`runs`, or `previews` for a dry run), which every page reads (`console.ui.live_progress`) — so any page, any
session and a second click see it until it ends; navigating away never stops it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sync.auth.access import Actor, actor_name, require
from sync.core.events import Step, Trigger
from sync.jobs.locks import AlreadyRunning, is_running
from sync.jobs.preview import preview_identity
from sync.jobs.runner import RunResult, run_all, run_identity
from sync.store import setup as setup_repo
from sync.store.run_plan import SyncJob
from sync.wiring import Services

if TYPE_CHECKING:
    from sync.jobs.queue import Queue

ALL = 0  # the key of a "sync all" run


@dataclass
class ManualRun:
    identity_id: int  # ALL for "sync all"
    dry_run: bool = False
    step: dict[int, Step] = field(default_factory=dict)  # identity -> current step
    fraction: dict[int, float] = field(default_factory=dict)  # identity -> overall progress 0..1
    results: list[RunResult] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)  # identities that were already running
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    first_step: threading.Event = field(default_factory=threading.Event)  # its row is in the store: pages see it
    preview: object = None  # the dry run's sync.jobs.preview.Preview
    # In the distributed mode a sync is a job for whichever node is free: the identities queued, and those whose
    # run was waiting already.
    queued: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)

    def report(self, identity_id: int, step: Step, fraction: float) -> None:
        self.step[identity_id] = step
        self.fraction[identity_id] = fraction
        self.first_step.set()


_lock = threading.Lock()
_active: dict[tuple[str, int, bool], ManualRun] = {}  # (account, identity, dry run)


def identity_busy(services: Services, identity_id: int) -> bool:
    return is_running(services.lock_key(identity_id))


def active(services: Services, identity_id: int, *, dry_run: bool = False) -> ManualRun | None:
    with _lock:
        run = _active.get((services.account, identity_id, dry_run))
        return run if run is not None and not run.done.is_set() else None


def wait_for_all(timeout: float) -> bool:
    """Wait (at most `timeout` seconds in all) for every manual sync and dry run to end; False if one still runs."""
    import time

    deadline = time.monotonic() + timeout
    with _lock:
        running = [run for run in _active.values() if not run.done.is_set()]
    return all(run.done.wait(max(0.0, deadline - time.monotonic())) for run in running)


def start(services: Services, identity_id: int, *, actor: Actor | str, dry_run: bool = False,
          queue: Queue | None = None) -> ManualRun:
    """Start a manual sync of one identity (or ALL). Raises AlreadyRunning when that identity is busy and
    NotAllowed when the signed-in role may not (checked here too, so the refusal reaches the page). With `queue`
    (the distributed mode) the sync is queued for any node: the run returned is done at once, saying what was."""
    require(actor, "checks" if dry_run else "sync")
    if queue is not None and not dry_run:
        return _queued(services, identity_id, actor, queue)
    with _lock:
        current = _active.get((services.account, identity_id, dry_run))
        if current is not None and not current.done.is_set():
            raise AlreadyRunning(services.lock_key(identity_id))
        if identity_id != ALL and identity_busy(services, identity_id):
            raise AlreadyRunning(services.lock_key(identity_id))
        run = ManualRun(identity_id, dry_run=dry_run)
        _active[(services.account, identity_id, dry_run)] = run
    worker = threading.Thread(target=_work, args=(services, run, actor), name=f"manual-sync-{identity_id}",
                              daemon=True)
    worker.start()
    return run


def _work(services: Services, run: ManualRun, actor: str) -> None:
    try:
        if run.dry_run:
            run.preview = preview_identity(services, run.identity_id, actor=actor,
                                           progress=lambda step, f: run.report(run.identity_id, step, f))
        elif run.identity_id == ALL:
            run.results = run_all(services, trigger=Trigger.MANUAL, actor=actor, progress=run.report)
        else:
            result = run_identity(services, run.identity_id, trigger=Trigger.MANUAL, actor=actor,
                                  progress=lambda step, f: run.report(run.identity_id, step, f))
            run.results = [result]
    except AlreadyRunning:
        run.refused.append(run.identity_id)
    except BaseException as exc:  # shown on the page; the runner has recorded what it could
        run.error = exc
    finally:
        run.first_step.set()
        run.done.set()


def _queued(services: Services, identity_id: int, actor: Actor | str, queue: Queue) -> ManualRun:
    run = ManualRun(identity_id)
    wanted = [link.identity_id for link in setup_repo.links(services.store)] if identity_id == ALL else [identity_id]
    for wanted_id in wanted:
        job = SyncJob(services.account, (wanted_id,), str(Trigger.MANUAL), actor_name(actor))
        (run.queued if queue.defer(job) is not None else run.waiting).append(wanted_id)
    run.first_step.set()
    run.done.set()
    return run
