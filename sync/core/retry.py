"""What may be retried and how long to wait: one place for both clients.

Transient answers (429, 503 throttles, 5xx, connection trouble) are retried with `Retry-After` first, else
capped exponential backoff with full jitter. Writes whose outcome is unknown are *not* retried here; each
client raises its own "outcome unknown" error so the engine can look the record up first.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

# Tuning numbers, in one place.
MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0
MAX_RETRY_AFTER_SECONDS = 120.0  # a longer wait is not "retry", it is "come back later"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


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

    def delay(self, attempt: int, response: httpx.Response | None = None) -> float:
        retry_after = retry_after_seconds(response) if response is not None else None
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        return self.backoff(attempt)


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
