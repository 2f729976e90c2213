"""Openstaande posten: Gripp's open invoices and SnelStart's open items side by side, matched by invoice number.

Everything comes from the DuckDB cache (`sync.jobs.reconcile`), never from the APIs: the page is as fresh as the
last read of SnelStart, and says when that was — or that the last sync could not read it, why and the way out;
before the first sync it offers one. The search and the class filter are
kept in the address, so a reload keeps them.
"""

from datetime import datetime

import pandas as pd
import streamlit as st

from console import charts, manual, screen, story, tables, ui, views
from console.i18n import age_label, class_label, current_lang, said, t, tn
from sync.core import fmt
from sync.core.words import N_
from sync.jobs import after_booking
from sync.jobs.locks import AlreadyRunning
from sync.jobs.reconcile import AGE_BUCKETS, CLASSES
from sync.store import setup as setup_repo
from sync.store.comparison import Difference
from sync.store.gone import GoneHow
from sync.store.history import RunRow
from sync.store.setup import LinkHealth

MAX_ROWS = 2_000  # drawn in the grid; the CSV has every row that matches


def snelstart_unread(failed: RunRow, read_at: datetime | None) -> None:
    """Above the grid: SnelStart could not be read (since when, or never), why, and the way out."""
    link = setup_repo.get_link(store, identity_id)
    if link is not None and link.health == LinkHealth.BROKEN and link.health_detail:
        why = said(setup_repo.health_reason(link.health_detail), lang)
    else:  # failed for another reason (SnelStart down, ...): the run's own words
        why = views.run_words(failed, lang)
    if read_at is None:
        st.warning(t("open_items_snelstart_never_read", why=why), icon=":material/sync_problem:")
    else:
        st.warning(t("open_items_snelstart_unread_since", when=fmt.moment(read_at, lang), why=why),
                   icon=":material/sync_problem:")
    ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                 query_params={"identity": str(identity_id)})


def gone_from_gripp() -> None:
    """Booked invoices Gripp no longer shows as sent, each with its way out: credit the booking in SnelStart, or
    confirm it was deleted on purpose (recorded with the name; a "Ja, …" box enables the button)."""
    outcome = st.session_state.pop(f"oi-gone-outcome-{identity_id}", None)
    if outcome:
        (st.error if outcome[0] == "error" else st.success)(outcome[1])
    # still a difference: a booking credited in SnelStart (nothing open any more) needs no confirming
    differing = set(everything_frame.loc[everything_frame["class"] == Difference.GONE_FROM_GRIPP, "number"])
    waiting = [g for g in after_booking.gone_invoices(store, identity_id) if not g.confirmed and g.number in differing]
    if not waiting:
        return
    st.subheader(tn("gone_title", n=len(waiting)), anchor=False)
    may_confirm = ui.actor().can("confirm_gone")
    for found in waiting:
        with st.container(border=True):
            st.markdown(f"**{t('gone_card_title', number=found.number, customer=found.customer)}**")
            st.text(t(N_("reason_gone_from_gripp.not_sent") if found.how == GoneHow.NOT_SENT
                      else N_("reason_gone_from_gripp")))
            if not may_confirm:
                st.caption(t("gone_confirm_ask"))
                continue
            sure = st.checkbox(t("gone_confirm_sure", number=found.number),
                               key=f"oi-gone-sure-{identity_id}-{found.invoice_id}")
            if st.button(t("gone_confirm"), key=f"oi-gone-confirm-{identity_id}-{found.invoice_id}",
                         help=t("gone_confirm_help"), disabled=not sure, icon=":material/task_alt:"):
                try:
                    after_booking.confirm_deleted(store, identity_id, found.invoice_id, actor=ui.actor())
                except after_booking.GoneError as exc:
                    st.session_state[f"oi-gone-outcome-{identity_id}"] = ("error", t(exc.message))
                else:
                    services.ran()  # the accounts page and Overzicht count differences: they agree right away
                    st.session_state[f"oi-gone-outcome-{identity_id}"] = (
                        "ok", t("gone_confirmed", number=found.number))
                st.rerun()


services = ui.services()
store = services.store
lang = current_lang()

st.title(t("open_items_title"))
identity = ui.pick_identity(views.identities(store), key="oi-identity")
if identity is None:
    st.stop()
identity_id = identity["identity_id"]
ui.live_progress(services)
story.search(services, key="oi-story", identity_id=identity_id)  # one invoice's whole story, above the lists

last = views.last_run(store, identity_id)
read_at = views.snelstart_read_at(store, identity_id)
unread_since = views.snelstart_unread_since(store, identity_id)
if unread_since is not None:  # the last run could not read SnelStart: its side is old, or was never there
    snelstart_unread(unread_since, read_at)
elif read_at is not None:
    st.caption(t("open_items_as_of", when=fmt.moment(read_at, lang)))
if not last and not identity["linked"]:
    st.info(t("open_items_not_linked", name=identity["name"]), icon=":material/link_off:")
    ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                 query_params={"identity": str(identity_id)})
    st.stop()
elif not last:  # no dead end: the first sync is one click away
    fetched = views.has_cached_invoices(store, identity_id)  # by the checks or a dry run
    st.info(t("open_items_fetched" if fetched else "open_items_empty", name=identity["name"]), icon=":material/sync:")
    if st.button(t("sync_now_first"), key=f"oi-sync-{identity_id}", type="primary", icon=":material/sync:"):
        try:
            manual.start(services, identity_id, actor=ui.actor(), queue=ui.queue()).first_step.wait(5)
        except AlreadyRunning:
            st.warning(t("sync_busy", name=identity["name"]))
        st.rerun()

everything_frame = views.open_items(services, identity_id)
# The filter's choices and their counts come from all items, never from the search: a search must not change them.
counts = everything_frame["class"].value_counts()
classes = [c for c in CLASSES if counts.get(c, 0)]

search = st.text_input(t("search"), value=str(st.query_params.get("search", "")), key="oi-search",
                       placeholder=t("search_invoice_hint"))
needle = search.strip()
if needle:
    st.query_params["search"] = needle
else:
    st.query_params.pop("search", None)
frame = everything_frame
if needle:
    lowered = needle.lower()
    hit = frame["number"].fillna("").str.lower().str.contains(lowered, regex=False) | frame["customer"].fillna(
        "").str.lower().str.contains(lowered, regex=False)
    frame = frame[hit]

# -- classes: counts, totals, filter --------------------------------------------------------------------------
present = [c for c in classes if (frame["class"] == c).any()]
if classes:
    st.subheader(t("classes"), anchor=False)
    if present:  # never an empty table (Streamlit's says "empty", in English); the list below says why
        st.table(tables.class_summary(frame, present, lang).set_index(t("col_class", lang)))
filter_key = f"oi-classes-{identity_id}"
if st.session_state.get(f"{filter_key}-of") != classes:  # new kinds of differences (after a sync): show them all
    st.session_state[f"{filter_key}-of"] = classes
    ui.set_choice(filter_key, classes)
chosen = ui.choice(
    st.multiselect, t("filter_classes"), classes, key=filter_key,
    format_func=lambda c: f"{class_label(c, lang)} ({fmt.count(int(counts.get(c, 0)), lang)})",
    placeholder=ui.placeholder(classes, many=True),
)
shown = frame[frame["class"].isin(chosen)]


def comparison(rows: pd.DataFrame, key: str, *, empty: str) -> None:
    """Gripp and SnelStart side by side, at most MAX_ROWS; a click on a cell shows its row whole below the grid
    (the grid cuts a long customer, difference or reason). No rows: `empty` is said (Streamlit's empty grid says
    "empty", in English)."""
    if not len(rows):
        st.caption(empty)
        return
    drawn = rows.head(MAX_ROWS)
    clicked = st.dataframe(tables.side_by_side(drawn, lang), hide_index=True, width="stretch", key=key,
                           column_config=tables.side_by_side_columns(lang), placeholder="", on_select="rerun",
                           selection_mode="single-cell")  # not overdue: an empty cell, never a grey "None"
    screen.row_detail(clicked, len(drawn), key, lambda n: tables.comparison_detail(drawn.iloc[n].to_dict(), lang))


gone_from_gripp()

# -- ageing ---------------------------------------------------------------------------------------------
st.subheader(t("ageing"), anchor=False)
amounts = [tables.total(shown.loc[shown["age_bucket"] == b, "open_amount"]) for b in AGE_BUCKETS]
st.altair_chart(charts.ageing([age_label(b, lang) for b in AGE_BUCKETS], amounts, lang), width="stretch")

# -- the lists ----------------------------------------------------------------------------------------------
everything, reminders = st.tabs([t("tab_all"), t("tab_reminders")])
with everything:
    st.caption(t("rows_shown", n=fmt.count(len(shown), lang), total=fmt.count(len(everything_frame), lang)))
    if len(shown) > MAX_ROWS:
        st.caption(t("rows_capped", n=fmt.count(MAX_ROWS, lang)))
    if not len(shown) and len(everything_frame):
        st.info(t("no_rows"), icon=":material/filter_alt_off:")
    else:
        comparison(shown, "oi-table", empty=t("no_open_items"))
    if len(shown):  # an empty table is no download
        st.download_button(t("download_csv"), lambda: tables.open_items_csv(shown, lang),
                           file_name=f"openstaande-posten-{services.account}-{identity_id}.csv", mime="text/csv",
                           icon=":material/download:",
                           key="oi-download")

with reminders:
    st.markdown(t("reminders_intro"))
    do_not, check_first, truly = views.reminder_lists(frame)
    st.subheader(t("do_not_remind", n=fmt.count(len(do_not), lang)), anchor=False)
    st.caption(t("do_not_remind_help"))
    comparison(do_not, "oi-do-not-remind", empty=t("reminder_list_empty"))
    st.subheader(t("check_before_reminding", n=fmt.count(len(check_first), lang)), anchor=False)
    st.caption(t("check_before_reminding_help"))
    comparison(check_first, "oi-check-first", empty=t("reminder_list_empty"))
    st.subheader(t("truly_overdue", n=fmt.count(len(truly), lang)), anchor=False)
    st.caption(t("truly_overdue_help"))
    comparison(truly, "oi-truly-overdue", empty=t("reminder_list_empty"))
    if len(do_not) or len(check_first) or len(truly):  # three empty lists are no download
        st.download_button(t("download_csv"),
                           lambda: tables.open_items_csv(pd.concat([do_not, check_first, truly]), lang),
                           file_name=f"herinneringen-{services.account}-{identity_id}.csv", mime="text/csv",
                           icon=":material/download:",
                           key="oi-download-reminders")
