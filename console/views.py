"""What the pages show, read from the store as DataFrames (read-only queries; every change goes through a use
case). Frames rather than row dicts: pages show tables, and DuckDB hands TIMESTAMPTZ columns to pandas without
needing pytz."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from sync.core import words
from sync.core.events import Outcome, Trigger, render, render_alert
from sync.core.events import label as event_label
from sync.core.words import DEFAULT, N_, said
from sync.jobs import overview, reconcile
from sync.mapping.problems import ProblemCode, stored_fix, stored_message
from sync.store import cache, history, outbox
from sync.store import setup as setup_repo
from sync.store.catalog import DEFAULT_ACCOUNT
from sync.store.comparison import Difference
from sync.store.db import Store
from sync.store.gone import GoneHow
from sync.store.history import RunRow
from sync.store.outbox import BookingState
from sync.store.setup import IdentityRow
from sync.wiring import Services


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts keyed by their column names."""
    return [{str(name): value for name, value in row.items()} for row in frame.to_dict("records")]


def identities(store: Store) -> list[IdentityRow]:
    return setup_repo.identities(store)


def linked_identities(store: Store) -> list[IdentityRow]:
    return [row for row in setup_repo.identities(store) if row["linked"]]


# -- runs, events, alerts -------------------------------------------------------------------------------
def runs(store: Store, identity_id: int | None = None, limit: int = 50) -> pd.DataFrame:
    where, params = ("WHERE r.identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.frame(
        f"""SELECT r.run_id, r.identity_id, i.name AS identity_name, r.trigger, r.dry_run, r.started_at,
                   r.finished_at, r.outcome, r.step, r.progress, r.counts_json, r.message, r.actor
            FROM runs r LEFT JOIN identities i USING (identity_id) {where}
            ORDER BY r.started_at DESC LIMIT {int(limit)}""",
        params,
    )


def last_run(store: Store, identity_id: int) -> RunRow | None:
    """The identity's last sync (a dry run never is one)."""
    return history.last_run(store, identity_id)


def in_progress(store: Store, account: str = DEFAULT_ACCOUNT) -> pd.DataFrame:
    """Syncs and dry runs going on now in this process (the one that owns the database), newest first."""
    from sync.jobs.locks import is_running

    frame = store.frame(
        f"""SELECT r.identity_id, i.name AS identity_name, r.trigger, r.step, r.progress, r.started_at,
                   FALSE AS preview
            FROM runs r LEFT JOIN identities i USING (identity_id) WHERE r.outcome = '{Outcome.RUNNING}'
            UNION ALL
            SELECT p.identity_id, i.name, '{Trigger.MANUAL}', p.step, p.progress, p.started_at, TRUE
            FROM previews p LEFT JOIN identities i USING (identity_id) WHERE p.outcome = '{Outcome.RUNNING}'
            ORDER BY started_at DESC"""
    )
    # A dead process's row is no progress.
    alive = [is_running(("identity", account, int(i))) for i in frame["identity_id"]]
    return frame[alive] if len(frame) else frame


def text_or_empty(value: object) -> str:
    """A cell's text; a missing value (None, NaN) is an empty cell, not Streamlit's grey "None"."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def counts_of(row: Mapping[str, Any] | None) -> dict[str, object]:
    if not row or not isinstance(row.get("counts_json"), str) or not row.get("counts_json"):
        return {}
    try:
        return dict(json.loads(row["counts_json"]))
    except (TypeError, ValueError):
        return {}


def run_words(row: Mapping[str, Any], lang: str) -> str:
    """What a recorded run did, or why it failed, in the reader's language."""
    from sync.core.events import run_summary

    reason: object = None
    if isinstance(row.get("message"), str) and row["message"]:
        try:
            reason = json.loads(row["message"])
        except ValueError:
            reason = row["message"]  # a run recorded before runs were data
    return run_summary(str(row.get("outcome")), counts_of(row), reason, lang)


EVENT_COLUMNS = ["event_id", "occurred_at", "run_id", "identity_id", "identity_name", "level", "kind", "invoice_id",
                 "invoice_number", "detail_json", "actor", "message"]


def events(store: Store, *, identity_id: int | None = None, level: str | None = None,
           kind: str | Collection[str] | None = None, actor: str | None = None, search: str | None = None,
           run_id: str | None = None, limit: int = 500, lang: str = DEFAULT) -> pd.DataFrame:
    """The event log (newest first, after the reader's filters and search) with each event's words in the
    reader's language (`message`)."""
    rows = history.events(store, identity_id=identity_id, level=level, kind=kind, actor=actor, run_id=run_id,
                          search=search, lang=lang, limit=limit)
    records = [{**row, "message": render(row, lang)} for row in rows]
    return pd.DataFrame.from_records(records, columns=EVENT_COLUMNS)


def event_actors(store: Store) -> list[str]:
    return history.event_actors(store)


def event_kinds(store: Store) -> list[str]:
    return [row["kind"] for row in store.rows("SELECT DISTINCT kind FROM events ORDER BY kind")]


def event_kind_choices(store: Store, lang: str) -> dict[str, tuple[str, ...]]:
    """The log's "Soort" filter: one choice per name the reader sees, with every kind said by it (several kinds
    are said alike, such as the steps of linking), in alphabetical order of the names. A choice is keyed by the
    first of its kinds, so it stays chosen when the reader switches language."""
    by_name: dict[str, list[str]] = {}
    for kind in event_kinds(store):
        by_name.setdefault(event_label(kind, lang), []).append(kind)
    return {kinds[0]: tuple(kinds) for _, kinds in sorted(by_name.items(), key=lambda item: item[0].casefold())}


def open_alerts(store: Store, lang: str = DEFAULT) -> pd.DataFrame:
    """Alerts nobody has seen yet, with their words in the reader's language (`message`)."""
    frame = store.frame(
        """SELECT a.alert_id, a.identity_id, i.name AS identity_name, a.run_id, a.raised_at, a.kind, a.detail_json
           FROM alerts a LEFT JOIN identities i USING (identity_id)
           WHERE a.acknowledged_at IS NULL ORDER BY a.raised_at DESC"""
    )
    return frame.assign(message=[render_alert(row, lang) for row in records(frame)])


# -- the outbox -----------------------------------------------------------------------------------------
def booking_counts(store: Store, identity_id: int) -> dict[str, int]:
    """booked, blocked, failed, pending and payments back, as the overview shows them (and `status` says them)."""
    return overview.booking_counts(store, identity_id)


CUSTOMER_CODES = (ProblemCode.CUSTOMER_CONTRADICTION, ProblemCode.CUSTOMER_AMBIGUOUS, ProblemCode.CUSTOMER_PIN_INVALID)


def customer_blocks(store: Store, identity_id: int) -> list[dict]:
    """Invoices blocked because their customer's details contradict each other (or are ambiguous): number, code,
    and the customer problem's `message` and `fix` (messages, whichever way the reason was stored)."""
    found = []
    for row in store.rows("SELECT invoice_id, number, reasons_json FROM bookings WHERE identity_id = ? AND state = ? "
                          "ORDER BY number", [identity_id, str(BookingState.BLOCKED)]):
        for reason in outbox.reasons(row):
            if reason.get("code") in CUSTOMER_CODES:
                found.append({"invoice_id": row["invoice_id"], "number": row["number"], "code": reason["code"],
                              "message": stored_message(reason), "fix": stored_fix(reason)})
                break
    return found


# -- open items -----------------------------------------------------------------------------------------
def open_items(services: Services, identity_id: int) -> pd.DataFrame:
    """Both sides' open items for an identity, from the DuckDB cache (`sync.jobs.reconcile`), by invoice number;
    against a SnelStart never read, no invoice is said to be missing there."""
    link = setup_repo.get_link(services.store, identity_id)
    administration_id = link.administration_id if link else None
    start_date = link.start_date if link else None
    read = link is None or snelstart_read_at(services.store, identity_id) is not None
    return reconcile.open_items(services.store, identity_id, administration_id, start_date, services.today(),
                                snelstart_read=read)


def snelstart_read_at(store: Store, identity_id: int) -> datetime | None:
    """When SnelStart's open items of the identity's administration were last read; None: never (or not linked)."""
    link = setup_repo.get_link(store, identity_id)
    return cache.open_items_read_at(store, link.administration_id) if link else None


def snelstart_unread_since(store: Store, identity_id: int) -> RunRow | None:
    """The identity's last run when it failed after SnelStart's open items were last read (or they never were): the
    SnelStart side shown is older than that run, or missing."""
    last = history.last_run(store, identity_id)
    if last is None or last["outcome"] != Outcome.FAILED:
        return None
    read_at = snelstart_read_at(store, identity_id)
    return last if read_at is None or read_at < last["started_at"] else None


def has_cached_invoices(store: Store, identity_id: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM gripp_invoices WHERE identity_id = ?", [identity_id]))


# The two sides disagree on the amount itself.
CHECK_FIRST = (Difference.CONFLICT, Difference.DRIFT_CHANGED, Difference.AMOUNT_DIFFERS)


def reminder_lists(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Before sending reminders from Gripp: (do not remind — overdue in Gripp but already paid in SnelStart,
    check first — overdue, but Gripp and SnelStart disagree on the amount (payments for it are held, or the
    booking is a conflict), truly overdue — open on both sides and overdue)."""
    overdue = frame["in_gripp"] & (frame["days_overdue"].fillna(-1) > 0)
    paid_elsewhere = overdue & (frame["class"] == Difference.PAYMENT_NOT_IN_GRIPP)
    check_first = overdue & frame["class"].isin(CHECK_FIRST) & (frame["gripp_open"].fillna(0) != 0)
    open_both = (frame["gripp_open"].fillna(0) != 0) & (frame["snelstart_open"].fillna(0) != 0)
    truly = overdue & frame["in_snelstart"] & open_both & ~frame["class"].isin((Difference.PAYMENT_NOT_IN_GRIPP,
                                                                                 *CHECK_FIRST))
    return frame[paid_elsewhere], frame[check_first], frame[truly]


# What a difference means and what to do, for the rows that carry no reason of their own (nothing was blocked or
# refused: the two sides simply differ).
# Every class but "in order" has one.
CLASS_REASONS = {Difference.CONFLICT: N_("reason_conflict"),
                 Difference.SNELSTART_UNREAD: N_("reason_snelstart_unread"),
                 Difference.GONE_FROM_GRIPP: N_("reason_gone_from_gripp"),
                 Difference.NOT_BOOKED: N_("reason_not_booked"),
                 Difference.DRIFT_DELETED: N_("reason_drift_deleted"),
                 Difference.ONLY_IN_SNELSTART: N_("reason_only_in_snelstart"),
                 Difference.DRIFT_CHANGED: N_("reason_drift_changed"),
                 Difference.AMOUNT_DIFFERS: N_("reason_amount_differs"),
                 Difference.PAYMENT_NOT_IN_GRIPP: N_("reason_payment_not_in_gripp"),
                 Difference.PAID_IN_GRIPP_ONLY: N_("reason_paid_in_gripp_only"),
                 Difference.DUE_DATE_DIFFERS: N_("reason_due_date_differs")}


def reasons_text(row: dict, lang: str) -> str:
    """Why an invoice is not booked (the blocking problems or SnelStart's refusal), else what its difference means
    and what to do, in the reader's language."""
    raw = row.get("reasons_json")
    parts: list[str] = []
    if isinstance(raw, str) and raw:
        try:
            for reason in json.loads(raw):
                if isinstance(reason, dict):
                    parts.append(words.say(stored_message(reason), lang) or str(reason.get("code") or ""))
                else:
                    parts.append(str(reason))
        except ValueError:
            parts.append(raw)
    error = recorded_error(row.get("last_error"), lang)
    if error not in parts:  # a refusal is both the reason and the last error: said once
        parts.append(error)
    if not any(parts) and row.get("gone_how") == GoneHow.NOT_SENT and row.get("class") == Difference.GONE_FROM_GRIPP:
        return words.say(N_("reason_gone_from_gripp.not_sent"), lang)  # not deleted: taken back from sent
    if not any(parts) and row.get("class") in CLASS_REASONS:
        return words.say(CLASS_REASONS[Difference(row["class"])], lang)
    return " ".join(p for p in parts if p)


def recorded_error(error: object, lang: str) -> str:
    """An invoice's last error (a message as JSON; before messages, English words) in the reader's language."""
    if not isinstance(error, str) or not error:
        return ""
    try:
        return said(json.loads(error), lang)
    except ValueError:
        return error
