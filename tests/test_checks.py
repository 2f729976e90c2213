"""The setup checks on the seeded sandbox: they find exactly the seed's deliberate misconfigurations, name the
Gripp VAT rate or ledger and what to change, pass everything else, and survive a broken link."""

from __future__ import annotations

from datetime import date

import pytest

from sync import cli
from sync.core import words
from sync.core.words import Msg, said
from sync.jobs.checks import CHECK_KEYS, TITLES, CheckKey, CheckStatus, run_checks
from sync.jobs.linking import link_with_key
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_STUDIO, koppelsleutel_for, manifest
from sync.sandbox.world import ALL_SCOPES
from sync.store import setup as setup_repo


def by_key(results):
    keys = [r.check for r in results]
    assert keys == list(CHECK_KEYS)[:len(keys)] and len(keys) >= len(CHECK_KEYS) - 1
    return {r.check: r for r in results}


def failing(results) -> dict[str, set[tuple[str, str]]]:
    return {r.check: {(d["code"], d["subject"]) for d in r.details} for r in results if r.status == "fail"}


def test_identity_1_fails_only_on_the_missing_ledger_8200_and_the_grootboek_that_demands_a_kostenplaats(services,
                                                                                                         world):
    results = by_key(run_checks(services, 1))
    assert failing(results.values()) == {"ledgers": {("LEDGER_MISSING", "ledger:8200")},
                                         "kostenplaatsen": {("KOSTENPLAATS_REQUIRED", "ledger:8010/kostenplaats")}}
    kostenplaatsen = results["kostenplaatsen"]  # named by the grootboek, before anything is pushed
    assert "SnelStart account 8010 ‘Omzet laag’" in said(kostenplaatsen.explanation, "en")
    assert "Kostenplaats verplicht" in said(kostenplaatsen.fix, "en") and "8010" in said(kostenplaatsen.fix, "nl")
    ledgers = results["ledgers"]
    assert "8200 Omzet licenties" in said(ledgers.explanation, "nl") and "8200" in said(ledgers.fix, "nl")
    assert "does not exist" in said(ledgers.explanation, "en") and "Create account 8200" in said(ledgers.fix, "en")
    seed = manifest(world)
    assert set(ledgers.details[0]["numbers"]) == {n for n, why in seed.blocked_expected.items()
                                                  if why == "LEDGER_MISSING"}
    assert set(kostenplaatsen.details[0]["numbers"]) == {n for n, why in seed.blocked_expected.items()
                                                         if why == "KOSTENPLAATS_REQUIRED"}
    for key in ("gripp", "subscription", "koppelsleutel", "integrations", "vat", "start_date"):
        assert results[key].status == "pass", (key, said(results[key].explanation, "en"))
    assert "6% (t/m 2018)’ → Laag" in said(results["vat"].explanation, "nl")  # 6 % on its dates, 9 % is another rate
    _debtors_and_dry_run_tell_the_seeds_story(results, seed, 1)


def test_after_a_sync_the_checks_dry_run_counts_what_is_booked_already(services):
    from sync.jobs.runner import run_identity

    before = said(by_key(run_checks(services, 2))[CheckKey.DRY_RUN].explanation, "nl")
    assert "al geboekt" not in before  # nothing is yet
    ran = run_identity(services, 2)
    after = said(by_key(run_checks(services, 2))[CheckKey.DRY_RUN].explanation, "nl")
    done = ran.counts["booked"] + ran.counts["adopted"]
    assert after.startswith("0 facturen worden geboekt") and \
        f"{done} facturen zijn al geboekt of overgenomen en blijven zoals ze zijn." in after, after


def test_identity_2_fails_on_the_unmapped_vat_rate_and_two_ledgers(services, world):
    results = by_key(run_checks(services, 2))
    assert failing(results.values()) == {
        "vat": {("VAT_UNMAPPED", "vat:6")},
        "ledgers": {("LEDGER_VAT_MISMATCH", "ledger:8100/vat:1"), ("LEDGER_INACTIVE", "ledger:8300")},
    }
    vat, ledgers = results["vat"], results["ledgers"]
    assert "‘Vrijgesteld’ (Gripp id 6)" in said(vat.explanation, "nl") and "Geen" in said(vat.fix, "nl")
    explained_en, explained_nl = said(ledgers.explanation, "en"), said(ledgers.explanation, "nl")
    assert "8100" in explained_en and "does not allow VAT kind Hoog" in explained_en
    assert "‘21%’" in explained_en and "Allow VAT kind Hoog on account 8100" in said(ledgers.fix, "en")
    assert "8300" in explained_nl and "non-actief" in explained_nl
    assert "Reactivate account 8300" in said(ledgers.fix, "en")
    seed = manifest(world)
    for detail in vat.details + ledgers.details:
        reason = {"VAT_UNMAPPED": "VAT_UNMAPPED", "LEDGER_VAT_MISMATCH": "LEDGER_VAT_MISMATCH",
                  "LEDGER_INACTIVE": "LEDGER_INACTIVE"}[detail["code"]]
        assert set(detail["numbers"]) == {n for n, why in seed.blocked_expected.items() if why == reason}
    for key in ("gripp", "subscription", "koppelsleutel", "integrations", "start_date"):
        assert results[key].status == "pass", (key, said(results[key].explanation, "en"))
    _debtors_and_dry_run_tell_the_seeds_story(results, seed, 2)


def _debtors_and_dry_run_tell_the_seeds_story(results, seed, identity_id: int) -> None:
    # The seed's one customer whose number is another name's relatiecode is a warning, named: its invoices wait.
    debtors = results["debtors"]
    assert debtors.status == "warning"
    assert [c["customernumber"] for c in debtors.details] == [seed.relatie_conflicts[identity_id]]
    assert [c["reason"] for c in debtors.details] == ["CUSTOMER_CONTRADICTION"]
    assert f"{len(seed.missing_relaties[identity_id])} will be created" in said(debtors.explanation, "en")
    # The dry run: what the first sync books, blocks (with the reason), finds in conflict and brings back.
    dry = results["dry_run"]
    mine = seed.sent_invoices_by_identity[identity_id]
    blocked = {n: why for n, why in seed.blocked_expected.items() if n in mine}
    conflicts = {n: "BOOKING_CONFLICT" for n in seed.conflicts_expected if n in mine}
    assert conflicts, "the seed has a booking changed in SnelStart per identity"
    assert {d["number"]: d["code"] for d in dry.details} == blocked | conflicts
    to_book = len(seed.to_book_by_identity[identity_id])
    adopted = len(seed.prebooked_by_identity[identity_id] - seed.conflicts_expected)
    payments = sum(1 for n in seed.payments_expected if n in mine)
    assert dry.status == "warning"
    assert said(dry.explanation, "en").startswith(
        f"{to_book} invoices would be booked, {adopted} adopted (already in SnelStart), {len(conflicts)} "
        f"conflict (SnelStart holds a booking with the number that does not fit the invoice), {len(blocked)} "
        "blocked and ")
    # One payment per bank booking: an invoice paid in two parts brings two (test_engine holds the exact list).
    shown = int(said(dry.explanation, "en").split(" blocked and ")[1].split(" payment")[0])
    assert shown >= payments


def test_fixing_the_mapping_turns_the_check_green(services, world):
    setup_repo.put_ledger_mapping(services.store, 1, 8200, "8200 Omzet licenties", "8000", "test")
    omzet_laag = next(led for led in world.snelstart.administrations[ADMIN_STUDIO].ledgers.values()
                      if led.nummer == 8010)
    omzet_laag.kostenplaats_verplicht = False  # the bookkeeper no longer demands one on 8010
    results = by_key(run_checks(services, 1, include_dry_run=False))
    assert failing(results.values()) == {}
    assert results["ledgers"].status == "pass" and results["kostenplaatsen"].status == "pass"


def test_revoked_koppelsleutel_fails_the_key_check_plainly_and_the_rest_skips(services, sandbox):
    sandbox.snelstart.revoke_key(koppelsleutel_for(ADMIN_STUDIO))
    results = by_key(run_checks(services, 1))
    key = results["koppelsleutel"]
    assert key.status == "fail"
    assert "koppelsleutel" in said(key.explanation, "nl") and "ingetrokken" in said(key.explanation, "nl")
    assert "Link the administration again" in said(key.fix, "en")
    assert results["gripp"].status == "pass" and results["subscription"].status == "pass"
    for name in ("integrations", "vat", "ledgers", "debtors", "dry_run"):
        assert results[name].status == "warning" and said(results[name].explanation, "en").startswith("Not run")
    assert setup_repo.get_link(services.store, 1).health == "broken"


def test_with_a_revoked_key_the_mapping_checks_use_the_last_fetched_snelstart_data(services, sandbox):
    run_checks(services, 2, include_dry_run=False)  # fetches and caches SnelStart's ledgers and VAT rates
    sandbox.snelstart.revoke_key(koppelsleutel_for("a0000002-0000-4000-8000-000000000002"))
    results = by_key(run_checks(services, 2))
    assert results["koppelsleutel"].status == "fail"
    assert set(failing(results.values())) == {"koppelsleutel", "vat", "ledgers"}
    assert "could not be read now" in said(results["vat"].explanation, "en")
    assert results["dry_run"].status == "warning"


def test_missing_scopes_fail_the_integrations_check_and_are_listed(services, sandbox):
    scopes = [s for s in ALL_SCOPES if s not in ("bankieren:read", "documenten:write")]
    link_with_key(services, 3, sandbox.snelstart.issue_key(ADMIN_ACADEMY, scopes), start_date=date(2024, 1, 1),
                  actor="test")
    results = by_key(run_checks(services, 3, include_dry_run=False))
    integrations = results["integrations"]
    assert integrations.status == "fail"
    assert "documenten:write, bankieren:read" in said(integrations.explanation, "en")
    assert {d["scope"] for d in integrations.details if not d["granted"]} == {"bankieren:read", "documenten:write"}
    assert results["koppelsleutel"].status == "pass"


def test_without_settings_read_the_administration_cannot_be_confirmed(services, sandbox):
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY, [s for s in ALL_SCOPES if s != "settings:read"])
    setup_repo.save_link(services.store, identity_id=3, administration_id=ADMIN_ACADEMY,
                         administration_name="Noord Academy", koppelsleutel_enc=services.vault.encrypt(key),
                         key_hint="…" + key[-4:], start_date=date(2024, 1, 1), actor="test")
    results = by_key(run_checks(services, 3, include_dry_run=False))
    checked = results["koppelsleutel"]
    assert checked.status == "fail" and "settings:read" in said(checked.explanation, "en")
    assert "settings:read" in said(results["integrations"].explanation, "en")


def test_unlinked_identity_is_told_to_link_first(services):
    results = by_key(run_checks(services, 3))
    checked = results["koppelsleutel"]
    assert checked.status == "fail" and "not linked" in said(checked.explanation, "en")
    assert results["start_date"].status == "fail"
    assert results["dry_run"].status == "warning"


def test_missing_start_date_fails(services):
    services.store.execute("UPDATE links SET start_date = NULL WHERE identity_id = 2")
    result = by_key(run_checks(services, 2, include_dry_run=False))["start_date"]
    assert result.status == "fail" and "start date" in said(result.explanation, "en").lower()
    assert "startdatum" in said(result.fix, "nl")


def test_refused_subscription_key_fails_its_own_check(services, world):
    world.snelstart.subscription_keys = ["someone-elses-key"]
    results = by_key(run_checks(services, 1))
    assert results["subscription"].status == "fail" and "90" in said(results["subscription"].explanation, "en")
    assert results["koppelsleutel"].status == "warning"  # the token works; the administration is out of reach


def test_cli_check_prints_the_results_and_exits_non_zero(cli_env, capsys):
    code = cli.main(["check", "--lang", "en"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_FAILED
    # 8200 and the grootboek 8010 that demands a kostenplaats for identity 1; Vrijgesteld, 8100/8300 for identity 2
    assert out.count("[FAIL") == 4
    assert "8200 Omzet licenties" in out and "Vrijgesteld" in out and "8010 ‘Omzet laag’" in out
    assert cli.main(["check", "--identity", "1"]) == cli.EXIT_FAILED
    capsys.readouterr()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_result_speaks_both_languages(services, lang):
    for r in run_checks(services, 2, include_dry_run=False):
        assert said(r.title, lang) and said(r.explanation, lang)
        if r.status != "pass":
            assert said(r.fix, lang) or said(r.explanation, lang).startswith(("Niet uitgevoerd", "Not run"))


def test_every_check_has_its_title_in_both_catalogs() -> None:
    assert set(TITLES) == set(CheckKey) and set(CHECK_KEYS) <= set(CheckKey)
    for check in CheckKey:
        assert TITLES[check] == f"check.{check}.title"
        for lang in words.LANGUAGES:
            assert words.template(TITLES[check], lang) != TITLES[check], (check, lang)  # strict: missing raises
    assert [str(status) for status in CheckStatus] == ["pass", "warning", "fail"]


def test_a_check_result_is_a_code_and_messages_said_in_the_readers_language(services) -> None:
    result = by_key(run_checks(services, 2, include_dry_run=False))["start_date"]
    assert (result.check, result.status) == (CheckKey.START_DATE, CheckStatus.PASS)
    assert isinstance(result.explanation, Msg) and result.fix is None
    count = result.details[0]["invoices"]
    assert said(result.title, "nl") == "Startdatum" and said(result.title, "en") == "Start date"
    assert said(result.explanation, "nl") == (
        f"Verstuurde facturen vanaf 01-01-2023 gaan naar SnelStart ({count} facturen nu).")
    assert said(result.explanation, "en") == (
        f"Sent invoices from 01/01/2023 on go to SnelStart ({count} invoices now).")
