"""Conflicts: a SnelStart booking with an invoice's number that does not fit the invoice (`sync.mapping.adoption`).

The link never adopts one by itself. The ways out:
- a person (support) who checked it is this invoice after all adopts it anyway — recorded with who did it; from
  then on its PDF is attached and its payments come back (held and flagged while the amounts differ);
- someone renumbers or credits the booking in SnelStart: the next run no longer finds it and books the invoice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind
from sync.core.explained import Explained
from sync.core.words import Msg, jsonable
from sync.jobs.inputs import invoice_input
from sync.mapping import invoice_fingerprint
from sync.mapping.problems import stored_fix, stored_message
from sync.store import cache, history, outbox
from sync.store.db import Store
from sync.store.outbox import BookingState


class ConflictError(Explained, ValueError):
    """A conflict that cannot be adopted as asked; its message says why. `code`: `gone` (no conflict any more),
    `not_visible` (SnelStart does not show the booking)."""


@dataclass(frozen=True)
class Conflict:
    invoice_id: int
    number: str
    booking_id: str | None  # None: SnelStart would not show the booking (BOOKING_NOT_VISIBLE)
    code: str  # sync.mapping.problems.ProblemCode, as stored
    message: Msg  # what is wrong
    fix: Msg | None  # what to do about it, when it says

    @property
    def adoptable(self) -> bool:
        return self.booking_id is not None


def conflicts(store: Store, identity_id: int) -> list[Conflict]:
    """The identity's invoices in conflict, by number."""
    found = []
    for row in outbox.in_conflict(store, identity_id):
        reason = (outbox.reasons(row) or [{}])[0]
        found.append(Conflict(row["invoice_id"], row["number"], row["conflict_booking_id"], reason.get("code", ""),
                              stored_message(reason), stored_fix(reason)))
    return found


def adopt_anyway(store: Store, identity_id: int, invoice_id: int, *, actor: Actor | str) -> None:
    """A person says the conflicting booking is this invoice's after all: it is adopted as it is."""
    who = authorize(actor, "adopt")
    row = outbox.get(store, identity_id, invoice_id)
    if row is None or row["state"] != BookingState.CONFLICT:
        raise ConflictError(Msg("error.conflict.gone"), code="gone")
    if not row["conflict_booking_id"]:
        raise ConflictError(Msg("error.conflict.not_visible", number=row["number"]), code="not_visible")
    invoice = cache.gripp_invoice(store, invoice_id)
    reason = (outbox.reasons(row) or [{}])[0]
    with store.transaction():
        outbox.put(store, identity_id, invoice_id, row["number"], BookingState.BOOKED,
                   booking_id=row["conflict_booking_id"],
                   adopted=True, adopted_by=who, booked_at=store.now(), reasons=None, last_error=None,
                   error_kind=None, conflict_booking_id=None,
                   fingerprint=invoice_fingerprint(invoice_input(invoice)) if invoice else None)
        history.log_event(
            store, EventKind.ADOPTED_ANYWAY, identity_id=identity_id, invoice_id=invoice_id,
            invoice_number=row["number"], actor=who,
            data={"booking_id": row["conflict_booking_id"], "code": reason.get("code"),
                  "reason": jsonable(stored_message(reason))},
        )
