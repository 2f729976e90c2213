"""The sandbox's demo data tells the story the rest of the project relies on (see sync/sandbox/seed.py)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.money import ZERO, has_sub_cents
from sync.sandbox.bulk import build_bulk_world
from sync.sandbox.seed import (
    ADMIN_ACADEMY,
    ADMIN_ADVIES,
    ADMIN_STUDIO,
    CUSTOMER_CONTRADICTION,
    KOSTENPLAATS_LEDGER,
    KOSTENPLAATS_REQUIRED,
    LOW_RATE_CHANGE,
    MAPPING_CSV_COLUMNS,
    MISCONFIGURATIONS,
    OLD_LINK_CUTOFF,
    SANDBOX_TODAY,
    VAT_0,
    VAT_6,
    VAT_9,
    VAT_21,
    VAT_VERLEGD,
    VAT_VRIJGESTELD,
    SeedManifest,
    build_world,
    demo_setup,
    invoice_problems,
    load_or_create,
    manifest,
    mappings_csv,
    reset,
)
from sync.sandbox.world import GrippInvoice, GrippPayment, SnelStartAdministration, World


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def facts(world: World) -> SeedManifest:
    return manifest(world)


def _invoice(world: World, identity_id: int, number: str) -> GrippInvoice:
    return next(i for i in world.gripp.invoices.values() if i.identity_id == identity_id and str(i.number) == number)


def _by_number(world: World) -> dict[str, GrippInvoice]:
    return {str(i.number): i for i in world.gripp.invoices.values()}


def _paid(world: World, admin: SnelStartAdministration, booking_id: str) -> Decimal:
    return sum((line.credit - line.debet for bank in admin.bank_bookings.values() for line in bank.verkoop_regels
                if line.boeking_id == booking_id), ZERO)


def _gripp_paid(world: World, invoice: GrippInvoice) -> Decimal:
    return sum((p.amount for p in world.gripp.invoice_payments(invoice.id)), ZERO)


# --------------------------------------------------------------------------------------------- basics


def test_accounts_identities_and_today(world: World) -> None:
    assert world.today == SANDBOX_TODAY
    assert world.gripp.api_tokens == [SANDBOX_GRIPP_TOKEN]
    assert world.snelstart.subscription_keys == [SANDBOX_SUBSCRIPTION_KEY]
    assert world.gripp.identities == {1: "Studio Noord B.V.", 2: "Noord Advies B.V.", 3: "Noord Academy"}
    assert {world.snelstart.administrations[a].naam for a in (ADMIN_STUDIO, ADMIN_ADVIES, ADMIN_ACADEMY)} == {
        "Studio Noord B.V.", "Noord Advies", "Noord Academy"}
    assert next(iter(world.gripp_accounts)) == "studio-noord"  # the other accounts: tests/test_sandbox_accounts.py
    assert {r.id: (r.label, r.percentage, r.reverse_charge) for r in world.gripp.vat_rates.values()} == {
        1: ("21%", 21, False), 2: ("9%", 9, False), 3: ("6% (t/m 2018)", 6, False), 4: ("0%", 0, False),
        5: ("Verlegd", 0, True), 6: ("Vrijgesteld", 0, False)}
    assert sorted(int(led.number) for led in world.gripp.ledgers.values()) == [8000, 8010, 8020, 8030, 8100,
                                                                               8200, 8300]


def test_volume_and_span(world: World, facts: SeedManifest) -> None:
    sent = [i for i in world.gripp.invoices.values() if i.status == "SENT"]
    assert len(sent) >= 300
    assert max(i.date for i in sent) - min(i.date for i in sent) >= timedelta(days=3 * 365)
    assert min(i.date for i in sent if i.identity_id == 1) < date(2018, 8, 1)
    assert min(i.date for i in sent if i.identity_id == 2) < date(2023, 2, 1)
    assert min(i.date for i in sent if i.identity_id == 3) < date(2024, 2, 1)
    assert all(i.date <= SANDBOX_TODAY for i in world.gripp.invoices.values())
    assert sum(len(v) for v in facts.sent_invoices_by_identity.values()) == len(sent)


def test_invoices_look_like_gripp(world: World) -> None:
    invoices = list(world.gripp.invoices.values())
    numbers = [i.number for i in invoices]
    assert len(numbers) == len(set(numbers)), "numbers are unique across the account"
    for inv in invoices:
        company = world.gripp.companies[inv.company_id]
        assert company.identity_id == inv.identity_id
        assert inv.expirydate == inv.date + timedelta(days=company.termofpayment)
        assert company.termofpayment in (14, 30)
        assert str(inv.number).startswith(f"{inv.date.year % 100:02d}")
        assert inv.createdon.date() == inv.date and inv.createdon.hour >= 9
        assert inv.updatedon is None or inv.updatedon > inv.createdon
        assert 1 <= len(inv.money_lines) <= 5
        assert all(line.vat_id is not None and line.ledger_id is not None for line in inv.money_lines)
    assert 0 < sum(i.updatedon is not None for i in invoices) < len(invoices) / 4
    headings = [line for i in invoices for line in i.lines if line.rowtype == "GROUP"]
    assert len(invoices) / 4 < len(headings) < len(invoices) / 2, "real invoices have group headings too"
    for line in headings:  # as Gripp stores a heading: amount 1, price 0.00, a VAT rate, no ledger
        assert (line.amount, line.sellingprice, line.ledger_id, line.ordering) == (1, 0, None, 0)
        assert line.vat_id is not None
    lines = [line for i in invoices for line in i.money_lines]
    assert any(line.discount == 5 for line in lines) and any(line.discount == 10 for line in lines)
    assert any(line.amount == Decimal("7.5") for line in lines)
    assert any(line.description.startswith("Hosting ") for line in lines)
    sub_cent = [line for line in lines if has_sub_cents(line.sellingprice)]
    assert sub_cent and all(not has_sub_cents(line.net) for line in sub_cent)
    assert any(line.amount * line.sellingprice != line.net for line in sub_cent)


def test_companies(world: World) -> None:
    companies = list(world.gripp.companies.values())
    per_identity = Counter(c.identity_id for c in companies)
    assert 35 <= per_identity[1] <= 45 and 20 <= per_identity[2] <= 30 and 12 <= per_identity[3] <= 18
    numbers = [c.customernumber for c in companies]
    assert len(set(numbers)) == len(numbers) and min(numbers) == 10001
    assert any(c.relationtype == "PRIVATEPERSON" for c in companies)
    for c in companies:
        if c.visitingaddress_country == "NL":
            assert re.fullmatch(r"\d{4} [A-Z]{2}", c.visitingaddress_zipcode)
            if c.relationtype == "COMPANY":
                assert re.fullmatch(r"NL\d{9}B\d{2}", c.vatnumber)
                assert re.fullmatch(r"\d{8}", c.cocnumber)
            else:
                assert c.vatnumber == ""
    foreign = [c for c in companies if c.vatshifted]
    assert len(foreign) >= 3
    assert {c.visitingaddress_country for c in foreign} >= {"BE", "DE"}
    for c in foreign:
        assert c.vatnumber.startswith(c.visitingaddress_country)
        lines = [line for i in world.gripp.invoices.values() if i.company_id == c.id for line in i.money_lines]
        assert lines and all(line.vat_id == VAT_VERLEGD and line.ledger_id == 8030 for line in lines)


# -------------------------------------------------------------------------------------------------- VAT


def test_all_rates_are_used(world: World) -> None:
    used = {line.vat_id for i in world.gripp.invoices.values() if i.status == "SENT" for line in i.money_lines}
    assert {VAT_21, VAT_9, VAT_6, VAT_0, VAT_VERLEGD, VAT_VRIJGESTELD} <= used


def test_identity_1_crosses_the_low_rate_change(world: World) -> None:
    studio = [i for i in world.gripp.invoices.values() if i.identity_id == 1]
    before = [line.vat_id for i in studio if i.date < LOW_RATE_CHANGE for line in i.money_lines]
    after = [line.vat_id for i in studio if i.date >= LOW_RATE_CHANGE for line in i.money_lines]
    assert VAT_6 in before and VAT_9 in after
    assert VAT_9 not in before and VAT_6 not in after
    # Nobody else uses the old rate.
    assert all(line.vat_id != VAT_6 for i in world.gripp.invoices.values() if i.identity_id != 1
               for line in i.money_lines)


# ------------------------------------------------------------------------------------------ credit notes


def test_credit_notes(world: World, facts: SeedManifest) -> None:
    assert 6 <= len(facts.credit_notes) <= 10
    numbers = _by_number(world)
    for number in facts.credit_notes:
        note = numbers[number]
        assert note.status == "SENT"
        assert all(line.net < 0 for line in note.money_lines)
        match = re.fullmatch(r"Creditnota op factuur (\d+)", note.subject)
        assert match, note.subject
        original = numbers[match.group(1)]
        assert original.company_id == note.company_id and original.date < note.date
    assert facts.credit_notes & set().union(*facts.prebooked_by_identity.values())
    assert facts.credit_notes & set().union(*facts.to_book_by_identity.values())
    # A few booked credit notes are settled by a negative bank line.
    debets = [line for a in world.snelstart.administrations.values() for b in a.bank_bookings.values()
              for line in b.verkoop_regels if line.debet > 0]
    assert len(debets) >= 3


# --------------------------------------------------------------------------------- the old link's bookings


def test_prebooked_bookings_are_what_a_correct_link_makes(world: World, facts: SeedManifest) -> None:
    setup = demo_setup()
    for link in setup.links:
        admin = world.snelstart.administrations[link.administration_id]
        ledgers = admin.ledgers
        assert admin.bookings
        for booking in admin.bookings.values():
            assert sum((r.bedrag for r in booking.boekingsregels), ZERO) + sum(
                (b for _, b in booking.btw), ZERO) == booking.factuurbedrag, booking.factuurnummer
            for row in booking.boekingsregels:
                ledger = ledgers[row.grootboek_id]
                assert not ledger.nonactief and row.btw_soort in ledger.btw_soorten
                assert ledger.grootboekfunctie.startswith("Verkopen") and row.bedrag != 0
            kinds = {k for k, _ in booking.btw}
            assert kinds <= {"VerkopenHoog", "VerkopenLaag", "VerkopenVerlegd"}
            if "VerkopenVerlegd" in kinds:  # reverse charge is never mixed (BOE-0062)
                assert kinds == {"VerkopenVerlegd"} and {r.btw_soort for r in booking.boekingsregels} == {"Geen"}
            klant = admin.relaties[booking.klant_id]
            assert "Klant" in klant.relatiesoort
            if booking.factuurnummer in facts.only_in_snelstart:
                continue
            invoice = _invoice(world, link.identity_id, booking.factuurnummer)
            assert invoice.status == "SENT" and link.start_date <= invoice.date <= OLD_LINK_CUTOFF
            assert booking.factuurdatum == invoice.date
            assert booking.betalingstermijn == (invoice.expirydate - invoice.date).days
            assert klant.relatiecode == world.gripp.companies[invoice.company_id].customernumber
            total = world.gripp.invoice_totals(invoice)["totalinclvat"]
            if booking.factuurnummer in facts.amount_differs:
                assert abs(booking.factuurbedrag - total) == Decimal("10.00")
            else:
                assert booking.factuurbedrag == total
            if total < 0:
                assert all(r.bedrag < 0 for r in booking.boekingsregels)
    # Everything the old link could book is booked; nothing after the cutoff is.
    for identity_id in (1, 2):
        expected = {str(i.number) for i in world.gripp.invoices.values()
                    if i.identity_id == identity_id and i.status == "SENT" and i.date <= OLD_LINK_CUTOFF}
        assert facts.prebooked_by_identity[identity_id] == expected
    assert not world.snelstart.administrations[ADMIN_ACADEMY].bookings


def test_bank_bookings_reference_existing_bookings(world: World) -> None:
    for admin in world.snelstart.administrations.values():
        for bank in admin.bank_bookings.values():
            assert bank.verkoop_regels and bank.datum <= SANDBOX_TODAY
            net = sum((r.credit - r.debet for r in bank.verkoop_regels), ZERO)
            assert bank.bedrag_ontvangen - bank.bedrag_uitgegeven == net
            for line in bank.verkoop_regels:
                booking = admin.bookings[line.boeking_id]
                assert bank.datum > booking.factuurdatum
                assert str(booking.factuurnummer) in bank.omschrijving


# ------------------------------------------------------------------------------------ misconfigurations


def test_each_misconfiguration_is_confined_to_its_few_invoices(world: World, facts: SeedManifest) -> None:
    setup = demo_setup()
    reasons = Counter(facts.blocked_expected.values())
    assert set(reasons) == set(MISCONFIGURATIONS) | {CUSTOMER_CONTRADICTION}
    assert all(3 <= n <= 6 for r, n in reasons.items() if r not in (CUSTOMER_CONTRADICTION, KOSTENPLAATS_REQUIRED)), \
        reasons
    assert reasons[KOSTENPLAATS_REQUIRED] == 1  # one line without the kostenplaats its grootboek demands
    numbers = _by_number(world)
    for number, reason in facts.blocked_expected.items():
        invoice = numbers[number]
        assert invoice.date > OLD_LINK_CUTOFF and invoice.status == "SENT"
        assert invoice_problems(world, setup, invoice) == ([] if reason == CUSTOMER_CONTRADICTION else [reason]), \
            number
    # No other invoice of a linked identity has any problem (booked, to book or concept).
    for invoice in world.gripp.invoices.values():
        if invoice.identity_id in (1, 2) and str(invoice.number) not in facts.blocked_expected:
            assert invoice_problems(world, setup, invoice) == [], invoice.number
    # And each problem is where the story puts it.
    uses = {
        "VAT_UNMAPPED": lambda i: i.identity_id == 2 and any(x.vat_id == VAT_VRIJGESTELD for x in i.money_lines),
        "LEDGER_MISSING": lambda i: i.identity_id == 1 and any(x.ledger_id == 8200 for x in i.money_lines),
        "LEDGER_VAT_MISMATCH": lambda i: i.identity_id == 2 and any(x.ledger_id == 8100 for x in i.money_lines),
        "LEDGER_INACTIVE": lambda i: i.identity_id == 2 and any(x.ledger_id == 8300 for x in i.money_lines),
        "KOSTENPLAATS_REQUIRED": lambda i: i.identity_id == 1 and any(
            x.ledger_id == KOSTENPLAATS_LEDGER and x.costheading_id is None for x in i.money_lines),
    }
    for reason, used in uses.items():
        assert {str(i.number) for i in world.gripp.invoices.values() if used(i)} == {
            n for n, r in facts.blocked_expected.items() if r == reason}
    studio = {led.nummer for led in world.snelstart.administrations[ADMIN_STUDIO].ledgers.values()}
    assert 8200 not in studio
    assert [led.nummer for led in world.snelstart.administrations[ADMIN_STUDIO].ledgers.values()
            if led.kostenplaats_verplicht] == [KOSTENPLAATS_LEDGER]
    advies = {led.nummer: led for led in world.snelstart.administrations[ADMIN_ADVIES].ledgers.values()}
    assert advies[8100].btw_soorten == ["Geen"] and advies[8300].nonactief
    assert not any(m.type == "vat" and m.gripp_id == VAT_VRIJGESTELD for m in setup.mappings_for(2))
    assert any(m.type == "ledger" and m.snelstart == "8200" for m in setup.mappings_for(1))


def test_to_book(world: World, facts: SeedManifest) -> None:
    for identity_id in (1, 2):
        todo = facts.to_book_by_identity[identity_id]
        assert len(todo) >= 10
        assert not todo & facts.prebooked_by_identity[identity_id]
        assert not todo & set(facts.blocked_expected)
        assert all(_invoice(world, identity_id, n).date > OLD_LINK_CUTOFF for n in todo)
    assert facts.to_book_by_identity[3] == facts.sent_invoices_by_identity[3]
    assert facts.concept_invoices and not facts.concept_invoices & set().union(*facts.to_book_by_identity.values())


# --------------------------------------------------------------------------------------------- payments


def test_payment_scenario(world: World, facts: SeedManifest) -> None:
    numbers = _by_number(world)
    setup = demo_setup()
    admins = {link.identity_id: world.snelstart.administrations[link.administration_id] for link in setup.links}

    def booking_of(number: str):
        invoice = numbers[number]
        admin = admins[invoice.identity_id]
        return admin, next(b for b in admin.bookings.values() if b.factuurnummer == number), invoice

    # What must come back is exactly the SnelStart-minus-Gripp difference, never more, dated by the bank.
    assert 15 <= len(facts.payments_expected) <= 30
    for number, entries in facts.payments_expected.items():
        admin, booking, invoice = booking_of(number)
        assert entries and all(amount > 0 and when <= SANDBOX_TODAY for when, amount in entries)
        assert sum(a for _, a in entries) == _paid(world, admin, booking.id) - _gripp_paid(world, invoice)
    # Paid in SnelStart, nothing yet in Gripp (full amounts).
    full = [n for n, e in facts.payments_expected.items() if n not in facts.partially_paid]
    assert len(full) >= 12
    # Partial payments, one of them in two instalments, some partly known in Gripp already.
    assert 5 <= len(facts.partially_paid) <= 8
    assert facts.paid_in_instalments & facts.partially_paid
    assert any(len(facts.payments_expected.get(n, [])) == 2 for n in facts.paid_in_instalments)
    partly_in_gripp = [n for n in facts.partially_paid if _gripp_paid(world, numbers[n]) > 0]
    assert len(partly_in_gripp) >= 2
    assert any(n in facts.payments_expected for n in partly_in_gripp)
    # Dunning candidates, Gripp-only payments, edited amounts and SnelStart-only bookings.
    assert 8 <= len(facts.unpaid_overdue) <= 12
    assert len(facts.paid_in_gripp_only) == 2
    for number in facts.paid_in_gripp_only:
        admin, booking, invoice = booking_of(number)
        assert _paid(world, admin, booking.id) == 0 and _gripp_paid(world, invoice) > 0
    assert 1 <= len(facts.amount_differs) <= 2
    assert facts.only_in_snelstart == {"M-2025-001", "M-2025-002"}
    # Most booked invoices are paid on both sides, with the same date and amount.
    in_sync = 0
    for identity_id, admin in admins.items():
        for booking in admin.bookings.values():
            invoice = numbers.get(booking.factuurnummer)
            if invoice is None or invoice.identity_id != identity_id:
                continue
            paid = _paid(world, admin, booking.id)
            if paid == booking.factuurbedrag == _gripp_paid(world, invoice) and paid != 0:
                in_sync += 1
    assert in_sync > 0.8 * sum(len(v) for v in facts.prebooked_by_identity.values())
    # Nothing the new link has to book carries a payment yet.
    for identity_id in (1, 2, 3):
        for number in facts.to_book_by_identity[identity_id]:
            assert _gripp_paid(world, numbers[number]) == 0


# -------------------------------------------------------------------------------------- relaties, links


def test_relaties(world: World, facts: SeedManifest) -> None:
    setup = demo_setup()
    assert set(facts.relatie_conflicts) == {1, 2}
    for link in setup.links:
        admin = world.snelstart.administrations[link.administration_id]
        codes = [r.relatiecode for r in admin.relaties.values()]
        assert len(codes) == len(set(codes))
        kinds = Counter(k for r in admin.relaties.values() for k in r.relatiesoort)
        assert kinds["Eigen"] == 1 and kinds["Leverancier"] >= 2
        by_code = {r.relatiecode: r for r in admin.relaties.values()}
        customers = [c for c in world.gripp.companies.values() if c.identity_id == link.identity_id]
        missing = [c for c in customers if c.customernumber not in by_code]
        assert 0.1 <= len(missing) / len(customers) <= 0.3
        assert facts.missing_relaties[link.identity_id] == {c.customernumber for c in missing}
        conflict = facts.relatie_conflicts[link.identity_id]
        company = next(c for c in customers if c.customernumber == conflict)
        assert by_code[conflict].naam != company.companyname
        # The conflicting customer has invoices the new link must handle: blocked, never on that relatie.
        blocked = [n for n, why in facts.blocked_expected.items() if why == CUSTOMER_CONTRADICTION]
        assert any(_invoice(world, link.identity_id, n).company_id == company.id
                   for n in blocked if n in facts.sent_invoices_by_identity[link.identity_id])
        for c in customers:
            if c.customernumber in by_code and c.customernumber != conflict:
                assert by_code[c.customernumber].naam == c.companyname
    academy = world.snelstart.administrations[ADMIN_ACADEMY]
    codes = {r.relatiecode: r.naam for r in academy.relaties.values()}
    for c in world.gripp.companies.values():
        if c.identity_id == 3:
            assert codes[c.customernumber] == c.companyname


def test_links_keys_and_mappings(world: World, facts: SeedManifest) -> None:
    setup = demo_setup()
    assert setup == demo_setup()
    assert [(link.identity_id, link.administration_name, link.start_date, link.interval_minutes)
            for link in setup.links] == [(1, "Studio Noord B.V.", date(2018, 7, 1), 20),
                                          (2, "Noord Advies", date(2023, 1, 1), 20)]
    for link in setup.links:
        assert re.fullmatch(r"[0-9a-f]{64}", link.koppelsleutel)
        key = world.snelstart.keys[link.koppelsleutel]
        assert key.administration_id == link.administration_id and not key.revoked
        assert "boekhouden:write" in key.scopes and "orders:read" in key.scopes
        assert world.snelstart.administrations[link.administration_id].naam == link.administration_name
    assert not any(k.administration_id == ADMIN_ACADEMY for k in world.snelstart.keys.values())
    assert facts.linked_identity_ids == [1, 2] and facts.unlinked_identity_ids == [3]
    assert not setup.mappings_for(3)
    vat1 = {m.gripp_id: (m.snelstart, m.percentage) for m in setup.mappings_for(1, "vat")}
    assert vat1 == {1: ("Hoog", 21), 2: ("Laag", 9), 3: ("Laag", 6), 4: ("Geen", 0), 5: ("Verlegd", 0)}
    assert {m.gripp_id: m.snelstart for m in setup.mappings_for(2, "ledger")} == {
        8000: "8000", 8010: "8010", 8020: "8020", 8030: "8030", 8100: "8100", 8300: "8300"}
    assert all(m.percentage is None for m in setup.mappings if m.type == "ledger")
    csv_text = mappings_csv(setup.mappings)
    assert csv_text.splitlines()[0] == ",".join(MAPPING_CSV_COLUMNS)
    assert "1,vat,3,6% (t/m 2018),Laag,6" in csv_text.splitlines()
    # Identity 3's suggested mapping, once applied, makes every one of its invoices bookable.
    academy_setup = type(setup)(
        links=[*setup.links, type(setup.links[0])(3, "Noord Academy", ADMIN_ACADEMY, "Noord Academy", "k",
                                                  facts.start_dates[3])],
        mappings=setup.mappings + facts.suggested_mappings[3],
    )
    for invoice in world.gripp.invoices.values():
        if invoice.identity_id == 3:
            assert invoice_problems(world, academy_setup, invoice) == []


# ------------------------------------------------------------------------------ determinism, persistence


def test_deterministic(world: World) -> None:
    again = build_world()
    assert again == world
    assert build_world(seed=1) != world
    assert build_world(seed=1) == build_world(seed=1)


def test_save_load_round_trip(world: World, tmp_path) -> None:
    path = tmp_path / "sandbox-state.json"
    world.save(path)
    assert World.load(path) == world
    assert load_or_create(path) == world

    fresh_path = tmp_path / "fresh" / "state.json"
    created = load_or_create(fresh_path)
    assert fresh_path.exists() and created == world
    # Changes survive a reload; reset throws them away.
    created.gripp.invoices.clear()
    created.save(fresh_path)
    assert not load_or_create(fresh_path).gripp.invoices
    assert reset(fresh_path) == world
    assert World.load(fresh_path) == world


def test_manifest_tracks_outstanding_work(world: World, tmp_path) -> None:
    """Registering the expected payments in Gripp empties `payments_expected` (what a sync should achieve)."""
    path = tmp_path / "w.json"
    world.save(path)
    copy = World.load(path)
    before = manifest(copy)
    numbers = _by_number(copy)
    for number, entries in before.payments_expected.items():
        for when, amount in entries:
            pid = copy.gripp.new_id()
            copy.gripp.payments[pid] = GrippPayment(pid, numbers[number].id, when, amount)
    after = manifest(copy)
    assert after.payments_expected == {}
    assert after.partially_paid == before.partially_paid and after.to_book_by_identity == before.to_book_by_identity


# ------------------------------------------------------------------------------------------------- bulk


def test_bulk_world_is_plain_and_valid() -> None:
    world, setup = build_bulk_world(20_000, payments=400)
    assert len(world.gripp.invoices) == 20_000
    assert len(world.gripp.companies) == 2_000
    facts = manifest(world, setup)
    assert facts.to_book_by_identity[1] == facts.sent_invoices_by_identity[1]
    assert len(facts.to_book_by_identity[1]) == 20_000
    assert not facts.blocked_expected and not facts.prebooked_by_identity[1] and not facts.missing_relaties[1]
    assert not facts.relatie_conflicts
    assert len(setup.bulk_payments) == 400
    numbers = {str(i.number): i for i in world.gripp.invoices.values()}
    for number, when, amount in setup.bulk_payments:
        invoice = numbers[number]
        assert invoice.date < when <= world.today
        assert 0 < amount <= world.gripp.invoice_totals(invoice)["totalinclvat"]
    link = setup.links[0]
    assert world.snelstart.keys[link.koppelsleutel].administration_id == link.administration_id


def test_bulk_world_several_identities_and_determinism() -> None:
    world, setup = build_bulk_world(3_000, identities=3, payments=30, seed=3)
    assert sorted(world.gripp.identities) == [1, 2, 3] and len(setup.links) == 3
    assert Counter(i.identity_id for i in world.gripp.invoices.values()) == {1: 1000, 2: 1000, 3: 1000}
    assert len({i.number for i in world.gripp.invoices.values()}) == 3_000
    facts = manifest(world, setup)
    assert all(len(facts.to_book_by_identity[i]) == 1000 for i in (1, 2, 3)) and not facts.blocked_expected
    again, setup_again = build_bulk_world(3_000, identities=3, payments=30, seed=3)
    assert again == world and setup_again == setup
