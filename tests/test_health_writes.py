"""Two runs of one account that finish together both write its health row and figures in the catalog: neither
write is lost to a write-write conflict (DuckDB's "Conflict on tuple deletion")."""

from __future__ import annotations

import threading

from sync.core.config import load_settings
from sync.sandbox.seed import FIRST_ACCOUNT
from sync.wiring import Deployment


def test_two_runs_of_one_account_finishing_together_both_record_its_health(tmp_path) -> None:
    deployment = Deployment(load_settings({"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"),
                                           "CONSOLE_PUBLIC_URL": "http://console.test"}), sleep=lambda s: None)
    try:
        services = deployment.services(FIRST_ACCOUNT)
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def finish_runs() -> None:
            start.wait()
            for _ in range(10):
                try:
                    deployment.record_health(services)
                except BaseException as exc:  # what the scheduler's thread would log and lose
                    failures.append(exc)

        threads = [threading.Thread(target=finish_runs) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert deployment.catalog.get(FIRST_ACCOUNT) is not None
        assert {h.account_key for h in deployment.catalog.health()} >= {FIRST_ACCOUNT}
    finally:
        deployment.close()
