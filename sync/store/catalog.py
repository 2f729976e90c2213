"""The deployment's catalog: its accounts (one Gripp customer each, with its own DuckDB file) and a health summary
row per account.

Kept behind this one narrow class so it can move to a shared database (Postgres) when the deployment grows past
one machine; nothing else reads the catalog's tables. It also keeps the console's sign-in lockouts
(`Catalog.lockouts()`), so that a restart forgets none, and which identity of which account links which SnelStart
administration (`administration_links`: one administration, one link, across accounts; a copy, the account's file
is the truth). An account's own data (identities, links, runs, events) is never here: it lives in the account's
file, so one account's pages can only ever read that account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sync.core.clock import Clock, system_clock
from sync.core.config import is_postgres_url
from sync.core.explained import Explained
from sync.core.words import N_, Msg
from sync.store.db import Store
from sync.store.deliveries import FAILING_AFTER, Deliveries
from sync.store.metrics import MetricsRows
from sync.store.notices import NoticeLedger
from sync.store.pg import PgStore

DEFAULT_ACCOUNT = "default"  # the account of a deployment configured the old way (GRIPP_API_TOKEN, SYNC_DB_PATH)
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class CatalogModeError(Explained, RuntimeError):
    """The catalog belongs to the other mode (sandbox or real); `message` says what to do."""


class UnknownAccount(LookupError):
    """No such account (or it was removed); `keys` are the accounts there are, for the message."""

    def __init__(self, key: str, keys: list[str]) -> None:
        self.key, self.keys = key, keys
        super().__init__(f"No account {key!r}; the accounts are: {', '.join(keys) or 'none yet'}.")


def valid_key(key: str) -> bool:
    """Lower-case letters, digits and dashes, at most 40: it goes into addresses, file names and job ids."""
    return bool(_KEY.match(key or ""))


@dataclass(frozen=True)
class Account:
    key: str
    name: str
    db_path: Path
    gripp_token_enc: str | None = None
    key_hint: str = ""
    gripp_url: str | None = None
    created_at: datetime | None = None
    removed_at: datetime | None = None


@dataclass
class Health:
    """What the support overview shows per account, written after each run, check and link change."""

    account_key: str
    updated_at: datetime | None = None
    identities: int = 0
    linked: int = 0
    broken_links: int = 0
    unchecked_links: int = 0  # linked, but SnelStart was not asked yet (no run or check since)
    failed_runs: int = 0
    overdue_runs: int = 0
    blocked: int = 0
    refused: int = 0
    conflicts: int = 0
    open_alerts: int = 0
    # Setup checks of linked identities that fail as last run (an unmapped VAT rate, a missing ledger; not run
    # again since: a mapping changed after it counts no more) and start dates in the future (sync.store.health).
    failing_checks: int = 0
    # Targets to which this account's notifications keep failing ("meldingen komen niet aan"): read live from the
    # deliveries' state (sync.store.deliveries, FAILING_AFTER) when the rows are read, like `shared_links`.
    undelivered: int = 0
    shared_links: int = 0  # links whose administration another link (of any account) links too; read live
    last_run_at: datetime | None = None
    last_outcome: str | None = None
    next_run_at: datetime | None = None
    schedule: list[dict[str, Any]] = field(default_factory=list)  # [{identity_id, interval_minutes, paused}]


@dataclass(frozen=True)
class AdministrationLink:
    """One identity of one account linked to a SnelStart administration, as the catalog knows it."""

    account_key: str
    account_name: str
    identity_id: int
    identity_name: str
    administration_id: str
    administration_name: str
    confirmed_by: str | None = None  # support's name, when linked on purpose beside another link
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class KnownLink:
    """What an account's own file says of one link (the input of `Catalog.know_links`)."""

    identity_id: int
    identity_name: str
    administration_id: str
    administration_name: str


_HEALTH_COLUMNS = ("account_key", "updated_at", "identities", "linked", "broken_links", "unchecked_links",
                   "failed_runs", "overdue_runs", "blocked", "refused", "conflicts", "open_alerts", "last_run_at",
                   "last_outcome", "next_run_at", "failing_checks")


class Catalog:
    """On a DuckDB file, or on Postgres when `path` is a `postgresql://` address (several nodes share it; `path`
    is then the address without its password). Every statement here runs unchanged on both."""

    def __init__(self, path: Path | str, *, clock: Clock = system_clock) -> None:
        self._store: Store | PgStore = (
            PgStore(str(path), clock=clock) if isinstance(path, str) and is_postgres_url(path)
            else Store(path, clock=clock, migrations="sync.store.catalog_migrations"))
        self.path: Path | str = self._store.path

    def close(self) -> None:
        self._store.close()

    def now(self) -> datetime:
        """The deployment's "now" (the catalog's clock: the sandbox's calendar there)."""
        return self._store.now()

    def ping(self) -> None:
        self._store.scalar("SELECT count(*) FROM accounts")

    def claim(self, mode: str) -> None:
        """Record the mode (sandbox | real) on a new catalog; refuse one of the other mode."""
        if self.check(mode) is None:
            self._store.execute("INSERT INTO catalog_meta VALUES ('mode', ?) ON CONFLICT DO NOTHING", [mode])

    def check(self, mode: str) -> str | None:
        """Refuse a catalog of the other mode (`CatalogModeError`), recording nothing; the mode it records."""
        found = self._store.scalar("SELECT value FROM catalog_meta WHERE key = 'mode'")
        if found is not None and found != mode:
            key = N_("error.catalog_mode.sandbox") if found == "sandbox" else N_("error.catalog_mode.real")
            raise CatalogModeError(Msg(key, path=str(self.path)), code=str(found))
        return found

    def key_check(self, made: str) -> str:
        """A token the deployment's SYNC_SECRET_KEY made (`made`, kept by the first node to ask) — what every node's
        key must open: the token kept."""
        self._store.execute("INSERT INTO catalog_meta VALUES ('key_check', ?) ON CONFLICT DO NOTHING", [made])
        return str(self._store.scalar("SELECT value FROM catalog_meta WHERE key = 'key_check'"))

    # -- accounts ---------------------------------------------------------------------------------------
    def accounts(self, *, include_removed: bool = False) -> list[Account]:
        where = "" if include_removed else "WHERE removed_at IS NULL"
        return [_account(row) for row in self._store.rows(f"SELECT * FROM accounts {where} ORDER BY account_key")]

    def get(self, key: str, *, include_removed: bool = False) -> Account | None:
        row = self._store.one("SELECT * FROM accounts WHERE account_key = ?", [key])
        if row is None or (row["removed_at"] is not None and not include_removed):
            return None
        return _account(row)

    def add(self, account: Account, *, actor: str) -> Account:
        """Register an account; the key must be new (a removed account's key stays taken: its file is kept)."""
        if not valid_key(account.key):
            raise ValueError(f"invalid account key {account.key!r}")
        with self._store.transaction():
            if isinstance(self._store, PgStore):  # two nodes adding one key at once: the second finds it taken
                self._store.hold(f"account {account.key}")
            if self._store.scalar("SELECT count(*) FROM accounts WHERE account_key = ?", [account.key]):
                raise KeyError(account.key)
            self._store.execute(
                """INSERT INTO accounts (account_key, name, gripp_token_enc, key_hint, gripp_url, db_path, created_at,
                                         created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                [account.key, account.name, account.gripp_token_enc, account.key_hint, account.gripp_url,
                 str(account.db_path), self._store.now(), actor],
            )
        found = self.get(account.key)
        assert found is not None
        return found

    def remove(self, key: str, *, actor: str) -> bool:
        """Mark the account removed (its file stays on disk, for a restore) and drop its health row."""
        with self._store.transaction():
            found = self._store.scalar(
                "SELECT count(*) FROM accounts WHERE account_key = ? AND removed_at IS NULL", [key])
            self._store.execute("UPDATE accounts SET removed_at = ?, removed_by = ? WHERE account_key = ? AND "
                                "removed_at IS NULL", [self._store.now(), actor, key])
            self._store.execute("DELETE FROM account_health WHERE account_key = ?", [key])
            # Its links go with it: a removed account no longer holds an administration.
            self._store.execute("DELETE FROM administration_links WHERE account_key = ?", [key])
            # Its open problems end without a word: nobody is to be told about an account that is gone.
            self._store.execute("UPDATE notices SET ended_at = ? WHERE account_key = ? AND ended_at IS NULL",
                                [self._store.now(), key])
        return bool(found)

    # -- which identity links which administration --------------------------------------------------------
    def know_links(self, key: str, links: Iterable[KnownLink], *, confirmed: dict[int, str] | None = None) -> None:
        """The account's links as its own file has them now (it is the truth: a restored file's links replace what
        was here). A link that keeps its administration keeps support's confirmation; `confirmed` names who
        confirmed a link made just now beside another."""
        confirmed = confirmed or {}
        now = self._store.now()
        with self._store.transaction():
            before = {row["identity_id"]: row for row in self._store.rows(
                "SELECT identity_id, administration_id, confirmed_by, confirmed_at FROM administration_links "
                "WHERE account_key = ?", [key])}
            self._store.execute("DELETE FROM administration_links WHERE account_key = ?", [key])
            for link in links:
                old = before.get(link.identity_id)
                by, at = (old["confirmed_by"], old["confirmed_at"]) if old is not None and \
                    old["administration_id"] == link.administration_id else (None, None)
                if link.identity_id in confirmed:
                    by, at = confirmed[link.identity_id], now
                self._store.execute(
                    "INSERT INTO administration_links VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [key, link.identity_id, link.identity_name, link.administration_id, link.administration_name,
                     by, at])
            self._store.execute("INSERT INTO administration_links_known VALUES (?, ?) ON CONFLICT (account_key) "
                                "DO UPDATE SET known_at = excluded.known_at", [key, now])

    def links_unknown(self) -> list[Account]:
        """The current accounts whose links the catalog has not learnt yet (a deployment from before it kept them)."""
        return [_account(row) for row in self._store.rows(
            """SELECT * FROM accounts WHERE removed_at IS NULL
                 AND account_key NOT IN (SELECT account_key FROM administration_links_known) ORDER BY account_key""")]

    def links_to(self, administration_id: str) -> list[AdministrationLink]:
        """Every current account's identities linked to the administration."""
        return [AdministrationLink(**row) for row in self._store.rows(
            f"""SELECT {_LINK_SELECT} FROM administration_links l JOIN accounts a USING (account_key)
                WHERE a.removed_at IS NULL AND l.administration_id = ? ORDER BY l.account_key, l.identity_id""",
            [administration_id])]

    def shared_links(self, key: str) -> dict[int, list[AdministrationLink]]:
        """Per identity of the account whose administration other links (of this account or another) link too:
        those other links."""
        found: dict[int, list[AdministrationLink]] = {}
        for row in self._store.rows(
                f"""SELECT mine.identity_id AS mine, {_LINK_SELECT}
                    FROM administration_links mine
                    JOIN administration_links l ON l.administration_id = mine.administration_id
                         AND NOT (l.account_key = mine.account_key AND l.identity_id = mine.identity_id)
                    JOIN accounts a ON a.account_key = l.account_key
                    WHERE mine.account_key = ? AND a.removed_at IS NULL
                    ORDER BY mine.identity_id, l.account_key, l.identity_id""", [key]):
            found.setdefault(row.pop("mine"), []).append(AdministrationLink(**row))
        return found

    # -- health -----------------------------------------------------------------------------------------
    def put_health(self, health: Health) -> None:
        values = asdict(health)
        values["updated_at"] = health.updated_at or self._store.now()
        schedule = json.dumps(values.pop("schedule"), sort_keys=True)
        columns = [*_HEALTH_COLUMNS, "schedule_json"]
        self._store.execute(
            f"INSERT INTO account_health ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
            f"ON CONFLICT (account_key) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in columns[1:])}",
            [*(values[name] for name in _HEALTH_COLUMNS), schedule],
        )

    def put_health_rows(self, rows: list[Health]) -> None:
        """Many rows in one transaction (a benchmark's catalog, a restore)."""
        with self._store.transaction():
            for row in rows:
                self.put_health(row)

    # -- problems and what is said of them -----------------------------------------------------------------
    def notices(self) -> NoticeLedger:
        """The ledger of problems and the messages waiting to be delivered (`sync.store.notices`)."""
        return NoticeLedger(self._store)

    # -- sign-in lockouts -------------------------------------------------------------------------------
    def lockouts(self) -> SignInLockouts:
        """The sign-in guard's records (`sync.auth.lockout.LockoutState`)."""
        return SignInLockouts(self._store)

    def metrics(self) -> MetricsRows:
        """The figures `/metrics` serves: kept per identity, and read at scrape time."""
        return MetricsRows(self._store)

    # -- notifications ------------------------------------------------------------------------------------
    def deliveries(self) -> Deliveries:
        """The notification targets and deliveries (`sync.jobs.deliver`)."""
        return Deliveries(self._store)

    def health(self) -> list[Health]:
        """Every current account's health row (accounts without one yet get an empty row)."""
        # The shared links are counted now, not written with the row: linking one account changes the other's.
        rows = self._store.rows(
            f"""SELECT a.account_key, {', '.join('h.' + c for c in _HEALTH_COLUMNS[1:])}, h.schedule_json,
                       (SELECT count(*) FROM administration_links mine WHERE mine.account_key = a.account_key
                          AND EXISTS (SELECT 1 FROM administration_links l JOIN accounts o USING (account_key)
                                      WHERE o.removed_at IS NULL AND l.administration_id = mine.administration_id
                                        AND NOT (l.account_key = mine.account_key
                                                 AND l.identity_id = mine.identity_id))) AS shared_links,
                       (SELECT count(*) FROM notify_target_state s WHERE s.account_key = a.account_key
                          AND s.failures_in_row >= ?) AS undelivered
                FROM accounts a LEFT JOIN account_health h USING (account_key)
                WHERE a.removed_at IS NULL ORDER BY a.account_key""", [FAILING_AFTER])
        found = []
        for row in rows:
            schedule = json.loads(row.pop("schedule_json") or "[]")
            # A count not written yet (an empty row) is the dataclass's 0.
            found.append(Health(**{k: v for k, v in row.items() if not (v is None and k in _COUNTS)},
                                schedule=schedule))
        return found


class SignInLockouts:
    """`sync.auth.lockout.LockoutState` in the catalog: one row per (kind, hashed key), its failures and lock."""

    def __init__(self, store: Store | PgStore) -> None:
        self._store = store

    def get(self, kind: str, key: str) -> tuple[list[float], float] | None:
        row = self._store.one(
            "SELECT failures_json, locked_until FROM sign_in_lockouts WHERE kind = ? AND key_hash = ?", [kind, key])
        if row is None:
            return None
        return [float(t) for t in json.loads(row["failures_json"])], float(row["locked_until"])

    def put(self, kind: str, key: str, failures: list[float], locked_until: float, touched: float) -> None:
        self._store.execute(
            "INSERT INTO sign_in_lockouts (kind, key_hash, failures_json, locked_until, touched_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, key_hash) DO UPDATE SET failures_json = excluded.failures_json, "
            "locked_until = excluded.locked_until, touched_at = excluded.touched_at",
            [kind, key, json.dumps(failures), locked_until, touched])

    def drop(self, kind: str, key: str) -> None:
        self._store.execute("DELETE FROM sign_in_lockouts WHERE kind = ? AND key_hash = ?", [kind, key])

    def prune(self, idle_before: float, keep: int) -> None:
        with self._store.transaction():
            self._store.execute("DELETE FROM sign_in_lockouts WHERE touched_at < ?", [idle_before])
            self._store.execute(
                """DELETE FROM sign_in_lockouts WHERE (kind, key_hash) IN (
                       SELECT kind, key_hash FROM sign_in_lockouts ORDER BY touched_at DESC OFFSET ?)""", [keep])


_LINK_SELECT = """l.account_key, a.name AS account_name, l.identity_id, coalesce(l.identity_name, '') AS identity_name,
                  l.administration_id, coalesce(l.administration_name, l.administration_id) AS administration_name,
                  l.confirmed_by, l.confirmed_at"""
_COUNTS = {"identities", "linked", "broken_links", "unchecked_links", "failed_runs", "overdue_runs", "blocked",
           "refused", "conflicts", "open_alerts", "failing_checks"}


def _account(row: dict[str, Any]) -> Account:
    return Account(key=row["account_key"], name=row["name"], db_path=Path(row["db_path"]),
                   gripp_token_enc=row["gripp_token_enc"], key_hint=row["key_hint"] or "", gripp_url=row["gripp_url"],
                   created_at=row["created_at"], removed_at=row["removed_at"])
