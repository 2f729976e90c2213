"""Sign-in on a real console, attacked over loopback in a real browser (issue 12, findings 2, 4, 7, 8, 9).

Each test starts `python -m console` on real settings read from its own `.streamlit/secrets.toml`, as an
operator's deployment does, and drives it with Chromium.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from sync.core.events import render
from tests import real_console
from tests.browser import after_click, chromium_page, needs_chromium, page_text, wait_idle
from tests.real_console import PASSWORDS, secrets_toml, users_table

pytestmark = [*needs_chromium, pytest.mark.loopback]

LEAKS = ("Traceback", "Error:", ".py", "/tmp/", "/work/", "site-packages", "bcrypt", "TOMLDecodeError")


def heading(page) -> str:
    wait_idle(page)
    return page.locator("h1").first.inner_text().strip()


def sign_in(page, name: str, password: str, *, welcome: bool = False) -> None:
    """Fill in the form and submit; with `welcome`, wait until the form has gone (the rerun after signing in)."""
    page.get_by_label("Gebruikersnaam").fill(name)
    page.get_by_label("Wachtwoord").fill(password)
    after_click(page, page.get_by_role("button", name="Inloggen"))
    if welcome:
        page.get_by_role("heading", name="Inloggen").wait_for(state="detached")


def assert_no_leak(text: str) -> None:
    found = [leak for leak in LEAKS if leak in text]
    assert not found, (found, text)


@pytest.fixture
def console(tmp_path: Path):
    with real_console.start(tmp_path, secrets_toml(users=users_table())) as server:
        yield server


def test_the_deep_link_from_snelstart_lands_on_koppelen_after_signing_in(console) -> None:
    with chromium_page() as page:
        page.goto(console.base + "/Koppelen?identity=3&ref=abc123")
        assert heading(page) == "Inloggen"
        sign_in(page, "sanne", PASSWORDS["sanne"], welcome=True)
        assert heading(page) == "Koppelen met SnelStart"
        address = urlsplit(page.url)
        assert address.path == "/Koppelen", page.url
        assert {k: v for k, v in parse_qsl(address.query)}.items() >= {"identity": "3", "ref": "abc123"}.items()


def test_a_user_removed_from_secrets_loses_the_open_session(console, tmp_path: Path) -> None:
    with chromium_page() as page:
        page.goto(console.base + "/")
        sign_in(page, "sanne", PASSWORDS["sanne"], welcome=True)
        assert heading(page) == "Overzicht"
        real_console.deployment(tmp_path, secrets_toml(users=users_table(("femke",))))  # sanne is gone
        after_click(page, page.get_by_role("link", name="Openstaande posten"))
        assert heading(page) == "Inloggen"
        assert "Je bent uitgelogd" in page_text(page)


def test_thirty_wrong_passwords_then_the_right_one_is_refused_and_audited(console) -> None:
    with chromium_page() as page:
        page.goto(console.base + "/")
        assert heading(page) == "Inloggen"
        # Thirty tries as fast as the form allows: how many are counted (rather than told to wait) depends on the
        # machine's speed, so after them the bot waits out each throttle until the lock comes (at most 1+2+4 s).
        for attempt in range(30):
            sign_in(page, "sanne", f"wrong-{attempt}")
        for attempt in range(30, 40):
            if "Te veel mislukte pogingen" in page_text(page):
                break
            wait = re.search(r"over (een|\d+) seconden? opnieuw", page_text(page))
            if wait:
                page.wait_for_timeout(1000 * (1 if wait[1] == "een" else int(wait[1])) + 200)
            sign_in(page, "sanne", f"wrong-{attempt}")
        sign_in(page, "sanne", PASSWORDS["sanne"])
        assert heading(page) == "Inloggen"
        assert "Te veel mislukte pogingen" in page_text(page)
    console.stop()
    from sync.store import history
    from sync.store.db import Store

    store = Store(Path(console.log_path).parent / "sync.duckdb")
    try:
        failed = history.events(store, kind="sign_in_failed")
        locked = history.events(store, kind="sign_in_locked")
        signed_in = history.events(store, kind="signed_in")
    finally:
        store.close()
    assert len(failed) >= 5 and all(render(e, "en").startswith("Failed sign-in as ‘sanne’ from") for e in failed)
    assert [render(e, "en") for e in locked] == ["Too many failed attempts: signing in as ‘sanne’ is locked for a "
                                                 "while."]
    assert signed_in == []


@pytest.mark.parametrize("name", ["sanne", "nobody"])
def test_a_password_over_72_bytes_gets_the_same_quiet_answer_for_any_name(console, name: str) -> None:
    with chromium_page() as page:
        page.goto(console.base + "/")
        sign_in(page, name, "lang-wachtwoord-" * 8)  # 128 bytes
        text = page_text(page)
        assert heading(page) == "Inloggen"
        assert "Gebruikersnaam of wachtwoord klopt niet." in text
        assert_no_leak(text)


@pytest.mark.parametrize("how", ["emptied", "removed"])
def test_secrets_emptied_or_removed_while_running_keep_the_real_console_closed(console, tmp_path: Path,
                                                                               how: str) -> None:
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    if how == "emptied":
        secrets.write_text("", encoding="utf-8")
    else:
        secrets.unlink()
    with chromium_page() as page:
        page.goto(console.base + "/Koppelen")
        assert heading(page) == "Inloggen"
        text = page_text(page)
        assert "Sandbox" not in text and "SANDBOX" not in text
        assert page.get_by_role("link", name="Koppelen").count() == 0


def test_a_malformed_secrets_file_while_running_is_one_plain_sentence(console, tmp_path: Path) -> None:
    (tmp_path / ".streamlit" / "secrets.toml").write_text('[users.sanne\npassword_hash = "x', encoding="utf-8")
    with chromium_page() as page:
        page.goto(console.base + "/")
        assert heading(page) == "Inloggen"
        text = page_text(page)
        assert "Inloggen is nu niet mogelijk" in text
        assert_no_leak(text)
    assert "secrets.toml" in console.log()  # the operator finds the reason in the server log
