"""A `/metrics` scrape at 300 accounts: a catalog with 300 accounts of 3 identities, their figures and some open
problems, `console.metrics.scrape` timed (printed, no assertion: timing belongs in benchmarks).
`python -m tests.bench.metrics_scrape [ACCOUNTS]`."""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from console.metrics import scrape
from sync.core.clock import RunningClock
from sync.store.catalog import Account, Catalog, Health
from sync.store.metrics import IdentityFigures

TARGET_MS = 300
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def main(count: int = 300) -> int:
    rng = random.Random(22)
    with tempfile.TemporaryDirectory() as folder:
        catalog = Catalog(Path(folder) / "catalog.duckdb", clock=RunningClock(NOW))
        try:
            rows = catalog.metrics()
            for n in range(count):
                key = f"klant-{n:03d}"
                catalog.add(Account(key=key, name=f"Klant {n:03d} B.V.", db_path=Path(folder) / f"{key}.duckdb"),
                            actor="bench")
                catalog.put_health(Health(key, updated_at=NOW, identities=3, linked=3))
                rows.put(key, [IdentityFigures(i, NOW - timedelta(minutes=rng.randrange(600)),
                                               {"ok": rng.randrange(5000), "warnings": rng.randrange(500),
                                                "failed": rng.randrange(20), "refused": rng.randrange(3)},
                                               {"blocked": rng.choice([0, 0, 2, 7]), "refused": 0,
                                                "conflict": int(rng.random() < .1)}) for i in (1, 2, 3)], at=NOW)
                if rng.random() < .1:
                    catalog._store.execute(  # the watch helper's ledger, written by hand here
                        "INSERT INTO notices (account_key, identity_id, kind, started_at) VALUES (?, 1, ?, ?)",
                        [key, "run_failed", NOW])
            best = float("inf")
            for _ in range(5):
                started = time.perf_counter()
                body = scrape(catalog)
                best = min(best, (time.perf_counter() - started) * 1000)
            samples = sum(len(family.samples) for family in text_string_to_metric_families(body.decode()))
            verdict = "PASS" if best < TARGET_MS else "FAIL"
            print(f"/metrics scrape at {count} accounts ({samples} samples, {len(body) // 1024} KB): {best:.1f} ms "
                  f"(target < {TARGET_MS} ms) {verdict}")
        finally:
            catalog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
