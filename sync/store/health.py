"""One account's health at a glance, read from its own database: what the support overview shows per account."""

from __future__ import annotations

from datetime import datetime, timedelta

from sync.core.events import Outcome
from sync.store.catalog import Health
from sync.store.db import Store, quoted
from sync.store.outbox import BookingState
from sync.store.setup import LinkHealth

OVERDUE_AFTER_INTERVALS = 2  # a scheduled identity without a run for two of its intervals is overdue
OVERDUE_GRACE = timedelta(minutes=5)
_STUCK = (BookingState.BLOCKED, BookingState.FAILED, BookingState.CONFLICT)  # what waits for a person


def summarise(store: Store, account_key: str, *, next_run_at: datetime | None = None) -> Health:
    now = store.now()
    links = store.rows("SELECT identity_id, interval_minutes, paused, health FROM links ORDER BY identity_id")
    linked = [row["identity_id"] for row in links]
    last_runs = {row["identity_id"]: row for row in store.rows(
        """SELECT identity_id, started_at, outcome FROM (
               SELECT identity_id, started_at, outcome,
                      row_number() OVER (PARTITION BY identity_id ORDER BY started_at DESC) AS n
               FROM runs WHERE NOT dry_run AND outcome <> ?) WHERE n = 1""", [str(Outcome.RUNNING)])}
    overdue = 0
    for row in links:
        last = last_runs.get(row["identity_id"])
        due_by = now - OVERDUE_AFTER_INTERVALS * timedelta(minutes=int(row["interval_minutes"])) - OVERDUE_GRACE
        if not row["paused"] and last is not None and last["started_at"] < due_by:
            overdue += 1
    states = dict(store.cursor().execute(
        f"""SELECT state, count(*) FROM bookings WHERE identity_id IN (SELECT identity_id FROM links)
            AND state IN ({quoted(_STUCK)}) GROUP BY state""").fetchall())
    latest = max((row for row in last_runs.values() if row["identity_id"] in linked),
                 key=lambda row: row["started_at"], default=None)
    return Health(
        account_key=account_key,
        updated_at=now,
        identities=int(store.scalar("SELECT count(*) FROM identities") or 0),
        linked=len(linked),
        broken_links=sum(1 for row in links if row["health"] == LinkHealth.BROKEN),
        unchecked_links=sum(1 for row in links if row["health"] not in (LinkHealth.OK, LinkHealth.BROKEN)),
        failed_runs=sum(1 for i in linked if last_runs.get(i, {}).get("outcome") == Outcome.FAILED),
        overdue_runs=overdue,
        blocked=int(states.get(BookingState.BLOCKED, 0)),
        refused=int(states.get(BookingState.FAILED, 0)),
        conflicts=int(states.get(BookingState.CONFLICT, 0)),
        open_alerts=int(store.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL") or 0),
        last_run_at=latest["started_at"] if latest else None,
        last_outcome=latest["outcome"] if latest else None,
        next_run_at=next_run_at,
        schedule=[{"identity_id": int(row["identity_id"]), "interval_minutes": int(row["interval_minutes"]),
                   "paused": bool(row["paused"])} for row in links],
    )

