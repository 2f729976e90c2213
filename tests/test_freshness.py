"""A "sync all" reads Gripp once: what was read stays fresh for a while by the services' clock, not the machine's."""

from __future__ import annotations

from datetime import timedelta

from sync.core.freshness import Freshness
from tests.clocks import HandClock


def test_a_read_stays_fresh_for_its_time_by_the_given_clock_and_can_be_forgotten() -> None:
    clock, reads = HandClock(), []
    fresh = Freshness(timedelta(seconds=30))

    def read() -> dict[str, int]:
        reads.append(clock.now)
        return {"invoices": len(reads)}

    assert fresh.read_unless_fresh(clock, read) == {"invoices": 1}
    clock.now += 29
    assert fresh.read_unless_fresh(clock, read) == {}  # the second identity of a "sync all"
    clock.now += 1
    assert fresh.read_unless_fresh(clock, read) == {"invoices": 2}
    fresh.forget()
    assert fresh.read_unless_fresh(clock, read) == {"invoices": 3}
    clock.now -= 3600  # a clock set back (a test's, or a corrected system clock) reads again rather than never
    assert fresh.read_unless_fresh(clock, read) == {"invoices": 4}
    assert reads == [1_000.0, 1_030.0, 1_030.0, -2_570.0]


def test_a_failed_read_is_not_remembered() -> None:
    clock, fresh = HandClock(), Freshness(timedelta(seconds=30))

    def fail() -> dict[str, int]:
        raise TimeoutError("Gripp did not answer")

    try:
        fresh.read_unless_fresh(clock, fail)
    except TimeoutError:
        pass
    assert fresh.read_unless_fresh(clock, lambda: {"invoices": 1}) == {"invoices": 1}


def test_each_accounts_services_keep_their_own_freshness(tmp_path) -> None:
    from sync.wiring import build_services
    from tests.conftest import sandbox_settings

    first = build_services(sandbox_settings(tmp_path / "a"))
    second = build_services(sandbox_settings(tmp_path / "b"))
    try:
        assert first.gripp_freshness is not second.gripp_freshness
    finally:
        first.close()
        second.close()
