"""What the watch (`sync.jobs.watch`) reads of one account's own data to work out its problems: the links and their
health, the last runs per identity, the invoices that wait for a person, Gripp's quota pauses of a day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sync.core.dates import AMSTERDAM
from sync.core.events import DID_ITS_WORK, EventKind, Outcome
from sync.store.db import Store, quoted
from sync.store.outbox import BookingState

WAITING = (BookingState.BLOCKED, BookingState.FAILED, BookingState.CONFLICT)  # what waits for a person


def names(store: Store) -> dict[int, str]:
    return {int(row["identity_id"]): str(row["name"] or f"#{row['identity_id']}")
            for row in store.rows("SELECT identity_id, name FROM identities")}


def links(store: Store) -> list[dict[str, Any]]:
    return store.rows(
        """SELECT identity_id, administration_name, health, health_detail, health_checked_at, interval_minutes,
                  paused FROM links ORDER BY identity_id""")


def recent_runs(store: Store, identity_id: int, limit: int) -> list[dict[str, Any]]:
    """The identity's last finished runs (not dry runs), newest first."""
    return store.rows(
        """SELECT run_id, trigger, started_at, finished_at, outcome, message FROM runs
           WHERE identity_id = ? AND NOT dry_run AND outcome <> ? ORDER BY started_at DESC LIMIT ?""",
        [identity_id, str(Outcome.RUNNING), limit])


def last_good_run(store: Store, identity_id: int) -> datetime | None:
    found = store.scalar(
        f"""SELECT max(finished_at) FROM runs WHERE identity_id = ? AND NOT dry_run
            AND outcome IN ({', '.join('?' * len(DID_ITS_WORK))})""", [identity_id, *map(str, DID_ITS_WORK)])
    return found if isinstance(found, datetime) else None


def waiting(store: Store) -> list[dict[str, Any]]:
    """The linked identities' invoices that wait for a person, with since when (their booking's last change)."""
    return store.rows(
        f"""SELECT identity_id, invoice_id, number, state, amount, updated_at FROM bookings
            WHERE identity_id IN (SELECT identity_id FROM links) AND state IN ({quoted(WAITING)})
            ORDER BY identity_id, number""")


def quota_pauses(store: Store, day: date) -> list[datetime]:
    """The distinct times Gripp's spent hourly quota lets the account go on again, of the pauses on `day`
    (Amsterdam): one per quota hour spent, however many runs met it."""
    start = datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM)
    rows = store.rows(
        """SELECT DISTINCT json_extract_string(detail_json, '$.resumes_at') AS resumes_at FROM events
           WHERE kind = ? AND occurred_at >= ? AND occurred_at < ? ORDER BY 1""",
        [str(EventKind.PAUSED), start, start + timedelta(days=1)])
    found = []
    for row in rows:
        try:
            found.append(datetime.fromisoformat(str(row["resumes_at"])))
        except ValueError:
            continue
    return sorted({moment.replace(minute=0, second=0, microsecond=0) for moment in found})
