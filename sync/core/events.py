"""What the event log can say: every kind of event (`EventKind`) with its level, its label and its words as
catalog keys; the alerts (`AlertKind`); and what a run did (`run_label`, `run_summary`).

The engine records what happened as data — the kind, the invoice, amounts, dates, counts, names, other messages —
and nothing else (`sync.store.history.log_event(store, EventKind.BOOKED, data={...})`). Reading it back, an event
is a message (`message(event)`: a catalog key with the recorded values) that each surface says in its reader's
language (`render(event, lang)`, or the console's `t(message(event))`). The words are in the catalogs only:
`event.<kind>` is the sentence, `event.<kind>.label` the log's "Soort". A new kind of event is one member of
`EventKind`, one entry in `KINDS` and its words in both catalogs.

A template says how each value is shown by its placeholder (`{amount:money}`, `{date:date}`, `{at:clock}`);
`invoice` and `actor` are filled from the event's own columns. A few kinds choose smaller keys by the data (a
note only when there is one, another sentence for a locked sign-in): `Kind.say` builds their message.

Rows written before events were data keep the words they were written with (`recorded`, in both languages).
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from functools import cache
from typing import Any

from sync.core.explained import RECORDED
from sync.core.words import DEFAULT, N_, NN_, MissingWords, Msg, entries, say, template


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class EventKind(StrEnum):
    """Every kind of event; the values are what the log stores (rows of every version keep their meaning)."""

    # the push
    BOOKED = "booked"
    ADOPTED = "adopted"
    CONFLICT = "conflict"
    ADOPTED_ANYWAY = "adopted_anyway"
    NOTHING_TO_BOOK = "nothing_to_book"
    BLOCKED = "blocked"
    REFUSED = "refused"
    RETRY = "retry"
    PUSH_STOPPED = "push_stopped"
    CHANGED = "changed"
    PDF = "pdf"
    RELATIE = "relatie"
    KOSTENPLAATS = "kostenplaats"  # one the link made in SnelStart for a project
    # after booking (sync.jobs.after_booking)
    INVOICE_GONE = "invoice_gone"
    GONE_CONFIRMED = "gone_confirmed"
    RELATIE_RENAMED = "relatie_renamed"
    # payments
    PAYMENT = "payment"
    PAYMENT_REVERSED = "payment_reversed"
    REVERSAL_REFUSED = "reversal_refused"
    PAYMENTS_HELD = "payments_held"
    PAYMENTS_WAITING = "payments_waiting"
    PAYMENT_REFUSED = "payment_refused"
    OPEN_ITEM_SKIPPED = "open_item_skipped"
    MISMATCH = "mismatch"
    # runs
    MANUAL_SYNC = "manual_sync"
    PREVIEW = "preview"
    PAUSED = "paused"
    RUN_FAILED = "run_failed"
    RETRY_FAILED = "retry_failed"
    ALERT_ACKNOWLEDGED = "alert_acknowledged"
    # the schedule
    SCHEDULE_MISSED = "schedule_missed"
    SCHEDULE_FAILED = "schedule_failed"
    SCHEDULE_PAUSED = "schedule_paused"
    SCHEDULE_RESUMED = "schedule_resumed"
    SCHEDULE_INTERVAL = "schedule_interval"
    # setup
    MAPPING = "mapping"
    IDENTITY = "identity"
    IDENTITY_REMOVED = "identity_removed"
    LINK = "link"
    LINK_SHARED = "link_shared"  # support linked an administration on purpose beside another link
    UNLINKED = "unlinked"
    START_DATE = "start_date"
    CEILING = "ceiling"
    LINK_STARTED = "link_started"
    KEY_DELIVERED = "key_delivered"
    KEY_DELIVERED_UNVERIFIED = "key_delivered_unverified"
    KEY_REPLACED = "key_replaced"
    LINK_REMOVED_IN_SNELSTART = "link_removed_in_snelstart"
    WEBHOOK_REFUSED = "webhook_refused"
    ACCOUNT_ADDED = "account_added"
    # sign-in (console/signin.py)
    SIGN_IN_FAILED = "sign_in_failed"
    SIGN_IN_LOCKED = "sign_in_locked"
    SIGNED_IN = "signed_in"


Values = dict[str, Any]


@dataclass(frozen=True)
class Kind:
    level: Level  # a call may raise it (a relatie created with notes is a warning)
    label: str  # catalog key: the log's "Soort" filter and column
    words: str  # catalog key: the sentence (the one `say` starts from, or falls back to)
    counted_by: str | None = None  # the value whose number chooses the sentence's plural form
    say: Callable[[Values], Msg] | None = None  # for the few whose keys are chosen by the data
    also: tuple[str, ...] = ()  # other keys `say` may choose beyond `event.<kind>.…` (for the log's search)


def _value(data: Values, name: str) -> Any:
    found = data.get(name)
    return "" if found is None else found


def _relatie(data: Values) -> Msg:
    """A relatie created in SnelStart, with what the finance person should know: a shortened name, a VAT number
    left out (and why)."""
    shortened: Msg | str = ""
    if data.get("shortened_from"):
        shortened = Msg(N_("event.relatie.shortened"), limit=_value(data, "limit"),
                        shortened_from=data["shortened_from"])
    vat: Msg | str = ""
    if data.get("vat_dropped"):
        why = Msg(N_("event.relatie.vat_refused") if data.get("vat_refused") else N_("event.relatie.vat_invalid"))
        vat = Msg(N_("event.relatie.vat_dropped"), vat=data["vat_dropped"], why=why)
    return Msg(N_("event.relatie"), name=_value(data, "name"), shortened=shortened, vat=vat)


def _open_item_skipped(data: Values) -> Msg:
    known: list[Any] = []
    if data.get("booking_id"):
        known.append(Msg(N_("event.open_item_skipped.booking"), booking=data["booking_id"]))
    if data.get("factuur_datum"):
        known.append(date.fromisoformat(str(data["factuur_datum"])[:10]))
    if data.get("factuur_bedrag"):
        known.append(Msg(N_("value.money"), amount=data["factuur_bedrag"]))
    details = Msg(N_("event.open_item_skipped.known"), details=known) if known else ""
    return Msg(N_("event.open_item_skipped"), missing=list(data.get("missing") or []), known=details)


def _link_saved(data: Values) -> Msg:
    previously: Msg | str = ""
    if data.get("previous_administration"):
        previously = Msg(N_("event.link.previously"), previous_administration=data["previous_administration"])
    return Msg(N_("event.link"), name=_value(data, "name"), administration=_value(data, "administration"),
               key_hint=_value(data, "key_hint"), previously=previously)


def other_link(item: dict[str, Any]) -> Msg:
    """Another link to the same administration, as every surface names it: the identity and its account."""
    return Msg(N_("link.other"), identity=str(item.get("identity_id", "")), name=item.get("identity_name") or "",
               account=item.get("account_key") or "", account_name=item.get("account_name") or "")


def _link_shared(data: Values) -> Msg:
    links = data.get("links")
    return Msg(N_("event.link_shared"), name=_value(data, "name"), administration=_value(data, "administration"),
               by=_value(data, "by"), links=[other_link(item) for item in links if isinstance(item, dict)]
               if isinstance(links, list) else [])


def _ceiling(data: Values) -> Msg:
    """An identity's ceiling on an invoice's total changed: from and to an amount, or the deployment's default
    (None; said with the default as it was then)."""
    def amount(value: Any) -> Msg:
        if value is None:
            return Msg(N_("event.ceiling.default"), default=_value(data, "default"))
        return Msg(N_("value.money"), amount=value)

    return Msg(N_("event.ceiling"), name=_value(data, "name"), previous=amount(data.get("previous")),
               ceiling=amount(data.get("ceiling")))


def _mapping(data: Values) -> Msg:
    """A VAT rate, ledger or customer mapped (or a customer's pin removed), with what it was before."""
    label, gripp_id = _value(data, "label"), _value(data, "gripp_id")
    previous = data.get("previous")
    if data.get("type") == "customer":
        if data.get("removed") is not None:
            return Msg(N_("event.mapping.customer_removed"), label=label, gripp_id=gripp_id, relatie=data["removed"])
        was = Msg(N_("event.mapping.was"), previous=previous) if previous else ""
        return Msg(N_("event.mapping.customer"), label=label, gripp_id=gripp_id, code=_value(data, "relatiecode"),
                   name=_value(data, "relatie"), was=was)
    if data.get("type") == "kostenplaats":
        was = Msg(N_("event.mapping.was"), previous=previous) if previous else ""
        return Msg(N_("event.mapping.kostenplaats"), label=label, gripp_id=gripp_id,
                   number=_value(data, "snelstart_number"), was=was)
    if data.get("type") == "kostenplaats_source":
        return Msg(N_("event.mapping.kostenplaats_source"), name=_value(data, "name"),
                   source=Msg(f"kostenplaats_source.{_value(data, 'source')}"),
                   previous=Msg(f"kostenplaats_source.{_value(data, 'previous')}"))
    if data.get("type") == "vat":
        was = Msg(N_("event.mapping.was_vat"), kind=previous.get("kind", ""), percentage=previous.get("percentage")) \
            if isinstance(previous, dict) else ""
        return Msg(N_("event.mapping.vat"), label=label, gripp_id=gripp_id, kind=_value(data, "kind"),
                   percentage=data.get("percentage"), was=was)
    was = Msg(N_("event.mapping.was"), previous=previous) if previous else ""
    return Msg(N_("event.mapping"), label=label, gripp_id=gripp_id, number=_value(data, "snelstart_number"), was=was)


def _adopted_anyway(data: Values) -> Msg:
    """A conflict adopted anyway, with what differed. Not the conflict's whole sentence: it goes on to say the link
    does not adopt the booking, which this event just undid."""
    reason = data.get("reason")
    conflict = reason if isinstance(reason, Msg) else Msg.from_json(reason)
    who = {"invoice": _value(data, "invoice"), "actor": _value(data, "actor")}
    if conflict is not None and conflict.key == "problem.booking_conflict" and "differences" in conflict.values:
        return Msg(N_("event.adopted_anyway"), **who, differences=conflict.values["differences"])
    return Msg(N_("event.adopted_anyway.despite"), **who, reason=reason if reason is not None else "")


def _acknowledged(data: Values) -> Msg:
    seen = data.get("alert")
    if not isinstance(seen, dict):
        seen = {}
    return Msg(N_("event.alert_acknowledged"), actor=_value(data, "actor"), alert=alert_message(seen))


def _invoice_gone(data: Values) -> Msg:
    """A booked invoice Gripp no longer shows as sent: deleted there, or no longer sent."""
    key = N_("event.invoice_gone.not_sent") if data.get("how") == "not_sent" else N_("event.invoice_gone")
    return Msg(key, invoice=_value(data, "invoice"), customer=_value(data, "customer"))


# What each refusal of a SnelStart delivery means (the `error` the webhook records); another is said generally.
WEBHOOK_REFUSALS: dict[str, str] = {
    "expired": N_("event.webhook_refused.expired"),
    "replayed": N_("event.webhook_refused.replayed"),
    "second_key": N_("event.webhook_refused.second_key"),
    "stale_request": N_("event.webhook_refused.stale_request"),
    "key_not_verified": N_("event.webhook_refused.key_not_verified"),
    "other_administration": N_("event.webhook_refused.other_administration"),
    "not_linked": N_("event.webhook_refused.not_linked"),
}


def _webhook_refused(data: Values) -> Msg:
    key = WEBHOOK_REFUSALS.get(str(data.get("error") or ""), N_("event.webhook_refused"))
    return Msg(key, reason=_value(data, "reason"))


_SIGN_IN_KEYS = (N_("event.sign_in_failed"), N_("event.sign_in_locked"), N_("event.sign_in_locked.client"),
                 N_("event.sign_in.as"), N_("event.sign_in.unknown_name"), N_("event.sign_in.unknown_client"))


def _client(data: Values) -> object:
    """The visitor's address; none recorded when it was not known (before: the word `unknown`)."""
    client = data.get("client")
    return client if client and client != "unknown" else Msg(N_("event.sign_in.unknown_client"))


def _signed_in(data: Values) -> Msg:
    return Msg(N_("event.signed_in"), actor=data.get("actor") or "?", client=_client(data))


def _sign_in(data: Values) -> Msg:
    """Failed and locked sign-ins: the name only when it is a configured user (a typo may be a password)."""
    name, client, locked = data.get("name"), _client(data), data.get("locked")
    who = Msg(N_("event.sign_in.as"), name=name) if name else Msg(N_("event.sign_in.unknown_name"))
    if locked == "user":
        return Msg(N_("event.sign_in_locked"), who=who)
    if locked == "client":
        return Msg(N_("event.sign_in_locked.client"), client=client)
    return Msg(N_("event.sign_in_failed"), who=who, client=client)


# ================================================================================================ alerts


class AlertKind(StrEnum):
    """Alerts for people that stay until someone has seen them (`sync.store.history.raise_alert`)."""

    AUTO_SYNC_FAILED = "auto_sync_failed"


ALERTS: dict[AlertKind, str] = {
    AlertKind.AUTO_SYNC_FAILED: N_("alert.auto_sync_failed"),
}


# Where a booking line's kostenplaats comes from, as the words name it (sync.mapping.types.KostenplaatsSource's values).
_KOSTENPLAATS_SOURCES = (N_("kostenplaats_source.line"), N_("kostenplaats_source.project"),
                         N_("kostenplaats_source.none"))
ERR, INFO, WARN = Level.ERROR, Level.INFO, Level.WARNING
K = EventKind
KINDS: dict[EventKind, Kind] = {
    # -- the push ------------------------------------------------------------------------------------------------
    K.BOOKED: Kind(INFO, N_("event.booked.label"), N_("event.booked")),
    K.ADOPTED: Kind(INFO, N_("event.adopted.label"), N_("event.adopted")),
    K.CONFLICT: Kind(WARN, N_("event.conflict.label"), N_("event.conflict")),
    K.ADOPTED_ANYWAY: Kind(WARN, N_("event.adopted_anyway.label"), N_("event.adopted_anyway"), say=_adopted_anyway),
    K.NOTHING_TO_BOOK: Kind(INFO, N_("event.nothing_to_book.label"), N_("event.nothing_to_book")),
    K.BLOCKED: Kind(WARN, N_("event.blocked.label"), N_("event.blocked")),
    K.REFUSED: Kind(ERR, N_("event.refused.label"), N_("event.refused")),
    K.RETRY: Kind(WARN, N_("event.retry.label"), N_("event.retry")),
    K.PUSH_STOPPED: Kind(WARN, N_("event.push_stopped.label"), NN_("event.push_stopped"), counted_by="waiting"),
    K.CHANGED: Kind(WARN, N_("event.changed.label"), N_("event.changed")),
    K.PDF: Kind(WARN, N_("event.pdf.label"), N_("event.pdf")),
    K.RELATIE: Kind(INFO, N_("event.relatie.label"), N_("event.relatie"), say=_relatie),
    K.KOSTENPLAATS: Kind(INFO, N_("event.kostenplaats.label"), N_("event.kostenplaats")),
    # -- after booking -------------------------------------------------------------------------------------------
    K.INVOICE_GONE: Kind(WARN, N_("event.invoice_gone.label"), N_("event.invoice_gone"), say=_invoice_gone,
                         also=(N_("event.invoice_gone.not_sent"),)),
    K.GONE_CONFIRMED: Kind(INFO, N_("event.gone_confirmed.label"), N_("event.gone_confirmed")),
    K.RELATIE_RENAMED: Kind(INFO, N_("event.relatie_renamed.label"), N_("event.relatie_renamed")),
    # -- payments ------------------------------------------------------------------------------------------------
    K.PAYMENT: Kind(INFO, N_("event.payment.label"), N_("event.payment")),
    K.PAYMENT_REVERSED: Kind(WARN, N_("event.payment_reversed.label"), N_("event.payment_reversed")),
    K.REVERSAL_REFUSED: Kind(WARN, N_("event.reversal_refused.label"), N_("event.reversal_refused")),
    K.PAYMENTS_HELD: Kind(WARN, N_("event.payments_held.label"), N_("event.payments_held")),
    K.PAYMENTS_WAITING: Kind(WARN, N_("event.payments_waiting.label"), N_("event.payments_waiting")),
    K.PAYMENT_REFUSED: Kind(WARN, N_("event.payment_refused.label"), N_("event.payment_refused")),
    K.OPEN_ITEM_SKIPPED: Kind(WARN, N_("event.open_item_skipped.label"), N_("event.open_item_skipped"),
                              say=_open_item_skipped),
    K.MISMATCH: Kind(WARN, N_("event.mismatch.label"), N_("event.mismatch")),
    # -- runs ----------------------------------------------------------------------------------------------------
    K.MANUAL_SYNC: Kind(INFO, N_("event.manual_sync.label"), N_("event.manual_sync")),
    K.PREVIEW: Kind(INFO, N_("event.preview.label"), N_("event.preview")),
    K.PAUSED: Kind(WARN, N_("event.paused.label"), N_("event.paused")),
    K.RUN_FAILED: Kind(ERR, N_("event.run_failed.label"), N_("event.run_failed")),
    K.RETRY_FAILED: Kind(INFO, N_("event.retry_failed.label"), NN_("event.retry_failed"), counted_by="n"),
    K.ALERT_ACKNOWLEDGED: Kind(INFO, N_("event.alert_acknowledged.label"), N_("event.alert_acknowledged"),
                               say=_acknowledged, also=tuple(ALERTS.values())),
    # -- the schedule --------------------------------------------------------------------------------------------
    K.SCHEDULE_MISSED: Kind(WARN, N_("event.schedule_missed.label"), N_("event.schedule_missed")),
    K.SCHEDULE_FAILED: Kind(ERR, N_("event.schedule_failed.label"), N_("event.schedule_failed")),
    K.SCHEDULE_PAUSED: Kind(INFO, N_("event.schedule_paused.label"), N_("event.schedule_paused")),
    K.SCHEDULE_RESUMED: Kind(INFO, N_("event.schedule_resumed.label"), N_("event.schedule_resumed")),
    K.SCHEDULE_INTERVAL: Kind(INFO, N_("event.schedule_interval.label"), NN_("event.schedule_interval"),
                              counted_by="minutes"),
    # -- setup ---------------------------------------------------------------------------------------------------
    K.MAPPING: Kind(INFO, N_("event.mapping.label"), N_("event.mapping"), say=_mapping, also=_KOSTENPLAATS_SOURCES),
    K.IDENTITY: Kind(INFO, N_("event.identity.label"), N_("event.identity")),
    K.IDENTITY_REMOVED: Kind(INFO, N_("event.identity_removed.label"), N_("event.identity_removed")),
    K.LINK: Kind(INFO, N_("event.link.label"), N_("event.link"), say=_link_saved),
    K.LINK_SHARED: Kind(WARN, N_("event.link_shared.label"), N_("event.link_shared"), say=_link_shared,
                        also=(N_("link.other"),)),
    K.UNLINKED: Kind(INFO, N_("event.unlinked.label"), N_("event.unlinked")),
    K.START_DATE: Kind(INFO, N_("event.start_date.label"), N_("event.start_date")),
    K.CEILING: Kind(INFO, N_("event.ceiling.label"), N_("event.ceiling"), say=_ceiling),
    K.LINK_STARTED: Kind(INFO, N_("event.link_started.label"), N_("event.link_started")),
    K.KEY_DELIVERED: Kind(INFO, N_("event.key_delivered.label"), N_("event.key_delivered")),
    K.KEY_DELIVERED_UNVERIFIED: Kind(WARN, N_("event.key_delivered_unverified.label"),
                                     N_("event.key_delivered_unverified")),
    K.KEY_REPLACED: Kind(INFO, N_("event.key_replaced.label"), N_("event.key_replaced")),
    K.LINK_REMOVED_IN_SNELSTART: Kind(INFO, N_("event.link_removed_in_snelstart.label"),
                                      N_("event.link_removed_in_snelstart")),
    K.WEBHOOK_REFUSED: Kind(WARN, N_("event.webhook_refused.label"), N_("event.webhook_refused"),
                            say=_webhook_refused),
    K.ACCOUNT_ADDED: Kind(INFO, N_("event.account_added.label"), N_("event.account_added")),
    # -- sign-in (console/signin.py) -----------------------------------------------------------------------------
    K.SIGN_IN_FAILED: Kind(WARN, N_("event.sign_in_failed.label"), N_("event.sign_in_failed"), say=_sign_in,
                           also=_SIGN_IN_KEYS),
    K.SIGN_IN_LOCKED: Kind(WARN, N_("event.sign_in_locked.label"), N_("event.sign_in_locked"), say=_sign_in,
                           also=_SIGN_IN_KEYS),
    K.SIGNED_IN: Kind(INFO, N_("event.signed_in.label"), N_("event.signed_in"), say=_signed_in,
                      also=(N_("event.sign_in.unknown_client"),)),
}
del ERR, INFO, WARN, K


# ================================================================================================ reading events


def kind_of(value: object) -> EventKind | None:
    """The stored kind as an `EventKind`; None for a kind this version does not know (an old row)."""
    try:
        return EventKind(str(value))
    except ValueError:
        return None


# The processes that act without a person (`actor` in the log, the runs and the dry runs): said in the reader's words,
# not as the code's names ("Proefrun gestart door cli"). Any other actor is a person's name, shown as it is.
PROCESS_ACTORS = {"cli": N_("actor.cli"), "check": N_("actor.check"), "system": N_("actor.system"),
                  "console": N_("actor.console"), "scheduler": N_("actor.schedule"),
                  "migration": N_("actor.migration"),
                  "sandbox": N_("actor.sandbox")}  # the sandbox's one user, who signs in as nobody


def actor_message(actor: str | None) -> Msg | str:
    """Who did it, as a reader is told: a process in words, a person by name."""
    key = PROCESS_ACTORS.get(actor or "")
    return Msg(key) if key is not None else (actor or "")


def data_of(event: Mapping[str, Any]) -> Values:
    """An event row's values: its detail_json, with the invoice number and the actor from its own columns."""
    raw = event.get("detail_json")
    try:
        data = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        data = {"recorded": raw}  # not data: shown as it was written
    data = data if isinstance(data, dict) else {"recorded": data}
    if event.get("invoice_number") and "invoice" not in data:
        data["invoice"] = event["invoice_number"]
    if event.get("actor") and "actor" not in data:
        data["actor"] = actor_message(event["actor"])
    return data


def message(event: Mapping[str, Any]) -> Msg:
    """What an event row (kind, invoice_number, actor, detail_json) says: a message for any language. A row
    written before events were data says the words it was written with."""
    data = data_of(event)
    if "recorded" in data:
        return Msg(RECORDED, text=data["recorded"])
    kind = kind_of(event.get("kind"))
    if kind is None:
        return Msg(RECORDED, text=str(event.get("kind") or ""))
    found = KINDS[kind]
    values = {name: _as_recorded(value) for name, value in data.items()}
    if found.say is not None:
        return found.say(values)
    if found.counted_by is not None:
        values["n"] = _count(data.get(found.counted_by))
    return _complete(Msg(found.words, **values), counted=found.counted_by is not None)


def render(event: Mapping[str, Any], lang: str, *, escape: Callable[[str], str] | None = None) -> str:
    """An event row in the reader's language."""
    return say(message(event), lang, escape=escape)


def label_key(kind: str) -> str | None:
    found = kind_of(kind)
    return KINDS[found].label if found is not None else None


def label(kind: str, lang: str) -> str:
    """The kind as the log's "Soort" filter shows it (a kind this version does not know: its stored code)."""
    key = label_key(kind)
    return say(key, lang) if key is not None else str(kind)


def level_of(kind: str) -> Level:
    found = kind_of(kind)
    return KINDS[found].level if found is not None else Level.INFO


_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@cache
def _words_of(lang: str) -> dict[str, str]:
    """Every catalog key's words in `lang` without their placeholders, lower-case: what a search word can match."""
    return {key: _PLACEHOLDER.sub(" ", text).casefold() for key, text in entries(lang).items()}


def saying(word: str, lang: str) -> tuple[frozenset[EventKind], frozenset[str]]:
    """Which kinds of event, and which catalog keys (said as messages nested in an event's values), can say `word`
    in `lang`: an event can show the word only through them, its recorded values, invoice number or actor."""
    words = _words_of(lang)
    keys = frozenset(key for key, text in words.items() if word in text)
    kinds = frozenset(kind for kind, found in KINDS.items()
                      if keys & {found.label, found.words, *found.also}
                      or any(key.startswith(f"event.{kind}.") for key in keys))
    return kinds, keys


def alert_message(alert: Mapping[str, Any]) -> Msg:
    """What an alert row (kind, detail_json) — or the data of one (kind, data) — says."""
    data = alert.get("data") if isinstance(alert.get("data"), dict) else data_of(alert)
    data = data or {}
    if "recorded" in data:
        return Msg(RECORDED, text=data["recorded"])
    if "recorded" in alert:  # an alert seen before alerts were data, as its acknowledgement recorded it
        return Msg(RECORDED, text=alert["recorded"])
    try:
        key = ALERTS[AlertKind(str(alert.get("kind")))]
    except ValueError:
        return Msg(RECORDED, text="")
    return _complete(Msg(key, **{name: _as_recorded(value) for name, value in data.items()}))


def render_alert(alert: Mapping[str, Any], lang: str, *, escape: Callable[[str], str] | None = None) -> str:
    return say(alert_message(alert), lang, escape=escape)


def _as_recorded(value: Any) -> Any:
    """A number read back from the log is shown as it was recorded (an id, a relatiecode): the placeholder's spec
    says when it is a count or an amount."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _count(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


@cache
def _placeholders(key: str, counted: bool) -> frozenset[str]:
    try:
        words = template(key, DEFAULT, 1 if counted else None)
    except MissingWords:
        return frozenset()
    return frozenset(name for _, name, _, _ in string.Formatter().parse(words) if name)


def _complete(msg: Msg, *, counted: bool = False) -> Msg:
    """A stored row must always be readable: a value an older row did not record is shown empty."""
    missing = _placeholders(msg.key, counted) - msg.values.keys()
    return Msg(msg.key, **msg.values, **dict.fromkeys(missing, "")) if missing else msg



# ================================================================================================ runs


class Outcome(StrEnum):
    """How a run or a dry run stands or ended (`runs.outcome`, `previews.outcome`; the values are what they store)."""

    RUNNING = "running"
    OK = "ok"
    WARNINGS = "warnings"  # done, with invoices or payments waiting (or stopped on purpose, to go on by itself)
    FAILED = "failed"
    REFUSED = "refused"  # not started: another run of the identity was going on


class Trigger(StrEnum):
    """What started a run (`runs.trigger`)."""

    SCHEDULE = "schedule"
    MANUAL = "manual"  # "Nu synchroniseren" in the console
    CLI = "cli"
    CHECK = "check"  # a check (rows of earlier versions)


class Step(StrEnum):
    """What a run or a dry run is doing now (`runs.step`, `previews.step`)."""

    START = "start"
    GRIPP = "gripp"
    SNELSTART = "snelstart"
    PUSH = "push"
    PAYMENTS = "payments"
    RECONCILE = "reconcile"
    PLAN = "plan"  # a dry run's own
    DONE = "done"


def run_state(outcome: str, counts: Mapping[str, Any]) -> Outcome:
    """The colour a run deserves: ok, warnings, failed, running, refused — a run that booked nothing because
    everything was blocked or refused, with nothing of the identity in SnelStart at all, is `failed` to the reader,
    whatever the engine's outcome; a rerun that finds the same blocked invoices keeps the colour of the run before."""
    outcome = Outcome(outcome)
    if outcome in (Outcome.FAILED, Outcome.RUNNING, Outcome.REFUSED):
        return outcome
    done = sum(int(counts.get(k) or 0) for k in ("booked", "adopted", "payments_registered", "in_snelstart"))
    if (counts.get("blocked") or counts.get("failed") or counts.get("conflicts")) and not done:
        return Outcome.FAILED
    return outcome


# The runs that did what they should (with invoices left waiting, for `warnings`): the outcomes a metric's "last
# success", the watcher's "a later run went well" and the health's "a run went well after the check" count. A run that
# booked nothing is stored `failed` (the runner applies `run_state`), so it is never one of them.
DID_ITS_WORK = (Outcome.OK, Outcome.WARNINGS)


# How every surface names them (catalog keys).
OUTCOME_WORDS = {Outcome.OK: N_("outcome_ok"), Outcome.WARNINGS: N_("outcome_warnings"),
                 Outcome.FAILED: N_("outcome_failed"), Outcome.RUNNING: N_("outcome_running"),
                 Outcome.REFUSED: N_("outcome_refused")}
TRIGGER_WORDS = {Trigger.SCHEDULE: N_("trigger_schedule"), Trigger.MANUAL: N_("trigger_manual"),
                 Trigger.CLI: N_("trigger_cli"), Trigger.CHECK: N_("trigger_check")}
STEP_WORDS = {Step.START: N_("outcome_running"), Step.GRIPP: N_("run.step.gripp"),
              Step.SNELSTART: N_("run.step.snelstart"), Step.PUSH: N_("run.step.push"),
              Step.PAYMENTS: N_("run.step.payments"), Step.RECONCILE: N_("run.step.reconcile"),
              Step.PLAN: N_("step_plan"), Step.DONE: N_("sync_finished")}
# The parts of a run's summary, in the order it says them: (count, catalog key, said even when 0).
_STUCK = (("blocked", N_("run.blocked")), ("failed", N_("run.refused")), ("conflicts", NN_("run.conflicts")))
_AFTER = (("payments_registered", NN_("run.payments_registered"), True),
          ("payments_reversed", NN_("run.payments_reversed"), False),
          ("payments_held", NN_("run.payments_held"), False),
          ("retry_later", NN_("run.retry_later"), False),
          ("pdf_pending", NN_("run.pdf_pending"), False),
          ("payments_pending", NN_("run.payments_pending"), False))


def _n(counts: Mapping[str, Any], name: str) -> int:
    return _count(counts.get(name))


def _joined(parts: list[Msg]) -> Msg:
    """`a, b, c`: the parts of a summary, joined as the catalog says (`run.parts`)."""
    if len(parts) == 1:
        return parts[0]
    return Msg(N_("run.parts"), first=parts[0], rest=_joined(parts[1:]))


def _stuck(counts: Mapping[str, Any]) -> list[Msg]:
    return [Msg(key, n=_n(counts, name)) for name, key in _STUCK if _n(counts, name)]


def run_label_message(outcome: str, counts: Mapping[str, Any] | None) -> Msg:
    """What a run did, in a few words: `gelukt`, `deels gelukt — 4 geblokkeerd`, `niets geboekt — 25
    geblokkeerd`, `mislukt`. A run whose invoices were all blocked is never `gelukt`."""
    counts = counts or {}
    stuck = _stuck(counts)
    if outcome in (Outcome.RUNNING, Outcome.REFUSED) or (outcome == Outcome.FAILED and not stuck):
        return Msg(OUTCOME_WORDS[Outcome(outcome)])
    if stuck:  # a failed run with stuck invoices is one that booked nothing (the runner stores it as failed)
        key = N_("run.nothing_booked") if run_state(outcome, counts) == Outcome.FAILED else N_("run.partly")
        return Msg(key, stuck=_joined(stuck))
    return Msg(OUTCOME_WORDS[Outcome.WARNINGS if outcome == Outcome.WARNINGS else Outcome.OK])


def run_summary_message(outcome: str, counts: Mapping[str, Any] | None, reason: Any = None) -> Msg:
    """A run's counts (or its failure) as a sentence: `25 geboekt, 316 overgenomen, 4 geblokkeerd, 13 betalingen
    teruggezet in Gripp`. `reason` is why a failed run failed: a message, or words recorded before runs were data."""
    counts = counts or {}
    # Failed as a whole: why. A run that booked nothing (failed, with counts): what it found.
    if outcome == Outcome.FAILED and (reason or not counts):
        if isinstance(reason, Msg):
            return reason
        return Msg(RECORDED, text=reason) if reason else Msg(OUTCOME_WORDS[Outcome.FAILED])
    parts = [Msg(N_("run.booked"), n=_n(counts, "booked"))]
    if _n(counts, "adopted"):
        parts.append(Msg(N_("run.adopted"), n=_n(counts, "adopted")))
    parts += _stuck(counts)
    parts += [Msg(key, n=_n(counts, name)) for name, key, always in _AFTER if always or _n(counts, name)]
    summary = _joined(parts)
    if counts.get("resumes_at"):
        return Msg(N_("run.paused_until"), summary=summary, resumes_at=counts["resumes_at"])
    return summary


def run_label(outcome: str, counts: Mapping[str, Any] | None, lang: str) -> str:
    return say(run_label_message(outcome, counts), lang)


def run_summary(outcome: str, counts: Mapping[str, Any] | None, reason: Any, lang: str) -> str:
    return say(run_summary_message(outcome, counts, reason), lang)

