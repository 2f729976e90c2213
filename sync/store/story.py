"""The reads behind one invoice's story (`sync.jobs.story`): everything the store holds about one invoice number of
one identity — Gripp's invoice, the outbox's row, the log's events, SnelStart's open item and relatie, the money
SnelStart saw come in and the payments the link registered in Gripp."""

from __future__ import annotations

from typing import Any

from sync.store.db import Store
from sync.store.history import EventRow
from sync.store.outbox import PaymentRow, PaymentState


def identities_with(store: Store, number: str) -> list[int]:
    """The identities that know an invoice by this number: in Gripp's cache, the outbox or the log (an invoice Gripp
    no longer shows keeps its story), by id."""
    return [row["identity_id"] for row in store.rows(
        """SELECT identity_id FROM gripp_invoices WHERE number = ? AND identity_id IS NOT NULL
           UNION SELECT identity_id FROM bookings WHERE number = ?
           UNION SELECT identity_id FROM events WHERE invoice_number = ? AND identity_id IS NOT NULL
           ORDER BY identity_id""", [number, number, number])]


def gripp_invoice(store: Store, identity_id: int, number: str) -> dict[str, Any] | None:
    return store.one("SELECT * FROM gripp_invoices WHERE identity_id = ? AND number = ? ORDER BY invoice_id DESC "
                     "LIMIT 1", [identity_id, number])


def booking(store: Store, identity_id: int, number: str) -> dict[str, Any] | None:
    """The outbox's row of the invoice (`outbox.BookingRow`'s columns), with when it was booked (`booked_at`) and
    last changed (`updated_at`)."""
    return store.one("SELECT * FROM bookings WHERE identity_id = ? AND number = ? ORDER BY invoice_id DESC LIMIT 1",
                     [identity_id, number])


def events(store: Store, identity_id: int, number: str, invoice_id: int | None) -> list[EventRow]:
    """The log's events about the invoice, oldest first."""
    return store.rows_of(EventRow, """SELECT e.*, i.name AS identity_name FROM events e
                                      LEFT JOIN identities i USING (identity_id)
                                      WHERE e.identity_id = ? AND (e.invoice_number = ? OR e.invoice_id = ?)
                                      ORDER BY e.occurred_at, e.event_id""", [identity_id, number, invoice_id])


def open_item(store: Store, booking_id: str | None, administration_id: str | None,
              number: str) -> dict[str, Any] | None:
    """SnelStart's verkoopfactuur as last read: the booking's own, else the one by this number in the identity's
    administration; with its relatie's code and name."""
    return store.one(
        """SELECT s.*, r.relatiecode, r.name AS relatie_name FROM ss_open_items s
           LEFT JOIN ss_relaties r ON r.administration_id = s.administration_id AND r.relatie_id = s.relatie_id
           WHERE (? IS NOT NULL AND s.booking_id = ?) OR (s.administration_id = ? AND s.factuurnummer = ?)
           ORDER BY (s.booking_id IS NOT DISTINCT FROM ?) DESC LIMIT 1""",
        [booking_id, booking_id, administration_id, number, booking_id])


def bank_lines(store: Store, booking_id: str) -> list[dict[str, Any]]:
    """The money SnelStart's bank bookings put against the booking (received, or paid back: negative), by date."""
    return store.rows("SELECT datum, amount FROM ss_bank_lines WHERE booking_id = ? ORDER BY datum, bank_booking_id, "
                      "line_no", [booking_id])


def payments(store: Store, identity_id: int, invoice_id: int) -> list[PaymentRow]:
    """The payments the link registered (or took back) in Gripp for the invoice, oldest first."""
    return store.rows_of(PaymentRow, "SELECT * FROM payments_applied WHERE identity_id = ? AND invoice_id = ? "
                                     "ORDER BY created_at, marker", [identity_id, invoice_id],
                         codes={"state": PaymentState})
