"""Due runs wait for one of a few slots, taken in turn across accounts, so a busy account never starves another.

The scheduler puts an identity here when its time comes; at most `cap` runs go at once in the process. The next
free slot goes to the waiting account served longest ago (one never served first), then that account's oldest
due identity. An identity already waiting or running is not queued twice (the due runs coalesce), so one account
with many identities cannot fill the queue ahead of the others either.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from functools import partial

Job = tuple[str, int]  # (account key, identity id)


class FairQueue:
    """The pure bookkeeping: which due run goes next. Not thread-safe on its own (`FairRunner` locks it)."""

    def __init__(self, cap: int) -> None:
        self.cap = max(1, int(cap))
        self._waiting: OrderedDict[str, deque[int]] = OrderedDict()  # account -> due identities, in due order
        self._running: set[Job] = set()
        self._served: dict[str, int] = {}  # account -> when it last got a slot
        self._tick = itertools.count()

    def submit(self, job: Job) -> bool:
        """Queue a due run; False when that identity is already waiting or running (coalesced)."""
        account, identity = job
        if job in self._running or identity in self._waiting.get(account, ()):
            return False
        self._waiting.setdefault(account, deque()).append(identity)
        return True

    def take(self) -> Job | None:
        """The next run to start, or None when every slot is taken or nothing waits."""
        if len(self._running) >= self.cap or not self._waiting:
            return None
        account = min(self._waiting, key=lambda key: self._served.get(key, -1))  # ties: first to wait
        due = self._waiting[account]
        job = (account, due.popleft())
        if not due:
            del self._waiting[account]
        self._served[account] = next(self._tick)
        self._running.add(job)
        return job

    def done(self, job: Job) -> None:
        self._running.discard(job)

    def forget(self, account: str) -> None:
        """An account was removed: its waiting runs go."""
        self._waiting.pop(account, None)

    @property
    def running(self) -> set[Job]:
        return set(self._running)

    @property
    def waiting(self) -> list[Job]:
        return [(account, identity) for account, due in self._waiting.items() for identity in due]


class FairRunner:
    """Starts the queue's runs on threads of their own, at most `cap` at once, each as soon as a slot is free."""

    def __init__(self, cap: int, run: Callable[[str, int], None], *,
                 start_thread: Callable[[Callable[[], None], str], None] | None = None) -> None:
        self.queue = FairQueue(cap)
        self._run = run
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._start_thread = start_thread or self._thread
        self._stopped = False

    def submit(self, account: str, identity: int) -> bool:
        with self._lock:
            if self._stopped:
                return False
            queued = self.queue.submit((account, identity))
        self._pump()
        return queued

    def _pump(self) -> None:
        while True:
            with self._lock:
                job = None if self._stopped else self.queue.take()
            if job is None:
                return
            self._start_thread(partial(self._work, job), f"sync-{job[0]}-{job[1]}")

    def _work(self, job: Job) -> None:
        try:
            self._run(*job)
        finally:
            with self._lock:
                self.queue.done(job)
            self._pump()

    def _thread(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def shutdown(self, wait: bool = True) -> None:
        """No new runs; with `wait`, the running ones finish first (never cut off halfway)."""
        with self._lock:
            self._stopped = True
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
