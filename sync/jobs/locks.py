"""A manual and a scheduled sync for the same identity never run at the same time (per process, which owns
the DuckDB file and so is the only process that can sync)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_registry_lock = threading.Lock()
_locks: dict[object, threading.Lock] = {}


class AlreadyRunning(RuntimeError):
    def __init__(self, key: object) -> None:
        self.key = key
        super().__init__(f"A sync for {key} is already running.")


def _lock_for(key: object) -> threading.Lock:
    with _registry_lock:
        return _locks.setdefault(key, threading.Lock())


@contextmanager
def exclusive(key: object, *, wait: bool = False) -> Iterator[None]:
    lock = _lock_for(key)
    if not lock.acquire(blocking=wait):
        raise AlreadyRunning(key)
    try:
        yield
    finally:
        lock.release()


def is_running(key: object) -> bool:
    return _lock_for(key).locked()


def any_running(prefix: tuple) -> bool:
    """Is any lock whose key starts with `prefix` held (e.g. any identity of one account)?"""
    with _registry_lock:
        held = [lock for key, lock in _locks.items() if isinstance(key, tuple) and key[:len(prefix)] == prefix]
    return any(lock.locked() for lock in held)
