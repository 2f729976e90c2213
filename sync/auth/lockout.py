"""Throttling and temporary lockout of sign-in attempts, per user name and per client (address).

After `free` failures a key must wait before its next attempt (1 s, 2 s, 4 s … at most `max_delay`); after
`limit` failures within `window` it is locked for `lock_for`. Any name counts, whether or not it exists, so a lock
says nothing about which names are real. A success clears the user name's failures, not the client's.

The state lives behind `LockoutState` (the catalog keeps it, so a restart forgets no lockout; `MemoryLockouts` is
for a console without a catalog, and tests). Keys are stored as a keyed hash, never as typed: a name field may hold
a password typed in the wrong place. The clock is wall time (a restart keeps its meaning) and injected: tests move
it, nothing sleeps. The state is bounded: records whose failures and lock are over are forgotten, and beyond
`max_keys` the least recently touched go first.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


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
    failures: list[float] = field(default_factory=list)  # clock seconds
    locked_until: float = 0.0  # 0: not locked


class LockoutState(Protocol):
    """Where the guard keeps its records, by (kind, hashed key): the failures still counted and until when the key
    is locked. The catalog implements it (`sync.store.catalog.SignInLockouts`), so it moves with the catalog to a
    shared database; plain values only, nothing of this module's."""

    def get(self, kind: str, key: str) -> tuple[list[float], float] | None: ...

    def put(self, kind: str, key: str, failures: list[float], locked_until: float, touched: float) -> None: ...

    def drop(self, kind: str, key: str) -> None: ...

    def prune(self, idle_before: float, keep: int) -> None:
        """Forget records last touched before `idle_before`, then all but the `keep` most recently touched."""
        ...


class MemoryLockouts:
    """The records in this process's memory (lost on restart)."""

    def __init__(self) -> None:
        self._records: OrderedDict[tuple[str, str], tuple[list[float], float, float]] = OrderedDict()

    def get(self, kind: str, key: str) -> tuple[list[float], float] | None:
        found = self._records.get((kind, key))
        return None if found is None else (list(found[0]), found[1])

    def put(self, kind: str, key: str, failures: list[float], locked_until: float, touched: float) -> None:
        self._records.pop((kind, key), None)
        self._records[(kind, key)] = (list(failures), locked_until, touched)

    def drop(self, kind: str, key: str) -> None:
        self._records.pop((kind, key), None)

    def prune(self, idle_before: float, keep: int) -> None:
        for name in [name for name, (_, _, touched) in self._records.items() if touched < idle_before]:
            del self._records[name]
        while len(self._records) > keep:
            self._records.popitem(last=False)

    def __len__(self) -> int:
        return len(self._records)


@dataclass(frozen=True)
class Refusal:
    seconds: int  # how long until the next attempt may be made
    locked: bool  # a lockout (rather than a short throttle)


class SignInGuard:
    def __init__(self, clock: Callable[[], float] = time.time, *, state: LockoutState | None = None,
                 secret: bytes = b"", user: Limits = USER_LIMITS, client: Limits = CLIENT_LIMITS,
                 max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._state: LockoutState = state if state is not None else MemoryLockouts()
        self._secret = secret
        self._limits = {"user": user, "client": client}
        self._max_keys = max_keys
        self._idle = max(max(limits.window, limits.lock_for) for limits in self._limits.values())
        self._lock = threading.Lock()

    def keys(self, user: str, client: str) -> list[tuple[str, str]]:
        """(kind, hashed key) of the user name (compared loosely: case and spaces) and of the client."""
        return [("user", self._hashed("user", user.strip().casefold()[:200])),
                ("client", self._hashed("client", client))]

    def _hashed(self, kind: str, text: str) -> str:
        return hmac.new(self._secret, f"{kind}\x00{text}".encode(), hashlib.sha256).hexdigest()

    def refusal(self, user: str, client: str) -> Refusal | None:
        """None when an attempt may be made now; otherwise how long to wait and whether it is a lockout."""
        now = self._clock()
        worst: Refusal | None = None
        with self._lock:
            for kind, key in self.keys(user, client):
                record = self._record(kind, key)
                if record is None:
                    continue
                limits = self._limits[kind]
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
            for kind, key in self.keys(user, client):
                record = self._record(kind, key) or _Record()
                limits = self._limits[kind]
                self._forget_old(record, limits, now)
                record.failures.append(now)
                if len(record.failures) >= limits.limit and record.locked_until <= now:
                    record.locked_until = now + limits.lock_for
                    locked.append(kind)
                self._state.put(kind, key, record.failures, record.locked_until, now)
            self._state.prune(now - self._idle, self._max_keys)
        return locked

    def succeeded(self, user: str, client: str) -> None:
        with self._lock:
            kind, key = self.keys(user, client)[0]
            self._state.drop(kind, key)

    def _record(self, kind: str, key: str) -> _Record | None:
        found = self._state.get(kind, key)
        return None if found is None else _Record(*found)

    @staticmethod
    def _forget_old(record: _Record, limits: Limits, now: float) -> None:
        record.failures = [t for t in record.failures if now - t < limits.window]
