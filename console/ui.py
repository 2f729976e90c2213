"""What every page shares: the language, the process's services (or a clear message), the identity picker,
who is acting. Pages stay short and read like the screens they draw."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from console import runtime, signin
from console.i18n import current_lang, t
from sync.access import Actor
from sync.wiring import Services


def services() -> Services:
    """The process's services; when the database is unavailable, say so on the page and stop it."""
    try:
        return runtime.services()
    except runtime.Unavailable as exc:
        st.error(exc.nl if current_lang() == "nl" else exc.en)
        st.stop()
        raise  # st.stop() raises; this keeps type checkers honest


def actor() -> Actor:
    """Who is acting: the signed-in person (set by the entry script); the use cases check the role."""
    found = st.session_state.get("actor")
    if isinstance(found, Actor):
        return found
    return signin.signed_in()  # a page run on its own (tests, `streamlit run` of one page)


def sandbox_marker() -> None:
    """The unmissable SANDBOX label, on every page while the built-in simulators are used."""
    st.markdown(
        f"<div style='background:#b3261e;color:#fff;font-weight:700;padding:6px 14px;border-radius:6px;"
        f"letter-spacing:.08em'>SANDBOX — {t('sandbox_note')}</div>",
        unsafe_allow_html=True,
    )


def identity_label(identity: dict) -> str:
    return f"{identity['name']} ({identity['identity_id']})"


def pick_identity(identities: Sequence[dict], *, key: str, label: str | None = None) -> dict | None:
    """A select box of identities; `?identity=…` in the address preselects one."""
    if not identities:
        st.info(t("no_identities"))
        return None
    ids = [row["identity_id"] for row in identities]
    wanted = str(st.query_params.get("identity", ""))
    applied = f"{key}--from-address"
    if wanted.isdigit() and int(wanted) in ids and st.session_state.get(applied) != wanted:
        st.session_state[key] = int(wanted)  # follow a link once; afterwards the user's choice wins
        st.session_state[applied] = wanted
    if st.session_state.get(key) not in ids:
        st.session_state.pop(key, None)
    by_id = {row["identity_id"]: row for row in identities}
    chosen = st.selectbox(label or t("identity"), ids, key=key, format_func=lambda i: identity_label(by_id[i]))
    return by_id.get(chosen)
