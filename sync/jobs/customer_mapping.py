"""Customer mappings: a person pins a Gripp company to a SnelStart relatie, beside the VAT and ledger mappings.

A pin decides which relatie the company's invoices are booked on, whatever the keys say
(`sync.mapping.customers`). The editor offers a row for every customer whose keys contradict each other or are
ambiguous, and for every pinned one, with a suggestion where one relatie stands out. Saving checks that the
relatie exists in the linked SnelStart administration and is a Klant (fetching SnelStart's relaties once when it
is not known yet), and is recorded with who did it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.auth.access import Actor, authorize
from sync.core import joined
from sync.core.events import EventKind
from sync.core.words import N_, NN_, Msg
from sync.jobs.checks import PASS, WARNING, CheckKey, CheckResult, result
from sync.jobs.inputs import customer_inputs, invoices_in_scope
from sync.jobs.services import Services
from sync.jobs.suggestions import MappingError, read_reference_or_refuse, reread_reference
from sync.mapping.customers import PINNED, RelatieIn, normal_kvk, normal_name, normal_vat, relatie_label
from sync.store import cache, history, outbox
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.setup import Link


@dataclass(frozen=True)
class CustomerSuggestion:
    company_id: int
    gripp_label: str  # the company's name in Gripp
    customernumber: int | None
    snelstart: str  # the suggested relatiecode; "" when a person must choose
    reason: Msg  # what is wrong with the customer's keys and what is suggested (or who pinned it)
    existing: str | None  # the pinned relatiecode
    candidates: tuple[tuple[str, str], ...] = ()  # (relatiecode, "code — name") the customer's keys point to

    @property
    def changes(self) -> bool:
        return bool(self.snelstart) and self.snelstart != self.existing


def klanten(store: Store, administration_id: str) -> dict[str, str]:
    """The administration's relaties of kind Klant as cached: relatiecode -> "1001 — Bakkerij Jansen B.V."."""
    rows = cache.snelstart_relaties_with_code(store, administration_id)
    return {str(r["relatiecode"]): f"{r['relatiecode']} — {r['name']}" for r in rows
            if "Klant" in (r["kinds"] or "").split(",")}


def suggest_customer_mappings(services: Services, identity_id: int) -> list[CustomerSuggestion]:
    """A row for every customer with invoices in scope whose keys contradict each other or are ambiguous, and for
    every customer a person pinned."""
    store = services.store
    link = _link(store, identity_id)
    read_reference_or_refuse(services, link)
    customers = customer_inputs(store, identity_id, link.administration_id)
    by_id = {r.relatie_id: r for r in customers.relaties}
    pins = {r["company_id"]: r for r in setup_repo.customer_mappings(store, identity_id)}
    booked = {invoice_id for invoice_id, state in outbox.all_for(store, identity_id).items()
              if state["state"] in outbox.BOOKED_STATES}
    by_company: dict[int, list[dict]] = {}
    for row in invoices_in_scope(store, identity_id, link.start_date):
        if row["company_id"] is not None:
            by_company.setdefault(row["company_id"], []).append(row)
    out: list[CustomerSuggestion] = []
    for company_id, rows in by_company.items():
        waiting = [row for row in rows if row["invoice_id"] not in booked]
        row = (waiting or rows)[0]  # the problem is told of an invoice it holds back, never of a booked one
        match = customers.match(row)
        pin = pins.get(company_id)
        if match.problem is None and match.how != PINNED:
            continue
        company = customers.company(company_id, row.get("company_name") or "")
        existing = str(pin["relatiecode"]) if pin and pin["relatiecode"] is not None else None
        candidates = tuple((str(r.relatiecode), f"{r.relatiecode} — {r.name}") for r in match.involved
                           if r.relatiecode is not None)
        if match.problem is None:  # pinned, and the pin is good
            relatie = by_id.get(match.relatie_id or "")
            name = relatie.name if relatie else (pin or {}).get("relatie_name", "")
            out.append(CustomerSuggestion(
                company_id, company.name, company.customernumber, existing or "",
                Msg("customer_mapping.pinned", relatie=str(existing), name=name,
                    who=pin["updated_by"] if pin else "?"), existing, candidates))
            continue
        # per customer, so the invoice the problem holds back is named (the problem's own words leave it to the
        # invoice's row they are shown beside)
        problem = Msg("customer_mapping.waiting", number=match.problem.values.get("number", ""),
                      problem=match.problem.message) if waiting else _all_booked(company.name, match.involved)
        same_name = [r for r in match.involved if normal_name(r.name) == normal_name(company.name)
                     and r.relatiecode is not None]
        if len(same_name) == 1:
            chosen = same_name[0]
            suggested = Msg("customer_mapping.suggested", relatie=str(chosen.relatiecode), name=chosen.name)
            out.append(CustomerSuggestion(
                company_id, company.name, company.customernumber, str(chosen.relatiecode),
                joined.sentences([problem, suggested]), existing, candidates))
        else:
            out.append(CustomerSuggestion(
                company_id, company.name, company.customernumber, "",
                joined.sentences([problem, Msg("customer_mapping.choose")]), existing, candidates))
    return sorted(out, key=lambda s: (s.gripp_label.casefold(), s.company_id))


def _all_booked(name: str, involved: tuple[RelatieIn, ...]) -> Msg:
    """The customer's problem when every invoice of it in the period is booked already (pinned then, say): it
    holds back only the next one."""
    labels = [relatie_label(r) for r in involved]
    if labels:
        return Msg("customer_mapping.all_booked_involved", name=name, involved=labels)
    return Msg("customer_mapping.all_booked", name=name)


def save_customer_mapping(services: Services, identity_id: int, company_id: int, relatiecode: int | str, *,
                          actor: Actor | str) -> list[CheckResult]:
    """Pin a Gripp company to the SnelStart relatie with `relatiecode`. A relatie SnelStart does not have, or one
    that is not a Klant, is refused (`MappingError`); nothing is saved then."""
    who = authorize(actor, "mappings")
    store = services.store
    link = _link(store, identity_id)
    if isinstance(company_id, bool) or not isinstance(company_id, int) or company_id <= 0:
        raise MappingError(Msg("error.mapping.company_id"))
    company = cache.gripp_company(store, company_id)
    if company is None:
        raise MappingError(Msg("error.mapping.customer_unknown", company_id=str(company_id)), code="unknown")
    code = _relatiecode(relatiecode)
    relatie = _relatie(store, link.administration_id, code)
    if relatie is None and reread_reference(services, link):  # made in SnelStart since the last fetch?
        relatie = _relatie(store, link.administration_id, code)
    if relatie is None:
        raise MappingError(Msg("error.mapping.relatie_missing", relatiecode=str(code),
                               administration=link.administration_name), code="missing")
    if "Klant" not in (relatie["kinds"] or "").split(","):
        raise MappingError(Msg("error.mapping.relatie_not_klant", relatiecode=str(code), name=relatie["name"]),
                           code="misfit")
    label = company["name"] or ""
    with store.transaction():
        before = next((m for m in setup_repo.customer_mappings(store, identity_id) if m["company_id"] == company_id),
                      None)
        setup_repo.put_customer_mapping(store, identity_id, company_id, label, relatie["relatie_id"], code,
                                        relatie["name"] or "", who)
        history.log_event(store, EventKind.MAPPING, identity_id=identity_id, actor=who,
                          data={"type": "customer", "gripp_id": company_id, "label": label,
                                "relatie_id": relatie["relatie_id"], "relatiecode": code, "relatie": relatie["name"],
                                "previous": before["relatiecode"] if before else None})
    n = len([r for r in invoices_in_scope(store, identity_id, link.start_date) if r["company_id"] == company_id])
    notes = []
    for gripp_key, relatie_key, normal, differs in (
            ("vatnumber", "vat_number", normal_vat, N_("check.customer_mapping.vat_differs")),
            ("cocnumber", "kvk_number", normal_kvk, N_("check.customer_mapping.kvk_differs"))):
        ours, theirs = normal(company.get(gripp_key)), normal(relatie[relatie_key])
        if ours and theirs and ours != theirs:
            notes.append(Msg(differs, theirs=relatie[relatie_key], ours=company[gripp_key]))
    saved = Msg(NN_("check.customer_mapping.saved"), n=n, label=label, relatiecode=str(code), name=relatie["name"])
    if notes:
        return [result(CheckKey.CUSTOMER_MAPPING, WARNING,
                       joined.sentences([saved, Msg("check.customer_mapping.note", notes=joined.clauses(notes))]),
                       Msg("check.customer_mapping.fix"))]
    return [result(CheckKey.CUSTOMER_MAPPING, PASS, saved)]


def remove_customer_mapping(services: Services, identity_id: int, company_id: int, *, actor: Actor | str) -> bool:
    """Remove a pin: the company's invoices are matched on their keys again. False when there was none."""
    who = authorize(actor, "mappings")
    store = services.store
    before = next((m for m in setup_repo.customer_mappings(store, identity_id) if m["company_id"] == company_id), None)
    if before is None:
        return False
    with store.transaction():
        setup_repo.delete_mapping(store, identity_id, "customer", company_id)
        history.log_event(store, EventKind.MAPPING, identity_id=identity_id, actor=who,
                          data={"type": "customer", "gripp_id": company_id, "label": before["gripp_label"],
                                "removed": before["relatiecode"]})
    return True


def _link(store: Store, identity_id: int) -> Link:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise MappingError(Msg("error.mapping.not_linked_relaties"), code="not_linked")
    return link


def _relatiecode(value: object) -> int:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 9:
        raise MappingError(Msg("error.mapping.relatiecode", value=str(value)))
    return int(text)


def _relatie(store: Store, administration_id: str, code: int) -> dict | None:
    return cache.snelstart_relatie(store, administration_id, code)


