"""Payments back: what SnelStart has received against a booked invoice is registered on the Gripp invoice.

SnelStart's `openstaandSaldo` says how much is paid; its bank bookings say when. Each registration carries a
marker — `snelstart:<booking id>:<SnelStart's paid total after it, in cents>` — in the Gripp payment's
`extendedproperties` and in `payments_applied`. The marker is written locally *before* the Gripp call; a run
that finds a marker still "sending" reads the Gripp invoice back and only resends when the payment is not there.
So a crash or a lost answer never registers a payment twice.

Gripp runs a batch "in one transaction" (its docs): when one call of a batch fails, the others may be rolled back
even though they answered success. So when any call of a batch fails, no payment of it is marked done until the
invoices are read back from Gripp and show it.

Where Gripp shows less open than SnelStart (paid in Gripp only) nothing is written: it is recorded for finance.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sync.gripp.client import GrippCall, GrippClient, record_id_of
from sync.gripp.errors import GrippBusyError
from sync.gripp.filters import Filter
from sync.gripp.models import Payment
from sync.jobs import errors
from sync.jobs.refresh import invoice_payments
from sync.money import ZERO, cents
from sync.store import cache, outbox
from sync.store import history as log
from sync.store.db import Store
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


@dataclass
class PaymentReport:
    registered: int = 0
    amount: Decimal = ZERO
    already_there: int = 0
    paid_in_gripp_only: int = 0
    pending: int = 0
    would_register: list[Registration] = field(default_factory=list)
    paused: BaseException | None = None  # Gripp's quota ran out: sending stopped, resumes at `paused.resume_at`

    def counts(self) -> dict[str, int]:
        return {"payments_registered": self.registered, "payments_pending": self.pending,
                "paid_in_gripp_only": self.paid_in_gripp_only}


def plan_registrations(store: Store, link: Link, today: date, *,
                       adopting: Sequence[tuple[int, str]] = ()) -> tuple[list[Registration], list[dict]]:
    """What has to be registered in Gripp, and the invoices paid in Gripp only. Reads the cache only.

    `adopting` — (invoice id, booking id) pairs a run is about to adopt — lets the dry run see the payments those
    bookings bring back, exactly as the real run sees them once it has adopted them."""
    booked = store.rows(
        """SELECT invoice_id, booking_id FROM bookings
           WHERE identity_id = ? AND booking_id IS NOT NULL
             AND state IN ('booked', 'pdf_uploading', 'pdf_pending', 'done')""",
        [link.identity_id],
    )
    pairs = [(r["invoice_id"], r["booking_id"]) for r in booked] + list(adopting)
    if not pairs:
        return [], []
    rows = store.rows(
        """SELECT g.invoice_id, g.number, g.company_name, b.booking_id, g.total_incl_vat, g.total_open, g.total_paid,
                  g.payments_json, s.factuur_bedrag, s.openstaand_saldo
           FROM (SELECT unnest(?::INTEGER[]) AS invoice_id, unnest(?::VARCHAR[]) AS booking_id) b
           JOIN gripp_invoices g ON g.invoice_id = b.invoice_id
           JOIN ss_open_items s ON s.booking_id = b.booking_id AND s.administration_id = ?
           ORDER BY g.invoice_id""",
        [[p[0] for p in pairs], [p[1] for p in pairs], link.administration_id],
    )
    bank = _bank_lines(store, link.administration_id)
    done_markers = {
        r["marker"] for r in store.rows("SELECT marker FROM payments_applied WHERE identity_id = ? AND state = 'done'",
                                        [link.identity_id])
    }
    registrations: list[Registration] = []
    gripp_only: list[dict] = []
    for row in rows:
        sign = Decimal(1) if row["factuur_bedrag"] >= 0 else Decimal(-1)
        ss_paid = cents(row["factuur_bedrag"] - row["openstaand_saldo"])
        gripp_paid = cents(row["total_incl_vat"] - row["total_open"])
        in_gripp = {m for m in _markers(invoice_payments(row))}
        if sign * ss_paid < sign * gripp_paid:
            gripp_only.append(row)
            continue
        if ss_paid == gripp_paid:
            continue
        for reg in _split(row, bank.get(row["booking_id"], []), ss_paid, gripp_paid, sign, today):
            if reg.marker not in done_markers and reg.marker not in in_gripp:
                registrations.append(reg)
    return registrations, gripp_only


def _split(row: dict, lines: list[tuple[date, Decimal]], ss_paid: Decimal, gripp_paid: Decimal, sign: Decimal,
           today: date) -> list[Registration]:
    """One registration per bank booking not yet reflected in Gripp, dated with its bank date; whatever the bank
    lines do not explain (a memoriaal or kas booking) is dated today."""
    out: list[Registration] = []
    covered = gripp_paid
    cumulative = ZERO
    for when, amount in sorted(lines):
        cumulative = cents(cumulative + amount)
        if sign * cumulative > sign * ss_paid:
            cumulative = ss_paid  # never beyond what SnelStart says is paid
        if sign * cumulative <= sign * covered:
            continue
        out.append(_registration(row, cumulative - covered, when, cumulative))
        covered = cumulative
    if sign * covered < sign * ss_paid:
        out.append(_registration(row, ss_paid - covered, today, ss_paid))
    return out


def _registration(row: dict, amount: Decimal, when: date, paid_total: Decimal) -> Registration:
    marker = f"snelstart:{row['booking_id']}:{int(paid_total * 100)}"
    return Registration(row["invoice_id"], row["number"], row["booking_id"], cents(amount), when, marker)


def _bank_lines(store: Store, administration_id: str) -> dict[str, list[tuple[date, Decimal]]]:
    found: dict[str, list[tuple[date, Decimal]]] = {}
    for r in store.rows("SELECT booking_id, datum, amount FROM ss_bank_lines WHERE administration_id = ?",
                        [administration_id]):
        found.setdefault(r["booking_id"], []).append((r["datum"], r["amount"]))
    return found


def _markers(payments: list[dict[str, Any]]) -> list[str]:
    markers = []
    for payment in payments:
        raw = payment.get("extendedproperties")
        if not raw:
            continue
        try:
            value = json.loads(raw)
        except (TypeError, ValueError):
            continue
        if isinstance(value, dict) and value.get(MARKER_KEY):
            markers.append(str(value[MARKER_KEY]))
    return markers


def pull_payments(store: Store, gripp: GrippClient, link: Link, *, run_id: str | None = None,
                  dry_run: bool = False, today: date | None = None) -> PaymentReport:
    today = today or store.today()
    report = PaymentReport()
    registrations, gripp_only = plan_registrations(store, link, today)
    _note_gripp_only(store, link, gripp_only, run_id, report, dry_run)
    if dry_run:
        report.would_register = registrations
        return report
    try:
        registrations = _settle_unfinished(store, gripp, link, registrations, report)
    except Exception as exc:
        if errors.kind_of(exc) != errors.PAUSED:
            raise
        report.pending, report.paused = len(registrations), exc
        return report
    for start in range(0, len(registrations), CALLS_PER_POST):
        if not _send(store, gripp, link, registrations[start:start + CALLS_PER_POST], run_id, report):
            report.pending += max(0, len(registrations) - (start + CALLS_PER_POST))  # not sent: they wait
            break
    return report


def _settle_unfinished(store: Store, gripp: GrippClient, link: Link, registrations: list[Registration],
                       report: PaymentReport) -> list[Registration]:
    """Markers left 'sending' by an earlier run: read those invoices back from Gripp and keep only what is missing."""
    sending = {r["marker"]: r for r in store.rows(
        "SELECT * FROM payments_applied WHERE identity_id = ? AND state = 'sending'", [link.identity_id])}
    if not sending:
        return registrations
    present = _markers_in_gripp(gripp, {r["invoice_id"] for r in sending.values()})
    for marker in sending:
        if marker in present:
            outbox.payment_done(store, marker, present[marker])
            report.already_there += 1
    return [r for r in registrations if r.marker not in present]


def _markers_in_gripp(gripp: GrippClient, invoice_ids: set[int]) -> dict[str, int]:
    """The payment markers Gripp shows on these invoices, with the payments' ids. Read as `payment.get` rows, not
    from the invoices' nested payments, which Gripp's docs do not promise as full objects."""
    present: dict[str, int] = {}
    ids = sorted(invoice_ids)
    for start in range(0, len(ids), READ_BACK_IDS):
        for row in gripp.get_all("payment", [Filter("payment.invoice", "in", ids[start:start + READ_BACK_IDS])]):
            payment = Payment.from_row(row)
            for marker in _markers([{"extendedproperties": payment.extendedproperties}]):
                present[marker] = payment.id
    return present


def _send(store: Store, gripp: GrippClient, link: Link, batch: list[Registration], run_id: str | None,
          report: PaymentReport) -> bool:
    """Register one batch in one POST. False: Gripp cannot take more this run (the rest waits).

    The batch's intents are committed together before the call, its results together after it: a crash in
    between leaves the markers 'sending', which the next run settles by reading Gripp back."""
    # Intents first (one statement for the batch): a crash after the Gripp call is settled by the markers.
    outbox.payment_intents(store, [{"marker": reg.marker, "identity_id": link.identity_id, "invoice_id": reg.invoice_id,
                                    "booking_id": reg.booking_id, "amount": reg.amount, "pay_date": reg.pay_date}
                                   for reg in batch])
    calls = [
        GrippCall("payment.create", [{
            "invoice": reg.invoice_id, "date": reg.pay_date.isoformat(), "amount": reg.amount,
            "notes": f"Betaling verwerkt in SnelStart ({reg.pay_date.strftime('%d-%m-%Y')})",
            "extendedproperties": json.dumps({MARKER_KEY: reg.marker}),
        }])
        for reg in batch
    ]
    try:
        results = gripp.batch(calls)
    except Exception as exc:
        kind = errors.kind_unless_fatal(exc)
        report.pending += len(batch)
        if kind == errors.PAUSED or isinstance(exc, GrippBusyError):
            # Refused before any work (quota, burst throttle): nothing was registered, so the intents go.
            outbox.payments_not_sent(store, [reg.marker for reg in batch])
            if kind == errors.PAUSED:
                report.paused = exc  # the runner says when it resumes, once
                return False
        # Otherwise left 'sending': the next run reads Gripp back before sending again.
        nl, en = errors.describe(exc)
        log.log_event(store, "payments_waiting", run_id=run_id, identity_id=link.identity_id,
                      data={"reason": {"nl": nl, "en": en}})
        return kind == errors.UNKNOWN  # one lost answer: carry on; Gripp busy or unreachable: stop for now
    if all(result.ok for result in results):
        _record(store, link, [(reg, record_id_of(result.result)) for reg, result in zip(batch, results, strict=True)],
                [], run_id, report)
        return True
    return _read_back(store, gripp, link, batch, results, run_id, report)


def _read_back(store: Store, gripp: GrippClient, link: Link, batch: list[Registration], results: list,
               run_id: str | None, report: PaymentReport) -> bool:
    """A call of the batch failed, so the batch may have been rolled back whatever the other calls answered: only
    what Gripp shows when read back is done. The rest stays 'sending' (read back again before it is resent)."""
    try:
        present = _markers_in_gripp(gripp, {reg.invoice_id for reg in batch})
    except Exception as exc:
        kind = errors.kind_unless_fatal(exc)
        report.pending += len(batch)
        if kind == errors.PAUSED:
            report.paused = exc
        nl, en = errors.describe(exc)
        log.log_event(store, "payments_waiting", run_id=run_id, identity_id=link.identity_id,
                      data={"reason": {"nl": nl, "en": en}, "payments": len(batch),
                            "invoices": len({reg.invoice_id for reg in batch})})
        return False
    found, missing = [], []
    for reg, result in zip(batch, results, strict=True):
        (found if reg.marker in present else missing).append((reg, result))
    refusals = []
    for reg, result in missing:
        report.pending += 1  # left 'sending': read back again before it is resent
        error = str(result.error) if not result.ok else ROLLED_BACK
        refusals.append({"run_id": run_id, "identity_id": link.identity_id, "invoice_id": reg.invoice_id,
                         "invoice_number": reg.number, "kind": "payment_refused",
                         "data": {**_facts(reg), "error": error, "rolled_back": result.ok}})
    _record(store, link, [(reg, present[reg.marker]) for reg, _ in found], refusals, run_id, report)
    return True


ROLLED_BACK = {"nl": "niet in Gripp bij het teruglezen: een andere betaling van dezelfde batch faalde en Gripp draaide "
                     "de batch terug; de volgende run zet hem opnieuw",
               "en": "not in Gripp when read back: another payment of the same batch failed and Gripp rolled the "
                     "batch back; the next run registers it again"}


def _facts(reg: Registration) -> dict[str, Any]:
    return {"marker": reg.marker, "booking_id": reg.booking_id, "amount": reg.amount, "date": reg.pay_date}


def _record(store: Store, link: Link, registered: list[tuple[Registration, int | None]], other_events: list[dict],
            run_id: str | None, report: PaymentReport) -> None:
    """What Gripp has, marked done in one transaction with its events: a crash here leaves the markers 'sending',
    which the next run reads back."""
    entries = list(other_events)
    for reg, _ in registered:
        entries.append({"run_id": run_id, "identity_id": link.identity_id, "invoice_id": reg.invoice_id,
                        "invoice_number": reg.number, "kind": "payment", "data": _facts(reg)})
    with store.transaction():
        for reg, recordid in registered:
            outbox.payment_done(store, reg.marker, recordid)
        _apply_locally(store, [reg for reg, _ in registered])
        log.log_events(store, entries)
    report.registered += len(registered)
    report.amount += sum((reg.amount for reg, _ in registered), ZERO)


def _apply_locally(store: Store, regs: list[Registration]) -> None:
    """Keep the cache true until the next Gripp refresh reads the invoices back (one read, one write per batch)."""
    if not regs:
        return
    ids = sorted({reg.invoice_id for reg in regs})
    current = {r["invoice_id"]: invoice_payments(r) for r in store.rows(
        f"SELECT invoice_id, payments_json FROM gripp_invoices WHERE invoice_id IN ({', '.join('?' for _ in ids)})",
        ids)}
    added: dict[int, Decimal] = {}
    for reg in regs:
        current.setdefault(reg.invoice_id, []).append({
            "amount": str(reg.amount), "date": reg.pay_date.isoformat(),
            "extendedproperties": json.dumps({MARKER_KEY: reg.marker})})
        added[reg.invoice_id] = added.get(reg.invoice_id, ZERO) + reg.amount
    params: list[Any] = []
    for invoice_id in ids:
        params += [invoice_id, added[invoice_id], json.dumps(current[invoice_id])]
    store.execute(
        f"""UPDATE gripp_invoices SET total_paid = total_paid + v.amount, total_open = total_open - v.amount,
                   payments_json = v.payments
            FROM (VALUES {", ".join("(?, ?::DECIMAL(18, 2), ?)" for _ in ids)}) AS v(id, amount, payments)
            WHERE gripp_invoices.invoice_id = v.id""",
        params,
    )


def _note_gripp_only(store: Store, link: Link, rows: list[dict], run_id: str | None, report: PaymentReport,
                     dry_run: bool) -> None:
    report.paid_in_gripp_only = len(rows)
    if dry_run:
        return
    for row in rows:
        key = f"gripp_only:{row['invoice_id']}"
        seen = f"{row['total_open']}|{row['openstaand_saldo']}"
        if cache.get_state(store, str(link.identity_id), key) == seen:
            continue  # told once per situation, not every run
        cache.set_state(store, str(link.identity_id), key, seen)
        log.log_event(store, "mismatch", run_id=run_id, identity_id=link.identity_id, invoice_id=row["invoice_id"],
                      invoice_number=row["number"],
                      data={"gripp_open": row["total_open"], "snelstart_open": row["openstaand_saldo"]})
