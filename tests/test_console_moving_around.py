"""Moving around the console (issue 24 item 5): the sidebar's account switcher for whoever may see several
accounts, which keeps the page and the language; the event log by who did it, for support."""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from console import runtime
from sync.jobs import linking
from sync.jobs.runner import run_identity
from sync.sandbox.seed import FIRST_ACCOUNT
from sync.store import history
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.test_console_accounts import MARK, sign_in, two_real_accounts, users

__all__ = ["two_real_accounts"]  # the fixture, used here as on the accounts page's tests

HOFSTRA = "hofstra-installatie"


def test_the_account_switcher_keeps_the_page_and_the_language(console: Services) -> None:
    at = helpers.page("koppelen", lang="en", query={"identity": "1"})
    switch = at.selectbox(key="account-switch")
    assert switch.value == FIRST_ACCOUNT
    assert set(switch.options) == {"Studio Noord", "Hofstra Installatietechniek", "Kleimeer Landschapsarchitectuur"}
    at.button(key="fetch-1").click().run()  # an activation started for Studio Noord's identity 1
    assert at.get("link_button")

    at.selectbox(key="account-switch").set_value(HOFSTRA).run()
    helpers.no_exception(at)
    assert at.title[0].value == "Link with SnelStart"  # the same page, in English
    assert "Account: **Hofstra Installatietechniek** (hofstra-installatie)" in helpers.texts(at)
    assert at.query_params["account"] == HOFSTRA and at.query_params["lang"] == "en"
    # Hofstra's identity 1 is another identity: Studio Noord's activation is not offered for it.
    assert not at.get("link_button")
    assert "Hofstra Installatietechniek B.V. (1)" in helpers.choice(at, "selectbox", "link-identity").options


def test_support_chooses_an_account_on_the_accounts_page_and_finance_with_one_has_no_switcher(
        two_real_accounts, monkeypatch) -> None:
    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    app = AppTest.from_file(helpers.APP, default_timeout=60).run()
    sign_in(app, "sanne", "support-pass")
    assert app.title[0].value == "Klanten"
    switch = app.selectbox(key="account-switch")
    assert switch.value is None and switch.options == ["Acme B.V.", "Oude klant"]
    switch.set_value("acme").run()
    helpers.no_exception(app)
    assert app.title[0].value == "Overzicht" and MARK in helpers.texts(app)  # the account's overview opens
    app.selectbox(key="account-switch").set_value("default").run()
    text = helpers.texts(app)
    assert app.title[0].value == "Overzicht" and "Oude Identiteit" in text and MARK not in text

    finance = AppTest.from_file(helpers.APP, default_timeout=60).run()
    sign_in(finance, "femke", "finance-pass")
    helpers.no_exception(finance)
    assert MARK in helpers.texts(finance)
    assert not [box for box in finance.selectbox if box.key == "account-switch"]  # one account: nothing to switch


def test_support_reads_what_one_person_did(console: Services) -> None:
    run_identity(console, 2, trigger="manual", actor="anna")
    linking.change_start_date(console, 1, date(2026, 1, 1), actor="bram")
    at = helpers.page("synchronisatie", lang="en")
    who = helpers.choice(at, "selectbox", "log-who")
    assert who.value is None and who.proto.placeholder == "All"
    assert {"anna", "bram"} <= set(who.options)
    who.set_value("anna").run()
    helpers.no_exception(at)
    log = at.dataframe[1].value
    assert len(log) == len(history.events(console.store, actor="anna")) > 0
    assert "Start date" not in " ".join(log["Kind"])  # bram's change is not anna's
    at.selectbox(key="lang").set_value("nl").run()  # still anna's, in Dutch
    assert helpers.choice(at, "selectbox", "log-who").value == "anna"
    assert len(at.dataframe[1].value) == len(log)


def test_finance_has_no_filter_by_who(two_real_accounts, monkeypatch) -> None:
    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    app = AppTest.from_file(helpers.APP, default_timeout=60).run()
    sign_in(app, "femke", "finance-pass")
    app.switch_page("pages/synchronisatie.py")
    app.run(timeout=60)
    helpers.no_exception(app)
    keys = [str(box.key) for box in app.selectbox]
    assert any(key.startswith("log-kind~") for key in keys) and not any(key.startswith("log-who") for key in keys)


def test_a_link_inside_a_page_carries_the_account_and_the_language_as_the_sidebars_do(console: Services) -> None:
    """A link opened in a new tab shows the same account in the same language, whichever link it is."""
    at = helpers.page("overzicht", lang="en", query={"account": HOFSTRA})
    helpers.no_exception(at)
    inside = [link for link in at.main.get("page_link") if link.proto.page == "Synchronisatie"]
    assert inside, "Hofstra has never run: its card offers the way to a sync"
    for link in inside:
        assert f"account={HOFSTRA}" in link.proto.query_string and "lang=en" in link.proto.query_string
