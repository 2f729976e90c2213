"""Klanten: the support team's start page. Every account the person may see, with its health at a glance, what
needs a person first, searchable; one click opens the account on the other pages (`?account=KEY`). Support also
adds, checks and removes accounts here. Read from the catalog only: no account's database is opened to draw it."""

from datetime import datetime
from typing import Final

import streamlit as st

from console import runtime, ui
from console.i18n import check_icon, current_lang, icon, t, tn
from console.text import md, md_lines
from sync.core import fmt
from sync.core.outside_text import plain
from sync.core.words import LANGUAGES, N_, language_name, say
from sync.jobs import accounts, deliver
from sync.jobs.accounts import NEED_LABELS, NEEDS, AccountError, Checked
from sync.store.catalog import Health

UNDELIVERED_ICON = ":orange[:material/notifications_off:]"
SHARED_ICON = icon("shared")  # an administration another link (of any account) links too: a warning
SHOWN = 50  # rows drawn at once; the search narrows the rest
NEED_ICONS = {"broken": icon("broken"), "runs": icon("failed"), "invoices": icon("warning"),
              "checks": icon("failed"), "shared": SHARED_ICON, "alerts": ":orange[:material/notifications:]",
              "undelivered": UNDELIVERED_ICON, "not_linked": icon("todo"),
              "unchecked": icon("unknown"), "ok": icon("ok")}

deployment = ui.deployment()
actor = ui.actor()
lang = current_lang()

st.title(t("accounts_title"))
st.caption(t("accounts_intro"))
FLASH = "accounts-flash"
CHECKED = "accounts-checked"  # what "Controleren" found, shown after the rerun that redraws the list
if st.session_state.get(FLASH):
    st.success(st.session_state.pop(FLASH))
search = st.text_input(t("accounts_search"), value=str(st.query_params.get("search", "")), key="accounts-search")
if search:
    st.query_params["search"] = search
else:
    st.query_params.pop("search", None)

rows = accounts.overview(deployment, actor, search=search)
if actor.can("keys"):  # the support team's own targets (SYNC_NOTIFY_URLS) belong to no account's row
    for state in deliver.failing_targets(deployment, actor):
        if state.account_key is None:
            st.warning(t("notify.deployment_undelivered", hint=state.hint, why=deliver.why_not(state.last_error)),
                       icon=":material/notifications_off:")
if not rows:
    st.info(t("accounts_none"))


def links_text(health: Health) -> str:
    if not health.identities:
        return t("links_no_identities")
    broken = t("links_broken", n=health.broken_links) if health.broken_links else ""
    if health.unchecked_links:
        broken += t("links_unchecked", n=health.unchecked_links)
    return t("links_summary", linked=health.linked, identities=health.identities, broken=broken)


def when(moment: datetime | None) -> str:
    return fmt.moment(moment, lang) if moment is not None else "—"


# The columns' shares of the row (Streamlit divides the width by them), set as pixels for 770 px between the
# columns' small gaps: every column a little wider than its longest word (a header's or a cell's, in either
# language), so no word breaks; at 1280×800 with the sidebar open the row is wider still (`console.screen`). The
# name gets the rest: a longer one ends in "…" (`screen.STYLE`), whole in its tooltip.
widths = [210, 106, 100, 90, 78, 106, 80]
GAP: Final = "xsmall"
if rows:
    head = st.columns(widths, gap=GAP)
    for column, key in zip(head, (N_("accounts_col_name"), N_("accounts_col_need"), N_("accounts_col_links"),
                                  N_("accounts_col_invoices"), N_("accounts_col_alerts"), N_("accounts_col_last"),
                                  N_("accounts_col_next")), strict=True):
        column.markdown(f"**{t(key)}**")
for row in rows[:SHOWN]:
    h = row.health
    need = NEEDS[row.need]
    with st.container(key=f"account-{row.key}"):
        name, needs, links, stuck, alerts, last, upcoming = st.columns(widths, gap=GAP)
        name.page_link("pages/overzicht.py", label=row.name, icon=":material/open_in_new:", help=row.name,
                       query_params={"account": row.key, "lang": lang})
        name.caption(row.key)  # the account's key, as the command line and the search know it
        needs.markdown(f"{NEED_ICONS[need]} {t(NEED_LABELS[need])}")
        if need == "checks":  # why it is not "In orde": how many of its checks fail (Controles says which)
            needs.caption(tn("cli.accounts.failing_checks", n=h.failing_checks))
        links.markdown(links_text(h))
        if h.shared_links:  # a warning, wherever it comes in what the account needs
            links.markdown(f"{SHARED_ICON} {tn('cli.accounts.shared_links', n=h.shared_links)}")
        stuck.markdown(fmt.count(row.stuck, lang))
        alerts.markdown(fmt.count(h.open_alerts, lang))
        if h.undelivered and need != "undelivered":  # its targets keep failing, behind what it needs first
            alerts.markdown(f"{UNDELIVERED_ICON} {t('notify.undelivered')}")
        last.markdown(when(h.last_run_at))
        upcoming.markdown(when(h.next_run_at))
if len(rows) > SHOWN:
    st.caption(f"+ {fmt.count(len(rows) - SHOWN, lang)} — {t('accounts_search')}")

if not actor.can("keys"):
    st.stop()

# -- support: add, check, remove ------------------------------------------------------------------------------
st.divider()
st.subheader(t("accounts_manage"), anchor=False)
# The form keeps what was typed when adding fails (a typo costs one field, not three); the fields are emptied
# only after an account was added, before they are drawn again (Streamlit allows setting them only then).
ADD_FIELDS = ("account-add-key", "account-add-name", "account-add-token")
ADDED = "account-add-done"
if st.session_state.pop(ADDED, False):
    for field in ADD_FIELDS:
        st.session_state[field] = ""
with st.form("account-add"):
    st.markdown(f"**{t('accounts_add')}**")
    key = st.text_input(t("accounts_key"), key="account-add-key")
    account_name = st.text_input(t("accounts_name"), key="account-add-name")
    token = st.text_input(t("accounts_token"), type="password", key="account-add-token")
    if st.form_submit_button(t("accounts_add"), type="primary"):
        try:
            added = accounts.add_account(deployment, key, account_name, token, actor=actor)
        except AccountError as problem:
            st.error(t(problem.message))
        else:
            scheduler = runtime.scheduler()
            if scheduler is not None:
                scheduler.reload(added.account.key)
            st.session_state[FLASH] = tn("accounts_added", name=added.account.name, n=len(added.identities))
            st.session_state[ADDED] = True
            st.rerun()

TESTED = "notify-tested"  # what "Testbericht sturen" found, shown after the rerun
NOTIFY_ADDED = "notify-added"  # a target was saved: its field is emptied before it is drawn again


def notifications(key: str, name: str) -> None:
    """The account's notification targets: each by its hint (never the address) and language, whether messages
    reach it; add one, take one away, send a test message to each."""
    st.markdown(f"**{t('notify.heading', name=name)}**")
    st.caption(t("notify.intro"))
    targets = deliver.targets_view(deployment, key, actor)
    for target in targets:
        shown, drop = st.columns([5, 1])
        # Failing (so many times in a row), else how its last attempt went: ✗ and why, or ✓.
        state = (f"{UNDELIVERED_ICON} {t('notify.undelivered')} ({t(deliver.why_not(target.last_error))})"
                 if target.failing else f"{icon('failed')} {t(deliver.why_not(target.last_error))}"
                 if target.last_error is not None else icon("ok") if target.last_ok_at is not None else "")
        # In a code span nothing is markdown, and an escape would show as a backslash: the hint as it is.
        shown.markdown(f"`{plain(target.hint).replace('`', '')}` · {t('notify.lang', lang=target.lang)} {state}")
        if drop.button(t("notify.remove"), key=f"notify-remove-{target.key}", icon=":material/delete:"):
            deliver.remove_target(deployment, key, target.key, actor=actor)
            st.rerun()
    if not targets:
        st.caption(t("notify.none"))
    # A refused address stays in the field to be corrected; it is emptied only once it was saved.
    if st.session_state.pop(NOTIFY_ADDED, False):
        st.session_state["notify-address"] = ""
    with st.form(f"notify-add-{key}"):
        address = st.text_input(t("notify.address"), type="password", key="notify-address",
                                help=t("notify.address_help"))
        chosen_lang = st.selectbox(t("notify.language"), list(LANGUAGES), key="notify-lang",
                                   format_func=language_name, placeholder=ui.placeholder(list(LANGUAGES)))
        if st.form_submit_button(t("notify.add"), icon=":material/add_alert:"):
            try:
                added = deliver.add_target(deployment, key, address, actor=actor, lang=chosen_lang)
            except deliver.NotifyError as problem:
                st.error(t(problem.message))
            else:
                st.session_state[FLASH] = t("notify.added", hint=added.hint)
                st.session_state[NOTIFY_ADDED] = True
                st.rerun()
    if st.button(t("notify.test"), key="notify-test", icon=":material/send:"):
        st.session_state[TESTED] = (key, deliver.send_test(deployment, key, actor=actor))
        st.rerun()
    tested = st.session_state.pop(TESTED, None)
    if tested is not None and tested[0] == key:
        if not tested[1]:
            st.info(t("notify.no_targets"))
        for tried in tested[1]:
            owner = tried.target.account_key or t("notify.deployment_targets")
            if tried.arrived:
                st.success(t("notify.test_arrived", hint=tried.target.hint, owner=owner))
            else:
                st.error(t("notify.test_not_arrived", hint=tried.target.hint, owner=owner,
                           why=deliver.why_not(tried.error)))


mine = accounts.visible(deployment, actor)
if mine:
    by_key = {account.key: account for account in mine}
    chosen = st.selectbox(t("accounts_which"), list(by_key), key="account-manage",
                          format_func=lambda k: plain(f"{by_key[k].name} ({k})"),
                          placeholder=ui.placeholder(list(by_key)))
    if chosen is not None:
        check, remove = st.columns(2)
        if check.button(t("accounts_check"), key="account-check", icon=":material/fact_check:"):
            st.session_state[CHECKED] = accounts.check_account(deployment, chosen, actor=actor)
            st.rerun()  # the list above shows what the check found
        checked: Checked | None = st.session_state.pop(CHECKED, None)
        if checked is not None and checked.account.key == chosen:
            if checked.ok:
                check.success(tn("accounts_checked", name=by_key[chosen].name, n=len(checked.identities)))
            elif checked.problem is not None:
                check.error(t(checked.problem.message))
            names = {row["identity_id"]: row["name"] for row in checked.identities}
            for identity_id, result in checked.links.items():  # does SnelStart still accept each link's key
                fix = f"  \n→ {md(say(result.fix, lang))}" if not result.ok and result.fix is not None else ""
                check.markdown(f"{check_icon(result.status)} **{md(names.get(identity_id) or f'#{identity_id}')}** "
                               f"— {md_lines(say(result.explanation, lang))}{fix}")
        sure = remove.checkbox(t("accounts_remove_sure", name=by_key[chosen].name), key="account-remove-sure")
        if remove.button(t("accounts_remove"), key="account-remove", disabled=not sure, icon=":material/delete:"):
            try:
                accounts.remove_account(deployment, chosen, actor=actor)
            except AccountError as problem:
                remove.error(t(problem.message))
            else:
                scheduler = runtime.scheduler()
                if scheduler is not None:
                    scheduler.reload(chosen)  # its jobs go
                if st.session_state.get(ui.ACCOUNT) == chosen:
                    st.session_state.pop(ui.ACCOUNT, None)
                st.session_state[FLASH] = t("accounts_removed", name=by_key[chosen].name)
                st.rerun()

        notifications(chosen, by_key[chosen].name)
