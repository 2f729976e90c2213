"""The one retry loop both clients use (`sync.core.retry.retrying`) and the policy's waits; the clients' own tests
hold what each service's answers mean."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync.core.retry import Again, RetryPolicy, retrying


def _attempts(*outcomes: object) -> tuple[Callable[[], object], list[int]]:
    """An attempt function answering `outcomes` in turn (an exception is raised), and the count of calls."""
    calls = [0]

    def attempt() -> object:
        outcome = outcomes[calls[0]]
        calls[0] += 1
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, calls


POLICY = RetryPolicy(max_attempts=3, base=1.0, cap=3.0, max_retry_after=60.0, rng=lambda: 1.0)


def test_the_first_answer_that_is_not_again_is_returned_after_backoff_waits() -> None:
    attempt, calls = _attempts(Again(OSError("1")), Again(OSError("2")), "done")
    slept: list[float] = []
    assert retrying(attempt, policy=POLICY, sleep=slept.append) == "done"
    assert calls == [3] and slept == [1.0, 2.0]  # base * 2**attempt, full jitter at its top


def test_backoff_is_capped() -> None:
    assert [POLICY.backoff(n) for n in range(4)] == [1.0, 2.0, 3.0, 3.0]


def test_the_last_failure_is_raised_when_the_attempts_are_spent() -> None:
    last = OSError("3")
    attempt, calls = _attempts(Again(OSError("1")), Again(OSError("2")), Again(last), "never")
    with pytest.raises(OSError) as caught:
        retrying(attempt, policy=POLICY, sleep=lambda s: None)
    assert caught.value is last and calls == [3]


def test_an_error_the_attempt_raises_is_never_retried() -> None:
    attempt, calls = _attempts(ValueError("refused"), "never")
    with pytest.raises(ValueError):
        retrying(attempt, policy=POLICY, sleep=lambda s: None)
    assert calls == [1]


def test_retry_after_comes_first_and_a_longer_one_is_cut_unless_strict() -> None:
    slept: list[float] = []
    attempt, _ = _attempts(Again(OSError(), retry_after=7.5), Again(OSError(), retry_after=600.0), "done")
    assert retrying(attempt, policy=POLICY, sleep=slept.append) == "done"
    assert slept == [7.5, 60.0]

    too_long = OSError("come back in ten minutes")
    attempt, calls = _attempts(Again(too_long, retry_after=600.0, strict=True), "never")
    with pytest.raises(OSError) as caught:
        retrying(attempt, policy=POLICY, sleep=slept.append)
    assert caught.value is too_long and calls == [1]
    attempt, _ = _attempts(Again(OSError(), retry_after=60.0, strict=True), "done")
    assert retrying(attempt, policy=POLICY, sleep=slept.append) == "done"  # exactly the maximum is still a retry


def test_giving_up_raises_instead_or_from_the_cause() -> None:
    throttled, busy = OSError("throttled"), RuntimeError("still busy")
    attempt, _ = _attempts(*[Again(throttled, instead=busy)] * 3)
    with pytest.raises(RuntimeError) as caught:
        retrying(attempt, policy=POLICY, sleep=lambda s: None)
    assert caught.value is busy and caught.value.__cause__ is throttled

    transport, error = ConnectionError("reset"), OSError("unreachable")
    attempt, _ = _attempts(*[Again(error, cause=transport)] * 3)
    with pytest.raises(OSError) as caught_error:
        retrying(attempt, policy=POLICY, sleep=lambda s: None)
    assert caught_error.value is error and caught_error.value.__cause__ is transport


def test_a_retry_is_told_and_may_wait_its_own_way() -> None:
    told: list[tuple[str, int, float]] = []
    held: list[float] = []
    attempt, _ = _attempts(Again(OSError("busy"), retry_after=2.0, wait=held.append), Again(OSError("down")), "done")
    slept: list[float] = []
    retrying(attempt, policy=POLICY, sleep=slept.append, on_retry=lambda e, n, s: told.append((str(e), n, s)))
    assert held == [2.0] and slept == [2.0] and told == [("busy", 1, 2.0), ("down", 2, 2.0)]
