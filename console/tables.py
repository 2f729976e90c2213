"""The tables and CSV files the pages show, built from the store's frames. Formatting only: which rows to show
is the page's (the reader's filters), what they mean is the engine's."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from console import views
from console.i18n import actor_label, class_label, level_label, t
from console.text import plain_frame
from sync.core import fmt
from sync.core.csv_safe import BOM, SEPARATORS, frame_csv
from sync.core.events import label as event_label


def total(values: pd.Series) -> Decimal:
    """Sum money exactly: each value back to its Decimal cents first, never a float sum."""
    return sum((fmt.decimal_of(v) or Decimal(0) for v in values), Decimal(0))


def class_summary(frame: pd.DataFrame, classes: Sequence[str], lang: str) -> pd.DataFrame:
    """Count and open totals (both sides) per class."""
    rows = []
    for name in classes:
        part = frame[frame["class"] == name]
        rows.append({
            t("col_class", lang): class_label(name, lang),
            t("col_count", lang): len(part),
            t("col_gripp_open", lang): fmt.money(total(part["gripp_open"]), lang),
            t("col_snelstart_open", lang): fmt.money(total(part["snelstart_open"]), lang),
        })
    columns = [t("col_class", lang), t("col_count", lang), t("col_gripp_open", lang), t("col_snelstart_open", lang)]
    return pd.DataFrame(rows, columns=columns)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _overdue(value: float | None) -> int | None:
    """Days overdue as a whole number; none when not overdue or not known (None, or NaN in a float column)."""
    return int(value) if value is not None and pd.notna(value) and value > 0 else None


def side_by_side(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The open items people read: the invoice and what differs, Gripp's columns, SnelStart's, and why (as plain
    text: no bidirectional controls or control characters from outside, `console.text.plain_frame`)."""
    records = rows.to_dict("records")
    return plain_frame(pd.DataFrame({
        t("col_invoice", lang): [r["number"] for r in records],
        t("col_customer", lang): [_text(r["customer"]) for r in records],
        t("col_class", lang): [class_label(r["class"], lang) for r in records],
        t("col_gripp_due", lang): [fmt.day(r["gripp_due"], lang) for r in records],
        t("col_gripp_total", lang): [fmt.money(r["gripp_total"], lang) for r in records],
        t("col_gripp_open", lang): [fmt.money(r["gripp_open"], lang) for r in records],
        t("col_snelstart_due", lang): [fmt.day(r["snelstart_due"], lang) for r in records],
        t("col_snelstart_total", lang): [fmt.money(r["snelstart_total"], lang) for r in records],
        t("col_snelstart_open", lang): [fmt.money(r["snelstart_open"], lang) for r in records],
        t("col_days_overdue", lang): pd.array([_overdue(r["days_overdue"]) for r in records], dtype="Int64"),
        t("col_reason", lang): [views.reasons_text(r, lang) for r in records],
    }))


def csv_text(frame: pd.DataFrame, lang: str) -> str:
    """A CSV for the reader's spreadsheet: UTF-8 with a BOM, `;` and decimal commas in Dutch, `,` in English; a
    cell a spreadsheet would run as a formula starts with `'` (`sync.core.csv_safe`)."""
    return BOM + frame_csv(frame, sep=SEPARATORS[lang])  # formulas from outside neutralised


def open_items_csv(rows: pd.DataFrame, lang: str) -> str:
    """What is shown, for a spreadsheet: the reader's headers, words and dates; amounts without grouping."""
    records = rows.to_dict("records")
    out = pd.DataFrame({
        t("col_invoice", lang): [r["number"] for r in records],
        t("col_customer", lang): [_text(r["customer"]) for r in records],
        t("col_gripp_date", lang): [_day(r["gripp_date"], lang) for r in records],
        t("col_gripp_due", lang): [_day(r["gripp_due"], lang) for r in records],
        t("col_gripp_total", lang): [fmt.plain_amount(r["gripp_total"], lang) for r in records],
        t("col_gripp_open", lang): [fmt.plain_amount(r["gripp_open"], lang) for r in records],
        t("col_snelstart_due", lang): [_day(r["snelstart_due"], lang) for r in records],
        t("col_snelstart_total", lang): [fmt.plain_amount(r["snelstart_total"], lang) for r in records],
        t("col_snelstart_open", lang): [fmt.plain_amount(r["snelstart_open"], lang) for r in records],
        t("col_class", lang): [class_label(r["class"], lang) for r in records],
        t("col_days_overdue", lang): pd.array([_overdue(r["days_overdue"]) for r in records], dtype="Int64"),
        t("col_reason", lang): [views.reasons_text(r, lang) for r in records],
    })
    return csv_text(out, lang)


def _day(value: object, lang: str) -> str:
    shown = fmt.day(value, lang)
    return "" if shown == fmt.EMPTY else shown


def log_csv(log: pd.DataFrame, lang: str) -> str:
    """The event log as shown (after the filters), for support: local times, the reader's words."""
    records = log.to_dict("records")
    out = pd.DataFrame({
        t("col_time", lang): [fmt.csv_moment(r["occurred_at"]) for r in records],
        t("col_identity", lang): [_text(r["identity_name"]) for r in records],
        t("col_level", lang): [level_label(r['level'], lang) for r in records],
        t("col_kind", lang): [event_label(r["kind"], lang) for r in records],
        t("col_invoice", lang): [_text(r["invoice_number"]) for r in records],
        t("col_message", lang): [r["message"] for r in records],
        t("col_by", lang): [actor_label(r["actor"], lang) for r in records],
        t("col_run", lang): [_text(r["run_id"]) for r in records],
    })
    return csv_text(out, lang)
