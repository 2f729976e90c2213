"""Sign-in on a real console, attacked over loopback in a real browser (issue 12, findings 2, 4, 7, 8, 9).

Each test starts `python -m console` on real settings read from its own `.streamlit/secrets.toml`, as an
operator's deployment does, and drives it with Chromium.
"""

from __future__ import annotations

import json
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


FORGED, FORWARDED = "203.0.113.7", "203.0.113.9"


def _until_locked(page, name: str) -> None:
    """Wrong passwords (waiting out the throttle) until the name is locked."""
    for attempt in range(60):
        sign_in(page, name, f"wrong-{attempt}")
        if "Te veel mislukte pogingen" in page_text(page):
            return
    raise AssertionError("never locked")


def _data(event: dict) -> dict:
    return json.loads(event["detail_json"] or "{}")


def _sign_in_events(folder: Path) -> list[dict]:
    from sync.store import history
    from sync.store.db import Store

    store = Store(folder / "sync.duckdb")
    try:
        return [*history.events(store, kind="sign_in_failed"), *history.events(store, kind="sign_in_locked")]
    finally:
        store.close()


def test_a_forged_forwarded_for_is_not_believed_and_a_lockout_survives_a_restart(tmp_path: Path) -> None:
    """Over loopback with no proxy named, X-Forwarded-For is the visitor's own say-so: not the address that counts
    or is logged. The lock lives in the catalog: a restarted console still refuses. With the proxy named
    (SYNC_TRUSTED_PROXIES), the address it forwards for is the client's."""
    with real_console.start(tmp_path, secrets_toml(users=users_table())) as server, \
            chromium_page(extra_http_headers={"X-Forwarded-For": FORGED}) as page:
        page.goto(server.base + "/")
        assert heading(page) == "Inloggen"
        _until_locked(page, "sanne")
    before = _sign_in_events(tmp_path)
    assert before and all(_data(e).get("client") is None for e in before), before
    assert all(FORGED not in render(e, "en") and "unknown address" in render(e, "en") for e in before
               if _data(e).get("locked") != "user")

    trusting = {**real_console.REAL_SETTINGS, "SYNC_TRUSTED_PROXIES": "127.0.0.1, ::1"}
    with real_console.start(tmp_path, secrets_toml(trusting, users=users_table())) as server, \
            chromium_page(extra_http_headers={"X-Forwarded-For": f"{FORGED}, {FORWARDED}"}) as page:
        page.goto(server.base + "/")
        sign_in(page, "sanne", PASSWORDS["sanne"])
        assert heading(page) == "Inloggen"  # still locked after the restart
        assert "Te veel mislukte pogingen" in page_text(page)
        sign_in(page, "femke", "wrong")
    femke = [data for data in map(_data, _sign_in_events(tmp_path)) if data.get("name") == "femke"]
    assert [data.get("client") for data in femke] == [FORWARDED]  # what the proxy added last, not the forged first
