"""The tables and CSV files the pages show, built from the store's frames. Formatting only: which rows to show
is the page's (the reader's filters), what they mean is the engine's."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from console import views
from console.i18n import class_label, t
from sync import fmt


def total(values: pd.Series) -> Decimal:
    """Sum money exactly: each value back to its Decimal cents first, never a float sum."""
    return sum((fmt.decimal_of(v) or Decimal(0) for v in values), Decimal(0))


def class_summary(frame: pd.DataFrame, classes: list[str], lang: str) -> pd.DataFrame:
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


def _overdue(value: object) -> int | None:
    return int(value) if pd.notna(value) and value > 0 else None  # type: ignore[operator]


def side_by_side(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The open items people read: the invoice and what differs, Gripp's columns, SnelStart's, and why."""
    records = rows.to_dict("records")
    return pd.DataFrame({
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
    })


def open_items_csv(rows: pd.DataFrame, lang: str) -> str:
    """What is shown, for a spreadsheet: amounts without grouping (decimal comma and `;` in Dutch), ISO dates."""
    records = rows.to_dict("records")
    out = pd.DataFrame({
        "invoice_number": [r["number"] for r in records],
        "customer": [_text(r["customer"]) for r in records],
        "gripp_invoice_date": [r["gripp_date"] for r in records],
        "gripp_due_date": [r["gripp_due"] for r in records],
        "gripp_total": [fmt.plain_amount(r["gripp_total"], lang) for r in records],
        "gripp_open": [fmt.plain_amount(r["gripp_open"], lang) for r in records],
        "snelstart_due_date": [r["snelstart_due"] for r in records],
        "snelstart_total": [fmt.plain_amount(r["snelstart_total"], lang) for r in records],
        "snelstart_open": [fmt.plain_amount(r["snelstart_open"], lang) for r in records],
        "class": [r["class"] for r in records],
        "class_label": [class_label(r["class"], lang) for r in records],
        "days_overdue": pd.array([_overdue(r["days_overdue"]) for r in records], dtype="Int64"),
        "reason": [views.reasons_text(r, lang) for r in records],
    })
    return out.to_csv(index=False, sep=";" if lang == "nl" else ",")


def log_csv(log: pd.DataFrame, lang: str) -> str:
    """The event log as shown (after the filters), for support."""
    message = log["message_en"] if lang == "en" else log["message_nl"]
    out = log.assign(message=message)[
        ["occurred_at", "identity_id", "identity_name", "level", "kind", "invoice_number", "message", "run_id",
         "actor"]
    ]
    return out.to_csv(index=False, sep=";" if lang == "nl" else ",")
