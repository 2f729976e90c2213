"""What happens to each sent Gripp invoice: the one decision the real push and the dry run both take.

`outside_push` says why an invoice needs no booking step this run (before the start date, already booked,
refused by SnelStart and unchanged since, nothing to book and unchanged since); `decide` says what happens to one
that does: nothing to book (0,00), blocked (its problems, or a customer whose details contradict each other),
adopted (SnelStart has a booking with its number that fits: amount, customer, date), a conflict (SnelStart has a
booking with its number that does not fit), or booked. Problems only with the lines' kostenplaatsen block booking a
new one, never adopting (or calling a conflict) a booking SnelStart already has: adopting books no lines. The push
(`sync.jobs.push`) acts on these answers; the dry run (`sync.jobs.preview`) reports them. So a dry run and the next
real run on the same world cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sync.core.money import to_decimal
from sync.core.words import N_
from sync.jobs.inputs import CustomerInputs, invoice_input
from sync.mapping import check_invoice, invoice_fingerprint
from sync.mapping.adoption import FoundBooking, booking_conflict, not_visible
from sync.mapping.customers import CustomerMatch
from sync.mapping.problems import LINE_KOSTENPLAATS_CODES, Problem
from sync.mapping.types import InvoiceIn, MappingContext
from sync.store import cache, outbox
from sync.store.db import Store
from sync.store.outbox import BookingRow, BookingState


class DecisionKind(StrEnum):
    """What happens to a sent invoice this run, in the order the dry run lists them: what the run does first, what
    stays as it is after. The values are what a stored dry run holds."""

    BOOK = "book"
    ADOPT = "adopt"  # SnelStart has a booking with its number that fits: it becomes the link's
    BLOCKED = "blocked"
    CONFLICT = "conflict"  # SnelStart has a booking with its number that does not fit: a person decides
    REFUSED = "refused"  # SnelStart refused it, and it did not change since
    NOTHING = "nothing_to_book"  # 0,00
    ALREADY_BOOKED = "already_booked"
    BEFORE_START = "before_start"


# The short names the push, the dry run and their tests use.
BOOK, ADOPT, BLOCKED, CONFLICT = DecisionKind.BOOK, DecisionKind.ADOPT, DecisionKind.BLOCKED, DecisionKind.CONFLICT
REFUSED, NOTHING, ALREADY_BOOKED = DecisionKind.REFUSED, DecisionKind.NOTHING, DecisionKind.ALREADY_BOOKED
BEFORE_START = DecisionKind.BEFORE_START
DECISIONS = tuple(DecisionKind)
# How every surface names a decision (console tabs, `dry-run`): catalog keys, one word per decision everywhere.
DECISION_LABELS = {
    BOOK: N_("decision_book"), ADOPT: N_("decision_adopt"), BLOCKED: N_("decision_blocked"),
    CONFLICT: N_("decision_conflict"), REFUSED: N_("decision_refused"), NOTHING: N_("decision_nothing_to_book"),
    ALREADY_BOOKED: N_("decision_already_booked"), BEFORE_START: N_("decision_before_start"),
}
# Reason codes whose booking is looked up again every run: BOE-0021 means "the number exists", never "failed".
LOOK_UP_AGAIN = frozenset({"BOOKING_NOT_VISIBLE", "BOE-0021"})
# SnelStart refused a line's kostenplaats (`sync.snelstart.errors.names_kostenplaats`): a grootboek's demand changed
# since the link read it. Decided again every run, on the grootboeken read again: blocked with the reason and the fix.
KOSTENPLAATS_REFUSED = "KOSTENPLAATS_REFUSED"


@dataclass(frozen=True)
class Decision:
    kind: DecisionKind
    problems: tuple[Problem, ...] = ()
    match: CustomerMatch | None = None  # the relatie it goes to (relatie_id None: one to create)
    found: FoundBooking | None = None  # ADOPT, CONFLICT: SnelStart's booking with this number


def outside_push(row: dict[str, Any], state: BookingRow | None, start_date: date | None) -> DecisionKind | None:
    """Why this sent invoice needs no booking step this run, or None when it does."""
    if start_date is not None and row["invoice_date"] is not None and row["invoice_date"] < start_date:
        return BEFORE_START
    if state is None or state["state"] in (BookingState.PENDING, BookingState.POSTING, BookingState.BLOCKED,
                                           BookingState.CONFLICT):
        return None  # blocked and conflicts are looked at again every run: the cause may be gone
    if state["state"] == BookingState.FAILED:
        if reason_codes(state) & (LOOK_UP_AGAIN | {KOSTENPLAATS_REFUSED}):
            return None  # "the number exists": settled by a look-up; a kostenplaats refused: checked again
        # SnelStart refused it: offered again only once the invoice changed or a person chose "retry failed"
        # (sync.jobs.requeue) — one unfixed refusal must not knock on SnelStart's door every run.
        return None if _changed(row, state) else REFUSED
    if state["state"] == BookingState.NOTHING_TO_BOOK:
        return None if _changed(row, state) else NOTHING
    return ALREADY_BOOKED  # booked (perhaps with its PDF still to come): never a second booking


def _changed(row: dict[str, Any], state: BookingRow) -> bool:
    return bool(state.get("fingerprint")) and invoice_fingerprint(invoice_input(row)) != state["fingerprint"]


def reason_codes(state: Mapping[str, Any]) -> set[str]:
    """The reason codes of an outbox row ("BOE-0021,BOE-0071" for several SnelStart codes at once)."""
    return {code for reason in outbox.reasons(state) for code in str(reason.get("code", "")).split(",")}


def nothing_to_book(invoice: InvoiceIn) -> bool:
    """An invoice of € 0,00: there is no booking to make and nothing will be open, whatever its lines."""
    try:
        return to_decimal(invoice.total_incl_vat) == 0
    except (ValueError, TypeError):
        return False  # an unreadable total is the checks' to report


def decide(invoice: InvoiceIn, ctx: MappingContext, in_snelstart: dict[str, FoundBooking],
           customers: CustomerInputs, row: dict[str, Any]) -> Decision:
    """For an invoice that needs booking: nothing to book, blocked (with every problem), adopt, conflict, or book."""
    if nothing_to_book(invoice):
        return Decision(NOTHING)
    problems = check_invoice(invoice, ctx)
    found = in_snelstart.get(number_key(invoice.number))
    # Adopting books no lines: how the link would book a line's kostenplaats cannot stop a booking SnelStart has
    # from being looked at (adopted when it fits, a conflict when not). Every other problem blocks either way.
    if problems and (found is None or not all(p.code in LINE_KOSTENPLAATS_CODES for p in problems)):
        return Decision(BLOCKED, problems)
    match = customers.match(row)
    if match.problem is not None:
        return Decision(BLOCKED, (match.problem,), match)
    if found is None:
        return Decision(BOOK, match=match)
    return take_over(invoice, found, match.relatie_id, customers, row, match)


def take_over(invoice: InvoiceIn, found: FoundBooking, relatie_id: str | None, customers: CustomerInputs,
              row: dict[str, Any], match: CustomerMatch | None = None) -> Decision:
    """A booking with the invoice's number is in SnelStart: ADOPT when it fits, else CONFLICT."""
    names = customers.names()
    customer = names.get(relatie_id or "") or row.get("company_name") or ""
    problem = booking_conflict(invoice, found, relatie_id, names=names, customer_name=customer)
    if problem is None and found.booking_id is None:
        problem = not_visible(invoice)  # an open item without its booking: nothing to attach or pay through
    if problem is not None:
        return Decision(CONFLICT, (problem,), match, found)
    return Decision(ADOPT, match=match, found=found)


def number_key(number: Any) -> str:
    """SnelStart's uniqueness of invoice numbers ignores case and outer spaces (?); so does this lookup."""
    return str(number).strip().casefold()


def snelstart_by_number(store: Store, administration_id: str) -> dict[str, FoundBooking]:
    """SnelStart's verkoopfacturen (the cached open-items list, paid ones included) by invoice number."""
    return {number_key(row["factuurnummer"]): FoundBooking(row["booking_id"], row["factuurnummer"],
                                                           row["relatie_id"], row["factuur_datum"],
                                                           row["factuur_bedrag"], row["modified_on"])
            for row in cache.open_items_of(store, administration_id)}
