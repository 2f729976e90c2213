"""A clock a test moves by hand: epoch seconds, like `sync.core.clock.Clock`, that change only when the test says."""

from __future__ import annotations


class HandClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
