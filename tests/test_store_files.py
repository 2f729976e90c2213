"""Account files in one process: each store sees only its own file; a file is let go (checkpointed, unlocked for
another process) when the last store on it closes or is dropped."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from sync.store.db import Store


def _another_process_reads(path: Path) -> str:
    """What a second process gets opening the file: its rows, or DuckDB's lock error."""
    done = subprocess.run(
        [sys.executable, "-c", "import duckdb, sys; print(duckdb.connect(sys.argv[1]).execute("
         "'SELECT count(*) FROM t').fetchone()[0])", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    return done.stdout.strip() or ("locked" if "lock" in done.stderr.lower() else done.stderr)


def test_two_accounts_files_each_see_only_their_own_rows(tmp_path) -> None:
    first, second = Store(tmp_path / "a" / "sync.duckdb"), Store(tmp_path / "b" / "sync.duckdb")
    try:
        first.execute("CREATE TABLE t AS SELECT 'a' AS who FROM range(3)")
        second.execute("CREATE TABLE t AS SELECT 'b' AS who FROM range(5)")
        first.execute("CREATE TABLE only_in_a (x INTEGER)")
        assert first.rows("SELECT who, count(*) AS n FROM t GROUP BY who") == [{"who": "a", "n": 3}]
        assert second.rows("SELECT who, count(*) AS n FROM t GROUP BY who") == [{"who": "b", "n": 5}]
        assert second.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_a' "
                             "AND table_catalog = current_database()") == 0
        second.check_readable()  # reads its own tables only
    finally:
        first.close()
        second.close()


def test_a_file_two_stores_hold_is_let_go_when_the_last_one_closes(tmp_path) -> None:
    path = tmp_path / "sync.duckdb"
    first, second = Store(path), Store(path)
    first.execute("CREATE TABLE t AS SELECT range AS n FROM range(4)")
    assert second.scalar("SELECT count(*) FROM t") == 4  # the same file, one of them wrote it
    first.close()
    assert _another_process_reads(path) == "locked"
    second.close()
    assert _another_process_reads(path) == "4"
    assert not path.with_name(path.name + ".wal").exists()  # checkpointed as it was let go


def test_a_store_dropped_without_closing_lets_go_of_its_file(tmp_path) -> None:
    path = tmp_path / "sync.duckdb"
    store = Store(path)
    store.execute("CREATE TABLE t AS SELECT range AS n FROM range(2)")
    del store
    gc.collect()
    assert _another_process_reads(path) == "2"
    reopened = Store(path)  # and this process can open it again
    assert reopened.scalar("SELECT count(*) FROM t") == 2
    reopened.close()
