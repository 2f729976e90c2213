"""The account files in the distributed mode (`SYNC_DATABASE_URL`): each account's DuckDB file lives in Postgres,
whole and compressed, under a version number; a node works on a local copy while it holds the account's *lease*.

Why whole files: an account's file is small (3 identities × 200 invoices: 8 MB, 0.3 MB compressed) and its store
is written with DuckDB's SQL in many modules; moving every table to Postgres would mean two SQL dialects for the
engine. A copy taken under a lease keeps the engine as it is and still leaves nothing on one node's disk.

The lease is a Postgres advisory lock on a session of its own: one node at a time holds an account, and a node
that dies (killed, its machine gone) loses the lock with its session, so another takes over at once. Taking it
brings the local copy up to date (downloads the newer version); giving it back checkpoints the file and checks it
in only when it changed, by compare-and-set on the version it started from: a node that lost its lease
unnoticed (a network split) cannot overwrite what the next holder wrote (`CheckInRefused`). What a node wrote
but could not check in is lost with it, exactly as a run killed before its commit: the outbox and the markers in
Gripp and SnelStart make the rerun elsewhere safe.

Within one process the lease is shared: the first holder takes it, the last gives it back (a run and the
console's write on the same account, side by side).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from sync.core.clock import Clock, moment, system_clock
from sync.store.db import known_intact
from sync.store.pg import CONNECT_SECONDS, PgUnreachableError, _reason, shown_url

log = logging.getLogger(__name__)

COMPRESSION = 1  # zlib's fastest: 8 MB in about 17 ms, to a thirtieth of its size
WAIT_SECONDS = 120.0  # how long a job waits for an account another node holds (a run takes seconds)
# The server notices a lease holder whose machine vanished (no FIN ever comes) within about half a minute.
KEEPALIVE = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
SESSION: dict[str, Any] = {"autocommit": True, "connect_timeout": CONNECT_SECONDS,
           "options": f"-c TimeZone=Europe/Amsterdam {KEEPALIVE}"}
SCHEMA = """CREATE TABLE IF NOT EXISTS account_files (
    key TEXT PRIMARY KEY,
    version BIGINT NOT NULL,
    data BYTEA NOT NULL,
    size BIGINT NOT NULL,
    checked_in_at TIMESTAMPTZ NOT NULL,
    checked_in_by TEXT NOT NULL
)"""

Stamp = tuple[int, int] | None


class ChangedElsewhere(RuntimeError):
    """The local copy is older than the one in Postgres: a write on it would be lost (another node changed the
    account since this one read it). Reading it again and redoing the change is the way."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"account {key} was changed on another node")


class CheckInRefused(RuntimeError):
    """The lease was lost while held (its session dropped): what was written here is not checked in."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"account {key}: the lease was lost, the changes were not checked in")


class LeaseTimeout(RuntimeError):
    """Another node held the account for longer than we would wait."""

    def __init__(self, key: str, seconds: float) -> None:
        self.key, self.seconds = key, seconds
        super().__init__(f"account {key} is held by another node (waited {seconds:.0f} s)")


def _stamp(path: Path) -> Stamp:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_size, found.st_mtime_ns


def _lock_id(name: str) -> str:
    return f"SELECT hashtextextended('{name.replace(chr(39), '')}', 0)"


class AccountFiles:
    """The node's side of the account files: one per process."""

    def __init__(self, url: str, node: str, *, clock: Clock = system_clock) -> None:
        self.node = node
        self.clock = clock
        self.address = shown_url(url)
        try:
            psycopg.connect(url, **SESSION).close()
        except psycopg.Error as exc:
            raise PgUnreachableError(self.address, _reason(exc, url)) from None
        self._pool = ConnectionPool(url, min_size=1, max_size=4, kwargs=SESSION, open=True,
                                    check=ConnectionPool.check_connection, name="account-files")
        # The leases' own sessions (a lock lives as long as its session): reused, not opened per run.
        self._sessions = ConnectionPool(url, min_size=0, max_size=64, kwargs=SESSION, open=True,
                                        check=ConnectionPool.check_connection, name="account-leases")
        with self._pool.connection() as connection, connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('account_files schema', 0))")
            connection.execute(SCHEMA)
        self._lock = threading.Lock()
        self._leases: dict[str, Lease] = {}
        self._local: dict[str, tuple[int, Stamp]] = {}  # key -> the version of the local copy, and its stamp then

    # -- what Postgres has -------------------------------------------------------------------------------
    def version(self, key: str) -> int | None:
        with self._pool.connection() as connection:
            row = connection.execute("SELECT version FROM account_files WHERE key = %s", [key]).fetchone()
        return int(row[0]) if row else None

    def ping(self) -> None:
        with self._pool.connection() as connection:
            connection.execute("SELECT 1")

    # -- the local copy -----------------------------------------------------------------------------------
    def local_version(self, key: str, path: Path) -> int | None:
        """The version the local copy is of; None when there is none, or it was changed since without a check-in."""
        found = self._local.get(key)
        if found is None or found[1] != _stamp(path):
            return None
        return found[0]

    def current(self, key: str, path: Path) -> bool:
        """Whether the local copy is the newest (or the account has no file in Postgres yet)."""
        newest = self.version(key)
        return newest is None or newest == self.local_version(key, path)

    def download(self, key: str, path: Path) -> int | None:
        """Replace the local copy with Postgres's newest (the file must not be open). None: Postgres has none."""
        with self._pool.connection() as connection:
            row = connection.execute("SELECT version, data FROM account_files WHERE key = %s", [key]).fetchone()
        if row is None:
            return None
        version, data = int(row[0]), bytes(row[1])
        self._write(path, zlib.decompress(data))  # zlib checks its checksum: a damaged copy raises here
        known_intact(path)
        self._local[key] = (version, _stamp(path))
        return version

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".download")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(content)
        path.with_name(path.name + ".wal").unlink(missing_ok=True)  # the old copy's log: not this file's
        os.replace(partial, path)

    def check_in(self, connection: psycopg.Connection[Any], key: str, path: Path, expected: int | None) -> int:
        """Store the (checkpointed) local file as the next version, if Postgres still has `expected`."""
        content = path.read_bytes()
        data = zlib.compress(content, COMPRESSION)
        now = moment(self.clock)
        if expected is None:
            row = connection.execute(
                "INSERT INTO account_files VALUES (%s, 1, %s, %s, %s, %s) ON CONFLICT (key) DO NOTHING "
                "RETURNING version", [key, data, len(content), now, self.node]).fetchone()
        else:
            row = connection.execute(
                "UPDATE account_files SET version = version + 1, data = %s, size = %s, checked_in_at = %s, "
                "checked_in_by = %s WHERE key = %s AND version = %s RETURNING version",
                [data, len(content), now, self.node, key, expected]).fetchone()
        if row is None:
            raise CheckInRefused(key)
        version = int(row[0])
        self._local[key] = (version, _stamp(path))
        return version

    # -- leases ---------------------------------------------------------------------------------------------
    def lease(self, key: str, path: Path, *, before_download: Callable[[], object],
              checkpoint: Callable[[], object]) -> Lease:
        """The account's lease in this process (one per account)."""
        with self._lock:
            found = self._leases.get(key)
            if found is None:
                found = self._leases[key] = Lease(self, key, path, before_download, checkpoint)
            return found

    def held(self, key: str) -> bool:
        found = self._leases.get(key)
        return found is not None and found.held

    def session(self) -> psycopg.Connection[Any]:
        """A session of its own, for a lock held across transactions (`give_back` when done)."""
        return self._sessions.getconn()

    def give_back(self, session: psycopg.Connection[Any]) -> None:
        """The session back to the pool, holding no lock any more (a broken one is dropped by the pool)."""
        try:
            if not session.closed:
                session.execute("SELECT pg_advisory_unlock_all()")
        except psycopg.Error:
            session.close()
        self._sessions.putconn(session)

    @contextmanager
    def alone(self, name: str) -> Iterator[bool]:
        """Whether this node is the only one doing `name` right now (a job of the deployment's own, such as
        delivering notifications): True while held, False when another node is at it."""
        with self._pool.connection() as connection:
            lock = connection.execute(_lock_id(f"alone:{name}")).fetchone()
            assert lock is not None
            taken = connection.execute("SELECT pg_try_advisory_lock(%s)", [lock[0]]).fetchone()
            got = bool(taken and taken[0])
            try:
                yield got
            finally:
                if got:
                    connection.execute("SELECT pg_advisory_unlock(%s)", [lock[0]])

    def close(self) -> None:
        self._sessions.close()
        self._pool.close()


class Lease:
    """One account's lease in this process: `hold()` it around whatever writes the account's file."""

    def __init__(self, files: AccountFiles, key: str, path: Path, before_download: Callable[[], object],
                 checkpoint: Callable[[], object]) -> None:
        self._files, self.key, self.path = files, key, path
        self._before_download, self._checkpoint = before_download, checkpoint
        self._mutex = threading.RLock()
        self._holders = 0
        self._session: psycopg.Connection[Any] | None = None
        self._lock_id = 0
        self._started_from: int | None = None  # the version the local copy was when the lease was taken
        self._stamp: Stamp = None

    @property
    def held(self) -> bool:
        return self._holders > 0

    @contextmanager
    def hold(self, *, reload: bool = True, wait: float = WAIT_SECONDS) -> Iterator[None]:
        """Hold the account: wait (up to `wait` seconds, else `LeaseTimeout`) until no other node does, then bring
        the local copy up to date — or, without `reload` (a person's change made on what they saw), refuse with
        `ChangedElsewhere` when it is not. Given back when the last holder in this process leaves."""
        self._take(reload, wait)
        try:
            yield
        finally:
            self._give_back()

    def _take(self, reload: bool, wait: float) -> None:
        with self._mutex:
            if self._holders:
                self._holders += 1
                return
            session = self._files.session()
            try:
                self._lock(session, wait)
                newest = self._files.version(self.key)
                local = self._files.local_version(self.key, self.path)
                if newest is not None and newest != local:
                    if not reload:
                        raise ChangedElsewhere(self.key)
                    self._before_download()
                    local = self._files.download(self.key, self.path)
            except BaseException:
                self._files.give_back(session)  # the lock taken, if any, is let go
                raise
            self._session, self._holders = session, 1
            self._started_from, self._stamp = local, _stamp(self.path)

    def _lock(self, session: psycopg.Connection[Any], wait: float) -> None:
        row = session.execute(_lock_id(f"file:{self.key}")).fetchone()
        assert row is not None
        self._lock_id = int(row[0])
        deadline, pause = time.monotonic() + wait, 0.02
        while True:
            taken = session.execute("SELECT pg_try_advisory_lock(%s)", [self._lock_id]).fetchone()
            if taken and taken[0]:
                return
            if time.monotonic() >= deadline:
                raise LeaseTimeout(self.key, wait)
            time.sleep(pause)
            pause = min(pause * 2, 0.5)

    def _give_back(self) -> None:
        with self._mutex:
            self._holders -= 1
            if self._holders:
                return
            session, self._session = self._session, None
            assert session is not None
            try:
                self._checkpoint()
                if self._started_from is None or _stamp(self.path) != self._stamp:
                    if not self.path.exists():
                        return
                    try:
                        self._files.check_in(session, self.key, self.path, self._started_from)
                    except psycopg.Error:
                        raise CheckInRefused(self.key) from None
            finally:
                self._files.give_back(session)

    def first_check_in(self) -> None:
        """An account whose file Postgres does not have yet (new, or from before the distributed mode): checked in
        as it is here."""
        with self.hold():
            self._started_from = self._files.version(self.key)
            self._stamp = None  # checked in even when unchanged
