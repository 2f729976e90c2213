"""Synchronisatie: sync now (one identity or all) with live progress read from the store, the schedule, run
history and the event log."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from console import manual, records, screen, story, tables, ui, views
from console.i18n import actor_label, current_lang, level_label, planned_label, run_badge, t, tn, trigger_label
from console.text import md, plain_frame
from sync.core import fmt
from sync.core.events import Outcome, run_label
from sync.core.events import label as event_label
from sync.core.outside_text import plain
from sync.jobs.locks import AlreadyRunning
from sync.jobs.requeue import retry_failed
from sync.jobs.runner import RunResult
from sync.store.setup import LinkHealth

services = ui.services()
store = services.store
lang = current_lang()
scheduler = ui.schedule(services)

MAX_INTERVAL = 24 * 60  # once a day at least

st.title(t("sync_title"))
story.search(services, key="sync-story")  # one invoice's whole story: what every run and event did to it
linked = views.linked_identities(store)
names = {row["identity_id"]: row["name"] for row in views.identities(store)}
started = st.session_state.setdefault("manual_runs", [])  # this session's manual runs (their results below)


def start(identity_id: int) -> None:
    """Start it in the console's worker and draw the page again: the progress comes from the store."""
    try:
        run = manual.start(services, identity_id, actor=ui.actor(), queue=ui.queue())
    except AlreadyRunning:  # refused — and the running one stays visible below, with its progress
        st.session_state["sync_refused"] = identity_id
        return
    started[:] = [run]
    st.session_state.pop("sync_refused", None)
    run.first_step.wait(5)  # its row is in the store: the progress tile sees it from the first redraw
    st.rerun()


# -- sync now ---------------------------------------------------------------------------------------------
if not linked:
    st.info(t("sync_nothing_linked"))
    ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:")

clicked: int | None = None
if linked and st.button(t("sync_all"), icon=":material/sync:", key="sync-all", type="primary"):
    clicked = manual.ALL

for row in linked:
    identity_id = row["identity_id"]
    last = views.last_run(store, identity_id)
    counts = views.booking_counts(store, identity_id)
    with st.container(border=True):
        left, middle, right, button = st.columns(4, vertical_alignment="center")
        left.markdown(f"**{md(row['name'])}**  \n{t('administration')}: {md(row['administration_name'])}")
        if last:
            middle.markdown(f"{t('last_run')}: {fmt.moment(last['started_at'], lang)}  \n"
                            f"{run_badge(last['outcome'], views.counts_of(last), lang)}")
            if last["outcome"] == Outcome.FAILED:  # the reason, not only "mislukt"
                middle.caption(md(views.run_words(last, lang)))
                if row["health"] == LinkHealth.BROKEN:  # failed on the link: the way to mend it, as on Overzicht
                    with middle:
                        ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                                     query_params={"identity": str(identity_id)})
        else:
            middle.markdown(f"{t('last_run')}: {t('never')}")
        next_run = scheduler.next_run(identity_id) if scheduler else None
        right.markdown(f"{t('next_run')}: {planned_label(next_run, row, lang)}")
        if button.button(t("sync_now"), key=f"sync-{identity_id}", icon=":material/play_arrow:", width="stretch"):
            clicked = identity_id
        waiting = records.waiting(services, identity_id)
        if waiting:
            st.warning(tn("records_waiting", n=int(waiting)))
            with st.expander(t("records_title")):
                st.caption(t("records_help"))
                records.show(services, identity_id, key="sync")
        if counts["failed"]:
            st.warning(tn("failed_waiting", n=int(counts["failed"])))
            if st.button(t("retry_failed"), key=f"retry-{identity_id}", icon=":material/replay:"):
                moved = retry_failed(store, identity_id, ui.actor())
                services.ran()  # the accounts page counts the refused invoices
                st.toast(tn("retry_moved", n=int(moved)))
                clicked = identity_id
        if not ui.actor().can("schedule"):
            continue
        with st.expander(t("schedule")):
            # Checked by us, in the reader's words: Streamlit's own range error is English and stops no button.
            typed = st.text_input(t("interval_minutes"), value=str(int(row["interval_minutes"] or 20)),
                                  key=f"interval-{identity_id}", max_chars=6)
            minutes, problem = ui.whole_number(typed, low=1, high=MAX_INTERVAL)
            if problem:
                st.error(problem)
            col_a, col_b = st.columns(2)
            if col_a.button(t("save_interval"), key=f"save-interval-{identity_id}", disabled=minutes is None) \
                    and scheduler and minutes is not None:
                scheduler.set_interval(identity_id, minutes, actor=ui.actor())
                st.rerun()
            if row["paused"]:
                if col_b.button(t("resume"), key=f"resume-{identity_id}", icon=":material/play_circle:") and scheduler:
                    scheduler.resume(identity_id, actor=ui.actor())
                    st.rerun()
            elif col_b.button(t("pause"), key=f"pause-{identity_id}", icon=":material/pause_circle:") and scheduler:
                scheduler.pause(identity_id, actor=ui.actor())
                st.rerun()

if clicked is not None:
    start(clicked)
refused = st.session_state.pop("sync_refused", None)
if refused is not None:  # said once; the running sync's progress stays in view below until it ends
    st.warning(t("sync_busy", name=names.get(refused, refused)), icon=":material/hourglass_top:")
ui.live_progress(services)


# -- what this session's sync did ------------------------------------------------------------------------------
def show_result(result: RunResult) -> None:
    name = names.get(result.identity_id, t("all_identities"))
    box = {Outcome.FAILED: st.error, Outcome.WARNINGS: st.warning}.get(result.outcome, st.success)
    label = run_label(result.outcome, result.counts, lang)
    box(f"**{md(name)}** — {md(label)}. {md(result.words(lang))}")
    if not result.counts:  # failed as a whole; a run that booked nothing still shows what it found
        return
    counts = result.counts
    cols = st.columns(6)
    cols[0].metric(t("count_booked_now"), fmt.count(counts.get("booked", 0), lang))
    cols[1].metric(t("count_adopted"), fmt.count(counts.get("adopted", 0), lang), help=t("count_adopted_help"))
    cols[2].metric(t("count_blocked"), fmt.count(counts.get("blocked", 0), lang))
    cols[3].metric(t("count_conflicts"), fmt.count(counts.get("conflicts", 0), lang))
    cols[4].metric(t("count_failed"), fmt.count(counts.get("failed", 0), lang))
    cols[5].metric(t("count_payments"), fmt.count(counts.get("payments_registered", 0), lang))


for run in started:
    if not run.done.is_set():
        continue
    if run.results or run.error is not None or run.refused:
        st.subheader(t("run_summary_title"), anchor=False)
    for result in run.results:
        show_result(result)
    for identity_id in run.refused:
        st.warning(t("sync_busy", name=names.get(identity_id, identity_id)))

    if run.error is not None:
        st.error(md(f"{type(run.error).__name__}: {run.error}"))

# -- run history ------------------------------------------------------------------------------------------
st.header(t("run_history"), anchor=False)
history = views.runs(store, limit=100)
if not len(history):
    st.caption(t("no_runs"))
else:
    run_rows = views.records(history)
    table = pd.DataFrame({
        t("col_started"): [fmt.moment(r["started_at"], lang) for r in run_rows],
        t("col_identity"): [r["identity_name"] or "" for r in run_rows],
        t("col_trigger"): [trigger_label(r["trigger"], lang) for r in run_rows],
        t("col_outcome"): [run_label(r["outcome"], views.counts_of(r), lang) for r in run_rows],
        t("col_summary"): [views.run_words(r, lang) for r in run_rows],
        t("col_by"): [actor_label(r["actor"], lang) for r in run_rows],
    })
    shown_runs = st.dataframe(plain_frame(table), hide_index=True, width="stretch", key="run-history",
                              column_config=tables.grid_columns(tables.HISTORY_WIDTHS, lang), on_select="rerun",
                              selection_mode="single-cell")
    screen.row_detail(shown_runs, len(run_rows), "run-history", lambda n: tables.run_detail(run_rows[n], lang))

# -- event log --------------------------------------------------------------------------------------------
st.header(t("event_log"), anchor=False)
audit = ui.actor().can("audit")  # support: what one person (or process) did, "Wie"
f1, f2, f3, f4, *f5 = st.columns(5 if audit else 4)
identity_options = [None, *names]
# None is every value: cleared, a filter shows "Alle" too (never Streamlit's English placeholder).
# Their words follow the reader's language at once (`ui.choice`), the choice stays.
pick = ui.choice(f1.selectbox, t("col_identity"), identity_options, key="log-identity", placeholder=t("all"),
                 format_func=lambda i: t("all") if i is None else plain(names[i]))
level = ui.choice(f2.selectbox, t("col_level"), [None, "error", "warning", "info"], key="log-level",
                  placeholder=t("all"), format_func=lambda v: t("all") if v is None else level_label(v),
                  filter_mode=None)
kinds = views.event_kind_choices(store, lang)  # a name said by several kinds is one choice, showing them all
kind = ui.choice(f3.selectbox, t("col_kind"), [None, *kinds], key="log-kind", placeholder=t("all"),
                 format_func=lambda v: t("all") if v is None else event_label(v, lang))
who = None
if audit:
    who = ui.choice(f4.selectbox, t("log_who"), [None, *views.event_actors(store)], key="log-who", placeholder=t("all"),
                    format_func=lambda v: t("all") if v is None else actor_label(v, lang))
search = (f5[0] if f5 else f4).text_input(t("search"), key="log-search", placeholder=t("search_log_hint"))
log = views.events(store, identity_id=pick, level=level, kind=kinds.get(kind, (kind,)) if kind is not None else None,
                   actor=who, search=search.strip() or None, limit=1000, lang=lang)
public = services.settings.console_public_url



def open_link(identity_id: float | None, number: object) -> str:
    """The invoice's row in the open items; empty (never a grey "None") for an event without an invoice (a column
    with an empty cell holds its ids as floats, the empty one NaN)."""
    if not isinstance(number, str) or not number or identity_id is None or identity_id != identity_id:
        return ""
    # The account too (`ui.carried`): opened in a new tab on a deployment of several accounts, the same account.
    wanted = ui.carried({"identity": str(int(identity_id)), "search": number})
    return f"{public}/Openstaande_posten?{urlencode(wanted)}"


if not len(log):
    filtered = any(value is not None for value in (pick, level, kind, who)) or bool(search.strip())
    st.caption(t("no_events" if filtered else "no_events_yet"))
else:
    log_rows = log.to_dict("records")
    shown_log = pd.DataFrame({
        t("col_time"): [fmt.moment(r["occurred_at"], lang) for r in log_rows],
        t("col_identity"): [r["identity_name"] or "" for r in log_rows],
        t("col_level"): [level_label(r['level']) for r in log_rows],
        t("col_kind"): [event_label(r["kind"], lang) for r in log_rows],
        t("col_invoice"): [views.text_or_empty(r["invoice_number"]) for r in log_rows],
        t("col_message"): [r["message"] for r in log_rows],
        t("col_open"): [open_link(r["identity_id"], r["invoice_number"]) for r in log_rows],
    })
    log_columns = tables.grid_columns(tables.LOG_WIDTHS, lang)
    log_columns[t("col_open")] = st.column_config.LinkColumn(t("col_open"), display_text=t("open"),
                                                             width=tables.LOG_WIDTHS["col_open"])
    shown_events = st.dataframe(plain_frame(shown_log), hide_index=True, width="stretch", key="event-log",
                                column_config=log_columns, on_select="rerun", selection_mode="single-cell")
    screen.row_detail(shown_events, len(log_rows), "event-log", lambda n: tables.event_detail(log_rows[n], lang))
    errors = log[(log["level"] == "error") & log["invoice_number"].notna()].head(10)
    if len(errors):
        st.subheader(t("errors_with_invoice"), anchor=False)
        for item in errors.to_dict("records"):
            ui.page_link("pages/openstaande_posten.py", label=f"{t('open')} {md(item['invoice_number'])} — "
                         f"{md(item['message'])}", icon=":material/receipt_long:",
                         query_params={"identity": str(int(item["identity_id"])), "search": item["invoice_number"]})
    st.download_button(t("download_log"), lambda: tables.log_csv(log, lang),
                       file_name=f"sync-log-{services.account}.csv", mime="text/csv", icon=":material/download:")
