"""Kostenplaatsen: where an identity's booking lines take theirs from, and the mapping Gripp → SnelStart with its
suggestions (the kostenplaats the link makes for a project: `sync.jobs.project_kostenplaatsen`).

Suggestions (as the VAT and ledger ones, `sync.jobs.suggestions`): the SnelStart kostenplaats with the same number as
Gripp's, else the one with the same name (case and outer spaces ignored); an inactive one is never suggested.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind
from sync.core.words import N_, Msg
from sync.jobs.checks import KOSTENPLAATS_CODES, CheckKey, CheckResult, problem_groups
from sync.jobs.inputs import invoice_ceiling, invoice_input, invoices_in_scope, kostenplaats_source, mapping_context
from sync.jobs.services import Services
from sync.jobs.suggestions import (
    MappingError,
    Suggestion,
    _checkable,
    _data,
    _gripp_id,
    _identity,
    _label,
    _mapping_result,
    _not_checked,
    _snelstart_number,
    reread_reference,
)
from sync.mapping import line_net
from sync.mapping.types import KostenplaatsSource, MappingContext
from sync.store import history
from sync.store import kostenplaatsen as kp_repo
from sync.store import setup as setup_repo
from sync.store.db import Store

# ============================================================================================= used on invoices


def used_costheadings(rows: Iterable[dict]) -> dict[int, dict]:
    """The Gripp kostenplaatsen on lines with an amount: id → {label, invoices}."""
    used: dict[int, dict] = {}
    for row in rows:
        invoice = invoice_input(row)
        for line in invoice.lines:
            if line.costheading_id is None or line_net(line) == 0:
                continue
            entry = used.setdefault(line.costheading_id, {"label": line.costheading_label, "invoices": set()})
            entry["invoices"].add(invoice.number)
    return used


def used_projects(rows: Iterable[dict]) -> set[int]:
    """The Gripp projects on lines with an amount."""
    return {line.project_id for row in rows for line in invoice_input(row).lines
            if line.project_id is not None and line_net(line) != 0}


# ================================================================================================ suggestions


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _number(text: str) -> str | None:
    stripped = text.strip()
    return str(int(stripped)) if stripped.isdigit() else None


def kostenplaats_suggestion(costheading_id: int, label: str, number: str, ctx: MappingContext) -> Suggestion:
    """Same number, then same name; only active SnelStart kostenplaatsen."""
    existing = ctx.kostenplaatsen[costheading_id].snelstart_number if costheading_id in ctx.kostenplaatsen else None
    active = [info for info in ctx.snelstart_kostenplaatsen.values() if info.active]
    wanted = _number(number)
    same_number = next((info for info in active if wanted is not None and str(info.number) == wanted), None)
    if same_number is not None:
        return Suggestion("kostenplaats", costheading_id, label, str(same_number.number), None,
                          Msg("suggestion.kostenplaats.same_number", number=str(same_number.number),
                              name=same_number.description), existing, number)
    same_name = next((info for info in sorted(active, key=lambda i: i.number)
                      if _key(info.description) == _key(label)), None)
    if same_name is not None:
        return Suggestion("kostenplaats", costheading_id, label, str(same_name.number), None,
                          Msg("suggestion.kostenplaats.same_name", number=str(same_name.number),
                              name=same_name.description), existing, number)
    return Suggestion("kostenplaats", costheading_id, label, "", None,
                      Msg("suggestion.kostenplaats.none", label=label, number=number or "—"), existing, number)


def kostenplaats_suggestions(store: Store, identity_id: int, rows: list[dict],
                             ctx: MappingContext) -> list[Suggestion]:
    """A suggestion for every Gripp kostenplaats on the identity's invoices in scope — when the identity takes its
    kostenplaatsen from the lines (with a project or none as the source, Gripp's are not booked)."""
    if ctx.kostenplaats_source != KostenplaatsSource.LINE:
        return []
    cached = kp_repo.costheadings(store)
    out = []
    for costheading_id, info in sorted(used_costheadings(rows).items()):
        found = cached.get(costheading_id)
        mapping = ctx.kostenplaatsen.get(costheading_id)
        label = (found["name"] if found else "") or (mapping.gripp_label if mapping else "") or info["label"]
        out.append(kostenplaats_suggestion(costheading_id, label, found["number"] if found else "", ctx))
    return out


def suggest(services: Services, identity_id: int) -> list[Suggestion]:
    """`kostenplaats_suggestions` for the identity, on its invoices in scope (read as the VAT and ledger ones are)."""
    data = _data(services, identity_id)
    return kostenplaats_suggestions(services.store, identity_id, data.rows, data.ctx)


def kostenplaats_options(services: Services, identity_id: int) -> dict[str, str]:
    """The SnelStart kostenplaatsen a Gripp kostenplaats may be mapped to: the active ones — number → "100 — Name"."""
    link = setup_repo.get_link(services.store, identity_id)
    if link is None:
        return {}
    return {str(row["number"]): f"{row['number']} — {row['description']}"
            for row in kp_repo.snelstart(services.store, link.administration_id) if row["active"]}


# ================================================================================================== saving


def save_kostenplaats_mapping(services: Services, identity_id: int, gripp_costheading_id: int, gripp_label: str,
                              snelstart_number: str | int, *, actor: Actor | str) -> list[CheckResult]:
    """Save a Gripp kostenplaats → SnelStart kostenplaats number. One SnelStart does not have (or not as an active
    one) is refused; the result says what the checks say about the invoices that use it."""
    actor = authorize(actor, "mappings")
    store = services.store
    identity_id = _identity(store, identity_id)
    gripp_costheading_id = _gripp_id(gripp_costheading_id, Msg("error.mapping.kostenplaats_id"))
    number = _snelstart_number(snelstart_number, N_("error.mapping.kostenplaats_number"))
    label = _label(gripp_label)
    link, checkable = _checkable(services, identity_id)
    if checkable and link is not None:
        found = _active(store, link.administration_id, number)
        if found is None and reread_reference(services, link):  # made in SnelStart since the last fetch?
            found = _active(store, link.administration_id, number)
        if found is None:
            raise MappingError(Msg("error.mapping.kostenplaats_missing", number=number,
                                   administration=link.administration_name), code="missing")
    with store.transaction():
        before = next((m for m in kp_repo.mappings(store, identity_id)
                       if m["gripp_costheading_id"] == gripp_costheading_id), None)
        kp_repo.put_mapping(store, identity_id, gripp_costheading_id, label, number, actor)
        history.log_event(store, EventKind.MAPPING, identity_id=identity_id, actor=actor,
                          data={"type": "kostenplaats", "gripp_id": gripp_costheading_id, "label": label,
                                "snelstart_number": number, "previous": before["snelstart_number"] if before else None})
    if not checkable or link is None:
        return _not_checked(CheckKey.KOSTENPLAATS_MAPPING, Msg("check.kostenplaats_mapping.no_kostenplaatsen"))
    ctx = mapping_context(store, identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    rows = [r for r in invoices_in_scope(store, identity_id, link.start_date)
            if any(line.costheading_id == gripp_costheading_id and line_net(line) != 0
                   for line in invoice_input(r).lines)]
    subject = f"kostenplaats:{gripp_costheading_id}"
    groups = [g for g in problem_groups(rows, ctx, KOSTENPLAATS_CODES) if g.subject == subject]
    return _mapping_result(CheckKey.KOSTENPLAATS_MAPPING, groups,
                           Msg("check.kostenplaats_mapping.fits", number=number, count=len(rows)))


def _active(store: Store, administration_id: str, number: str) -> dict | None:
    return next((row for row in kp_repo.snelstart(store, administration_id)
                 if str(row["number"]) == number and row["active"]), None)


def set_source(services: Services, identity_id: int, source: str | None, *, actor: Actor | str) -> KostenplaatsSource:
    """Where the identity's booking lines take their kostenplaats from (None: the default again); audited."""
    actor = authorize(actor, "mappings")
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise MappingError(Msg("error.mapping.not_linked"), code="not_linked")
    if source is not None and source not in set(KostenplaatsSource):
        raise MappingError(Msg("error.mapping.kostenplaats_source", value=str(source),
                               choices=", ".join(KostenplaatsSource)))
    previous = kostenplaats_source(link)
    with store.transaction():
        setup_repo.set_kostenplaats_source(store, identity_id, source)
        chosen = kostenplaats_source(setup_repo.get_link(store, identity_id))
        history.log_event(store, EventKind.MAPPING, identity_id=identity_id, actor=actor,
                          data={"type": "kostenplaats_source", "name": setup_repo.identity_name(store, identity_id),
                                "source": str(chosen), "previous": str(previous)})
    return chosen
