"""Loaded only by `make test-year-ahead` (its folder is put on PYTHONPATH): every Python process the suite starts —
pytest's workers, the consoles and command lines the tests start — sees the calendar a year ahead, ticking.

time-machine moves Python's wall clock (`time.time`, `datetime.now`, `date.today`, even references taken before
this ran) and leaves `time.monotonic` and `time.sleep` alone, so only the calendar moves: exactly what the run is
meant to prove the suite does not depend on. (Debian's faketime, tried first, slowed threaded code several-fold
and broke Python's sleeps; the link's SQL never asks DuckDB for its own now(), so moving Python's clock is all.)
The browser the tests drive keeps the real calendar: it is a tool, not the code under test.
"""

from datetime import timedelta

try:
    import time_machine
except ImportError:  # not installed in this interpreter: nothing to move
    pass
else:
    time_machine.travel(timedelta(days=365), tick=True).start()
