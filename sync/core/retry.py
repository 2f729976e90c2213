"""How both clients retry: one loop (`retrying`) and one policy saying how long to wait.

Each client says in one function what one attempt's answer means: done, `Again` (another attempt may mend it), or
an error raised at once. `retrying` runs those attempts; `RetryPolicy.wait_before` decides how long to wait before
the next one: `Retry-After` first, else capped exponential backoff with full jitter, and nothing left to wait for
once the attempts are spent. Writes whose outcome is unknown are never `Again`; each client raises its own "outcome
unknown" error so the engine can look the record up first. (After openai-python's single retry loop with
`_should_retry`.)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import NoReturn, TypeVar

import httpx

# Tuning numbers, in one place.
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 120.0  # a longer wait is not "retry", it is "come back later"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

T = TypeVar("T")


@dataclass(frozen=True)
class Again:
    """One attempt failed in a way another attempt may mend (a throttle, a 5xx on a read, a connection that was
    never made). Raised as the failure when no attempt is left."""

    error: BaseException  # what went wrong this time (logged); raised when giving up
    retry_after: float | None = None  # the seconds the service asked us to wait (`Retry-After`), if it said
    # A service's own wait longer than `max_retry_after` ends the retries (it means "come back later"); when not
    # strict, such a wait is cut to `max_retry_after`.
    strict: bool = False
    instead: BaseException | None = None  # raised (from `error`) instead of `error` when giving up
    cause: BaseException | None = None  # `error` is raised from this when giving up (the transport's exception)
    wait: Callable[[float], None] | None = None  # how to wait instead of sleeping (a budget every caller shares)

    def give_up(self) -> NoReturn:
        if self.instead is not None:
            raise self.instead from self.error
        if self.cause is not None:
            raise self.error from self.cause
        raise self.error


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = MAX_ATTEMPTS
    base: float = BACKOFF_BASE_SECONDS
    cap: float = BACKOFF_CAP_SECONDS
    max_retry_after: float = MAX_RETRY_AFTER_SECONDS
    rng: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to base * 2**attempt, capped (attempt counts from 0)."""
        return self.rng() * min(self.cap, self.base * (2**attempt))

    def wait_before(self, attempt: int, again: Again) -> float | None:
        """Seconds to wait after failed attempt `attempt` (from 0) before the next, or None: give up."""
        if attempt + 1 >= self.max_attempts:
            return None
        if again.retry_after is None:
            return self.backoff(attempt)
        if again.retry_after > self.max_retry_after:
            return None if again.strict else self.max_retry_after
        return again.retry_after


def retrying(
    attempt: Callable[[], T | Again],
    *,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    on_retry: Callable[[BaseException, int, float], None] | None = None,
) -> T:
    """Call `attempt` until it returns something other than `Again`, waiting between attempts as `policy` says;
    when the policy gives up, raise the last failure. `attempt` raises at once what must not be retried.
    `on_retry(error, retry_number, seconds)` is told of each retry before its wait (retries count from 1)."""
    failed = 0
    while True:
        outcome = attempt()
        if not isinstance(outcome, Again):
            return outcome
        seconds = policy.wait_before(failed, outcome)
        if seconds is None:
            outcome.give_up()
        failed += 1
        if on_retry is not None:
            on_retry(outcome.error, failed, seconds)
        (outcome.wait or sleep)(seconds)


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: either a number or an HTTP date."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    reference = now or datetime.now(tz=when.tzinfo)
    return max(0.0, (when - reference).total_seconds())
