"""The catalog's notification targets and deliveries (catalog migration 007): every SQL statement of delivering
what the link announces (`sync.jobs.deliver`). Reached through `Catalog.deliveries()`, like the sign-in lockouts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.core.notices import Said
from sync.store.db import Store
from sync.store.pg import PgStore

# A target that failed this many times in a row shows as one whose messages do not arrive ("meldingen komen niet
# aan"): on Klanten, in `accounts list`, in the account's health.
FAILING_AFTER = 3


class DeliveryState(StrEnum):
    DUE = "due"            # to be sent (again) at next_attempt_at
    SENT = "sent"          # the target took it
    GAVE_UP = "gave_up"    # too many attempts (or a test, tried once)
    DROPPED = "dropped"    # its target was taken away before it arrived


@dataclass(frozen=True)
class StoredTarget:
    """One account's target as kept: the address encrypted, its hint and language."""

    target_key: str
    account_key: str
    url_enc: str
    hint: str
    lang: str
    created_at: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True)
class TargetState:
    """How delivery to a target goes."""

    target_key: str
    account_key: str | None  # None: a deployment target
    hint: str
    failures_in_row: int
    last_error: str | None
    last_attempt_at: datetime | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class Message:
    """A message of the catalog's `messages`, with the problem it is about (None for a digest or a test)."""

    message_id: int
    account_key: str | None
    notice_id: int | None
    said: str
    values: dict[str, Any]
    target_key: str | None
    created_at: datetime
    kind: str | None = None
    notice_values: dict[str, Any] | None = None
    identity_id: int | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Due:
    """One delivery to make now."""

    message: Message
    target_key: str
    attempts: int


@dataclass(frozen=True)
class OpenNotice:
    account_key: str
    identity_id: int | None
    kind: str
    values: dict[str, Any]
    started_at: datetime


_MESSAGE = """m.message_id, m.account_key, m.notice_id, m.said, m.values_json, m.target_key, m.created_at,
              n.kind, n.values_json AS notice_values_json, n.identity_id, n.started_at, n.ended_at"""


def _message(row: dict[str, Any]) -> Message:
    return Message(message_id=int(row["message_id"]), account_key=row["account_key"], notice_id=row["notice_id"],
                   said=row["said"], values=json.loads(row["values_json"] or "{}"), target_key=row["target_key"],
                   created_at=row["created_at"], kind=row["kind"],
                   notice_values=json.loads(row["notice_values_json"]) if row["notice_values_json"] else None,
                   identity_id=row["identity_id"], started_at=row["started_at"], ended_at=row["ended_at"])


class Deliveries:
    def __init__(self, store: Store | PgStore) -> None:
        self._store = store

    # -- an account's targets -----------------------------------------------------------------------------
    def targets(self, account_key: str | None = None) -> list[StoredTarget]:
        """The targets of the account, or of every current account."""
        where, params = ("AND t.account_key = ?", [account_key]) if account_key is not None else ("", [])
        return [StoredTarget(**row) for row in self._store.rows(
            f"""SELECT t.* FROM notify_targets t JOIN accounts a USING (account_key)
                WHERE a.removed_at IS NULL {where} ORDER BY t.account_key, t.created_at, t.target_key""", params)]

    def add_target(self, target: StoredTarget) -> bool:
        """Keep the target; False when the account has it already."""
        with self._store.transaction():
            if self._store.scalar("SELECT count(*) FROM notify_targets WHERE target_key = ?", [target.target_key]):
                return False
            self._store.execute(
                "INSERT INTO notify_targets VALUES (?, ?, ?, ?, ?, ?, ?)",
                [target.target_key, target.account_key, target.url_enc, target.hint, target.lang,
                 self._store.now(), target.created_by])
        return True

    def remove_target(self, account_key: str, target_key: str) -> bool:
        """Take the target away: what it has not received yet is dropped, its state forgotten."""
        with self._store.transaction():
            found = self._store.scalar("SELECT count(*) FROM notify_targets WHERE account_key = ? AND target_key = ?",
                                       [account_key, target_key])
            self._store.execute("DELETE FROM notify_targets WHERE account_key = ? AND target_key = ?",
                                [account_key, target_key])
            if found:
                self._store.execute("UPDATE deliveries SET state = ?, next_attempt_at = NULL WHERE target_key = ? "
                                    "AND state = ?", [DeliveryState.DROPPED, target_key, DeliveryState.DUE])
                self._store.execute("DELETE FROM notify_target_state WHERE target_key = ?", [target_key])
        return bool(found)

    # -- messages and their deliveries -----------------------------------------------------------------
    def unplanned(self) -> list[Message]:
        """Messages whose deliveries were not made yet, oldest first."""
        return [_message(row) for row in self._store.rows(
            f"""SELECT {_MESSAGE} FROM messages m LEFT JOIN notices n USING (notice_id)
                WHERE m.message_id NOT IN (SELECT message_id FROM message_plans) ORDER BY m.message_id""")]

    def plan(self, message_id: int, targets: list[tuple[str, str | None]], now: datetime) -> None:
        """A delivery of the message to each (target key, its account), due now; the message is planned."""
        with self._store.transaction():
            for target_key, account_key in targets:
                self._store.execute(
                    "INSERT INTO deliveries (message_id, target_key, account_key, state, next_attempt_at, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [message_id, target_key, account_key, DeliveryState.DUE, now, now])
            self._store.execute("INSERT INTO message_plans VALUES (?, ?) ON CONFLICT DO NOTHING", [message_id, now])

    def add_message(self, *, account_key: str | None, said: str, values: dict[str, Any], target_key: str | None,
                    now: datetime) -> int:
        """A message of the link's own (a digest, a test), not about one problem."""
        return int(self._store.scalar(
            "INSERT INTO messages (account_key, said, values_json, target_key, created_at) VALUES (?, ?, ?, ?, ?) "
            "RETURNING message_id", [account_key, said, json.dumps(values, sort_keys=True), target_key, now]))

    def add_test(self, *, account_key: str | None, target_key: str, target_account: str | None,
                 now: datetime) -> int:
        """A test message to one target, planned in the same transaction and never due: the caller sends it at
        once, so no background round can pick it up and send it twice."""
        with self._store.transaction():
            message_id = self.add_message(account_key=account_key, said=Said.TEST, values={}, target_key=target_key,
                                          now=now)
            self._store.execute(
                "INSERT INTO deliveries (message_id, target_key, account_key, state, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, NULL, ?)", [message_id, target_key, target_account, DeliveryState.DUE, now])
            self._store.execute("INSERT INTO message_plans VALUES (?, ?)", [message_id, now])
        return message_id

    def due(self, now: datetime, limit: int = 200) -> list[Due]:
        """Deliveries whose time has come, oldest message first."""
        return [Due(_message(row), row["d_target"], int(row["attempts"])) for row in self._store.rows(
            f"""SELECT {_MESSAGE}, d.target_key AS d_target, d.attempts
                FROM deliveries d JOIN messages m USING (message_id) LEFT JOIN notices n ON n.notice_id = m.notice_id
                WHERE d.state = ? AND d.next_attempt_at <= ? ORDER BY m.message_id, d.target_key LIMIT ?""",
            [DeliveryState.DUE, now, limit])]

    def record(self, message_id: int, target_key: str, *, account_key: str | None, hint: str, ok: bool,
               error: str | None, now: datetime, retry_at: datetime | None) -> None:
        """An attempt's outcome: the delivery sent, due again at `retry_at`, or given up (`retry_at` None); the
        target's failures in a row counted (or cleared)."""
        state = DeliveryState.SENT if ok else DeliveryState.DUE if retry_at is not None else DeliveryState.GAVE_UP
        with self._store.transaction():
            self._store.execute(
                """UPDATE deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?,
                          sent_at = ? WHERE message_id = ? AND target_key = ?""",
                [state, None if ok else retry_at, error, now if ok else None, message_id, target_key])
            self._store.execute(
                """INSERT INTO notify_target_state (target_key, account_key, hint, failures_in_row, last_error,
                                                    last_attempt_at, last_ok_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (target_key) DO UPDATE SET
                       hint = excluded.hint,
                       failures_in_row = CASE WHEN ? THEN 0 ELSE notify_target_state.failures_in_row + 1 END,
                       last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at,
                       last_ok_at = coalesce(excluded.last_ok_at, notify_target_state.last_ok_at)""",
                [target_key, account_key, hint, 0 if ok else 1, error, now, now if ok else None, ok])

    def drop_gone(self, current: set[str]) -> int:
        """Targets no longer there (taken out of SYNC_NOTIFY_URLS, or of an account removed): what they have not
        received yet is dropped — also a delivery waiting out its pause — and their state forgotten, so they never
        show as failing. Returns the deliveries dropped."""
        keys = sorted(current)
        outside = f"target_key NOT IN ({', '.join('?' * len(keys))})" if keys else "TRUE"
        with self._store.transaction():
            dropped = int(self._store.scalar(
                f"SELECT count(*) FROM deliveries WHERE state = ? AND {outside}", [DeliveryState.DUE, *keys]))
            self._store.execute(
                f"UPDATE deliveries SET state = ?, next_attempt_at = NULL WHERE state = ? AND {outside}",
                [DeliveryState.DROPPED, DeliveryState.DUE, *keys])
            self._store.execute(f"DELETE FROM notify_target_state WHERE {outside}", keys)
        return dropped

    def delivery(self, message_id: int, target_key: str) -> dict[str, Any] | None:
        return self._store.one("SELECT * FROM deliveries WHERE message_id = ? AND target_key = ?",
                               [message_id, target_key])

    # -- what shows ------------------------------------------------------------------------------------
    def states(self) -> list[TargetState]:
        return [TargetState(**row) for row in self._store.rows(
            "SELECT * FROM notify_target_state ORDER BY account_key NULLS FIRST, hint")]

    def failing(self, at_least: int) -> list[TargetState]:
        """Targets that failed `at_least` times in a row (of current accounts, and the deployment's)."""
        return [TargetState(**row) for row in self._store.rows(
            """SELECT s.* FROM notify_target_state s LEFT JOIN accounts a USING (account_key)
               WHERE s.failures_in_row >= ? AND (s.account_key IS NULL OR a.removed_at IS NULL)
               ORDER BY s.account_key NULLS FIRST, s.hint""", [at_least])]

    def by_outcome(self) -> list[tuple[str | None, str, int]]:
        """Deliveries by the target's account (None: a deployment target) and state: (account, state, count).
        Test messages are left out: they are support trying a target, not the delivery of a problem."""
        return [(row["account_key"], row["state"], int(row["n"])) for row in self._store.rows(
            """SELECT account_key, state, count(*) AS n FROM deliveries
               WHERE message_id NOT IN (SELECT message_id FROM messages WHERE said = ?)
               GROUP BY account_key, state ORDER BY 1, 2, 3""", [Said.TEST])]

    # -- the digest ------------------------------------------------------------------------------------
    def last_digest(self, target_key: str) -> datetime | None:
        return self._store.scalar("SELECT max(created_at) FROM messages WHERE said = ? AND target_key = ?",
                                  [Said.DIGEST, target_key])

    def open_notices(self) -> list[OpenNotice]:
        """Every problem still open, of current accounts, oldest first."""
        return [OpenNotice(account_key=row["account_key"], identity_id=row["identity_id"], kind=row["kind"],
                           values=json.loads(row["values_json"] or "{}"), started_at=row["started_at"])
                for row in self._store.rows(
                    """SELECT n.* FROM notices n JOIN accounts a USING (account_key)
                       WHERE n.ended_at IS NULL AND a.removed_at IS NULL
                       ORDER BY n.account_key, n.started_at, n.notice_id""")]
