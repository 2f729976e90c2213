"""The open-items comparison: both lists side by side for one identity, every difference classified, in one SQL
query over the cache. What the classes mean, and which applies first, is `sync.jobs.reconcile`'s docstring; the
query is the rule.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

import pandas as pd

from sync.store.cache import DELETED
from sync.store.db import Store, quoted
from sync.store.gone import GoneHow
from sync.store.outbox import BOOKED_STATES, BookingState


class Difference(StrEnum):
    """How an open item's two sides compare, the first that applies (`sync.jobs.reconcile` says what each means);
    the query below is the rule."""

    CONFLICT = "conflict"
    SNELSTART_UNREAD = "snelstart_unread"
    GONE_FROM_GRIPP = "gone_from_gripp"
    NOT_BOOKED = "not_booked"
    DRIFT_DELETED = "drift_deleted"
    ONLY_IN_SNELSTART = "only_in_snelstart"
    DRIFT_CHANGED = "drift_changed"
    AMOUNT_DIFFERS = "amount_differs"
    PAYMENT_NOT_IN_GRIPP = "payment_not_in_gripp"
    PAID_IN_GRIPP_ONLY = "paid_in_gripp_only"
    DUE_DATE_DIFFERS = "due_date_differs"
    IN_SYNC = "in_sync"


_BOOKED = quoted(BOOKED_STATES)
_QUERY = f"""
WITH g AS (
    SELECT invoice_id, number, company_name, invoice_date, due_date, total_incl_vat, total_open
    FROM gripp_invoices
    WHERE identity_id = $identity AND status = 'SENT' AND ($start IS NULL OR invoice_date >= $start)
), s AS (
    -- the relatie's name: an item only SnelStart has shows its customer too
    SELECT o.verkoopfactuur_id, o.booking_id, o.factuurnummer, o.factuur_datum, o.verval_datum, o.factuur_bedrag,
           o.openstaand_saldo, r.name AS relatie_name
    FROM ss_open_items o
    LEFT JOIN ss_relaties r ON r.administration_id = o.administration_id AND r.relatie_id = o.relatie_id
    WHERE o.administration_id = $admin
), gone AS (
    -- booked by the link, and Gripp no longer shows it as sent (deleted, or back to concept); confirmed: a person
    -- said it was deleted on purpose (sync.store.gone), so it is no longer a difference
    SELECT gi.invoice_id, gi.number, gi.company_name,
           CASE WHEN gi.status = '{DELETED}' THEN '{GoneHow.DELETED}' ELSE '{GoneHow.NOT_SENT}' END AS gone_how,
           c.confirmed_at IS NOT NULL AS gone_confirmed, c.confirmed_by AS gone_confirmed_by
    FROM bookings bk JOIN gripp_invoices gi ON gi.invoice_id = bk.invoice_id
    LEFT JOIN invoices_gone c ON c.identity_id = bk.identity_id AND c.invoice_id = bk.invoice_id
    WHERE bk.identity_id = $identity AND bk.state IN ({_BOOKED}) AND gi.status IS DISTINCT FROM 'SENT'
), b AS (
    SELECT invoice_id, state, amount AS booked_amount, adopted, reasons_json, last_error, changed_in_gripp
    FROM bookings WHERE identity_id = $identity
), joined AS (
    SELECT
        coalesce(g.number, s.factuurnummer) AS number,
        coalesce(g.invoice_id, gone.invoice_id) AS invoice_id,
        coalesce(g.company_name, gone.company_name, s.relatie_name) AS customer, g.invoice_date AS gripp_date,
        g.due_date AS gripp_due,
        g.total_incl_vat AS gripp_total, g.total_open AS gripp_open,
        s.booking_id, s.factuur_datum AS snelstart_date, s.verval_datum AS snelstart_due,
        s.factuur_bedrag AS snelstart_total, s.openstaand_saldo AS snelstart_open,
        b.state AS booking_state, b.booked_amount, coalesce(b.adopted, FALSE) AS adopted, b.reasons_json, b.last_error,
        coalesce(b.changed_in_gripp, FALSE) AS changed_in_gripp,
        g.invoice_id IS NOT NULL AS in_gripp, s.verkoopfactuur_id IS NOT NULL AS in_snelstart, gone.gone_how,
        coalesce(gone.gone_confirmed, FALSE) AS gone_confirmed, gone.gone_confirmed_by
    FROM g FULL OUTER JOIN s ON s.factuurnummer = g.number
    LEFT JOIN gone ON g.invoice_id IS NULL AND gone.number = s.factuurnummer
    LEFT JOIN b ON b.invoice_id = coalesce(g.invoice_id, gone.invoice_id)
)
SELECT *,
    CASE
        WHEN booking_state = '{BookingState.CONFLICT}' THEN '{Difference.CONFLICT}'
        WHEN NOT $snelstart_read THEN '{Difference.SNELSTART_UNREAD}'
        WHEN gone_how IS NOT NULL AND NOT gone_confirmed THEN '{Difference.GONE_FROM_GRIPP}'
        WHEN gone_how IS NOT NULL THEN '{Difference.IN_SYNC}'
        WHEN in_gripp AND NOT in_snelstart AND booking_state IN ({_BOOKED})
            THEN '{Difference.DRIFT_DELETED}'
        WHEN in_gripp AND NOT in_snelstart THEN '{Difference.NOT_BOOKED}'
        WHEN NOT in_gripp THEN '{Difference.ONLY_IN_SNELSTART}'
        WHEN snelstart_total <> gripp_total AND NOT adopted AND booked_amount IS NOT NULL
             AND snelstart_total <> booked_amount THEN '{Difference.DRIFT_CHANGED}'
        WHEN snelstart_total <> gripp_total THEN '{Difference.AMOUNT_DIFFERS}'
        WHEN snelstart_open < gripp_open AND gripp_total >= 0 THEN '{Difference.PAYMENT_NOT_IN_GRIPP}'
        WHEN snelstart_open > gripp_open AND gripp_total < 0 THEN '{Difference.PAYMENT_NOT_IN_GRIPP}'
        WHEN snelstart_open <> gripp_open THEN '{Difference.PAID_IN_GRIPP_ONLY}'
        WHEN snelstart_due IS DISTINCT FROM gripp_due THEN '{Difference.DUE_DATE_DIFFERS}'
        ELSE '{Difference.IN_SYNC}'
    END AS class,
    coalesce(gripp_open, snelstart_open) AS open_amount,
    -- nothing open on either side (settled, a credit note) is overdue by no days
    CASE WHEN greatest(coalesce(gripp_open, 0), coalesce(snelstart_open, 0)) > 0
         THEN $today - coalesce(gripp_due, snelstart_due) END AS days_overdue
FROM joined
WHERE (coalesce(gripp_open, 0) <> 0 OR coalesce(snelstart_open, 0) <> 0
       OR (NOT in_snelstart AND $snelstart_read) OR snelstart_total <> gripp_total)
  AND NOT (booking_state IS NOT DISTINCT FROM '{BookingState.NOTHING_TO_BOOK}' AND NOT in_snelstart)
"""




def compared(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
             today: date, *, snelstart_read: bool = True) -> pd.DataFrame:
    """Every open item of both sides for one identity with its class and days overdue. `snelstart_read` False:
    SnelStart's open items were never read, so no invoice is said to be missing there (`snelstart_unread`), and
    one settled in Gripp is no open item."""
    return store.cursor().execute(_QUERY, _params(identity_id, administration_id, start_date, today,
                                                  snelstart_read)).df()


def class_counts(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
                 today: date) -> dict[Difference, int]:
    found = store.cursor().execute(f"SELECT class, count(*) FROM ({_QUERY}) GROUP BY class",
                                   _params(identity_id, administration_id, start_date, today)).fetchall()
    return {Difference(name): int(n) for name, n in found}


def _params(identity_id: int, administration_id: str | None, start_date: date | None, today: date,
            snelstart_read: bool = True) -> dict[str, Any]:
    return {"identity": identity_id, "admin": administration_id or "", "start": start_date, "today": today,
            "snelstart_read": snelstart_read}
