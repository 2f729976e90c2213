"""Payments both ways, never beyond the truth: what SnelStart received against a booked invoice is registered on
the Gripp invoice, and what the link registered beyond it is taken back.

Per booked invoice (its booking in SnelStart's open items), `plan_invoice` compares SnelStart's paid amount
(factuurBedrag − openstaandSaldo) with Gripp's (the sum of its payments):
- the two totals differ (the booking was changed in SnelStart, or a person adopted a booking with another amount):
  nothing is written either way; the invoice is flagged for a person ("payments held") and listed before
  reminders are sent;
- SnelStart paid more: the difference is registered, never beyond Gripp's open amount — one payment per bank
  booking the bank lines explain, dated with the bank date; what they do not explain (a memoriaal or kas booking)
  is dated today;
- SnelStart paid less (a storno, a reversed bank line): the link takes its own payments back, the most recent
  first, while Gripp shows more paid than SnelStart; a payment a person registered is never touched (what it
  leaves over is "paid in Gripp only", recorded for finance, nothing written).

Taking back = `payment.delete` of the link's own payment. Gripp's API metadata lists `payment.delete` with an
official example (`[{"method":"payment.delete","params":[1],"id":1}]`); there is no evidence that Gripp accepts a
negative payment on a positive invoice. A delete names one payment: repeated (a crash, a second copy of the link)
it fails and removes nothing more, so a payment is never taken back twice. The reversal is audited in the event
log with the payment's marker, amount and date.

Gripp runs a batch "in one transaction" (its docs): when one call of a batch fails, the others may be rolled back
even though they answered success. So when any call of a batch fails, nothing of it counts as done until the
invoices are read back from Gripp and show it.

Markers: `snelstart:<booking id>:<SnelStart's paid total after it, in cents>`, in the Gripp payment's
`extendedproperties` and in `payments_applied`. Gripp is the shared truth: before anything is written, the
payments of the invoices concerned are read from Gripp (one batched `payment.get`) and the plan is made again on
them — a marker already on the invoice is not created again, a payment already gone is not deleted again — so two
databases never pay or take back twice. Locally a marker moves sending → done → reversing → reversed (and back to
sending when the invoice is paid again), each state written before the Gripp call; a crash is settled by that
same read.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sync.core.events import EventKind
from sync.core.money import ZERO, cents, to_decimal
from sync.core.words import N_, Msg
from sync.gripp.client import GrippCall, GrippClient, record_id_of
from sync.gripp.errors import GrippBusyError
from sync.gripp.filters import Filter
from sync.gripp.models import Payment
from sync.jobs import errors
from sync.jobs.refresh import fetch_all, invoice_payments
from sync.store import cache, outbox
from sync.store import history as log
from sync.store.db import Store
from sync.store.outbox import PaymentRow, PaymentState
from sync.store.setup import Link

CALLS_PER_POST = 50
READ_BACK_IDS = 250  # invoice ids per `payment.invoice in [...]` filter
MARKER_KEY = "snelstart_payment"


@dataclass(frozen=True)
class Registration:
    invoice_id: int
    number: str
    booking_id: str
    amount: Decimal
    pay_date: date
    marker: str


@dataclass(frozen=True)
class Reversal:
    """One of the link's own payments in Gripp, to be taken back."""

    invoice_id: int
    number: str
    booking_id: str
    payment_id: int
    amount: Decimal
    pay_date: date | None
    marker: str


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: int
    number: str
    booking_id: str
    gripp_total: Decimal
    snelstart_total: Decimal
    snelstart_open: Decimal
    gripp_open: Decimal | None = None

    @property
    def paid_differs(self) -> bool:
        """SnelStart shows another amount paid than Gripp does (a payment to bring back, or to look into)."""
        return (self.gripp_open is not None
                and self.snelstart_total - self.snelstart_open != self.gripp_total - self.gripp_open)


@dataclass
class InvoicePlan:
    registrations: list[Registration] = field(default_factory=list)
    reversals: list[Reversal] = field(default_factory=list)
    held: bool = False  # the totals differ: nothing written, flagged
    gripp_only: bool = False  # Gripp shows more paid than SnelStart, by payments the link did not make
    gripp_paid: Decimal = ZERO
    snelstart_paid: Decimal = ZERO

    @property
    def writes(self) -> bool:
        return bool(self.registrations or self.reversals)


@dataclass
class PaymentReport:
    registered: int = 0
    amount: Decimal = ZERO
    reversed: int = 0
    reversed_amount: Decimal = ZERO
    already_there: int = 0
    paid_in_gripp_only: int = 0
    held: int = 0
    pending: int = 0
    would_register: list[Registration] = field(default_factory=list)
    would_reverse: list[Reversal] = field(default_factory=list)
    paused: BaseException | None = None  # Gripp's quota ran out: sending stopped, resumes at `paused.resume_at`

    def counts(self) -> dict[str, int]:
        return {"payments_registered": self.registered, "payments_reversed": self.reversed,
                "payments_pending": self.pending, "paid_in_gripp_only": self.paid_in_gripp_only,
                "payments_held": self.held}


# ================================================================================================ the plan


def marker_of(payment: dict[str, Any]) -> str | None:
    """The link's marker on a Gripp payment (as cached or as read), or None: a payment the link did not make."""
    raw = payment.get("extendedproperties")
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if isinstance(value, dict) and value.get(MARKER_KEY):
        return str(value[MARKER_KEY])
    return None


def _marker_total(marker: str) -> int:
    try:
        return int(marker.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return 0


def plan_invoice(facts: InvoiceFacts, payments: list[dict[str, Any]], bank: list[tuple[date, Decimal]],
                 today: date) -> InvoicePlan:
    """What to write in Gripp for one invoice, given its Gripp payments and the bank lines on its booking."""
    plan = InvoicePlan()
    gripp_paid = cents(sum((to_decimal(p.get("amount")) for p in payments), ZERO))
    ss_paid = cents(facts.snelstart_total - facts.snelstart_open)
    plan.gripp_paid, plan.snelstart_paid = gripp_paid, ss_paid
    if facts.snelstart_total != facts.gripp_total:
        plan.held = True
        return plan
    sign = Decimal(1) if facts.gripp_total >= 0 else Decimal(-1)
    if sign * ss_paid > sign * facts.gripp_total:
        ss_paid = facts.gripp_total  # overpaid in SnelStart: Gripp is never paid beyond its total
    ours = sorted(((p, m) for p in payments if (m := marker_of(p)) is not None),
                  key=lambda pm: (_marker_total(pm[1]), int(pm[0].get("id") or 0)), reverse=True)
    for payment, marker in ours:  # the most recent first
        if sign * gripp_paid <= sign * ss_paid:
            break
        amount = to_decimal(payment.get("amount"))
        plan.reversals.append(Reversal(facts.invoice_id, facts.number, facts.booking_id, int(payment["id"]),
                                       amount, _day(payment.get("date")), marker))
        gripp_paid = cents(gripp_paid - amount)
    if sign * gripp_paid > sign * ss_paid:
        plan.gripp_only = True  # what is left over are payments a person registered: recorded, never touched
        return plan
    if gripp_paid != ss_paid:
        plan.registrations = _split(facts, bank, ss_paid, gripp_paid, sign, today)
    return plan


def _split(facts: InvoiceFacts, lines: list[tuple[date, Decimal]], ss_paid: Decimal, covered: Decimal,
           sign: Decimal, today: date) -> list[Registration]:
    """One registration per bank booking not yet reflected in Gripp, dated with its bank date; whatever the bank
    lines do not explain is dated today. After a reversed bank line the running totals no longer tell which
    booking paid what: one registration, dated with the last bank line that brought money in."""
    ordered = sorted(lines)
    if any(sign * amount < 0 for _, amount in ordered):
        received = [when for when, amount in ordered if sign * amount > 0]
        return [_registration(facts, ss_paid - covered, received[-1] if received else today, ss_paid)]
    out: list[Registration] = []
    cumulative = ZERO
    for when, amount in ordered:
        cumulative = cents(cumulative + amount)
        if sign * cumulative > sign * ss_paid:
            cumulative = ss_paid  # never beyond what SnelStart says is paid
        if sign * cumulative <= sign * covered:
            continue
        out.append(_registration(facts, cumulative - covered, when, cumulative))
        covered = cumulative
    if sign * covered < sign * ss_paid:
        out.append(_registration(facts, ss_paid - covered, today, ss_paid))
    return out


def _registration(facts: InvoiceFacts, amount: Decimal, when: date, paid_total: Decimal) -> Registration:
    marker = f"snelstart:{facts.booking_id}:{int(paid_total * 100)}"
    return Registration(facts.invoice_id, facts.number, facts.booking_id, cents(amount), when, marker)


def _day(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# ================================================================================================ the cache


def booked_invoices(store: Store, link: Link, *, adopting: Sequence[tuple[int, str]] = ()
                    ) -> list[tuple[InvoiceFacts, list[dict[str, Any]]]]:
    """The identity's booked invoices whose booking is in the open items, with their cached Gripp payments.
    `adopting` — (invoice id, booking id) pairs a run is about to adopt — lets the dry run see the payments those
    bookings bring back, exactly as the real run sees them once it has adopted them."""
    rows = outbox.booked_with_open_items(store, link.identity_id, link.administration_id, adopting=list(adopting))
    return [(InvoiceFacts(r["invoice_id"], r["number"], r["booking_id"], r["total_incl_vat"], r["factuur_bedrag"],
                          r["openstaand_saldo"], r["total_open"]), invoice_payments(r)) for r in rows]


def plan_registrations(store: Store, link: Link, today: date, *, adopting: Sequence[tuple[int, str]] = ()
                       ) -> tuple[list[Registration], list[Reversal]]:
    """What the next run would write in Gripp, from the cache (the dry run's view): registrations and reversals."""
    bank = _bank_lines(store, link.administration_id)
    registrations: list[Registration] = []
    reversals: list[Reversal] = []
    for facts, payments in booked_invoices(store, link, adopting=adopting):
        planned = plan_invoice(facts, payments, bank.get(facts.booking_id, []), today)
        registrations += planned.registrations
        reversals += planned.reversals
    return registrations, reversals


def _bank_lines(store: Store, administration_id: str) -> dict[str, list[tuple[date, Decimal]]]:
    found: dict[str, list[tuple[date, Decimal]]] = {}
    for r in cache.bank_lines(store, administration_id):
        found.setdefault(r["booking_id"], []).append((r["datum"], r["amount"]))
    return found


# ================================================================================================ the run


def pull_payments(store: Store, gripp: GrippClient, link: Link, *, run_id: str | None = None,
                  dry_run: bool = False, today: date | None = None,
                  invoices: list[tuple[InvoiceFacts, list[dict[str, Any]]]] | None = None) -> PaymentReport:
    """Payments SnelStart shows into Gripp. `invoices`: `booked_invoices` when the caller read them already."""
    today = today or store.today()
    report = PaymentReport()
    bank = _bank_lines(store, link.administration_id)
    invoices = booked_invoices(store, link) if invoices is None else invoices
    plans = {facts.invoice_id: plan_invoice(facts, payments, bank.get(facts.booking_id, []), today)
             for facts, payments in invoices}
    facts_of = {facts.invoice_id: facts for facts, _ in invoices}
    _note(store, link, facts_of, plans, run_id, report, dry_run)
    if dry_run:
        report.would_register = [r for p in plans.values() for r in p.registrations]
        report.would_reverse = [r for p in plans.values() for r in p.reversals]
        return report

    unfinished = outbox.unfinished_payments(store, link.identity_id)
    concerned = sorted({i for i, p in plans.items() if p.writes} | {r["invoice_id"] for r in unfinished})
    if not concerned:
        return report
    try:
        fresh = _read_payments(gripp, concerned)
    except Exception as exc:
        if errors.kind_of(exc) != errors.PAUSED:
            raise
        report.pending, report.paused = sum(len(p.registrations) + len(p.reversals) for p in plans.values()), exc
        return report
    _settle_unfinished(store, link, unfinished, fresh, run_id, report)
    actions: list[Registration | Reversal] = []
    for invoice_id in concerned:
        facts = facts_of.get(invoice_id)
        if facts is None:
            continue  # an unfinished marker of an invoice no longer booked here: settled above as far as it goes
        plan = plan_invoice(facts, fresh.get(invoice_id, []), bank.get(facts.booking_id, []), today)
        if plan.held:
            continue  # noted from the cache already; if Gripp changed meanwhile, the next run tells again
        actions += [*plan.reversals, *plan.registrations]  # reversals first: never paid beyond the truth meanwhile
    for start in range(0, len(actions), CALLS_PER_POST):
        if not _send(store, gripp, link, actions[start:start + CALLS_PER_POST], fresh, run_id, report):
            report.pending += max(0, len(actions) - (start + CALLS_PER_POST))  # not sent: they wait
            break
    return report


def _read_payments(gripp: GrippClient, invoice_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The invoices' payments as Gripp has them now (the shared truth), as cache-shaped dicts."""
    queries = [("payment", [Filter("payment.invoice", "in", invoice_ids[i:i + READ_BACK_IDS])])
               for i in range(0, len(invoice_ids), READ_BACK_IDS)]
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in invoice_ids}
    for rows in fetch_all(gripp, queries):
        for row in rows:
            payment = Payment.from_row(row)
            if payment.invoice_id in found:
                found[payment.invoice_id].append(_payment_dict(payment))
    return found


def _payment_dict(payment: Payment) -> dict[str, Any]:
    return {"id": payment.id, "invoice_id": payment.invoice_id, "date": payment.date.isoformat() if payment.date
            else None, "amount": str(payment.amount), "notes": payment.notes,
            "extendedproperties": payment.extendedproperties}


def _settle_unfinished(store: Store, link: Link, unfinished: list[PaymentRow], fresh: dict[int, list[dict[str, Any]]],
                       run_id: str | None, report: PaymentReport) -> None:
    """Markers an earlier run left half-way (it stopped between the Gripp call and writing down its answer):
    Gripp says how far it got, and the audit log gets the event that run could not write."""
    present = {marker_of(p): p for payments in fresh.values() for p in payments if marker_of(p)}
    numbers = outbox.numbers(store, link.identity_id)
    entries: list[dict[str, Any]] = []
    with store.transaction():
        for row in unfinished:
            payment = present.get(row["marker"])
            number = numbers.get(row["invoice_id"], "")
            if row["state"] == PaymentState.SENDING and payment is not None:
                outbox.payment_done(store, row["marker"], int(payment["id"]))
                report.already_there += 1
                action: Registration | Reversal = Registration(row["invoice_id"], number, row["booking_id"],
                                                               row["amount"], row["pay_date"], row["marker"])
            elif row["state"] == PaymentState.SENDING:
                outbox.payments_not_sent(store, [row["marker"]])  # never arrived; the plan sends it if still due
                continue
            elif payment is None:  # reversing, and the payment is gone: taken back (by this run's predecessor)
                outbox.payment_reversed(store, row["marker"])
                action = Reversal(row["invoice_id"], number, row["booking_id"], row["gripp_payment_id"] or 0,
                                  row["amount"], row["pay_date"], row["marker"])
            else:
                continue  # reversing, still there: the plan takes it back if still due
            event = _event(action)
            event["data"] = {**event["data"], "settled": True}
            entries.append({"run_id": run_id, "identity_id": link.identity_id, "invoice_id": action.invoice_id,
                            "invoice_number": number, **event})
        log.log_events(store, entries)


def _send(store: Store, gripp: GrippClient, link: Link, batch: list[Registration | Reversal],
          fresh: dict[int, list[dict[str, Any]]], run_id: str | None, report: PaymentReport) -> bool:
    """Register and take back one batch in one POST. False: Gripp cannot take more this run (the rest waits).

    The batch's intents are committed together before the call, its results together after it: a crash in
    between leaves the markers 'sending' / 'reversing', which the next run settles by reading Gripp."""
    registrations = [a for a in batch if isinstance(a, Registration)]
    reversals = [a for a in batch if isinstance(a, Reversal)]
    with store.transaction():
        outbox.payment_intents(store, [{"marker": r.marker, "identity_id": link.identity_id,
                                        "invoice_id": r.invoice_id, "booking_id": r.booking_id, "amount": r.amount,
                                        "pay_date": r.pay_date} for r in registrations])
        outbox.reversal_intents(store, [{"marker": r.marker, "identity_id": link.identity_id,
                                         "invoice_id": r.invoice_id, "booking_id": r.booking_id, "amount": r.amount,
                                         "pay_date": r.pay_date, "gripp_payment_id": r.payment_id}
                                        for r in reversals])
    calls = [_call(action) for action in batch]
    try:
        results = gripp.batch(calls)
    except Exception as exc:
        kind = errors.kind_unless_fatal(exc)
        report.pending += len(batch)
        if kind == errors.PAUSED or isinstance(exc, GrippBusyError):
            # Refused before any work (quota, burst throttle): nothing was written, so the intents go.
            outbox.payments_not_sent(store, [r.marker for r in registrations])
            outbox.reversals_not_sent(store, [r.marker for r in reversals])
            if kind == errors.PAUSED:
                report.paused = exc  # the runner says when it resumes, once
                return False
        # Otherwise left 'sending' / 'reversing': the next run reads Gripp before writing again.
        log.log_event(store, EventKind.PAYMENTS_WAITING, run_id=run_id, identity_id=link.identity_id,
                      data={"reason": errors.explain(exc), "actions": len(batch)})
        return kind == errors.UNKNOWN  # one lost answer: carry on; Gripp busy or unreachable: stop for now
    if all(result.ok for result in results):
        done = [(action, record_id_of(result.result)) for action, result in zip(batch, results, strict=True)]
        entries: list[dict[str, Any]] = []
    else:
        # Gripp runs a batch "in one transaction": with one call failed, the others may have been rolled back
        # whatever they answered. Only what Gripp shows when read back is done; the rest stays 'sending' /
        # 'reversing' and is read back again before anything is written for it.
        try:
            now = _read_payments(gripp, sorted({action.invoice_id for action in batch}))
        except Exception as exc:
            kind = errors.kind_unless_fatal(exc)
            report.pending += len(batch)
            if kind == errors.PAUSED:
                report.paused = exc
            log.log_event(store, EventKind.PAYMENTS_WAITING, run_id=run_id, identity_id=link.identity_id,
                          data={"reason": errors.explain(exc), "actions": len(batch)})
            return False
        fresh.update(now)
        present = {marker_of(p): p for payments in now.values() for p in payments if marker_of(p)}
        ids_left = {int(p["id"]) for payments in now.values() for p in payments if p.get("id") is not None}
        done, entries = [], []
        for action, result in zip(batch, results, strict=True):
            if isinstance(action, Registration) and action.marker in present:
                done.append((action, int(present[action.marker]["id"])))
            elif isinstance(action, Reversal) and action.payment_id not in ids_left:
                done.append((action, None))
            else:
                report.pending += 1
                entries.append({"run_id": run_id, "identity_id": link.identity_id, "invoice_id": action.invoice_id,
                                "invoice_number": action.number,
                                "kind": EventKind.PAYMENT_REFUSED if isinstance(action, Registration)
                                else EventKind.REVERSAL_REFUSED,
                                "data": {"marker": action.marker, "amount": action.amount, "rolled_back": result.ok,
                                         "error": str(result.error) if not result.ok else ROLLED_BACK}})
    entries += [{"run_id": run_id, "identity_id": link.identity_id, "invoice_id": action.invoice_id,
                 "invoice_number": action.number, **_event(action)} for action, _ in done]
    with store.transaction():  # the batch's results together: a crash here leaves them half-way, read back
        for action, recordid in done:
            if isinstance(action, Registration):
                outbox.payment_done(store, action.marker, recordid)
            else:
                outbox.payment_reversed(store, action.marker)
        _apply_locally(store, [a for a, _ in done], fresh)
        log.log_events(store, entries)
    for action, _ in done:
        if isinstance(action, Registration):
            report.registered += 1
            report.amount += action.amount
        else:
            report.reversed += 1
            report.reversed_amount += action.amount
    return True


# Why a payment Gripp answered well is not done after all: another call of its batch failed.
ROLLED_BACK = Msg(N_("error.payment_rolled_back"))


def _call(action: Registration | Reversal) -> GrippCall:
    if isinstance(action, Reversal):
        return GrippCall("payment.delete", [action.payment_id])
    return GrippCall("payment.create", [{
        "invoice": action.invoice_id, "date": action.pay_date.isoformat(), "amount": action.amount,
        "notes": f"Betaling verwerkt in SnelStart ({action.pay_date.strftime('%d-%m-%Y')})",
        "extendedproperties": json.dumps({MARKER_KEY: action.marker}),
    }])


def _event(action: Registration | Reversal) -> dict[str, Any]:
    """The event of a registration or a reversal, as data (`sync.core.events`)."""
    data = {"marker": action.marker, "amount": action.amount, "date": action.pay_date,
            "booking_id": action.booking_id}
    if isinstance(action, Registration):
        return {"kind": EventKind.PAYMENT, "data": data}
    return {"kind": EventKind.PAYMENT_REVERSED, "data": {**data, "gripp_payment_id": action.payment_id}}


def _apply_locally(store: Store, actions: Iterable[Registration | Reversal],
                   fresh: dict[int, list[dict[str, Any]]]) -> None:
    """Keep the cache true until the next Gripp refresh reads the invoices back: each touched invoice gets the
    payments just read, with this batch's changes (one read, one write per batch)."""
    touched: dict[int, list[dict[str, Any]]] = {}
    for action in actions:
        payments = touched.setdefault(action.invoice_id, list(fresh.get(action.invoice_id, [])))
        if isinstance(action, Reversal):
            payments[:] = [p for p in payments if int(p.get("id") or 0) != action.payment_id]
        else:
            payments.append({"id": None, "invoice_id": action.invoice_id, "amount": str(action.amount),
                             "date": action.pay_date.isoformat(),
                             "extendedproperties": json.dumps({MARKER_KEY: action.marker})})
    if not touched:
        return
    for invoice_id, payments in touched.items():
        fresh[invoice_id] = payments  # a later batch in this run builds on it
    cache.set_gripp_payments(store, {invoice_id: (cents(sum((to_decimal(p["amount"]) for p in payments), ZERO)),
                                                  json.dumps(payments))
                                     for invoice_id, payments in touched.items()})


# ================================================================================================ flags


def _note(store: Store, link: Link, facts_of: dict[int, InvoiceFacts], plans: dict[int, InvoicePlan],
          run_id: str | None, report: PaymentReport, dry_run: bool) -> None:
    """Invoices a person must look at: totals that differ (payments held) and payments in Gripp only. Told once
    per situation, not every run."""
    for invoice_id, plan in plans.items():
        if not (plan.held or plan.gripp_only):
            continue
        facts = facts_of[invoice_id]
        if plan.held:
            report.held += 1
        else:
            report.paid_in_gripp_only += 1
        if dry_run:
            continue
        kind = "held" if plan.held else "gripp_only"
        key = f"{kind}:{invoice_id}"
        seen = f"{facts.gripp_total}|{facts.snelstart_total}|{facts.snelstart_open}|{plan.gripp_paid}"
        if cache.get_state(store, str(link.identity_id), key) == seen:
            continue
        cache.set_state(store, str(link.identity_id), key, seen)
        data = {"booking_id": facts.booking_id, "gripp_total": facts.gripp_total,
                "snelstart_total": facts.snelstart_total, "snelstart_open": facts.snelstart_open,
                "gripp_open": facts.gripp_total - plan.gripp_paid, "gripp_paid": plan.gripp_paid,
                "snelstart_paid": plan.snelstart_paid}
        log.log_event(store, EventKind.PAYMENTS_HELD if plan.held else EventKind.MISMATCH, run_id=run_id,
                      identity_id=link.identity_id, invoice_id=invoice_id, invoice_number=facts.number, data=data)
