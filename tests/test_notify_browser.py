"""Notifications in a real browser (issue 22): support gives an account a target on Klanten (a JSON webhook on
loopback), presses "Testbericht sturen" and sees it arrive — the page says so and the receiver got it."""

from __future__ import annotations

from sync.core.targets import parse
from tests import console_helpers as helpers
from tests.browser import after_click, chromium_page, needs_chromium, page_text, wait_idle
from tests.conftest import seed_sandbox
from tests.notify_receivers import json_receiver, wait_for

pytestmark = needs_chromium

HOFSTRA = "hofstra-installatie"


def test_support_sets_a_target_and_sees_the_test_message_arrive(tmp_path):
    seed_sandbox(tmp_path)
    with json_receiver() as hook, helpers.healthy_server(tmp_path) as server, chromium_page() as page:
        page.goto(f"{server.base}/Klanten")
        page.get_by_role("heading", name="Klanten").first.wait_for()
        wait_idle(page)
        box = page.locator(".st-key-account-manage")  # the first account is chosen: Hofstra
        assert "Hofstra" in box.locator("input").first.input_value()
        # A refused address stays in the field, to be corrected (the browser, not the page, empties a form).
        page.locator(".st-key-notify-address input").fill("mailto://user:Geheim@")
        after_click(page, page.get_by_role("button", name="Adres toevoegen"))
        wait_for(lambda: "Apprise kan dit mailto://-adres niet gebruiken" in page_text(page), 30)
        assert page.locator(".st-key-notify-address input").input_value() == "mailto://user:Geheim@"
        page.locator(".st-key-notify-address input").fill(hook.url())
        after_click(page, page.get_by_role("button", name="Adres toevoegen"))
        hinted = parse(hook.url()).hint
        # (page_text: the console breaks bare addresses with invisible word joiners)
        wait_for(lambda: f"Adres {hinted} toegevoegd." in page_text(page), 30)
        assert page.locator(".st-key-notify-address input").input_value() == ""  # saved: emptied
        assert f"{hinted} · taal" in page_text(page)  # shown as it is: no markdown escapes
        after_click(page, page.get_by_role("button", name="Testbericht sturen"))
        wait_for(lambda: f"Testbericht aangekomen bij {hinted} ({HOFSTRA})" in page_text(page), 30)
        wait_for(lambda: len(hook.got) == 1)
        assert hook.got[0].title == "Testbericht van de koppeling Gripp ↔ SnelStart – Hofstra Installatietechniek"
        assert f"/Klanten?account={HOFSTRA}&lang=nl" in hook.got[0].body
