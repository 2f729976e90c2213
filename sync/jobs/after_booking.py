"""What changes after the link booked an invoice, and how the link answers it without touching the booking.

- **An invoice Gripp no longer shows as sent** — deleted there (a complete read no longer finds it:
  `sync.jobs.refresh`), or its status is no longer SENT. Its booking stays open in SnelStart, so the open-items
  comparison calls it a difference of its own (`gone_from_gripp`), told once as an event. The ways out: credit the
  booking in SnelStart (then nothing is open and it leaves the list), or a person confirms the invoice was deleted on
  purpose (recorded with the name; then it is no longer a difference). The link never pays, attaches to or deletes
  the booking.
- **A relatie renamed in SnelStart** after the link booked a customer on it keeps the customer's invoices: the
  link's own earlier bookings count as a match (`sync.mapping.customers`); the rename is told once as an event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind
from sync.core.explained import Explained
from sync.core.words import Msg
from sync.mapping.customers import CompanyIn, CustomerMatch, RelatieIn
from sync.store import cache, history
from sync.store import gone as gone_store
from sync.store.db import Store
from sync.store.gone import GoneHow

RENAMED_SCOPE = "relatie_renamed"  # sync_state scope: per identity and relatie, the name the rename was told with


class GoneError(Explained, ValueError):
    """The invoice cannot be confirmed as deleted: Gripp shows it as sent, or the link never booked it."""


@dataclass(frozen=True)
class GoneInvoice:
    invoice_id: int
    number: str
    how: GoneHow
    customer: str
    booking_id: str | None
    amount: Decimal | None
    confirmed_by: str | None
    confirmed_at: datetime | None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_at is not None


def gone_invoices(store: Store, identity_id: int) -> list[GoneInvoice]:
    """The identity's booked invoices that Gripp no longer shows as sent, confirmed ones too, by number."""
    return [GoneInvoice(r["invoice_id"], r["number"], GoneHow(r["how"]), r["company_name"] or "", r["booking_id"],
                        r["amount"], r["confirmed_by"], r["confirmed_at"]) for r in gone_store.gone(store, identity_id)]


def note_gone(store: Store, identity_id: int, *, run_id: str | None = None) -> int:
    """Tell each booked invoice Gripp no longer shows as sent, once (again only when how it is gone changes); forget
    those Gripp shows as sent again. How many were told now."""
    now = store.now()
    told = 0
    with store.transaction():
        gone_store.forget_returned(store, identity_id)
        for row in gone_store.gone(store, identity_id):
            how = GoneHow(row["how"])
            if row["noticed_how"] == how:
                continue
            gone_store.note(store, identity_id, row["invoice_id"], row["number"], how, now)
            history.log_event(store, EventKind.INVOICE_GONE, run_id=run_id, identity_id=identity_id,
                              invoice_id=row["invoice_id"], invoice_number=row["number"],
                              data={"how": how.value, "booking_id": row["booking_id"], "amount": row["amount"],
                                    "customer": row["company_name"] or ""})
            told += 1
    return told


def confirm_deleted(store: Store, identity_id: int, invoice_id: int, *, actor: Actor | str) -> GoneInvoice:
    """A person confirms that the booked invoice was deleted in Gripp (or taken back from sent) on purpose: it is no
    longer a difference. Recorded with the name; the booking in SnelStart stays as it is."""
    who = authorize(actor, "confirm_gone")
    found = next((g for g in gone_invoices(store, identity_id) if g.invoice_id == invoice_id), None)
    if found is None:
        invoice = cache.gripp_invoice(store, invoice_id)
        raise GoneError(Msg("error.gone.not_gone", number=str(invoice["number"]) if invoice else str(invoice_id)),
                        code="not_gone")
    if found.confirmed:
        return found
    now = store.now()
    with store.transaction():
        gone_store.confirm(store, identity_id, invoice_id, found.number, found.how, who, now)
        history.log_event(store, EventKind.GONE_CONFIRMED, identity_id=identity_id, invoice_id=invoice_id,
                          invoice_number=found.number, actor=who,
                          data={"how": found.how.value, "booking_id": found.booking_id, "amount": found.amount})
    return GoneInvoice(found.invoice_id, found.number, found.how, found.customer, found.booking_id, found.amount,
                       who, now)


def note_renamed(store: Store, identity_id: int, company: CompanyIn, match: CustomerMatch,
                 relaties: list[RelatieIn], *, run_id: str | None = None) -> bool:
    """The match kept a relatie the link booked this company on before, under a name SnelStart gave it since: told
    once per name it gets (not every run). True when told now."""
    if not match.renamed or match.relatie_id is None:
        return False
    relatie = next((r for r in relaties if r.relatie_id == match.relatie_id), None)
    if relatie is None:
        return False
    scope, key = f"{RENAMED_SCOPE}:{identity_id}", f"{company.company_id}:{relatie.relatie_id}"
    if cache.get_state(store, scope, key) == relatie.name:
        return False
    with store.transaction():
        cache.set_state(store, scope, key, relatie.name)
        history.log_event(store, EventKind.RELATIE_RENAMED, run_id=run_id, identity_id=identity_id,
                          data={"company_id": company.company_id, "company": company.name,
                                "relatie_id": relatie.relatie_id, "relatiecode": relatie.relatiecode,
                                "name": relatie.name})
    return True
