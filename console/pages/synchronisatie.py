"""Synchronisatie: sync now (one identity or all) with live progress, the schedule, run history and the event log."""

import streamlit as st

from console import manual, runtime, tables, ui, views
from console.i18n import badge, current_lang, icon, outcome_label, step_label, t, trigger_label
from sync import fmt
from sync.jobs.locks import AlreadyRunning
from sync.jobs.requeue import retry_failed
from sync.jobs.runner import STEPS

services = ui.services()
store = services.store
lang = current_lang()
scheduler = runtime.scheduler()

st.title(t("sync_title"))
linked = views.linked_identities(store)
names = {row["identity_id"]: row["name"] for row in views.identities(store)}


def wait_for(run: manual.ManualRun) -> None:
    """Draw the run's progress until it is done. Stopping this script (a rerun, another page) leaves the sync
    running in its own thread."""
    title = t("sync_all_running") if run.identity_id == manual.ALL else t("sync_running",
                                                                          name=names.get(run.identity_id, ""))
    bar = st.progress(0.0, text=title)
    with st.status(title, expanded=True) as status:
        lines = st.empty()
        while True:
            finished = run.done.wait(0.25)
            identities = sorted(run.fraction) or ([run.identity_id] if run.identity_id != manual.ALL else [])
            overall = (sum(run.fraction.values()) / max(1, len(linked) if run.identity_id == manual.ALL else 1))
            bar.progress(min(1.0, 1.0 if finished else overall), text=title)
            text = []
            for identity_id in identities:
                current = run.step.get(identity_id)
                text.append(f"**{names.get(identity_id, identity_id)}**")
                for step in STEPS:
                    done = current is not None and (STEPS.index(step) < STEPS.index(current)
                                                    or run.fraction.get(identity_id, 0) >= 1.0)
                    mark = icon("ok") if done or finished else icon("running" if step == current else "todo")
                    text.append(f"- {mark} {step_label(step)}")
            lines.markdown("\n".join(text))
            if finished:
                break
        failed = run.error is not None or any(r.outcome == "failed" for r in run.results)
        status.update(label=t("sync_finished_with_errors") if failed else t("sync_finished"),
                      state="error" if failed else "complete", expanded=False)
    remember(run)


def icon_name(outcome: str) -> str:
    return {"ok": ":material/check_circle:", "warnings": ":material/warning:", "failed": ":material/error:"}.get(
        outcome, ":material/pause_circle:")


def remember(run: manual.ManualRun) -> None:
    shown = []
    for result in run.results:
        shown.append({"identity_id": result.identity_id, "outcome": result.outcome, "counts": dict(result.counts),
                      "message": result.message_en if lang == "en" else result.message_nl})
    for identity_id in run.refused:
        shown.append({"identity_id": identity_id, "outcome": "refused", "counts": {}, "message": ""})
    if run.error is not None:
        shown.append({"identity_id": run.identity_id, "outcome": "failed", "counts": {},
                      "message": f"{type(run.error).__name__}: {run.error}"})
    st.session_state["sync_results"] = shown


def start(identity_id: int) -> None:
    try:
        run = manual.start(services, identity_id, actor=ui.actor())
    except AlreadyRunning:
        st.warning(t("sync_busy", name=names.get(identity_id, identity_id)))
        return
    wait_for(run)
    st.rerun()  # draw the page again with the run's outcome in every tile


# -- sync now ---------------------------------------------------------------------------------------------
if not linked:
    st.info(t("sync_nothing_linked"))
    st.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:")

clicked: int | None = None
if linked and st.button(t("sync_all"), icon=":material/sync:", key="sync-all", type="primary"):
    clicked = manual.ALL

for row in linked:
    identity_id = row["identity_id"]
    last = views.last_run(store, identity_id)
    counts = views.booking_counts(store, identity_id)
    with st.container(border=True):
        left, middle, right, button = st.columns(4, vertical_alignment="center")
        left.markdown(f"**{row['name']}**  \n{t('administration')}: {row['administration_name']}")
        if last:
            middle.markdown(f"{t('last_run')}: {fmt.moment(last['started_at'], lang)}  \n"
                            f"{badge('outcome', last['outcome'])}")
        else:
            middle.markdown(f"{t('last_run')}: {t('never')}")
        next_run = scheduler.next_run(identity_id) if scheduler else None
        right.markdown(f"{t('next_run')}: " + (fmt.moment(next_run, lang) if next_run else t("paused") if
                                              row["paused"] else t("not_planned")))
        if button.button(t("sync_now"), key=f"sync-{identity_id}", icon=":material/play_arrow:", width="stretch"):
            clicked = identity_id
        if counts["failed"]:
            st.warning(t("failed_waiting", n=counts["failed"]))
            if st.button(t("retry_failed"), key=f"retry-{identity_id}", icon=":material/replay:"):
                moved = retry_failed(store, identity_id, ui.actor())
                st.toast(t("retry_moved", n=moved))
                clicked = identity_id
        if not ui.actor().can("schedule"):
            continue
        with st.expander(t("schedule")):
            minutes = st.number_input(t("interval_minutes"), min_value=1, max_value=24 * 60,
                                      value=int(row["interval_minutes"] or 20), step=5, key=f"interval-{identity_id}")
            col_a, col_b = st.columns(2)
            if col_a.button(t("save_interval"), key=f"save-interval-{identity_id}") and scheduler:
                scheduler.set_interval(identity_id, int(minutes), actor=ui.actor())
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
else:
    going = views.running(store)
    if len(going):
        @st.fragment(run_every=2)
        def progress_elsewhere() -> None:
            current = views.running(store)
            if not len(current):
                st.rerun()
            for item in current.to_dict("records"):
                label = t("sync_running", name=item["identity_name"] or item["identity_id"])
                st.progress(min(1.0, float(item["progress"] or 0)),
                            text=f"{label} — {step_label(item['step'])} ({trigger_label(item['trigger'])})")

        progress_elsewhere()

for shown in st.session_state.get("sync_results", []):
    name = names.get(shown["identity_id"], t("all_identities"))
    counts = shown["counts"]
    if shown["outcome"] == "refused":
        st.warning(t("sync_busy", name=name))
        continue
    box = st.error if shown["outcome"] == "failed" else st.warning if shown["outcome"] == "warnings" else st.success
    box(f"**{name}** — {outcome_label(shown['outcome'])}. {shown['message']}", icon=icon_name(shown["outcome"]))
    if counts:
        cols = st.columns(5)
        cols[0].metric(t("count_booked_now"), counts.get("booked", 0))
        cols[1].metric(t("count_adopted"), counts.get("adopted", 0), help=t("count_adopted_help"))
        cols[2].metric(t("count_blocked"), counts.get("blocked", 0))
        cols[3].metric(t("count_failed"), counts.get("failed", 0))
        cols[4].metric(t("count_payments"), counts.get("payments_registered", 0))

# -- run history ------------------------------------------------------------------------------------------
st.header(t("run_history"))
history = views.runs(store, limit=100)
if not len(history):
    st.caption(t("no_runs"))
else:
    table = history.assign(
        **{
            t("col_started"): [fmt.moment(v, lang) for v in history["started_at"]],
            t("col_identity"): history["identity_name"].fillna(""),
            t("col_trigger"): [trigger_label(v) + (f" ({t('dry_run')})" if d else "")
                               for v, d in zip(history["trigger"], history["dry_run"], strict=True)],
            t("col_outcome"): [outcome_label(v) for v in history["outcome"]],
            t("col_summary"): history["message"].fillna(""),
            t("col_by"): history["actor"].fillna(""),
        }
    )[[t("col_started"), t("col_identity"), t("col_trigger"), t("col_outcome"), t("col_summary"), t("col_by")]]
    st.dataframe(table, hide_index=True, width="stretch")

# -- event log --------------------------------------------------------------------------------------------
st.header(t("event_log"))
f1, f2, f3, f4 = st.columns(4)
identity_options = [None, *names]
pick = f1.selectbox(t("col_identity"), identity_options, key="log-identity",
                    format_func=lambda i: t("all") if i is None else names[i])
level = f2.selectbox(t("col_level"), [None, "error", "warning", "info"], key="log-level",
                     format_func=lambda v: t("all") if v is None else t(f"level_{v}"))
kind = f3.selectbox(t("col_kind"), [None, *views.event_kinds(store)], key="log-kind",
                    format_func=lambda v: t("all") if v is None else v)
search = f4.text_input(t("search"), key="log-search", placeholder=t("search_log_hint"))
log = views.events(store, identity_id=pick, level=level, kind=kind, search=search.strip() or None, limit=1000)
message_column = "message_en" if lang == "en" else "message_nl"
public = services.settings.console_public_url


def open_link(identity_id: object, number: object) -> str | None:
    if not isinstance(number, str) or not number or identity_id is None or identity_id != identity_id:
        return None
    return f"{public}/Openstaande_posten?identity={int(identity_id)}&search={number}"


if not len(log):
    st.caption(t("no_events"))
else:
    shown_log = log.assign(
        **{
            t("col_time"): [fmt.moment(v, lang) for v in log["occurred_at"]],
            t("col_identity"): log["identity_name"].fillna(""),
            t("col_level"): [t(f"level_{v}") for v in log["level"]],
            t("col_kind"): log["kind"],
            t("col_invoice"): log["invoice_number"].fillna(""),
            t("col_message"): log[message_column],
            t("col_open"): [open_link(i, n) for i, n in zip(log["identity_id"], log["invoice_number"], strict=True)],
        }
    )[[t("col_time"), t("col_identity"), t("col_level"), t("col_kind"), t("col_invoice"), t("col_message"),
       t("col_open")]]
    st.dataframe(
        shown_log, hide_index=True, width="stretch",
        column_config={t("col_open"): st.column_config.LinkColumn(t("col_open"), display_text=t("open"))},
    )
    errors = log[(log["level"] == "error") & log["invoice_number"].notna()].head(10)
    if len(errors):
        st.subheader(t("errors_with_invoice"))
        for item in errors.to_dict("records"):
            st.page_link("pages/openstaande_posten.py", label=f"{t('open')} {item['invoice_number']} — "
                         f"{item[message_column][:120]}", icon=":material/receipt_long:",
                         query_params={"identity": str(int(item["identity_id"])), "search": item["invoice_number"]})
    st.download_button(t("download_log"), lambda: tables.log_csv(log, lang), file_name="sync-log.csv", mime="text/csv",
                       icon=":material/download:")
