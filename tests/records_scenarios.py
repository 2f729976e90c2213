"""The ten inputs of issue 11 ("right records"), each a small sandbox world run through the link, plus the paging
one. Each `scenario_*` returns its figures; `tests/test_right_records.py` asserts the right ones, and the same
functions give the before/after table (`python -m tests.records_scenarios`).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sync.core.words import say
from sync.jobs.reconcile import open_items
from sync.mapping.problems import stored_explained
from sync.snelstart.client import SnelStartClient
from sync.store import outbox
from tests.records_world import (
    IDENTITY,
    LEDGER_HIGH,
    LEDGER_ZERO,
    START,
    TODAY,
    VAT_0,
    VAT_21,
    VAT_21_B,
    Tiny,
    events_of,
    tiny_world,
)

Figures = dict[str, Any]


def _state(copy, invoice_id: int) -> str | None:
    row = outbox.get(copy.services.store, IDENTITY, invoice_id)
    return row["state"] if row else None


def _reason_codes(copy, invoice_id: int) -> list[str]:
    row = outbox.get(copy.services.store, IDENTITY, invoice_id)
    return [r["code"] for r in outbox.reasons(row)] if row else []


def _reason_text(copy, invoice_id: int) -> str:
    row = outbox.get(copy.services.store, IDENTITY, invoice_id)
    return " ".join(say(stored_explained([r]), "nl") for r in outbox.reasons(row)) if row else ""


def _customer(tiny: Tiny) -> Tiny:
    """Bakkerij Jansen B.V.: Gripp company 101, customer number 1001, and its relatie 1001 in SnelStart."""
    tiny.relatie(1001, "Bakkerij Jansen B.V.")
    tiny.company(101, 1001, "Bakkerij Jansen B.V.")
    return tiny


# ------------------------------------------------------------------------------------------------- 1


def scenario_1_foreign_booking(tmp_path: Path) -> Figures:
    """SnelStart already has a hand-typed booking with the invoice's number: another customer, another amount,
    paid before the invoice was even dated."""
    tiny = _customer(tiny_world())
    other = tiny.relatie(2002, "Garage De Vries")
    tiny.invoice(1, 20250001, 101, date(2025, 3, 14), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    foreign = tiny.booking("20250001", other, date(2025, 2, 1), "413.22")  # € 500,00
    tiny.bank(foreign.id, date(2025, 2, 10), credit="500.00")
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        copy.run()
        ours = tiny.our_payments(1)
        return {
            "state": _state(copy, 1),
            "reasons": _reason_codes(copy, 1),
            "reason_text": _reason_text(copy, 1),
            "pdfs_on_foreign_booking": tiny.documents_of(foreign.id),
            "payments_written": len(ours),
            "payment_total": sum((p.amount for p in ours), Decimal("0.00")),
            "payment_dates": sorted(p.date for p in ours),
            "gripp_open": tiny.open_in_gripp(1),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 2


def scenario_2_lost_answer_then_boe0021(tmp_path: Path) -> Figures:
    """The booking POST's answer is lost, the look-up right after does not see the booking yet, the re-POST
    gets BOE-0021. Then the customer pays in SnelStart."""
    tiny = _customer(tiny_world())
    tiny.invoice(2, 20250002, 101, date(2025, 3, 20), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    faults = copy.sandbox.faults
    faults.add("snelstart-api", "lose_response", method="POST", path_contains="verkoopboekingen", times=1)
    # The open-items read at the start of the run passes; the look-up after the lost answer comes back empty.
    faults.add("snelstart-api", "reshape", method="GET", path_contains="verkoopfacturen", after=1, times=1,
               transform=lambda rows: [])
    try:
        copy.run()
        after_first = _state(copy, 2)
        codes_first = _reason_codes(copy, 2)
        booking = tiny.booking_of("20250002")
        tiny.bank(booking.id, date(2025, 4, 2), credit="121.00")
        copy.run()
        copy.run()
        return {
            "state_after_run_1": after_first,
            "reasons_after_run_1": codes_first,
            "state_after_run_3": _state(copy, 2),
            "bookings": tiny.bookings_numbered("20250002"),
            "pdfs": tiny.documents_of(booking.id),
            "payment_total": sum((p.amount for p in tiny.our_payments(2)), Decimal("0.00")),
            "gripp_open": tiny.open_in_gripp(2),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 3


def scenario_3_number_and_vat_disagree(tmp_path: Path) -> Figures:
    """The Gripp customer number is relatie A's relatiecode; its VAT number is relatie B's."""
    tiny = tiny_world()
    a = tiny.relatie(1001, "Bakkerij Jansen B.V.")
    b = tiny.relatie(3003, "Jansen Beheer B.V.", vat="NL001234567B01")
    tiny.company(101, 1001, "Bakkerij Jansen B.V.", vat="NL001234567B01")
    tiny.invoice(3, 20250003, 101, date(2025, 3, 3), [("2", "50.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        booked_on = [x.klant_id for x in tiny.admin.bookings.values() if x.factuurnummer == "20250003"]
        return {
            "state": _state(copy, 3),
            "reasons": _reason_codes(copy, 3),
            "reason_text": _reason_text(copy, 3),
            "booked_on": ["A" if k == a.id else "B" if k == b.id else "other" for k in booked_on],
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 4


def scenario_4_same_name_no_keys(tmp_path: Path) -> Figures:
    """SnelStart has a Klant with exactly the Gripp company's name; no number, VAT or KvK number matches."""
    tiny = tiny_world()
    existing = tiny.relatie(7, "Café De Hoek")
    tiny.company(102, 1002, "Café De Hoek")
    tiny.invoice(4, 20250004, 102, date(2025, 3, 4), [("3", "12.10", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        booking = tiny.booking_of("20250004")
        return {
            "relaties_named": sum(1 for r in tiny.admin.relaties.values() if r.naam == "Café De Hoek"),
            "booked_on_existing": booking.klant_id == existing.id,
            "state": _state(copy, 4),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 5

LONG_NAME = ("Stichting Vrienden van het Noorderplantsoen Groningen")[:49] + "\U0001F333"


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def scenario_5_emoji_name(tmp_path: Path) -> Figures:
    """A customer name of 49 characters plus an emoji: 50 code points, 51 UTF-16 units."""
    tiny = tiny_world()
    tiny.company(105, 1005, LONG_NAME)
    tiny.invoice(5, 20250005, 105, date(2025, 3, 5), [("1", "80.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        created = [r for r in tiny.admin.relaties.values() if r.relatiecode == 1005]
        naam = created[0].naam if created else None
        return {
            "gripp_code_points": len(LONG_NAME),
            "gripp_utf16_units": utf16_units(LONG_NAME),
            "created": bool(created),
            "naam_utf16_units": utf16_units(naam) if naam else None,
            "state": _state(copy, 5),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 6


def scenario_6_zero_invoice(tmp_path: Path) -> Figures:
    """An invoice of € 0,00 (a line and its reversal)."""
    tiny = _customer(tiny_world())
    tiny.invoice(6, 20250006, 101, date(2025, 3, 6), [("1", "100.00", VAT_21, LEDGER_HIGH),
                                                      ("-1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        first = copy.run()
        second = copy.run()
        frame = open_items(copy.services.store, IDENTITY, tiny.setup.links[0].administration_id, START, TODAY)
        row = frame[frame["number"] == "20250006"]
        return {
            "state": _state(copy, 6),
            "blocked_counts": (first.counts.get("blocked", 0), second.counts.get("blocked", 0)),
            "outcomes": (first.outcome, second.outcome),
            "open_items_class": row["class"].iloc[0] if len(row) else None,
            "bookings": tiny.bookings_numbered("20250006"),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 7


def scenario_7_two_rates_one_kind(tmp_path: Path) -> Figures:
    """Two Gripp VAT rates of 21 %, both mapped to Hoog, 10 × 12,35 on each."""
    tiny = _customer(tiny_world())
    tiny.invoice(7, 20250007, 101, date(2025, 3, 7), [("10", "12.35", VAT_21, LEDGER_HIGH),
                                                      ("10", "12.35", VAT_21_B, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        totals = tiny.totals(7)
        booking = tiny.booking_of("20250007")
        return {
            "gripp_total": totals["totalinclvat"],
            "gripp_net": totals["totalincldiscountexclvat"],
            "gripp_vat": totals["totalinclvat"] - totals["totalincldiscountexclvat"],
            "booking_vat": sum((amount for _, amount in booking.btw), Decimal("0.00")),
            "booking_revenue": sum((line.bedrag for line in booking.boekingsregels), Decimal("0.00")),
            "booking_total": booking.factuurbedrag,
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 8


def scenario_8_storno(tmp_path: Path) -> Figures:
    """Paid € 121 in SnelStart (the link registers it in Gripp), then the bank reverses it (SEPA storno)."""
    tiny = _customer(tiny_world())
    tiny.invoice(8, 20250008, 101, date(2025, 3, 8), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        booking = tiny.booking_of("20250008")
        tiny.bank(booking.id, date(2025, 4, 1), credit="121.00")
        copy.run()
        registered = tiny.open_in_gripp(8)
        tiny.bank(booking.id, date(2025, 4, 8), debet="121.00")  # the storno
        copy.run()
        copy.run()
        return {
            "gripp_open_after_payment": registered,
            "snelstart_open_after_storno": tiny.ss_open(booking.id),
            "gripp_open_after_storno": tiny.open_in_gripp(8),
            "our_payments_left": len(tiny.our_payments(8)),
            "reversal_events": len(events_of(copy.services.store, "payment_reversed")),
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------- 9


def scenario_9_totals_differ(tmp_path: Path, delta: str = "10.00") -> Figures:
    """The booking's total is changed in SnelStart (Gripp € 2.361,14; SnelStart € 2.361,14 + delta) and then
    paid in full in SnelStart."""
    tiny = _customer(tiny_world())
    tiny.invoice(9, 20250009, 101, date(2025, 3, 9), [("1", "1000.00", VAT_21, LEDGER_HIGH),
                                                      ("1", "1151.14", VAT_0, LEDGER_ZERO)])
    copy = tiny.copy(tmp_path)
    try:
        copy.run()
        booking = tiny.booking_of("20250009")
        booking.factuurbedrag += Decimal(delta)  # the accountant corrected the booking, still in balance
        booking.boekingsregels[0].bedrag += Decimal(delta)
        booking.modified_on = datetime(2025, 4, 1, 11, 0)
        tiny.bank(booking.id, date(2025, 4, 10), credit=str(booking.factuurbedrag))
        result = copy.run()
        frame = open_items(copy.services.store, IDENTITY, tiny.setup.links[0].administration_id, START, TODAY)
        from console.views import reminder_lists

        lists = reminder_lists(frame)
        listed = any("20250009" in set(part["number"]) for part in lists)
        return {
            "gripp_total": tiny.totals(9)["totalinclvat"],
            "snelstart_total": booking.factuurbedrag,
            "registered": sum((p.amount for p in tiny.our_payments(9)), Decimal("0.00")),
            "gripp_open": tiny.open_in_gripp(9),
            "held": result.counts.get("payments_held", 0),
            "flag_events": len(events_of(copy.services.store, "payments_held")),
            "listed_before_reminders": listed,
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------ 10


@contextmanager
def one_invoice_at_a_time() -> Iterator[None]:
    """The push works on one invoice at a time, so two copies interleave the same way every time."""
    original = SnelStartClient.parallel_calls
    SnelStartClient.parallel_calls = property(lambda self: 1)  # type: ignore[assignment]
    try:
        yield
    finally:
        SnelStartClient.parallel_calls = original  # type: ignore[assignment]


def scenario_10_two_databases(tmp_path: Path) -> Figures:
    """Two copies of the link (two databases) on one administration at once. Three invoices the old link booked
    (with their PDFs) are paid in SnelStart and not yet in Gripp; two are new. Copy B runs from start to end
    while copy A is between booking its first new invoice and uploading that invoice's PDF — after A read
    Gripp's payments, before A registers any. Then each runs once more."""
    tiny = _customer(tiny_world())
    relatie = next(r for r in tiny.admin.relaties.values() if r.relatiecode == 1001)
    for n in range(3):
        invoice = tiny.invoice(100 + n, 20250101 + n, 101, date(2025, 2, 3 + n), [("1", "100.00", VAT_21,
                                                                                      LEDGER_HIGH)])
        old = tiny.booking(str(invoice.number), relatie, invoice.date, "100.00", with_pdf=True)
        tiny.bank(old.id, date(2025, 3, 1 + n), credit="121.00")
    for n in range(3, 5):
        tiny.invoice(100 + n, 20250101 + n, 101, date(2025, 3, 3 + n), [("2", "100.00", VAT_21, LEDGER_HIGH)])
    a, b = tiny.copy(tmp_path, "a"), tiny.copy(tmp_path, "b")
    a.sandbox.faults.add("snelstart-api", "hook", method="POST", path_contains="documenten", times=1,
                         action=b.run)
    try:
        with one_invoice_at_a_time():
            a.run()
            a.run()
            b.run()
        numbers = [str(20250101 + n) for n in range(5)]
        bookings = {n: [x for x in tiny.admin.bookings.values() if x.factuurnummer == n] for n in numbers}
        paid_twice = 0
        for n in range(5):
            ours = sum((p.amount for p in tiny.our_payments(100 + n)), Decimal("0.00"))
            ss_paid = sum((x.factuurbedrag - tiny.ss_open(x.id) for x in bookings[str(20250101 + n)]),
                          Decimal("0.00"))
            paid_twice += ours > ss_paid
        return {
            "most_bookings_per_number": max(len(v) for v in bookings.values()),
            "pdfs_attached_twice": sum(1 for v in bookings.values() for x in v if tiny.documents_of(x.id) > 1),
            "bookings_without_pdf": sum(1 for v in bookings.values() for x in v if tiny.documents_of(x.id) == 0),
            "invoices_paid_twice": paid_twice,
            "hook_fired": a.sandbox.faults._faults[0].fired,
        }
    finally:
        tiny.close()


# ------------------------------------------------------------------------------------------------ paging


def scenario_paging(tmp_path: Path) -> Figures:
    """600 invoices; while the first refresh pages through them, Gripp changes: five concept invoices on the
    first page are deleted, one concept on the first page is sent without its `updatedon` moving, two new sent
    invoices arrive. Counted: sent invoices in Gripp that the cache does not hold as sent."""
    tiny = _customer(tiny_world())
    for n in range(600):
        status = "CONCEPT" if n in (10, 11, 12, 13, 14, 20) else "SENT"
        tiny.invoice(1000 + n, 20260000 + n, 101, date(2025, 1, 2) + timedelta(days=n % 150),
                     [("1", "10.00", VAT_21, LEDGER_HIGH)], status=status)
    gripp = tiny.world.gripp

    def change() -> None:
        for n in (10, 11, 12, 13, 14):
            del gripp.invoices[1000 + n]
        gripp.invoices[1020].status = "SENT"  # sent, but its updatedon stays what it was
        for n in (600, 601):
            made = tiny.invoice(1000 + n, 20260000 + n, 101, date(2025, 6, 1), [("1", "10.00", VAT_21, LEDGER_HIGH)])
            made.createdon = tiny.now()

    copy = tiny.copy(tmp_path)
    copy.sandbox.faults.add("gripp", "hook", rpc_method="invoice.get", after=1, times=1, action=change)
    try:
        copy.run()
        missing_first = _missing_sent(tiny, copy)
        _sweep_due(copy)
        copy.run()
        return {"missing_after_run_1": missing_first, "missing_after_next_sweep": _missing_sent(tiny, copy)}
    finally:
        tiny.close()


def _missing_sent(tiny: Tiny, copy) -> int:
    sent = {i.id for i in tiny.world.gripp.invoices.values() if i.status == "SENT"}
    cached = {r["invoice_id"] for r in copy.services.store.rows(
        "SELECT invoice_id FROM gripp_invoices WHERE status = 'SENT'")}
    return len(sent - cached)


def _sweep_due(copy) -> None:
    """As if the last full sweep was long ago (the periodic sweep is due)."""
    copy.services.store.execute("DELETE FROM sync_state WHERE scope = 'gripp' AND key = 'swept_at'")


ALL = {
    "1 foreign booking": scenario_1_foreign_booking,
    "2 lost answer, lag, BOE-0021": scenario_2_lost_answer_then_boe0021,
    "3 number vs VAT": scenario_3_number_and_vat_disagree,
    "4 same name": scenario_4_same_name_no_keys,
    "5 emoji name": scenario_5_emoji_name,
    "6 zero invoice": scenario_6_zero_invoice,
    "7 two 21% rates": scenario_7_two_rates_one_kind,
    "8 storno": scenario_8_storno,
    "9a SnelStart +10": lambda p: scenario_9_totals_differ(p, "10.00"),
    "9b SnelStart -10": lambda p: scenario_9_totals_differ(p, "-10.00"),
    "10 two databases": scenario_10_two_databases,
    "paging": scenario_paging,
}


def main() -> None:
    for name, scenario in ALL.items():
        with tempfile.TemporaryDirectory() as folder:
            try:
                figures = scenario(Path(folder))
            except Exception as exc:  # a scenario that crashes is a figure too
                figures = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"{name}: {figures}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
