"""Both open-items lists side by side, every difference classified. One SQL query over the DuckDB cache.

Classes (first that applies):
  conflict              SnelStart has a booking with this number that is not this invoice's: a person decides
  not_booked            in Gripp, not (yet) in SnelStart: pending, blocked or failed, with the reason
  drift_deleted         we booked it, but SnelStart no longer has it
  only_in_snelstart     open in SnelStart, no Gripp invoice with that number
  drift_changed         we booked it and SnelStart's amount is no longer what we booked
  amount_differs        both have it, the amounts differ (booked before this link, or adopted)
  payment_not_in_gripp  SnelStart shows less open than Gripp: a payment still to come back
  paid_in_gripp_only    Gripp shows less open than SnelStart: paid in Gripp only (nothing is written)
  due_date_differs      same amounts, different due dates
  in_sync               nothing to do
An invoice of 0,00 (nothing to book) is no open item on either side and is not listed; nor is a SnelStart item
without a Gripp invoice that is settled (nothing open is no open item).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from sync.store.db import Store

CLASSES = (
    "conflict", "not_booked", "drift_deleted", "only_in_snelstart", "drift_changed", "amount_differs",
    "payment_not_in_gripp", "paid_in_gripp_only", "due_date_differs", "in_sync",
)
AGE_BUCKETS = ("not_due", "0-30", "31-60", "61-90", ">90")

_QUERY = """
WITH g AS (
    SELECT invoice_id, number, company_name, invoice_date, due_date, total_incl_vat, total_open
    FROM gripp_invoices
    WHERE identity_id = $identity AND status = 'SENT' AND ($start IS NULL OR invoice_date >= $start)
), s AS (
    SELECT verkoopfactuur_id, booking_id, factuurnummer, factuur_datum, verval_datum, factuur_bedrag, openstaand_saldo
    FROM ss_open_items WHERE administration_id = $admin
), b AS (
    SELECT invoice_id, state, amount AS booked_amount, adopted, reasons_json, last_error, changed_in_gripp
    FROM bookings WHERE identity_id = $identity
), joined AS (
    SELECT
        coalesce(g.number, s.factuurnummer) AS number,
        g.invoice_id, g.company_name AS customer, g.invoice_date AS gripp_date, g.due_date AS gripp_due,
        g.total_incl_vat AS gripp_total, g.total_open AS gripp_open,
        s.booking_id, s.factuur_datum AS snelstart_date, s.verval_datum AS snelstart_due,
        s.factuur_bedrag AS snelstart_total, s.openstaand_saldo AS snelstart_open,
        b.state AS booking_state, b.booked_amount, coalesce(b.adopted, FALSE) AS adopted, b.reasons_json, b.last_error,
        coalesce(b.changed_in_gripp, FALSE) AS changed_in_gripp,
        g.invoice_id IS NOT NULL AS in_gripp, s.verkoopfactuur_id IS NOT NULL AS in_snelstart
    FROM g FULL OUTER JOIN s ON s.factuurnummer = g.number
    LEFT JOIN b ON b.invoice_id = g.invoice_id
)
SELECT *,
    CASE
        WHEN booking_state = 'conflict' THEN 'conflict'
        WHEN in_gripp AND NOT in_snelstart AND booking_state IN ('booked', 'pdf_uploading', 'pdf_pending', 'done')
            THEN 'drift_deleted'
        WHEN in_gripp AND NOT in_snelstart THEN 'not_booked'
        WHEN NOT in_gripp THEN 'only_in_snelstart'
        WHEN snelstart_total <> gripp_total AND NOT adopted AND booked_amount IS NOT NULL
             AND snelstart_total <> booked_amount THEN 'drift_changed'
        WHEN snelstart_total <> gripp_total THEN 'amount_differs'
        WHEN snelstart_open < gripp_open AND gripp_total >= 0 THEN 'payment_not_in_gripp'
        WHEN snelstart_open > gripp_open AND gripp_total < 0 THEN 'payment_not_in_gripp'
        WHEN snelstart_open <> gripp_open THEN 'paid_in_gripp_only'
        WHEN snelstart_due IS DISTINCT FROM gripp_due THEN 'due_date_differs'
        ELSE 'in_sync'
    END AS class,
    coalesce(gripp_open, snelstart_open) AS open_amount,
    -- nothing open on either side (settled, a credit note) is overdue by no days
    CASE WHEN greatest(coalesce(gripp_open, 0), coalesce(snelstart_open, 0)) > 0
         THEN $today - coalesce(gripp_due, snelstart_due) END AS days_overdue
FROM joined
WHERE (coalesce(gripp_open, 0) <> 0 OR coalesce(snelstart_open, 0) <> 0
       OR NOT in_snelstart OR snelstart_total <> gripp_total)
  AND NOT (booking_state IS NOT DISTINCT FROM 'nothing_to_book' AND NOT in_snelstart)
"""


def open_items(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
               today: date) -> pd.DataFrame:
    """Every open item of both sides for one identity, with its class, ageing bucket and reason."""
    frame = store.cursor().execute(_QUERY, _params(identity_id, administration_id, start_date, today)).df()
    frame["age_bucket"] = age_buckets(frame["days_overdue"])
    return frame


def class_counts(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
                 today: date) -> dict[str, int]:
    """How many open items each class has: what a run reports, without building the frame the pages show."""
    found = store.cursor().execute(f"SELECT class, count(*) FROM ({_QUERY}) GROUP BY class",
                                   _params(identity_id, administration_id, start_date, today)).fetchall()
    return {name: int(n) for name, n in found}


def _params(identity_id: int, administration_id: str | None, start_date: date | None, today: date) -> dict:
    return {"identity": identity_id, "admin": administration_id or "", "start": start_date, "today": today}


def age_buckets(days_overdue: pd.Series) -> pd.Series:
    bins = [-10**9, 0, 30, 60, 90, 10**9]
    return pd.cut(days_overdue.fillna(-1), bins=bins, labels=list(AGE_BUCKETS), right=True).astype(str)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Count and totals per class, in the order of CLASSES."""
    grouped = frame.groupby("class").agg(
        count=("number", "size"), gripp_open=("gripp_open", "sum"), snelstart_open=("snelstart_open", "sum")
    )
    return grouped.reindex([c for c in CLASSES if c in grouped.index])
