"""The console's words: every text comes from the one catalog (`sync.core.words`), in the reader's language.

`t(key, **values)` says a catalog key in the reader's language (the sidebar's choice, kept in
`st.session_state["lang"]` and `?lang=`); `tn(key, n=…, **values)` says a counted one. Texts are markdown; the
values filled in are plain text (names and messages from Gripp and SnelStart among them) and are escaped
(`console.text.md`), so they show as written and never as markup. The words are the ones Dutch bookkeepers use
(openstaande posten, grootboek, BTW-tarief, administratie, koppelsleutel) and live in `sync/locale/`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.text import md
from sync.core import fmt, words
from sync.core.events import OUTCOME_WORDS, STEP_WORDS, TRIGGER_WORDS, Level, Outcome, Step, Trigger, actor_message
from sync.core.words import N_
from sync.jobs.reconcile import AgeBucket
from sync.store.comparison import Difference
from sync.store.setup import LinkHealth

LANGUAGES = {lang: words.language_name(lang) for lang in words.LANGUAGES}
DEFAULT = words.DEFAULT


def current_lang() -> str:
    """The reader's language: the sidebar's choice, else `?lang=` in the address (kept across reloads)."""
    try:
        import streamlit as st

        lang = st.session_state.get("lang") or st.query_params.get("lang", DEFAULT)
    except Exception:  # outside a Streamlit script run
        return DEFAULT
    return lang if lang in LANGUAGES else DEFAULT


def t(key: str | words.Msg, lang: str | None = None, /, **values: object) -> str:
    """`key` (or a message) in `lang` (default: the reader's language), its values escaped for markdown."""
    return words.say(key, lang or current_lang(), escape=md, **values)


def tn(key: str, lang: str | None = None, /, **values: object) -> str:
    """A counted key (its plural forms chosen by `n`)."""
    return words.say(key, lang or current_lang(), escape=md, **values)


def said(value: object, lang: str | None = None) -> str:
    """A message the engine handed out (or recorded) in the reader's language, escaped for markdown."""
    return words.said(value, lang or current_lang(), escape=md)


CLASS_LABELS = {
    Difference.CONFLICT: N_("class_conflict"), Difference.SNELSTART_UNREAD: N_("class_snelstart_unread"),
    Difference.GONE_FROM_GRIPP: N_("class_gone_from_gripp"),
    Difference.NOT_BOOKED: N_("class_not_booked"),
    Difference.DRIFT_DELETED: N_("class_drift_deleted"), Difference.ONLY_IN_SNELSTART: N_("class_only_in_snelstart"),
    Difference.DRIFT_CHANGED: N_("class_drift_changed"), Difference.AMOUNT_DIFFERS: N_("class_amount_differs"),
    Difference.PAYMENT_NOT_IN_GRIPP: N_("class_payment_not_in_gripp"),
    Difference.PAID_IN_GRIPP_ONLY: N_("class_paid_in_gripp_only"),
    Difference.DUE_DATE_DIFFERS: N_("class_due_date_differs"), Difference.IN_SYNC: N_("class_in_sync"),
}
AGE_LABELS = {AgeBucket.NOT_DUE: N_("age_not_due"), AgeBucket.DAYS_0_30: N_("age_0-30"),
              AgeBucket.DAYS_31_60: N_("age_31-60"), AgeBucket.DAYS_61_90: N_("age_61-90"),
              AgeBucket.OVER_90: N_("age_>90")}
# A run's outcome, trigger and step: the engine's tables, so every surface says them alike.
OUTCOME_LABELS, TRIGGER_LABELS, STEP_LABELS = OUTCOME_WORDS, TRIGGER_WORDS, STEP_WORDS
LEVEL_LABELS = {Level.INFO: N_("level_info"), Level.WARNING: N_("level_warning"), Level.ERROR: N_("level_error")}


def level_label(level: str, lang: str | None = None) -> str:
    return t(LEVEL_LABELS[Level(level)], lang) if level in LEVEL_LABELS else md(level)


def class_label(name: str, lang: str | None = None) -> str:
    return t(CLASS_LABELS[Difference(name)], lang) if name in CLASS_LABELS else md(name)


def age_label(bucket: str, lang: str | None = None) -> str:
    return t(AGE_LABELS[AgeBucket(bucket)], lang) if bucket in AGE_LABELS else md(bucket)


def outcome_label(outcome: str, lang: str | None = None) -> str:
    return t(OUTCOME_LABELS[Outcome(outcome)], lang) if outcome in OUTCOME_LABELS else md(outcome)


def health_label(health: str | None, lang: str | None = None) -> str:
    from sync.jobs.overview import health_label as health_key

    return t(health_key(health), lang)


def trigger_label(trigger: str | None, lang: str | None = None) -> str:
    return t(TRIGGER_LABELS[Trigger(trigger)], lang) if trigger in TRIGGER_LABELS else md(trigger or "")


def actor_label(actor: str | None, lang: str | None = None) -> str:
    """Who did it: a process in the reader's words, a person by name (plain text, for tables)."""
    found = actor_message(actor)
    return words.say(found, lang or current_lang()) if isinstance(found, words.Msg) else found


def planned_label(next_run: object, link: Mapping[str, Any], lang: str | None = None) -> str:
    """When the identity's next automatic sync starts, or why none will: stopped while SnelStart refuses the key,
    paused, or not planned."""
    if next_run is not None:
        return fmt.moment(next_run, lang or current_lang())
    if link.get("health") == LinkHealth.BROKEN:
        return t("schedule_stopped_broken", lang)
    return t("paused", lang) if link.get("paused") else t("not_planned", lang)


def step_label(step: str | None, lang: str | None = None) -> str:
    return t(STEP_LABELS[Step(step)], lang) if step in STEP_LABELS else str(step or "")


# Material icons (Streamlit ships their font), not emoji: they render the same on every machine.
ICONS = {
    "ok": ":green[:material/check_circle:]", "pass": ":green[:material/check_circle:]",
    "warnings": ":orange[:material/warning:]", "warning": ":orange[:material/warning:]",
    "failed": ":red[:material/error:]", "fail": ":red[:material/error:]", "broken": ":red[:material/link_off:]",
    "running": ":blue[:material/progress_activity:]", "refused": ":gray[:material/pause_circle:]",
    "unknown": ":gray[:material/help:]", "todo": ":gray[:material/radio_button_unchecked:]",
    "shared": ":orange[:material/link:]",  # an administration another link links too (`overview.link_state`)
}


def icon(state: str | None) -> str:
    """A coloured icon for markdown (`:material/…:`) for an outcome, health or check status."""
    return ICONS.get(state or "unknown", ICONS["unknown"])


def check_icon(status: str) -> str:
    return icon(status)


def badge(kind: str, state: str | None, lang: str | None = None) -> str:
    """Icon and words for markdown: `badge("health", "broken")`."""
    label = outcome_label(state or "", lang) if kind == "outcome" else health_label(state, lang)
    return f"{icon(state)} {label}"


def run_badge(outcome: str, counts: dict | None, lang: str | None = None) -> str:
    """A run's icon and what it did: `gelukt`, `deels gelukt — 4 geblokkeerd`, `niets geboekt — 25 geblokkeerd`."""
    from sync.core.events import run_label_message, run_state

    return f"{icon(run_state(outcome, counts or {}))} {t(run_label_message(outcome, counts), lang)}"

