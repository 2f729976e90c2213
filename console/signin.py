"""Who is using the console. Sandbox mode runs without sign-in (and says so). On real data: Streamlit's
`st.login` when an OIDC provider is configured under `[auth]` in secrets.toml (roles from `[roles]`, e-mail →
role, default finance); otherwise the configured users of `sync.users` with their hashed passwords."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from console import runtime
from console.i18n import t
from sync.access import ROLE_LABELS, ROLES, Actor
from sync.users import authenticate, users_from

_KEY = "actor"
SANDBOX_ACTOR = Actor("sandbox", "support")


def signed_in() -> Actor:
    """The acting person, or a sign-in screen and `st.stop()`."""
    if runtime.current_settings().sandbox:
        return SANDBOX_ACTOR
    secrets = runtime.read_secrets() or {}
    if isinstance(secrets.get("auth"), Mapping):
        return _oidc(secrets)
    actor = st.session_state.get(_KEY)
    if isinstance(actor, Actor):
        return actor
    _password_form(secrets)
    st.stop()
    raise AssertionError("unreachable")


def _oidc(secrets: Mapping[str, object]) -> Actor:
    if not st.user.is_logged_in:
        st.title(t("signin_title"))
        st.button(t("signin_oidc"), on_click=st.login, type="primary")
        st.stop()
    email = str(st.user.get("email") or st.user.get("name") or "unknown")
    roles = secrets.get("roles") if isinstance(secrets.get("roles"), Mapping) else {}
    role = str(roles.get(email, "finance"))  # type: ignore[union-attr]
    return Actor(email, role if role in ROLES else "finance")


def _password_form(secrets: Mapping[str, object]) -> None:
    st.title(t("signin_title"))
    users = users_from(secrets)
    if not users:
        st.error(t("signin_no_users"))
        return
    with st.form("signin"):
        name = st.text_input(t("signin_name"))
        password = st.text_input(t("signin_password"), type="password")
        if st.form_submit_button(t("signin_button"), type="primary"):
            actor = authenticate(users, name.strip(), password)
            if actor is None:
                st.error(t("signin_wrong"))
            else:
                st.session_state[_KEY] = actor
                st.rerun()


def sidebar(actor: Actor, lang: str) -> None:
    role = ROLE_LABELS[actor.role][0 if lang == "nl" else 1]
    if actor is SANDBOX_ACTOR:
        st.sidebar.caption(t("signin_sandbox"))
        return
    st.sidebar.caption(f"{t('signin_as')} **{actor.name}** · {role}")
    if st.sidebar.button(t("signout")):
        st.session_state.pop(_KEY, None)
        if runtime.read_secrets() and isinstance((runtime.read_secrets() or {}).get("auth"), Mapping):
            st.logout()
        st.rerun()
