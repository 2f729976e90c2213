"""The catalog on Postgres (`SYNC_DATABASE_URL`): the same surface as `sync.store.db.Store` for the catalog's
repositories, so several nodes share one catalog. The account's own files stay DuckDB.

The SQL is the catalog's own, written once for both: DuckDB's `?` placeholders are translated here (`placeholders`).
A small connection pool serves the threads; outside a transaction each statement autocommits on whichever
connection is free, inside one the thread keeps its connection until the transaction ends. Sessions speak
Europe/Amsterdam, like the DuckDB store. The address is shown everywhere without its password (`shown_url`).
"""

from __future__ import annotations

import functools
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from sync.core.clock import Clock, moment, system_clock
from sync.core.explained import Explained
from sync.core.words import N_, Msg
from sync.store.db import _migrations

CATALOG_MIGRATIONS = "sync.store.catalog_migrations"
POOL_SIZE = 8  # a node's threads at once on the catalog: the console's sessions and a few runs ending together
CONNECT_SECONDS = 5
_Row = TypeVar("_Row")
_NO_CODES: Mapping[str, Callable[[Any], object]] = {}
# A string literal, a quoted name or a comment (copied as they are), or a `?` / `%` (translated).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|[?%]")


def shown_url(url: str) -> str:
    """The address without its password (in the user part or as a `password=` parameter): what may be shown."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


@functools.lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """DuckDB's `?` placeholders as psycopg's `%s`, except in a string literal, a quoted name or a comment; every
    `%` doubled (psycopg reads them everywhere, literals too)."""
    return _TOKENS.sub(lambda m: "%s" if m.group() == "?" else m.group().replace("%", "%%"), sql)


class PgUnreachableError(Explained, RuntimeError):
    """Postgres did not answer, or refused us; `message` names the address (no password) and what to check."""

    def __init__(self, address: str, reason: str) -> None:
        self.address, self.reason = address, reason
        super().__init__(Msg(N_("error.postgres_unreachable"), address=address, reason=reason), code="unreachable")


class _Tx:
    """What `PgStore.transaction()` yields: statements on the transaction's connection, `?` placeholders."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self.connection.execute(placeholders(sql), params) if params else self.connection.execute(sql)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor() as cur:
            cur.executemany(placeholders(sql), rows)


class PgStore:
    """A catalog on Postgres; `path` is its address without the password (for messages)."""

    def __init__(self, url: str, *, clock: Clock = system_clock, migrations: str = CATALOG_MIGRATIONS) -> None:
        self.path = shown_url(url)
        self.clock = clock
        self._migrations_package = migrations
        self._local = threading.local()
        options: dict[str, Any] = {"autocommit": True, "options": "-c TimeZone=Europe/Amsterdam",
                                   "connect_timeout": CONNECT_SECONDS}
        try:  # once by hand: the pool would only log why it cannot connect, and keep trying
            psycopg.connect(url, **options).close()
        except psycopg.Error as exc:
            raise PgUnreachableError(self.path, _reason(exc, url)) from None
        self._pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, kwargs=options, open=True,
                                    check=ConnectionPool.check_connection,  # one dropped by a restart is replaced
                                    name="catalog")
        try:
            self.migrate()
        except BaseException:
            self._pool.close()
            raise

    def now(self) -> datetime:
        return moment(self.clock)

    def today(self) -> date:
        return self.now().date()

    # -- connections ---------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """Statements that belong together, on one connection; nested, it joins the outer one."""
        found: _Tx | None = getattr(self._local, "tx", None)
        if found is not None:
            yield found
            return
        with self._pool.connection() as connection, connection.transaction():
            self._local.tx = _Tx(connection)
            try:
                yield self._local.tx
            finally:
                self._local.tx = None

    def hold(self, name: str) -> None:
        """Within the thread's transaction: wait until no other transaction (of any node) holds `name`, then hold it
        until this one ends — what a process's own lock is for DuckDB, across the nodes."""
        if getattr(self._local, "tx", None) is None:
            raise RuntimeError("hold() outside a transaction would hold nothing")
        self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", [name])

    @contextmanager
    def _statement(self) -> Iterator[_Tx]:
        found: _Tx | None = getattr(self._local, "tx", None)
        if found is not None:
            yield found
            return
        with self._pool.connection() as connection:
            yield _Tx(connection)

    def close(self) -> None:
        self._pool.close()

    # -- helpers -------------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self._statement() as tx:
            tx.execute(sql, params)

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        with self._statement() as tx:
            cur = tx.execute(sql, params)
            if cur.description is None:
                return []
            names = [d.name for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def one(self, sql: str, params: Sequence[Any] | None = None) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        with self._statement() as tx:
            row = tx.execute(sql, params).fetchone()
            return row[0] if row else None

    def rows_of(self, row: Callable[..., _Row], sql: str, params: Sequence[Any] | None = None, *,
                codes: Mapping[str, Callable[[Any], object]] = _NO_CODES) -> list[_Row]:
        return [_made(row, found, codes) for found in self.rows(sql, params)]

    def one_of(self, row: Callable[..., _Row], sql: str, params: Sequence[Any] | None = None, *,
               codes: Mapping[str, Callable[[Any], object]] = _NO_CODES) -> _Row | None:
        found = self.one(sql, params)
        return None if found is None else _made(row, found, codes)

    # -- migrations ----------------------------------------------------------------------------------
    def migrate(self) -> int:
        """`Store.migrate` on Postgres: every numbered migration not applied yet, in number order; the highest
        applied is returned. Under an advisory lock held to the end of the transaction, so of two nodes starting
        at once one applies them and the other then finds them applied."""
        with self.transaction() as tx:
            tx.execute("SELECT pg_advisory_xact_lock(?)", [zlib.crc32(self._migrations_package.encode())])
            tx.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                       "applied_at TIMESTAMPTZ)")
            applied = {row[0] for row in tx.execute("SELECT version FROM schema_version").fetchall()}
            for version, sql in _migrations(self._migrations_package):
                if version in applied:
                    continue
                tx.execute(sql)
                tx.execute("INSERT INTO schema_version VALUES (?, ?)", [version, self.now()])
                applied.add(version)
        return max(applied, default=0)


def _made(row: Callable[..., _Row], columns: dict[str, Any], codes: Mapping[str, Callable[[Any], object]]) -> _Row:
    for name, code in codes.items():
        if columns[name] is not None:
            columns[name] = code(columns[name])
    return row(**columns)


def _reason(exc: BaseException, url: str) -> str:
    """libpq's first line, without the password should it ever hold it."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    password = urlsplit(url).password or dict(parse_qsl(urlsplit(url).query)).get("password")
    return (text.replace(password, "…") if password else text)[:200]
