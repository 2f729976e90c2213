"""A new user's findings on the console (05:55 list): inputs that reported success while saving something else,
unknown identities in the address, SnelStart's return link reused, one start date field, counts with their noun,
names ending in a full stop, start dates years ahead. Each test failed before its fix."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from console.i18n import t, tn
from sync.core.events import render
from sync.jobs import activation, linking
from sync.sandbox.seed import ADMIN_ACADEMY
from sync.sandbox.world import ALL_SCOPES
from sync.store import history
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers


def added_events(services: Services) -> int:
    return len(history.events(services.store, kind="identity"))


def added(at) -> bool:
    return any(word in helpers.plain(s.value) for s in at.success for word in ("toegevoegd", "added"))


# -- finding 5: an input says what it saved, or refuses in the reader's words ------------------------------------
@pytest.mark.parametrize("lang, exists, bad", [("nl", "bestaat al", "geheel getal"),
                                               ("en", "already exists", "whole number")])
def test_adding_an_identity_that_exists_or_a_bad_id_saves_nothing(console: Services, lang: str, exists: str,
                                                                   bad: str) -> None:
    before = added_events(console)
    at = helpers.page("koppelen", lang=lang)
    at.text_input(key="new-identity-id").input("1")
    at.button(key="add-identity").click().run()
    helpers.no_exception(at)
    assert any(exists in e.value for e in at.error) and not added(at)
    for typed in ("99999999999", "1.5", "-5", "abc", ""):
        at.text_input(key="new-identity-id").input(typed)
        at.button(key="add-identity").click().run()
        helpers.no_exception(at)
        assert not added(at), typed
        said = helpers.plain(at.error[0].value) if at.error else ""
        assert bad in said or t("number_missing", lang) in said, typed
    assert added_events(console) == before


@pytest.mark.parametrize("lang, word", [("nl", "geheel getal van 1 tot en met 1.440"),
                                        ("en", "whole number from 1 to 1,440")])
def test_an_invalid_interval_is_refused_in_our_words_and_not_saved(console: Services, lang: str, word: str) -> None:
    at = helpers.page("synchronisatie", lang=lang)
    for typed in ("0", "-5", "100000", "1.5"):
        at.text_input(key="interval-2").input(typed).run()
        helpers.no_exception(at)
        assert any(word in e.value for e in at.error), typed
        assert at.button(key="save-interval-2").disabled
    intervals = history.events(console.store, identity_id=2, kind="schedule_interval")
    assert intervals == []


def test_the_interval_event_counts_with_its_noun() -> None:
    one = {"kind": "schedule_interval", "detail_json": '{"minutes": 1}'}
    many = {"kind": "schedule_interval", "detail_json": '{"minutes": 5}'}
    assert render(one, "nl") == "Interval ingesteld op 1 minuut." and render(one, "en") == "Interval set to 1 minute."
    assert render(many, "nl") == "Interval ingesteld op 5 minuten."


# -- finding 6: an unknown identity in the address is said, not silently replaced ---------------------------------
@pytest.mark.parametrize("page", ["koppelen", "controles", "openstaande_posten"])
@pytest.mark.parametrize("lang, word", [("nl", "Identiteit 999 bestaat niet"), ("en", "Identity 999 does not exist")])
def test_an_unknown_identity_in_the_address_is_said(console: Services, page: str, lang: str, word: str) -> None:
    at = helpers.page(page, lang=lang, query={"identity": "999"})
    helpers.no_exception(at)
    assert any(word in helpers.plain(w.value) for w in at.warning)
    odd = helpers.page(page, lang=lang, query={"identity": "abc"})
    assert any("abc" in helpers.plain(w.value) for w in odd.warning)
    fine = helpers.page(page, lang=lang, query={"identity": "2"})
    assert not any(word[:10] in helpers.plain(w.value) for w in fine.warning)


# -- finding 7: SnelStart's return link used again does not wait forever --------------------------------------------
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_used_or_unknown_return_link_is_not_a_wait(console: Services, lang: str) -> None:
    request = activation.start_activation(console, 3, actor="tester")
    key = console.sandbox.snelstart.issue_key(ADMIN_ACADEMY, list(ALL_SCOPES))
    activation.handle_webhook(console, {"KoppelSleutel": key, "ActionType": "Create",
                                     "ReferenceKey": request.reference_key})
    activation.confirm_activation(console, 3, request.reference_key, start_date=date(2026, 1, 1), actor="tester")
    waiting = t("key_not_received", lang)[:30]
    for ref, expected in ((request.reference_key, "return_link_used"), ("bogus", "return_link_unknown")):
        at = helpers.page("koppelen", lang=lang, query={"identity": "3", "ref": ref})
        helpers.no_exception(at)
        shown = helpers.texts(at)
        assert waiting not in shown, ref
        assert helpers.plain(t(expected, lang))[:40] in shown, ref
        assert not any(b.key == "refresh-3" for b in at.button)


def test_a_fresh_return_link_still_waits_for_the_key(console: Services) -> None:
    request = activation.start_activation(console, 3, actor="tester")
    at = helpers.page("koppelen", query={"identity": "3", "ref": request.reference_key})
    assert t("key_not_received", "nl")[:30] in helpers.texts(at)


# -- finding 8: a linked identity has one start date field, the one that saves -------------------------------------
def test_a_linked_identity_has_one_start_date_field(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    assert [d.key for d in at.date_input] == ["linked-start-1"]


# -- finding 14: a start date years ahead is refused with the reason ----------------------------------------------
@pytest.mark.parametrize("lang, word", [("nl", "meer dan een jaar na vandaag"), ("en", "more than a year after today")])
def test_a_start_date_years_ahead_is_refused(console: Services, lang: str, word: str) -> None:
    before = setup_repo.get_link(console.store, 1).start_date
    at = helpers.page("koppelen", lang=lang, query={"identity": "1"})
    at.date_input(key="linked-start-1").set_value(date(2035, 1, 1))
    at.button(key="save-start-1").click().run()
    helpers.no_exception(at)
    assert any(word in e.value for e in at.error)
    assert setup_repo.get_link(console.store, 1).start_date == before
    with pytest.raises(linking.LinkError):
        linking.link_with_key(console, 3, "x" * 10, start_date=date(2030, 1, 1), actor="tester")


def test_a_start_date_later_this_year_is_saved_with_a_warning(console: Services) -> None:
    ahead = console.today() + timedelta(days=30)
    at = helpers.page("koppelen", query={"identity": "1"})
    at.date_input(key="linked-start-1").set_value(ahead)
    at.button(key="save-start-1").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 1).start_date == ahead
    assert any("ligt na vandaag" in helpers.plain(w.value) for w in at.warning)


# -- finding 15: counts with their noun, one full stop after a name ------------------------------------------------
def test_every_count_text_has_its_singular() -> None:
    """A text that counts ({n} facturen) is a counted message in the catalog, so one is never "1 facturen"."""
    import re

    from tests.test_catalog import catalog

    nouns = "facturen|invoices|minuten|minutes|voorstellen|suggestions|klanten|customers"
    counted = re.compile(rf"\{{n(:count)?\}} (\w+ )?({nouns})")
    for lang in ("nl", "en"):
        for message in catalog(lang):
            forms = message.string if message.pluralizable else (message.string,)
            if message.id and not message.pluralizable:
                assert not counted.search(forms[0]), (message.id, forms[0])
            if message.pluralizable:
                assert not re.search(r"\b1 (facturen|invoices|minuten|minutes)\b", forms[0]), (message.id, forms)
    assert tn("every_minutes", "nl", n=1) == "elke minuut"
    assert tn("attention_blocked", "en", n=3).startswith("3 invoices")
    assert tn("records_waiting", "nl", n=1).startswith("1 factuur wacht")


def test_a_name_ending_in_a_full_stop_gets_no_second() -> None:
    from sync.jobs.linking import other_links
    from sync.store.catalog import AdministrationLink

    other = AdministrationLink(account_key="studio-noord", account_name="Studio Noord B.V.", identity_id=1,
                               identity_name="Noord Advies B.V.", administration_id="a",
                               administration_name="Studio Noord B.V.", confirmed_by=None, confirmed_at=None)
    for lang in ("nl", "en"):
        said = helpers.plain(t("already_linked_elsewhere", lang, administration="Studio Noord B.V.",
                               links=other_links([other])))
        assert "B.V.." not in said and "Studio Noord B.V.’" in said


# -- finding 9: empty cells are empty, never a grey "None" --------------------------------------------------------
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_log_has_no_none_cells(console: Services, lang: str) -> None:
    from sync.jobs.runner import run_identity

    run_identity(console, 2, trigger="manual", actor="tester")  # events with and without an invoice
    at = helpers.page("synchronisatie", lang=lang)
    helpers.no_exception(at)
    log = at.dataframe[1].value
    invoice, link = t("col_invoice", lang), t("col_open", lang)
    assert (log[invoice] == "").any() and (log[invoice] != "").any()
    for column in (invoice, link):
        assert not log[column].isna().any() and "None" not in set(log[column].astype(str)), column


# -- finding 11: a rerun that changes nothing keeps its colour --------------------------------------------------------
def test_a_rerun_with_nothing_changed_keeps_its_colour(console: Services) -> None:
    from console import views
    from sync.core.events import run_label, run_state
    from sync.jobs.runner import run_identity

    first = run_identity(console, 2, trigger="manual", actor="tester")
    second = run_identity(console, 2, trigger="manual", actor="tester")
    assert first.counts.get("blocked") and not second.counts.get("booked")  # the demo's stuck invoices, twice
    assert run_state(second.outcome, second.counts) == run_state(first.outcome, first.counts) == "warnings"
    for lang, word in (("nl", "deels gelukt"), ("en", "partly done")):
        assert run_label(second.outcome, second.counts, lang).startswith(word)
    recorded = views.last_run(console.store, 2)
    assert run_state(recorded["outcome"], views.counts_of(recorded)) == "warnings"
    assert run_state("ok", {"blocked": 3}) == "failed"  # nothing of the identity in SnelStart at all: red


# -- finding 18: a failed run says why on the cards ----------------------------------------------------------------
@pytest.mark.parametrize("lang, reason", [("nl", "Gripp weigert de API-sleutel"), ("en", "Gripp refuses the API key")])
@pytest.mark.parametrize("page", ["overzicht", "synchronisatie"])
def test_a_failed_runs_reason_is_on_the_cards(console: Services, page: str, lang: str, reason: str) -> None:
    from sync.jobs import errors
    from sync.jobs.runner import _failed

    run_id = history.start_run(console.store, 1, "manual", actor="tester")
    _failed(console, run_id, 1, "manual", "console", errors.GRIPP_KEY, kind=errors.LINK)
    at = helpers.page(page, lang=lang)
    helpers.no_exception(at)
    assert any(reason in helpers.plain(c.value) for c in at.caption)


# -- finding 10: the dry run's tabs name the fix their problems need; the waiting list agrees before a sync ------
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_each_dry_run_problem_tab_points_to_its_own_fix(console: Services, lang: str) -> None:
    from sync.jobs.preview import preview_identity

    dry = preview_identity(console, 2, actor="tester")
    at = helpers.page("controles", lang=lang, query={"identity": "2"})
    helpers.no_exception(at)
    captions = [helpers.plain(c.value) for c in at.caption]
    assert helpers.plain(t("fix_conflict", lang)) in captions  # the demo's identity 2 has a conflict
    blocked = next(c for c in captions if c.endswith(helpers.plain(t("fix_blocked", lang))))
    codes = {code for line in dry.of("blocked") for code in line.codes}
    assert any(c.startswith("CUSTOMER_") for c in codes) and any(c.startswith(("VAT_", "LEDGER_")) for c in codes)
    assert helpers.plain(t("fix_blocked_customer", lang)) in blocked  # the contradicting customer's own fix
    assert helpers.plain(t("fix_blocked_mapping", lang)) in blocked
    vat_fix = "BTW-tarieven en grootboeken koppelen" if lang == "nl" else "Map VAT rates and ledgers"
    assert sum(vat_fix in c for c in captions) == 1  # only on the blocked tab, never on the conflict tab


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_before_the_first_sync_the_waiting_list_does_not_say_there_is_nothing(console: Services, lang: str) -> None:
    from sync.jobs.preview import preview_identity

    nothing = helpers.plain(t("no_records", lang))
    at = helpers.page("controles", lang=lang, query={"identity": "2"})
    shown = helpers.texts(at)
    assert nothing not in shown and helpers.plain(t("no_records_before_sync", lang)) in shown

    dry = preview_identity(console, 2, actor="tester")
    waiting = len(dry.of("conflict")) + sum(any(c.startswith("CUSTOMER_") for c in line.codes)
                                            for line in dry.of("blocked"))
    assert waiting == 2  # the demo's conflict and its contradicting customer
    at = helpers.page("controles", lang=lang, query={"identity": "2"})
    helpers.no_exception(at)
    shown = helpers.texts(at)
    assert nothing not in shown and helpers.plain(t("records_in_dry_run", lang, n=2)) in shown


# -- finding 4: stopping the console during a sync is one plain line, not a traceback ---------------------------------
def test_stopping_waits_for_a_manual_sync_then_closes(console: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from console import manual, runtime

    run = manual.ManualRun(1)
    monkeypatch.setitem(manual._active, (1, False), run)
    closed: list[bool] = []
    real_close = console.close
    monkeypatch.setattr(console, "close", lambda: (closed.append(run.done.is_set()), real_close()))
    threading.Timer(0.3, run.done.set).start()
    runtime.stop()
    assert closed == [True]  # the sync ended first


def test_a_busy_database_at_shutdown_is_one_line(console: Services, monkeypatch: pytest.MonkeyPatch,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    import duckdb

    from console import runtime

    def busy() -> None:
        raise duckdb.ResourceInUseException("connection is busy with another call")

    real_close = console.close
    monkeypatch.setattr(console, "close", busy)
    runtime.stop()  # no exception: the server's shutdown does not fail
    assert any("still in use at shutdown" in r.getMessage() for r in caplog.records)
    real_close()


# -- finding 9: Streamlit's own English never shows in a select box ------------------------------------------------
def test_every_select_box_in_the_console_brings_its_own_placeholder() -> None:
    """Streamlit's empty text is English ("Choose an option", "No options to select"): every select box and
    multiselect of the console passes one in the reader's language."""
    import ast

    missing = []
    for path in sorted((helpers.ROOT / "console").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("selectbox", "multiselect") \
                    and "placeholder" not in {keyword.arg for keyword in node.keywords}:
                missing.append(f"{path.relative_to(helpers.ROOT)}:{node.lineno}")
    assert missing == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_customer_mapping_and_log_filters_show_our_placeholder(console: Services, lang: str) -> None:
    at = helpers.page("controles", lang=lang, query={"identity": "2"})
    helpers.no_exception(at)
    customer = [s for s in at.selectbox if str(s.key).startswith("customer-2-")]
    assert customer and all(s.value is None and s.proto.placeholder == t("choose", lang) for s in customer)
    log = helpers.page("synchronisatie", lang=lang)
    helpers.no_exception(log)
    for key in ("log-identity", "log-level", "log-kind"):
        assert helpers.choice(log, "selectbox", key).proto.placeholder == t("all", lang), key


# -- finding 19: at 1280 px the relatie names and the log's level read whole ---------------------------------------
def test_the_customer_mapping_select_has_a_row_of_its_own(console: Services) -> None:
    at = helpers.page("controles", query={"identity": "2"})
    helpers.no_exception(at)
    holding = [c for c in at.columns if any(str(s.key).startswith("customer-2-") for s in c.selectbox)]
    assert holding and all(c.weight >= 0.75 for c in holding)  # was 3 of 10: names cut off


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_log_level_column_fits_its_longest_word(console: Services, lang: str) -> None:
    import json

    from sync.jobs.runner import run_identity

    run_identity(console, 2, trigger="manual", actor="tester")
    at = helpers.page("synchronisatie", lang=lang)
    helpers.no_exception(at)
    log = next(d for d in at.dataframe if t("col_level", lang) in d.value.columns)
    config = json.loads(log.proto.columns)
    width = config[t("col_level", lang)]["width"]
    assert isinstance(width, int) and width >= 12 * len(t("level_warning", "nl")) - 24  # "waarschuwing", padded


def test_a_customer_number_is_shown_as_gripp_has_it(console: Services) -> None:
    """An identifier, not a count: `klantnummer 10074`, never `10\\.074` (grouped, then escaped for markdown in a
    plain-text line)."""
    from sync.jobs import customer_mapping

    at = helpers.page("controles", query={"identity": "2"})
    helpers.no_exception(at)
    row = next(s for s in customer_mapping.suggest_customer_mappings(console, 2) if s.customernumber)
    assert row.customernumber >= 1000  # grouped as a count, it would read 10.074
    expected = f"{row.gripp_label} — klantnummer {row.customernumber} (Gripp id {row.company_id})"
    assert expected in [str(line.value) for line in at.text]
