"""Client-side pacing: spend the services' rate budgets on our side instead of running into their throttles.

Three small pieces, each on an injected clock and sleep (tests use a fake clock; the benchmark a virtual one):

- `TokenBucket`: a copy of a server's token bucket (Gripp's burst limiter: 20 tokens, 4 back per second). A call
  *reserves* its token and sleeps outside the lock until the token is due, so waiting threads queue in order
  instead of stampeding.
- `WindowBudget`: at most N calls in any W seconds (SnelStart's calls per minute per administration). A call counts
  from when it is sent until W seconds after its answer came back. The server counts it somewhere in between (on
  arrival), so however long the latency, we never put more than N calls into one of its windows; the price is one
  latency per window. A token bucket cannot do that without either bursting past a sliding window or giving up
  part of the budget for good.
- `ConcurrencyCap`: at most N calls in flight (SnelStart's concurrency per administration).

`CallBudget` combines the last two for one SnelStart administration. A 429 answer's `Retry-After` is shared
through `hold()`: every thread waits it out, not just the one that was told.

`TIERS` / `tier()`: SnelStart's budgets per administration by the subscription's tier (the settings check the
name; the SnelStart client paces to it).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

Clock = Callable[[], float]
Sleep = Callable[[float], None]


# Rate limits per administration, by the subscription's tier (P-CERT table, transcribed from a screenshot, so
# "(?)"). The client paces itself to these: a call a minute too many is a 429 for every thread of the run.
@dataclass(frozen=True)
class Tier:
    name: str
    per_minute: int  # calls per minute per administration
    concurrent: int  # calls in flight per administration


TIERS = {
    "test": Tier("test", per_minute=100, concurrent=5),  # "Ontwikkeling & Test" keys
    "production": Tier("production", per_minute=500, concurrent=50),  # "Productie" and "Maatwerk"
    # The built-in sandbox enforces no limits unless a test or benchmark switches them on (and picks a tier).
    "sandbox": Tier("sandbox", per_minute=1_000_000, concurrent=5),
}
TIER_ALIASES = {"ontwikkeling": "test", "development": "test", "productie": "production", "maatwerk": "production"}
DEFAULT_TIER = "test"  # the cautious one: a production key paced as a test key is slow, never throttled


def tier(name: str | None) -> Tier:
    """The tier called `name` (case-insensitive, Dutch names too); empty is the default, unknown a ValueError."""
    key = (name or DEFAULT_TIER).strip().lower()
    found = TIERS.get(TIER_ALIASES.get(key, key))
    if found is None:
        raise ValueError(f"unknown SnelStart tier {name!r}: use one of {', '.join(TIERS)}")
    return found


class TokenBucket:
    """`capacity` tokens, `rate` come back per second; one call takes one token, or waits until it is due."""

    def __init__(self, capacity: float, rate: float, *, clock: Clock, sleep: Sleep) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError("a token bucket needs capacity >= 1 and rate > 0")
        self.capacity = float(capacity)
        self.rate = float(rate)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(capacity)  # below zero: tokens already promised to waiting callers
        self._at = clock()
        self.waited = 0.0  # seconds slept in total, for reports

    def reserve(self) -> float:
        """Take a token now or in the future; returns the seconds until it may be used."""
        with self._lock:
            now = self._clock()
            if now > self._at:
                self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
                self._at = now
            self._tokens -= 1
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Wait for a token; returns the seconds waited."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
            with self._lock:
                self.waited += wait
        return wait


class WindowBudget:
    """At most `calls` calls in any `window` seconds, each counted from sending until `window` after its answer.

    Think of `calls` places. A call takes a free place, or the place whose last call's window ends first, and
    starts when that window has ended. So a place never has two calls in one of the server's windows, whenever
    within their flight the server counted them. A caller reserves its start time under the lock and then sleeps
    once: with a sleep that does not move the clock (tests), the call simply goes early.
    """

    def __init__(self, calls: int, window: float, *, clock: Clock, sleep: Sleep) -> None:
        if calls < 1 or window <= 0:
            raise ValueError("a window budget needs calls >= 1 and window > 0")
        self.calls = calls
        self.window = float(window)
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._ends: deque[float] = deque()  # when answered calls stop counting, earliest first
        self._in_flight = 0  # reserved or sent, not yet answered
        self._hold_until = float("-inf")
        self.waited = 0.0  # seconds slept in total, for reports

    def acquire(self) -> float:
        """Wait until one more call fits; returns the seconds waited. Pair with `release()`."""
        with self._cond:
            while True:
                now = self._clock()
                while self._ends and self._ends[0] <= now:
                    self._ends.popleft()
                if len(self._ends) + self._in_flight < self.calls:
                    start = now
                    break
                if self._ends:
                    start = self._ends.popleft()  # take over the place that frees up first
                    break
                self._cond.wait()  # the whole budget is in flight: wait for an answer
            self._in_flight += 1
            wait = max(start, self._hold_until) - now
            if wait > 0:
                self.waited += wait
        if wait > 0:
            self._sleep(wait)
        return max(0.0, wait)

    def release(self) -> None:
        """The call was answered (or failed): its place stays taken for one more window."""
        with self._cond:
            self._in_flight -= 1
            self._ends.append(self._clock() + self.window)
            self._cond.notify_all()

    def hold(self, seconds: float) -> None:
        """The server said "come back in `seconds`": no call starts before then."""
        with self._cond:
            self._hold_until = max(self._hold_until, self._clock() + max(0.0, seconds))

    @property
    def counted(self) -> int:
        """Calls that may still count in the server's current window."""
        with self._cond:
            now = self._clock()
            return sum(1 for end in self._ends if end > now) + self._in_flight


class ConcurrencyCap:
    """At most `limit` calls in flight at once; `peak` says how many there ever were."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("a concurrency cap needs limit >= 1")
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0

    def acquire(self) -> None:
        self._slots.acquire()
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1
        self._slots.release()


class CallBudget:
    """One SnelStart administration's budget: `per_minute` calls a minute, `concurrent` at once."""

    def __init__(self, per_minute: int, concurrent: int, *, clock: Clock, sleep: Sleep,
                 window: float = 60.0) -> None:
        self.cap = ConcurrencyCap(concurrent)
        self.rate = WindowBudget(per_minute, window, clock=clock, sleep=sleep)

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold a place for one call: in flight (at most `concurrent`) and in the minute's budget."""
        self.cap.acquire()
        try:
            self.rate.acquire()
            try:
                yield
            finally:
                self.rate.release()
        finally:
            self.cap.release()

    def hold(self, seconds: float) -> None:
        self.rate.hold(seconds)

    @property
    def concurrent(self) -> int:
        return self.cap.limit
