"""Openstaande posten: Gripp's open invoices and SnelStart's open items side by side, matched by invoice number.

Everything comes from the DuckDB cache (`sync.jobs.reconcile`), never from the APIs: the page is as fresh as the
last sync, and says when that was.
"""

import pandas as pd
import streamlit as st

from console import tables, ui, views
from console.i18n import age_label, class_label, current_lang, t
from sync import fmt
from sync.jobs.reconcile import AGE_BUCKETS, CLASSES

MAX_ROWS = 2_000  # drawn in the grid; the CSV has every row that matches

services = ui.services()
store = services.store
lang = current_lang()

st.title(t("open_items_title"))
identity = ui.pick_identity(views.identities(store), key="oi-identity")
if identity is None:
    st.stop()
identity_id = identity["identity_id"]

last = views.last_run(store, identity_id)
st.caption(t("open_items_as_of", when=fmt.moment(last["finished_at"] or last["started_at"], lang)) if last
           else t("open_items_never_synced"))

frame = views.open_items(services, identity_id)
classes = [c for c in CLASSES if (frame["class"] == c).any()]  # the filter's choices do not move with a search

search = st.text_input(t("search"), value=str(st.query_params.get("search", "")), key="oi-search",
                       placeholder=t("search_invoice_hint"))
if search.strip():
    needle = search.strip().lower()
    hit = frame["number"].fillna("").str.lower().str.contains(needle, regex=False) | frame["customer"].fillna(
        "").str.lower().str.contains(needle, regex=False)
    frame = frame[hit]

# -- classes: counts, totals, filter --------------------------------------------------------------------------
present = [c for c in classes if (frame["class"] == c).any()]
st.subheader(t("classes"))
st.table(tables.class_summary(frame, present, lang).set_index(t("col_class")))
chosen = st.multiselect(
    t("filter_classes"), classes, default=classes, key=f"oi-classes-{identity_id}",
    format_func=lambda c: f"{class_label(c)} ({int((frame['class'] == c).sum())})",
)
shown = frame[frame["class"].isin(chosen)]

# -- ageing ---------------------------------------------------------------------------------------------
st.subheader(t("ageing"))
ageing = pd.DataFrame(
    {
        t("col_age"): [age_label(b) for b in AGE_BUCKETS],
        t("col_open_amount"): [float(tables.total(shown.loc[shown["age_bucket"] == b, "open_amount"]))
                               for b in AGE_BUCKETS],
    }
)
st.bar_chart(ageing, x=t("col_age"), y=t("col_open_amount"), sort=False, horizontal=True, height=220)

# -- the lists ----------------------------------------------------------------------------------------------
everything, reminders = st.tabs([t("tab_all"), t("tab_reminders")])
with everything:
    st.caption(t("rows_shown", n=len(shown), total=len(frame)))
    if len(shown) > MAX_ROWS:
        st.caption(t("rows_capped", n=MAX_ROWS))
    st.dataframe(tables.side_by_side(shown.head(MAX_ROWS), lang), hide_index=True, width="stretch", key="oi-table")
    st.download_button(t("download_csv"), lambda: tables.open_items_csv(shown, lang),
                       file_name=f"openstaande-posten-{identity_id}.csv", mime="text/csv", icon=":material/download:",
                       key="oi-download")

with reminders:
    st.markdown(t("reminders_intro"))
    do_not, truly = views.reminder_lists(frame)
    st.subheader(t("do_not_remind", n=len(do_not)))
    st.caption(t("do_not_remind_help"))
    st.dataframe(tables.side_by_side(do_not.head(MAX_ROWS), lang), hide_index=True, width="stretch",
                 key="oi-do-not-remind")
    st.subheader(t("truly_overdue", n=len(truly)))
    st.caption(t("truly_overdue_help"))
    st.dataframe(tables.side_by_side(truly.head(MAX_ROWS), lang), hide_index=True, width="stretch",
                 key="oi-truly-overdue")
    st.download_button(t("download_csv"), lambda: tables.open_items_csv(pd.concat([do_not, truly]), lang),
                       file_name=f"herinneringen-{identity_id}.csv", mime="text/csv", icon=":material/download:",
                       key="oi-download-reminders")
