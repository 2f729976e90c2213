"""Delivering notifications (sync/jobs/deliver.py): to a real SMTP server and a real JSON webhook on loopback, read
back and their words checked in Dutch and English; retried with backoff across a restart and shown when a target
keeps failing; a target that hangs never holds a command; `notify test` sends exactly one to each target; the
daily digest; setting targets keeps the sandbox a sandbox and never shows an address whole. A problem is put in the
deployment's ledger as the watcher does (`NoticeLedger.reconcile`), or found by a real run (Hofstra's)."""

from __future__ import annotations

import json
import re
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sync.cli import EXIT_FAILED, EXIT_OK, main
from sync.cli.accounts import overview_words
from sync.core.clock import RunningClock
from sync.core.config import ConfigError, load_settings
from sync.core.dates import AMSTERDAM
from sync.core.notices import NoticeKind
from sync.core.targets import parse
from sync.core.words import say
from sync.jobs import accounts, deliver
from sync.sandbox.sandbox import Sandbox
from sync.store.db import Store
from sync.store.notices import Problem
from sync.wiring import Deployment
from tests.conftest import CONSOLE_URL
from tests.notify_receivers import json_receiver, mail_url, smtp_server, wait_for

HOFSTRA = "hofstra-installatie"
HOFSTRA_NAME = "Hofstra Installatietechniek"  # the account's name
IDENTITY = "Hofstra Installatietechniek B.V."  # its identity, as Gripp names it


def open_deployment(folder: Path, sandbox: Sandbox, **settings: str) -> Deployment:
    return Deployment(load_settings({"SYNC_DB_PATH": str(folder / "sync.duckdb"), "CONSOLE_PUBLIC_URL": CONSOLE_URL,
                                     **settings}), sandbox=sandbox, sleep=lambda seconds: None)


@pytest.fixture
def clock(world) -> RunningClock:
    return RunningClock(datetime(2026, 11, 28, 12, 0, tzinfo=AMSTERDAM))


def catalog_store(deployment: Deployment) -> Store:
    return deployment.catalog._store  # what the deliveries recorded, read as it is


def announce(deployment: Deployment, *, over: bool = False) -> None:
    """Hofstra's refused link found (or, `over`, no longer found), as the watcher reconciles it with the ledger."""
    found = [] if over else [Problem(NoticeKind.LINK_REFUSED, 1, values={
        "account": HOFSTRA, "account_name": HOFSTRA_NAME, "identity_id": 1, "identity_name": IDENTITY,
        "administration_name": "Hofstra Installatietechniek B.V.", "since": "2026-11-28T12:00:00+01:00"})]
    deployment.catalog.notices().reconcile(HOFSTRA, found)


def test_email_and_webhook_say_it_in_their_language_once(tmp_path, sandbox):
    with smtp_server() as (mailbox, port), json_receiver() as hook:
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=f"{mail_url(port)},{hook.url('en')}")
        try:
            announce(deployment)
            done = deliver.deliver_due(deployment, wait=15)
            assert (done.sent, done.failed) == (2, 0)
            (mail,), (posted,) = mailbox.got, hook.got
            assert mail.title == f"{HOFSTRA_NAME}: koppeling met SnelStart verbroken ({IDENTITY})"
            assert f"SnelStart weigert sinds 28-11-2026 12:00 de koppelsleutel van {IDENTITY}" in mail.body
            assert "Maak de koppeling opnieuw: Koppelen" in mail.body
            assert f"{CONSOLE_URL}/Koppelen?account={HOFSTRA}&identity=1&lang=nl" in mail.body
            assert posted.title == f"{HOFSTRA_NAME}: link with SnelStart broken ({IDENTITY})"
            assert f"Since 28/11/2026 12:00 SnelStart refuses the koppelsleutel of {IDENTITY}" in posted.body
            assert "Make the link again: Linking" in posted.body
            assert f"{CONSOLE_URL}/Koppelen?account={HOFSTRA}&identity=1&lang=en" in posted.body
            for got in (mail, posted):  # never a key, token or password
                assert "koppelsleutel-" not in got.body and "sandbox-gripp-token" not in got.body

            assert deliver.deliver_due(deployment, wait=15).sent == 0  # said once
            assert (len(mailbox.got), len(hook.got)) == (1, 1)

            announce(deployment, over=True)
            assert deliver.deliver_due(deployment, wait=15).sent == 2
            assert mailbox.got[1].title == f"Opgelost – {HOFSTRA_NAME}: koppeling met SnelStart verbroken ({IDENTITY})"
            assert f"Opgelost: SnelStart accepteert de koppelsleutel van {IDENTITY}" in mailbox.got[1].body
            assert hook.got[1].title.startswith(f"Resolved – {HOFSTRA_NAME}")
            # Nothing to fix any more: the link only opens the console.
            assert f"Open de console: {CONSOLE_URL}/Koppelen?" in mailbox.got[1].body
            assert "Oplossen" not in mailbox.got[1].body and "Open the console: " in hook.got[1].body
        finally:
            deployment.close()


def test_a_message_goes_to_its_account_and_the_support_team_only(tmp_path, sandbox):
    with json_receiver() as team, json_receiver() as hofstra, json_receiver() as noord:
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=team.url())
        try:
            deliver.add_target(deployment, HOFSTRA, hofstra.url(), actor="support")
            deliver.add_target(deployment, "studio-noord", noord.url("en"), actor="support")
            announce(deployment)
            assert deliver.deliver_due(deployment, wait=15).sent == 2
            assert (len(team.got), len(hofstra.got), len(noord.got)) == (1, 1, 0)
            # A target added later does not receive the past.
            with json_receiver() as later:
                deliver.add_target(deployment, HOFSTRA, later.url(), actor="support")
                assert deliver.deliver_due(deployment, wait=15).sent == 0
                assert later.got == []
        finally:
            deployment.close()


def test_a_failing_target_is_retried_with_backoff_shown_and_survives_a_restart(tmp_path, sandbox, clock):
    with json_receiver() as hook:
        hook.mode = "fail"
        deployment = open_deployment(tmp_path, sandbox)
        try:
            target = deliver.add_target(deployment, HOFSTRA, hook.url(), actor="support")
            announce(deployment)
            assert deliver.deliver_due(deployment, wait=15).failed == 1
            assert deliver.deliver_due(deployment, wait=15).failed == 0  # not again before its pause is over
            assert hook.hits == 1
            clock.advance(deliver.BACKOFF[0].total_seconds() + 1)
            assert deliver.deliver_due(deployment, wait=15).failed == 1
            assert hook.hits == 2
            health = {h.account_key: h for h in deployment.catalog.health()}
            assert health[HOFSTRA].undelivered == 0  # two failures: not yet "keeps failing"
        finally:
            deployment.close()

        deployment = open_deployment(tmp_path, sandbox)  # a restart keeps the attempts and the pause
        try:
            assert deliver.deliver_due(deployment, wait=15).failed == 0
            clock.advance(deliver.BACKOFF[1].total_seconds() + 1)
            assert deliver.deliver_due(deployment, wait=15).failed == 1
            assert hook.hits == 3
            row = next(r for r in accounts.overview(deployment, "cli") if r.key == HOFSTRA)
            assert row.health.undelivered == 1
            assert "1 meldingsadres bereikt niemand" in overview_words(row, "nl")
            (view,) = deliver.targets_view(deployment, HOFSTRA, "support")
            assert view.failing and view.last_error == "refused" and view.key == target.key

            hook.mode = "ok"  # it works again: the next attempt arrives and the target is fine
            clock.advance(deliver.BACKOFF[2].total_seconds() + 1)
            assert deliver.deliver_due(deployment, wait=15).sent == 1
            assert len(hook.got) == 1
            assert {h.account_key: h for h in deployment.catalog.health()}[HOFSTRA].undelivered == 0
            assert ("hofstra-installatie", "sent", 1) in deployment.catalog.deliveries().by_outcome()
        finally:
            deployment.close()


def test_a_support_target_that_keeps_failing_shows_in_accounts_list(cli_env, capsys, monkeypatch):
    with json_receiver() as hook:
        hook.mode = "fail"
        monkeypatch.setenv("SYNC_NOTIFY_URLS", hook.url())
        for _ in range(3):
            assert main(["notify", "test"]) == EXIT_FAILED
        capsys.readouterr()
        assert main(["accounts", "list"]) == EXIT_OK
        shown = capsys.readouterr().out
        assert f"Meldingen komen niet aan bij het supportteam via json://127.0.0.1:{hook.port}" in shown


def test_a_support_target_taken_out_of_the_setting_is_gone_not_failing(tmp_path, sandbox, clock):
    """The console restarted without one of SYNC_NOTIFY_URLS: it no longer shows as failing anywhere, and what it
    had not received (waiting out its pause) is dropped, not left due."""
    with json_receiver() as kept, json_receiver() as removed:
        removed.mode = "fail"
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=f"{kept.url()},{removed.url()}")
        try:
            for _ in range(deliver.FAILING_AFTER):
                deliver.send_test(deployment, None, actor="support")
            announce(deployment)
            assert deliver.deliver_due(deployment, wait=15).failed == 1  # due again after its pause
            assert len(deliver.failing_targets(deployment)) == 1
        finally:
            deployment.close()
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=kept.url())
        try:
            assert deliver.failing_targets(deployment) == []  # at once, before any round
            deliver.deliver_due(deployment, wait=15)
            rows = catalog_store(deployment).rows(
                "SELECT d.state FROM deliveries d JOIN messages m USING (message_id) WHERE m.said <> 'test' "
                "AND d.last_error IS NOT NULL")
            assert rows == [{"state": "dropped"}]
            assert [s.target_key for s in deployment.catalog.deliveries().states()] == [
                deliver.deployment_targets(deployment)[0].key]
        finally:
            deployment.close()


def test_a_hanging_target_never_holds_the_command(cli_env, capsys, monkeypatch):
    """The producing run ends as fast as ever; the command waits a bounded time after it, then leaves the
    delivery due for later (the target answers within 30 s only)."""
    with json_receiver() as hook:
        hook.mode, hook.hang = "hang", 30.0
        monkeypatch.setenv("SYNC_NOTIFY_URLS", hook.url())
        monkeypatch.setattr(deliver, "AT_EXIT_WAIT", 1.0)
        began = time.monotonic()
        main(["--account", HOFSTRA, "run"])
        took = time.monotonic() - began
        assert hook.hits == 1 and took < 8  # the run and 1 s of waiting, not 30 s of hanging (nor Apprise's 10)
        deployment = Deployment(load_settings())
        try:
            run = catalog_store(deployment)  # the delivery: tried once, "timeout", due again after a pause
            (row,) = run.rows("SELECT state, attempts, last_error FROM deliveries")
            assert row == {"state": "due", "attempts": 1, "last_error": "timeout"}
        finally:
            deployment.close()


def test_a_receiver_that_never_answers_did_not_answer_in_time(cli_env, capsys, monkeypatch):
    """A socket that takes the connection and never says a word: not "refused" but "did not answer in time"."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing is ever read or answered
        url = f"json://127.0.0.1:{silent.getsockname()[1]}/hook?rto=1"  # Apprise's read timeout, 1 s
        assert deliver.send(url, "title", "body") == (False, "timeout")
        monkeypatch.setenv("SYNC_NOTIFY_URLS", url)
        assert main(["notify", "test"]) == EXIT_FAILED
        out = capsys.readouterr().out
        assert "het adres antwoordde niet op tijd" in out and "weigerde" not in out
    with json_receiver() as hook:  # an error status, at once: refused
        hook.mode = "fail"
        assert deliver.send(hook.url(), "title", "body") == (False, "refused")


def test_hofstra_run_delivers_its_message_once(cli_env, capsys, monkeypatch):
    with json_receiver() as hook:
        monkeypatch.setenv("SYNC_NOTIFY_URLS", hook.url())
        main(["--account", HOFSTRA, "run"])  # its koppelsleutel was revoked in SnelStart: the run finds it
        assert len(hook.got) == 1
        assert hook.got[0].title == f"{HOFSTRA_NAME}: koppeling met SnelStart verbroken ({IDENTITY})"
        assert "Maak de koppeling opnieuw" in hook.got[0].body
        main(["--account", HOFSTRA, "run"])
        assert len(hook.got) == 1  # nothing new
        capsys.readouterr()
        assert main(["status"]) == EXIT_OK
        assert "SANDBOX" in capsys.readouterr().err  # targets set: still the sandbox


def test_notify_test_sends_exactly_one_to_each_target(cli_env, capsys, monkeypatch):
    with json_receiver() as team, json_receiver() as hofstra, smtp_server() as (mailbox, port):
        monkeypatch.setenv("SYNC_NOTIFY_URLS", f"{team.url()},{mail_url(port, 'en')}")
        deployment = Deployment(load_settings())
        try:
            deliver.add_target(deployment, HOFSTRA, hofstra.url(), actor="support")
        finally:
            deployment.close()
        capsys.readouterr()
        assert main(["notify", "test"]) == EXIT_OK
        said = capsys.readouterr()
        assert (len(team.got), len(hofstra.got), len(mailbox.got)) == (1, 1, 1)
        assert said.out.count("aangekomen") == 3 and "NIET" not in said.out
        assert f"json://127.0.0.1:{team.port}" in said.out and "supportteam" in said.out and HOFSTRA in said.out
        assert "Testbericht" in team.got[0].title and "Test message" in mailbox.got[0].title
        # The support team's targets hear every account: said so, not "this customer" nor "the link".
        assert team.got[0].title.endswith("– supportteam") and "alle klanten komen hier aan" in team.got[0].body
        assert "deze klant" not in team.got[0].body and "Oplossen" not in team.got[0].body
        assert f"Open de console: {CONSOLE_URL}/Klanten?lang=nl" in team.got[0].body
        assert "meldingen over deze klant komen hier aan" in hofstra.got[0].body
        assert f"Open de console: {CONSOLE_URL}/Klanten?account={HOFSTRA}&lang=nl" in hofstra.got[0].body
        assert "SANDBOX" in said.err

        assert main(["--lang", "en", "notify", "test", "--account", "studio-noord"]) == EXIT_OK
        assert (len(team.got), len(hofstra.got), len(mailbox.got)) == (2, 1, 2)  # not Hofstra's own target
        assert capsys.readouterr().out.count("arrived") == 2

        hofstra.mode = "fail"
        assert main(["notify", "test", "--account", HOFSTRA]) == EXIT_FAILED
        out = capsys.readouterr().out
        assert "NIET aangekomen" in out and "het adres weigerde het bericht" in out
        wait_for(lambda: len(team.got) == 3)
        deployment = Deployment(load_settings())
        try:
            assert deliver.deliver_due(deployment, wait=5).failed == 0  # a test is tried once: its answer is wanted now
        finally:
            deployment.close()


def test_no_targets_at_all_is_said(cli_env, capsys):
    assert main(["notify", "test"]) == EXIT_FAILED
    assert "SYNC_NOTIFY_URLS" in capsys.readouterr().err


def test_the_daily_digest_at_its_hour_once_and_not_when_all_is_well(tmp_path, sandbox, clock):
    with json_receiver() as hook:
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=hook.url(), SYNC_NOTIFY_DIGEST_HOUR="13")
        try:
            announce(deployment)
            deliver.deliver_due(deployment, wait=15)
            assert deliver.digest_due(deployment) == 0  # 12:00: before its hour
            clock.advance(timedelta(hours=1, minutes=5).total_seconds())
            assert deliver.digest_due(deployment) == 1
            assert deliver.digest_due(deployment) == 0  # once a day
            deliver.deliver_due(deployment, wait=15)
            digest = hook.got[-1]
            assert digest.title == "Dagelijks overzicht: 1 probleem staat nog open"
            assert f"{HOFSTRA_NAME}:" in digest.body and "(sinds 28-11-2026)" in digest.body
            assert f"{CONSOLE_URL}/Klanten?account={HOFSTRA}&lang=nl" in digest.body

            announce(deployment, over=True)
            deliver.deliver_due(deployment, wait=15)
            clock.advance(timedelta(days=1).total_seconds())
            assert deliver.digest_due(deployment) == 0  # all is well: nothing, unless asked for
        finally:
            deployment.close()
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=hook.url(), SYNC_NOTIFY_DIGEST_HOUR="13",
                                     SYNC_NOTIFY_DIGEST_ALWAYS="ja")
        try:
            assert deliver.digest_due(deployment) == 1
            deliver.deliver_due(deployment, wait=15)
            assert hook.got[-1].title == "Dagelijks overzicht: alles in orde"
        finally:
            deployment.close()


def test_the_digest_counts_waiting_invoices_per_identity_since_the_oldest(tmp_path, sandbox, clock):
    """Each waiting invoice is a problem of its own; the digest says them as one line with their count."""
    noord = {"account": "studio-noord", "account_name": "Studio Noord", "identity_id": 7,
             "identity_name": "Studio Noord B.V."}

    def waiting(numbers: range) -> list[Problem]:
        return [Problem(NoticeKind.WAITING_FOR_PERSON, 7, subject=f"invoice:{number}",
                        values={**noord, "number": str(number), "since": "2026-11-27T09:00:00+01:00"})
                for number in numbers]

    with json_receiver() as hook:
        deployment = open_deployment(tmp_path, sandbox, SYNC_NOTIFY_URLS=hook.url(), SYNC_NOTIFY_DIGEST_HOUR="8")
        try:
            deployment.catalog.notices().reconcile("studio-noord", waiting(range(260001, 260003)))
            clock.advance(timedelta(days=1).total_seconds())
            deployment.catalog.notices().reconcile("studio-noord", waiting(range(260001, 260008)))
            announce(deployment)
            deliver.deliver_due(deployment, wait=15)
            assert deliver.digest_due(deployment) == 1
            deliver.deliver_due(deployment, wait=15)
            digest = hook.got[-1]
            assert digest.title == "Dagelijks overzicht: 2 problemen staan nog open"
            assert "Studio Noord: 7 facturen wachten op u (Studio Noord B.V.) (sinds 28-11-2026)" in digest.body
            assert digest.body.count("wacht") == 1
            assert f"{HOFSTRA_NAME}: koppeling met SnelStart verbroken ({IDENTITY}) (sinds 29-11-2026)" in digest.body
        finally:
            deployment.close()


def test_targets_are_kept_encrypted_shown_by_hint_and_keep_the_sandbox(tmp_path, sandbox):
    secret = "mailtos://finance:Geheim-Wachtwoord-42@smtp.example.nl?to=f@hofstra.nl&lang=en"
    written = parse(secret)
    assert written.lang == "en" and re.fullmatch(r"mailtos://smtp\.example\.nl \[[0-9a-f]{4}\]", written.hint)
    other = parse("mailtos://support:Geheim-Wachtwoord-42@smtp.example.nl?to=s@hofstra.nl")
    assert other.hint != written.hint and other.hint.startswith("mailtos://smtp.example.nl [")  # told apart
    assert "lang=" not in written.url and written.url.startswith("mailtos://finance:Geheim")
    assert re.fullmatch(r"slack://… \[[0-9a-f]{4}\]", parse("slack://TokenA/TokenB/TokenC/#finance").hint)
    assert parse("json://hooks.example.nl/x?lang=en&a=1").url == "json://hooks.example.nl/x?a=1"

    settings = load_settings({"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"), "SYNC_NOTIFY_URLS": secret})
    assert settings.sandbox and "Geheim" not in repr(settings)
    with pytest.raises(ConfigError) as refused:
        load_settings({"SYNC_NOTIFY_URLS": f"{secret}, https://user:Geheim-2@example.nl/hook"})
    assert "melding-adres 2" in refused.value.lines("nl")[0] and "Geheim" not in str(refused.value)

    deployment = open_deployment(tmp_path, sandbox)
    try:
        view = deliver.add_target(deployment, HOFSTRA, secret, actor="support")
        assert view.hint == written.hint and view.lang == "en"
        with pytest.raises(deliver.NotifyError):
            deliver.add_target(deployment, HOFSTRA, secret, actor="support")  # known already
        with pytest.raises(deliver.NotifyError):
            deliver.add_target(deployment, HOFSTRA, "ftp://example.nl", actor="support")
        stored = catalog_store(deployment).rows("SELECT * FROM notify_targets")
        assert len(stored) == 1 and "Geheim" not in json.dumps(stored, default=str)
        assert deployment.settings.sandbox
        assert deliver.remove_target(deployment, HOFSTRA, view.key, actor="support")
        assert deliver.targets_view(deployment, HOFSTRA, "support") == []
    finally:
        deployment.close()


@pytest.mark.parametrize("address", ["mailto://user:Geheim@", "json://127.0.0.1:99999/x"])
def test_the_setting_and_klanten_check_an_address_alike(tmp_path, sandbox, address):
    """Apprise's own reading and the port's range, at start-up as on Klanten; named by its place, never repeated."""
    with pytest.raises(ConfigError) as refused:
        load_settings({"SYNC_NOTIFY_URLS": f"json://127.0.0.1:9/ok, {address}"})
    said = refused.value.lines("nl")[0]
    assert "melding-adres 2" in said and "Geheim" not in str(refused.value) and "99999" not in said
    deployment = open_deployment(tmp_path, sandbox)
    try:
        with pytest.raises(deliver.NotifyError) as wrong:
            deliver.add_target(deployment, HOFSTRA, address, actor="support")
        assert wrong.value.code == "invalid"
        assert say(wrong.value.message, "nl") == refused.value.lines("nl")[0].partition("melding-adres 2: ")[2]
    finally:
        deployment.close()


def test_finance_cannot_set_targets(tmp_path, sandbox):
    from sync.auth.access import Actor, NotAllowed

    deployment = open_deployment(tmp_path, sandbox)
    try:
        with pytest.raises(NotAllowed):
            deliver.add_target(deployment, HOFSTRA, "json://127.0.0.1:1/x", actor=Actor("femke", "finance"))
        with pytest.raises(NotAllowed):
            deliver.send_test(deployment, HOFSTRA, actor=Actor("femke", "finance"))
    finally:
        deployment.close()


def test_support_sets_a_target_on_klanten_and_sends_a_test_message(console):
    from streamlit.testing.v1 import AppTest

    from tests import console_helpers as helpers

    with json_receiver() as hook:
        at = AppTest.from_file(helpers.APP, default_timeout=helpers.TIMEOUT)
        at.run()
        at.switch_page("pages/klanten.py")
        at.run()
        helpers.no_exception(at)
        at.selectbox(key="account-manage").select(HOFSTRA)
        at.run()
        at.text_input(key="notify-address").input(hook.url("en"))
        next(b for b in at.button if b.label == "Adres toevoegen").click()
        at.run()
        helpers.no_exception(at)
        shown = helpers.texts(at)
        assert f"json://127.0.0.1:{hook.port}" in shown and "taal: en" in shown
        assert str(hook.port) + "/hook" not in shown  # the hint, never the address
        hinted = parse(hook.url("en")).hint  # shown as it is, in a code span: no markdown escapes in it
        assert any(f"`{hinted}` · " in e.value for e in at.markdown) and "\\" not in hinted
        next(b for b in at.button if b.label == "Testbericht sturen").click()
        at.run()
        assert any(f"Testbericht aangekomen bij {hinted} (hofstra-installatie)"
                   in helpers.plain(e.value) for e in at.success)
        (got,) = hook.got
        assert got.title == f"Test message from the Gripp ↔ SnelStart link – {HOFSTRA_NAME}"

        hook.mode = "fail"
        for _ in range(deliver.FAILING_AFTER):
            next(b for b in at.button if b.label == "Testbericht sturen").click()
            at.run()
        assert any("het adres weigerde het bericht" in helpers.plain(e.value) for e in at.error)
        at.run()
        assert "meldingen komen niet aan" in helpers.texts(at)  # on the account's row and at its target


def test_klanten_marks_a_target_whose_test_did_not_arrive(console):
    from streamlit.testing.v1 import AppTest

    from tests import console_helpers as helpers

    with json_receiver() as ok, json_receiver() as refusing:
        refusing.mode = "fail"
        at = AppTest.from_file(helpers.APP, default_timeout=helpers.TIMEOUT)
        at.run()
        at.switch_page("pages/klanten.py")
        at.run()
        at.selectbox(key="account-manage").select(HOFSTRA)
        at.run()
        for url in (ok.url(), refusing.url()):
            at.text_input(key="notify-address").input(url)
            next(b for b in at.button if b.label == "Adres toevoegen").click()
            at.run()
            assert at.text_input(key="notify-address").value == ""  # saved: emptied
        next(b for b in at.button if b.label == "Testbericht sturen").click()
        at.run()
        at.run()
        lines = {line.partition("`")[2].partition("`")[0]: line for line in (e.value for e in at.markdown)
                 if line.startswith("`json://")}
        assert ":green[:material/check_circle:]" in lines[parse(ok.url()).hint]
        refused = lines[parse(refusing.url()).hint]
        assert ":red[:material/error:]" in refused and "het adres weigerde het bericht" in refused


def test_the_console_sends_from_its_scheduler_apart_from_the_syncs(console):
    from console import runtime

    scheduler = runtime.scheduler()
    assert scheduler is not None
    job = scheduler._scheduler.get_job("notify-deliver")  # APScheduler's own job, not a sync (jobs() lists syncs)
    assert job is not None and job.trigger.interval.total_seconds() == deliver.INTERVAL_SECONDS
    assert "notify-deliver" not in scheduler.jobs()
