"""The clock every business date and stored time comes from, injected rather than read from the system.

A `Clock` is epoch seconds, like `time.time`: the same callable paces the clients, expires tokens, stamps the
simulators' records and dates the engine's cursors, so they all agree on what "now" is. Real runs use the system
clock; the tests a `RunningClock` that starts on the sandbox's fixed "today", so no test depends on the calendar.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sync.core.dates import AMSTERDAM

Clock = Callable[[], float]


system_clock: Clock = time.time


def moment(clock: Clock) -> datetime:
    """The clock's now as an aware Europe/Amsterdam datetime."""
    return datetime.fromtimestamp(clock(), tz=AMSTERDAM)


class ShiftedClock:
    """The system clock moved by a fixed number of seconds: a calendar of its own that keeps real time (the
    sandbox's, whose demo data is dated around a fixed day)."""

    def __init__(self, shift: float, system: Clock = system_clock) -> None:
        self.shift = shift
        self._system = system

    def __call__(self) -> float:
        return self._system() + self.shift


def on_clock(clock: Clock, planned: datetime) -> datetime:
    """A moment planned on the system clock (APScheduler's next run) as `clock` reads it."""
    return planned + timedelta(seconds=clock.shift) if isinstance(clock, ShiftedClock) else planned


class RunningClock:
    """Starts at a chosen moment and runs at real speed from there (elapsed time is real, the date is fixed).

    `advance` jumps ahead, for tests that need "later" without waiting."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=AMSTERDAM)
        self._start = start.timestamp()
        self._began = time.monotonic()
        self._jumped = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._start + (time.monotonic() - self._began) + self._jumped

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._jumped += seconds
