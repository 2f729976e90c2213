"""Loaded only by `make test-year-ahead`, which runs the suite under Debian's `faketime` a year ahead.

libfaketime 0.9.10 breaks two kinds of waiting in Python 3.11+: with the monotonic clock faked, lock and event
timeouts (`sem_clockwait`, which it does not intercept) wait a year; with it left real
(`FAKETIME_DONT_FAKE_MONOTONIC=1`), `time.sleep` (an absolute `clock_nanosleep`, which it shifts anyway) fails
with EINVAL. The run keeps the monotonic clock real and sleeps with `select` instead, in every Python process
it starts. Only the calendar moves: exactly what the run is meant to prove the suite does not depend on.
"""

import select
import time


def _sleep(seconds: float) -> None:
    deadline = time.monotonic() + max(0.0, seconds)
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


time.sleep = _sleep
