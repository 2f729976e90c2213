"""Controles: every check for an identity, the VAT and ledger mapping editors with suggestions, and the dry run
of the first sync as a list."""

import pandas as pd
import streamlit as st

from console import manual, ui, views
from console.i18n import check_icon, current_lang, t
from sync import fmt, suggestions
from sync.checks import run_checks
from sync.jobs.locks import AlreadyRunning
from sync.jobs.mappings_io import KINDS
from sync.store import setup as setup_repo

services = ui.services()
store = services.store
lang = current_lang()

st.title(t("checks_title"))
identity = ui.pick_identity(views.identities(store), key="checks-identity")
if identity is None:
    st.stop()
identity_id = identity["identity_id"]
link = setup_repo.get_link(store, identity_id)
results_key = f"checks-{identity_id}"


def show_results(results) -> None:
    passed = sum(r.status == "pass" for r in results)
    warnings = sum(r.status == "warning" for r in results)
    failed = sum(r.status == "fail" for r in results)
    st.caption(t("checks_summary", passed=passed, warnings=warnings, failed=failed))
    for result in results:
        box = {"pass": st.success, "warning": st.warning, "fail": st.error}.get(result.status, st.info)
        text = f"{check_icon(result.status)} **{result.title(lang)}** — {result.explanation(lang)}"
        if result.status != "pass" and result.fix(lang):
            text += f"\n\n**{t('fix')}:** {result.fix(lang)}"
        box(text)


# -- the checks ---------------------------------------------------------------------------------------------
st.caption(t("checks_help"))
if st.button(t("run_checks"), key=f"run-checks-{identity_id}", type="primary", icon=":material/fact_check:"):
    with st.spinner(t("run_checks")):
        st.session_state[results_key] = run_checks(services, identity_id, include_dry_run=False)
if st.session_state.get(results_key):
    show_results(st.session_state[results_key])

# -- mappings -----------------------------------------------------------------------------------------------
mapping_results_key = f"mapping-results-{identity_id}"


def save(action) -> None:
    """Save one mapping; the checks on the invoices that use it are shown right away."""
    try:
        st.session_state[mapping_results_key] = action()
    except suggestions.MappingError as exc:
        st.session_state[mapping_results_key] = exc


def save_vat(s: suggestions.Suggestion, kind: str, percentage: object) -> list:
    return suggestions.save_vat_mapping(services, identity_id, s.gripp_id, s.gripp_label, kind, percentage,
                                        actor=ui.actor())


def save_ledger(s: suggestions.Suggestion, number: str) -> list:
    return suggestions.save_ledger_mapping(services, identity_id, s.gripp_id, s.gripp_label, number,
                                           actor=ui.actor())


def accept_all(proposals: list) -> list:
    results = []
    for s in proposals:  # VAT first: the ledger checks look at the VAT kinds booked on them
        if s.type == "vat":
            results += save_vat(s, s.snelstart, s.percentage)
        else:
            results += save_ledger(s, s.snelstart)
    return results


if link is not None:
    try:
        proposals = suggestions.suggest_mappings(services, identity_id)
    except suggestions.MappingError as exc:
        proposals = []
        st.warning(exc.text(lang))
    vat_mapped = {m["gripp_vat_id"]: m for m in setup_repo.vat_mappings(store, identity_id)}
    ledger_choices = views.snelstart_ledgers(store, link.administration_id)
    open_proposals = [s for s in proposals if s.changes]

    st.header(t("mappings_title"))
    st.caption(t("mapping_help"))
    if len(open_proposals) > 1 and st.button(t("accept_all", n=len(open_proposals)), key=f"accept-all-{identity_id}",
                                             type="primary", icon=":material/done_all:"):
        save(lambda: accept_all(open_proposals))
        st.rerun()
    if not proposals:
        st.info(t("no_mappings_needed"))
    saved = st.session_state.get(mapping_results_key)
    if isinstance(saved, suggestions.MappingError):
        st.error(saved.text(lang))
    elif saved:
        st.markdown(f"**{t('mapping_saved')}**")
        show_results(saved)

    for kind_of_row, title in (("vat", t("vat_mapping")), ("ledger", t("ledger_mapping"))):
        rows = [s for s in proposals if s.type == kind_of_row]
        if not rows:
            continue
        st.subheader(title)
        for s in rows:
            with st.container(border=True):
                name, now, choice, action = st.columns([3, 2, 3, 2], vertical_alignment="bottom")
                name.markdown(f"**{s.gripp_label}**  \nGripp id {s.gripp_id}")
                now.markdown(f"{t('current')}: **{s.existing or t('not_mapped')}**")
                if kind_of_row == "vat":
                    options = list(KINDS)
                    start = s.existing or s.snelstart or options[0]
                    picked = choice.selectbox(t("snelstart_vat_kind"), options, key=f"vat-{identity_id}-{s.gripp_id}",
                                              index=options.index(start) if start in options else 0)
                    current = vat_mapped.get(s.gripp_id)
                    percentage = s.percentage if s.percentage is not None else (
                        current["percentage"] if current else None)
                    if action.button(t("save"), key=f"save-vat-{identity_id}-{s.gripp_id}",
                                     disabled=percentage is None):
                        save(lambda s=s, picked=picked, percentage=percentage: save_vat(s, picked, percentage))
                        st.rerun()
                else:
                    options = list(ledger_choices)
                    start = s.existing or s.snelstart
                    picked = choice.selectbox(t("snelstart_ledger"), options, key=f"ledger-{identity_id}-{s.gripp_id}",
                                              index=options.index(start) if start in options else None,
                                              format_func=lambda n: ledger_choices.get(n, n))
                    if action.button(t("save"), key=f"save-ledger-{identity_id}-{s.gripp_id}", disabled=picked is None):
                        save(lambda s=s, picked=picked: save_ledger(s, picked))
                        st.rerun()
                if s.snelstart:
                    st.caption(f"{t('suggestion')}: **{s.snelstart}** — {s.reason(lang)}")
                else:
                    st.caption(s.reason(lang))
                if s.changes and st.button(t("accept_suggestion"), key=f"accept-{s.type}-{identity_id}-{s.gripp_id}",
                                           icon=":material/done:"):
                    if s.type == "vat":
                        save(lambda s=s: save_vat(s, s.snelstart, s.percentage))
                    else:
                        save(lambda s=s: save_ledger(s, s.snelstart))
                    st.rerun()


# -- the dry run ----------------------------------------------------------------------------------------------
st.header(t("dry_run_title"))
st.caption(t("dry_run_help"))
dry_key = f"dry-run-{identity_id}"
if link is None:
    st.info(t("needs_link"))
elif st.button(t("start_dry_run"), key=f"start-dry-{identity_id}", icon=":material/preview:"):
    try:
        run = manual.start(services, identity_id, actor=ui.actor(), dry_run=True)
    except AlreadyRunning:
        st.warning(t("sync_busy", name=identity["name"]))
    else:
        with st.spinner(t("start_dry_run")):
            run.done.wait()
        st.session_state[dry_key] = run

dry = st.session_state.get(dry_key)
if dry is not None:
    if dry.error is not None:
        st.error(f"{type(dry.error).__name__}: {dry.error}")
    for result in dry.results:
        if result.outcome == "failed" or result.push is None:
            st.error(result.message_en if lang == "en" else result.message_nl)
            continue
        would_book = sorted(result.push.would_book)
        blocked = sorted(result.push.would_block.items())
        payments = result.payments.would_register if result.payments else []
        tab_book, tab_block, tab_pay = st.tabs([t("would_book", n=len(would_book)), t("would_block", n=len(blocked)),
                                                t("would_pay", n=len(payments))])
        with tab_book:
            st.dataframe(pd.DataFrame({t("col_invoice"): would_book}), hide_index=True, width="stretch")
        with tab_block:
            st.dataframe(pd.DataFrame({
                t("col_invoice"): [number for number, _ in blocked],
                t("col_reason"): [" ".join(p.text(lang) for p in problems) for _, problems in blocked],
            }), hide_index=True, width="stretch")
        with tab_pay:
            st.dataframe(pd.DataFrame({
                t("col_invoice"): [p.number for p in payments],
                t("col_amount"): [fmt.money(p.amount, lang) for p in payments],
                t("col_date"): [fmt.day(p.pay_date, lang) for p in payments],
            }), hide_index=True, width="stretch")
