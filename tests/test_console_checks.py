"""Controles: every check with its explanation and fix, the mapping editors with one-click suggestions (saving
shows what the checks say), and the dry run of the first sync as lists."""

from __future__ import annotations

import re
from datetime import date

import pytest

from console.i18n import t
from sync.core.words import said
from sync.jobs import linking
from sync.jobs.checks import run_checks
from sync.jobs.runner import run_identity
from sync.sandbox.seed import ADMIN_ACADEMY
from sync.sandbox.world import ALL_SCOPES
from sync.store import history
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers


def link_academy(services: Services) -> None:
    key = services.sandbox.snelstart.issue_key(ADMIN_ACADEMY, list(ALL_SCOPES))
    linking.link_with_key(services, 3, key, start_date=date(2026, 1, 1), actor="tester")


def test_every_check_is_shown_with_its_status_and_fix(console: Services) -> None:
    at = helpers.page("controles", query={"identity": "2"})
    at.button(key="run-checks-2").click().run()
    helpers.no_exception(at)
    expected = run_checks(console, 2, include_dry_run=False)
    boxes = {"pass": at.success, "warning": at.warning, "fail": at.error}
    for result in expected:
        title = said(result.title, "nl")
        found = [helpers.plain(b.value) for b in boxes[result.status] if title in helpers.plain(b.value)]
        assert found, f"{result.check} should be shown as {result.status}"
        if result.status != "pass" and said(result.fix, "nl"):
            assert said(result.fix, "nl") in found[0]
    assert any(r.status == "fail" for r in expected)  # identity 2 is deliberately misconfigured
    failed = sum(r.status == "fail" for r in expected)
    warnings = sum(r.status == "warning" for r in expected)
    summary = next(helpers.plain(c.value) for c in at.caption if " in orde, " in helpers.plain(c.value))
    # Finding 11: "1 waarschuwingen", "2 fout" — each count with its own singular or plural.
    assert f"{warnings} {'waarschuwing' if warnings == 1 else 'waarschuwingen'}" in summary
    assert summary.endswith(f"{failed} {'fout' if failed == 1 else 'fouten'}")
    # Several ledger problems are a list, one per line, and every fix names a section that exists on the page.
    ledgers = next(helpers.plain(b.value) for b in at.error if "Grootboekrekeningen" in helpers.plain(b.value))
    assert ledgers.count("\n- ") >= 2
    headers = {h.value for h in [*at.header, *at.subheader]}
    assert "BTW-tarieven en grootboeken koppelen" in headers and {"BTW-tarieven", "Grootboeken"} <= headers
    for result in expected:
        for section in re.findall(r"Controles → ([^.,]+?) → (BTW-tarieven|Grootboeken)", said(result.fix, "nl")):
            assert section[0] in headers and section[1] in headers, section


def test_every_widget_speaks_the_readers_language_and_ledgers_offer_only_revenue_accounts(
        console: Services) -> None:
    """Findings 4 and 7: "Choose an option" on a Dutch page; Bank, Debiteuren, Crediteuren and Personeelskosten
    offered for revenue."""
    at = helpers.page("controles", query={"identity": "1"})
    helpers.no_exception(at)
    ledger = at.selectbox(key="ledger-1-8200")
    assert ledger.proto.placeholder == "Maak een keuze"
    offered = [ledger.format_func(o) for o in ledger.options] if callable(getattr(ledger, "format_func", None)) \
        else list(ledger.options)
    assert all("Bank" not in o and "Debiteuren" not in o and "Crediteuren" not in o and "Personeelskosten" not in o
               for o in offered), offered
    assert any("Omzet hoog" in o for o in offered)
    english = helpers.page("controles", query={"identity": "1"}, lang="en")
    assert english.selectbox(key="ledger-1-8200").proto.placeholder == "Choose an option"
    assert helpers.choice(english, "selectbox", "checks-identity").proto.placeholder == "Choose an option"


def test_accepting_a_suggestion_saves_it_and_shows_the_checks(console: Services) -> None:
    link_academy(console)
    at = helpers.page("controles", query={"identity": "3"})
    helpers.no_exception(at)
    assert setup_repo.vat_mappings(console.store, 3) == []
    assert any("Voorstel: **Hoog**" in helpers.plain(c.value) for c in at.caption)

    at.button(key="accept-vat-3-1").click().run()
    helpers.no_exception(at)
    saved = setup_repo.vat_mappings(console.store, 3)
    assert [(m["gripp_vat_id"], m["kind"]) for m in saved] == [(1, "Hoog")]
    assert console.store.scalar("SELECT updated_by FROM vat_mappings WHERE identity_id = 3") == "sandbox"
    assert any("Opgeslagen" in helpers.plain(s.value) for s in [*at.success, *at.warning, *at.error])
    assert history.events(console.store, identity_id=3, kind="mapping")


def test_accepting_all_suggestions_lets_the_first_sync_book(console: Services) -> None:
    link_academy(console)
    at = helpers.page("controles", query={"identity": "3"})
    at.button(key="accept-all-3").click().run()
    helpers.no_exception(at)
    assert len(setup_repo.vat_mappings(console.store, 3)) == 3
    assert len(setup_repo.ledger_mappings(console.store, 3)) == 3
    result = run_identity(console, 3, trigger="manual", actor="tester")
    assert result.counts["booked"] > 0 and result.counts["blocked"] == 0


def test_choosing_a_ledger_by_hand(console: Services) -> None:
    at = helpers.page("controles", query={"identity": "1"})
    helpers.no_exception(at)
    # Identity 1 maps Gripp ledger 8200 to a grootboek SnelStart does not have; the suggestion is 8000.
    assert any("Voorstel: **8000**" in helpers.plain(c.value) for c in at.caption)
    at.selectbox(key="ledger-1-8200").set_value("8000").run()
    at.button(key="save-ledger-1-8200").click().run()
    helpers.no_exception(at)
    mapped = {m["gripp_ledger_id"]: m["snelstart_number"] for m in setup_repo.ledger_mappings(console.store, 1)}
    assert mapped[8200] == "8000"


@pytest.mark.full_world  # the demo's own figures: 23 to book, 6 blocked, 315 to adopt, 13 payments
def test_the_dry_run_accounts_for_every_invoice_and_is_not_a_sync(console: Services) -> None:
    """Findings 2 and 3: a dry run is kept apart from runs, accounts for every sent invoice (with customer, date
    and amount) and lists the payments it would bring back; its reasons are never cut off."""
    at = helpers.page("controles", query={"identity": "1"})
    at.button(key="start-dry-1").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)
    assert history.recent_runs(console.store, 1) == []  # a preview, not a run
    labels = {tab.label.split(" (")[0]: int(tab.label.split("(")[-1].rstrip(")")) for tab in at.tabs}
    # 4 ledgers, 1 contradicting customer, 1 line without the kostenplaats its grootboek demands
    assert labels["Zou worden geboekt"] == 23 and labels["Geblokkeerd"] == 6
    assert labels["Staat al in SnelStart: overnemen"] == 315 and labels["Betalingen terug naar Gripp"] == 13
    assert labels["Conflict: andere boeking met dit nummer in SnelStart"] == 1
    sent = console.store.scalar("SELECT count(*) FROM gripp_invoices WHERE identity_id = 1 AND status = 'SENT'")
    assert sum(n for label, n in labels.items() if label != "Betalingen terug naar Gripp") == sent
    book = at.dataframe[0].value
    assert list(book.columns) == ["Factuur", "Klant", "Datum", "Bedrag"]
    assert all(book["Klant"]) and all(v.startswith("€ ") for v in book["Bedrag"])
    blocked = at.dataframe[2].value  # the tabs: book, adopt, blocked, conflict, …
    assert all(reason.endswith(".") for reason in blocked["Reden"])  # the whole reason, with its fix
    assert any(blocked["Reden"].iloc[0] in helpers.plain(m.value) for m in at.markdown)  # and in full below the grid
    payments = at.dataframe[-1].value
    assert len(payments) == 13 and all(payments["Klant"])
    assert console.store.scalar("SELECT count(*) FROM bookings WHERE identity_id = 1") == 0  # nothing written

    for page in ("overzicht", "synchronisatie"):  # never "the last sync"
        shown = helpers.texts(helpers.page(page))
        assert "gelukt" not in shown, page
    again = helpers.page("controles", query={"identity": "1"})  # the preview survives a new session
    assert any(tab.label.startswith("Zou worden geboekt (23)") for tab in again.tabs)


def test_after_a_sync_the_dry_runs_already_booked_are_counted_apart_as_overzicht_counts_them(
        console: Services) -> None:
    from sync.jobs.runner import run_identity

    result = run_identity(console, 2, trigger="cli")
    at = helpers.page("controles", query={"identity": "2"})
    at.button(key="start-dry-2").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)
    done = result.counts["booked"] + result.counts["adopted"]
    assert any(tab.label == f"Al geboekt ({done})" for tab in at.tabs), [tab.label for tab in at.tabs]
    apart = f"Geboekt door de koppeling: {result.counts['booked']} · Overgenomen: {result.counts['adopted']}"
    assert any(helpers.plain(c.value) == apart for c in at.caption), [c.value for c in at.caption]
    tiles = {m.label: m.value for m in helpers.page("overzicht").metric[5:10]}
    assert tiles["Geboekt door de koppeling"] == str(result.counts["booked"])
    assert tiles["Overgenomen"] == str(result.counts["adopted"])


def test_an_unlinked_identity_is_asked_to_link_first(console: Services) -> None:
    at = helpers.page("controles", query={"identity": "3"})
    helpers.no_exception(at)
    assert any("Koppel deze identiteit eerst" in helpers.plain(i.value) for i in at.info)


def test_the_kostenplaats_editor_suggests_and_saves_beside_the_vat_and_ledger_editors(console: Services) -> None:
    from sync.store import kostenplaatsen as kp_repo

    at = helpers.page("controles", query={"identity": "1"})
    helpers.no_exception(at)
    assert "Kostenplaatsen" in {h.value for h in at.subheader}
    box = at.selectbox(key="kostenplaats-1-1")  # Gripp's "Drukwerk", mapped to SnelStart 110 by the seed
    assert box.value == "110" and box.format_func("130") == "130 — Webdesign"
    assert any("Zelfde nummer: SnelStart-kostenplaats 110 ‘Drukwerk’" in helpers.plain(c.value) for c in at.caption)
    box.set_value("130").run()
    at.button(key="save-kostenplaats-1-1").click().run()
    helpers.no_exception(at)
    assert [m["snelstart_number"] for m in kp_repo.mappings(console.store, 1) if m["gripp_costheading_id"] == 1] == [
        "130"]
    assert any("Kostenplaats 130 is actief in SnelStart" in helpers.plain(s.value) for s in at.success)
    # Now the suggestion (110) differs from the mapping: one click takes it back.
    at.button(key="accept-kostenplaats-1-1").click().run()
    assert [m["snelstart_number"] for m in kp_repo.mappings(console.store, 1) if m["gripp_costheading_id"] == 1] == [
        "110"]


def test_the_check_names_the_grootboek_that_demands_a_kostenplaats(console: Services) -> None:
    at = helpers.page("controles", query={"identity": "1"}, lang="en")
    at.button(key="run-checks-1").click().run()
    helpers.no_exception(at)
    [found] = [helpers.plain(b.value) for b in at.error if "Kostenplaatsen" in helpers.plain(b.value)]
    assert "SnelStart account 8010 ‘Omzet laag’" in found and "Kostenplaats verplicht" in found


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_blocked_tab_says_where_a_kostenplaats_problem_is_fixed(console: Services, lang: str) -> None:
    from sync.jobs.preview import preview_identity

    dry = preview_identity(console, 1, actor="tester")
    assert "KOSTENPLAATS_REQUIRED" in {code for line in dry.of("blocked") for code in line.codes}  # the seed's 8010
    at = helpers.page("controles", lang=lang, query={"identity": "1"})
    helpers.no_exception(at)
    blocked = next(helpers.plain(c.value) for c in at.caption
                   if helpers.plain(c.value).endswith(helpers.plain(t("fix_blocked", lang))))
    assert helpers.plain(t("fix_blocked_kostenplaats", lang)) in blocked
    assert ("Kostenplaats: koppel hem onder Kostenplaatsen" if lang == "nl" else "Kostenplaats: map it") in blocked
