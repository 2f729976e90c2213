"""What changes after booking (issue 23): an invoice the link booked that Gripp no longer shows as sent becomes a
difference of its own, told once, with its ways out, and its booking is never touched; only a complete read of Gripp
may conclude an invoice was deleted; a relatie renamed in SnelStart after the link booked a customer on it keeps that
customer's invoices (told once), while a relatiecode reused for another customer still blocks."""

from __future__ import annotations

import copy as copying
from datetime import date

import pytest

from sync.auth.access import Actor
from sync.core.events import render
from sync.core.words import say
from sync.jobs import after_booking, story
from sync.jobs.reconcile import open_items
from sync.mapping.customers import BOOKED, CODE, CompanyIn, RelatieIn, match_customer
from sync.store import history, outbox
from sync.store.cache import DELETED
from tests.records_scenarios import _sweep_due
from tests.records_world import ADMIN, IDENTITY, LEDGER_HIGH, VAT_21, events_of, tiny_world

LINE = [("1", "100.00", VAT_21, LEDGER_HIGH)]


@pytest.fixture
def tiny():
    made = tiny_world()
    yield made
    made.close()


def booked_twice(tiny, tmp_path):
    """Bakkerij Jansen (customer 1001 = relatie 1001) with two invoices, both booked by one run."""
    relatie = tiny.relatie(1001, "Bakkerij Jansen B.V.")
    tiny.company(101, 1001, "Bakkerij Jansen B.V.")
    tiny.invoice(1, 20250001, 101, date(2025, 3, 14), LINE)
    tiny.invoice(2, 20250002, 101, date(2025, 3, 15), LINE)
    made = tiny.copy(tmp_path)
    first = made.run()
    assert first.counts["booked"] == 2
    return made, relatie


def classes(made) -> dict[str, str]:
    frame = open_items(made.services.store, IDENTITY, ADMIN, None, date(2025, 6, 30))
    return dict(zip(frame["number"], frame["class"], strict=True))


def frame_row(made, number: str) -> dict:
    frame = open_items(made.services.store, IDENTITY, ADMIN, None, date(2025, 6, 30))
    return frame[frame["number"] == number].iloc[0].to_dict()


def the_booking(tiny, number: str):
    booking = tiny.booking_of(number)
    return copying.deepcopy(booking), tiny.documents_of(booking.id)


# ------------------------------------------------------------------------------------- gone from Gripp


def test_a_booked_invoice_deleted_in_gripp_is_flagged_once_after_a_complete_read_and_its_booking_is_untouched(
        tiny, tmp_path):
    made, _ = booked_twice(tiny, tmp_path)
    del tiny.world.gripp.invoices[1]  # deleted in Gripp: absent from every read from now on
    booking = tiny.booking_of("20250001")
    tiny.bank(booking.id, date(2025, 4, 1), credit="50.00")  # and partly paid in SnelStart: nothing to bring back
    before, documents = the_booking(tiny, "20250001")
    writes = len(made.sandbox.writes())

    # Gripp counts one sent invoice fewer than the cache holds: the sweep reads every sent invoice again, 1 is not
    # among them, and asked for by id, Gripp has none
    swept = made.run()
    assert swept.counts["gripp_swept"] == 1 and swept.counts["gripp_deleted"] == 1
    store = made.services.store
    assert store.scalar("SELECT status FROM gripp_invoices WHERE invoice_id = 1") == DELETED
    assert classes(made) == {"20250001": "gone_from_gripp", "20250002": "in_sync"}
    row = frame_row(made, "20250001")
    assert row["gone_how"] == "deleted" and row["customer"] == "Bakkerij Jansen B.V." and not row["in_gripp"]
    [event] = events_of(store, "invoice_gone")
    assert event["invoice_number"] == "20250001" and event["detail"]["how"] == "deleted"
    said = render(event, "nl")
    assert "in Gripp verwijderd" in said and "Crediteer de boeking in SnelStart" in said
    assert "was deleted in Gripp" in render(event, "en")
    # the invoice's story says it too: Gripp's side as deleted, and the event among its moments
    [told] = story.stories(made.services, "20250001")
    assert say(dict(told.summary())["story.label.gripp"], "nl").endswith("verwijderd in Gripp")
    assert "invoice_gone" in [entry.kind for entry in told.entries]

    _sweep_due(made)
    made.run()
    assert len(events_of(store, "invoice_gone")) == 1  # told once, not every run
    # the link never touched the booking: no payment, no PDF, no delete — nothing written at all
    assert made.sandbox.writes()[writes:] == []
    assert tiny.booking_of("20250001") == before and tiny.documents_of(before.id) == documents
    assert outbox.get(store, IDENTITY, 1)["state"] == "done"


def test_a_booked_invoice_no_longer_sent_in_gripp_is_flagged_with_its_own_reason(tiny, tmp_path):
    made, _ = booked_twice(tiny, tmp_path)
    before, _ = the_booking(tiny, "20250002")
    invoice = tiny.world.gripp.invoices[2]
    invoice.status = "CONCEPT"  # taken back from sent in Gripp (status 1 of CONCEPT, SENT)
    invoice.updatedon = tiny.now()
    writes = len(made.sandbox.writes())
    made.run()  # the incremental read brings the new status
    assert classes(made) == {"20250001": "in_sync", "20250002": "gone_from_gripp"}
    assert frame_row(made, "20250002")["gone_how"] == "not_sent"
    [event] = events_of(made.services.store, "invoice_gone")
    assert event["detail"]["how"] == "not_sent" and "niet meer als verzonden" in render(event, "nl")
    assert made.sandbox.writes()[writes:] == [] and tiny.booking_of("20250002") == before

    invoice.status = "SENT"  # sent again: no longer a difference, and a later disappearance is told anew
    invoice.updatedon = tiny.now()
    made.run()
    assert classes(made)["20250002"] == "in_sync"
    assert not made.services.store.rows("SELECT * FROM invoices_gone")


def test_an_invoice_taken_back_without_its_change_date_moving_is_found_by_the_sweep_as_not_sent_not_deleted(
        tiny, tmp_path):
    made, _ = booked_twice(tiny, tmp_path)
    tiny.world.gripp.invoices[1].status = "CONCEPT"  # its updatedon stays: no query by change date sees it
    result = made.run()  # Gripp counts one sent invoice fewer: the sweep misses it and asks for it by id
    assert result.counts["gripp_swept"] == 1 and "gripp_deleted" not in result.counts
    assert made.services.store.scalar("SELECT status FROM gripp_invoices WHERE invoice_id = 1") == "CONCEPT"
    assert frame_row(made, "20250001")["gone_how"] == "not_sent"


@pytest.mark.parametrize("failure", ["quota", "page"])
def test_a_partial_read_of_gripp_never_makes_an_invoice_look_deleted(tiny, tmp_path, failure):
    made, _ = booked_twice(tiny, tmp_path)
    del tiny.world.gripp.invoices[1]
    _sweep_due(made)
    if failure == "quota":  # Gripp's hourly quota is spent just before the sweep's page: the run books from the cache
        made.sandbox.faults.add("gripp", "hook", rpc_method="invoice.get", after=1, times=1,
                                action=made.sandbox.spend_gripp_quota)
    else:  # the sweep's page fails, every retry
        made.sandbox.faults.add("gripp", "status", status=503, rpc_method="invoice.get", after=1, times=None)
    made.run()
    store = made.services.store
    assert store.scalar("SELECT status FROM gripp_invoices WHERE invoice_id = 1") == "SENT"
    assert "gone_from_gripp" not in classes(made).values()
    assert not events_of(store, "invoice_gone")


def test_confirming_a_deliberate_deletion_clears_the_difference_and_records_who(tiny, tmp_path):
    made, _ = booked_twice(tiny, tmp_path)
    store = made.services.store
    with pytest.raises(after_booking.GoneError):  # still sent in Gripp: nothing to confirm
        after_booking.confirm_deleted(store, IDENTITY, 1, actor="femke")
    del tiny.world.gripp.invoices[1]
    _sweep_due(made)
    made.run()
    [gone] = after_booking.gone_invoices(store, IDENTITY)
    assert gone.number == "20250001" and not gone.confirmed

    confirmed = after_booking.confirm_deleted(store, IDENTITY, 1, actor=Actor("femke", "finance"))
    assert confirmed.confirmed_by == "femke"
    assert classes(made)["20250001"] == "in_sync"  # no longer a difference
    [event] = history.events(store, identity_id=IDENTITY, kind="gone_confirmed")
    assert event["actor"] == "femke" and "door femke bevestigd als bewust verwijderd" in render(event, "nl")

    _sweep_due(made)
    made.run()
    assert classes(made)["20250001"] == "in_sync"  # stays confirmed
    assert len(events_of(store, "invoice_gone")) == 1
    assert tiny.bookings_numbered("20250001") == 1  # the booking is still there, untouched


def test_once_the_booking_is_settled_in_snelstart_the_deleted_invoice_is_no_difference_any_more(tiny, tmp_path):
    made, _ = booked_twice(tiny, tmp_path)
    del tiny.world.gripp.invoices[1]
    made.run()
    assert classes(made)["20250001"] == "gone_from_gripp"
    booking = tiny.booking_of("20250001")
    # credited and matched against it in SnelStart: nothing of it is open any more (a bank line stands in for that)
    tiny.bank(booking.id, date(2025, 4, 1), credit=str(booking.factuurbedrag))
    writes = len(made.sandbox.writes())
    made.run()
    assert "20250001" not in classes(made)
    assert made.sandbox.writes()[writes:] == []  # and no payment is brought back to a deleted invoice


# ------------------------------------------------------------------------------------- renamed relatie


def test_a_relatie_renamed_after_booking_keeps_the_customers_invoices_and_the_rename_is_told_once(tiny, tmp_path):
    made, relatie = booked_twice(tiny, tmp_path)
    assert tiny.booking_of("20250001").klant_id == relatie.id
    relatie.naam = "Jansen Brood & Banket"  # renamed by the bookkeeper in SnelStart
    # and a relatiecode reused: customer 1002's number is a former customer's relatie, never booked on
    tiny.relatie(1002, "Garage De Vries")
    tiny.company(102, 1002, "Schilder Pietersen")
    tiny.invoice(3, 20250003, 101, date(2025, 4, 1), LINE)
    tiny.invoice(4, 20250004, 102, date(2025, 4, 2), LINE)
    result = made.run()
    assert result.counts["booked"] == 1 and result.counts["blocked"] == 1
    assert tiny.booking_of("20250003").klant_id == relatie.id  # the renamed relatie, not a new one
    assert len([r for r in tiny.admin.relaties.values() if "Jansen" in r.naam]) == 1
    store = made.services.store
    assert outbox.get(store, IDENTITY, 4)["state"] == "blocked"
    assert "CUSTOMER_CONTRADICTION" in outbox.get(store, IDENTITY, 4)["reasons_json"]
    [event] = events_of(store, "relatie_renamed")
    assert event["detail"]["relatiecode"] == 1001 and event["detail"]["name"] == "Jansen Brood & Banket"
    said = render(event, "nl")
    assert "Relatie 1001 heet in SnelStart nu ‘Jansen Brood & Banket’" in said and "eerder op" in said

    tiny.invoice(5, 20250005, 101, date(2025, 4, 3), LINE)
    made.run()
    assert tiny.booking_of("20250005").klant_id == relatie.id
    assert len(events_of(store, "relatie_renamed")) == 1  # once, not every run


def test_the_matcher_counts_the_links_own_booking_but_not_for_another_customers_code() -> None:
    renamed = RelatieIn("r1", 1001, "Jansen Brood & Banket", ("Klant",))
    jansen = CompanyIn(101, 1001, "Bakkerij Jansen B.V.")
    blocked = match_customer(jansen, [renamed], number="1")
    assert blocked.problem is not None  # same number, other name, and never booked there
    kept = match_customer(jansen, [renamed], number="1", booked="r1")
    assert (kept.relatie_id, kept.how, kept.renamed, kept.problem) == ("r1", CODE, True, None)
    alone = match_customer(CompanyIn(101, None, "Bakkerij Jansen B.V."), [renamed], number="1", booked="r1")
    assert (alone.relatie_id, alone.how, alone.renamed) == ("r1", BOOKED, True)
    same = match_customer(jansen, [RelatieIn("r1", 1001, "Bakkerij Jansen B.V.", ("Klant",))], number="1",
                          booked="r1")
    assert same.relatie_id == "r1" and not same.renamed
    # booked on one relatie, while its number now belongs to another: a person decides
    moved = match_customer(jansen, [renamed, RelatieIn("r2", 1001, "Bakkerij Jansen B.V.", ("Klant",))],
                           number="1", booked="r1")
    assert moved.problem is not None and {r.relatie_id for r in moved.involved} == {"r1", "r2"}
