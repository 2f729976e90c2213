"""Figures at size that used to be timed tests: building the 100,000-invoice bulk demo, and searching a log of 20,000
events as the Synchronisatie page does (the log keeps codes and values, so the search says every event first).

The suite checks what these give (tests/test_seed.py, tests/test_event_words.py); how long they take is measured
here, where a loaded machine makes a figure slower rather than a test red.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sync.store import history
from sync.store.db import Store

TARGET_SEED_S = 15.0
TARGET_SEARCH_S = 2.0


def fill_log(store: Store, n: int) -> None:
    """`n` bookings of one customer, then a relatie and a payment to be found among them."""
    entries = [{"kind": "booked", "identity_id": 1, "invoice_number": f"26{i:04d}", "data": {"customer": "Acme"}}
               for i in range(n)]
    entries += [{"kind": "relatie", "identity_id": 1, "data": {"name": "Bakkerij Jansen"}},
                {"kind": "payment", "identity_id": 1, "invoice_number": "260032",
                 "data": {"amount": "121.00", "date": "2026-11-01"}}]
    history.log_events(store, entries)


def seed_seconds(invoices: int = 100_000, payments: int = 10_000) -> float:
    from sync.sandbox.bulk import build_bulk_world

    started = time.perf_counter()
    build_bulk_world(invoices, payments=payments)
    return time.perf_counter() - started


def search_seconds(work_dir: Path, events: int = 20_000) -> float:
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        store = Store(Path(tmp) / "log.duckdb")
        try:
            fill_log(store, events)
            started = time.perf_counter()
            history.events(store, search="bakkerij", limit=1000)
            return time.perf_counter() - started
        finally:
            store.close()


def rows(work_dir: Path) -> list[tuple[str, str, str, bool | None]]:
    seed, search = seed_seconds(), search_seconds(work_dir)
    return [("bulk demo of 100,000 invoices and 10,000 payments built", f"{seed:.1f} s", f"< {TARGET_SEED_S:g} s",
             seed < TARGET_SEED_S),
            ("the log's search through 20,000 events", f"{search:.2f} s", f"< {TARGET_SEARCH_S:g} s",
             search < TARGET_SEARCH_S)]
