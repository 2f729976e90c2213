"""Booked invoices that Gripp no longer shows as sent — deleted there, or back to concept (`invoices_gone`).

What the cache says decides (`gripp_invoices.status`: `SENT`, `CONCEPT`, or `DELETED` after a complete read no longer
found it); this table remembers what was noticed (so it is told once) and a person's confirmation that the invoice
was deleted on purpose. The open-items comparison reads both (`sync.store.comparison`, class `gone_from_gripp`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sync.store.cache import DELETED
from sync.store.db import Store, quoted
from sync.store.outbox import BOOKED_STATES


class GoneHow(StrEnum):
    """How Gripp no longer shows a booked invoice as sent."""

    DELETED = "deleted"  # a complete read no longer finds it
    NOT_SENT = "not_sent"  # its status is no longer SENT (back to concept)


_BOOKED = quoted(BOOKED_STATES)


def gone(store: Store, identity_id: int) -> list[dict[str, Any]]:
    """The identity's invoices the link booked that Gripp no longer shows as sent, by number: each with `how`, the
    booking (`booking_id`, `amount`), the customer, and what was noticed and confirmed of it before (`noticed_how`,
    `confirmed_by`, `confirmed_at`; None when not yet)."""
    return store.rows(
        f"""SELECT b.invoice_id, b.number, b.booking_id, b.amount, gi.company_name, gi.invoice_date,
                   CASE WHEN gi.status = '{DELETED}' THEN '{GoneHow.DELETED}' ELSE '{GoneHow.NOT_SENT}' END AS how,
                   n.how AS noticed_how, n.confirmed_by, n.confirmed_at
            FROM bookings b JOIN gripp_invoices gi ON gi.invoice_id = b.invoice_id
            LEFT JOIN invoices_gone n ON n.identity_id = b.identity_id AND n.invoice_id = b.invoice_id
            WHERE b.identity_id = ? AND b.state IN ({_BOOKED}) AND gi.status IS DISTINCT FROM 'SENT'
            ORDER BY b.number""",
        [identity_id],
    )


def note(store: Store, identity_id: int, invoice_id: int, number: str, how: GoneHow, now: datetime) -> None:
    """Remember that the invoice was noticed gone this way; a confirmation made before stays."""
    store.execute(
        """INSERT INTO invoices_gone (identity_id, invoice_id, number, how, noticed_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, invoice_id) DO UPDATE SET how = excluded.how, noticed_at = excluded.noticed_at""",
        [identity_id, invoice_id, number, how.value, now],
    )


def forget_returned(store: Store, identity_id: int) -> int:
    """Gripp shows these as sent again (or the link no longer holds them booked): what was noticed and confirmed of
    them goes, so a later disappearance is noticed anew."""
    found = store.rows(
        f"""SELECT n.invoice_id FROM invoices_gone n
            LEFT JOIN gripp_invoices gi ON gi.invoice_id = n.invoice_id
            LEFT JOIN bookings b ON b.identity_id = n.identity_id AND b.invoice_id = n.invoice_id
            WHERE n.identity_id = ? AND (gi.status = 'SENT' OR b.state IS NULL OR b.state NOT IN ({_BOOKED}))""",
        [identity_id])
    if found:
        store.execute(f"DELETE FROM invoices_gone WHERE identity_id = ? AND invoice_id IN "
                      f"({', '.join('?' for _ in found)})", [identity_id, *(r["invoice_id"] for r in found)])
    return len(found)


def confirm(store: Store, identity_id: int, invoice_id: int, number: str, how: GoneHow, who: str,
            now: datetime) -> None:
    """A person confirmed the invoice was deleted in Gripp on purpose."""
    store.execute(
        """INSERT INTO invoices_gone VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, invoice_id) DO UPDATE SET how = excluded.how, confirmed_by = excluded.confirmed_by,
               confirmed_at = excluded.confirmed_at""",
        [identity_id, invoice_id, number, how.value, now, who, now],
    )
