"""The last outcome of each setup check per identity (`check_results`): what the health summary and the watch read
instead of running the checks again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sync.store.db import Store


@dataclass(frozen=True)
class CheckOutcome:
    identity_id: int
    check_key: str
    status: str
    said_key: str | None
    checked_at: datetime


def record(store: Store, identity_id: int, outcomes: Iterable[tuple[str, str, str | None]]) -> None:
    """The checks just run for the identity: (check, status, the explanation's key) each; others keep theirs."""
    now = store.now()
    with store.transaction():
        for check_key, status, said_key in outcomes:
            store.execute("INSERT OR REPLACE INTO check_results VALUES (?, ?, ?, ?, ?)",
                          [identity_id, check_key, status, said_key, now])


def forget(store: Store, identity_id: int) -> None:
    """A new link: what the checks found of the one before says nothing of it."""
    store.execute("DELETE FROM check_results WHERE identity_id = ?", [identity_id])


def checked(store: Store) -> set[int]:
    """The identities whose setup checks ran at least once (since they were last linked)."""
    return {int(row["identity_id"]) for row in store.rows("SELECT DISTINCT identity_id FROM check_results")}


def latest(store: Store) -> list[CheckOutcome]:
    """Every identity's last outcome of every check, of the identities still linked."""
    return [CheckOutcome(**row) for row in store.rows(
        """SELECT identity_id, check_key, status, said_key, checked_at FROM check_results
           WHERE identity_id IN (SELECT identity_id FROM links) ORDER BY identity_id, check_key""")]
