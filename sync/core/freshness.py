"""Something read at a moment stays fresh for a while, by an injected clock.

A "sync all" runs every identity of an account one after the other; each run starts by reading Gripp's invoices into
the account's cache, and reading them once is enough. The memory sits with the account's services (one per store), so
one account's read never waits for another's and a store opened afresh reads again; the clock is the services' own, so
tests move it rather than sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

from sync.core.clock import Clock


class Freshness:
    def __init__(self, fresh_for: timedelta) -> None:
        self._fresh_for = fresh_for.total_seconds()
        self._read_at: float | None = None
        self._lock = threading.Lock()

    def read_unless_fresh(self, clock: Clock, read: Callable[[], dict[str, int]]) -> dict[str, int]:
        """`read()`'s counts, or nothing when it was read less than `fresh_for` ago. Readers at the same time wait for
        the first and then find it fresh."""
        with self._lock:
            if self._read_at is not None and 0 <= clock() - self._read_at < self._fresh_for:
                return {}
            counts = read()
            self._read_at = clock()
            return counts

    def forget(self) -> None:
        """The next read reads (a change outside the run, such as a reseeded sandbox)."""
        with self._lock:
            self._read_at = None

