"""VAT and ledger mappings: suggestions for a person to confirm, and saving them with the checks applied.

Suggestions
- **VAT**: a Gripp VAT rate's percentage comes from its label ("21%", "6% (t/m 2018)") or, for labels without
  one ("Vrijgesteld"), from the invoices' own totals; the SnelStart kind is the one with that percentage on the
  dates the rate is used (`suggest_vat_kind`: Laag was 6 % until 2018 and 9 % since). Labels such as "Verlegd"
  are reverse charge (Verlegd).
- **Ledgers**: the SnelStart grootboek with the Gripp ledger's number ("8000 Omzet" → 8000), provided it is an
  active revenue account that accepts the VAT kinds booked on it; otherwise the best such account, with the
  reason the equal number does not fit.

Saving validates the input (malformed → `MappingError`, nothing saved), saves with an audit event naming the
actor, and returns what the VAT/ledger checks say about the new mapping on the invoices that use it, so the
person sees at once whether it is right on every invoice date.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from sync.auth.access import Actor, authorize
from sync.core import joined
from sync.core.events import EventKind
from sync.core.explained import Explained
from sync.core.money import cents
from sync.core.words import N_, NN_, Msg
from sync.gripp import errors as gripp_errors
from sync.jobs.checks import (
    LEDGER_CODES,
    PASS,
    VAT_CODES,
    WARNING,
    CheckKey,
    CheckResult,
    ProblemGroup,
    grouped,
    problem_groups,
    result,
)
from sync.jobs.checks import used_rates_and_ledgers as _used
from sync.jobs.inputs import invoice_ceiling, invoice_input, invoices_in_scope, mapping_context
from sync.jobs.refresh import reference_age, refresh_gripp, refresh_reference
from sync.jobs.services import Services
from sync.mapping import line_net, normalize_kind, suggest_vat_kind, vat_kind_on
from sync.mapping.booking import SALES_FUNCTIONS, ledger_misfit
from sync.mapping.problems import ProblemCode
from sync.mapping.types import MappingContext, SnelStartLedgerInfo
from sync.mapping.vat import LINE_KIND, VERLEGD
from sync.snelstart import errors as ss_errors
from sync.store import cache, history
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.setup import Link, LinkHealth

_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d{1,2})?)\s*%")
_REVERSE = re.compile(r"verlegd|reverse[\s-]*charge|vat[\s-]*shifted|btw[\s-]*verlegd|intracommunautair", re.I)
_LEADING_NUMBER = re.compile(r"^\s*(\d{3,6})\b")
# The sales function that fits a mapping kind best, when several accounts would do.
_PREFERRED_FUNCTION = {
    "Hoog": ("VerkopenOmzetHoog",),
    "Laag": ("VerkopenOmzetLaag",),
    "Overig": ("VerkopenOmzetOverig",),
    "Geen": ("VerkopenBtwVrij", "VerkopenExportBuitenEU", "VerkopenExportBinnenEU"),
    VERLEGD: ("VerkopenOmzetOnbelastVerlegd", "DienstverleningBinnenEU"),
}


class MappingError(Explained, ValueError):
    """A mapping that cannot be saved as given. `code`: `invalid` (malformed), `unknown` (an identity or customer this
    database does not know), `not_linked` (no administration to check it against), `missing` (a grootboek or
    relatie SnelStart does not have), `misfit` (one that cannot take these invoices), `unreadable` (SnelStart could
    not be read and nothing is cached: nothing to judge against)."""


@dataclass(frozen=True)
class Suggestion:
    type: Literal["vat", "ledger", "kostenplaats"]
    gripp_id: int
    gripp_label: str
    snelstart: str  # a VAT kind, a grootboek number or a kostenplaats number; "" when nothing fits
    percentage: Decimal | None  # the Gripp rate's percentage (VAT only)
    reason: Msg  # why this suggestion (or why there is none)
    existing: str | None  # what it is mapped to now
    gripp_number: str = ""  # Gripp's own number for it, when Gripp has one (kostenplaatsen: the costheading's)

    @property
    def changes(self) -> bool:
        return bool(self.snelstart) and self.snelstart != self.existing


# ================================================================================================ data


@dataclass
class _Data:
    link: Link
    rows: list[dict]
    ctx: MappingContext


def _data(services: Services, identity_id: int) -> _Data:
    """The identity's invoices in scope and SnelStart's reference data, fetched when there is none cached yet."""
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise MappingError(Msg("error.mapping.not_linked"), code="not_linked")
    _ensure_gripp(services, identity_id)
    read_reference_or_refuse(services, link)
    rows = invoices_in_scope(store, identity_id, link.start_date)
    return _Data(link, rows, mapping_context(store, identity_id, link.administration_id,
                                             max_total=invoice_ceiling(link, services.settings)))


def _ensure_gripp(services: Services, identity_id: int) -> None:
    """The identity's invoices, fetched once when the cache has none (the sync keeps them fresh after that)."""
    store = services.store
    if not cache.has_gripp_invoices(store, identity_id):
        try:
            refresh_gripp(store, services.gripp())
        except gripp_errors.GrippError:
            pass  # judged on what is cached; the checks report Gripp's trouble


def read_reference_or_refuse(services: Services, link: Link) -> None:
    """SnelStart's ledgers, VAT rates and relaties, read once when none are cached. When SnelStart could not be read
    and nothing is cached, nothing can be judged: a `MappingError` says why, rather than suggestions that take an
    empty administration for the real one ("no ledger allows Hoog")."""
    if reference_age(services.store, link.administration_id) is not None or reread_reference(services, link):
        return
    key = N_("error.mapping.key_refused") if link.health == LinkHealth.BROKEN else N_("error.mapping.unreadable")
    raise MappingError(Msg(key), code="unreadable")


def reread_reference(services: Services, link: Link) -> bool:
    """Read the administration's ledgers, VAT rates and relaties from SnelStart again; False when SnelStart could
    not be read (the cached ones stay)."""
    try:
        refresh_reference(services.store, services.snelstart(link.identity_id), link.administration_id)
        return True
    except ss_errors.SnelStartError:
        return False


# ================================================================================================ VAT


def percentage_from_label(label: str) -> Decimal | None:
    found = _PERCENT.search(label or "")
    return Decimal(found.group(1).replace(",", ".")) if found else None


def is_reverse_charge(label: str) -> bool:
    return bool(_REVERSE.search(label or ""))


def _known_percentages(ctx: MappingContext, labels: dict[int, str]) -> dict[int, Decimal]:
    """Percentages of Gripp VAT rates we can tell without the totals: label first, else the saved mapping."""
    known: dict[int, Decimal] = {}
    for vat_id, label in labels.items():
        if is_reverse_charge(label):
            known[vat_id] = Decimal(0)
            continue
        pct = percentage_from_label(label)
        if pct is None and vat_id in ctx.vat:
            pct = ctx.vat[vat_id].percentage
        if pct is not None:
            known[vat_id] = pct
    return known


def percentage_from_totals(rows: list[dict], vat_id: int, known: dict[int, Decimal],
                           candidates: set[Decimal]) -> Decimal | None:
    """The percentage that reproduces Gripp's VAT on the invoices where every other rate is known.

    Gripp computes VAT per rate on the summed net, to the cent; a candidate fits an invoice when it gives that
    invoice's remaining VAT within a cent. The candidate that fits the most invoices (weighted by net, so a
    tiny line cannot decide) wins; None when no invoice can tell.
    """
    scores: dict[Decimal, Decimal] = defaultdict(Decimal)  # candidate → the net amount it explains
    for row in rows:
        if row["total_excl_vat"] is None or row["total_incl_vat"] is None:
            continue
        invoice = invoice_input(row)
        nets: dict[int | None, Decimal] = {}
        for line in invoice.lines:
            nets[line.vat_id] = nets.get(line.vat_id, Decimal(0)) + line_net(line)
        target = nets.get(vat_id)
        if not target or any(other != vat_id and other not in known for other in nets if nets[other]):
            continue
        others = sum((cents(net * known[other] / Decimal(100)) for other, net in nets.items()
                      if other != vat_id and other is not None and net), Decimal(0))
        remaining = row["total_incl_vat"] - row["total_excl_vat"] - others
        for candidate in candidates:
            if abs(cents(target * candidate / Decimal(100)) - remaining) <= Decimal("0.01"):
                scores[candidate] += abs(target)
    if not scores:
        return None
    return max(scores.items(), key=lambda item: (item[1], -item[0]))[0]


def _vat_suggestion(vat_id: int, label: str, dates: set[date], data: _Data, pct: Decimal | None,
                    source: str) -> Suggestion:
    existing = data.ctx.vat[vat_id].kind if vat_id in data.ctx.vat else None
    n = len(dates)
    if is_reverse_charge(label):
        return Suggestion("vat", vat_id, label, VERLEGD, Decimal(0),
                          Msg("suggestion.vat.reverse_charge", label=label), existing)
    if pct is None:
        return Suggestion("vat", vat_id, label, "", None, Msg("suggestion.vat.unknown_percentage", label=label),
                          existing)
    kinds = Counter(suggest_vat_kind(data.ctx.vat_rates, pct, on) for on in dates)
    fitting = {k: c for k, c in kinds.items() if k is not None}
    how = Msg("suggestion.vat.from_name") if source == "label" else Msg("suggestion.vat.from_totals")
    if not fitting:
        return Suggestion("vat", vat_id, label, "", pct,
                          Msg(NN_("suggestion.vat.no_kind"), label=label, rate=pct, how=how, n=n), existing)
    kind, count = max(fitting.items(), key=lambda item: item[1])
    if count == n:
        return Suggestion("vat", vat_id, label, kind, pct,
                          Msg(NN_("suggestion.vat.fits"), label=label, rate=pct, how=how, kind=kind, n=n), existing)
    return Suggestion("vat", vat_id, label, kind, pct,
                      Msg("suggestion.vat.fits_some", label=label, rate=pct, how=how, kind=kind, fitting=count,
                          dates=n), existing)


# ================================================================================================ ledgers


def ledger_number(label: str) -> str | None:
    """Gripp shows a ledger as "8000 Omzet": its number leads."""
    found = _LEADING_NUMBER.match(label or "")
    return str(int(found.group(1))) if found else None


def _fits(info: SnelStartLedgerInfo, kinds: set[str]) -> bool:
    accepts = {normalize_kind(k) for k in info.accepts}
    return (info.active and not info.balance_sheet and info.function in SALES_FUNCTIONS
            and all(LINE_KIND[k] in accepts for k in kinds))


def _why_not(info: SnelStartLedgerInfo | None, number: str, kinds: set[str]) -> Msg:
    if info is None:
        return Msg("suggestion.ledger.not_found", number=number)
    if not info.active:
        return Msg("suggestion.ledger.inactive", number=number)
    if info.balance_sheet or info.function not in SALES_FUNCTIONS:
        return Msg("suggestion.ledger.not_revenue", number=number)
    accepts = {normalize_kind(k) for k in info.accepts}
    missing = ", ".join(sorted(k for k in kinds if LINE_KIND[k] not in accepts))
    return Msg("suggestion.ledger.kinds", number=number, kinds=missing)


def _ledger_suggestion(ledger_id: int, label: str, kinds: set[str], data: _Data) -> Suggestion:
    existing = data.ctx.ledgers[ledger_id].snelstart_number if ledger_id in data.ctx.ledgers else None
    number = ledger_number(label)
    ledgers = data.ctx.snelstart_ledgers
    kinds_text = ", ".join(sorted(kinds)) or "—"
    same = ledgers.get(number) if number else None
    if same is not None and _fits(same, kinds):
        return Suggestion("ledger", ledger_id, label, str(same.number), None,
                          Msg("suggestion.ledger.same_number", number=str(same.number), name=same.description,
                              kinds=kinds_text), existing)

    def preference(info: SnelStartLedgerInfo) -> tuple[int, int]:
        wanted = [f for k in sorted(kinds) for f in _PREFERRED_FUNCTION.get(k, ())]
        return (wanted.index(info.function) if info.function in wanted else len(wanted), info.number)

    options = sorted((info for info in ledgers.values() if _fits(info, kinds)), key=preference)
    why = (Msg("suggestion.ledger.not_same", why=_why_not(same, number, kinds)) if number
           else Msg("suggestion.ledger.no_number"))
    if not options:
        none_fits = (Msg("suggestion.ledger.none_fits_example", kinds=kinds_text, number=number) if number
                     else Msg("suggestion.ledger.none_fits", kinds=kinds_text))
        return Suggestion("ledger", ledger_id, label, "", None, joined.sentences([why, none_fits]), existing)
    best = options[0]
    return Suggestion("ledger", ledger_id, label, str(best.number), None,
                      joined.sentences([why, Msg("suggestion.ledger.suggested", number=str(best.number),
                                                 name=best.description, kinds=kinds_text)]), existing)


# ================================================================================================ suggest


def suggest_mappings(services: Services, identity_id: int) -> list[Suggestion]:
    """A suggestion for every Gripp VAT rate and ledger used on the identity's invoices in scope."""
    data = _data(services, identity_id)
    used_vat, used_ledgers = _used(data.rows)
    labels = {i: (data.ctx.vat[i].gripp_label if i in data.ctx.vat and data.ctx.vat[i].gripp_label
                  else info["label"]) for i, info in used_vat.items()}
    known = _known_percentages(data.ctx, {i: labels[i] for i in labels
                                          if percentage_from_label(labels[i]) is not None
                                          or is_reverse_charge(labels[i])})
    candidates = {r.percentage for r in data.ctx.vat_rates} | {Decimal(0)}
    out: list[Suggestion] = []
    for vat_id in sorted(used_vat):
        label = labels[vat_id]
        pct, source = percentage_from_label(label), "label"
        if pct is None and not is_reverse_charge(label):
            pct, source = percentage_from_totals(data.rows, vat_id, known, candidates), "totals"
        out.append(_vat_suggestion(vat_id, label, used_vat[vat_id]["dates"], data, pct, source))
    kind_of = {s.gripp_id: s.snelstart for s in out if s.snelstart}
    for vat_id, mapping in data.ctx.vat.items():
        kind_of.setdefault(vat_id, normalize_kind(mapping.kind) or "")
    for ledger_id in sorted(used_ledgers):
        info = used_ledgers[ledger_id]
        label = (data.ctx.ledgers[ledger_id].gripp_label if ledger_id in data.ctx.ledgers
                 and data.ctx.ledgers[ledger_id].gripp_label else info["label"])
        kinds = {kind_of[v] for v in info["vat_ids"] if kind_of.get(v)}
        out.append(_ledger_suggestion(ledger_id, label, kinds, data))
    return out


# ================================================================================================ save


def _identity(store: Store, identity_id: object) -> int:
    if isinstance(identity_id, bool) or not isinstance(identity_id, int) \
            or not setup_repo.identity_known(store, identity_id):
        raise MappingError(Msg("error.mapping.unknown_identity", identity=repr(identity_id)), code="unknown")
    return identity_id


def _gripp_id(value: object, wrong: Msg) -> int:
    """A Gripp id as given, or `MappingError(wrong)`."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MappingError(wrong)
    return value


def _snelstart_number(value: object, wrong: str) -> str:
    """A SnelStart number as typed (digits, at most nine) without its leading zeros, or `MappingError(wrong)`."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 9:
        raise MappingError(Msg(wrong, value=str(value)))
    return str(int(text))


def _percentage(value: object) -> Decimal:
    try:
        pct = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ".").rstrip("%"))
    except (InvalidOperation, ValueError):
        pct = None
    if pct is None or not pct.is_finite() or not Decimal(0) <= pct <= Decimal(100) or pct != pct.quantize(
            Decimal("0.01")):
        raise MappingError(Msg("error.mapping.percentage", value=str(value)))
    return pct.quantize(Decimal("0.01"))


def _label(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > 200:
        raise MappingError(Msg("error.mapping.label_too_long"))
    return text


def _mapping_result(check: CheckKey, groups: list[ProblemGroup], ok: Msg) -> list[CheckResult]:
    """What the checks say about a mapping just saved: each problem on the invoices that use it, else `ok`."""
    if not groups:
        return [result(check, PASS, ok)]
    return [grouped(check, groups, join=joined.sentences)]


def _not_checked(check: CheckKey, why: Msg) -> list[CheckResult]:
    return [result(check, WARNING, Msg("check.mapping.not_checked", why=why))]


def _checkable(services: Services, identity_id: int) -> tuple[Link | None, bool]:
    link = setup_repo.get_link(services.store, identity_id)
    if link is None:
        return None, False
    _ensure_gripp(services, identity_id)
    if reference_age(services.store, link.administration_id) is None and not reread_reference(services, link):
        return link, False
    return link, True


def save_vat_mapping(services: Services, identity_id: int, gripp_vat_id: int, gripp_label: str, kind: str,
                     percentage: Decimal | str | None, *, actor: Actor | str) -> list[CheckResult]:
    """Save a Gripp VAT rate → SnelStart kind; the result says whether it is right on every invoice date. A
    missing or impossible percentage is refused (`MappingError`)."""
    actor = authorize(actor, "mappings")
    store = services.store
    identity_id = _identity(store, identity_id)
    gripp_vat_id = _gripp_id(gripp_vat_id, Msg("error.mapping.vat_id"))
    canonical = normalize_kind(kind)
    if canonical is None:
        raise MappingError(Msg("error.mapping.vat_kind", kind=str(kind)))
    pct = _percentage(percentage)
    label = _label(gripp_label)
    with store.transaction():
        before = next((m for m in setup_repo.vat_mappings(store, identity_id) if m["gripp_vat_id"] == gripp_vat_id),
                      None)
        setup_repo.put_vat_mapping(store, identity_id, gripp_vat_id, label, canonical, pct, actor)
        history.log_event(
            store, EventKind.MAPPING, identity_id=identity_id, actor=actor,
            data={"type": "vat", "gripp_id": gripp_vat_id, "label": label, "kind": canonical, "percentage": pct,
                    "previous": {"kind": before["kind"], "percentage": before["percentage"]} if before else None},
        )

    link, checkable = _checkable(services, identity_id)
    if not checkable:
        return _not_checked(CheckKey.VAT_MAPPING, Msg("check.vat_mapping.no_rates"))
    assert link is not None
    ctx = mapping_context(store, identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    rows = [r for r in invoices_in_scope(store, identity_id, link.start_date)
            if any(line.vat_id == gripp_vat_id and line_net(line) != 0 for line in invoice_input(r).lines)]
    if not rows:
        today_pct = vat_kind_on(ctx.vat_rates, canonical, services.today())
        if today_pct is not None and today_pct != pct:
            return [result(CheckKey.VAT_MAPPING, WARNING, Msg("check.vat_mapping.unused_other_rate", kind=canonical,
                                                              today=today_pct, rate=pct))]
        return [result(CheckKey.VAT_MAPPING, PASS, Msg("check.vat_mapping.unused"))]
    subject = f"vat:{gripp_vat_id}"
    groups = [g for g in problem_groups(rows, ctx, VAT_CODES | LEDGER_CODES | {ProblemCode.TOTAL_MISMATCH})
              if g.subject == subject or g.subject.endswith(f"/{subject}") or g.code == ProblemCode.TOTAL_MISMATCH]
    dates = {r["invoice_date"] for r in rows}
    return _mapping_result(CheckKey.VAT_MAPPING, groups, Msg(NN_("check.vat_mapping.fits"), kind=canonical, rate=pct,
                                                             dates=len(dates), n=len(rows)))


def save_ledger_mapping(services: Services, identity_id: int, gripp_ledger_id: int, gripp_label: str,
                        snelstart_number: str | int, *, actor: Actor | str) -> list[CheckResult]:
    """Save a Gripp ledger → SnelStart grootboek number. A number SnelStart does not have is refused."""
    actor = authorize(actor, "mappings")
    store = services.store
    identity_id = _identity(store, identity_id)
    gripp_ledger_id = _gripp_id(gripp_ledger_id, Msg("error.mapping.ledger_id"))
    number = _snelstart_number(snelstart_number, N_("error.mapping.ledger_number"))
    label = _label(gripp_label)

    link, checkable = _checkable(services, identity_id)
    if checkable and link is not None:
        found = _snelstart_ledger(store, link.administration_id, number)
        if found is None and reread_reference(services, link):  # created in SnelStart since the last fetch?
            found = _snelstart_ledger(store, link.administration_id, number)
        if found is None:
            raise MappingError(Msg("error.mapping.ledger_missing", number=number,
                                   administration=link.administration_name), code="missing")
        misfit = _ledger_misfit(services, identity_id, link, gripp_ledger_id, number)
        if misfit is not None:  # refused before anything is saved
            raise MappingError(Msg("error.mapping.ledger_misfit", number=number, label=label, misfit=misfit),
                               code="misfit")

    with store.transaction():
        before = next((m for m in setup_repo.ledger_mappings(store, identity_id)
                       if m["gripp_ledger_id"] == gripp_ledger_id), None)
        setup_repo.put_ledger_mapping(store, identity_id, gripp_ledger_id, label, number, actor)
        history.log_event(
            store, EventKind.MAPPING, identity_id=identity_id, actor=actor,
            data={"type": "ledger", "gripp_id": gripp_ledger_id, "label": label, "snelstart_number": number,
                    "previous": before["snelstart_number"] if before else None},
        )

    if not checkable or link is None:
        return _not_checked(CheckKey.LEDGER_MAPPING, Msg("check.ledger_mapping.no_ledgers"))
    ctx = mapping_context(store, identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    info = ctx.snelstart_ledgers[number]
    rows = [r for r in invoices_in_scope(store, identity_id, link.start_date)
            if any(line.ledger_id == gripp_ledger_id and line_net(line) != 0 for line in invoice_input(r).lines)]
    subject = f"ledger:{gripp_ledger_id}"
    groups = [g for g in problem_groups(rows, ctx, LEDGER_CODES)
              if g.subject == subject or g.subject.startswith(f"{subject}/")]
    if not rows:
        notes = []
        if not info.active:
            notes.append(Msg("check.ledger_mapping.inactive"))
        if info.balance_sheet or info.function not in SALES_FUNCTIONS:
            notes.append(Msg("check.ledger_mapping.not_revenue"))
        if notes:
            return [result(CheckKey.LEDGER_MAPPING, WARNING, Msg("check.ledger_mapping.unused_note",
                                                                 notes=joined.clauses(notes), number=number))]
    accepts = ", ".join(info.accepts) or "—"
    return _mapping_result(CheckKey.LEDGER_MAPPING, groups,
                           Msg("check.ledger_mapping.fits", number=number, name=info.description, count=len(rows),
                               accepts=accepts))


def _ledger_kinds(services: Services, identity_id: int, link: Link, gripp_ledger_id: int) -> set[str]:
    """The VAT mapping kinds booked on this Gripp ledger by the identity's invoices in scope."""
    rows = invoices_in_scope(services.store, identity_id, link.start_date)
    _, used = _used(rows)
    vat = {m["gripp_vat_id"]: m["kind"] for m in setup_repo.vat_mappings(services.store, identity_id)}
    return {vat[v] for v in used.get(gripp_ledger_id, {}).get("vat_ids", set()) if vat.get(v)}


def _ledger_misfit(services: Services, identity_id: int, link: Link, gripp_ledger_id: int,
                   number: str) -> Msg | None:
    ctx = mapping_context(services.store, identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    info = ctx.snelstart_ledgers.get(number)
    if info is None:
        return None
    return ledger_misfit(info, _ledger_kinds(services, identity_id, link, gripp_ledger_id))


def ledger_options(services: Services, identity_id: int, gripp_ledger_id: int) -> dict[str, str]:
    """The SnelStart ledgers a Gripp ledger may be mapped to: active revenue (omzet) accounts that allow every VAT
    kind booked on it — number → "8000 — Omzet hoog". Balance-sheet, cost and journal accounts are never offered."""
    link = setup_repo.get_link(services.store, identity_id)
    if link is None:
        return {}
    ctx = mapping_context(services.store, identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    kinds = _ledger_kinds(services, identity_id, link, gripp_ledger_id)
    return {number: f"{info.number} — {info.description}"
            for number, info in sorted(ctx.snelstart_ledgers.items(), key=lambda item: int(item[0]))
            if ledger_misfit(info, kinds) is None}


def _snelstart_ledger(store: Store, administration_id: str, number: str) -> int | None:
    return int(number) if cache.snelstart_ledger_exists(store, administration_id, int(number)) else None

