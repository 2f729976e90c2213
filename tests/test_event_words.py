"""The event log, alerts, runs and errors speak through the catalog: every kind has a level and words in both
languages, values are kept as data (messages nested in them too), and a log written before events were data reads
as it did, in both languages, after the migration that took the words out of the store."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sync.core import events
from sync.core.events import ALERTS, KINDS, AlertKind, EventKind, Level, render, render_alert
from sync.core.words import Msg, say, template
from sync.gripp import errors as gripp_errors
from sync.jobs import errors
from sync.snelstart import errors as ss_errors
from sync.store import history
from sync.store.db import Store
from tests.bench.sizes import fill_log

MIGRATIONS = Path(__file__).resolve().parents[1] / "sync" / "store" / "migrations"


# -- every kind has words -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(EventKind))
def test_every_event_kind_has_a_level_a_label_and_a_sentence_in_both_languages(kind: EventKind) -> None:
    found = KINDS.get(kind)
    assert found is not None, f"{kind} has no entry in sync.core.events.KINDS"
    assert isinstance(found.level, Level)
    assert found.label == f"event.{kind}.label" and found.words.startswith(f"event.{kind}")
    for lang in ("nl", "en"):
        assert template(found.label, lang), f"{found.label} has no {lang} words"
        assert template(found.words, lang, 1 if found.counted_by else None), f"{found.words}: no {lang} words"
        # A row that recorded nothing but its kind still reads (older rows lack values newer code records).
        assert isinstance(render({"kind": str(kind)}, lang), str)


def test_every_alert_kind_has_words() -> None:
    assert set(ALERTS) == set(AlertKind)
    for lang in ("nl", "en"):
        assert "Studio" in render_alert({"kind": "auto_sync_failed", "data": {"name": "Studio", "reason": "x"}}, lang)


SAMPLES = {  # the kinds whose keys are chosen by the data, with data that takes every branch
    "relatie": [{"name": "A B.V.", "shortened_from": "A B.V. long", "limit": 50, "vat_dropped": "NL1",
                 "vat_refused": True}, {"name": "A B.V.", "vat_dropped": "NL1"}, {"name": "A B.V."}],
    "open_item_skipped": [{"missing": ["factuurnummer"], "booking_id": "b-1", "factuur_datum": "2019-03-01",
                           "factuur_bedrag": "84.7"}, {"missing": ["openstaandSaldo"]}],
    "link": [{"name": "S", "administration": "A", "key_hint": "…ab12", "previous_administration": "B"},
             {"name": "S", "administration": "A", "key_hint": "…ab12"}],
    "mapping": [{"type": "customer", "label": "K", "gripp_id": 12345, "relatiecode": 1001, "relatie": "R",
                 "previous": 1000}, {"type": "customer", "label": "K", "gripp_id": 1, "removed": 1001},
                {"type": "vat", "label": "Hoog", "gripp_id": 2, "kind": "Hoog", "percentage": "21",
                 "previous": {"kind": "Laag", "percentage": "9"}},
                {"type": "ledger", "label": "Omzet", "gripp_id": 3, "snelstart_number": 8000, "previous": 8200}],
    "alert_acknowledged": [{"alert": {"kind": "auto_sync_failed", "data": {"name": "S", "reason": "x"}}},
                           {"alert": {"recorded": {"nl": "oud", "en": "old"}}}],
    "webhook_refused": [{"error": error, "reason": {"nl": "r", "en": "r"}} for error in events.WEBHOOK_REFUSALS]
    + [{"error": "something_new"}],
    "ceiling": [{"name": "S", "previous": None, "ceiling": "250000.00", "default": "1000000.00"},
                {"name": "S", "previous": "250000.00", "ceiling": None, "default": "1000000.00"}, {}],
    "sign_in_failed": [{"name": "sanne", "client": "1.2.3.4"}, {"client": "1.2.3.4"}],
    "sign_in_locked": [{"name": "sanne", "locked": "user"}, {"client": "1.2.3.4", "locked": "client"}],
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_kinds_that_choose_their_words_by_the_data_say_every_branch(lang: str) -> None:
    for kind, samples in SAMPLES.items():
        for data in samples:
            text = render({"kind": kind, "detail_json": json.dumps(data)}, lang)
            assert text and "{" not in text, (kind, data, text)
    mapping = render({"kind": "mapping", "detail_json": json.dumps(SAMPLES["mapping"][0])}, lang)
    assert "12345" in mapping and "1001" in mapping  # ids are shown as recorded, never grouped like counts


# -- values, messages among them, survive the store ---------------------------------------------------------------
def test_an_event_whose_reason_is_a_nested_message_reads_in_both_languages(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    try:
        reason = errors.explain(ss_errors.SnelStartBadRequest("bad", status=400, codes=["BOE-0069"],
                                                              messages=["Grootboek bestaat niet"]))
        history.log_event(store, EventKind.REFUSED, identity_id=1, invoice_number="260032",
                          data={"reason": reason, "amount": Decimal("12.50")})
        quota = gripp_errors.GrippQuotaExceeded("quota", resume_at=datetime(2026, 11, 28, 14, 0, tzinfo=UTC),
                                                retry_after=60)
        history.log_event(store, EventKind.PUSH_STOPPED, identity_id=1,
                          data={"waiting": 3, "reason": Msg("event.payments_waiting", reason=errors.explain(quota))})
        refused, stopped = reversed(history.events(store))
        stored = json.loads(refused["detail_json"])
        assert stored["reason"]["msg"] == "error.snelstart_refused" and stored["amount"] == "12.50"
        assert render(refused, "nl") == ("Factuur 260032: SnelStart weigerde dit (BOE-0069): Grootboek bestaat "
                                         "niet")
        assert render(refused, "en") == "Invoice 260032: SnelStart refused this (BOE-0069): Grootboek bestaat niet"
        assert "verder vanaf 15:00" in render(stopped, "nl") and "3 facturen wachten" in render(stopped, "nl")
        assert "resumes at 15:00" in render(stopped, "en") and "3 invoices wait" in render(stopped, "en")
    finally:
        store.close()


def test_a_process_is_said_in_words_and_a_person_by_name() -> None:
    # a new-user trial read "Proefrun gestart door cli." and "Dry run started by check."
    preview = {"kind": "preview", "detail_json": "{}"}
    assert render({**preview, "actor": "cli"}, "nl") == "Proefrun gestart door de opdrachtregel."
    assert render({**preview, "actor": "check"}, "en") == "Dry run started by the checks."
    assert render({**preview, "actor": "femke"}, "nl") == "Proefrun gestart door femke."
    assert render({**preview, "actor": "scheduler"}, "nl") == "Proefrun gestart door de planning."
    for actor in set(events.PROCESS_ACTORS) - {"sandbox"}:  # "the sandbox user" says its name
        assert actor not in render({**preview, "actor": actor}, "en").split()


def test_an_unknown_event_kind_is_refused_when_written(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    try:
        with pytest.raises(ValueError):
            history.log_event(store, "bookd")
    finally:
        store.close()


# -- the migration keeps every word of an old log -----------------------------------------------------------------
def _database_before_007(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database made by the migrations before 007, as every existing deployment has one."""
    package = tmp_path / "migrations_before_007"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for sql in sorted(MIGRATIONS.glob("*.sql")):
        if int(sql.name[:3]) < 7:
            shutil.copy(sql, package / sql.name)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "old.duckdb"
    Store(path, migrations="migrations_before_007").close()
    sys.modules.pop("migrations_before_007", None)
    return path


def test_an_old_event_log_reads_the_same_in_both_languages_after_the_migration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _database_before_007(tmp_path, monkeypatch)
    old = duckdb.connect(str(path))
    now = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    rows = [  # (kind, level, message_nl, message_en, detail_json)
        ("booked", "info", "Factuur 240001 geboekt in SnelStart.", "Invoice 240001 booked in SnelStart.", None),
        ("error", "error", "Iets ging mis.", "Something went wrong.", '{"code": "X"}'),  # a kind no longer known
        ("blocked", "warning", "Factuur 240002 geblokkeerd.", "", "not json"),  # English never written
        # Written after events were data (migration 003): the reason stored as both languages' words.
        ("refused", "error", None, None, json.dumps({"reason": {"nl": "SnelStart weigerde dit.",
                                                               "en": "SnelStart refused this."}})),
        ("alert_acknowledged", "info", None, None, json.dumps({"alert": {"message_nl": "Automatische sync mislukt",
                                                                         "message_en": "Automatic sync failed"}})),
    ]
    for i, (kind, level, nl, en, detail) in enumerate(rows, start=1):
        old.execute("""INSERT INTO events (occurred_at, level, kind, invoice_number, message_nl, message_en,
                                           detail_json, actor) VALUES (?, ?, ?, ?, ?, ?, ?, 'anna')""",
                    [now, level, kind, f"24000{i}", nl, en, detail])
    old.execute("INSERT INTO alerts (raised_at, message_nl, message_en) VALUES (?, 'Synchronisatie mislukt', "
                "'Sync failed')", [now])
    old.close()

    store = Store(path)  # opening applies 007
    try:
        columns = {row["column_name"] for row in store.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name IN ('events', 'alerts')")}
        assert not {"message_nl", "message_en"} & columns
        said = {lang: [render(row, lang) for row in reversed(history.events(store))] for lang in ("nl", "en")}
        assert said["nl"] == ["Factuur 240001 geboekt in SnelStart.", "Iets ging mis.", "Factuur 240002 geblokkeerd.",
                              "Factuur 240004: SnelStart weigerde dit.",
                              "Melding gezien door anna: Automatische sync mislukt"]
        assert said["en"] == ["Invoice 240001 booked in SnelStart.", "Something went wrong.",
                              "Factuur 240002 geblokkeerd.",  # the only words there are
                              "Invoice 240004: SnelStart refused this.",
                              "Alert acknowledged by anna: Automatic sync failed"]
        blocked = next(row for row in history.events(store) if row["kind"] == "blocked")
        assert json.loads(blocked["detail_json"])["detail"] == "not json"  # kept, not lost
        [alert] = history.open_alerts(store)
        assert (render_alert(alert, "nl"), render_alert(alert, "en")) == ("Synchronisatie mislukt", "Sync failed")
        history.acknowledge_alert(store, alert["alert_id"], "anna")
        seen = history.events(store, kind="alert_acknowledged")[0]
        assert render(seen, "en") == "Alert acknowledged by anna: Sync failed"
        assert events.label("error", "nl") == "error"  # an old kind's label: its code
        assert [row["kind"] for row in history.events(store, search="iets ging")] == ["error"]
    finally:
        store.close()


# -- what errors mean, in one table ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("error", "kind", "key"), [
    (errors.LinkBroken(errors.KOPPELSLEUTEL), errors.LINK, "error.link.koppelsleutel"),
    (ss_errors.SubscriptionKeyError("no", status=401), errors.LINK, "error.link.subscription_key"),
    (ss_errors.KoppelsleutelError("no", status=401), errors.LINK, "error.link.koppelsleutel"),
    (gripp_errors.GrippAuthError("no"), errors.LINK, "error.link.gripp_key"),
    (gripp_errors.GrippQuotaExceeded("q", resume_at=datetime(2026, 1, 1, tzinfo=UTC), retry_after=1), errors.PAUSED,
     "error.gripp_quota"),
    (duckdb.IOException("disk full"), errors.STORE, "error.store_unwritable"),
    (ss_errors.UnreadableWriteAnswerError("?", status=200), errors.UNKNOWN, "error.snelstart_unreadable"),
    (ss_errors.OutcomeUnknownError("?", status=None), errors.UNKNOWN, "error.temporary"),
    (ss_errors.RateLimitError("busy", status=429), errors.TRANSIENT, "error.snelstart_busy"),
    (ss_errors.ServerError("down", status=503), errors.TRANSIENT, "error.snelstart_unreachable"),
    (ss_errors.SnelStartBadRequest("bad", status=400), errors.CONFIG, "error.snelstart_refused"),
    (gripp_errors.GrippBusyError("busy"), errors.TRANSIENT, "error.gripp_busy"),
    (gripp_errors.GrippConnectionError("down"), errors.TRANSIENT, "error.gripp_unreachable"),
    (gripp_errors.GrippPdfError("no pdf", http_status=503), errors.TRANSIENT, "error.pdf_unreachable"),
    (gripp_errors.GrippPdfError("no pdf", http_status=200), errors.CONFIG, "error.pdf_invalid"),
    (errors.PdfTooLarge(12 * 1024 * 1024), errors.CONFIG, "error.pdf_too_large"),
    (ValueError("odd"), errors.CONFIG, "error.other"),
])
def test_the_first_row_of_the_error_table_that_matches_says_the_kind_and_the_words(error, kind, key) -> None:
    assert errors.kind_of(error) == kind
    said = errors.explain(error)
    assert said.key == key
    assert all(say(said, lang) for lang in ("nl", "en"))


def test_a_broken_link_says_which_key() -> None:
    broken = errors.link_broken(ss_errors.SubscriptionKeyError("no", status=401))
    assert broken.code == "subscription_key" and "subscription key" in say(broken.message, "en")
    assert errors.link_broken(broken) is broken
    assert errors.link_broken(RuntimeError("?")).message == errors.KOPPELSLEUTEL


# -- the log's search ---------------------------------------------------------------------------------------------
def test_the_log_is_searched_in_the_readers_words(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    try:
        fill_log(store, 50)
        assert {e["kind"] for e in history.events(store, search="factuur 260032")} == {"booked", "payment"}
        assert [e["kind"] for e in history.events(store, search="betaling 260032")] == ["payment"]
        assert [e["kind"] for e in history.events(store, search="payment 260032", lang="en")] == ["payment"]
        assert history.events(store, search="payment 260032") == []  # Dutch words for a Dutch reader
        assert [e["kind"] for e in history.events(store, search="bakkerij jansen")] == ["relatie"]
        assert [e["invoice_number"] for e in history.events(store, search="€ 121,00")] == ["260032"]
        assert len(history.events(store, search="geboekt", limit=20)) == 20
    finally:
        store.close()


# -- errors a person can act on say a message -----------------------------------------------------------------------
def test_wrong_settings_are_said_in_the_readers_language() -> None:
    from sync.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as caught:
        load_settings({"GRIPP_API_URL": "ftp://gripp", "SYNC_MAX_CONCURRENT_RUNS": "99", "SYNC_SECRET_KEY": "kort"})
    assert caught.value.lines("nl") == [
        "GRIPP_API_URL: 'ftp://gripp' is geen webadres; geef het hele adres, beginnend met https://",
        "SYNC_SECRET_KEY: te kort om de bewaarde sleutels te beschermen; gebruik minstens 16 tekens (een "
        "Fernet-sleutel of een lange wachtzin)",
        "SYNC_MAX_CONCURRENT_RUNS: '99' is geen aantal runs tegelijk; gebruik 1 tot en met 64",
        "SNELSTART_SUBSCRIPTION_KEY: niet ingesteld; echte diensten (er zijn Gripp- of SnelStart-instellingen "
        "gegeven) hebben het nodig"]
    assert caught.value.lines("en")[0] == ("GRIPP_API_URL: 'ftp://gripp' is not a web address; give the full "
                                           "address, starting with https://")
    assert str(caught.value).splitlines() == caught.value.lines("en")


def test_a_role_that_may_not_is_told_so_in_both_languages() -> None:
    from sync.auth.access import AccountNotAllowed, Actor, NotAllowed, require, require_account

    femke = Actor("femke", "finance", frozenset({"acme"}))
    with pytest.raises(NotAllowed) as caught:
        require(femke, "mappings")
    assert say(caught.value.message, "nl") == ("femke (Financiële administratie) mag niet BTW-, grootboek- en "
                                       "klantkoppelingen wijzigen. Vraag iemand van support.")
    assert say(caught.value.message, "en") == "femke (Finance) may not change VAT, ledger and customer mappings. Ask " \
                                      "someone from support."
    assert isinstance(caught.value, PermissionError)
    with pytest.raises(AccountNotAllowed) as refused:
        require_account(femke, "other")
    assert say(refused.value.message, "en") == "femke has no access to account ‘other’."


def test_a_database_of_the_other_mode_says_what_to_do_in_both_languages(tmp_path: Path) -> None:
    from sync.store import mode

    store = Store(tmp_path / "s.duckdb")
    try:
        mode.claim(store, mode.REAL)
        with pytest.raises(mode.StoreModeError) as caught:
            mode.claim(store, mode.SANDBOX)
        assert "bevat echte gegevens" in say(caught.value.message, "nl")
        assert "holds real data" in say(caught.value.message, "en")
        assert str(tmp_path) in say(caught.value.message, "nl") and caught.value.code == "real"
    finally:
        store.close()


def test_a_run_that_no_process_runs_any_more_is_closed_with_why(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    try:
        run_id = history.start_run(store, 1, "cli")
        assert history.close_interrupted_runs(store) == 1
        run = history.get_run(store, run_id)
        assert events.run_summary(run["outcome"], {}, json.loads(run["message"]), "en").startswith("interrupted")
        assert events.run_summary(run["outcome"], {}, json.loads(run["message"]), "nl").startswith("onderbroken")
    finally:
        store.close()
