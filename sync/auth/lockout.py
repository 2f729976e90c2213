"""Throttling and temporary lockout of sign-in attempts, per user name and per client (address).

After `free` failures a key must wait before its next attempt (1 s, 2 s, 4 s … at most `max_delay`); after
`limit` failures within `window` it is locked for `lock_for`. Any name counts, whether or not it exists, so a lock
says nothing about which names are real. A success clears the user name's failures, not the client's. The clock
is injected (tests move it; nothing sleeps). Memory is bounded: the oldest keys are dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limits:
    limit: int  # failures within `window` that lock the key
    window: float = 15 * 60.0
    lock_for: float = 15 * 60.0
    free: int = 2  # failures before each next attempt has to wait
    max_delay: float = 60.0


USER_LIMITS = Limits(limit=5)
CLIENT_LIMITS = Limits(limit=20)  # an office behind one address: more room, still a lock
MAX_KEYS = 10_000


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


@dataclass(frozen=True)
class Refusal:
    seconds: int  # how long until the next attempt may be made
    locked: bool  # a lockout (rather than a short throttle)


class SignInGuard:
    def __init__(self, clock: Callable[[], float] = time.monotonic, *, user: Limits = USER_LIMITS,
                 client: Limits = CLIENT_LIMITS, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._limits = {"user": user, "client": client}
        self._max_keys = max_keys
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def keys(user: str, client: str) -> list[tuple[str, str]]:
        return [("user", user.strip().casefold()[:200]), ("client", client)]

    def refusal(self, user: str, client: str) -> Refusal | None:
        """None when an attempt may be made now; otherwise how long to wait and whether it is a lockout."""
        now = self._clock()
        worst: Refusal | None = None
        with self._lock:
            for key in self.keys(user, client):
                record = self._records.get(key)
                if record is None:
                    continue
                limits = self._limits[key[0]]
                self._forget_old(record, limits, now)
                found: Refusal | None
                if record.locked_until > now:
                    found = Refusal(int(record.locked_until - now + 0.999), True)
                elif len(record.failures) >= limits.free:
                    delay = min(2.0 ** (len(record.failures) - limits.free), limits.max_delay)
                    wait = record.failures[-1] + delay - now
                    found = Refusal(int(wait + 0.999), False) if wait > 0 else None
                else:
                    found = None
                if found and (worst is None or (found.locked, found.seconds) > (worst.locked, worst.seconds)):
                    worst = found
        return worst

    def failed(self, user: str, client: str) -> list[str]:
        """Record a failed attempt; the kinds ("user", "client") that are locked by it."""
        now = self._clock()
        locked = []
        with self._lock:
            for key in self.keys(user, client):
                record = self._records.pop(key, None) or _Record()
                self._records[key] = record  # most recent last: the oldest go first when memory is full
                limits = self._limits[key[0]]
                self._forget_old(record, limits, now)
                record.failures.append(now)
                if len(record.failures) >= limits.limit and record.locked_until <= now:
                    record.locked_until = now + limits.lock_for
                    locked.append(key[0])
            while len(self._records) > self._max_keys:
                self._records.popitem(last=False)
        return locked

    def succeeded(self, user: str, client: str) -> None:
        with self._lock:
            self._records.pop(self.keys(user, client)[0], None)

    @staticmethod
    def _forget_old(record: _Record, limits: Limits, now: float) -> None:
        record.failures = [t for t in record.failures if now - t < limits.window]
