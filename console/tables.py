"""The tables and CSV files the pages show, built from the store's frames. Formatting only: which rows to show
is the page's (the reader's filters), what they mean is the engine's."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal

import pandas as pd
import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from console import views
from console.i18n import actor_label, class_label, level_label, t, trigger_label
from console.text import md, plain_frame
from sync.core import fmt
from sync.core.csv_safe import BOM, SEPARATORS, frame_csv
from sync.core.events import label as event_label
from sync.core.events import run_label


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


# Gripp's and SnelStart's columns under their names: the products' own names, the same in every language.
SIDES = ("Gripp", "SnelStart")
# Pixels per column at 1280×800 with the sidebar open (974 px for the grid): every title whole in both languages,
# dates and amounts (up to 99.999,99) whole; a long customer, difference or reason is cut by the grid and read
# whole below it after a click (`comparison_detail`). tests/test_fit_browser.py measures it in Chromium.
COMPARISON_WIDTHS = {"col_invoice": 62, "col_customer": 118, "col_class": 150, "col_due": 92, "col_total_open": 140,
                     "col_days_overdue": 96, "col_reason": 74}


def side_by_side(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The open items people read: the invoice and what differs, Gripp's columns and SnelStart's under their names
    (each side's due date, and its total and open amount in one column), and why — as plain text: no
    bidirectional controls or control characters from outside, `console.text.plain_frame`."""
    records = rows.to_dict("records")

    def side(name: str, prefix: str) -> dict[tuple[str, str], list]:
        return {
            (name, t("col_due", lang)): [fmt.day(r[f"{prefix}_due"], lang) for r in records],
            (name, t("col_total_open", lang)): [_total_open(r[f"{prefix}_total"], r[f"{prefix}_open"], lang)
                                                for r in records],
        }

    gripp, snelstart = SIDES
    return plain_frame(pd.DataFrame({
        ("", t("col_invoice", lang)): [r["number"] for r in records],
        ("", t("col_customer", lang)): [_text(r["customer"]) for r in records],
        ("", t("col_class", lang)): [class_label(r["class"], lang) for r in records],
        **side(gripp, "gripp"),
        **side(snelstart, "snelstart"),
        ("", t("col_days_overdue", lang)): pd.array([_overdue(r["days_overdue"]) for r in records], dtype="Int64"),
        ("", t("col_reason", lang)): [views.reasons_text(r, lang) for r in records],
    }))


def grid_columns(widths: Mapping[str, int], lang: str, right: Collection[str] = ()) -> dict[str, ColumnConfig]:
    """A grid's column widths in pixels, by catalog key (said as the column's title), for `st.dataframe`'s
    `column_config`; the `right` ones aligned right (amounts)."""
    return {t(key, lang): st.column_config.Column(t(key, lang), width=width,
                                                  alignment="right" if key in right else None)
            for key, width in widths.items()}


def side_by_side_columns(lang: str) -> dict[str, ColumnConfig]:
    """The widths of `side_by_side`'s grid (by title, so both sides' columns alike)."""
    return grid_columns(COMPARISON_WIDTHS, lang, right={"col_total_open"})


def _total_open(total: object, still_open: object, lang: str) -> str:
    """`2.899,46 / 0,00`: the column says euros once, two amounts with a sign each would not fit beside the others."""
    if fmt.decimal_of(total) is None and fmt.decimal_of(still_open) is None:
        return fmt.EMPTY
    return f"{fmt.grouped_amount(total, lang)} / {fmt.grouped_amount(still_open, lang)}"


def comparison_detail(row: dict, lang: str) -> str:
    """One row of the comparison as markdown, every text whole (the grid cuts a long one): the invoice, its
    customer, what differs, both sides' figures and why."""
    lines = [f"**{md(row['number'])}** · {md(_text(row['customer']))} — {class_label(row['class'], lang)}"]
    for name, prefix in zip(SIDES, ("gripp", "snelstart"), strict=True):
        due = fmt.day(row[f"{prefix}_due"], lang)
        if due == fmt.EMPTY and all(fmt.decimal_of(row[f"{prefix}_{amount}"]) is None for amount in ("total", "open")):
            continue  # not on that side (not booked yet, or only in SnelStart)
        lines.append(f"{name}: {t('col_due', lang)} {due} · "
                     f"{t('col_total', lang)} {fmt.money(row[f'{prefix}_total'], lang)} · "
                     f"{t('col_still_open', lang)} {fmt.money(row[f'{prefix}_open'], lang)}")
    reason = views.reasons_text(row, lang)
    if reason:
        lines.append(f"{t('col_reason', lang)}: {md(reason)}")
    return "  \n".join(lines)


# The run history and the log at 1280×800 (974 px): the long text (a run's summary, an event's message) gets what
# the short columns leave; the grid cuts it, and a click on the row shows it whole (`run_detail`, `event_detail`).
HISTORY_WIDTHS = {"col_started": 116, "col_identity": 124, "col_trigger": 104, "col_outcome": 252,
                  "col_summary": 248, "col_by": 120}
LOG_WIDTHS = {"col_time": 116, "col_identity": 118, "col_level": 120, "col_kind": 144, "col_invoice": 62,
              "col_message": 326, "col_open": 70}


def run_detail(run: Mapping, lang: str) -> str:
    """One run of the history as markdown, every text whole: when, which identity, how it was started and by whom,
    its outcome, then its summary (or why it failed)."""
    head = " · ".join(md(part) for part in (fmt.moment(run["started_at"], lang), _text(run["identity_name"]),
                                            trigger_label(run["trigger"], lang), actor_label(run["actor"], lang)))
    outcome = run_label(run["outcome"], views.counts_of(run), lang)
    return f"**{head}** — {md(outcome)}  \n{md(views.run_words(run, lang))}"


def event_detail(event: Mapping, lang: str) -> str:
    """One event of the log as markdown, every text whole: when, which identity, level, kind and invoice, then
    its message."""
    parts = (fmt.moment(event["occurred_at"], lang), _text(event["identity_name"]), level_label(event["level"], lang),
             event_label(event["kind"], lang), views.text_or_empty(event["invoice_number"]))
    head = " · ".join(md(part) for part in parts if part)
    return f"**{head}**  \n{md(event['message'])}"


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
