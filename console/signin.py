"""Who is using the console. Sandbox mode runs without sign-in (and says so). On real data: Streamlit's
`st.login` when an OIDC provider is configured under `[auth]` in secrets.toml (a role only for addresses listed
under `[roles]`); otherwise the configured users of `sync.auth.users` with their hashed passwords.

It holds: attempts are throttled and locked out per user name and per client address (`sync.auth.lockout`), and every
failure, lockout and sign-in goes into the event log; an unknown name and a wrong password get the same answer
after the same work; every rerun checks that the signed-in user still exists with the same role and password;
settings that cannot be read close the console rather than open it. The page a visitor asked for (SnelStart's
return link `/Koppelen?identity=…&ref=…`) is the page they land on once signed in. Whatever goes wrong before
sign-in, a visitor sees one plain sentence; the details go to the server log.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import logging
from collections.abc import Mapping, Sequence
from secrets import token_hex
from typing import NoReturn

import streamlit as st

from console import process_lines, runtime
from console.i18n import t, tn
from console.text import md
from sync.auth.access import ROLE_LABELS, ROLES, Actor
from sync.auth.users import User, authenticate, grants, users_from
from sync.core.config import ConfigError
from sync.core.events import EventKind

log = logging.getLogger("console.signin")

_KEY = "actor"
_PROOF = "actor-proof"  # which password hash the session was signed in with
_NOTE = "signin-note"
_VISITOR = "signin-visitor"  # this browser session's own sign-in bucket while its address is unknown
SANDBOX_ACTOR = Actor("sandbox", "support")


def signed_in(pages: Sequence[st.Page] = ()) -> Actor:
    """The acting person, or a sign-in screen and `st.stop()`. `pages`: every page of the app, so the one asked
    for in the address is kept while the visitor signs in."""
    if runtime.current_settings().sandbox:
        return SANDBOX_ACTOR
    try:
        return _signed_in(pages)
    except Exception:  # a visitor who is not signed in sees no traceback, path or process id
        log.exception("sign-in failed")
        _forget()
        _closed(pages, t("signin_unavailable"))


def _signed_in(pages: Sequence[st.Page]) -> Actor:
    try:
        secrets = runtime.read_secrets()
    except ConfigError as exc:  # fail closed: nobody is let in on settings nobody can read
        log.error("sign-in closed: %s", "; ".join(exc.lines(process_lines.lang())))
        _forget()
        _closed(pages, t("signin_unavailable"))
    if isinstance(secrets.get("auth"), Mapping):
        return _oidc(secrets, pages)
    users = users_from(secrets)
    actor = _session(users)
    if actor is not None:
        return actor
    _password_form(users, pages)


def _session(users: Mapping[str, User]) -> Actor | None:
    """The session's user if they still exist with the same role and password; otherwise signed out."""
    actor = st.session_state.get(_KEY)
    if not isinstance(actor, Actor):
        return None
    user = users.get(actor.name)
    if user is not None and user.role == actor.role and st.session_state.get(_PROOF) == _proof(user):
        return user.actor()  # the grants as secrets.toml says them now
    log.warning("session of %r ended: the user was removed or changed in secrets.toml", actor.name)
    _forget()
    st.session_state[_NOTE] = t("signin_changed")
    return None


def _proof(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def _forget() -> None:
    for key in (_KEY, _PROOF):
        st.session_state.pop(key, None)


def _hold_page(pages: Sequence[st.Page]) -> None:
    """Resolve the page in the address without running it: the address (page and query) stays as it is, so the
    rerun after signing in opens that page."""
    if pages:
        st.navigation(list(pages), position="hidden")


def _closed(pages: Sequence[st.Page], message: str) -> NoReturn:
    _hold_page(pages)
    st.title(t("signin_title"))
    st.error(message)
    st.stop()
    raise AssertionError("unreachable")


def _oidc(secrets: Mapping[str, object], pages: Sequence[st.Page]) -> Actor:
    if not st.user.is_logged_in:
        _hold_page(pages)
        st.title(t("signin_title"))
        st.button(t("signin_oidc"), on_click=st.login, type="primary")
        st.stop()
    email = str(st.user.get("email") or "")
    roles = secrets.get("roles")
    role = roles.get(email) if email and isinstance(roles, Mapping) else None
    if role not in ROLES:  # a role only by explicit configuration: signing in with the provider is not enough
        log.warning("OIDC sign-in without a configured role: %r", email)
        _hold_page(pages)
        st.title(t("signin_title"))
        st.error(t("signin_no_role", email=email or "?"))
        st.button(t("signout"), on_click=st.logout)
        st.stop()
    granted = secrets.get("accounts")  # [accounts] "person@example.nl" = ["acme"]
    return Actor(email, str(role), grants(str(role), granted.get(email) if isinstance(granted, Mapping) else None))


def _client() -> str | None:
    """The visitor's address: the address that connected, or the one a proxy named in SYNC_TRUSTED_PROXIES says it
    forwarded for (`python -m console` has uvicorn believe X-Forwarded-For from those only). None when unknown:
    outside a browser session, or over loopback (Streamlit shows no address there — a local visitor, or a proxy on
    this machine that is not named)."""
    try:
        address = st.context.ip_address
    except Exception:  # outside a browser session
        address = None
    try:
        return str(ipaddress.ip_address(address)) if isinstance(address, str) and address else None
    except ValueError:
        return None


def _bucket(client: str | None) -> str:
    """What the per-address limit counts for this visitor. An IPv6 address by its /64, the block one subscriber
    gets. An unknown address is this browser session's own: a bucket shared by every visitor whose address is
    unknown would let 20 failures lock everyone out; the per-name limit still guards every user name."""
    if client is None:
        return "session:" + st.session_state.setdefault(_VISITOR, token_hex(16))
    found = ipaddress.ip_address(client)
    if found.version == 6:
        return str(ipaddress.ip_network(f"{client}/64", strict=False))
    return client


def _password_form(users: Mapping[str, User], pages: Sequence[st.Page]) -> NoReturn:
    _hold_page(pages)
    st.title(t("signin_title"))
    note = st.session_state.pop(_NOTE, None)
    if note:
        st.info(note)
    if not users:
        log.error("sign-in closed: no users in secrets.toml")
        st.error(t("signin_no_users"))
        st.stop()
    with st.form("signin"):
        name = st.text_input(t("signin_name"), autocomplete="username")
        password = st.text_input(t("signin_password"), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(t("signin_button"), type="primary")
    if submitted:
        _attempt(users, name.strip(), password)
    st.stop()
    raise AssertionError("unreachable")


def _attempt(users: Mapping[str, User], name: str, password: str) -> None:
    guard, client = runtime.sign_in_guard(), _client()
    bucket = _bucket(client)
    refusal = guard.refusal(name, bucket)
    if refusal is not None:  # not even checked: the same answer whether or not the password was right
        if refusal.locked:
            st.error(tn("signin_locked", n=max(1, (refusal.seconds + 59) // 60)))
        else:
            st.error(tn("signin_wait", n=refusal.seconds))
        return
    actor = authenticate(users, name, password)
    if actor is None:
        locked = guard.failed(name, bucket)
        known = name if name in users else None  # an unknown name may be a password typed in the wrong field
        _audit(EventKind.SIGN_IN_FAILED, {"name": known, "client": client}, known)
        for kind in locked:
            _audit(EventKind.SIGN_IN_LOCKED, {"name": known, "client": client, "locked": kind}, known)
        st.error(t("signin_wrong"))
        return
    guard.succeeded(name, bucket)
    _audit(EventKind.SIGNED_IN, {"client": client}, actor.name)
    st.session_state[_KEY] = actor
    st.session_state[_PROOF] = _proof(users[actor.name])
    st.rerun()


def _audit(kind: EventKind, data: dict[str, object], actor: str | None) -> None:
    """Sign-in events in the event log (`sync.core.events` words them); when the database is unavailable, in the server
    log only."""
    from sync.core.events import render

    log.log(logging.INFO if kind == EventKind.SIGNED_IN else logging.WARNING, "%s",
            render({"kind": kind, "detail_json": json.dumps(data), "actor": actor}, process_lines.lang()))
    try:
        from sync.store import history

        if len(runtime.deployment().keys()) != 1:
            return  # sign-ins are no account's: with several accounts they are in the server log (above) only
        history.log_event(runtime.services().store, kind, data=data, actor=actor)
    except Exception as exc:  # never let auditing open or break the door
        log.error("sign-in event not recorded: %s", exc)


def sidebar(actor: Actor, lang: str) -> None:
    role = t(ROLE_LABELS[actor.role], lang)
    if actor is SANDBOX_ACTOR:
        st.sidebar.caption(t("signin_sandbox"))
        return
    st.sidebar.caption(f"{t('signin_as')} **{md(actor.name)}** · {role}")
    if st.sidebar.button(t("signout")):
        _forget()
        try:
            oidc = isinstance(runtime.read_secrets().get("auth"), Mapping)
        except ConfigError:
            oidc = False
        if oidc:
            st.logout()
        st.rerun()
