"""A log that a stranger cannot flood: what anyone on the internet can cause (a refused webhook delivery) is logged
one line per event, but at most `per_minute` lines a minute. Beyond that one line says the rest of the minute is
counted, not logged; the count is logged with the next line after the minute. The clock is injected."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

WINDOW = 60.0


class LimitedLog:
    def __init__(self, logger: logging.Logger, per_minute: int = 30, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._logger = logger
        self._per_minute = per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._started = float("-inf")
        self._logged = 0
        self._left_out = 0

    def warning(self, message: str, *args: object, exc_info: bool = False) -> bool:
        """Log the line unless this minute's lines are used up; whether it was logged."""
        with self._lock:
            now = self._clock()
            if now - self._started >= WINDOW:
                if self._left_out:
                    self._logger.warning("%d more lines like the above were not logged in the last minute",
                                         self._left_out)
                self._started, self._logged, self._left_out = now, 0, 0
            if self._logged < self._per_minute:
                self._logged += 1
                self._logger.warning(message, *args, exc_info=exc_info)
                return True
            if not self._left_out:
                self._logger.warning("more than %d such lines this minute: the rest are counted, not logged",
                                     self._per_minute)
            self._left_out += 1
            return False
