"""Sign-in throttling and lockout per user name and per client, on an injected clock (nothing sleeps); the records
in the catalog, so a restart forgets no lockout."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sync.auth.lockout import CLIENT_LIMITS, USER_LIMITS, MemoryLockouts, SignInGuard
from sync.store.catalog import Catalog
from tests.clocks import HandClock


def test_failures_slow_down_then_lock_the_user_name_for_fifteen_minutes() -> None:
    clock = HandClock()
    guard = SignInGuard(clock)
    waits = []
    for _ in range(USER_LIMITS.limit):
        refusal = guard.refusal("sanne", "10.0.0.1")
        if refusal is not None:  # throttled: wait as long as told (the clock moves, nothing sleeps)
            assert not refusal.locked
            waits.append(refusal.seconds)
            clock.now += refusal.seconds
        guard.failed("sanne", "10.0.0.1")
    assert waits == [1, 2, 4]
    locked = guard.refusal("sanne", "10.0.0.2")  # another address: the user name itself is locked
    assert locked is not None and locked.locked and locked.seconds == 15 * 60
    clock.now += 15 * 60 - 1
    assert guard.refusal("sanne", "10.0.0.2").locked
    clock.now += 1
    assert guard.refusal("sanne", "10.0.0.2") is None


def test_one_client_trying_many_names_is_locked_as_a_client() -> None:
    clock = HandClock()
    guard = SignInGuard(clock)
    locked = []
    for n in range(CLIENT_LIMITS.limit):
        clock.now += 30  # twenty names in ten minutes
        locked += guard.failed(f"user-{n}", "10.0.0.9")
    assert locked == ["client"]
    refusal = guard.refusal("someone-else", "10.0.0.9")
    assert refusal is not None and refusal.locked
    assert guard.refusal("someone-else", "10.0.0.10") is None


def test_unknown_and_known_names_are_treated_alike_and_success_clears_only_the_user() -> None:
    clock = HandClock()
    guard = SignInGuard(clock)
    for name in ("sanne", "niemand"):
        guard.failed(name, "10.0.0.1")
        guard.failed(name, "10.0.0.1")
        assert guard.refusal(name, "10.0.0.3") == guard.refusal("sanne", "10.0.0.3")
    clock.now += 60
    guard.succeeded("Sanne ", "10.0.0.1")  # names compare as typed loosely: case and spaces
    assert guard.refusal("sanne", "10.0.0.3") is None


def test_memory_is_bounded() -> None:
    state = MemoryLockouts()
    guard = SignInGuard(HandClock(), state=state, max_keys=100)
    for n in range(1_000):
        guard.failed(f"user-{n}", f"10.0.{n // 250}.{n % 250}")
    assert len(state) <= 100


def test_a_lockout_survives_a_restart_and_the_catalog_keeps_no_name_or_address(tmp_path: Path) -> None:
    clock, path = HandClock(), tmp_path / "catalog.duckdb"
    catalog = Catalog(path)
    guard = SignInGuard(clock, state=catalog.lockouts(), secret=b"the deployment's secret")
    for _ in range(USER_LIMITS.limit):
        clock.now += 60  # slow enough never to be throttled
        guard.failed("sanne", "203.0.113.7")
    catalog.close()  # the console stops …

    catalog = Catalog(path)  # … and starts again: a new guard on the same catalog
    again = SignInGuard(clock, state=catalog.lockouts(), secret=b"the deployment's secret")
    refusal = again.refusal("Sanne", "198.51.100.1")
    assert refusal is not None and refusal.locked
    clock.now += USER_LIMITS.lock_for
    assert again.refusal("sanne", "198.51.100.1") is None
    catalog.close()
    with duckdb.connect(str(path), read_only=True) as db:
        stored = repr(db.execute("SELECT * FROM sign_in_lockouts").fetchall())
    assert "sanne" not in stored.casefold() and "203.0.113.7" not in stored


def test_the_catalog_forgets_what_is_over_and_keeps_at_most_max_keys(tmp_path: Path) -> None:
    clock = HandClock()
    catalog = Catalog(tmp_path / "catalog.duckdb")
    state = catalog.lockouts()
    guard = SignInGuard(clock, state=state, max_keys=50)
    for n in range(120):
        guard.failed(f"user-{n}", f"10.0.0.{n}")
    assert catalog._store.scalar("SELECT count(*) FROM sign_in_lockouts") == 50
    clock.now += 16 * 60  # every failure out of the window, every lock over
    guard.failed("someone", "10.0.1.1")
    assert catalog._store.scalar("SELECT count(*) FROM sign_in_lockouts") == 2
    catalog.close()
