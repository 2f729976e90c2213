"""Koppelen: the seed's linking steps as a wizard per identity, the paste fallback, unlinking and adding an
identity. SnelStart sends the browser back here (`/Koppelen?identity=…&ref=…`); the key itself arrives through
the webhook and is only ever shown masked."""

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from console import ui, views
from console.i18n import check_icon, current_lang, health_label, icon, said, t, tn
from console.text import md, md_lines
from sync.core import fmt
from sync.core.money import typed_amount
from sync.core.words import N_, Msg, say
from sync.jobs import activation, identities, kostenplaatsen, linking
from sync.jobs.activation import ReturnState
from sync.jobs.inputs import kostenplaats_source
from sync.jobs.suggestions import MappingError
from sync.mapping.types import KostenplaatsSource
from sync.store import setup as setup_repo
from sync.store.catalog import AdministrationLink
from sync.store.setup import IdentityRow, Link, LinkHealth

services = ui.services()
store = services.store
lang = current_lang()

st.title(t("link_title"))

# Gripp has no list of identities: they are read off its invoices and companies (as `identities discover` does).
known = views.identities(store)
if st.session_state.get("identities_found"):
    st.success(st.session_state.pop("identities_found"), icon=":material/person_search:")
if not known:
    st.info(t("no_identities_here"), icon=":material/person_search:")
if st.button(t("discover_identities"), key="discover-identities", icon=":material/person_search:",
             type="secondary" if known else "primary", help=t("discover_identities_help")):
    try:
        found = identities.discover_identities(services, actor=ui.actor())
    except linking.LinkError as exc:
        st.error(t(exc.message))
    else:
        before = {row["identity_id"] for row in known}
        new = [row["name"] or f"#{row['identity_id']}" for row in found if row["identity_id"] not in before]
        if not found:
            st.warning(t("identities_none_in_gripp"))
        else:
            st.session_state["identities_found"] = (tn("identities_found", n=len(new), names=", ".join(new)) if new
                                                    else tn("identities_none_new", n=len(found)))
            st.rerun()

with st.expander(t("add_identity"), icon=":material/person_add:"):
    # A text field checked by us: Streamlit's number field shows English range errors and rounds 1.5 to 1.
    typed_id = st.text_input(t("identity_id"), key="new-identity-id", max_chars=12)
    new_name = st.text_input(t("identity_name_optional"), key="new-identity-name")
    if st.button(t("add"), key="add-identity"):
        new_id, problem = ui.whole_number(typed_id, low=1, high=identities.MAX_IDENTITY_ID)
        if problem or new_id is None:
            st.error(problem)
        else:
            try:  # verified against Gripp first: a mistyped id is refused with what to check
                added = identities.add_identity(services, new_id, new_name, actor=ui.actor())
                st.success(t("identity_added", name=added))
            except linking.LinkError as exc:
                st.error(t(exc.message))

picked = ui.pick_identity(views.identities(store), key="link-identity", here=True)
if picked is None:
    st.stop()
identity: IdentityRow = picked
identity_id = identity["identity_id"]
link = setup_repo.get_link(store, identity_id)
returned_ref = st.query_params.get("ref") if str(st.query_params.get("identity", "")) == str(identity_id) else None
return_state = activation.return_state(services, identity_id, returned_ref) if returned_ref else None


# Words said on every surface that send the reader to Koppelen; on Koppelen they say what to do here instead.
SAID_HERE = {"error.link.koppelsleutel": N_("link_broken_relink_here"),
             "check.koppelsleutel.broken.fix": N_("check_relink_here")}


def said_here(message: Any) -> Any:
    """A message (or its stored form) as this page says it: one that sends the reader to Koppelen says what to do
    on this page; any other as it is."""
    found = message if isinstance(message, Msg) else Msg.from_json(message)
    if found is not None and found.key in SAID_HERE:
        return Msg(SAID_HERE[found.key], **found.values)
    return message


def reload_schedule() -> None:
    scheduler = ui.schedule(services)
    if scheduler is not None:
        scheduler.reload()


DATE_FORMAT = "DD-MM-YYYY" if lang == "nl" else "DD/MM/YYYY"  # as sync.core.fmt writes dates
# Wide bounds for the date fields: Streamlit's own (ten years around the value) show an English error and keep the
# old date; a start date that makes no sense is refused by `linking.check_start_date`, in the reader's words.
FIRST_DAY, LAST_DAY = date(1990, 1, 1), date(2099, 12, 31)


def default_start() -> date:
    """New links book from the start of this year unless the user picks another day."""
    return services.today().replace(month=1, day=1)


def start_date_editor(link: Link) -> None:
    """The start date of a linked identity: changed here, audited, with SnelStart's suggestion (the day after the
    last invoice already booked there) offered only when there is one and it is not the date shown already."""
    suggestion_key = f"start-suggestion-{identity_id}"
    if suggestion_key not in st.session_state:
        st.session_state[suggestion_key] = linking.suggest_start_date(services, identity_id, default=default_start())
    suggestion = st.session_state[suggestion_key]
    field_key = f"linked-start-{identity_id}"
    if field_key not in st.session_state:
        st.session_state[field_key] = link.start_date or suggestion.start_date
    if suggestion.last_number:
        st.info(t("start_date_suggested", date=fmt.day(suggestion.start_date, lang), number=suggestion.last_number,
                  last=fmt.day(suggestion.last_date, lang)), icon=":material/lightbulb:")
        if st.session_state[field_key] != suggestion.start_date and st.button(
                t("use_suggestion"), key=f"use-suggestion-{identity_id}", icon=":material/auto_fix_high:"):
            st.session_state[field_key] = suggestion.start_date
            st.rerun()  # drawn again without the button: the field holds the suggestion now
    elif suggestion.snelstart_read:
        st.info(t("start_date_no_suggestion"), icon=":material/lightbulb:")
    else:  # not "no invoice there": nobody could look
        st.warning(t("start_date_unreadable"), icon=":material/sync_problem:")
    chosen = st.date_input(t("start_date"), key=field_key, format=DATE_FORMAT, min_value=FIRST_DAY,
                           max_value=LAST_DAY)
    st.caption(t("start_date_help"))
    if st.button(t("save_start_date"), key=f"save-start-{identity_id}", type="primary", icon=":material/save:"):
        try:
            linking.change_start_date(services, identity_id, chosen, actor=ui.actor())
        except linking.LinkError as exc:
            st.error(t(exc.message))
        else:
            st.session_state["link_saved"] = t("start_date_saved", date=fmt.day(chosen, lang))
            st.rerun()


def ceiling_editor(link: Link) -> None:
    """The largest invoice total booked for a linked identity: its own (typed as euros; a text field, so the amount
    stays exact to the cent and a wrong one is said in our words), or empty for the deployment's default."""
    default = services.settings.max_invoice_total
    own = link.max_invoice_total
    typed = st.text_input(t("ceiling"), value="" if own is None else fmt.plain_amount(own, lang),
                          placeholder=fmt.plain_amount(default, lang), key=f"ceiling-{identity_id}")
    st.caption(t("ceiling_help", default=default))
    if st.button(t("save_ceiling"), key=f"save-ceiling-{identity_id}", type="primary", icon=":material/save:"):
        amount = typed_amount(typed) if typed.strip() else None
        if typed.strip() and amount is None:
            st.error(t("link.error.ceiling_not_an_amount", amount=typed.strip()))
            return
        try:
            linking.change_ceiling(services, identity_id, amount, actor=ui.actor())
        except linking.LinkError as exc:
            st.error(t(exc.message))
        else:
            st.session_state["link_saved"] = (t("ceiling_saved", amount=amount) if amount is not None
                                              else t("ceiling_saved_default", amount=default))
            st.rerun()


def ask_shared(shared_with: tuple[AdministrationLink, ...], administration_id: str | None,
               administration_name: str | None, confirm_key: str) -> None:
    """An administration another link (of any account) links already: named, and refused unless support ticks the
    "Ja, …" box on purpose (recorded with their name). Not asked for the identity's own administration again."""
    if not shared_with or (link is not None and link.administration_id == administration_id):
        return
    links = linking.other_links(shared_with)
    st.warning(t("already_linked_elsewhere", administration=administration_name or "", links=links))
    if ui.actor().can("link"):
        st.checkbox(t("confirm_shared", administration=administration_name or "", links=links), key=confirm_key)


def kostenplaats_source_editor(link: Link) -> None:
    """Where the identity's booking lines take their kostenplaats from: Gripp's on the line (the default), the line's
    project (made in SnelStart when missing), or none."""
    options = list(KostenplaatsSource)
    current = kostenplaats_source(link)
    # Said now, in the page's language: the choice's words must not depend on when they are asked for.
    labels = {source: t(f"kostenplaats_source.{source}") for source in options}
    chosen = st.radio(t("kostenplaats_source"), options, index=options.index(current), format_func=labels.__getitem__,
                      key=f"kp-source-{identity_id}")
    st.caption(t("kostenplaats_source_help"))
    if st.button(t("save_kostenplaats_source"), key=f"save-kp-source-{identity_id}", type="primary",
                 icon=":material/save:"):
        try:
            saved = kostenplaatsen.set_source(services, identity_id, str(chosen), actor=ui.actor())
        except MappingError as exc:
            st.error(t(exc.message))
        else:
            st.session_state["link_saved"] = t("kostenplaats_source_saved", source=t(f"kostenplaats_source.{saved}"))
            st.rerun()


def save_with(action: Callable[[bool], linking.VerifiedKey], confirm_key: str) -> bool:
    """Run a save; an administration already linked elsewhere first needs the user's explicit yes."""
    try:
        verified = action(bool(st.session_state.get(confirm_key)))
    except linking.LinkError as exc:
        (st.warning if exc.code == "shared" else st.error)(t(exc.message))
        return False
    reload_schedule()
    st.session_state["link_saved"] = t("link_saved", name=identity["name"], admin=verified.administration_name,
                                       key=verified.key_hint)
    return True


if st.session_state.get("link_saved"):
    st.success(st.session_state.pop("link_saved"), icon=":material/check_circle:")

# -- where this identity stands ---------------------------------------------------------------------------
if link is not None and link.start_date and link.start_date > services.today():
    st.warning(t("start_date_ahead", date=fmt.day(link.start_date, lang)), icon=":material/event_upcoming:")
if link is not None:
    st.success(t("linked_to", admin=link.administration_name, key=link.key_hint, health=health_label(link.health),
                 start=fmt.day(link.start_date, lang)), icon=":material/link:")
    if link.health == LinkHealth.BROKEN and link.health_detail:
        st.error(said(said_here(setup_repo.health_reason(link.health_detail)), lang))
    shared = linking.shared_administrations(services).get(identity_id)
    if shared is not None:  # one administration, two links: said here and on the other link's page
        st.warning(t(shared.message), icon=":material/link:")
else:
    st.info(t("not_linked"), icon=":material/link_off:")

# -- step 0: may this subscription link? ----------------------------------------------------------------------
st.subheader(t("step0"))
st.caption(t("step0_help"))
if st.button(t("check_subscription"), key=f"check-{identity_id}", icon=":material/fact_check:"):
    from sync.jobs.checks import run_checks

    st.session_state[f"link-checks-{identity_id}"] = run_checks(services, identity_id)
checked = st.session_state.get(f"link-checks-{identity_id}", [])
for result in checked:
    if result.waits_for_link:  # said once below, as a step still to come
        continue
    explanation = say(result.explanation, lang)
    joint = "\n\n" if explanation.startswith("- ") else " — "  # a list starts on its own line
    fix = said_here(result.fix)
    st.markdown(f"{check_icon(result.status)} **{md(say(result.title, lang))}**{joint}{md_lines(explanation)}"
                + (f"  \n→ {md(say(fix, lang))}" if not result.ok and fix is not None else ""))
not_yet = [say(result.title, lang) for result in checked if result.waits_for_link]
if not_yet:  # not linked yet is no fault: these are the steps below, still to be done
    st.markdown(f"{icon('todo')} {t('checks_after_linking', names=not_yet)}")

# -- step 1: switch it on (remembered in the store, for every session) -------------------------------------------
st.subheader(t("step1"))
pending = activation.pending_activation(services, identity_id)
wanted = linking.link_wanted(services, identity_id)


def remember_switch() -> None:
    linking.want_link(services, identity_id, bool(st.session_state.get(f"switch-{identity_id}")), actor=ui.actor())


def save_received_key(pending: dict | None, start: date | None) -> None:
    """The button that keeps the key SnelStart sent back: it says so, never a bare "Opslaan" beside the start
    date's own button."""
    if pending is None or not st.button(t("save_link"), key=f"save-{identity_id}", type="primary",
                                        icon=":material/save:"):
        return
    confirm_key = f"confirm-shared-{identity_id}"
    reference_key = pending["reference_key"]
    if save_with(lambda shared: activation.confirm_activation(
            services, identity_id, reference_key, start_date=start, actor=ui.actor(),
            confirm_shared=shared), confirm_key):
        st.session_state.pop(f"activation-{identity_id}", None)
        st.query_params.clear()
        st.rerun()


switched_on = st.toggle(t("switch_on"), value=link is not None or pending is not None
                        or return_state == ReturnState.WAITING or wanted, key=f"switch-{identity_id}",
                        on_change=remember_switch)

if switched_on:
    # -- step 2: Maatwerk key ophalen -------------------------------------------------------------------------
    st.subheader(t("step2"))
    st.markdown(t("step2_help"))
    request = st.session_state.get(f"activation-{identity_id}")
    if st.button(t("fetch_key"), key=f"fetch-{identity_id}", icon=":material/key:"):
        request = activation.start_activation(services, identity_id, actor=ui.actor(), lang=lang)
        st.session_state[f"activation-{identity_id}"] = request
    if request is not None:
        st.link_button(t("open_snelstart"), request.url, icon=":material/open_in_new:", type="primary")
        st.caption(t("activation_valid_until", when=fmt.moment(request.expires_at, lang)))

    if pending is not None and not pending["verified"]:
        st.info(t("key_received_unverified", key=pending["key_hint"]), icon=":material/hourglass_top:")
    elif pending is not None:
        st.success(t("key_received", admin=pending["administration_name"], key=pending["key_hint"]),
                   icon=":material/verified:")
        ask_shared(pending["shared_with"], pending["administration_id"], pending["administration_name"],
                   f"confirm-shared-{identity_id}")
    elif return_state == ReturnState.WAITING:
        st.warning(t("key_not_received"))
        st.button(t("refresh"), key=f"refresh-{identity_id}", icon=":material/refresh:")
    elif return_state in (ReturnState.USED, ReturnState.UNKNOWN):  # the back button, a bookmark, a mistyped link
        st.info(t(N_("return_link_used") if return_state == ReturnState.USED else N_("return_link_unknown")),
                icon=":material/info:")

    if link is not None:  # a new key for a linked identity: saved here, beside it, apart from step 3's start date
        save_received_key(pending, link.start_date)

    # -- step 3: from which date (a linked identity changes its own here, audited) ------------------------------
    st.subheader(t("step3"))
    start: date | None
    if link is None:
        start = st.date_input(t("start_date"), value=default_start(), key=f"start-{identity_id}", format=DATE_FORMAT,
                              min_value=FIRST_DAY, max_value=LAST_DAY)
        st.caption(t("start_date_help"))
    else:
        start = link.start_date  # a new key for this link keeps its start date
        start_date_editor(link)

    if link is None:  # a new link saves the key with the start date chosen just above
        save_received_key(pending, start)

    # -- the paste fallback ------------------------------------------------------------------------------------
    with st.expander(t("paste_title"), icon=":material/content_paste:"):
        st.markdown(t("paste_help"))
        pasted = st.text_input(t("koppelsleutel"), type="password", key=f"paste-{identity_id}")
        verified = st.session_state.get(f"verified-{identity_id}")
        if st.button(t("verify"), key=f"verify-{identity_id}"):
            try:
                verified = linking.verify_key(services, pasted, for_identity=identity_id)
                st.session_state[f"verified-{identity_id}"] = verified
            except linking.LinkError as exc:
                st.session_state.pop(f"verified-{identity_id}", None)
                verified = None
                st.error(t(exc.message))
        if verified is not None:
            st.info(t("key_opens", admin=verified.administration_name, key=verified.key_hint))
            if verified.missing_scopes:
                st.warning(t("missing_scopes", scopes=", ".join(verified.missing_scopes)))
            ask_shared(verified.shared_with, verified.administration_id, verified.administration_name,
                       f"confirm-shared-paste-{identity_id}")
            if st.button(t("save_link"), key=f"save-paste-{identity_id}", type="primary"):
                confirm_key = f"confirm-shared-paste-{identity_id}"
                if save_with(lambda shared: linking.link_with_key(
                        services, identity_id, pasted, start_date=start, actor=ui.actor(), confirm_shared=shared),
                        confirm_key):
                    st.session_state.pop(f"verified-{identity_id}", None)
                    st.rerun()

# -- after linking ------------------------------------------------------------------------------------------
if link is not None:
    st.subheader(t("next_steps"))
    ui.page_link("pages/controles.py", label=t("go_checks"), icon=":material/fact_check:",
                 query_params={"identity": str(identity_id)})
    ui.page_link("pages/synchronisatie.py", label=t("go_sync"), icon=":material/sync:")

    if not switched_on:  # otherwise it is step 3 above
        with st.expander(t("start_date_title"), icon=":material/event:", expanded=link.start_date is None):
            start_date_editor(link)

    with st.expander(t("ceiling"), icon=":material/price_check:", expanded=link.max_invoice_total is not None):
        ceiling_editor(link)

    with st.expander(t("kostenplaats_source_now", source=Msg(f"kostenplaats_source.{kostenplaats_source(link)}")),
                     icon=":material/account_tree:",
                     expanded=link.kostenplaats_source is not None):
        kostenplaats_source_editor(link)

    with st.expander(t("unlink_title"), icon=":material/link_off:"):
        st.warning(t("unlink_help", admin=link.administration_name))
        sure = st.checkbox(t("unlink_confirm", name=identity["name"]), key=f"unlink-sure-{identity_id}")
        if st.button(t("unlink"), key=f"unlink-{identity_id}", disabled=not sure, type="primary"):
            linking.unlink(services, identity_id, actor=ui.actor())
            reload_schedule()
            st.rerun()

# -- an identity that is not linked can be removed (a mistake, or one that is no longer used) ----------------------
if link is None:
    with st.expander(t("remove_identity"), icon=":material/person_remove:"):
        st.caption(t("remove_identity_help", name=identity["name"]))
        sure = st.checkbox(t("remove_identity_confirm", name=identity["name"]), key=f"remove-sure-{identity_id}")
        if st.button(t("remove_identity"), key=f"remove-{identity_id}", disabled=not sure):
            try:
                identities.remove_identity(services, identity_id, actor=ui.actor())
                st.session_state["link_saved"] = t("identity_removed", name=identity["name"])
                st.query_params.pop("identity", None)
                st.rerun()
            except linking.LinkError as exc:
                st.error(t(exc.message))
