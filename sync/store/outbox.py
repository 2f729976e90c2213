"""The booking state of every Gripp invoice (the outbox) and the payments registered in Gripp.

Each step of the push records its state (`BookingState`) before and after it, so a crash at any point resumes
correctly:
  pending -> posting -> booked -> done
  blocked (fix the mapping or the customer, then it is retried), conflict (SnelStart has a booking with this
  number that is not this invoice's: a person decides; looked at again every run), failed (SnelStart refused:
  reason kept), pdf_pending, nothing_to_book (an invoice of 0,00: no booking, no open item)
A payment registered in Gripp moves sending -> done -> reversing -> reversed (`PaymentState`), and back to sending
when the invoice is paid again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypedDict

from sync.store.db import Store, quoted


class BookingState(StrEnum):
    """Where a Gripp invoice is on its way to SnelStart: the outbox's `state` (the values are what it stores)."""

    PENDING = "pending"  # to be booked
    POSTING = "posting"  # the booking is being sent: a crash here is settled by looking it up
    BOOKED = "booked"  # in SnelStart; its PDF still to go
    PDF_PENDING = "pdf_pending"  # in SnelStart; its PDF failed and is tried again
    DONE = "done"  # in SnelStart with its PDF
    BLOCKED = "blocked"  # a problem a person fixes (a mapping, a customer): tried again every run
    CONFLICT = "conflict"  # SnelStart has a booking with its number that is not this invoice's: a person decides
    FAILED = "failed"  # SnelStart refused it (the reason kept)
    NOTHING_TO_BOOK = "nothing_to_book"  # an invoice of 0,00: no booking, no open item


class PaymentState(StrEnum):
    """A payment the link registers in Gripp (`payments_applied.state`)."""

    SENDING = "sending"  # asked of Gripp; a crash here is settled by reading Gripp back
    DONE = "done"  # registered
    REVERSING = "reversing"  # being taken back
    REVERSED = "reversed"  # taken back (registered again, it is sending once more)


BOOKED_STATES = (BookingState.BOOKED, BookingState.PDF_PENDING, BookingState.DONE)
_BOOKED = quoted(BOOKED_STATES)


class BookingRow(TypedDict):
    """An outbox row as the store hands it out. When it last changed comes as epoch microseconds (`updated_us`;
    `updated_at` and `booked_at` are left out): zoned timestamps are the dearest part of reading rows into Python."""

    identity_id: int
    invoice_id: int
    number: str
    state: BookingState
    booking_id: str | None
    relatie_id: str | None
    fingerprint: str | None
    amount: Decimal | None
    reasons_json: str | None  # the blocking problems or SnelStart's refusal (`reasons`)
    last_error: str | None
    error_kind: str | None  # sync.jobs.errors.ErrorKind
    attempts: int
    adopted: bool
    changed_in_gripp: bool
    document_id: str | None
    conflict_booking_id: str | None
    adopted_by: str | None
    updated_us: int


class PaymentRow(TypedDict):
    """A payment the link registered (or is registering, or took back) in Gripp."""

    marker: str
    identity_id: int
    invoice_id: int
    booking_id: str
    amount: Decimal
    pay_date: date
    state: PaymentState
    gripp_payment_id: int | None
    created_at: datetime
    applied_at: datetime | None
    reversed_at: datetime | None


_BOOKING_COLUMNS = "* EXCLUDE (updated_at, booked_at), epoch_us(updated_at) AS updated_us"
_BOOKING_CODES = {"state": BookingState}
_PAYMENT_CODES = {"state": PaymentState}


def get(store: Store, identity_id: int, invoice_id: int) -> BookingRow | None:
    return store.one_of(BookingRow, f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE identity_id = ? AND invoice_id = ?",
                        [identity_id, invoice_id], codes=_BOOKING_CODES)


def all_for(store: Store, identity_id: int) -> dict[int, BookingRow]:
    """Every booking row of the identity by invoice id."""
    rows = store.rows_of(BookingRow, f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE identity_id = ?", [identity_id],
                         codes=_BOOKING_CODES)
    return {row["invoice_id"]: row for row in rows}


class Changes:
    """Booking-row changes gathered over a batch of invoices (`put(..., into=changes)`) and written together by
    `write`: a few statements and, inside the caller's transaction, one commit — not one commit per invoice."""

    def __init__(self) -> None:
        self._rows: dict[int, tuple[str, dict[str, Any]]] = {}

    def add(self, invoice_id: int, number: str, values: dict[str, Any]) -> None:
        _, earlier = self._rows.get(invoice_id, (number, {}))
        self._rows[invoice_id] = (number, {**earlier, **values})  # a later change of the same row wins

    def __len__(self) -> int:
        return len(self._rows)

    def items(self) -> list[tuple[int, str, dict[str, Any]]]:
        return [(invoice_id, number, values) for invoice_id, (number, values) in self._rows.items()]


def put(store: Store, identity_id: int, invoice_id: int, number: str, state: BookingState, *,
        into: Changes | None = None, **fields: Any) -> None:
    """Create or move a booking row; only the given fields change. The row moves in one statement (an UPDATE,
    or for a new invoice one INSERT): never half-moved, and cheap — DuckDB's upsert costs three updates.
    With `into`, the change is gathered for `write` instead."""
    values = _values(store, state, fields)
    if into is not None:
        into.add(invoice_id, number, values)
        return
    assignments = ", ".join(f"{column} = ?" for column in values)
    updated = store.execute(
        f"UPDATE bookings SET {assignments} WHERE identity_id = ? AND invoice_id = ?",
        [*values.values(), identity_id, invoice_id],
    ).fetchone()
    if updated and updated[0]:
        return
    columns = ", ".join(values)
    store.execute(
        f"INSERT INTO bookings (identity_id, invoice_id, number, {columns}) "
        f"VALUES (?, ?, ?, {', '.join('?' for _ in values)})",
        [identity_id, invoice_id, number, *values.values()],
    )


def write(store: Store, identity_id: int, changes: Changes) -> None:
    """The gathered changes: per set of columns, one UPDATE of the rows that exist and one INSERT of the new ones.
    Call it inside a transaction: the batch lands whole or not at all."""
    if not len(changes):
        return
    rows = changes.items()
    existing = {found for (found,) in store.execute(
        "SELECT invoice_id FROM bookings WHERE identity_id = ? AND invoice_id IN (SELECT unnest(?::INTEGER[]))",
        [identity_id, [invoice_id for invoice_id, _, _ in rows]]).fetchall()}
    by_columns: dict[tuple[str, ...], list[tuple[int, str, dict[str, Any]]]] = {}
    for row in rows:
        by_columns.setdefault(tuple(row[2]), []).append(row)
    for columns, group in by_columns.items():
        old = [row for row in group if row[0] in existing]
        new = [row for row in group if row[0] not in existing]
        if old:
            names, values = _columns(old, columns)
            store.execute(
                f"""UPDATE bookings SET {", ".join(f"{c} = v.{c}" for c in columns)} FROM ({_unnest(names)}) AS v
                    WHERE bookings.identity_id = ? AND bookings.invoice_id = v.invoice_id""",
                [*values, identity_id],
            )
        if new:
            names, values = _columns(new, columns)
            store.execute(f"INSERT INTO bookings (identity_id, {', '.join(names)}) SELECT ?, * FROM ({_unnest(names)})",
                          [identity_id, *values])


def _columns(rows: list[tuple[int, str, dict[str, Any]]], columns: tuple[str, ...]) -> tuple[list[str], list[list]]:
    """The rows as one list a column — DuckDB takes a list parameter whole, far faster than a VALUES row each."""
    names = ["invoice_id", "number", *columns]
    return names, [[invoice_id for invoice_id, _, _ in rows], [number for _, number, _ in rows],
                   *([_plain(values[c]) for _, _, values in rows] for c in columns)]


def _unnest(names: list[str]) -> str:
    return "SELECT " + ", ".join(f"unnest(?) AS {name}" for name in names)


def _values(store: Store, state: BookingState, fields: dict[str, Any]) -> dict[str, Any]:
    values = {"state": str(state), "updated_at": store.now(), **fields}
    if "reasons" in values:
        reasons = values.pop("reasons")
        values["reasons_json"] = json.dumps(reasons, ensure_ascii=False) if reasons else None
    return values


def _plain(value: Any) -> Any:
    """Money as text in a VALUES list: rows of Decimals with different digits would make DuckDB pick one DECIMAL
    type for the column and round the others; text is cast to the table's own DECIMAL(18, 2), exactly."""
    return format(value, "f") if isinstance(value, Decimal) else value


def claimed_in_administration(store: Store, administration_id: str) -> tuple[set[str], set[str]]:
    """What in an administration is the link's own: the SnelStart booking ids it made or adopted, and the invoice
    numbers of the Gripp invoices of every identity linked to it (a booking under such a number is one it books or
    adopts)."""
    bookings = {r["booking_id"] for r in store.rows(
        """SELECT b.booking_id FROM bookings b JOIN links l ON l.identity_id = b.identity_id
           WHERE l.administration_id = ? AND b.booking_id IS NOT NULL""", [administration_id])}
    numbers = {r["number"] for r in store.rows(
        """SELECT g.number FROM gripp_invoices g JOIN links l ON l.identity_id = g.identity_id
           WHERE l.administration_id = ?""", [administration_id])}
    return bookings, numbers


def reasons(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The blocking problems or SnelStart's refusal an outbox row keeps (`reasons_json`)."""
    return json.loads(row["reasons_json"]) if row.get("reasons_json") else []


def adopted_numbers(store: Store, identity_id: int) -> set[str]:
    """The invoice numbers whose booking the link adopted (found in SnelStart and taken as the invoice's own) rather
    than made."""
    return {row["number"] for row in store.rows(
        f"SELECT number FROM bookings WHERE identity_id = ? AND adopted AND state IN ({_BOOKED})", [identity_id])}


def counts(store: Store, identity_id: int) -> dict[BookingState, int]:
    rows = store.rows("SELECT state, count(*) AS n FROM bookings WHERE identity_id = ? GROUP BY state", [identity_id])
    return {BookingState(row["state"]): row["n"] for row in rows}


# -- payments -------------------------------------------------------------------------------------------
def payment(store: Store, marker: str) -> PaymentRow | None:
    return store.one_of(PaymentRow, "SELECT * FROM payments_applied WHERE marker = ?", [marker], codes=_PAYMENT_CODES)


def payment_intents(store: Store, intents: list[dict[str, Any]]) -> None:
    """`payment_intent` for a whole batch, in one statement (keys as its arguments). A marker whose payment was
    taken back earlier is in use again (the invoice is paid again up to the same total)."""
    if not intents:
        return
    now = store.now()
    rows = ", ".join(f"(?, ?, ?, ?, ?, ?, '{PaymentState.SENDING}', ?)" for _ in intents)
    params: list[Any] = []
    for i in intents:
        params += [i["marker"], i["identity_id"], i["invoice_id"], i["booking_id"], i["amount"], i["pay_date"], now]
    store.execute(
        f"""INSERT INTO payments_applied
                (marker, identity_id, invoice_id, booking_id, amount, pay_date, state, created_at)
            VALUES {rows} ON CONFLICT (marker) DO UPDATE SET state = '{PaymentState.SENDING}',
                amount = excluded.amount, pay_date = excluded.pay_date, gripp_payment_id = NULL, applied_at = NULL,
                reversed_at = NULL
            WHERE payments_applied.state = '{PaymentState.REVERSED}'""",
        params,
    )


def reversal_intents(store: Store, intents: list[dict[str, Any]]) -> None:
    """Payments about to be taken back ('reversing'), in one statement; a marker registered by another copy of
    the link gets its row here."""
    if not intents:
        return
    now = store.now()
    rows = ", ".join(f"(?, ?, ?, ?, ?, ?, '{PaymentState.REVERSING}', ?, ?)" for _ in intents)
    params: list[Any] = []
    for i in intents:
        params += [i["marker"], i["identity_id"], i["invoice_id"], i["booking_id"], i["amount"],
                   i["pay_date"] or now.date(), i["gripp_payment_id"], now]
    store.execute(
        f"""INSERT INTO payments_applied
                (marker, identity_id, invoice_id, booking_id, amount, pay_date, state, gripp_payment_id, created_at)
            VALUES {rows} ON CONFLICT (marker) DO UPDATE SET state = '{PaymentState.REVERSING}',
                gripp_payment_id = excluded.gripp_payment_id""",
        params,
    )


def payment_done(store: Store, marker: str, gripp_payment_id: int | None) -> None:
    store.execute(
        "UPDATE payments_applied SET state = ?, gripp_payment_id = ?, applied_at = ? WHERE marker = ?",
        [str(PaymentState.DONE), gripp_payment_id, store.now(), marker],
    )


def payment_reversed(store: Store, marker: str) -> None:
    store.execute("UPDATE payments_applied SET state = ?, reversed_at = ? WHERE marker = ?",
                  [str(PaymentState.REVERSED), store.now(), marker])


def reversals_not_sent(store: Store, markers: list[str]) -> None:
    """Gripp refused the batch before doing anything: these payments are still there, as registered."""
    if markers:
        store.execute(
            f"UPDATE payments_applied SET state = ? WHERE state = ? AND marker IN ({', '.join('?' for _ in markers)})",
            [str(PaymentState.DONE), str(PaymentState.REVERSING), *markers],
        )


def payments_not_sent(store: Store, markers: list[str]) -> None:
    """Gripp refused the batch before doing anything (quota, throttle): these intents never became payments."""
    if markers:
        store.execute(
            f"DELETE FROM payments_applied WHERE state = ? AND marker IN ({', '.join('?' for _ in markers)})",
            [str(PaymentState.SENDING), *markers],
        )


def payments_for(store: Store, identity_id: int) -> list[PaymentRow]:
    return store.rows_of(PaymentRow, "SELECT * FROM payments_applied WHERE identity_id = ? ORDER BY created_at",
                         [identity_id], codes=_PAYMENT_CODES)


def failed(store: Store, identity_id: int) -> list[dict[str, Any]]:
    """The identity's invoices SnelStart refused (invoice id, number), by number."""
    return store.rows("SELECT invoice_id, number FROM bookings WHERE identity_id = ? AND state = ? ORDER BY number",
                      [identity_id, str(BookingState.FAILED)])


def numbers(store: Store, identity_id: int) -> dict[int, str]:
    """Invoice id -> number of every invoice the identity's outbox knows."""
    return {r["invoice_id"]: r["number"] for r in store.rows(
        "SELECT invoice_id, number FROM bookings WHERE identity_id = ?", [identity_id])}


def unfinished_payments(store: Store, identity_id: int) -> list[PaymentRow]:
    """Payments (and reversals) whose Gripp call was made but whose outcome was not recorded: a crash or a lost
    answer. Gripp's own payments settle them."""
    return store.rows_of(PaymentRow, f"""SELECT * FROM payments_applied WHERE identity_id = ?
                                          AND state IN ({quoted((PaymentState.SENDING, PaymentState.REVERSING))})""",
                         [identity_id], codes=_PAYMENT_CODES)


def booked_with_open_items(store: Store, identity_id: int, administration_id: str, *,
                           adopting: list[tuple[int, str]] | tuple = ()) -> list[dict]:
    """The identity's booked invoices, still sent in Gripp, whose booking is among SnelStart's open items: Gripp's
    totals and cached payments beside SnelStart's. `adopting` — (invoice id, booking id) pairs a run is about to
    adopt — counts them as booked already."""
    return store.rows(
        f"""WITH b AS (
               SELECT invoice_id, booking_id FROM bookings
               WHERE identity_id = ? AND booking_id IS NOT NULL AND state IN ({_BOOKED})
               UNION ALL
               SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]))
           SELECT g.invoice_id, g.number, b.booking_id, g.total_incl_vat, g.total_open, g.payments_json,
                  s.factuur_bedrag, s.openstaand_saldo
           FROM b
           JOIN gripp_invoices g ON g.invoice_id = b.invoice_id
           JOIN ss_open_items s ON s.booking_id = b.booking_id AND s.administration_id = ?
           WHERE g.status = 'SENT'  -- one Gripp no longer shows as sent takes no payment (sync.jobs.after_booking)
           ORDER BY g.invoice_id""",
        [identity_id, [p[0] for p in adopting], [p[1] for p in adopting], administration_id],
    )


def booked_relaties(store: Store, identity_id: int) -> dict[int, str]:
    """Gripp company id -> the relatie the link last booked one of the company's invoices on: its own bookings
    only, not bookings it adopted (someone else chose their relatie)."""
    return {r["company_id"]: r["relatie_id"] for r in store.rows(
        f"""SELECT gi.company_id, arg_max(b.relatie_id, coalesce(b.booked_at, b.updated_at)) AS relatie_id
            FROM bookings b JOIN gripp_invoices gi ON gi.invoice_id = b.invoice_id
            WHERE b.identity_id = ? AND b.state IN ({_BOOKED}) AND NOT b.adopted AND b.relatie_id IS NOT NULL
              AND gi.company_id IS NOT NULL
            GROUP BY gi.company_id""", [identity_id])}


def in_conflict(store: Store, identity_id: int) -> list[BookingRow]:
    """The identity's bookings in conflict, by number."""
    return store.rows_of(BookingRow, f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE identity_id = ? AND state = ? "
                                     "ORDER BY number", [identity_id, str(BookingState.CONFLICT)], codes=_BOOKING_CODES)


def payments_registered(store: Store, identity_id: int) -> int:
    """How many payments the link registered in Gripp for the identity."""
    return int(store.scalar("SELECT count(*) FROM payments_applied WHERE identity_id = ? AND state = ?",
                            [identity_id, str(PaymentState.DONE)]) or 0)
