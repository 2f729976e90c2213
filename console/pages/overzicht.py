"""Overzicht: per identity the link, its health, the last and next run, the counts, and open alerts."""

import streamlit as st

from console import runtime, ui, views
from console.i18n import badge, current_lang, t
from sync import fmt
from sync.store import history

services = ui.services()
store = services.store
lang = current_lang()
scheduler = runtime.scheduler()

st.title(t("overview_title"))

# A failed automatic run stays here, prominent, until someone says they have seen it.
alerts = views.open_alerts(store)
for alert in alerts.to_dict("records"):
    with st.container(border=True):
        st.error(f"**{fmt.moment(alert['raised_at'], lang)}** — "
                 f"{alert['message_en'] if lang == 'en' else alert['message_nl']}", icon=":material/error:")
        if st.button(t("seen"), key=f"ack-{alert['alert_id']}", icon=":material/done:"):
            history.acknowledge_alert(store, int(alert["alert_id"]), ui.actor())
            st.rerun()

for row in views.identities(store):
    identity_id = row["identity_id"]
    with st.container(border=True, key=f"identity-{identity_id}"):
        st.subheader(row["name"])
        if not row["linked"]:
            st.info(t("not_linked"))
            st.page_link("pages/koppelen.py", label=t("go_linking"), icon=":material/link:",
                         query_params={"identity": str(identity_id)})
            continue
        last = views.last_run(store, identity_id)
        next_run = scheduler.next_run(identity_id) if scheduler else None
        a, b, c, d = st.columns(4)
        a.markdown(f"**{t('administration')}**  \n{row['administration_name']}  \n"
                   f"{t('key')}: `{row['key_hint']}`")
        b.markdown(f"**{t('link_health')}**  \n{badge('health', row['health'])}"
                   + (f"  \n{row['health_detail']}" if row["health"] == "broken" and row["health_detail"] else ""))
        if last:
            c.markdown(f"**{t('last_run')}**  \n{fmt.moment(last['started_at'], lang)}  \n"
                       f"{badge('outcome', last['outcome'])}")
        else:
            c.markdown(f"**{t('last_run')}**  \n{t('never')}")
        planned = fmt.moment(next_run, lang) if next_run else (t("paused") if row["paused"] else t("not_planned"))
        d.markdown(f"**{t('next_run')}**  \n{planned}  \n{t('every_minutes', n=row['interval_minutes'])}")
        counts = views.booking_counts(store, identity_id)
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t("count_booked"), fmt.count(counts["booked"], lang))
        m2.metric(t("count_blocked"), fmt.count(counts["blocked"], lang))
        m3.metric(t("count_failed"), fmt.count(counts["failed"], lang))
        m4.metric(t("count_payments"), fmt.count(counts["payments"], lang))
