"""Mapping suggestions (VAT by percentage and date, ledgers by number) and saving mappings with the checks."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from sync.core.events import render
from sync.core.words import said, say
from sync.jobs.checks import run_checks
from sync.jobs.linking import link_with_key
from sync.jobs.suggestions import (
    MappingError,
    is_reverse_charge,
    ledger_number,
    percentage_from_label,
    save_ledger_mapping,
    save_vat_mapping,
    suggest_mappings,
)
from sync.sandbox.seed import (
    ADMIN_ACADEMY,
    VAT_0,
    VAT_VERLEGD,
    manifest,
)
from sync.sandbox.world import GrippInvoice, GrippInvoiceLine
from sync.store import history
from sync.store import setup as setup_repo

ACADEMY = 3


def _add_invoice(world, number: int, on: date, lines: list[tuple[str, str, int, int]]) -> None:
    """A sent identity-3 invoice with (quantity, price, Gripp VAT id, Gripp ledger id) lines."""
    account = world.gripp
    company = next(c for c in account.companies.values() if c.identity_id == ACADEMY)
    invoice_id = max(account.invoices) + 1
    first_line = max(line.id for inv in account.invoices.values() for line in inv.lines) + 1
    account.invoices[invoice_id] = GrippInvoice(
        id=invoice_id, number=number, identity_id=ACADEMY, company_id=company.id, date=on,
        expirydate=on + timedelta(days=30), status="SENT", subject="Extra", createdon=datetime(2026, 11, 20, 9),
        lines=[GrippInvoiceLine(id=first_line + n, amount=Decimal(qty), sellingprice=Decimal(price), vat_id=vat,
                                ledger_id=ledger, description=f"Regel {n}")
               for n, (qty, price, vat, ledger) in enumerate(lines)],
    )


@pytest.fixture
def academy(services, sandbox, world):
    """Identity 3 linked to Noord Academy, with a reverse-charge and a 0 % invoice besides the seed's."""
    _add_invoice(world, 269001, date(2026, 11, 20), [("2", "950.00", VAT_VERLEGD, 8030)])
    _add_invoice(world, 269002, date(2026, 11, 21), [("1", "1200.00", VAT_0, 8020)])
    link_with_key(services, ACADEMY, sandbox.snelstart.issue_key(ADMIN_ACADEMY), start_date=date(2024, 1, 1),
                  actor="anna")
    return services


def test_suggestions_for_the_new_identity_cover_every_kind_and_ledger(academy, world):
    found = {(s.type, s.gripp_id): s for s in suggest_mappings(academy, ACADEMY)}
    assert {k: s.snelstart for k, s in found.items()} == {
        ("vat", 1): "Hoog", ("vat", 2): "Laag", ("vat", VAT_0): "Geen", ("vat", VAT_VERLEGD): "Verlegd",
        ("vat", 6): "Geen",
        ("ledger", 8000): "8000", ("ledger", 8010): "8010", ("ledger", 8020): "8020", ("ledger", 8030): "8030",
        ("ledger", 8100): "8100",
    }
    # The seed's own idea of the right mapping for identity 3 agrees.
    for row in manifest(world).suggested_mappings[ACADEMY]:
        suggestion = found[(row.type, row.gripp_id)]
        assert (suggestion.snelstart, suggestion.gripp_label) == (row.snelstart, row.gripp_label)
        if row.type == "vat":
            assert suggestion.percentage == row.percentage
    assert all(s.existing is None and s.changes for s in found.values())
    vrijgesteld = found[("vat", 6)]
    assert "invoice totals" in said(vrijgesteld.reason, "en") and "factuurtotalen" in said(vrijgesteld.reason, "nl")
    assert "reverse charge" in said(found[("vat", VAT_VERLEGD)].reason, "en")
    assert "Same number" in said(found[("ledger", 8100)].reason, "en")


def test_nothing_is_suggested_against_an_administration_snelstart_will_not_show(services, sandbox):
    # A trial saw "no active revenue account allows Hoog; create one" for a link whose key SnelStart refused: an
    # administration that could not be read was judged as an empty one.
    from sync.jobs.customer_mapping import suggest_customer_mappings
    from sync.store.setup import LinkHealth

    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    link_with_key(services, ACADEMY, key, start_date=date(2024, 1, 1), actor="anna")
    services.store.execute("DELETE FROM sync_state")  # nothing read from SnelStart yet
    sandbox.snelstart.revoke_key(key)
    services.forget_clients()
    setup_repo.set_link_health(services.store, ACADEMY, LinkHealth.BROKEN)
    for suggest in (suggest_mappings, suggest_customer_mappings):
        with pytest.raises(MappingError) as refused:
            suggest(services, ACADEMY)
        assert refused.value.code == "unreadable"
        assert say(refused.value.message, "nl").startswith("De koppelingen zijn nu niet te beoordelen: SnelStart "
                                                           "weigert de koppelsleutel")


def test_a_ledger_whose_number_does_not_fit_gets_an_account_that_does(services):
    one = {(s.type, s.gripp_id): s for s in suggest_mappings(services, 1)}
    missing = one[("ledger", 8200)]
    assert (missing.snelstart, missing.existing) == ("8000", "8200")
    assert "account 8200 does not exist" in said(missing.reason, "en")
    two = {(s.type, s.gripp_id): s for s in suggest_mappings(services, 2)}
    assert two[("ledger", 8100)].snelstart == "8000"
    assert "does not allow VAT kind Hoog" in said(two[("ledger", 8100)].reason, "en")
    assert two[("ledger", 8300)].snelstart == "8000" and "inactive" in said(two[("ledger", 8300)].reason, "en")
    assert two[("vat", 6)].snelstart == "Geen" and two[("vat", 6)].existing is None
    # What is right already is proposed as it is.
    assert not two[("vat", 1)].changes and not two[("ledger", 8000)].changes


def test_the_old_low_rate_is_laag_on_its_own_dates():
    assert percentage_from_label("6% (t/m 2018)") == Decimal("6")
    assert percentage_from_label("BTW 5,5 %") == Decimal("5.5")
    assert percentage_from_label("Vrijgesteld") is None
    assert is_reverse_charge("Verlegd") and is_reverse_charge("BTW verlegd") and not is_reverse_charge("21%")
    assert ledger_number("8000 Omzet hoog") == "8000" and ledger_number("Omzet") is None


def test_old_low_rate_suggestion_for_identity_1(services):
    found = {(s.type, s.gripp_id): s for s in suggest_mappings(services, 1)}
    assert found[("vat", 3)].snelstart == "Laag" and found[("vat", 3)].percentage == Decimal("6")
    assert found[("vat", 2)].snelstart == "Laag" and found[("vat", 2)].percentage == Decimal("9")


def test_suggestions_need_a_link(services):
    with pytest.raises(MappingError) as caught:
        suggest_mappings(services, ACADEMY)
    assert "Koppel" in say(caught.value.message, "nl")


# -------------------------------------------------------------------------------------------------- saving


def test_saving_a_ledger_mapping_to_a_number_snelstart_lacks_is_refused(services):
    before = setup_repo.ledger_mappings(services.store, 2)
    with pytest.raises(MappingError) as caught:
        save_ledger_mapping(services, 2, 8000, "8000 Omzet hoog", "9999", actor="anna")
    assert isinstance(caught.value, ValueError)
    assert "9999" in say(caught.value.message, "nl") and "does not exist" in say(caught.value.message, "en")
    for bad in ("80a0", "", "-1"):
        with pytest.raises(MappingError):
            save_ledger_mapping(services, 2, 8000, "8000 Omzet hoog", bad, actor="anna")
    assert setup_repo.ledger_mappings(services.store, 2) == before


def test_saving_the_fix_for_ledger_8200_passes_and_is_audited(services):
    results = save_ledger_mapping(services, 1, 8200, "8200 Omzet licenties", " 8000", actor="anna")
    assert [r.status for r in results] == ["pass"]
    assert {m["gripp_ledger_id"]: m["snelstart_number"] for m in setup_repo.ledger_mappings(services.store, 1)}[
        8200] == "8000"
    event = history.events(services.store, identity_id=1, kind="mapping")[0]
    assert event["actor"] == "anna" and "(was 8200)" in render(event, "en")
    checks = {r.check: r.status for r in run_checks(services, 1, include_dry_run=False)}
    assert checks["ledgers"] == "pass"


def test_a_ledger_mapping_that_does_not_fit_is_refused_before_it_is_saved(services):
    before = setup_repo.ledger_mappings(services.store, 2)
    with pytest.raises(MappingError) as inactive:
        save_ledger_mapping(services, 2, 8300, "8300 Omzet oud", "8300", actor="anna")
    assert "not active" in say(inactive.value.message, "en")
    with pytest.raises(MappingError) as costs:  # the issue's 8300 → Personeelskosten
        save_ledger_mapping(services, 2, 8300, "8300 Omzet oud", "4000", actor="anna")
    said_nl = say(costs.value.message, "nl")
    assert "niet een omzetrekening" in said_nl or "geen omzetrekening" in said_nl
    assert setup_repo.ledger_mappings(services.store, 2) == before  # nothing was saved


def test_a_ledger_mapping_offers_only_revenue_accounts_that_allow_the_vat_kind(services):
    from sync.jobs.suggestions import ledger_options, suggest_mappings

    suggest_mappings(services, 1)  # fetches SnelStart's ledgers, as Controles does before it draws the editor
    offered = ledger_options(services, 1, 8000)  # Gripp 8000 carries Hoog
    assert list(offered) == ["8000"], offered  # not Bank, Debiteuren, Crediteuren, Personeelskosten, Laag/Geen
    assert offered["8000"] == "8000 — Omzet hoog"


def test_saving_a_vat_mapping_with_a_wrong_percentage_returns_a_failing_result(services):
    results = save_vat_mapping(services, 1, 1, "21%", "Hoog", "19", actor="anna")
    assert results[0].status == "fail"
    assert {d["code"] for d in results[0].details} >= {"VAT_PERCENTAGE_WRONG"}
    assert "‘21%’ (Gripp id 1)" in said(results[0].explanation, "en") and "19" in said(results[0].explanation, "en")
    assert said(results[0].fix, "nl")
    saved = {m["gripp_vat_id"]: m for m in setup_repo.vat_mappings(services.store, 1)}[1]
    assert (saved["kind"], saved["percentage"]) == ("Hoog", Decimal("19.00"))  # saved, and flagged
    assert history.events(services.store, identity_id=1, kind="mapping")[0]["actor"] == "anna"


def test_old_low_rate_mapped_at_9_percent_fails_on_its_2018_dates(services):
    results = save_vat_mapping(services, 1, 3, "6% (t/m 2018)", "Laag", Decimal("9"), actor="anna")
    assert results[0].status == "fail"
    detail = next(d for d in results[0].details if d["code"] == "VAT_PERCENTAGE_WRONG")
    assert detail["last_date"] < date(2019, 1, 1)


def test_saving_the_missing_vat_mapping_passes(services):
    results = save_vat_mapping(services, 2, 6, "Vrijgesteld", "geen", "0", actor="anna")
    assert [r.status for r in results] == ["pass"]
    assert {r.check: r.status for r in run_checks(services, 2, include_dry_run=False)}["vat"] == "pass"


@pytest.mark.parametrize("kind, percentage", [("Hooog", "21"), ("VerkopenHoog", "21"), ("Hoog", "abc"),
                                              ("Hoog", "-1"), ("Hoog", "101"), ("Hoog", "21.005"), (None, "21")])
def test_malformed_vat_mappings_are_refused_and_nothing_is_saved(services, kind, percentage):
    before = setup_repo.vat_mappings(services.store, 1)
    with pytest.raises(MappingError):
        save_vat_mapping(services, 1, 1, "21%", kind, percentage, actor="anna")
    assert setup_repo.vat_mappings(services.store, 1) == before
