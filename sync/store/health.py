"""One account's health at a glance, read from its own database: what the support overview shows per account."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sync.core.dates import AMSTERDAM
from sync.core.events import DID_ITS_WORK, Outcome
from sync.store import check_results
from sync.store.catalog import Health
from sync.store.db import Store, quoted
from sync.store.outbox import BookingState
from sync.store.setup import LinkHealth

OVERDUE_AFTER_INTERVALS = 2  # a scheduled identity without a run for two of its intervals is overdue
OVERDUE_GRACE = timedelta(minutes=5)
# Said by the link's own health (koppelsleutel), read now (start date), or not a failure of the setup (the dry run's
# "would block", the customers' contradictions: those invoices wait for a person and are counted as such).
_LIVE_CHECKS = "'koppelsleutel', 'start_date', 'dry_run', 'debtors'"
_STUCK = (BookingState.BLOCKED, BookingState.FAILED, BookingState.CONFLICT)  # what waits for a person


def overdue_since(links: list[dict[str, Any]], last_runs: dict[int, dict[str, Any]],
                  now: datetime) -> dict[int, datetime]:
    """The scheduled identities without a run for two of their intervals: since when (their last run)."""
    found = {}
    for row in links:
        last = last_runs.get(row["identity_id"])
        due_by = now - OVERDUE_AFTER_INTERVALS * timedelta(minutes=int(row["interval_minutes"])) - OVERDUE_GRACE
        if not row["paused"] and last is not None and last["started_at"] < due_by:
            found[int(row["identity_id"])] = last["started_at"]
    return found


def last_runs(store: Store) -> dict[int, dict[str, Any]]:
    """Each identity's last finished or failed run (not a dry run): identity_id, started_at, outcome."""
    return {row["identity_id"]: row for row in store.rows(
        """SELECT identity_id, started_at, outcome FROM (
               SELECT identity_id, started_at, outcome,
                      row_number() OVER (PARTITION BY identity_id ORDER BY started_at DESC) AS n
               FROM runs WHERE NOT dry_run AND outcome <> ?) WHERE n = 1""", [str(Outcome.RUNNING)])}


def failing_checks(store: Store) -> dict[int, list[str]]:
    """Per linked identity, the setup checks that fail: as last run (`check_results`), unless what they found was
    changed since — a VAT, ledger or kostenplaats mapping saved after it, or (for the others) a run that went well
    after it — and, read now, a start date that is missing or lies in the future (the checks' own rules)."""
    today = store.now().astimezone(AMSTERDAM).date()
    found: dict[int, list[str]] = {}
    for row in store.rows(
            f"""SELECT c.identity_id, c.check_key FROM check_results c JOIN links l USING (identity_id)
                WHERE c.status = 'fail' AND c.check_key NOT IN ({_LIVE_CHECKS})
                  AND c.checked_at >= coalesce(CASE c.check_key
                      WHEN 'vat' THEN (SELECT max(updated_at) FROM vat_mappings m WHERE m.identity_id = c.identity_id)
                      WHEN 'ledgers' THEN (SELECT max(updated_at) FROM ledger_mappings m
                                           WHERE m.identity_id = c.identity_id)
                      WHEN 'kostenplaatsen' THEN (SELECT max(updated_at) FROM kostenplaats_mappings m
                                                  WHERE m.identity_id = c.identity_id)
                      ELSE (SELECT max(finished_at) FROM runs r WHERE r.identity_id = c.identity_id
                            AND NOT r.dry_run AND r.outcome IN ({quoted(DID_ITS_WORK)})) END, c.checked_at)
                ORDER BY c.identity_id, c.check_key"""):
        found.setdefault(int(row["identity_id"]), []).append(str(row["check_key"]))
    for row in store.rows("SELECT identity_id, start_date FROM links ORDER BY identity_id"):
        if row["start_date"] is None or row["start_date"] > today:
            found.setdefault(int(row["identity_id"]), []).append("start_date")
    return found


def summarise(store: Store, account_key: str, *, next_run_at: datetime | None = None) -> Health:
    now = store.now()
    links = store.rows("SELECT identity_id, interval_minutes, paused, health FROM links ORDER BY identity_id")
    linked = [row["identity_id"] for row in links]
    last = last_runs(store)
    checked = check_results.checked(store)
    overdue = len(overdue_since(links, last, now))
    states = dict(store.cursor().execute(
        f"""SELECT state, count(*) FROM bookings WHERE identity_id IN (SELECT identity_id FROM links)
            AND state IN ({quoted(_STUCK)}) GROUP BY state""").fetchall())
    latest = max((row for row in last.values() if row["identity_id"] in linked),
                 key=lambda row: row["started_at"], default=None)
    return Health(
        account_key=account_key,
        updated_at=now,
        identities=int(store.scalar("SELECT count(*) FROM identities") or 0),
        linked=len(linked),
        broken_links=sum(1 for row in links if row["health"] == LinkHealth.BROKEN),
        # not asked of SnelStart yet, or its setup checks never ran: neither reads "in orde"
        unchecked_links=sum(1 for row in links if row["health"] != LinkHealth.BROKEN
                            and (row["health"] != LinkHealth.OK or row["identity_id"] not in checked)),
        failed_runs=sum(1 for i in linked if last.get(i, {}).get("outcome") == Outcome.FAILED),
        overdue_runs=overdue,
        blocked=int(states.get(BookingState.BLOCKED, 0)),
        refused=int(states.get(BookingState.FAILED, 0)),
        conflicts=int(states.get(BookingState.CONFLICT, 0)),
        open_alerts=int(store.scalar("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL") or 0),
        failing_checks=sum(len(found) for found in failing_checks(store).values()),
        last_run_at=latest["started_at"] if latest else None,
        last_outcome=latest["outcome"] if latest else None,
        next_run_at=next_run_at,
        schedule=[{"identity_id": int(row["identity_id"]), "interval_minutes": int(row["interval_minutes"]),
                   "paused": bool(row["paused"])} for row in links],
    )

