"""The open-items comparison: both lists side by side for one identity, every difference classified, in one SQL
query over the cache. What the classes mean, and which applies first, is `sync.jobs.reconcile`'s docstring; the
query is the rule.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from sync.store.db import Store
from sync.store.outbox import BOOKED_STATES

_BOOKED = ", ".join(f"'{state}'" for state in BOOKED_STATES)  # for SQL: our own words, never outside input
_QUERY = f"""
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
        WHEN in_gripp AND NOT in_snelstart AND booking_state IN ({_BOOKED})
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




def compared(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
             today: date) -> pd.DataFrame:
    """Every open item of both sides for one identity with its class and days overdue."""
    return store.cursor().execute(_QUERY, _params(identity_id, administration_id, start_date, today)).df()


def class_counts(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
                 today: date) -> dict[str, int]:
    found = store.cursor().execute(f"SELECT class, count(*) FROM ({_QUERY}) GROUP BY class",
                                   _params(identity_id, administration_id, start_date, today)).fetchall()
    return {name: int(n) for name, n in found}


def _params(identity_id: int, administration_id: str | None, start_date: date | None, today: date) -> dict[str, Any]:
    return {"identity": identity_id, "admin": administration_id or "", "start": start_date, "today": today}
