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


# The checks without which "in orde" means nothing: are the BTW-tarieven and grootboeken mapped? (A koppelsleutel
# asked about alone, as Klanten's "Controleren" did, or a start date, says nothing of them.)
SETUP = ("vat", "ledgers")


def checked(store: Store) -> set[int]:
    """The identities whose setup checks ran (since they were last linked): each of `SETUP` has an outcome."""
    return {int(row["identity_id"]) for row in store.rows(
        f"""SELECT identity_id FROM check_results WHERE check_key IN ({', '.join('?' * len(SETUP))})
            GROUP BY identity_id HAVING count(DISTINCT check_key) = ?""", [*SETUP, len(SETUP)])}


def latest(store: Store) -> list[CheckOutcome]:
    """Every identity's last outcome of every check, of the identities still linked."""
    return [CheckOutcome(**row) for row in store.rows(
        """SELECT identity_id, check_key, status, said_key, checked_at FROM check_results
           WHERE identity_id IN (SELECT identity_id FROM links) ORDER BY identity_id, check_key""")]
