"""The small demo (sync/sandbox/seed_small.py) that most tests run on keeps every story of the full demo, unchanged,
on far fewer invoices: a test that passes on it is not passing because a case went missing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sync.sandbox.seed import (
    CUSTOMER_CONTRADICTION,
    LOW_RATE_CHANGE,
    MISCONFIGURATIONS,
    VAT_0,
    VAT_6,
    VAT_9,
    VAT_21,
    VAT_VERLEGD,
    VAT_VRIJGESTELD,
    SeedManifest,
    build_world,
    manifest,
)
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import GrippInvoice, World

LINKED = (1, 2)


@pytest.fixture(scope="module")
def full() -> World:
    return build_world()


@pytest.fixture(scope="module")
def small() -> World:
    return small_world()


@pytest.fixture(scope="module")
def facts(small: World) -> SeedManifest:
    return manifest(small)


def _numbers(world: World, identity_id: int, test) -> set[str]:
    return {str(inv.number) for inv in world.gripp.invoices.values() if inv.identity_id == identity_id and test(inv)}


def test_it_is_small_and_deterministic(small: World, full: World) -> None:
    assert len(small.gripp.invoices) * 3 < len(full.gripp.invoices)
    assert small_world() == small


def test_what_is_left_is_the_full_demos_own_and_consistent(small: World, full: World) -> None:
    for invoice_id, invoice in small.gripp.invoices.items():
        assert full.gripp.invoices[invoice_id] == invoice
    for payment_id, payment in small.gripp.payments.items():
        assert full.gripp.payments[payment_id] == payment and payment.invoice_id in small.gripp.invoices
    assert small.gripp.companies == full.gripp.companies
    assert small.gripp_accounts.keys() == full.gripp_accounts.keys()
    for key, account in small.gripp_accounts.items():
        if account is not small.gripp:
            assert account == full.gripp_accounts[key]  # the other accounts stay whole
    for admin_id, admin in small.snelstart.administrations.items():
        whole = full.snelstart.administrations[admin_id]
        assert admin.relaties == whole.relaties and admin.ledgers == whole.ledgers
        assert all(whole.bookings[b] == booking for b, booking in admin.bookings.items())
        assert all(whole.bank_bookings[b] == bank for b, bank in admin.bank_bookings.items())
        for bank in admin.bank_bookings.values():
            assert all(line.boeking_id in admin.bookings for line in bank.verkoop_regels)
        assert all(doc.parent_id in admin.bookings for doc in admin.documents.values())


def test_every_reason_the_full_demo_names_is_still_there(facts: SeedManifest, full: World) -> None:
    whole = manifest(full)
    assert set(facts.blocked_expected.values()) == set(whole.blocked_expected.values())
    assert set(facts.blocked_expected.values()) == {*MISCONFIGURATIONS, CUSTOMER_CONTRADICTION}
    assert facts.relatie_conflicts == whole.relatie_conflicts
    assert facts.conflicts_expected == whole.conflicts_expected
    assert facts.only_in_snelstart == whole.only_in_snelstart
    assert facts.credit_notes == whole.credit_notes and facts.concept_invoices == whole.concept_invoices
    assert facts.payments_expected == whole.payments_expected
    assert facts.paid_in_gripp_only == whole.paid_in_gripp_only
    assert facts.partially_paid == whole.partially_paid and facts.paid_in_instalments == whole.paid_in_instalments
    assert facts.unpaid_overdue == whole.unpaid_overdue
    for identity_id in LINKED:
        assert facts.to_book_by_identity[identity_id] and facts.prebooked_by_identity[identity_id]
        assert facts.missing_relaties[identity_id]  # the link creates relaties
    assert facts.suggested_mappings == whole.suggested_mappings


TRAITS = {
    "6 % before 2019": lambda inv: inv.date < LOW_RATE_CHANGE and _rate(inv, VAT_6),
    "9 % from 2019": lambda inv: inv.date >= LOW_RATE_CHANGE and _rate(inv, VAT_9),
    "21 %": lambda inv: _rate(inv, VAT_21),
    "exempt": lambda inv: _rate(inv, VAT_VRIJGESTELD),
    "reverse charge": lambda inv: _rate(inv, VAT_VERLEGD),
    "0 %": lambda inv: _rate(inv, VAT_0),
    "group heading": lambda inv: any(line.rowtype == "GROUP" for line in inv.lines),
    "discount": lambda inv: any(line.discount for line in inv.money_lines),
    "edited in Gripp": lambda inv: inv.updatedon is not None,
    "automatic transfer": lambda inv: inv.paymentmethod != "MANUALTRANSFER",
}


def _rate(inv: GrippInvoice, vat_id: int) -> bool:
    return any(line.vat_id == vat_id for line in inv.money_lines)


@pytest.mark.parametrize("trait", list(TRAITS))
def test_a_trait_the_full_demo_has_on_a_side_the_small_one_has_there_too(trait: str, small: World, full: World,
                                                                          facts: SeedManifest) -> None:
    """Per identity and side (booked by the old link, to book, not linked)."""
    whole = manifest(full)
    test = TRAITS[trait]
    for identity_id in (1, 2, 3):
        for side, small_side, full_side in (
                ("booked", facts.prebooked_by_identity.get(identity_id, set()),
                 whole.prebooked_by_identity.get(identity_id, set())),
                ("to book", facts.to_book_by_identity[identity_id], whole.to_book_by_identity[identity_id])):
            if _numbers(full, identity_id, test) & full_side:
                assert _numbers(small, identity_id, test) & small_side, (identity_id, side)


def test_the_unlinked_identity_has_invoices_early_and_late(small: World) -> None:
    """A link from any start date (the console's tests link it from this year) finds invoices to book."""
    assert _numbers(small, 3, lambda inv: inv.date >= small.today - timedelta(days=300))
    assert _numbers(small, 3, lambda inv: inv.date < date(2025, 1, 1))
