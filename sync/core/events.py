"""What the event log can say: one entry per kind of event, its level, its label and its words in Dutch and English.

The engine records what happened as data — the kind, the invoice, amounts, dates, counts, names — and nothing
else (`sync.store.history.log_event(store, kind, data={...})`). The console and the command line turn an event
into words here, in the reader's language, with every amount, date and count through `sync.core.fmt`. A new kind of
event is one entry in `KINDS`.

A template names its values as `{name}`; `types` says how a value is shown:
  money, date, moment, clock, count, percent       through `sync.core.fmt`
  (one_nl, many_nl, one_en, many_en)                 a count with its noun: `1 factuur`, `3 facturen`
Values recorded as `{"nl": …, "en": …}` (a reason the engine's error table wrote in both languages) are shown in
the reader's language. `invoice` and `actor` are filled from the event's own columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.core import fmt

INVOICES = ("factuur", "facturen", "invoice", "invoices")
PAYMENTS = ("betaling", "betalingen", "payment", "payments")


@dataclass(frozen=True)
class Kind:
    level: str  # info | warning | error (a call may raise it, e.g. a relatie created with notes)
    label: tuple[str, str]  # for the log's "Soort" filter and column
    nl: str = ""
    en: str = ""
    types: Mapping[str, Any] = field(default_factory=dict)
    words: Callable[[dict[str, Any], str], str] | None = None  # for the few that need more than a template


def _reason(data: dict[str, Any], lang: str) -> str:
    return pick(data.get("reason"), lang)


def _relatie(data: dict[str, Any], lang: str) -> str:
    notes = []
    if data.get("shortened_from"):
        notes.append(f"naam ingekort tot {data['limit']} tekens (in Gripp: '{data['shortened_from']}')" if lang == "nl"
                     else f"name shortened to {data['limit']} characters (in Gripp: '{data['shortened_from']}')")
    if data.get("vat_dropped"):
        if lang == "nl":
            why = "SnelStart weigert het als ongeldig (REL-0088)" if data.get("vat_refused") else \
                "het is geen geldig btw-nummer"
            notes.append(f"zonder btw-nummer '{data['vat_dropped']}': {why}; corrigeer het in Gripp en vul het in "
                         "SnelStart aan")
        else:
            why = "SnelStart refuses it as invalid (REL-0088)" if data.get("vat_refused") else \
                "it is not a valid VAT number"
            notes.append(f"without VAT number '{data['vat_dropped']}': {why}; correct it in Gripp and add it in "
                         "SnelStart")
    head = (f"Klant ‘{data.get('name', '')}’ aangemaakt in SnelStart" if lang == "nl"
            else f"Customer ‘{data.get('name', '')}’ created in SnelStart")
    return fmt.sentence(head + "".join(f"; {n}" for n in notes))


def _open_item_skipped(data: dict[str, Any], lang: str) -> str:
    missing = " / ".join(str(name) for name in data.get("missing") or [])
    known = [part for part in (
        (f"boeking {data['booking_id']}" if lang == "nl" else f"booking {data['booking_id']}")
        if data.get("booking_id") else "",
        fmt.day(data["factuur_datum"], lang) if data.get("factuur_datum") else "",
        fmt.money(data["factuur_bedrag"], lang) if data.get("factuur_bedrag") else "") if part]
    what = f" ({', '.join(known)})" if known else ""
    if lang == "nl":
        return (f"Een openstaande post in SnelStart zonder {missing}{what} is overgeslagen: het is geen boeking van "
                "de koppeling (waarschijnlijk een oude, met de hand gemaakte boeking).")
    return (f"An open item in SnelStart without {missing}{what} was skipped: it is not a booking the link made "
            "(probably an old hand-made booking).")


def _link_saved(data: dict[str, Any], lang: str) -> str:
    text = (f"{data.get('name', '')} gekoppeld aan SnelStart-administratie ‘{data.get('administration', '')}’ "
            f"(sleutel {data.get('key_hint', '')})." if lang == "nl" else
            f"{data.get('name', '')} linked to SnelStart administration ‘{data.get('administration', '')}’ "
            f"(key {data.get('key_hint', '')}).")
    if data.get("previous_administration"):
        text += (f" Eerder gekoppeld aan ‘{data['previous_administration']}’." if lang == "nl" else
                 f" Previously linked to ‘{data['previous_administration']}’.")
    return text


def _mapping(data: dict[str, Any], lang: str) -> str:
    label, gripp_id = data.get("label", ""), data.get("gripp_id", "")
    if data.get("type") == "customer":
        code, name = data.get("relatiecode", ""), data.get("relatie", "")
        if data.get("removed") is not None:
            return (f"Vastlegging van klant ‘{label}’ (Gripp id {gripp_id}) op relatie {data['removed']} verwijderd."
                    if lang == "nl" else
                    f"Pin of customer ‘{label}’ (Gripp id {gripp_id}) to relatie {data['removed']} removed.")
        was = f" (was {data['previous']})" if data.get("previous") else ""
        return (f"Klant ‘{label}’ (Gripp id {gripp_id}) vastgelegd op SnelStart-relatie {code} ‘{name}’{was}."
                if lang == "nl" else
                f"Customer ‘{label}’ (Gripp id {gripp_id}) pinned to SnelStart relatie {code} ‘{name}’{was}.")
    if data.get("type") == "vat":
        target = f"{data.get('kind', '')} {fmt.percent(data.get('percentage'), lang)}"
        previous = data.get("previous")
        was = f" (was {previous['kind']} {fmt.percent(previous['percentage'], lang)})" if previous else ""
        return (f"BTW-tarief ‘{label}’ (Gripp id {gripp_id}) gekoppeld aan {target}{was}." if lang == "nl" else
                f"VAT rate ‘{label}’ (Gripp id {gripp_id}) mapped to {target}{was}.")
    was = f" (was {data['previous']})" if data.get("previous") else ""
    number = data.get("snelstart_number", "")
    return (f"Grootboek ‘{label}’ (Gripp id {gripp_id}) gekoppeld aan SnelStart-rekening {number}{was}."
            if lang == "nl" else f"Ledger ‘{label}’ (Gripp id {gripp_id}) mapped to SnelStart account {number}{was}.")


def _acknowledged(data: dict[str, Any], lang: str) -> str:
    alert = render_alert(data.get("alert") or {}, lang)
    return (f"Melding gezien door {data.get('actor', '')}: {alert}" if lang == "nl" else
            f"Alert acknowledged by {data.get('actor', '')}: {alert}")


def _webhook_refused(data: dict[str, Any], lang: str) -> str:
    nl, en = WEBHOOK_REFUSALS.get(data.get("error", ""), ("SnelStart-aflevering geweigerd.",
                                                          "SnelStart delivery refused."))
    text = nl if lang == "nl" else en
    return text.format(reason=_reason(data, lang)) if "{reason}" in text else text


WEBHOOK_REFUSALS: dict[str, tuple[str, str]] = {
    "expired": ("SnelStart stuurde een koppelsleutel na het verlopen van het koppelverzoek; start het koppelen "
                "opnieuw.",
                "SnelStart sent a koppelsleutel after the link request had expired; start linking again."),
    "replayed": ("Dubbele aflevering van SnelStart geweigerd.", "Duplicate delivery from SnelStart refused."),
    "second_key": ("Een tweede koppelsleutel voor hetzelfde koppelverzoek is geweigerd.",
                   "A second koppelsleutel for the same link request was refused."),
    "stale_request": ("SnelStart stuurde een nieuwe sleutel voor een koppelverzoek dat niet meer geldt; geweigerd.",
                      "SnelStart sent a new key for a link request that no longer applies; refused."),
    "key_not_verified": ("SnelStart stuurde een koppelsleutel die niet te controleren was: {reason}",
                         "SnelStart sent a koppelsleutel that could not be verified: {reason}"),
    "other_administration": ("SnelStart stuurde een nieuwe sleutel voor een andere administratie dan de gekoppelde; "
                             "geweigerd. Koppel opnieuw als dat zo bedoeld is.",
                             "SnelStart sent a new key for another administration than the linked one; refused. "
                             "Link again if that is intended."),
    "not_linked": ("SnelStart meldde een verwijderde koppeling die hier niet (meer) bestaat.",
                   "SnelStart reported a removed link that does not exist here (any more)."),
}

def _sign_in(data: dict[str, Any], lang: str) -> str:
    """Failed and locked sign-ins: the name only when it is a configured user (a typo may be a password)."""
    name, client, locked = data.get("name"), data.get("client", "?"), data.get("locked")
    if lang == "en":
        who = f"as ‘{name}’" if name else "with an unknown user name"
        if locked == "user":
            return f"Too many failed attempts: signing in {who} is locked for a while."
        if locked == "client":
            return f"Too many failed attempts: signing in from {client} is locked for a while."
        return f"Failed sign-in {who} from {client}."
    who = f"als ‘{name}’" if name else "met een onbekende gebruikersnaam"
    if locked == "user":
        return f"Te veel mislukte pogingen: aanmelden {who} is tijdelijk geblokkeerd."
    if locked == "client":
        return f"Te veel mislukte pogingen: aanmelden vanaf {client} is tijdelijk geblokkeerd."
    return f"Mislukte aanmelding {who} vanaf {client}."


KINDS: dict[str, Kind] = {
    # -- the push ------------------------------------------------------------------------------------------------
    "booked": Kind("info", ("Geboekt", "Booked"),
                   "Factuur {invoice} geboekt in SnelStart.", "Invoice {invoice} booked in SnelStart."),
    "adopted": Kind("info", ("Overgenomen", "Adopted"),
                    "Factuur {invoice} stond al in SnelStart en past (bedrag, klant, datum); die boeking is "
                    "overgenomen (geen dubbele).",
                    "Invoice {invoice} was already in SnelStart and fits (amount, customer, date); that booking was "
                    "adopted (no duplicate)."),
    "conflict": Kind("warning", ("Conflict", "Conflict"), "Factuur {invoice}: {reason}", "Invoice {invoice}: {reason}"),
    "adopted_anyway": Kind("warning", ("Toch overgenomen", "Adopted anyway"),
                           "Factuur {invoice}: de boeking in SnelStart is door {actor} toch overgenomen, ondanks: "
                           "{reason}",
                           "Invoice {invoice}: the booking in SnelStart was adopted anyway by {actor}, despite: "
                           "{reason}"),
    "nothing_to_book": Kind("info", ("Niets te boeken", "Nothing to book"),
                            "Factuur {invoice} is {amount}: er valt niets te boeken in SnelStart.",
                            "Invoice {invoice} is {amount}: there is nothing to book in SnelStart.",
                            {"amount": "money"}),
    "blocked": Kind("warning", ("Geblokkeerd", "Blocked"),
                    "Factuur {invoice} geblokkeerd: {reason}", "Invoice {invoice} blocked: {reason}"),
    "refused": Kind("error", ("Geweigerd door SnelStart", "Refused by SnelStart"),
                    "Factuur {invoice}: {reason}", "Invoice {invoice}: {reason}"),
    "retry": Kind("warning", ("Volgende keer opnieuw", "Retried next time"),
                  "Factuur {invoice}: {reason}", "Invoice {invoice}: {reason}"),
    "push_stopped": Kind("warning", ("Boeken gestopt", "Booking stopped"),
                         "Boeken gestopt: {reason} {waiting} wachten op de volgende run.",
                         "Booking stopped: {reason} {waiting} wait for the next run.", {"waiting": INVOICES}),
    "changed": Kind("warning", ("Gewijzigd in Gripp", "Changed in Gripp"),
                    "Factuur {invoice} is in Gripp gewijzigd nadat hij geboekt is; pas de boeking in SnelStart zelf "
                    "aan of maak een creditnota.",
                    "Invoice {invoice} was changed in Gripp after it was booked; correct the booking in SnelStart or "
                    "issue a credit note."),
    "pdf": Kind("warning", ("PDF", "PDF"),
                "PDF van factuur {invoice} nog niet bijgevoegd: {reason}",
                "PDF of invoice {invoice} not attached yet: {reason}"),
    "relatie": Kind("info", ("Klant aangemaakt", "Customer created"), words=_relatie),
    # -- payments ------------------------------------------------------------------------------------------------
    "payment": Kind("info", ("Betaling", "Payment"),
                    "Betaling van {amount} op factuur {invoice} in Gripp gezet ({date}).",
                    "Payment of {amount} on invoice {invoice} registered in Gripp ({date}).",
                    {"amount": "money", "date": "date"}),
    "payment_reversed": Kind("warning", ("Betaling teruggedraaid", "Payment reversed"),
                             "Betaling van {amount} ({date}) op factuur {invoice} in Gripp teruggedraaid: SnelStart "
                             "toont minder ontvangen (storno of teruggeboekte bankregel). De factuur staat in Gripp "
                             "weer open.",
                             "Payment of {amount} ({date}) on invoice {invoice} reversed in Gripp: SnelStart shows "
                             "less received (a storno or a reversed bank line). The invoice is open in Gripp again.",
                             {"amount": "money", "date": "date"}),
    "reversal_refused": Kind("warning", ("Terugdraaien geweigerd door Gripp", "Reversal refused by Gripp"),
                             "Gripp weigerde de betaling op factuur {invoice} terug te draaien: {error}",
                             "Gripp refused to reverse the payment on invoice {invoice}: {error}"),
    "payments_held": Kind("warning", ("Betalingen aangehouden", "Payments held"),
                          "Factuur {invoice}: het totaal in Gripp ({gripp_total}) en in SnelStart ({snelstart_total}) "
                          "verschilt; betalingen voor deze factuur worden niet teruggezet. Maak de bedragen gelijk "
                          "(corrigeer de boeking in SnelStart of maak een creditnota) en kijk de factuur na voordat "
                          "je een herinnering stuurt.",
                          "Invoice {invoice}: the total in Gripp ({gripp_total}) and in SnelStart ({snelstart_total}) "
                          "differ; payments for this invoice are held. Make the amounts equal (correct the booking "
                          "in SnelStart or issue a credit note) and check the invoice before sending a reminder.",
                          {"gripp_total": "money", "snelstart_total": "money"}),
    "payments_waiting": Kind("warning", ("Betalingen wachten", "Payments waiting"),
                             "Betalingen nog niet in Gripp gezet: {reason}", "Payments not yet in Gripp: {reason}"),
    "payment_refused": Kind("warning", ("Betaling geweigerd door Gripp", "Payment refused by Gripp"),
                            "Gripp weigerde de betaling op factuur {invoice}: {error}",
                            "Gripp refused the payment on invoice {invoice}: {error}"),
    "open_item_skipped": Kind("warning", ("Openstaande post overgeslagen", "Open item skipped"),
                              words=_open_item_skipped),
    "mismatch": Kind("warning", ("Alleen in Gripp betaald", "Paid in Gripp only"),
                     "Factuur {invoice} is in Gripp betaald (open {gripp_open}) maar staat in SnelStart nog open "
                     "({snelstart_open}). Er is niets geschreven; controleer de betaling in SnelStart.",
                     "Invoice {invoice} is paid in Gripp (open {gripp_open}) but still open in SnelStart "
                     "({snelstart_open}). Nothing was written; check the payment in SnelStart.",
                     {"gripp_open": "money", "snelstart_open": "money"}),
    # -- runs ----------------------------------------------------------------------------------------------------
    "manual_sync": Kind("info", ("Handmatige synchronisatie", "Manual sync"),
                        "Synchronisatie gestart door {actor}.", "Sync started by {actor}."),
    "preview": Kind("info", ("Proefrun", "Dry run"), "Proefrun gestart door {actor}.", "Dry run started by {actor}."),
    "paused": Kind("warning", ("Gripp-quotum op", "Gripp quota spent"),
                   "Het uurquotum van de Gripp-API is op; wat Gripp nodig heeft gaat verder vanaf {resumes_at} "
                   "(vanzelf, bij de volgende run daarna).",
                   "Gripp's hourly API quota is spent; what needs Gripp resumes at {resumes_at} (by itself, with the "
                   "next run after that).", {"resumes_at": "clock"}),
    "run_failed": Kind("error", ("Synchronisatie mislukt", "Sync failed"), "{reason}", "{reason}"),
    "retry_failed": Kind("info", ("Opnieuw aangeboden", "Offered again"),
                         "{n} opnieuw aangeboden: {numbers}", "{n} offered again: {numbers}", {"n": INVOICES}),
    "alert_acknowledged": Kind("info", ("Melding gezien", "Alert seen"), words=_acknowledged),
    # -- the schedule --------------------------------------------------------------------------------------------
    "schedule_missed": Kind("warning", ("Planning", "Schedule"),
                            "Een geplande synchronisatie is overgeslagen (te laat).",
                            "A scheduled sync was skipped (too late)."),
    "schedule_failed": Kind("error", ("Planning", "Schedule"),
                            "Geplande synchronisatie mislukt: {error}", "Scheduled sync failed: {error}"),
    "schedule_paused": Kind("info", ("Planning", "Schedule"),
                            "Automatische synchronisatie gepauzeerd.", "Automatic sync paused."),
    "schedule_resumed": Kind("info", ("Planning", "Schedule"),
                             "Automatische synchronisatie hervat.", "Automatic sync resumed."),
    "schedule_interval": Kind("info", ("Planning", "Schedule"),
                              "Interval ingesteld op {minutes}.", "Interval set to {minutes}.",
                              {"minutes": ("minuut", "minuten", "minute", "minutes")}),
    # -- setup ---------------------------------------------------------------------------------------------------
    "mapping": Kind("info", ("Koppeling BTW/grootboek/klant", "VAT/ledger/customer mapping"), words=_mapping),
    "identity": Kind("info", ("Identiteit", "Identity"),
                     "Identiteit {identity} ‘{name}’ toegevoegd.", "Identity {identity} ‘{name}’ added."),
    "identity_removed": Kind("info", ("Identiteit", "Identity"),
                             "Identiteit {identity} ‘{name}’ verwijderd.", "Identity {identity} ‘{name}’ removed."),
    "link": Kind("info", ("Koppeling", "Link"), words=_link_saved),
    "unlinked": Kind("info", ("Koppeling", "Link"),
                     "Koppeling van {name} met ‘{administration}’ verwijderd.",
                     "Link of {name} with ‘{administration}’ removed."),
    "start_date": Kind("info", ("Startdatum", "Start date"),
                       "Startdatum van {name} gewijzigd van {previous} in {start_date}.",
                       "Start date of {name} changed from {previous} to {start_date}.",
                       {"previous": "date", "start_date": "date"}),
    "link_started": Kind("info", ("Koppeling", "Link"),
                         "Koppeling van {name} via SnelStart gestart (geldig tot {expires_at}).",
                         "Linking of {name} through SnelStart started (valid until {expires_at}).",
                         {"expires_at": "clock"}),
    "key_delivered": Kind("info", ("Koppeling", "Link"),
                          "SnelStart leverde een koppelsleutel ({key_hint}) voor ‘{administration}’; bevestig de "
                          "koppeling van {name} in de console.",
                          "SnelStart delivered a koppelsleutel ({key_hint}) for ‘{administration}’; confirm the link "
                          "of {name} in the console."),
    "key_delivered_unverified": Kind("warning", ("Koppeling", "Link"),
                                     "SnelStart leverde een koppelsleutel ({key_hint}) voor {name}, maar was niet "
                                     "bereikbaar om te zeggen welke administratie hij opent. Hij is bewaard en wordt "
                                     "gecontroleerd zodra u de koppeling bevestigt.",
                                     "SnelStart delivered a koppelsleutel ({key_hint}) for {name} but could not be "
                                     "reached to say which administration it opens. It is kept and verified when you "
                                     "confirm the link."),
    "key_replaced": Kind("info", ("Koppeling", "Link"),
                         "SnelStart gaf een nieuwe koppelsleutel ({key_hint}) voor {name}; de oude "
                         "({previous_key_hint}) is vervangen.",
                         "SnelStart issued a new koppelsleutel ({key_hint}) for {name}; the old one "
                         "({previous_key_hint}) was replaced."),
    "link_removed_in_snelstart": Kind("info", ("Koppeling", "Link"),
                                      "De koppeling is in SnelStart verwijderd voordat hij was bevestigd.",
                                      "The link was removed in SnelStart before it was confirmed."),
    "webhook_refused": Kind("warning", ("Koppeling", "Link"), words=_webhook_refused),
    # -- sign-in (console/signin.py) -----------------------------------------------------------------------------
    "sign_in_failed": Kind("warning", ("Aanmelden", "Sign-in"), words=_sign_in),
    "sign_in_locked": Kind("warning", ("Aanmelden", "Sign-in"), words=_sign_in),
    "signed_in": Kind("info", ("Aanmelden", "Sign-in"), "{actor} aangemeld vanaf {client}.",
                      "{actor} signed in from {client}."),
}

# Alerts for failed automatic runs are data too.
ALERTS: dict[str, tuple[str, str]] = {
    "auto_sync_failed": ("Automatische synchronisatie van {name} mislukt: {reason}",
                         "Automatic sync of {name} failed: {reason}"),
}


def pick(value: Any, lang: str) -> str:
    """A value the reader sees: a `{"nl", "en"}` pair in their language, anything else as text."""
    if isinstance(value, dict) and "nl" in value and "en" in value:
        return str(value["en"] if lang == "en" else value["nl"])
    return "" if value is None else str(value)


def _shown(value: Any, how: Any, lang: str) -> str:
    if isinstance(how, tuple):
        one, many = (how[2], how[3]) if lang == "en" else (how[0], how[1])
        return fmt.plural(int(value or 0), one, many, lang)
    formatter = {"money": fmt.money, "date": fmt.day, "moment": fmt.moment, "count": fmt.count,
                 "percent": fmt.percent}.get(how)
    if formatter is not None:
        return formatter(value, lang)
    if how == "clock":
        from datetime import datetime

        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        return fmt.clock(moment, lang)
    return pick(value, lang)


def fill(template: str, types: Mapping[str, Any], data: Mapping[str, Any], lang: str) -> str:
    values = {name: _shown(value, types.get(name), lang) for name, value in data.items()}

    class _Blank(dict):
        def __missing__(self, key: str) -> str:
            return ""

    return template.format_map(_Blank(values))


def data_of(event: Mapping[str, Any]) -> dict[str, Any]:
    raw = event.get("detail_json")
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        data = {}
    data = data if isinstance(data, dict) else {}
    for column, name in (("invoice_number", "invoice"), ("actor", "actor")):
        if event.get(column) and name not in data:
            data[name] = event[column]
    return data


def render(event: Mapping[str, Any], lang: str) -> str:
    """An event row (kind, invoice_number, actor, detail_json) in the reader's language. Rows written before
    events were data keep the words they were written with."""
    kind = KINDS.get(str(event.get("kind")))
    stored = event.get("message_en" if lang == "en" else "message_nl")
    if kind is None or (isinstance(stored, str) and stored):
        return stored if isinstance(stored, str) else str(event.get("kind") or "")
    data = data_of(event)
    if kind.words is not None:
        return kind.words(data, lang)
    return fill(kind.en if lang == "en" else kind.nl, kind.types, data, lang)


def label(kind: str, lang: str) -> str:
    """The kind as the log's "Soort" filter shows it."""
    found = KINDS.get(kind)
    if found is None:
        return kind
    return found.label[1] if lang == "en" else found.label[0]


def level_of(kind: str) -> str:
    found = KINDS.get(kind)
    return found.level if found else "info"


def render_alert(alert: Mapping[str, Any], lang: str) -> str:
    """An alert row (kind, detail_json) — or the data of one — in the reader's language."""
    stored = alert.get("message_en" if lang == "en" else "message_nl")
    if isinstance(stored, str) and stored:
        return stored
    templates = ALERTS.get(str(alert.get("kind")))
    if templates is None:
        return ""
    data = alert.get("data") if isinstance(alert.get("data"), dict) else data_of(alert)
    return fill(templates[1] if lang == "en" else templates[0], {}, data or {}, lang)


# ================================================================================================ runs, in words

def _stuck(counts: Mapping[str, Any], lang: str) -> str:
    parts = []
    if counts.get("blocked"):
        parts.append(f"{fmt.count(counts['blocked'], lang)} {'geblokkeerd' if lang == 'nl' else 'blocked'}")
    if counts.get("failed"):
        parts.append(f"{fmt.count(counts['failed'], lang)} {'geweigerd' if lang == 'nl' else 'refused'}")
    if counts.get("conflicts"):
        parts.append(fmt.plural(int(counts["conflicts"]), *(("conflict", "conflicten") if lang == "nl" else
                                                            ("conflict", "conflicts")), lang))
    return ", ".join(parts)


def run_state(outcome: str, counts: Mapping[str, Any]) -> str:
    """The colour a run deserves: ok, warnings, failed, running, refused — a run that booked nothing because
    everything was blocked or refused, with nothing of the identity in SnelStart at all, is `failed` to the reader,
    whatever the engine's outcome; a rerun that finds the same blocked invoices keeps the colour of the run before."""
    if outcome in ("failed", "running", "refused"):
        return outcome
    done = sum(int(counts.get(k) or 0) for k in ("booked", "adopted", "payments_registered", "in_snelstart"))
    if (counts.get("blocked") or counts.get("failed") or counts.get("conflicts")) and not done:
        return "failed"
    return outcome


def run_label(outcome: str, counts: Mapping[str, Any] | None, lang: str) -> str:
    """What a run did, in a few words: `gelukt`, `deels gelukt — 4 geblokkeerd`, `niets geboekt — 25
    geblokkeerd`, `mislukt`. A run whose invoices were all blocked is never `gelukt`."""
    counts = counts or {}
    nl = lang != "en"
    if outcome == "running":
        return "bezig" if nl else "running"
    if outcome == "failed":
        return "mislukt" if nl else "failed"
    if outcome == "refused":
        return "niet gestart" if nl else "not started"
    stuck = _stuck(counts, lang)
    if stuck:
        if run_state(outcome, counts) == "failed":
            return f"{'niets geboekt' if nl else 'nothing booked'} — {stuck}"
        return f"{'deels gelukt' if nl else 'partly done'} — {stuck}"
    if outcome == "warnings":
        return "gelukt, met aandachtspunten" if nl else "done, with warnings"
    return "gelukt" if nl else "done"


def run_summary(outcome: str, counts: Mapping[str, Any] | None, reason: Any, lang: str) -> str:
    """A run's counts (or its failure) as a sentence: `25 geboekt, 316 overgenomen, 4 geblokkeerd, 13 betalingen
    teruggezet in Gripp`."""
    counts = counts or {}
    nl = lang != "en"
    if outcome == "failed":
        return pick(reason, lang) or ("mislukt" if nl else "failed")

    def n(key: str) -> int:
        return int(counts.get(key) or 0)

    parts = [f"{fmt.count(n('booked'), lang)} {'geboekt' if nl else 'booked'}"]
    if n("adopted"):
        parts.append(f"{fmt.count(n('adopted'), lang)} {'overgenomen' if nl else 'adopted'}")
    if n("blocked") or n("failed") or n("conflicts"):
        parts.append(_stuck(counts, lang))
    payments = fmt.plural(n("payments_registered"), *(PAYMENTS[:2] if nl else PAYMENTS[2:]), lang)
    parts.append(f"{payments} {'teruggezet in Gripp' if nl else 'registered in Gripp'}")
    if n("payments_reversed"):
        reversed_ = fmt.plural(n("payments_reversed"), *(PAYMENTS[:2] if nl else PAYMENTS[2:]), lang)
        parts.append(f"{reversed_} {'teruggedraaid in Gripp' if nl else 'reversed in Gripp'}")
    if n("payments_held"):
        held = fmt.plural(n("payments_held"), *(INVOICES[:2] if nl else INVOICES[2:]), lang)
        parts.append(f"{held} {'met aangehouden betalingen' if nl else 'with payments held'}")
    if n("retry_later"):
        later = "wachten op de volgende run" if nl else "wait for the next run"
        parts.append(f"{fmt.count(n('retry_later'), lang)} {later}")
    if n("pdf_pending"):
        parts.append(f"{fmt.count(n('pdf_pending'), lang)} {'PDF’s volgen nog' if nl else 'PDFs still to come'}")
    if n("payments_pending"):
        waiting = fmt.plural(n("payments_pending"), *(PAYMENTS[:2] if nl else PAYMENTS[2:]), lang)
        parts.append(f"{waiting} {'wachten' if nl else 'waiting'}")
    text = ", ".join(parts)
    if counts.get("resumes_at"):
        when = _shown(counts["resumes_at"], "clock", lang)
        text += (f"; het uurquotum van Gripp is op, verder vanaf {when}" if nl else
                 f"; Gripp's hourly quota is spent, the sync resumes at {when}")
    return text
