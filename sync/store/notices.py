"""The deployment's ledger of problems (the catalog's `notices`) and what waits to be said about them (`messages`):
`NoticeLedger.reconcile` compares an account's problems as found now with the problems still open, in one
transaction — a new one gets its row and a "started" message, one no longer found is ended with an "over" message,
one that lasts gets nothing. So a problem is announced once per deployment, whichever run, check or process finds
it, across restarts. See `sync.core.notices`.

Invoices waiting for a person are a problem each (`subject` = the invoice), but said together: the invoices of one
identity that start (or stop) waiting at one reconcile share one message that lists them.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.core.notices import NoticeKind, Said
from sync.core.words import jsonable
from sync.store.db import Store
from sync.store.deliveries import Message  # one shape of a message, written here and delivered there
from sync.store.pg import PgStore

_RECONCILING = threading.Lock()
GROUPED = frozenset({NoticeKind.WAITING_FOR_PERSON})  # one message per identity for every such problem at once


@dataclass(frozen=True)
class Problem:
    """One problem of an account as found now. `values` are what its words need (names, counts, since when)."""

    kind: NoticeKind
    identity_id: int | None = None
    subject: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int | None, str, str]:
        return (self.identity_id, str(self.kind), self.subject)


@dataclass(frozen=True)
class Notice:
    notice_id: int
    account_key: str
    identity_id: int | None
    kind: str
    subject: str
    values: dict[str, Any]
    started_at: datetime
    ended_at: datetime | None

    @property
    def key(self) -> tuple[int | None, str, str]:
        return (self.identity_id, self.kind, self.subject)




class NoticeLedger:
    """The catalog's `notices` and `messages` (`Catalog.notices()`)."""

    def __init__(self, store: Store | PgStore) -> None:
        self._store = store

    def reconcile(self, account_key: str, found: list[Problem], *,
                  group_values: dict[int | None, dict[str, Any]] | None = None) -> list[int]:
        """Bring the account's open problems in line with `found`; the ids of the messages it added.
        `group_values` are values every grouped message of an identity gets (its names)."""
        store = self._store
        now = store.now()
        wanted = {problem.key: problem for problem in found}
        added: list[int] = []
        # Runs of one account's identities end at the same time in one process: one reconcile at a time, or both
        # would find the same problem new (DuckDB does not see two inserts of one problem as a conflict). On
        # Postgres several nodes share the ledger: one reconcile of an account at a time across them too.
        with _RECONCILING, store.transaction():
            if isinstance(store, PgStore):
                store.hold(f"notices {account_key}")
            still = {notice.key: notice for notice in self._open(account_key)}
            started = [wanted[key] for key in wanted if key not in still]
            ended = [still[key] for key in still if key not in wanted]
            new_ids: dict[tuple[int | None, str, str], int] = {}
            for problem in started:
                new_ids[problem.key] = int(store.scalar(
                    """INSERT INTO notices (account_key, identity_id, kind, subject, values_json, started_at)
                       VALUES (?, ?, ?, ?, ?, ?) RETURNING notice_id""",
                    [account_key, problem.identity_id, str(problem.kind), problem.subject, _json(problem.values),
                     now]))
            for notice in ended:
                store.execute("UPDATE notices SET ended_at = ? WHERE notice_id = ?", [now, notice.notice_id])
            for problem in started:
                if problem.kind not in GROUPED:
                    added.append(self._say(account_key, new_ids[problem.key], Said.STARTED, problem.values, now))
            for notice in ended:
                if notice.kind not in GROUPED:
                    added.append(self._say(account_key, notice.notice_id, Said.OVER,
                                           {**notice.values, "since": notice.values.get("since")
                                            or notice.started_at.isoformat(), "over_at": now.isoformat()}, now))
            extra = group_values or {}
            for kind in GROUPED:
                for identity_id, problems in _by_identity([p for p in started if p.kind == kind]).items():
                    first = min(new_ids[p.key] for p in problems)
                    added.append(self._say(account_key, first, Said.STARTED,
                                           _grouped(extra.get(identity_id, {}), [p.values for p in problems]), now))
                for identity_id, notices in _by_identity([n for n in ended if n.kind == kind]).items():
                    first = min(n.notice_id for n in notices)
                    values = {**_grouped(extra.get(identity_id, {}), [n.values for n in notices]),
                              "over_at": now.isoformat()}
                    added.append(self._say(account_key, first, Said.OVER, values, now))
        return added

    def open_notices(self, account_key: str | None = None) -> list[Notice]:
        """The problems still open (of one account, or of all)."""
        return self._open(account_key)

    def messages(self, account_key: str | None = None) -> list[Message]:
        where, params = ("WHERE account_key = ?", [account_key]) if account_key is not None else ("", [])
        return [Message(message_id=row["message_id"], account_key=row["account_key"], notice_id=row["notice_id"],
                        said=row["said"], values=json.loads(row["values_json"] or "{}"),
                        target_key=row["target_key"], created_at=row["created_at"])
                for row in self._store.rows(f"SELECT * FROM messages {where} ORDER BY message_id", params)]

    def notices(self, account_key: str) -> list[Notice]:
        """Every problem of the account, open or over, oldest first."""
        return [_notice(row) for row in self._store.rows(
            "SELECT * FROM notices WHERE account_key = ? ORDER BY notice_id", [account_key])]

    def _open(self, account_key: str | None) -> list[Notice]:
        where, params = ("AND account_key = ?", [account_key]) if account_key is not None else ("", [])
        return [_notice(row) for row in self._store.rows(
            f"SELECT * FROM notices WHERE ended_at IS NULL {where} ORDER BY notice_id", params)]

    def _say(self, account_key: str, notice_id: int, said: Said, values: dict[str, Any], now: datetime) -> int:
        return int(self._store.scalar(
            """INSERT INTO messages (account_key, notice_id, said, values_json, created_at) VALUES (?, ?, ?, ?, ?)
               RETURNING message_id""", [account_key, notice_id, str(said), _json(values), now]))


def _grouped(common: dict[str, Any], values: list[dict[str, Any]]) -> dict[str, Any]:
    """One message's values for several invoices: the identity's, then the invoices' numbers and amounts listed."""
    ordered = sorted(values, key=lambda v: str(v.get("number", "")))
    shown = ordered[:MAX_LISTED]
    return {**common, "n": len(values), "numbers": [str(v.get("number", "")) for v in shown],
            "more": len(values) - len(shown), "since": min((str(v.get("since", "")) for v in values), default=""),
            "invoices": [{"number": v.get("number"), "amount": v.get("amount")} for v in shown]}


MAX_LISTED = 20  # invoice numbers named in one message; the rest is a count ("more")


def _by_identity(items: list[Any]) -> dict[int | None, list[Any]]:
    found: dict[int | None, list[Any]] = {}
    for item in items:
        found.setdefault(item.identity_id, []).append(item)
    return found


def _json(values: dict[str, Any]) -> str:
    return json.dumps(jsonable(values), default=str, ensure_ascii=False, sort_keys=True)


def _notice(row: dict[str, Any]) -> Notice:
    return Notice(notice_id=row["notice_id"], account_key=row["account_key"], identity_id=row["identity_id"],
                  kind=row["kind"], subject=row["subject"], values=json.loads(row["values_json"] or "{}"),
                  started_at=row["started_at"], ended_at=row["ended_at"])
