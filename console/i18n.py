"""The console's words: every text comes from the one catalog (`sync.core.words`), in the reader's language.

`t(key, **values)` says a catalog key in the reader's language (the sidebar's choice, kept in
`st.session_state["lang"]` and `?lang=`); `tn(key, n=…, **values)` says a counted one. Texts are markdown; the
values filled in are plain text (names and messages from Gripp and SnelStart among them) and are escaped
(`console.text.md`), so they show as written and never as markup. The words are the ones Dutch bookkeepers use
(openstaande posten, grootboek, BTW-tarief, administratie, koppelsleutel) and live in `sync/locale/`.
"""

from __future__ import annotations

from console.text import md
from sync.core import words
from sync.core.events import OUTCOME_WORDS
from sync.core.words import N_

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
    "conflict": N_("class_conflict"), "not_booked": N_("class_not_booked"),
    "drift_deleted": N_("class_drift_deleted"), "only_in_snelstart": N_("class_only_in_snelstart"),
    "drift_changed": N_("class_drift_changed"), "amount_differs": N_("class_amount_differs"),
    "payment_not_in_gripp": N_("class_payment_not_in_gripp"), "paid_in_gripp_only": N_("class_paid_in_gripp_only"),
    "due_date_differs": N_("class_due_date_differs"), "in_sync": N_("class_in_sync"),
}
AGE_LABELS = {"not_due": N_("age_not_due"), "0-30": N_("age_0-30"), "31-60": N_("age_31-60"),
              "61-90": N_("age_61-90"), ">90": N_("age_>90")}
OUTCOME_LABELS = OUTCOME_WORDS  # a run's outcome: the engine's table, so every surface says it alike
TRIGGER_LABELS = {"schedule": N_("trigger_schedule"), "manual": N_("trigger_manual"), "cli": N_("trigger_cli"),
                  "check": N_("trigger_check")}
LEVEL_LABELS = {"info": N_("level_info"), "warning": N_("level_warning"), "error": N_("level_error")}


def level_label(level: str, lang: str | None = None) -> str:
    return t(LEVEL_LABELS[level], lang) if level in LEVEL_LABELS else md(level)


def class_label(name: str, lang: str | None = None) -> str:
    return t(CLASS_LABELS[name], lang) if name in CLASS_LABELS else md(name)


def age_label(bucket: str, lang: str | None = None) -> str:
    return t(AGE_LABELS[bucket], lang) if bucket in AGE_LABELS else md(bucket)


def outcome_label(outcome: str, lang: str | None = None) -> str:
    return t(OUTCOME_LABELS[outcome], lang) if outcome in OUTCOME_LABELS else md(outcome)


def health_label(health: str | None, lang: str | None = None) -> str:
    from sync.jobs.overview import health_label as health_key

    return t(health_key(health), lang)


def trigger_label(trigger: str | None, lang: str | None = None) -> str:
    return t(TRIGGER_LABELS[trigger], lang) if trigger in TRIGGER_LABELS else md(trigger or "")


def step_label(step: str | None, lang: str | None = None) -> str:
    from sync.jobs.runner import STEP_LABELS

    if step in STEP_LABELS:
        return t(STEP_LABELS[step], lang)
    return {"start": t("outcome_running", lang), "done": t("sync_finished", lang),
            "plan": t("step_plan", lang)}.get(str(step), str(step or ""))


# Material icons (Streamlit ships their font), not emoji: they render the same on every machine.
ICONS = {
    "ok": ":green[:material/check_circle:]", "pass": ":green[:material/check_circle:]",
    "warnings": ":orange[:material/warning:]", "warning": ":orange[:material/warning:]",
    "failed": ":red[:material/error:]", "fail": ":red[:material/error:]", "broken": ":red[:material/link_off:]",
    "running": ":blue[:material/progress_activity:]", "refused": ":gray[:material/pause_circle:]",
    "unknown": ":gray[:material/help:]", "todo": ":gray[:material/radio_button_unchecked:]",
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

