"""What every page shares: the language, the process's services (or a clear message), the identity picker,
who is acting. Pages stay short and read like the screens they draw."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

from console import runtime, signin
from console.i18n import current_lang, t
from sync.auth.access import Actor
from sync.core.outside_text import plain
from sync.store.catalog import Account
from sync.store.setup import IdentityRow
from sync.wiring import Deployment, Services

if TYPE_CHECKING:  # the scheduler (and APScheduler) is loaded on first use
    from sync.jobs.queue import Queue
    from sync.jobs.schedule import AccountSchedule

ACCOUNT = "account"  # the chosen account: `?account=KEY` in the address, remembered in the session
SWITCH = "account-switch"  # the sidebar's account switcher
_SWITCHED = "account-switched"  # chosen in the switcher on the accounts page: open the account's overview
_PAGES_OF = "account-of-pages"  # the account the pages' own session state belongs to
# Session state that is the person's or the deployment's, not one account's pages' (kept on switching accounts).
SESSION_WIDE = ("lang", "actor", "signin", "account")
def deployment() -> Deployment:
    """The process's deployment; when it is unavailable, say so on the page and stop it."""
    try:
        return runtime.deployment()
    except runtime.Unavailable as exc:
        _stop(exc)
        raise  # st.stop() raises; this keeps type checkers honest
def visible_accounts() -> list[Account]:
    """The accounts the signed-in person may see (the others do not exist for them)."""
    return [account for account in deployment().accounts() if actor().may_open(account.key)]
def chosen_account() -> str | None:
    """The account the pages show: `?account=` (a link, a bookmark), else the session's, else the only one the
    person may see; None when they may see several and chose none yet."""
    wanted = str(st.query_params.get(ACCOUNT, "") or st.session_state.get(ACCOUNT, "") or "")
    if wanted:
        return wanted
    visible = visible_accounts()
    if len(visible) == 1:
        return visible[0].key
    return configured_account()


def configured_account() -> str | None:
    """SYNC_ACCOUNT, when it is an account this person may see: the one opened when none is chosen."""
    configured = deployment().settings.default_account
    return configured if configured in {account.key for account in visible_accounts()} else None


def services() -> Services:
    """The chosen account's services, for a person granted it; otherwise a clear message (or the way to the
    accounts page) and the page stops. With several accounts the page names its account at the top."""
    current = deployment()
    key = chosen_account()
    visible = visible_accounts()
    if key is None:
        if not visible:
            st.info(t("accounts_none_granted"))
            st.stop()
        st.switch_page("pages/klanten.py")  # several accounts, none chosen: choose one there first
    if key not in {account.key for account in visible}:  # not granted, or no such account: the same answer
        st.session_state.pop(ACCOUNT, None)
        st.error(t("accounts_not_yours", account=key))
        if visible and st.button(t("accounts_not_yours_go"), icon=":material/arrow_back:"):
            st.query_params.pop(ACCOUNT, None)  # back to the accounts this person has (their list, or the one)
            st.rerun()
        st.stop()
    st.session_state[ACCOUNT] = key
    if st.session_state.get(_PAGES_OF, key) != key:
        _forget_pages_state()  # another account: none of the last one's choices, results or started links
    st.session_state[_PAGES_OF] = key
    try:
        found = runtime.services(key)
    except runtime.Unavailable as exc:
        _stop(exc)
        raise
    if len(visible) > 1 or len(current.keys()) > 1:
        st.query_params[ACCOUNT] = key  # a reload, a shared link: the same account
        name = next(account.name for account in visible if account.key == key)
        st.caption(t("account_header", name=name, key=key))
    return found


def _forget_pages_state() -> None:
    """Drop what the pages kept in the session for the account shown before (an identity's check results, a started
    activation, filters, this session's syncs): identity ids repeat across accounts, and would show them here."""
    for name in [str(name) for name in st.session_state]:
        if not name.startswith(SESSION_WIDE):
            del st.session_state[name]


def _address_account() -> str | None:
    """The account the addresses carry: the chosen one, when there is a choice (as `services` writes it)."""
    try:
        current = runtime.deployment()
    except runtime.Unavailable:
        return None
    visible = [account.key for account in current.accounts() if actor().may_open(account.key)]
    key = chosen_account()
    return key if key in visible and (len(visible) > 1 or len(current.keys()) > 1) else None


def menu(pages: Sequence[st.Page]) -> None:
    """The pages as links that carry the account and the language, so a page opened in a new tab (or a link copied)
    shows the same account in the same language; Streamlit's own navigation links are bare addresses."""
    for page in pages:
        st.page_link(page, label=page.title, icon=page.icon or None, query_params=carried(), width="stretch")


def carried(wanted: dict[str, str] | None = None) -> dict[str, str]:
    """What a link's address carries: the language and, when there is a choice, the account — plus `wanted` (an
    identity, a search)."""
    params = {"lang": current_lang()}
    account = _address_account()
    if account is not None:
        params[ACCOUNT] = account
    return {**params, **(wanted or {})}


def account_switcher(*, leaves: bool) -> None:
    """For whoever may see several accounts: the account the pages show, changed in place (the same page, the same
    language). `leaves`: drawn on the accounts page, which shows no one account: the account's overview opens."""
    if st.session_state.pop(_SWITCHED, False) and leaves:
        st.switch_page("pages/overzicht.py")
    try:
        current = runtime.deployment()
    except runtime.Unavailable:
        return
    visible = {account.key: account for account in current.accounts() if actor().may_open(account.key)}
    if len(visible) < 2:
        return
    chosen = chosen_account()
    st.session_state[SWITCH] = chosen if chosen in visible else None
    st.selectbox(t("account_switch"), list(visible), key=SWITCH, on_change=_switch_account, args=(leaves,),
                 format_func=lambda key: plain(visible[key].name), placeholder=t("choose"))


def _switch_account(leaves: bool) -> None:
    key = st.session_state.get(SWITCH)
    if key is None:
        return
    st.session_state[ACCOUNT] = key
    st.query_params[ACCOUNT] = key
    for name in ("identity", "ref", "search", "invoice"):  # the other account's identity, return link, searches
        st.query_params.pop(name, None)
    st.session_state[_SWITCHED] = leaves


def queue() -> Queue | None:
    """Where "Nu synchroniseren" puts its sync in the distributed mode (None: this console runs it itself)."""
    return runtime.queue()


def schedule(services: Services) -> AccountSchedule | None:
    """The background schedule as this account's pages see it (None while it is not running)."""
    scheduler = runtime.scheduler()
    return scheduler.for_account(services.account) if scheduler is not None else None


def _stop(exc: runtime.Unavailable) -> None:
    st.error(t(exc.message))
    st.stop()


def actor() -> Actor:
    """Who is acting: the signed-in person (set by the entry script); the use cases check the role."""
    found = st.session_state.get("actor")
    if isinstance(found, Actor):
        return found
    return signin.signed_in()  # a page run on its own (tests, `streamlit run` of one page)


SUPPORT_PAGES = ("pages/koppelen.py", "pages/controles.py")  # not in finance's navigation (console/app.py)


def page_link(page: str, *, label: str, icon: str | None = None, query_params: dict[str, str] | None = None) -> None:
    """`st.page_link` with the account and the language carried (a link opened in a new tab shows the same), left
    out for a page this person's navigation does not have (finance: linking, checks)."""
    if page in SUPPORT_PAGES and not actor().can("link"):
        return
    st.page_link(page, label=label, icon=icon, query_params=carried(query_params))


def with_not_found_page(pages: list[st.Page]) -> list[st.Page]:
    """`pages`, plus a hidden page of ours at the address asked for when no page answers it (a mistyped link, an old
    bookmark, a page this role does not have): Streamlit's own answer is an English "Page not found" dialog."""
    wanted = _requested_page()
    start = next(page for page in pages if page.url_path == "")  # the default page's address is the root
    # The start page also answers its own name (`/Klanten`); Streamlit keeps that name private.
    if not wanted or "/" in wanted or wanted in {page.url_path for page in pages} \
            or wanted == getattr(start, "_url_path", None):
        return pages

    def not_found() -> None:
        st.title(t("page_not_found"), anchor=False)
        st.warning(t("page_not_found_text", name=wanted[:80]), icon=":material/help:")
        st.page_link(start, label=t("page_not_found_go"), icon=":material/home:")

    return [*pages, st.Page(not_found, title=t("page_not_found"), url_path=wanted, visibility="hidden")]


def _requested_page() -> str:
    """The page name in the address of this run ("" for the start page or a click in the navigation). Streamlit
    keeps it on the run's page manager; nothing public says it, so any change there means "" (Streamlit's own
    dialog again, nothing worse)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        run = get_script_run_ctx()
        if run is None:  # not in a page's run
            return ""
        manager = run.pages_manager
        if manager.intended_page_script_hash:
            return ""
        return str(manager.intended_page_name or "")
    except Exception:
        return ""


def sandbox_marker() -> None:
    """The unmissable SANDBOX label, on every page while the built-in simulators are used."""
    st.markdown(
        f"<div style='background:#b3261e;color:#fff;font-weight:700;padding:6px 14px;border-radius:6px;"
        f"letter-spacing:.08em'>SANDBOX — {t('sandbox_note')}</div>",
        unsafe_allow_html=True,
    )


def sandbox_sidebar_line() -> None:
    """SANDBOX in the sidebar, with the sandbox's own date: its demo data is dated around a fixed day, and every
    page, run and command reads that calendar (so a start date or "Dagen te laat" is not read against the real
    one)."""
    try:
        day = runtime.deployment().today()
    except runtime.Unavailable:
        st.sidebar.markdown(f"**SANDBOX** · {t('sandbox_short')}")
        return
    st.sidebar.markdown(f"**SANDBOX** · {t('sandbox_short_dated', day=day)}")


# Streamlit's select boxes say "No results" (typed text that matches nothing, or nothing left to choose) in English
# only: react-aria marks such an empty list `data-empty`; a style rule hides Streamlit's words and shows ours.
_EMPTY_CHOICE = tuple(f"[data-testid='{box}'] [role='listbox'][data-empty='true'] > [role='option'] > span"
                      for box in ("stSelectboxVirtualDropdown", "stMultiSelectDropdown"))


def streamlit_in_our_words() -> None:
    """What Streamlit itself would say in English, in the reader's language (as far as a page can reach it)."""
    said = t("no_results").replace("\\", "\\\\").replace('"', '\\"')
    hidden = ", ".join(_EMPTY_CHOICE)
    ours = ", ".join(f"{rule}::after" for rule in _EMPTY_CHOICE)
    st.html(f'<style>{hidden} {{font-size: 0}} {ours} {{content: "{said}"; font-size: 0.875rem}} '
            f'{_ELEMENT_TOOLBAR} {{display: none}}</style>')


# The toolbar Streamlit puts over a grid or a chart on hover: "Search", "Download as CSV", "Fullscreen", "Show data",
# "Download as PNG" — English on Dutch pages, a second CSV download beside the page's own (in the reader's words, with
# the reader's headers) and over the log's own search box. The pages have their own search and downloads.
_ELEMENT_TOOLBAR = '[data-testid="stElementToolbar"]'


def identity_label(identity: IdentityRow) -> str:
    """An identity as a select box shows it (plain text: Gripp's name without bidirectional or control
    characters)."""
    return plain(f"{identity['name']} ({identity['identity_id']})")


def placeholder(options: Sequence[object], *, many: bool = False) -> str:
    """A select box's empty text in the reader's language (Streamlit's own is English)."""
    if not options:
        return t("no_options")
    return t("choose_many") if many else t("choose")


def choice(widget: Callable[..., Any], label: str, options: Sequence[Any], *, key: str,
           format_func: Callable[[Any], str], **more: Any) -> Any:
    """A select box or multiselect (`widget`: `st.selectbox`, `column.multiselect` …) whose words follow the reader.

    The browser keeps a widget's choice as the words it showed, under the widget's key, and sends those words back:
    after the language changed (or a count in a label), the same key kept the old words on the chips, or lost the
    choice. So the key carries the words shown, and the choice itself (the options, never their words) is kept
    apart, under `key`, and handed to the widget drawn with new words."""
    worded = f"{key}~{_digest([format_func(option) for option in options])}"
    kept = _kept(key)
    if worded not in st.session_state and kept in st.session_state:
        before = st.session_state[kept]
        if isinstance(before, list):
            st.session_state[worded] = [option for option in before if option in options]
        elif before in options:
            st.session_state[worded] = before
    value = widget(label, options, key=worded, format_func=format_func, **more)
    st.session_state[kept] = value
    return value


def set_choice(key: str, value: object) -> None:
    """Choose for the reader (before the widget is drawn): what `choice(…, key=key)` shows next."""
    for stale in [name for name in st.session_state if str(name).startswith(f"{key}~")]:
        del st.session_state[stale]
    st.session_state[_kept(key)] = value


def _kept(key: str) -> str:
    return f"{key}~chosen"


def _digest(words: Sequence[str]) -> str:
    return hashlib.blake2s("\x1f".join(words).encode(), digest_size=4).hexdigest()


def whole_number(text: object, *, low: int, high: int) -> tuple[int | None, str | None]:
    """A whole number typed into a text field, checked here so the reader gets our words (Streamlit's own range
    errors are English and do not stop a button): (the number, None) or (None, why not)."""
    raw = str(text or "").strip()
    if not raw:
        return None, t("number_missing")
    if not raw.isdigit() or not raw.isascii() or len(raw) > 12 or not low <= int(raw) <= high:
        return None, t("number_range", low=low, high=high)
    return int(raw), None


def pick_identity(identities: Sequence[IdentityRow], *, key: str, label: str | None = None,
                  here: bool = False) -> IdentityRow | None:
    """A select box of identities; `?identity=…` in the address preselects one, and the choice goes back into
    the address, so a reload keeps it. `here`: drawn on Koppelen, where identities are added (so no way there)."""
    if not identities:
        if not here:  # Koppelen says it above its own button
            st.info(t("no_identities"))
            page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:")
        return None
    ids = [row["identity_id"] for row in identities]
    wanted = str(st.query_params.get("identity", ""))
    applied = f"{key}--from-address"
    if wanted and not (wanted.isdigit() and int(wanted) in ids) and st.session_state.get(applied) != wanted:
        st.warning(t("identity_unknown_here" if here else "identity_unknown", identity=wanted[:40]),
                   icon=":material/help:")  # a stale or mistyped link
    if wanted.isdigit() and int(wanted) in ids and st.session_state.get(applied) != wanted:
        set_choice(key, int(wanted))  # follow a link once; afterwards the user's choice wins
        st.session_state[applied] = wanted
    by_id = {row["identity_id"]: row for row in identities}
    # Another account's identity 1 has another name: the words shown follow (`choice`).
    chosen = choice(st.selectbox, label or t("identity"), ids, key=key, format_func=lambda i: identity_label(by_id[i]),
                    placeholder=placeholder(ids))
    if chosen is not None:
        st.query_params["identity"] = str(chosen)
        st.session_state[applied] = str(chosen)
    return by_id.get(chosen)


def live_progress(services: Services) -> None:
    """Every sync and dry run going on now, read from the store and redrawn every second — on any page, in any
    session, after a second click — until it ends; then the page is drawn again with the outcome. With several
    nodes also the account's syncs waiting in the queue or running on another node (its progress is in that
    node's copy until it ends)."""
    from console import views

    store, account = services.store, services.account
    found = runtime.queue()

    def elsewhere(running_here: int) -> tuple[int, int]:
        if found is None:
            return 0, 0
        counts = found.waiting(account)
        return counts["waiting"], max(0, counts["running"] - running_here)

    if not len(views.in_progress(store, account)) and not sum(elsewhere(0)):
        return

    @st.fragment(run_every=1.0)
    def tile() -> None:
        from console.i18n import step_label, trigger_label

        current = views.in_progress(store, account)
        waiting, running = elsewhere(int((~current["preview"].astype(bool)).sum()) if len(current) else 0)
        if not len(current) and not waiting and not running:
            st.rerun()  # the whole page, now with the outcome
        with st.container(border=True, key="live-progress"):
            st.markdown(f"**{t('progress_title')}**")
            for item in current.to_dict("records"):
                name = item["identity_name"] or item["identity_id"]
                title = t("preview_running", name=name) if item["preview"] else t("sync_running", name=name)
                how = "" if item["preview"] else f" ({trigger_label(item['trigger'])})"
                st.progress(min(1.0, float(item["progress"] or 0)),
                            text=f"{title} — {step_label(item['step'])}{how}")
            if waiting or running:
                st.caption(t("sync_queue_state", waiting=waiting, running=running))

    tile()
