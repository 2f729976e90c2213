"""One invoice's whole story on a page (Openstaande posten, Synchronisatie): a field for an invoice number, and under
it the story (`sync.jobs.story`) — the invoice at a glance, a link to it in Gripp where its address is known, and
what happened to it in time order. The number is kept in the address (`?invoice=`), so a reload or a shared link
opens the same story; a number no identity knows is said in a sentence."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from console.i18n import current_lang, t
from console.text import plain_frame
from sync.core import fmt, words
from sync.jobs.story import MAX_NUMBER, Story, stories
from sync.wiring import Services

QUERY = "invoice"  # the number in the address


def search(services: Services, *, key: str, identity_id: int | None = None) -> None:
    """The field, and the story of the number typed (or found in the address). `identity_id`: the page's identity
    (its story first; another identity's invoice of that number is shown too, named)."""
    lang = current_lang()
    typed = st.text_input(t("story.search"), value=str(st.query_params.get(QUERY, ""))[:MAX_NUMBER], key=key,
                          placeholder=t("story.search_hint"), max_chars=MAX_NUMBER)
    number = typed.strip()
    if not number:
        st.query_params.pop(QUERY, None)
        return
    st.query_params[QUERY] = number
    found = stories(services, number)
    if not found:
        st.info(t("story.unknown", number=number), icon=":material/search_off:")
        return
    found.sort(key=lambda story: story.identity_id != identity_id)  # the page's identity first
    for story in found:
        show(story, lang, key=f"{key}-{story.identity_id}")


def show(story: Story, lang: str, *, key: str) -> None:
    with st.container(border=True, key=key):
        st.subheader(t("story.heading", invoice=story.number, name=story.identity_name,
                       identity=str(story.identity_id)), anchor=False)
        st.markdown("  \n".join(f"**{t(label)}**: {t(what)}" for label, what in story.summary()))
        if story.gripp_url:  # built from the account's own Gripp address: ours, not outside text
            st.link_button(t("story.open_in_gripp"), story.gripp_url, icon=":material/open_in_new:")
        st.markdown(f"**{t('story.timeline')}**")
        frame = pd.DataFrame({
            words.say("story.col_when", lang): [fmt.moment(e.at, lang) if e.timed else fmt.day(e.at.date(), lang)
                                                for e in story.entries],
            words.say("story.col_what", lang): [words.say(e.message, lang) for e in story.entries],
        })
        st.table(plain_frame(frame).set_index(words.say("story.col_when", lang)))

