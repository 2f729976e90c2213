"""The console's scheduler in the distributed mode: the same controls as `SyncScheduler` (pause, resume, interval,
next run), on the run plan in Postgres; and, unless the console was told not to work jobs (`--no-worker`), this
node's procrastinate worker in a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sync.jobs.queue import Nodes, Queue
from sync.jobs.schedule import ScheduleControls, job_id

log = logging.getLogger(__name__)


class QueueScheduler(ScheduleControls):
    def __init__(self, nodes: Nodes, queue: Queue, *, works: bool = True, concurrency: int | None = None) -> None:
        self._accounts = self._nodes = nodes
        self.queue = queue
        self.works = works
        self.concurrency = concurrency or nodes.settings.max_concurrent_runs
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        nodes.next_run_of = self.next_run_of_account

    # -- lifecycle --------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        self.queue.create()
        self._started = True
        if self.works:
            self._thread(lambda: self.queue.work(self._nodes, concurrency=self.concurrency, stop=self._stop),
                         "queue-worker")
        try:
            self.queue.plan()  # the schedules as the health rows have them now; the periodic tick does the rest
        except Exception:
            log.exception("could not plan the runs; the next tick tries again")

    def shutdown(self, wait: bool = True) -> None:
        """Stop; with `wait`, the runs this node is working finish first."""
        self._stop.set()
        if wait:
            for thread in self._threads:
                thread.join()
        self._started = False

    @property
    def running(self) -> bool:
        return self._started and all(thread.is_alive() for thread in self._threads)

    def every(self, job: str, seconds: int, func: Callable[[], object]) -> None:
        """A job of the process's own every `seconds` (delivering notifications; `deployment.alone` keeps it to one
        node at a time)."""
        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    func()
                except Exception:
                    log.exception("%s failed; it runs again in %s s", job, seconds)

        self._thread(loop, job)

    def _thread(self, target: Callable[[], object], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- the plan ------------------------------------------------------------------------------------------
    def reload(self, account: str | None = None) -> None:
        """The account's schedule changed (a link, a pause, an interval): its health row carries it to the plan,
        which follows at once."""
        present = set(self._accounts.keys())
        for key in [account] if account is not None else sorted(present):
            if key in present:
                self._accounts.record_health(self._accounts.services(key))
        self.queue.plan()

    def jobs(self, account: str | None = None) -> list[str]:
        return [job_id(identity, key) for key, identity in sorted(self.queue.next_runs(account))]

    def next_run(self, identity_id: int, account: str | None = None) -> datetime | None:
        key = self._default(account)
        return self.queue.next_runs(key).get((key, identity_id))

    def next_run_of_account(self, account: str) -> datetime | None:
        found = self.queue.next_runs(account).values()
        return min(found) if found else None
