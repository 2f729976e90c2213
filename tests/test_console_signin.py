"""Sign-in on real data: configured users with hashed passwords; finance sees no linking or checks pages, and
the use cases refuse what the role may not do whatever the page offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sync.auth.users import hash_password
from tests.clocks import HandClock

APP = str(Path(__file__).resolve().parents[1] / "console" / "app.py")


@pytest.fixture
def real_mode(tmp_path, monkeypatch):
    """Settings that are not the sandbox (the services are never called before sign-in)."""
    monkeypatch.setenv("SYNC_DB_PATH", str(tmp_path / "sync.duckdb"))
    monkeypatch.setenv("GRIPP_API_TOKEN", "not-used-in-this-test")
    monkeypatch.setenv("SNELSTART_SUBSCRIPTION_KEY", "not-used-in-this-test")
    monkeypatch.setenv("SYNC_SECRET_KEY", "a passphrase for the test vault")
    from console import runtime

    runtime.stop()
    yield
    runtime.stop()


def users():
    return {"users": {"femke": {"password_hash": hash_password("finance-pass"), "role": "finance"},
                      "sanne": {"password_hash": hash_password("support-pass"), "role": "support"}}}


def sign_in(app: AppTest, name: str, password: str) -> AppTest:
    app.text_input[0].input(name)
    app.text_input[1].input(password)
    app.button[0].click()
    return app.run(timeout=60)


def test_real_data_asks_who_you_are_and_refuses_a_wrong_password(real_mode, monkeypatch):
    from console import runtime

    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Inloggen" in title.value for title in app.title)
    # a password manager fills in the saved password, rather than offering to make a new one
    assert [field.proto.autocomplete for field in app.text_input] == ["username", "current-password"]
    sign_in(app, "femke", "wrong")
    assert any("klopt niet" in error.value for error in app.error)


def test_finance_signs_in_and_does_not_see_linking_or_checks(real_mode, monkeypatch):
    from console import runtime

    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    app = AppTest.from_file(APP, default_timeout=60).run()
    sign_in(app, "femke", "finance-pass")
    state = app.session_state["actor"]
    assert state.name == "femke" and state.role == "finance"
    assert not state.can("link")
    sidebar = " ".join(c.value for c in app.sidebar.caption)
    assert "femke" in sidebar and "Financiële administratie" in sidebar


def test_a_changed_role_or_password_ends_the_session_at_the_next_rerun(real_mode, monkeypatch):
    from console import runtime

    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    app = AppTest.from_file(APP, default_timeout=60).run()
    sign_in(app, "femke", "finance-pass")
    assert app.session_state["actor"].role == "finance"
    table["users"]["femke"]["role"] = "support"  # an administrator changes secrets.toml
    app.run(timeout=60)
    assert any("Inloggen" in title.value for title in app.title)
    assert any("Je bent uitgelogd" in info.value for info in app.info)

    sign_in(app, "femke", "finance-pass")
    assert app.session_state["actor"].role == "support"
    table["users"]["femke"]["password_hash"] = hash_password("a new password")
    app.run(timeout=60)
    assert any("Inloggen" in title.value for title in app.title)


class OidcUser(dict):
    """What `st.user` holds after a provider signed someone in."""

    is_logged_in = True


def test_oidc_users_get_a_role_only_when_it_is_configured(real_mode, monkeypatch):
    import streamlit as st

    from console import runtime

    secrets = {"auth": {"client_id": "console", "server_metadata_url": "https://id.example/.well-known"},
               "roles": {"sanne@example.nl": "support"}}
    monkeypatch.setattr(runtime, "read_secrets", lambda: secrets)
    monkeypatch.setattr(st, "user", OidcUser(email="stranger@example.nl", name="Stranger"))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert "actor" not in app.session_state
    assert any("geen rol" in error.value for error in app.error)
    assert not any("Overzicht" in title.value for title in app.title)

    monkeypatch.setattr(st, "user", OidcUser(email="sanne@example.nl", name="Sanne"))
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert app.session_state["actor"].name == "sanne@example.nl" and app.session_state["actor"].role == "support"


def test_visitors_whose_address_is_unknown_do_not_share_one_lock(real_mode, monkeypatch):
    """No address is known here (as over loopback without a named proxy): twenty failures in one browser session
    lock that session, not every visitor whose address is unknown."""
    from console import runtime
    from sync.auth.lockout import CLIENT_LIMITS, SignInGuard

    table = users()
    monkeypatch.setattr(runtime, "read_secrets", lambda: table)
    clock = HandClock(1_000_000.0)
    guard = SignInGuard(clock)
    monkeypatch.setattr(runtime, "sign_in_guard", lambda: guard)
    attacker = AppTest.from_file(APP, default_timeout=60).run()
    for n in range(CLIENT_LIMITS.limit):
        if n:  # wait out the session's throttle (1 s, 2 s, 4 s … 60 s: all twenty within the window)
            bucket = "session:" + attacker.session_state["signin-visitor"]
            refusal = guard.refusal(f"name-{n}", bucket)
            assert refusal is None or not refusal.locked
            clock.now += refusal.seconds if refusal else 0
        sign_in(attacker, f"name-{n}", "guess")
    sign_in(attacker, "sanne", "support-pass")
    assert "actor" not in attacker.session_state
    assert any("Te veel mislukte pogingen" in error.value for error in attacker.error)

    visitor = AppTest.from_file(APP, default_timeout=60).run()  # another browser, its address unknown too
    sign_in(visitor, "sanne", "support-pass")
    assert visitor.session_state["actor"].name == "sanne"
