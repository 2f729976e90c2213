"""The console's entry script: page config, language, the SANDBOX marker, sign-in and the navigation.

Served by `console.server` (`python -m console`); `streamlit run console/app.py` works too (without the webhook
route). The pages only read the store and call use cases; the process's services and its one scheduler live in
`console.runtime`.
"""

import logging
import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:  # `streamlit run console/app.py` puts only console/ on the path
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from console import process_lines, runtime, screen, signin, ui  # noqa: E402
from console.i18n import LANGUAGES, current_lang, t  # noqa: E402
from sync.auth.access import AccountNotAllowed, NotAllowed  # noqa: E402
from sync.core.config import ConfigError  # noqa: E402
from sync.store.account_files import ChangedElsewhere, LeaseTimeout  # noqa: E402

st.set_page_config(page_title="Gripp ↔ SnelStart", page_icon=":material/sync_alt:", layout="wide",
                   initial_sidebar_state=screen.SIDEBAR_WIDTH)
screen.style()

if st.session_state.get("lang") not in LANGUAGES:
    st.session_state["lang"] = current_lang()  # `?lang=` in the address, else Dutch
# The sidebar's top: the pages and the account switcher, drawn once the signed-in person's pages are known.
menu, switcher = st.sidebar.container(key="menu"), st.sidebar.container()
with st.sidebar:
    st.selectbox(t("language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, key="lang", placeholder=t("choose"),
                 filter_mode=None)
st.query_params["lang"] = st.session_state["lang"]  # a reload, a new tab from this link: the same language
ui.streamlit_in_our_words()

try:
    settings = runtime.current_settings()
except ConfigError as problem:  # the operator reads why in the server log; a visitor gets one plain sentence
    logging.getLogger("console").error("settings: %s", "; ".join(problem.lines(process_lines.lang())))
    st.error(t("console_misconfigured"))
    st.stop()
if settings.sandbox:
    ui.sandbox_marker()
    ui.sandbox_sidebar_line()

pages = [
    st.Page("pages/overzicht.py", title=t("page_overview"), icon=":material/dashboard:", url_path="Overzicht",
            default=True),
    st.Page("pages/openstaande_posten.py", title=t("page_open_items"), icon=":material/compare_arrows:",
            url_path="Openstaande_posten"),
    st.Page("pages/koppelen.py", title=t("page_linking"), icon=":material/link:", url_path="Koppelen"),
    st.Page("pages/controles.py", title=t("page_checks"), icon=":material/fact_check:", url_path="Controles"),
    st.Page("pages/synchronisatie.py", title=t("page_sync"), icon=":material/sync:", url_path="Synchronisatie"),
]


def accounts_page(default: bool = False) -> st.Page:
    """Klanten (one page object per navigation: the start page when there are several accounts)."""
    return st.Page("pages/klanten.py", title=t("page_accounts"), icon=":material/groups:", url_path="Klanten",
                   default=default)


actor = signin.signed_in([accounts_page(), *pages])
st.session_state["actor"] = actor
signin.sidebar(actor, current_lang())

# Someone who may see several accounts starts on the accounts page; with one account the console is as it was.
try:
    several = sum(actor.may_open(account.key) for account in runtime.deployment().accounts()) > 1
    several = several and not ui.configured_account()  # SYNC_ACCOUNT: start on that account's overview
except runtime.Unavailable:
    several = False  # the pages say why
accounts = accounts_page(default=several)
if several:
    pages[0] = st.Page("pages/overzicht.py", title=t("page_overview"), icon=":material/dashboard:",
                       url_path="Overzicht")
    pages = [accounts, *pages]
elif actor.can("keys") or ui.configured_account():
    pages = [*pages, accounts]  # support adds the second account here; with SYNC_ACCOUNT, the others

# Finance sees what it may use; the use cases refuse the rest whatever the page shows.
if not actor.can("link"):
    pages = [page for page in pages if page.url_path not in ("Koppelen", "Controles")]
# Our own links in the sidebar (they carry the account and the language); Streamlit's would be bare addresses.
page = st.navigation(ui.with_not_found_page(pages), position="hidden")
with menu:
    ui.menu(pages)
with switcher:
    ui.account_switcher(leaves=page.url_path == accounts.url_path)
try:
    page.run()
except (NotAllowed, AccountNotAllowed) as refused:  # offered what this role may not do: say so, change nothing
    st.error(t(refused.message))
except ChangedElsewhere:  # the distributed mode: another node changed this customer since the page was read
    st.warning(t("changed_elsewhere"), icon=":material/sync_problem:")
except LeaseTimeout:  # the distributed mode: another node is syncing this customer right now
    st.warning(t("held_elsewhere"), icon=":material/hourglass_top:")
