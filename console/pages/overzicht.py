"""Overzicht: per identity the link, its health, the last and next run, the counts, what needs a person (red or
orange, with a link to where it is fixed), and open alerts."""

import streamlit as st

from console import ui, views
from console.i18n import badge, current_lang, planned_label, run_badge, said, t, tn
from console.text import md
from sync.core import fmt, words
from sync.core.events import Outcome
from sync.jobs import alerts, linking, overview
from sync.jobs.checks import TITLES, CheckKey
from sync.store import check_results
from sync.store import setup as setup_repo
from sync.store.health import failing_checks
from sync.store.setup import LinkHealth

services = ui.services()
store = services.store
lang = current_lang()
scheduler = ui.schedule(services)

st.title(t("overview_title"))
ui.live_progress(services)

# A failed automatic run stays here, prominent, until someone says they have seen it.
unseen = views.open_alerts(store, lang)
for alert in unseen.to_dict("records"):
    with st.container(border=True):
        st.error(f"**{fmt.moment(alert['raised_at'], lang)}** — "
                 f"{md(alert['message'])}", icon=":material/error:")
        if st.button(t("seen"), key=f"ack-{alert['alert_id']}", icon=":material/done:"):
            alerts.acknowledge(store, int(alert["alert_id"]), ui.actor())
            ui.deployment().record_health(services)  # the support overview counts open alerts
            st.rerun()

identities = views.identities(store)
shared = linking.shared_administrations(services)  # administrations another link (of any account) links too
failing = failing_checks(store)  # setup checks that fail: never "fine" while one does
checked = check_results.checked(store)  # ... nor when they never ran
if not identities:
    st.info(t("no_identities"))
    ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:")


def needs_a_person(identity_id: int, counts: dict[str, int]) -> None:
    """Blocked, refused or conflicting invoices: red when nothing gets through, orange otherwise, with the count
    and the way to the fix."""
    stuck = counts["blocked"] + counts["failed"] + counts["conflict"]
    if not stuck:
        return
    through = counts["booked"] + counts["adopted"]
    box = st.error if not through or counts["failed"] or counts["conflict"] else st.warning
    lines = []
    if counts["blocked"]:
        lines.append(tn("attention_blocked", n=int(counts["blocked"])))
    if counts["failed"]:
        lines.append(tn("attention_refused", n=int(counts["failed"])))
    if counts["conflict"]:
        lines.append(tn("attention_conflict", n=int(counts["conflict"])))
    box("  \n".join(lines), icon=":material/error:" if box is st.error else ":material/warning:")
    if counts["blocked"] or counts["conflict"]:
        ui.page_link("pages/controles.py", label=t("go_fix_blocked"), icon=":material/build:",
                     query_params={"identity": str(identity_id)})
    if counts["failed"]:
        ui.page_link("pages/synchronisatie.py", label=t("go_fix_refused"), icon=":material/replay:")


for row in identities:
    identity_id = row["identity_id"]
    with st.container(border=True, key=f"identity-{identity_id}"):
        st.subheader(md(row["name"]), anchor=False)
        if not row["linked"]:
            st.info(t("not_linked"))
            ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                         query_params={"identity": str(identity_id)})
            continue
        last = views.last_run(store, identity_id)
        next_run = scheduler.next_run(identity_id) if scheduler else None
        a, b, c, d = st.columns(4)
        a.markdown(f"**{t('administration')}**  \n{md(row['administration_name'])}  \n"
                   f"{t('key')}: {md(row['key_hint'])}")
        broken = row["health"] == LinkHealth.BROKEN
        # a shared administration: orange; setup checks that never ran: not "in orde" yet
        state = overview.link_state(row["health"], identity_id in shared, identity_id in checked)
        b.markdown(f"**{t('link_health')}**  \n{badge('health', state, lang)}"
                   + (f"  \n{said(setup_repo.health_reason(row['health_detail']), lang)}" if broken else ""))
        link_reason = words.said(setup_repo.health_reason(row["health_detail"]), lang) if broken else ""
        if identity_id in shared:
            st.warning(t(shared[identity_id].message), icon=":material/link:")
        if broken:  # the way to mend it, one click away
            ui.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                         query_params={"identity": str(identity_id)})
        if last:
            c.markdown(f"**{t('last_run')}**  \n{fmt.moment(last['started_at'], lang)}  \n"
                       f"{run_badge(last['outcome'], views.counts_of(last), lang)}")
            reason = views.run_words(last, lang) if last["outcome"] == Outcome.FAILED else ""
            if reason and reason != link_reason:  # the reason, not only "mislukt"; said once when it is the link's
                c.caption(md(reason))
        else:
            c.markdown(f"**{t('last_run')}**  \n{t('never')}")
            with c:
                ui.page_link("pages/synchronisatie.py", label=t("go_sync"), icon=":material/sync:")
        every = tn("every_minutes", n=row["interval_minutes"] or 0)
        d.markdown(f"**{t('next_run')}**  \n{planned_label(next_run, row, lang)}  \n{every}")
        counts = views.booking_counts(store, identity_id)
        for tile, (name, key) in zip(st.columns(len(overview.OVERVIEW_COUNTS)), overview.OVERVIEW_COUNTS.items(),
                                     strict=True):
            tile.metric(t(key), fmt.count(counts[name], lang))
        needs_a_person(identity_id, counts)
        if failing.get(identity_id):
            names = [t(TITLES[CheckKey(check)]) for check in failing[identity_id]]
            st.error(tn("overview_checks_failing", n=len(names), checks=names), icon=":material/fact_check:")
            ui.page_link("pages/controles.py", label=t("page_checks"), icon=":material/fact_check:",
                         query_params={"identity": str(identity_id)})
