"""Controles: every check for an identity, the invoices waiting for a person (conflicts, contradicting customer
details), the VAT, ledger, kostenplaats and customer mapping editors with suggestions, and the dry run of the first
sync as a list."""

from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pandas as pd
import streamlit as st

from console import manual, records, ui, views
from console.i18n import check_icon, current_lang, t, tn
from console.text import md, md_lines, plain_frame
from sync.core import fmt
from sync.core.events import Outcome, actor_message
from sync.core.outside_text import plain
from sync.core.words import N_, NN_, Msg, said, say
from sync.jobs import customer_mapping, kostenplaatsen, overview, plan, preview, suggestions
from sync.jobs.checks import FAIL, PASS, WARNING, CheckResult, run_checks
from sync.jobs.locks import AlreadyRunning
from sync.jobs.mappings_io import KINDS
from sync.mapping.problems import LINE_KOSTENPLAATS_CODES, ProblemCode
from sync.store import previews
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


def checks_summary(results: list[CheckResult]) -> str:
    """`5 in orde, 1 waarschuwing, 2 fouten` — every count with its own singular or plural."""
    def counted(key: str, status: str) -> Msg:
        return Msg(key, n=sum(r.status == status for r in results))

    return t(Msg("checks.summary", passed=counted(NN_("checks.passed"), PASS),
                 warnings=counted(NN_("checks.warnings"), WARNING), failed=counted(NN_("checks.failed"), FAIL)))


def show_results(results: list[CheckResult]) -> None:
    st.caption(checks_summary(results))
    for result in results:
        box = {PASS: st.success, WARNING: st.warning, FAIL: st.error}.get(result.status, st.info)
        explanation = say(result.explanation, lang)
        joint = "\n\n" if explanation.startswith("- ") else " — "  # a list starts on its own line
        text = f"{check_icon(result.status)} **{md(say(result.title, lang))}**{joint}{md_lines(explanation)}"
        if result.status != PASS and result.fix is not None:
            fix = say(result.fix, lang)
            text += f"\n\n**{t('fix')}:**" + (f"\n\n{md_lines(fix)}" if fix.startswith("- ") else f" {md(fix)}")
        box(text)


# -- the checks ---------------------------------------------------------------------------------------------
st.caption(t("checks_help"))
if st.button(t("run_checks"), key=f"run-checks-{identity_id}", type="primary", icon=":material/fact_check:"):
    with st.spinner(t("run_checks")):
        st.session_state[results_key] = run_checks(services, identity_id, include_dry_run=False)
if st.session_state.get(results_key):
    show_results(st.session_state[results_key])

# -- invoices waiting for a person ---------------------------------------------------------------------------
st.header(t("records_title"))
st.caption(t("records_help"))
records.show(services, identity_id, key="checks", mapping_here=link is not None)

# -- mappings -----------------------------------------------------------------------------------------------
mapping_results_key = f"mapping-results-{identity_id}"


def save(action: Callable[[], list[CheckResult]]) -> None:
    """Save one mapping; the checks on the invoices that use it are shown right away."""
    try:
        st.session_state[mapping_results_key] = action()
    except suggestions.MappingError as exc:
        st.session_state[mapping_results_key] = exc


def save_vat(s: suggestions.Suggestion, kind: str, percentage: Decimal | None) -> list[CheckResult]:
    return suggestions.save_vat_mapping(services, identity_id, s.gripp_id, s.gripp_label, kind, percentage,
                                        actor=ui.actor())


def save_ledger(s: suggestions.Suggestion, number: str) -> list[CheckResult]:
    return suggestions.save_ledger_mapping(services, identity_id, s.gripp_id, s.gripp_label, number,
                                           actor=ui.actor())


def save_kostenplaats(s: suggestions.Suggestion, number: str) -> list[CheckResult]:
    return kostenplaatsen.save_kostenplaats_mapping(services, identity_id, s.gripp_id, s.gripp_label, number,
                                                    actor=ui.actor())


# The editors that map a Gripp id to a SnelStart number: the choices offered, the select box's label, the save.
NUMBER_EDITORS: dict[str, tuple[Callable[[suggestions.Suggestion], dict[str, str]], str,
                                Callable[[suggestions.Suggestion, str], list[CheckResult]]]] = {
    "ledger": (lambda s: suggestions.ledger_options(services, identity_id, s.gripp_id), N_("snelstart_ledger"),
               save_ledger),
    "kostenplaats": (lambda s: kostenplaatsen.kostenplaats_options(services, identity_id), N_("snelstart_kostenplaats"),
                     save_kostenplaats),
}


def save_suggested(s: suggestions.Suggestion) -> list[CheckResult]:
    """Take a suggestion as it is."""
    if s.type == "vat":
        return save_vat(s, s.snelstart, s.percentage)
    return NUMBER_EDITORS[s.type][2](s, s.snelstart)


def save_customer(s: customer_mapping.CustomerSuggestion, relatiecode: str) -> list[CheckResult]:
    return customer_mapping.save_customer_mapping(services, identity_id, s.company_id, relatiecode,
                                                  actor=ui.actor())


def label_of(labels: dict[str, str], code: str) -> str:
    """A choice as a select box shows it: plain text, SnelStart's name without bidirectional or control characters."""
    return plain(str(labels.get(code, code)))


def accept_all(proposals: list[suggestions.Suggestion]) -> list[CheckResult]:
    results: list[CheckResult] = []
    for s in proposals:  # VAT first: the ledger checks look at the VAT kinds booked on them
        results += save_suggested(s)
    return results


if link is not None:
    try:
        proposals = suggestions.suggest_mappings(services, identity_id) + kostenplaatsen.suggest(services, identity_id)
    except suggestions.MappingError as exc:
        proposals = []
        st.warning(t(exc.message))
    vat_mapped = {m["gripp_vat_id"]: m for m in setup_repo.vat_mappings(store, identity_id)}
    open_proposals = [s for s in proposals if s.changes]

    st.header(t("mappings_title"))
    st.caption(t("mapping_help"))
    if len(open_proposals) > 1 and st.button(tn("accept_all", n=len(open_proposals)), key=f"accept-all-{identity_id}",
                                             type="primary", icon=":material/done_all:"):
        save(partial(accept_all, open_proposals))
        st.rerun()
    if not proposals:
        st.info(t("no_mappings_needed"))
    saved = st.session_state.get(mapping_results_key)
    if isinstance(saved, suggestions.MappingError):
        st.error(t(saved.message))
    elif saved:
        st.markdown(f"**{t('mapping_saved')}**")
        show_results(saved)

    for kind_of_row, title in (("vat", t("vat_mapping")), ("ledger", t("ledger_mapping")),
                               ("kostenplaats", t("kostenplaats_mapping"))):
        rows = [s for s in proposals if s.type == kind_of_row]
        if not rows:
            continue
        st.subheader(title, anchor=False)
        for s in rows:
            with st.container(border=True):
                name, now, choice, action = st.columns([3, 2, 3, 2], vertical_alignment="bottom")
                # Gripp's own number beside its name, so a suggestion "same number" can be checked at a glance
                gripp_number = f"{t('gripp_number', number=s.gripp_number)} · " if s.gripp_number else ""
                name.markdown(f"**{md(s.gripp_label)}**  \n{gripp_number}Gripp id {s.gripp_id}")
                now.markdown(f"{t('current')}: **{md(s.existing) if s.existing else t('not_mapped')}**")
                if kind_of_row == "vat":
                    options = list(KINDS)
                    start = s.existing or s.snelstart or options[0]
                    picked = choice.selectbox(t("snelstart_vat_kind"), options, key=f"vat-{identity_id}-{s.gripp_id}",
                                              index=options.index(start) if start in options else 0,
                                              placeholder=ui.placeholder(options), filter_mode=None)
                    current = vat_mapped.get(s.gripp_id)
                    percentage = s.percentage if s.percentage is not None else (
                        current["percentage"] if current else None)
                    if action.button(t("save"), key=f"save-vat-{identity_id}-{s.gripp_id}",
                                     disabled=percentage is None):
                        save(partial(save_vat, s, picked, percentage))
                        st.rerun()
                else:
                    # Ledgers: only active revenue accounts that allow the VAT kinds booked on this ledger are
                    # offered; kostenplaatsen: only active ones.
                    offered, label, save_number = NUMBER_EDITORS[kind_of_row]
                    choices = offered(s)
                    options = list(choices)
                    mapped_to = s.existing or s.snelstart
                    number = choice.selectbox(t(label), options, key=f"{kind_of_row}-{identity_id}-{s.gripp_id}",
                                              index=options.index(mapped_to) if mapped_to in options else None,
                                              format_func=partial(label_of, choices),
                                              placeholder=ui.placeholder(options))
                    if action.button(t("save"), key=f"save-{kind_of_row}-{identity_id}-{s.gripp_id}",
                                     disabled=number is None) and number is not None:
                        save(partial(save_number, s, number))
                        st.rerun()
                if s.snelstart:
                    st.caption(f"{t('suggestion')}: **{md(s.snelstart)}** — {md(say(s.reason, lang))}")
                else:
                    st.caption(md(say(s.reason, lang)))
                if s.changes and st.button(t("accept_suggestion"), key=f"accept-{s.type}-{identity_id}-{s.gripp_id}",
                                           icon=":material/done:"):
                    save(partial(save_suggested, s))
                    st.rerun()

    # -- customer mapping: pin a Gripp company to a SnelStart relatie -----------------------------------------
    st.subheader(t("customer_mapping"), anchor=records.CUSTOMER_MAPPING_ANCHOR)
    st.caption(t("customer_mapping_help"))
    try:
        customer_rows = customer_mapping.suggest_customer_mappings(services, identity_id)
    except suggestions.MappingError as exc:
        customer_rows = []
        st.warning(t(exc.message))
    klant_choices = customer_mapping.klanten(store, link.administration_id)
    if not customer_rows:
        st.info(t("no_customer_mappings_needed"))
    for c in customer_rows:
        with st.container(border=True):
            name, now = st.columns([3, 2], vertical_alignment="bottom")
            number = f" — {t('customer_number', number=str(c.customernumber))}" if c.customernumber is not None else ""
            name.text(f"{c.gripp_label}{number} (Gripp id {c.company_id})")
            now.markdown(f"{t('current')}: **{c.existing or t('not_pinned')}**")
            # A row of its own: relatie names are long ("10074 — Adviesgroep Hunzedal B.V.") and must read whole.
            choice, action = st.columns([4, 1], vertical_alignment="bottom")
            relatie_options = list(klant_choices)
            pinned = c.existing or c.snelstart
            relatie = choice.selectbox(t("snelstart_relatie"), relatie_options,
                                       key=f"customer-{identity_id}-{c.company_id}",
                                       index=relatie_options.index(pinned) if pinned in relatie_options else None,
                                       format_func=lambda code: plain(str(klant_choices.get(code, code))),
                                       placeholder=ui.placeholder(relatie_options))
            if action.button(t("save"), key=f"save-customer-{identity_id}-{c.company_id}",
                             disabled=relatie is None) and relatie is not None:
                save(partial(save_customer, c, relatie))
                st.rerun()
            st.text(say(c.reason, lang))
            if c.changes and st.button(t("accept_suggestion"), key=f"accept-customer-{identity_id}-{c.company_id}",
                                       icon=":material/done:"):
                save(partial(save_customer, c, c.snelstart))
                st.rerun()
            if c.existing and st.button(t("remove_pin"), key=f"unpin-customer-{identity_id}-{c.company_id}",
                                        icon=":material/link_off:"):
                customer_mapping.remove_customer_mapping(services, identity_id, c.company_id, actor=ui.actor())
                st.toast(t("pin_removed"))
                st.rerun()


# -- the dry run ----------------------------------------------------------------------------------------------
st.header(t("dry_run_title"), anchor=False)
st.caption(t("dry_run_help"))
if link is None:
    st.info(t("needs_link"))
    ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                 query_params={"identity": str(identity_id)})
    st.stop()
if st.button(t("start_dry_run"), key=f"start-dry-{identity_id}", icon=":material/preview:"):
    try:
        manual.start(services, identity_id, actor=ui.actor(), dry_run=True).first_step.wait(5)
    except AlreadyRunning:
        st.warning(t("sync_busy", name=identity["name"]))
    else:
        st.rerun()
ui.live_progress(services)

# The last dry run, from the store: it survives a reload and is the same for everyone.
found = previews.latest(store, identity_id)
dry = preview.latest(services, identity_id)
if dry is None or found is None:
    st.info(t("dry_run_none"), icon=":material/preview:")
    st.stop()
st.caption(t("dry_run_of", when=fmt.moment(found["finished_at"] or found["started_at"], lang),
             who=actor_message(found["actor"])))
if dry.outcome == Outcome.FAILED:
    st.error(t("dry_run_failed", reason=said(dry.reason, lang)))
    st.stop()

st.markdown(tn("dry_run_accounts", n=len(dry.invoices)))
DECISION_SHOWN = [plan.BOOK, plan.ADOPT, plan.BLOCKED, plan.CONFLICT, plan.REFUSED, plan.NOTHING, plan.ALREADY_BOOKED,
                  plan.BEFORE_START]
labels = [f"{t(plan.DECISION_LABELS[d])} ({fmt.count(len(dry.of(d)), lang)})" for d in DECISION_SHOWN]
labels.append(f"{t('decision_payments')} ({fmt.count(len(dry.payments), lang)})")
FIX_OF = {plan.CONFLICT: N_("fix_conflict"), plan.REFUSED: N_("fix_refused")}


_P = ProblemCode
MAPPING_CODES = frozenset({_P.VAT_UNMAPPED, _P.VAT_KIND_INVALID, _P.VAT_PERCENTAGE_WRONG, _P.LEDGER_UNMAPPED,
                           _P.LEDGER_MISSING, _P.LEDGER_INACTIVE, _P.LEDGER_NOT_SALES, _P.LEDGER_NOT_SALES_NOTE,
                           _P.LEDGER_VAT_MISMATCH})  # fixed in the mappings below


def blocked_fix(lines: list) -> str:
    """Where the blocked invoices' problems are fixed, only the places their kinds need: the mappings, the
    kostenplaatsen (their mapping, the line in Gripp, or the source on Koppelen), the customer, or the invoice itself
    in Gripp (a split reverse-charge invoice, a missing number, ...)."""
    mapping, kostenplaats = N_("fix_blocked_mapping"), N_("fix_blocked_kostenplaats")
    customer, invoice = N_("fix_blocked_customer"), N_("fix_blocked_invoice")
    kinds = {mapping if code in MAPPING_CODES else kostenplaats if code in LINE_KOSTENPLAATS_CODES
             else customer if code in views.CUSTOMER_CODES else invoice
             for line in lines for code in line.codes}
    order = (mapping, kostenplaats, customer, invoice)
    return " ".join([t(key) for key in order if key in kinds] + [t("fix_blocked")])


# A contradicting customer's reason is said in full once, in the mapping's row above: here it points there.
pinned_above = {str(block["number"]) for block in views.customer_blocks(store, identity_id)}
tabs = st.tabs(labels)
for tab, decision in zip(tabs, DECISION_SHOWN, strict=False):
    with tab:
        lines = dry.of(decision)
        if not lines:
            st.caption(t("decision_empty"))
            continue
        columns = {
            t("col_invoice"): [line.number for line in lines],
            t("col_customer"): [line.customer for line in lines],
            t("col_date"): [fmt.day(line.invoice_date, lang) for line in lines],
            t("col_amount"): [fmt.money(line.amount, lang) for line in lines],
        }
        config = {}
        if decision == plan.ALREADY_BOOKED:  # apart, as Overzicht counts them: booked by the link, adopted
            apart = overview.already_booked_apart(store, identity_id, [line.number for line in lines])
            st.caption(" · ".join(f"{t(overview.OVERVIEW_COUNTS[name])}: {fmt.count(apart[name], lang)}"
                                  for name in ("booked", "adopted")))
        if decision in (plan.BLOCKED, plan.CONFLICT, plan.REFUSED):
            columns[t("col_reason")] = [said(line.reasons, lang) for line in lines]
            config[t("col_reason")] = st.column_config.TextColumn(t("col_reason"), width="large")
            st.caption(blocked_fix(lines) if decision == plan.BLOCKED else t(FIX_OF[decision]))
        st.dataframe(plain_frame(pd.DataFrame(columns)), hide_index=True, width="stretch", column_config=config,
                     key=f"dry-{decision}", row_height=60 if config else None)
        if decision in (plan.BLOCKED, plan.CONFLICT, plan.REFUSED):  # the reasons in full, never cut off by the grid
            for line in lines[:20]:
                reason = t("reason_in_customer_mapping") if str(line.number) in pinned_above \
                    else md(said(line.reasons, lang))
                st.markdown(f"- **{md(line.number)}** ({md(line.customer)}): {reason}")
with tabs[-1]:
    if not dry.payments:
        st.caption(t("decision_empty"))
    else:
        st.dataframe(plain_frame(pd.DataFrame({
            t("col_invoice"): [p.number for p in dry.payments],
            t("col_customer"): [p.customer for p in dry.payments],
            t("col_date"): [fmt.day(p.pay_date, lang) for p in dry.payments],
            t("col_amount"): [fmt.money(p.amount, lang) for p in dry.payments],
        })), hide_index=True, width="stretch", key="dry-payments")
