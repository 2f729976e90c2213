"""One invoice's whole story: "what happened to invoice 260032?" answered from what the link holds, in time order.

For an invoice number (of one identity, or of every identity that knows it) the story gathers Gripp's invoice from
the cache (date, customer, amounts, status), every decision the link took on it with its reasons and when — the
event log's blocked, booked, adopted, conflict, adopted anyway (by whom), nothing to book, refused … —, the outbox's
standing, SnelStart's booking (amounts, open balance, the relatie), the PDF, the money SnelStart saw come in and
every payment the link registered in Gripp or took back (with its marker), and the events.

The story is data: facts (amounts as `Decimal`, dates, codes, names) and messages (`Msg`: a catalog key and its
values). An event is said as the log says it (`sync.core.events.message`); the surfaces — the console's pages and
`python -m sync invoice` — say the rest through the catalog in the reader's language. Nothing is asked of Gripp or
SnelStart: the story is as fresh as the last sync.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from sync.core.dates import AMSTERDAM, parse_date
from sync.core.events import EventKind
from sync.core.events import message as event_message
from sync.core.words import N_, Msg
from sync.jobs.payments import MARKER_KEY
from sync.jobs.services import Services
from sync.mapping.problems import stored_explained
from sync.store import setup as setup_repo
from sync.store import story as story_repo
from sync.store.cache import DELETED
from sync.store.history import EventRow
from sync.store.outbox import BookingState, PaymentState, reasons

MAX_NUMBER = 60  # characters of a searched number: a Gripp invoice number is far shorter


class Part(StrEnum):
    """What an entry of the story is."""

    INVOICE = "invoice"  # Gripp's invoice, on its date
    EVENT = "event"  # what the log says the link did or saw
    PDF = "pdf"  # the PDF attached to the booking in SnelStart
    BANK = "bank"  # money SnelStart's bank bookings put against the booking
    GRIPP_PAYMENT = "gripp_payment"  # a payment in Gripp that is not the link's (a person registered it)


@dataclass(frozen=True)
class Entry:
    """One moment of the story: when, what, and what to say (`message`, said through the catalog)."""

    at: datetime  # aware, Europe/Amsterdam; a fact that has only a day is at that day's start
    part: Part
    message: Msg
    kind: str | None = None  # an event's kind (`sync.core.events.EventKind`)
    level: str = "info"
    actor: str | None = None  # who: an event's actor

    @property
    def timed(self) -> bool:
        """Does it have a time of day (what the link did), or only a day (an invoice's date, a bank booking's)?"""
        return self.part in (Part.EVENT, Part.PDF)


@dataclass(frozen=True)
class Payment:
    """A payment the link registered in Gripp (from SnelStart) or took back, with its marker."""

    marker: str
    amount: Decimal
    pay_date: date
    state: PaymentState
    registered_at: datetime | None
    reversed_at: datetime | None


@dataclass(frozen=True)
class Story:
    identity_id: int
    identity_name: str
    number: str
    invoice_id: int | None
    gripp: dict[str, Any] | None  # Gripp's invoice as cached: invoice_date, due_date, company_name, totals, status
    state: BookingState | None  # where the link has it now (None: never looked at)
    reasons: Msg | None  # why it is blocked, refused or in conflict now, with the fix
    adopted: bool
    adopted_by: str | None  # who adopted a conflicting booking anyway
    booked_at: datetime | None
    booking_id: str | None
    snelstart: dict[str, Any] | None  # SnelStart's verkoopfactuur as last read, with relatiecode and relatie_name
    pdf_attached: bool
    pdf_at: datetime | None
    payments: list[Payment]
    entries: list[Entry] = field(default_factory=list)  # in time order
    gripp_url: str | None = None
    # No address of a booking in SnelStart's web app is public (its API docs and the pages that describe its web app
    # name none), so the story links no booking there; the booking's id is shown instead.
    snelstart_url: None = None

    def summary(self) -> list[tuple[str, Msg]]:
        """The story at a glance, as every surface shows it: (catalog key of the line's label, what it says)."""
        lines: list[tuple[str, Msg]] = []
        if self.gripp is not None:
            g = self.gripp
            lines.append((N_("story.label.gripp"), Msg(
                N_("story.gripp"), day=g["invoice_date"], customer=g.get("company_name") or "",
                total=g["total_incl_vat"], excl=g["total_excl_vat"], open=g["total_open"],
                status=Msg(STATUS_WORDS.get(str(g.get("status")), N_("story.status.other")),
                           status=str(g.get("status") or "")))))
        else:
            lines.append((N_("story.label.gripp"), Msg(N_("story.gripp.none"))))
        decision = Msg(STATE_WORDS[self.state]) if self.state is not None else Msg(N_("story.state.none"))
        if self.adopted_by:
            decision = Msg(N_("story.state.adopted_by"), state=decision, actor=self.adopted_by)
        elif self.adopted:
            decision = Msg(N_("story.state.adopted"), state=decision)
        if self.reasons is not None:
            decision = Msg(N_("story.state.because"), state=decision, reasons=self.reasons)
        lines.append((N_("story.label.link"), decision))
        if self.snelstart is not None:
            s = self.snelstart
            lines.append((N_("story.label.snelstart"), Msg(
                N_("story.snelstart"), booking=s.get("booking_id") or s.get("verkoopfactuur_id") or "",
                total=s.get("factuur_bedrag") or Decimal("0"), open=s.get("openstaand_saldo") or Decimal("0"),
                relatie=_relatie(s))))
        elif self.booking_id:
            lines.append((N_("story.label.snelstart"), Msg(N_("story.snelstart.not_read"), booking=self.booking_id)))
        else:
            lines.append((N_("story.label.snelstart"), Msg(N_("story.snelstart.none"))))
        if self.pdf_attached:
            pdf = Msg(N_("story.pdf.attached_at"), at=self.pdf_at) if self.pdf_at else Msg(N_("story.pdf.attached"))
        elif self.booking_id:
            pdf = Msg(N_("story.pdf.missing"))
        else:
            pdf = Msg(N_("story.pdf.no_booking"))
        lines.append((N_("story.label.pdf"), pdf))
        if not self.payments:
            lines.append((N_("story.label.payments"), Msg(N_("story.payments.none"))))
        for payment in self.payments:
            lines.append((N_("story.label.payments"), Msg(
                PAYMENT_WORDS[payment.state], amount=payment.amount, day=payment.pay_date, marker=payment.marker)))
        return lines


STATUS_WORDS = {"SENT": N_("story.status.sent"), "CONCEPT": N_("story.status.concept"),
                DELETED: N_("story.status.deleted")}  # a complete read no longer found it (sync.jobs.after_booking)
STATE_WORDS = {
    BookingState.PENDING: N_("story.state.pending"), BookingState.POSTING: N_("story.state.posting"),
    BookingState.BOOKED: N_("story.state.booked"), BookingState.PDF_PENDING: N_("story.state.pdf_pending"),
    BookingState.DONE: N_("story.state.done"), BookingState.BLOCKED: N_("story.state.blocked"),
    BookingState.CONFLICT: N_("story.state.conflict"), BookingState.FAILED: N_("story.state.failed"),
    BookingState.NOTHING_TO_BOOK: N_("story.state.nothing_to_book"),
}
PAYMENT_WORDS = {
    PaymentState.SENDING: N_("story.payment.sending"), PaymentState.DONE: N_("story.payment.done"),
    PaymentState.REVERSING: N_("story.payment.reversing"), PaymentState.REVERSED: N_("story.payment.reversed"),
}


def _relatie(open_item: dict[str, Any]) -> Msg | str:
    if open_item.get("relatie_name") or open_item.get("relatiecode") is not None:
        return Msg(N_("story.relatie"), code=str(open_item.get("relatiecode") or ""),
                   name=open_item.get("relatie_name") or "")
    return Msg(N_("story.relatie.unknown"))


def stories(services: Services, number: str, identity_id: int | None = None) -> list[Story]:
    """The story of invoice `number` for each identity that knows it (only `identity_id`'s when given), by
    identity; none for a number the link never saw."""
    wanted = number.strip()[:MAX_NUMBER]
    if not wanted:
        return []
    store = services.store
    found = story_repo.identities_with(store, wanted)
    if identity_id is not None:
        found = [i for i in found if i == identity_id]
    names = {row["identity_id"]: row["name"] for row in setup_repo.identities(store)}
    return [_story(services, i, names.get(i, str(i)), wanted) for i in found]


def _story(services: Services, identity_id: int, identity_name: str, number: str) -> Story:
    store = services.store
    gripp = story_repo.gripp_invoice(store, identity_id, number)
    row = story_repo.booking(store, identity_id, number)
    invoice_id = gripp["invoice_id"] if gripp else (row["invoice_id"] if row else None)
    logged = story_repo.events(store, identity_id, number, invoice_id)
    if invoice_id is None:
        invoice_id = next((e["invoice_id"] for e in logged if e["invoice_id"] is not None), None)
    link = setup_repo.get_link(store, identity_id)
    booking_id = row["booking_id"] if row else None
    open_item = story_repo.open_item(store, booking_id, link.administration_id if link else None, number) \
        if booking_id or link else None
    state = BookingState(row["state"]) if row else None
    stuck = state in (BookingState.BLOCKED, BookingState.FAILED, BookingState.CONFLICT)
    pdf_attached = bool(row and row["document_id"])
    pdf_at = _pdf_at(row, logged) if pdf_attached and row else None
    payments = [Payment(p["marker"], p["amount"], p["pay_date"], p["state"], p["applied_at"], p["reversed_at"])
                for p in (story_repo.payments(store, identity_id, invoice_id) if invoice_id is not None else [])]

    entries: list[Entry] = []
    if gripp is not None and gripp.get("invoice_date"):
        entries.append(Entry(_day(gripp["invoice_date"]), Part.INVOICE, Msg(
            N_("story.entry.invoice"), invoice=number, customer=gripp.get("company_name") or "",
            total=gripp["total_incl_vat"],
            due=Msg(N_("story.entry.due"), day=gripp["due_date"]) if gripp.get("due_date") else "")))
    entries += [_event_entry(event) for event in logged]
    if pdf_attached and pdf_at is not None:
        entries.append(Entry(pdf_at, Part.PDF, Msg(N_("story.entry.pdf"), invoice=number)))
    if booking_id:
        for line in story_repo.bank_lines(store, booking_id):
            if line["datum"] is None:
                continue
            key = N_("story.entry.bank") if line["amount"] >= 0 else N_("story.entry.bank_back")
            entries.append(Entry(_day(line["datum"]), Part.BANK, Msg(key, amount=abs(line["amount"]),
                                                                    day=line["datum"])))
    if gripp is not None:
        entries += _others_payments(gripp)
    # In time order; at one moment, in the order they were gathered (the invoice, then the log's order).
    entries = [entry for _, entry in sorted(enumerate(entries), key=lambda pair: (pair[1].at, pair[0]))]

    return Story(
        identity_id=identity_id, identity_name=identity_name, number=number, invoice_id=invoice_id, gripp=gripp,
        state=state, reasons=stored_explained(reasons(row)) if row and stuck else None,
        adopted=bool(row and row["adopted"]) or bool(row and row["adopted_by"]),
        adopted_by=row["adopted_by"] if row else None, booked_at=row["booked_at"] if row else None,
        booking_id=booking_id, snelstart=open_item, pdf_attached=pdf_attached, pdf_at=pdf_at, payments=payments,
        entries=entries,
        gripp_url=gripp_web_url(services.settings.gripp_api_url, invoice_id) if invoice_id is not None else None,
    )


def _event_entry(event: EventRow) -> Entry:
    """An event as the log says it (its kind's words and recorded values)."""
    return Entry(event["occurred_at"], Part.EVENT, event_message(event), kind=event["kind"], level=event["level"],
                 actor=event["actor"])


def _pdf_at(row: dict[str, Any], logged: list[EventRow]) -> datetime | None:
    """When the PDF went with the booking. No event says it: attached in the run that booked (or adopted) the
    invoice, it went with that booking (its event is written a moment after the row); attached after a failed try
    (a `pdf` event), the outbox row's last change after that, when the row moved from pdf_pending to done."""
    tried = [e["occurred_at"] for e in logged if e["kind"] == "pdf"]
    booked = row.get("booked_at")
    if tried and (booked is None or max(tried) >= booked):
        return row.get("updated_at")
    if booked is None:
        return None
    told = [e["occurred_at"] for e in logged if e["kind"] in _BOOKING_KINDS and e["occurred_at"] >= booked]
    return min(told) if told else booked


_BOOKING_KINDS = (EventKind.BOOKED, EventKind.ADOPTED, EventKind.ADOPTED_ANYWAY)


def _others_payments(gripp: dict[str, Any]) -> list[Entry]:
    """Gripp's payments on the invoice that carry no marker of the link: registered there by a person. (The link's
    own are in the log, each with its marker.)"""
    found: list[Entry] = []
    for payment in json.loads(gripp.get("payments_json") or "[]"):
        if MARKER_KEY in str(payment.get("extendedproperties") or ""):
            continue
        day = parse_date(payment.get("date"))
        if day is None:
            continue
        found.append(Entry(_day(day), Part.GRIPP_PAYMENT, Msg(
            N_("story.entry.gripp_payment"), amount=Decimal(str(payment.get("amount") or "0")), day=day)))
    return found


def _day(day: date | datetime) -> datetime:
    """A day as a moment: its start in Amsterdam (what happened on it at a time comes after)."""
    if isinstance(day, datetime):
        return day if day.tzinfo else day.replace(tzinfo=AMSTERDAM)
    return datetime.combine(day, time.min, tzinfo=AMSTERDAM)


def gripp_web_url(api_url: str, invoice_id: int) -> str | None:
    """The invoice in Gripp's web app, where its address is known. Gripp's API documentation ("Deep linking", in the
    copy at flipmoo/begripp `GRIPP_API-Documentatie.md`) gives `https://<yourdomain>.gripp.com/d/<entity>/view/<id>`;
    the same page serves the API at `https://<yourdomain>.gripp.com/public/api3.php` as well as at
    `api.gripp.com`. So the account's domain is known only when its API address is its own `<yourdomain>.gripp.com`;
    on the shared `api.gripp.com` (or the sandbox, which has no web app) there is no link."""
    parts = urlsplit(api_url or "")
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host.endswith(".gripp.com") or host.count(".") != 2:
        return None
    if host.split(".")[0] in ("api", "www"):
        return None
    return f"https://{host}/d/invoice/view/{int(invoice_id)}"

