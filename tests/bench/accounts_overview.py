"""The support overview's data at 300 accounts: a catalog with 300 health rows, `overview()` timed (printed, no
assertion: timing belongs in benchmarks). `python -m tests.bench.accounts_overview [ACCOUNTS]`."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from sync.jobs import accounts
from sync.store.catalog import Account, Catalog, Health
from sync.wiring import Deployment

TARGET_MS = 300


def main(count: int = 300) -> int:
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as folder:
        catalog = Catalog(Path(folder) / "catalog.duckdb")
        try:
            rows = []
            for n in range(count):
                key = f"klant-{n:03d}"
                catalog.add(Account(key=key, name=f"Klant {n:03d} B.V.", db_path=Path(folder) / f"{key}.duckdb"),
                            actor="bench")
                rows.append(Health(key, identities=3, linked=3, broken_links=int(rng.random() < .03),
                                   failed_runs=int(rng.random() < .05), blocked=rng.choice([0, 0, 0, 2, 7]),
                                   open_alerts=int(rng.random() < .05),
                                   schedule=[{"identity_id": i, "interval_minutes": 20, "paused": False}
                                             for i in (1, 2, 3)]))
            catalog.put_health_rows(rows)
            deployment = Deployment.__new__(Deployment)  # only the catalog is read: no account's file is opened
            deployment.catalog = catalog
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                found = accounts.overview(deployment, "bench")
                best = min(best, (time.perf_counter() - started) * 1000)
            verdict = "PASS" if best < TARGET_MS else "FAIL"
            print(f"support overview data at {len(found)} accounts: {best:.1f} ms (target < {TARGET_MS} ms) {verdict}")
        finally:
            catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
