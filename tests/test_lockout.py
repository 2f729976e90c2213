"""Sign-in throttling and lockout per user name and per client, on an injected clock (nothing sleeps)."""

from __future__ import annotations

from sync.auth.lockout import CLIENT_LIMITS, USER_LIMITS, SignInGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_failures_slow_down_then_lock_the_user_name_for_fifteen_minutes() -> None:
    clock = Clock()
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
    clock = Clock()
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
    clock = Clock()
    guard = SignInGuard(clock)
    for name in ("sanne", "niemand"):
        guard.failed(name, "10.0.0.1")
        guard.failed(name, "10.0.0.1")
        assert guard.refusal(name, "10.0.0.3") == guard.refusal("sanne", "10.0.0.3")
    clock.now += 60
    guard.succeeded("Sanne ", "10.0.0.1")  # names compare as typed loosely: case and spaces
    assert guard.refusal("sanne", "10.0.0.3") is None


def test_memory_is_bounded() -> None:
    guard = SignInGuard(Clock(), max_keys=100)
    for n in range(1_000):
        guard.failed(f"user-{n}", f"10.0.{n // 250}.{n % 250}")
    assert len(guard._records) <= 100
