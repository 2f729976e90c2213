"""The DuckDB file: one read-write connection per process, a cursor per thread, numbered migrations.

Every file is ATTACHed to one DuckDB instance the process shares (`_Files`), under a name of its own that its
store's cursors `USE`: starting a DuckDB instance costs ~17 ms of CPU (its catalog of built-in functions), attaching
a file ~3 ms, and a process serving hundreds of accounts opens and closes their files every cycle. A store's SQL
names no database, so it only ever sees its own file.

DuckDB lets one process hold the file read-write. A second process gets `StoreLockedError` with the holder's
PID, which the CLI and console print as one line. A file that is not a DuckDB database, or whose blocks fail
their checksums, is `StoreUnreadableError` at open (every table is read once then), never a traceback later.
The file and a folder made for it are private to the user (0600 / 0700).
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from sync.core.clock import Clock, moment, system_clock

if TYPE_CHECKING:  # pandas is loaded by DuckDB when a frame is asked for
    import pandas as pd

_MIGRATIONS_PACKAGE = "sync.store.migrations"
_LOCK_PID = re.compile(r"PID (\d+)")
_Row = TypeVar("_Row")
_NO_CODES: Mapping[str, Callable[[Any], object]] = MappingProxyType({})


def quoted(codes: Iterable[StrEnum]) -> str:
    """Codes as a list of SQL string literals (`'booked', 'done'`), for a statement that spells them: our own enums'
    values, never outside input."""
    found = [str(code) for code in codes]
    if any("'" in code for code in found):
        raise ValueError(f"not a code: {found}")
    return ", ".join(f"'{code}'" for code in found)


class StoreLockedError(RuntimeError):
    def __init__(self, path: Path, pid: int | None) -> None:
        self.path, self.pid = path, pid
        holder = f"process {pid}" if pid else "another process"
        super().__init__(f"The database {path} is in use by {holder} (a console or command on the same data); stop "
                         "it and try again.")


class StoreUnreadableError(RuntimeError):
    """The file is not a DuckDB database or is damaged; `reason` is DuckDB's first line (no path in it)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"The database {path} cannot be read ({reason}); restore it from a backup or use another "
                         "SYNC_DB_PATH.")


def _first_line(exc: BaseException, path: Path) -> str:
    text = (str(exc).splitlines() or [type(exc).__name__])[0]
    return text.replace(f'"{path}"', "the file").replace(str(path), "the file")[:200]


# One thread per query: the link's queries are small (even the open-items comparison of 100,000 invoices is no
# slower on one), and a process serving many accounts gets its parallelism from running several at once — more
# threads per file only add handing-off between them, and a thread pool to start at every open.
QUERY_THREADS = 1

# Files this process closed itself, fully checkpointed, by their stamp at that moment. Reopening one whose stamp has
# not changed since skips the full read check (a scheduler reopens hundreds of account files each cycle): nothing
# has written it since it was last read whole. Damage that leaves the stamp alone is still caught, by DuckDB's
# checksum of each block the run then reads; the run fails as a store error and nothing is half-written.
_closed_intact: dict[Path, tuple[int, int, int, int] | None] = {}  # (inode, size, mtime, ctime) in ns


def _file_stamp(path: Path) -> tuple[int, int, int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


def known_intact(path: Path) -> None:
    """The file at `path` was just written whole from a copy whose integrity was checked (a download from Postgres,
    zlib's checksum verified): its next open need not read it whole."""
    _closed_intact[path] = _file_stamp(path)


def _remember_closed_intact(path: Path) -> None:
    if path.with_name(path.name + ".wal").exists():  # not checkpointed: the next open replays it
        _closed_intact.pop(path, None)
    else:
        _closed_intact[path] = _file_stamp(path)


class _Files:
    """The process's DuckDB instance and the files attached to it, each under its own name, shared by every store
    open on it (as DuckDB's own `connect` shares a file's instance) and detached when the last one closes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._instance: duckdb.DuckDBPyConnection | None = None
        self._attached: dict[Path, list[Any]] = {}  # resolved path -> [name, stores holding it]
        self._names = itertools.count(1)

    def attach(self, path: Path) -> tuple[str, duckdb.DuckDBPyConnection]:
        """The file's name in the instance and a fresh connection using it; raises DuckDB's error."""
        key = path.resolve()
        with self._lock:
            if self._instance is None:
                self._instance = duckdb.connect(":memory:", config={"threads": QUERY_THREADS})
            found = self._attached.get(key)
            if found is None:
                name = f"file_{next(self._names)}"
                quoted = str(path).replace("'", "''")
                self._instance.execute(f"ATTACH '{quoted}' AS {name}")
                found = self._attached[key] = [name, 0]
            found[1] += 1
            connection = self._instance.cursor()
        try:
            connection.execute(f"USE {found[0]}")
        except BaseException:
            connection.close()
            self.release(key)
            raise
        return found[0], connection

    def release(self, key: Path) -> bool:
        """One store fewer on the file; detached (checkpointed, unlocked) when it was the last: then True."""
        with self._lock:
            found = self._attached.get(key)
            if found is None:
                return False
            found[1] -= 1
            if found[1] > 0:
                return False
            del self._attached[key]
            assert self._instance is not None
            self._instance.execute(f"DETACH {found[0]}")
            return True


_files = _Files()


class Store:
    """Owns the DuckDB connection. Repositories call `cursor()`; writes that belong together use `transaction()`.

    It also carries the process's clock: every time the store writes, and every "now" the jobs reason with, is
    `now()` (injected, so a test's dates do not depend on the calendar)."""

    def __init__(self, path: Path | str, *, clock: Clock = system_clock, migrations: str = _MIGRATIONS_PACKAGE) -> None:
        self.path = Path(path)
        self.clock = clock
        self._migrations_package = migrations
        on_disk = str(path) != ":memory:"
        if on_disk:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._name: str | None = None  # the file's name in the process's DuckDB instance
        # What every write is made under, when set: in the distributed mode, the account's lease (the file is then a
        # copy of the one in Postgres; a write holds the lease and is checked in after, `sync.store.account_files`).
        self.write_guard: Callable[[], AbstractContextManager[object]] | None = None
        previous_umask = os.umask(0o077)  # a new file is the user's only, from its first byte
        try:
            if on_disk:
                self._name, self._root = _files.attach(self.path)
                # a store dropped without close() lets go of the file as DuckDB's own connection would
                self._release = weakref.finalize(self, _files.release, self.path.resolve())
            else:
                self._root = duckdb.connect(":memory:", config={"threads": QUERY_THREADS})
        except duckdb.IOException as exc:
            match = _LOCK_PID.search(str(exc))
            if "lock" in str(exc).lower():
                raise StoreLockedError(self.path, int(match.group(1)) if match else None) from exc
            raise StoreUnreadableError(self.path, _first_line(exc, self.path)) from None
        except duckdb.Error as exc:
            raise StoreUnreadableError(self.path, _first_line(exc, self.path)) from None
        finally:
            os.umask(previous_umask)
        self._local = threading.local()
        try:
            self._root.execute("SET TimeZone = 'Europe/Amsterdam'")
            if on_disk:
                self._make_private()
                stamp = _file_stamp(self.path)
                if stamp is None or stamp != _closed_intact.get(self.path):
                    self.check_readable()
            self.migrate()
        except duckdb.Error as exc:
            self._root.close()
            if self._name is not None:
                self._release()
            raise StoreUnreadableError(self.path, _first_line(exc, self.path)) from None

    def now(self) -> datetime:
        """Now on the injected clock, Europe/Amsterdam."""
        return moment(self.clock)

    def today(self) -> date:
        return self.now().date()

    # -- connections ---------------------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._root.cursor()
            if self._name is not None:
                cur.execute(f"USE {self._name}")
            self._local.cursor = cur
        return cur

    def _guarded(self) -> AbstractContextManager[object]:
        return self.write_guard() if self.write_guard is not None else nullcontext()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        cur = self.cursor()
        if getattr(self._local, "in_tx", False):
            yield cur  # nested: the outer transaction commits
            return
        with self._guarded():
            yield from self._transaction(cur)

    def _transaction(self, cur: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        cur.execute("BEGIN TRANSACTION")
        self._local.in_tx = True
        try:
            yield cur
            cur.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed (a full disk): end the transaction, or every later write on this
            # thread's cursor would silently join it and be lost with it.
            try:
                cur.execute("ROLLBACK")
            except duckdb.Error:
                pass  # DuckDB already ended it
            raise
        finally:
            self._local.in_tx = False

    def close(self, wait_seconds: float = 5.0) -> None:
        """Close the file. DuckDB refuses while another thread's statement is still running on it (a run writing its
        last row as it is being stopped); such a statement ends in moments, so wait for it a little, then give up
        with DuckDB's error."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                self._root.close()
                if self._name is not None:
                    if self._release():  # the last store on it: detached, so checkpointed
                        _remember_closed_intact(self.path)
                    else:
                        _closed_intact.pop(self.path, None)
                return
            except duckdb.Error as exc:
                if "busy" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def check_readable(self) -> None:
        """Read every row of every table once: DuckDB verifies each block's checksum as it reads it, so a damaged
        file fails here, at open, rather than in the middle of a sync. Raises `duckdb.Error`."""
        cur = self._root
        tables = [row[0] for row in cur.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() AND "
            "table_schema = 'main' AND table_type = 'BASE TABLE'").fetchall()]
        for table in tables:
            cur.execute(f'SELECT count(*), max(hash("{table}")) FROM "{table}"').fetchall()

    def _make_private(self) -> None:
        """An older file made with the default umask: owner-only from now on (the WAL too)."""
        for candidate in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                if candidate.stat().st_mode & 0o077:
                    candidate.chmod(0o600)
            except OSError:
                pass  # not there (no WAL yet), or not ours to change

    # -- helpers -------------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        if self.write_guard is None or getattr(self._local, "in_tx", False) or _reads_only(sql):
            return self.cursor().execute(sql, params or [])
        with self._guarded():
            return self.cursor().execute(sql, params or [])

    def checkpoint(self, wait_seconds: float = 5.0) -> None:
        """Write the WAL into the file itself, so the file alone holds every committed row (before it is copied).
        A statement still running on another thread makes DuckDB refuse for a moment: tried again until then, and
        after `wait_seconds` forced (that transaction is rolled back; every write under the lease is counted, so
        only a stray one could be)."""
        deadline = time.monotonic() + wait_seconds
        name = f" {self._name}" if self._name else ""
        while True:
            try:
                self._root.execute(f"CHECKPOINT{name}")
                return
            except duckdb.Error as exc:
                if "transaction" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:  # a writer that never ends: rolled back rather than all else lost
                    self._root.execute(f"FORCE CHECKPOINT{name}")
                    return
                time.sleep(0.02)

    def rows(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        cur = self.cursor().execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def rows_of(self, row: Callable[..., _Row], sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *,
                codes: Mapping[str, Callable[[Any], object]] = _NO_CODES) -> list[_Row]:
        """`rows`, each made a `row` (a TypedDict: the columns its readers rely on, with their types). `codes`:
        the columns that hold an enum's value, read back as its member (`{"state": BookingState}`)."""
        return [self._made(row, found, codes) for found in self.rows(sql, params)]

    def one_of(self, row: Callable[..., _Row], sql: str, params: Sequence[Any] | dict[str, Any] | None = None, *,
               codes: Mapping[str, Callable[[Any], object]] = _NO_CODES) -> _Row | None:
        found = self.one(sql, params)
        return None if found is None else self._made(row, found, codes)

    @staticmethod
    def _made(row: Callable[..., _Row], columns: dict[str, Any], codes: Mapping[str, Callable[[Any], object]]) -> _Row:
        for name, code in codes.items():
            if columns[name] is not None:
                columns[name] = code(columns[name])
        return row(**columns)

    def scalar(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        row = self.cursor().execute(sql, params or []).fetchone()
        return row[0] if row else None

    def frame(self, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
        return self.cursor().execute(sql, params or []).df()

    # -- migrations ----------------------------------------------------------------------------------
    def migrate(self) -> int:
        """Apply every numbered migration not applied yet, in number order. A number below the highest applied
        one still runs when it is missing (branches land in any order); the highest applied number is returned."""
        cur = self._root
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)"
        )
        applied = {row[0] for row in cur.execute("SELECT version FROM schema_version").fetchall()}
        for version, sql in _migrations(self._migrations_package):
            if version in applied:
                continue
            cur.execute("BEGIN TRANSACTION")
            try:
                cur.execute(sql)
                cur.execute("INSERT INTO schema_version VALUES (?, ?)", [version, self.now()])
                cur.execute("COMMIT")
            except Exception:
                cur.execute("ROLLBACK")
                raise
            applied.add(version)
        return max(applied, default=0)


def _reads_only(sql: str) -> bool:
    words = sql.split(None, 1)
    return bool(words) and words[0].upper() in ("SELECT", "WITH", "PRAGMA", "DESCRIBE", "SHOW")


@functools.cache  # read once per process: every account's file is opened with them
def _migrations(package: str = _MIGRATIONS_PACKAGE) -> list[tuple[int, str]]:
    found = []
    for entry in resources.files(package).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:3].isdigit():
            found.append((int(name[:3]), entry.read_text(encoding="utf-8")))
    numbers = [number for number, _ in found]
    if len(numbers) != len(set(numbers)):  # two branches took the same number: only one would ever run
        raise RuntimeError(f"two migrations share a number: {sorted(n for n in numbers if numbers.count(n) > 1)}")
    return sorted(found)
