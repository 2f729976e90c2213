"""The kinds behind issue 11's inputs, beyond the ten worlds themselves: conflicts are never adopted by the link
and have their ways out, BOE-0021 never leaves an invoice failed, payments never go beyond the truth and a
reversal happens once through a crash, nothing-to-book follows the invoice, the dry run predicts it all, and a
sent invoice the cursor missed is found by the sweep."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sync.auth.access import Actor, NotAllowed
from sync.jobs import conflicts
from sync.jobs.payments import MARKER_KEY
from sync.store import outbox
from tests.records_scenarios import scenario_1_foreign_booking
from tests.records_world import IDENTITY, LEDGER_HIGH, VAT_21, events_of, tiny_world

D = Decimal


class ProcessDied(BaseException):
    """Not an Exception: nothing in the engine may catch it, like a kill -9 between two statements."""


def jansen(tiny):
    relatie = tiny.relatie(1001, "Bakkerij Jansen B.V.")
    tiny.company(101, 1001, "Bakkerij Jansen B.V.")
    return relatie


@pytest.fixture
def tiny():
    made = tiny_world()
    yield made
    made.close()


# ------------------------------------------------------------------------------------------- conflicts


def test_a_conflict_shows_as_its_own_class_and_can_be_adopted_anyway_by_support_only(tiny, tmp_path):
    jansen(tiny)
    other = tiny.relatie(2002, "Garage De Vries")
    tiny.invoice(1, 20250001, 101, date(2025, 3, 14), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    foreign = tiny.booking("20250001", other, date(2025, 2, 1), "413.22")
    copy = tiny.copy(tmp_path)
    first = copy.run()
    # Its only invoice in conflict and nothing of the identity in SnelStart yet: the run booked nothing, so it failed
    # (README's exit code 1), stored as such.
    assert first.counts["conflicts"] == 1 and first.outcome == "failed"
    from sync.jobs.reconcile import open_items

    frame = open_items(copy.services.store, IDENTITY, tiny.setup.links[0].administration_id, None, tiny.world.today)
    assert frame.loc[frame["number"] == "20250001", "class"].tolist() == ["conflict"]
    events = events_of(copy.services.store, "conflict")
    assert len(events) == 1 and events[0]["detail"]["snelstart"]["relatie"] == "Garage De Vries"
    copy.run()
    assert len(events_of(copy.services.store, "conflict")) == 1  # told once, not every run

    with pytest.raises(NotAllowed):
        conflicts.adopt_anyway(copy.services.store, IDENTITY, 1, actor=Actor("Fenna", "finance"))
    conflicts.adopt_anyway(copy.services.store, IDENTITY, 1, actor=Actor("Sam", "support"))
    row = outbox.get(copy.services.store, IDENTITY, 1)
    assert (row["state"], row["booking_id"], row["adopted_by"]) == ("booked", foreign.id, "Sam")
    assert events_of(copy.services.store, "adopted_anyway")[0]["actor"] == "Sam"
    tiny.bank(foreign.id, date(2025, 3, 20), credit="500.00")
    result = copy.run()
    assert tiny.documents_of(foreign.id) == 1  # a person vouched for it: the PDF goes
    assert result.counts["payments_held"] == 1 and tiny.our_payments(1) == []  # 500 against 121: held, flagged


def test_renumbering_the_foreign_booking_in_snelstart_lets_the_next_run_book_the_invoice(tmp_path):
    figures = scenario_1_foreign_booking(tmp_path / "before")
    assert figures["state"] == "conflict"
    tiny = tiny_world()
    try:
        jansen(tiny)
        other = tiny.relatie(2002, "Garage De Vries")
        tiny.invoice(1, 20250001, 101, date(2025, 3, 14), [("1", "100.00", VAT_21, LEDGER_HIGH)])
        foreign = tiny.booking("20250001", other, date(2025, 2, 1), "413.22")
        copy = tiny.copy(tmp_path / "after")
        copy.run()
        foreign.factuurnummer = "H-20250001"  # the bookkeeper gave the hand-typed booking another number
        copy.run()
        assert outbox.get(copy.services.store, IDENTITY, 1)["state"] == "done"
        ours = tiny.booking_of("20250001")
        assert ours.klant_id != other.id and ours.factuurbedrag == D("121.00") and tiny.documents_of(ours.id) == 1
    finally:
        tiny.close()


def test_boe0021_without_a_visible_booking_is_a_conflict_looked_at_every_run_never_failed(tiny, tmp_path):
    jansen(tiny)
    tiny.invoice(2, 20250002, 101, date(2025, 3, 20), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    copy.sandbox.faults.add("snelstart-api", "status", status=400, method="POST", path_contains="verkoopboekingen",
                            body=[{"errorCode": "BOE-0021", "message": "Het factuurnummer bestaat al"}], times=1)
    copy.run()
    row = outbox.get(copy.services.store, IDENTITY, 2)
    assert row["state"] == "conflict" and outbox.reasons(row)[0]["code"] == "BOOKING_NOT_VISIBLE"
    post = next(i for i, c in enumerate(copy.sandbox.calls) if c[1] == "POST" and "verkoopboekingen" in c[2])
    lookups = [c for c in copy.sandbox.calls[post:] if c[1] == "GET" and c[2].startswith("verkoopfacturen")]
    assert len(lookups) >= 3  # bounded: right away and after two pauses (then the run's own refresh)
    with pytest.raises(conflicts.ConflictError):
        conflicts.adopt_anyway(copy.services.store, IDENTITY, 2, actor="support")
    copy.run()  # looked up again; still not there, so posted once more: this time SnelStart takes it
    assert outbox.get(copy.services.store, IDENTITY, 2)["state"] == "done"
    assert tiny.bookings_numbered("20250002") == 1


def test_an_earlier_failed_boe0021_row_is_settled_on_the_next_run(tiny, tmp_path):
    relatie = jansen(tiny)
    tiny.invoice(2, 20250002, 101, date(2025, 3, 20), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    booking = tiny.booking("20250002", relatie, date(2025, 3, 20), "100.00")  # the earlier POST did book it
    copy = tiny.copy(tmp_path)
    from sync.jobs.inputs import invoice_input
    from sync.mapping import invoice_fingerprint

    copy.run()  # adopts it straight away; now pretend an earlier version had left it failed on BOE-0021
    store = copy.services.store
    invoice = store.one("SELECT * FROM gripp_invoices WHERE invoice_id = 2")
    outbox.put(store, IDENTITY, 2, "20250002", "failed", booking_id=None,
               fingerprint=invoice_fingerprint(invoice_input(invoice)),
               reasons=[{"code": "BOE-0021", "nl": "Het factuurnummer bestaat al", "en": "exists", "fix_nl": "",
                         "fix_en": ""}])
    copy.run()
    copy.run()  # fresh in SnelStart (its PDF was just uploaded): the PDF is looked at a run later
    row = outbox.get(store, IDENTITY, 2)
    assert (row["state"], row["booking_id"]) == ("done", booking.id)
    assert tiny.bookings_numbered("20250002") == 1


# -------------------------------------------------------------------------------------------- payments


def _booked_and_paid(tiny, tmp_path, amount="121.00"):
    jansen(tiny)
    tiny.invoice(8, 20250008, 101, date(2025, 3, 8), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    copy.run()
    booking = tiny.booking_of("20250008")
    tiny.bank(booking.id, date(2025, 4, 1), credit=amount)
    copy.run()
    return copy, booking


def test_a_reversal_is_registered_once_through_a_crash_after_the_gripp_call(tiny, tmp_path, monkeypatch):
    copy, booking = _booked_and_paid(tiny, tmp_path)
    assert tiny.open_in_gripp(8) == D("0.00")
    tiny.bank(booking.id, date(2025, 4, 8), debet="121.00")  # storno
    real = outbox.payment_reversed

    def dies(store, marker):
        raise ProcessDied()

    monkeypatch.setattr(outbox, "payment_reversed", dies)
    with pytest.raises(ProcessDied):
        copy.run()
    monkeypatch.setattr(outbox, "payment_reversed", real)
    assert tiny.our_payments(8) == []  # Gripp took it back before the process died
    copy.services.close()
    again = tiny.copy(tmp_path, "a")  # a new process on the same database file
    again.run()
    again.run()
    deletes = [c for c in copy.sandbox.calls + again.sandbox.calls if "payment.delete" in c[3]]
    assert len(deletes) == 1
    assert tiny.open_in_gripp(8) == D("121.00")
    events = events_of(again.services.store, "payment_reversed")
    assert len(events) == 1 and events[0]["detail"]["settled"] is True
    states = {r["state"] for r in outbox.payments_for(again.services.store, IDENTITY)}
    assert states == {"reversed"}


def test_a_reversal_whose_answer_is_lost_is_settled_by_reading_gripp_not_repeated(tiny, tmp_path):
    copy, booking = _booked_and_paid(tiny, tmp_path)
    tiny.bank(booking.id, date(2025, 4, 8), debet="121.00")
    copy.sandbox.faults.add("gripp", "lose_response", rpc_method="payment.delete", times=1)
    copy.run()
    copy.run()
    assert sum("payment.delete" in c[3] for c in copy.sandbox.calls) == 1
    assert tiny.open_in_gripp(8) == D("121.00") and len(events_of(copy.services.store, "payment_reversed")) == 1


def test_paid_again_after_a_storno_is_registered_again(tiny, tmp_path):
    copy, booking = _booked_and_paid(tiny, tmp_path)
    tiny.bank(booking.id, date(2025, 4, 8), debet="121.00")
    copy.run()
    tiny.bank(booking.id, date(2025, 4, 20), credit="121.00")
    copy.run()
    ours = tiny.our_payments(8)
    assert [(p.date, p.amount) for p in ours] == [(date(2025, 4, 20), D("121.00"))]
    assert tiny.open_in_gripp(8) == D("0.00")


def test_a_payment_a_person_registered_in_gripp_is_never_taken_back(tiny, tmp_path):
    from sync.sandbox.world import GrippPayment

    copy, booking = _booked_and_paid(tiny, tmp_path, amount="50.00")
    tiny.world.gripp.payments[777] = GrippPayment(777, 8, date(2025, 4, 2), D("71.00"), "contant")
    tiny.bank(booking.id, date(2025, 4, 8), debet="50.00")  # the 50 is reversed in SnelStart
    result = copy.run()
    assert 777 in tiny.world.gripp.payments  # the person's payment stays
    assert tiny.our_payments(8) == []  # ours went: Gripp now shows 71 paid, SnelStart 0 → paid in Gripp only
    assert result.counts["paid_in_gripp_only"] == 1


def test_never_registered_beyond_gripps_open_amount(tiny, tmp_path):
    _booked_and_paid(tiny, tmp_path, amount="150.00")  # overpaid in SnelStart
    ours = tiny.our_payments(8)
    assert sum(p.amount for p in ours) == D("121.00") and tiny.open_in_gripp(8) == D("0.00")


def test_a_payment_another_database_made_is_found_in_gripp_and_not_made_again(tiny, tmp_path):
    copy, booking = _booked_and_paid(tiny, tmp_path / "x", amount="0")
    other = tiny.copy(tmp_path, "b")
    other.run()  # the second database knows the booking too
    tiny.bank(booking.id, date(2025, 4, 1), credit="121.00")
    # The other copy reads the open items now, then the first copy pays, then the other one pays: its cache is
    # stale, Gripp is not.
    from sync.jobs import runner

    real_pull = runner.pull_payments

    def first_pays_meanwhile(*args, **kwargs):
        runner.pull_payments = real_pull
        copy.run()
        return real_pull(*args, **kwargs)

    runner.pull_payments = first_pays_meanwhile
    try:
        other.run()
    finally:
        runner.pull_payments = real_pull
    assert len(tiny.our_payments(8)) == 1 and tiny.open_in_gripp(8) == D("0.00")


# ----------------------------------------------------------------------------------- nothing to book


def test_a_zero_invoice_changed_to_an_amount_is_booked_then(tiny, tmp_path):
    jansen(tiny)
    invoice = tiny.invoice(6, 20250006, 101, date(2025, 3, 6), [("0", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    copy.run()
    assert outbox.get(copy.services.store, IDENTITY, 6)["state"] == "nothing_to_book"
    assert len(events_of(copy.services.store, "nothing_to_book")) == 1
    invoice.lines[0].amount = D("1")
    invoice.updatedon = tiny.now()
    copy.run()
    assert outbox.get(copy.services.store, IDENTITY, 6)["state"] == "done"


# ------------------------------------------------------------------------------------------- dry run


def test_the_dry_run_predicts_conflicts_contradictions_and_nothing_to_book(tiny, tmp_path):
    jansen(tiny)
    other = tiny.relatie(2002, "Garage De Vries")
    tiny.relatie(3003, "Jansen Beheer B.V.", vat="NL001234567B01")
    tiny.company(102, 1001, "Bakkerij Jansen B.V.", vat="NL001234567B01")  # number of one, VAT of another
    tiny.invoice(1, 20250001, 101, date(2025, 3, 14), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    tiny.booking("20250001", other, date(2025, 2, 1), "413.22")
    tiny.invoice(3, 20250003, 102, date(2025, 3, 3), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    tiny.invoice(6, 20250006, 101, date(2025, 3, 6), [("0", "100.00", VAT_21, LEDGER_HIGH)])
    tiny.invoice(7, 20250007, 101, date(2025, 3, 7), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    from sync.jobs import plan
    from sync.jobs.preview import preview_identity

    preview = preview_identity(copy.services, IDENTITY, actor="support")
    assert copy.sandbox.writes() == []
    assert [line.number for line in preview.of(plan.CONFLICT)] == ["20250001"]
    assert [(line.number, list(line.codes)) for line in preview.of(plan.BLOCKED)] == [
        ("20250003", ["CUSTOMER_CONTRADICTION"])]
    assert [line.number for line in preview.of(plan.BOOK)] == ["20250007"]
    assert [line.number for line in preview.of(plan.NOTHING)] == ["20250006"]
    result = copy.run()  # and the run does just that
    assert (result.counts["conflicts"], result.counts["blocked"], result.counts["booked"],
            result.counts["nothing_to_book"]) == (1, 1, 1, 1)


# ---------------------------------------------------------------------------------------------- sweep


def test_a_sent_invoice_the_cursor_missed_is_found_by_the_count_without_waiting_a_day(tiny, tmp_path):
    jansen(tiny)
    for n in range(5):
        tiny.invoice(100 + n, 20250100 + n, 101, date(2025, 3, 1 + n), [("1", "10.00", VAT_21, LEDGER_HIGH)],
                     status="CONCEPT" if n == 4 else "SENT")
    copy = tiny.copy(tmp_path)
    copy.run()
    tiny.world.gripp.invoices[104].status = "SENT"  # sent without its updatedon moving
    result = copy.run()
    assert result.counts.get("gripp_swept") == 1
    assert copy.services.store.scalar("SELECT status FROM gripp_invoices WHERE invoice_id = 104") == "SENT"
    assert outbox.get(copy.services.store, IDENTITY, 104)["state"] == "done"
    again = copy.run()
    assert "gripp_swept" not in again.counts  # counts agree now: no sweep until it is due


def test_markers_are_json_in_the_payments_extendedproperties(tiny, tmp_path):
    _booked_and_paid(tiny, tmp_path)
    import json

    assert json.loads(tiny.our_payments(8)[0].extendedproperties)[MARKER_KEY].startswith("snelstart:")
