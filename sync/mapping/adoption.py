"""Is a SnelStart booking found by invoice number this invoice's? Pure; the push and the dry run use it.

SnelStart knows a booking by its invoice number only, and a person can type any number by hand. A booking found
by number (in the open items, after BOE-0021, after a lost answer) is adopted only when it fits the invoice:
the same amount, the same customer (the relatie the invoice would be booked on) and the same invoice date.
Anything else is a conflict for a person: never adopted, no PDF attached, no payment brought back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sync.core import joined
from sync.core.words import Msg
from sync.mapping.problems import Problem, ProblemCode, make_problem
from sync.mapping.types import InvoiceIn


@dataclass(frozen=True)
class FoundBooking:
    """A verkoopfactuur (open item) as SnelStart shows it."""

    booking_id: str | None
    number: str
    relatie_id: str | None
    invoice_date: date | None
    amount: Decimal | None
    modified_on: datetime | None = None  # zone-less Amsterdam time, as SnelStart sends it

    def facts(self, names: Mapping[str, str]) -> dict[str, object]:
        """What an event or a console row says about it."""
        return {"booking_id": self.booking_id, "number": self.number, "relatie_id": self.relatie_id,
                "relatie": names.get(self.relatie_id or "", ""), "date": self.invoice_date, "amount": self.amount}


def booking_conflict(invoice: InvoiceIn, found: FoundBooking, relatie_id: str | None, *,
                     names: Mapping[str, str], customer_name: str) -> Problem | None:
    """None when `found` fits `invoice` booked on `relatie_id` (None: a relatie still to be created, which no
    existing booking can be on); otherwise the conflict, listing every difference."""
    differences: list[Msg] = []
    if found.relatie_id is None or found.relatie_id != relatie_id:
        theirs = names.get(found.relatie_id or "") or (found.relatie_id or "?")
        differences.append(Msg("problem.booking_conflict.customer", theirs=theirs, ours=customer_name))
    if found.amount is None or found.amount != invoice.total_incl_vat:
        differences.append(Msg("problem.booking_conflict.amount", theirs=found.amount, ours=invoice.total_incl_vat)
                           if found.amount is not None else
                           Msg("problem.booking_conflict.amount_unknown", ours=invoice.total_incl_vat))
    if found.invoice_date != invoice.invoice_date:
        differences.append(Msg("problem.booking_conflict.date", theirs=found.invoice_date, ours=invoice.invoice_date)
                           if found.invoice_date else
                           Msg("problem.booking_conflict.date_missing", ours=invoice.invoice_date))
    if not differences:
        return None
    return make_problem(ProblemCode.BOOKING_CONFLICT, f"invoice:{invoice.invoice_id}", number=invoice.number,
                        differences=joined.clauses(differences))


def not_visible(invoice: InvoiceIn) -> Problem:
    """BOE-0021 said the number exists, and bounded look-ups did not show the booking."""
    return make_problem(ProblemCode.BOOKING_NOT_VISIBLE, f"invoice:{invoice.invoice_id}", number=invoice.number)
