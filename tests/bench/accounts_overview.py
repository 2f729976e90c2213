"""The support overview's data at 300 accounts: a catalog with 300 health rows and 900 links, `health()`,
`accounts()` and `overview()` timed (printed, no assertion: timing belongs in benchmarks).

`python -m tests.bench.accounts_overview [ACCOUNTS]` on a DuckDB file; with `--postgres` on a throwaway Postgres
cluster (`tests.postgres`), or on `SYNC_DATABASE_URL` when that is set (an empty database: the bench fills it)."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sync.jobs import accounts
from sync.store.catalog import Account, Catalog, Health, KnownLink
from sync.wiring import Deployment

TARGET_MS = 300


def main(count: int = 300, postgres: bool = False) -> int:
    with tempfile.TemporaryDirectory() as folder:
        if not postgres:
            measure(Catalog(Path(folder) / "catalog.duckdb"), Path(folder), count)
        elif os.environ.get("SYNC_DATABASE_URL"):
            measure(Catalog(os.environ["SYNC_DATABASE_URL"]), Path(folder), count)
        else:
            url, stop = throwaway_database()
            try:
                measure(Catalog(url), Path(folder), count)
            finally:
                stop()
    return 0


def throwaway_database() -> tuple[str, Callable[[], None]]:
    """A database on a cluster of its own (`tests.postgres`), and what stops and removes it."""
    import psycopg

    from tests.postgres import start_postgres

    cluster = Path(tempfile.mkdtemp(prefix="sync-postgres-"))  # the postgres user must reach it: right under /tmp
    server, stop_server = start_postgres(cluster)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute("CREATE DATABASE bench")

    def stop() -> None:
        stop_server()
        shutil.rmtree(cluster, ignore_errors=True)

    return f"{server}/bench", stop


def measure(catalog: Catalog, folder: Path, count: int) -> None:
    rng = random.Random(14)
    try:
        rows = []
        for n in range(count):
            key = f"klant-{n:03d}"
            catalog.add(Account(key=key, name=f"Klant {n:03d} B.V.", db_path=folder / f"{key}.duckdb"), actor="bench")
            # Three links each; one administration in fifty is linked by a second account too.
            catalog.know_links(key, [KnownLink(i, f"Identiteit {i}", f"adm-{n if rng.random() > .02 else 0}-{i}",
                                               f"Administratie {n}-{i}") for i in (1, 2, 3)])
            rows.append(Health(key, identities=3, linked=3, broken_links=int(rng.random() < .03),
                               failed_runs=int(rng.random() < .05), blocked=rng.choice([0, 0, 0, 2, 7]),
                               open_alerts=int(rng.random() < .05),
                               schedule=[{"identity_id": i, "interval_minutes": 20, "paused": False}
                                         for i in (1, 2, 3)]))
        catalog.put_health_rows(rows)
        deployment = Deployment.__new__(Deployment)  # only the catalog is read: no account's file is opened
        deployment.catalog = catalog
        where = "Postgres" if str(catalog.path).startswith("postgres") else "DuckDB"
        for name, read in (("health()", catalog.health), ("accounts()", catalog.accounts),
                           ("support overview", lambda: accounts.overview(deployment, "bench"))):
            best, found = best_of(read)
            verdict = "PASS" if best < TARGET_MS else "FAIL"
            print(f"{where} {name} at {len(found)} accounts: {best:.1f} ms (target < {TARGET_MS} ms) {verdict}")
    finally:
        catalog.close()


def best_of(read: Callable[[], list[object]], times: int = 5) -> tuple[float, list[object]]:
    best, found = float("inf"), []
    for _ in range(times):
        started = time.perf_counter()
        found = read()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best, found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("accounts", nargs="?", type=int, default=300)
    parser.add_argument("--postgres", action="store_true", help="on Postgres (SYNC_DATABASE_URL, or a throwaway one)")
    args = parser.parse_args()
    sys.exit(main(args.accounts, args.postgres))
