"""Invoices waiting for a person, shown the same way on Controles and Synchronisatie: conflicts (a SnelStart booking
with their number that does not fit) with "adopt anyway", and customers whose details contradict each other,
pointing to the customer mapping. Outside names are in the texts; they are shown as plain text."""

from __future__ import annotations

import streamlit as st

from console import ui, views
from console.i18n import current_lang, t
from sync.core.events import Outcome
from sync.core.words import N_, say
from sync.jobs import conflicts as conflict_jobs
from sync.jobs import plan, preview
from sync.mapping.problems import ProblemCode
from sync.wiring import Services


def waiting(services: Services, identity_id: int) -> int:
    """How many invoices wait for a decision."""
    store = services.store
    return len(conflict_jobs.conflicts(store, identity_id)) + len(views.customer_blocks(store, identity_id))


def nothing_waiting(services: Services, identity_id: int) -> str:
    """Why the list is empty. Before the first sync nothing can wait yet, while the checks and the dry run may
    already see conflicts and contradicting customers: say that, with what the last dry run found."""
    if views.last_run(services.store, identity_id) is not None:
        return t("no_records")
    dry = preview.latest(services, identity_id)
    if dry is None or dry.outcome == Outcome.FAILED:
        return t("no_records_before_sync")
    found = len(dry.of(plan.CONFLICT)) + sum(bool(set(line.codes) & set(views.CUSTOMER_CODES))
                                             for line in dry.of(plan.BLOCKED))
    return t("no_records_before_sync") + (" " + t("records_in_dry_run", n=found) if found else "")


def card_fix(conflict: conflict_jobs.Conflict, may_adopt: bool, lang: str) -> str:
    """What to do, in words for this card: the kept fix points to where the button is (for the log and the CSV);
    here the button is right below it, or not there at all for someone who may not adopt."""
    if conflict.code != ProblemCode.BOOKING_CONFLICT:  # nothing to adopt (SnelStart does not show the booking)
        return say(conflict.fix, lang) if conflict.fix is not None else ""
    return t("conflict_fix_below" if may_adopt else "conflict_fix_ask_support", lang)


CUSTOMER_MAPPING_ANCHOR = "customer-mapping"  # Controles' customer mapping section

# On Controles a customer problem's fix points down the page, never to "Controles → Klantkoppeling": the reader is
# there. Its reason is said once, in the customer's row of the mapping.
FIX_HERE = {ProblemCode.CUSTOMER_CONTRADICTION: N_("customer_fix_here.customer_contradiction"),
            ProblemCode.CUSTOMER_AMBIGUOUS: N_("customer_fix_here.customer_ambiguous"),
            ProblemCode.CUSTOMER_PIN_INVALID: N_("customer_fix_here.customer_pin_invalid")}


def pin_customer_way(services: Services, identity_id: int, *, mapping_here: bool) -> None:
    """The way to the customer mapping, one click away: further down this page (`mapping_here`: Controles), else a
    link to it on Controles; for someone who may not pin a customer, whom to ask."""
    if not ui.actor().can("mappings"):
        st.caption(t("pin_customer_ask_support"))
    elif mapping_here:
        st.markdown(f":material/arrow_downward: [{t('pin_customer_below')}](#{CUSTOMER_MAPPING_ANCHOR})")
    else:
        ui.page_link("pages/controles.py", label=t("pin_customer_go"), icon=":material/link:",
                     query_params={"account": services.account, "identity": str(identity_id)})


def show(services: Services, identity_id: int, *, key: str, mapping_here: bool = False) -> None:
    """The list, each with its way out. `key` keeps the buttons apart when two pages draw it; `mapping_here`: the
    page draws the customer mapping further down."""
    lang = current_lang()
    store = services.store
    found = conflict_jobs.conflicts(store, identity_id)
    customers = views.customer_blocks(store, identity_id)
    outcome = st.session_state.pop(f"{key}-outcome-{identity_id}", None)
    if outcome:
        (st.error if outcome[0] == "error" else st.success)(outcome[1])
    if not found and not customers:
        st.caption(nothing_waiting(services, identity_id))
        return
    may_adopt = ui.actor().can("adopt")
    for conflict in found:
        with st.container(border=True):
            st.markdown(f"**{t('conflict_title', number=conflict.number)}**")
            st.text(f"{say(conflict.message, lang)} {card_fix(conflict, may_adopt, lang)}")
            if not may_adopt:
                continue
            # A finance decision: confirmed like Ontkoppelen and Verwijderen, a "Ja, …" box that enables the button.
            st.caption(t("adopt_anyway_what"))
            sure = st.checkbox(t("adopt_anyway_sure", number=conflict.number), disabled=not conflict.adoptable,
                               key=f"{key}-adopt-sure-{identity_id}-{conflict.invoice_id}")
            if st.button(t("adopt_anyway"), key=f"{key}-adopt-{identity_id}-{conflict.invoice_id}",
                         help=t("adopt_anyway_help"), disabled=not (conflict.adoptable and sure),
                         icon=":material/how_to_reg:"):
                try:
                    conflict_jobs.adopt_anyway(store, identity_id, conflict.invoice_id, actor=ui.actor())
                except conflict_jobs.ConflictError as exc:
                    st.session_state[f"{key}-outcome-{identity_id}"] = ("error", t(exc.message))
                else:
                    services.ran()  # the accounts page counts the conflicts: it agrees with Overzicht right away
                    st.session_state[f"{key}-outcome-{identity_id}"] = (
                        "ok", t("adopted_anyway", number=conflict.number))
                st.rerun()
    for block in customers:
        with st.container(border=True):
            st.markdown(f"**{t('contradiction_title', number=block['number'])}**")
            if mapping_here and block["code"] in FIX_HERE:  # the reason in full is in the mapping's row below
                st.text(t(FIX_HERE[block["code"]]))
            else:
                fix = say(block["fix"], lang) if block["fix"] is not None else ""
                st.text(f"{say(block['message'], lang)} {fix}")
            pin_customer_way(services, identity_id, mapping_here=mapping_here)
