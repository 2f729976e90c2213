"""The sync engine end to end on the seeded sandbox: every valid invoice booked exactly once with its PDF, the
misconfigured ones blocked with the right reason, SnelStart's payments registered in Gripp, and an unchanged
rerun that writes nothing."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest

from sync.core.money import cents
from sync.jobs import kostenplaatsen, plan
from sync.jobs.payments import MARKER_KEY
from sync.jobs.preview import preview_identity
from sync.jobs.runner import run_identity
from sync.sandbox.seed import KOSTENPLAATS_LEDGER, VAT_VRIJGESTELD, manifest
from sync.sandbox.world import GrippInvoiceLine, SnelStartBankBooking, SnelStartBankLine
from sync.store import cache, history, outbox

LINKED = (1, 2)


def sync_all(services) -> dict[int, object]:
    results = {i: run_identity(services, i, trigger="cli") for i in LINKED}
    services.gripp_freshness.forget()
    return results


def bookings_by_number(world, identity_id: int, facts) -> dict[str, list]:
    admin = world.snelstart.administrations[facts.administration_by_identity[identity_id]]
    found: dict[str, list] = {}
    for booking in admin.bookings.values():
        found.setdefault(booking.factuurnummer, []).append(booking)
    return found


def our_gripp_payments(world) -> dict[int, list]:
    found: dict[int, list] = {}
    for payment in world.gripp.payments.values():
        if payment.extendedproperties and MARKER_KEY in payment.extendedproperties:
            found.setdefault(payment.invoice_id, []).append(payment)
    return found


def test_first_run_books_every_valid_invoice_once_with_pdf_and_blocks_the_misconfigured(services, world):
    facts = manifest(world)
    results = sync_all(services)
    assert all(r.outcome == "warnings" for r in results.values())  # warnings: the deliberate blocks

    invoices = {str(inv.number): inv for inv in world.gripp.invoices.values()}
    for identity_id in LINKED:
        admin = world.snelstart.administrations[facts.administration_by_identity[identity_id]]
        by_number = bookings_by_number(world, identity_id, facts)
        expected = facts.to_book_by_identity[identity_id] | facts.prebooked_by_identity[identity_id]
        for number in expected:
            assert len(by_number.get(number, [])) == 1, f"{number} must be booked exactly once"
            booking = by_number[number][0]
            invoice = invoices.get(number)
            if number in facts.to_book_by_identity[identity_id]:
                totals = world.gripp.invoice_totals(invoice)
                assert booking.factuurbedrag == totals["totalinclvat"]
                net = sum((line.bedrag for line in booking.boekingsregels), Decimal("0"))
                vat = sum((amount for _, amount in booking.btw), Decimal("0"))
                assert cents(net + vat) == booking.factuurbedrag  # balanced to the cent
                relatie = admin.relaties[booking.klant_id]
                assert "Klant" in relatie.relatiesoort
                company = world.gripp.companies[invoice.company_id]
                if company.customernumber not in facts.missing_relaties.get(identity_id, set()):
                    assert relatie.relatiecode == company.customernumber
            documents = [d for d in admin.documents.values() if d.parent_id == booking.id]
            if number in facts.conflicts_expected:  # not this invoice's booking any more: nothing through it
                assert documents == []
                assert outbox.get(services.store, identity_id, invoice.id)["state"] == "conflict"
                continue
            assert len(documents) == 1 and documents[0].content.startswith(b"%PDF-")
        assert Counter(len(v) for v in by_number.values()) == Counter({1: len(by_number)})  # no duplicates

    for number, reason in facts.blocked_expected.items():
        invoice = invoices[number]
        state = outbox.get(services.store, invoice.identity_id, invoice.id)
        assert state["state"] == "blocked"
        assert reason in {r["code"] for r in outbox.reasons(state)}
        assert number not in bookings_by_number(world, invoice.identity_id, facts)


def test_first_run_brings_snelstart_payments_back_to_gripp_with_bank_dates(services, world):
    facts = manifest(world)
    sync_all(services)
    ours = our_gripp_payments(world)
    invoices = {str(inv.number): inv for inv in world.gripp.invoices.values()}
    registered = {
        str(world.gripp.invoices[invoice_id].number): sorted((p.date, p.amount) for p in payments)
        for invoice_id, payments in ours.items()
    }
    assert registered == {number: sorted(expected) for number, expected in facts.payments_expected.items()}
    for number in facts.partially_paid & set(registered):
        totals = world.gripp.invoice_totals(invoices[number])
        assert totals["totalopeninclvat"] > 0  # partial stays partial
    for number in facts.paid_in_gripp_only:
        assert invoices[number].id not in ours  # nothing written where Gripp shows less open
    after = manifest(world)
    assert after.payments_expected == {}
    assert all(not numbers for i, numbers in after.to_book_by_identity.items() if i in LINKED)


def test_unchanged_rerun_changes_nothing_and_writes_nothing(services, sandbox, world):
    sync_all(services)
    before_calls = len(sandbox.calls)
    before = (
        {a: (len(x.bookings), len(x.documents), len(x.relaties)) for a, x in world.snelstart.administrations.items()},
        len(world.gripp.payments),
    )
    results = sync_all(services)
    new_calls = sandbox.calls[before_calls:]
    writes = [c for c in new_calls if c in sandbox.writes()]
    assert writes == []
    after = (
        {a: (len(x.bookings), len(x.documents), len(x.relaties)) for a, x in world.snelstart.administrations.items()},
        len(world.gripp.payments),
    )
    assert after == before
    assert all(r.counts.get("booked", 0) == 0 and r.counts.get("payments_registered", 0) == 0
               for r in results.values())


def test_reconcile_classifies_the_seeded_differences(services, world):
    from sync.jobs.reconcile import open_items
    from sync.store.setup import get_link

    facts = manifest(world)
    sync_all(services)
    classes: dict[str, str] = {}
    for identity_id in LINKED:
        link = get_link(services.store, identity_id)
        frame = open_items(services.store, identity_id, link.administration_id, link.start_date, world.today)
        classes.update(dict(zip(frame["number"], frame["class"], strict=True)))
    for number in facts.blocked_expected:
        assert classes[number] == "not_booked"
    settled = {row["factuurnummer"] for row in services.store.rows(
        "SELECT factuurnummer FROM ss_open_items WHERE openstaand_saldo = 0")}
    for number in facts.only_in_snelstart:  # a settled one is no open item
        assert classes.get(number) == (None if number in settled else "only_in_snelstart"), number
    assert facts.only_in_snelstart - settled and facts.only_in_snelstart & settled
    for number in facts.amount_differs:
        assert classes[number] == ("conflict" if number in facts.conflicts_expected else "amount_differs")
    for number in facts.paid_in_gripp_only:
        assert classes[number] == "paid_in_gripp_only"
    assert "payment_not_in_gripp" not in classes.values()  # all came back


def test_dry_run_writes_nothing_and_reports_what_would_happen(services, sandbox, world):
    facts = manifest(world)
    preview = preview_identity(services, 2, actor="support")
    assert sandbox.writes() == []
    assert {line.number for line in preview.of(plan.BLOCKED)} == {
        n for n in facts.blocked_expected if world.gripp.invoices[_invoice_id(world, n)].identity_id == 2}
    assert {line.number for line in preview.of(plan.BOOK)} == facts.to_book_by_identity[2]
    assert {line.number for line in preview.of(plan.CONFLICT)} == {
        n for n in facts.conflicts_expected if world.gripp.invoices[_invoice_id(world, n)].identity_id == 2}
    assert services.store.scalar("SELECT count(*) FROM runs") == 0  # a preview, not a run


@pytest.mark.parametrize("identity_id", [1, 2])
def test_the_dry_run_predicts_exactly_what_the_next_real_run_does(services, sandbox, world, identity_id):
    """Held side by side on the same world: every invoice's fate and every payment, not just the counts."""
    preview = preview_identity(services, identity_id, actor="support")
    sent = [inv for inv in world.gripp.invoices.values()
            if inv.identity_id == identity_id and inv.status == "SENT"]
    assert len(preview.invoices) == len(sent)  # every sent invoice is accounted for, each once
    assert all(line.customer and line.invoice_date and line.amount is not None for line in preview.invoices)

    the_next_run_does_what_the_dry_run_said(services, identity_id, preview, sent)


def the_next_run_does_what_the_dry_run_said(services, identity_id: int, preview, sent: list) -> None:
    result = run_identity(services, identity_id, trigger="cli")
    done = {e["invoice_number"]: e["kind"] for e in history.events(services.store, run_id=result.run_id, limit=5000)
            if e["kind"] in ("booked", "adopted", "blocked", "conflict")}
    assert {n for n, k in done.items() if k == "booked"} == {line.number for line in preview.of(plan.BOOK)}
    assert {n for n, k in done.items() if k == "adopted"} == {line.number for line in preview.of(plan.ADOPT)}
    assert {n for n, k in done.items() if k == "blocked"} == {line.number for line in preview.of(plan.BLOCKED)}
    assert {n for n, k in done.items() if k == "conflict"} == {line.number for line in preview.of(plan.CONFLICT)}
    assert result.counts["booked"] == len(preview.of(plan.BOOK))
    assert result.counts["adopted"] == len(preview.of(plan.ADOPT))
    assert result.counts["blocked"] == len(preview.of(plan.BLOCKED))
    paid = sorted((r["invoice_id"], r["pay_date"], r["amount"]) for r in outbox.payments_for(services.store,
                                                                                             identity_id))
    numbers = {inv.id: str(inv.number) for inv in sent}
    assert sorted((numbers[i], d, a) for i, d, a in paid) == sorted(
        (p.number, p.pay_date, p.amount) for p in preview.payments)
    assert result.counts["payments_registered"] == len(preview.payments)


@pytest.mark.parametrize("source", ["project", "none"])
def test_lines_without_the_kostenplaats_a_grootboek_demands_block_booking_but_not_adopting_a_fitting_booking(
        services, world, source):
    """A source chosen before the first sync that leaves lines on 8010 without a kostenplaats: the invoices SnelStart
    already has are adopted all the same (adopting books no lines); those still to book are blocked, naming it."""
    facts = manifest(world)
    kostenplaatsen.set_source(services, 1, source, actor="anna")
    preview = preview_identity(services, 1, actor="support")
    sent = [inv for inv in world.gripp.invoices.values() if inv.identity_id == 1 and inv.status == "SENT"]
    on_8010 = {str(inv.number) for inv in sent if any(line.ledger_id == KOSTENPLAATS_LEDGER
                                                      and (source == "none" or line.project_id is None)
                                                      for line in inv.money_lines)}
    adopted = {line.number for line in preview.of(plan.ADOPT)}
    prebooked = on_8010 & facts.prebooked_by_identity[1] & {line.number for line in preview.invoices
                                                            if line.decision not in (plan.BEFORE_START,
                                                                                     plan.ALREADY_BOOKED)}
    conflicts = prebooked & set(facts.conflicts_expected)  # a booking with its number that does not fit
    assert prebooked - conflicts and prebooked - conflicts <= adopted
    assert conflicts <= {line.number for line in preview.of(plan.CONFLICT)}  # a conflict stays a conflict
    assert not [line for line in preview.of(plan.BLOCKED) if line.number in prebooked]
    still_to_book = on_8010 & facts.to_book_by_identity[1]
    assert still_to_book
    assert all("KOSTENPLAATS_REQUIRED" in line.codes for line in preview.of(plan.BLOCKED)
               if line.number in still_to_book)
    assert still_to_book <= {line.number for line in preview.of(plan.BLOCKED)}
    the_next_run_does_what_the_dry_run_said(services, 1, preview, sent)


def _invoice_id(world, number: str) -> int:
    return next(inv.id for inv in world.gripp.invoices.values() if str(inv.number) == number)


def test_invoice_changed_in_gripp_after_booking_is_flagged_not_rebooked(services, sandbox, world):
    facts = manifest(world)
    sync_all(services)
    number = sorted(facts.to_book_by_identity[1])[0]
    invoice = world.gripp.invoices[_invoice_id(world, number)]
    invoice.lines[0].sellingprice += Decimal("10")
    invoice.updatedon = services.now().replace(tzinfo=None)  # edited in Gripp now, on the sandbox's clock
    writes_before = len(sandbox.writes())
    result = run_identity(services, 1, trigger="cli")
    assert result.counts.get("changed_in_gripp") == 1
    assert len(sandbox.writes()) == writes_before
    state = outbox.get(services.store, 1, invoice.id)
    assert state["changed_in_gripp"] is True
    assert len(bookings_by_number(world, 1, facts)[number]) == 1


def test_payment_marker_is_json_in_gripp_extendedproperties(services, world):
    sync_all(services)
    payment = next(p for ps in our_gripp_payments(world).values() for p in ps)
    assert json.loads(payment.extendedproperties)[MARKER_KEY].startswith("snelstart:")


def test_a_refused_invoice_is_not_offered_again_every_run_until_retried(services, sandbox, world):
    """SnelStart refusing one invoice must not make every later run post it again (the growing backlog)."""
    from sync.jobs.requeue import retry_failed

    facts = manifest(world)
    number = sorted(facts.to_book_by_identity[2])[0]
    sandbox.faults.add("snelstart-api", "status", status=400, method="POST", path_contains="verkoopboekingen",
                       body=[{"errorCode": "BOE-0042", "message": "De periode is afgesloten", "details": None}],
                       times=1)
    run_identity(services, 2, trigger="cli")
    services.gripp_freshness.forget()
    refused = [r for r in outbox.all_for(services.store, 2).values() if r["state"] == "failed"]
    assert len(refused) == 1 and "BOE-0042" in refused[0]["reasons_json"]
    posts_before = sum(1 for c in sandbox.calls if c[1] == "POST" and "verkoopboekingen" in c[2])
    run_identity(services, 2, trigger="cli")
    services.gripp_freshness.forget()
    assert sum(1 for c in sandbox.calls if c[1] == "POST" and "verkoopboekingen" in c[2]) == posts_before
    assert retry_failed(services.store, 2, "support") == 1
    run_identity(services, 2, trigger="cli")
    assert outbox.get(services.store, 2, refused[0]["invoice_id"])["state"] == "done"
    assert number  # the seed had invoices to book


# ------------------------------------------------------------------------------------------ real Gripp shapes


def test_group_headings_neither_block_an_invoice_nor_become_booking_lines(services, world):
    """Real invoices have group headings (rowtype 2 "GROEPLABEL": amount 1, price 0.00, a VAT rate, no ledger)."""
    facts = manifest(world)
    number = sorted(facts.to_book_by_identity[2])[0]
    invoice = world.gripp.invoices[_invoice_id(world, number)]
    # A heading whose VAT rate identity 2 never mapped and which has no ledger: checked, it would block.
    invoice.lines.insert(0, GrippInvoiceLine(id=999_001, amount=Decimal(1), sellingprice=Decimal(0),
                                             vat_id=VAT_VRIJGESTELD, ledger_id=None, description="Fase 2: ontwerp",
                                             rowtype="GROUP"))
    sync_all(services)
    assert outbox.get(services.store, 2, invoice.id)["state"] == "done"
    [booking] = bookings_by_number(world, 2, facts)[number]
    assert booking.factuurbedrag == world.gripp.invoice_totals(invoice)["totalinclvat"]
    assert not any("Fase 2" in line.omschrijving for line in booking.boekingsregels)
    assert cents(sum((line.bedrag for line in booking.boekingsregels), Decimal(0))) == cents(
        sum((line.net for line in invoice.money_lines), Decimal(0)))
    seeded = [inv for inv in world.gripp.invoices.values() if inv.id != invoice.id and inv.identity_id in LINKED
              and any(x.rowtype == "GROUP" for x in inv.lines)
              and str(inv.number) in facts.to_book_by_identity[inv.identity_id]]
    assert seeded and all(outbox.get(services.store, inv.identity_id, inv.id)["state"] == "done" for inv in seeded)


ODD_ITEM = {"verkoopBoeking": {"id": "0ddb0000-0000-4000-8000-000000000001",
                               "uri": "/verkoopboekingen/0ddb0000-0000-4000-8000-000000000001"},
            "modifiedOn": "2019-03-01T16:02:00", "openstaandSaldo": None, "factuurnummer": None,
            "vervalDatum": "2019-03-31T00:00:00", "relatie": None, "factuurDatum": "2019-03-01T00:00:00",
            "factuurBedrag": 84.7, "verkoopOrders": [], "id": "0dd00000-0000-4000-8000-000000000001",
            "uri": "/verkoopfacturen/0dd00000-0000-4000-8000-000000000001"}


def test_an_odd_open_item_without_number_or_saldo_is_skipped_with_an_event_and_the_refresh_goes_on(
        services, sandbox, world):
    facts = manifest(world)
    sandbox.faults.add("snelstart-api", "reshape", method="GET", path_contains="verkoopfacturen", times=None,
                       transform=lambda rows: [*rows, ODD_ITEM] if isinstance(rows, list) else rows)
    results = sync_all(services)
    assert all(r.outcome == "warnings" and r.counts["open_items"] > 0 for r in results.values())
    for identity_id in LINKED:
        expected = facts.to_book_by_identity[identity_id] | facts.prebooked_by_identity[identity_id]
        assert set(bookings_by_number(world, identity_id, facts)) >= expected
    skipped = history.events(services.store, kind="open_item_skipped")
    assert {e["identity_id"] for e in skipped} == set(LINKED) and len(skipped) == len(LINKED)
    detail = json.loads(skipped[0]["detail_json"])
    assert detail["missing"] == ["factuurnummer", "openstaandSaldo"] and detail["factuur_bedrag"] == "84.7"
    assert detail["factuur_datum"] == "2019-03-01" and detail["booking_id"] == ODD_ITEM["verkoopBoeking"]["id"]
    sync_all(services)
    assert len(history.events(services.store, kind="open_item_skipped")) == len(LINKED), "told once, not every run"


def test_an_incomplete_open_item_of_a_booking_the_link_made_is_never_skipped(services, sandbox, world):
    facts = manifest(world)
    sync_all(services)
    number = sorted(facts.to_book_by_identity[1])[0]

    def drop_saldo(rows):
        return [{**row, "openstaandSaldo": None} if row.get("factuurnummer") == number else row for row in rows]

    sandbox.faults.add("snelstart-api", "reshape", method="GET", path_contains="verkoopfacturen", times=None,
                       transform=drop_saldo)
    result = run_identity(services, 1, trigger="cli")
    assert result.outcome == "failed" and "could not be read" in result.words("en")
    assert not history.events(services.store, kind="open_item_skipped")


@pytest.mark.parametrize("gripp_did", ["roll back the batch", "keep the whole batch"])
def test_a_payment_batch_with_a_failed_call_is_read_back_before_anything_is_marked_done(services, sandbox, world,
                                                                                      gripp_did):
    """Gripp runs a batch "in one transaction": when one call fails, the others may have been rolled back whatever
    they answered — or kept. Either way only what Gripp shows when read back is done, and the next run registers
    the rest exactly once."""
    facts = manifest(world)
    seen: dict[str, list[str]] = {}

    def one_call_failed(payload):
        created = [e for e in payload if isinstance(e, dict) and isinstance(e.get("result"), dict)]
        assert len(created) >= 2, "the seed has several payments to bring back in one batch"
        markers = [json.loads(world.gripp.payments[e["result"]["recordid"]].extendedproperties)[MARKER_KEY]
                   for e in created]
        if gripp_did == "roll back the batch":  # the answer still says success for all but the failed call
            for element in created:
                world.gripp.payments.pop(element["result"]["recordid"])
        created[1].update(result={"success": False}, error_code=1003, error="Validation failed")
        seen["markers"] = markers
        return payload

    sandbox.faults.add("gripp", "reshape", rpc_method="payment.create", transform=one_call_failed, times=1)
    first = sync_all(services)
    states = {outbox.payment(services.store, m)["state"] for m in seen["markers"]}
    if gripp_did == "roll back the batch":
        assert states == {"sending"}, "nothing of a failed batch is done unless Gripp shows it"
        assert sum(r.counts["payments_pending"] for r in first.values()) >= len(seen["markers"])
    else:
        assert states == {"done"}, "read back: all of it is in Gripp, the failed answer notwithstanding"
    sync_all(services)
    registered = {str(world.gripp.invoices[i].number): sorted((p.date, p.amount) for p in ps)
                  for i, ps in our_gripp_payments(world).items()}
    assert registered == {n: sorted(expected) for n, expected in facts.payments_expected.items()}  # each once


@pytest.mark.parametrize("zone", ["UTC", "Europe/Amsterdam"])
def test_a_bank_booking_made_after_a_run_is_read_whether_snelstart_stamps_utc_or_local_time(
        services, sandbox, world, zone):
    """SnelStart does not document the zone of `modifiedOn`: the bank cursor moves by what SnelStart sent."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    facts = manifest(world)
    sync_all(services)
    admin = world.snelstart.administrations[facts.administration_by_identity[1]]
    booking = next(b for b in admin.bookings.values()
                   if admin.open_balance(b) == b.factuurbedrag and b.factuurbedrag > 0)
    stamped = datetime.fromtimestamp(services.clock() + 60, ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)
    paid_on = world.today - timedelta(days=2)
    admin.bank_bookings["late"] = SnelStartBankBooking("late", paid_on, "late", booking.factuurbedrag,
                                                       [SnelStartBankLine(booking.id, booking.factuurbedrag)],
                                                       modified_on=stamped)
    assert cache.get_state(services.store, admin.id, "bank_cursor") is not None
    result = run_identity(services, 1, trigger="cli")
    assert result.counts["payments_registered"] == 1
    [payment] = [p for p in world.gripp.payments.values()
                 if str(world.gripp.invoices[p.invoice_id].number) == booking.factuurnummer
                 and p.amount == booking.factuurbedrag]
    assert payment.date == paid_on  # dated by the bank booking, so the cursor did read it


def test_a_cache_filled_before_enums_were_read_by_id_is_read_again_in_full(services):
    """Rows cached by the previous version hold Gripp's labels where constants were expected: migration 005 drops
    the Gripp cursor, so the next refresh reads every invoice again."""
    from importlib import resources

    store = services.store
    cache.set_state(store, "gripp", "cursor", "2026-11-27T10:00:00+01:00")
    store.execute(resources.files("sync.store.migrations").joinpath("005_gripp_enums_by_id.sql").read_text())
    assert cache.get_state(store, "gripp", "cursor") is None
