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
from sync.core import fmt
from sync.jobs.checks import PASS, WARNING, CheckResult
from sync.jobs.inputs import customer_inputs, invoices_in_scope
from sync.jobs.services import Services
from sync.jobs.suggestions import MappingError, reread_reference
from sync.mapping.customers import PINNED, RelatieIn, normal_kvk, normal_name, normal_vat, relatie_label
from sync.store import history, outbox
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.setup import Link

_TITLE = ("Klantkoppeling", "Customer mapping")


@dataclass(frozen=True)
class CustomerSuggestion:
    company_id: int
    gripp_label: str  # the company's name in Gripp
    customernumber: int | None
    snelstart: str  # the suggested relatiecode; "" when a person must choose
    reason_nl: str
    reason_en: str
    existing: str | None  # the pinned relatiecode
    candidates: tuple[tuple[str, str], ...] = ()  # (relatiecode, "code — name") the customer's keys point to

    @property
    def changes(self) -> bool:
        return bool(self.snelstart) and self.snelstart != self.existing

    def reason(self, lang: str = "nl") -> str:
        return self.reason_en if lang == "en" else self.reason_nl


def klanten(store: Store, administration_id: str) -> dict[str, str]:
    """The administration's relaties of kind Klant as cached: relatiecode -> "1001 — Bakkerij Jansen B.V."."""
    rows = store.rows("SELECT relatiecode, name, kinds FROM ss_relaties WHERE administration_id = ? AND relatiecode "
                      "IS NOT NULL ORDER BY relatiecode", [administration_id])
    return {str(r["relatiecode"]): f"{r['relatiecode']} — {r['name']}" for r in rows
            if "Klant" in (r["kinds"] or "").split(",")}


def suggest_customer_mappings(services: Services, identity_id: int) -> list[CustomerSuggestion]:
    """A row for every customer with invoices in scope whose keys contradict each other or are ambiguous, and for
    every customer a person pinned."""
    store = services.store
    link = _link(store, identity_id)
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
                f"Vastgelegd op relatie {existing} ‘{name}’ door {pin['updated_by'] if pin else '?'}.",
                f"Pinned to relatie {existing} ‘{name}’ by {pin['updated_by'] if pin else '?'}.", existing, candidates))
            continue
        problem_nl, problem_en = match.problem.nl, match.problem.en
        if not waiting:
            problem_nl, problem_en = _all_booked(company.name, match.involved)
        same_name = [r for r in match.involved if normal_name(r.name) == normal_name(company.name)
                     and r.relatiecode is not None]
        if len(same_name) == 1:
            chosen = same_name[0]
            out.append(CustomerSuggestion(
                company_id, company.name, company.customernumber, str(chosen.relatiecode),
                f"{problem_nl} Voorstel: relatie {chosen.relatiecode} ‘{chosen.name}’, die de naam uit Gripp "
                "draagt.",
                f"{problem_en} Suggested: relatie {chosen.relatiecode} ‘{chosen.name}’, which carries the name "
                "from Gripp.", existing, candidates))
        else:
            out.append(CustomerSuggestion(
                company_id, company.name, company.customernumber, "",
                f"{problem_nl} Kies zelf de juiste relatie.",
                f"{problem_en} Choose the right relatie yourself.", existing, candidates))
    return sorted(out, key=lambda s: (s.gripp_label.casefold(), s.company_id))


def _all_booked(name: str, involved: tuple[RelatieIn, ...]) -> tuple[str, str]:
    """The customer's problem when every invoice of it in the period is booked already (pinned then, say): it
    holds back only the next one."""
    labels = [relatie_label(r) for r in involved]
    nl = (f"De facturen van ‘{name}’ in de periode zijn al geboekt. Een volgende factuur van deze klant blijft "
          "staan tot de klantgegevens eenduidig zijn" + (f" (betrokken: {fmt.listing(labels, 'nl')})." if labels
                                                          else "."))
    en = (f"The invoices of ‘{name}’ in the period are booked already. A next invoice of this customer waits until "
          "the customer's details are unambiguous" + (f" (involved: {fmt.listing(labels, 'en')})." if labels
                                                       else "."))
    return nl, en


def save_customer_mapping(services: Services, identity_id: int, company_id: int, relatiecode: int | str, *,
                          actor: Actor | str) -> list[CheckResult]:
    """Pin a Gripp company to the SnelStart relatie with `relatiecode`. A relatie SnelStart does not have, or one
    that is not a Klant, is refused (`MappingError`); nothing is saved then."""
    who = authorize(actor, "mappings")
    store = services.store
    link = _link(store, identity_id)
    if isinstance(company_id, bool) or not isinstance(company_id, int) or company_id <= 0:
        raise MappingError("Het Gripp-id van de klant moet een positief geheel getal zijn.",
                           "The Gripp id of the customer must be a positive whole number.")
    company = store.one("SELECT * FROM gripp_companies WHERE company_id = ?", [company_id])
    if company is None:
        raise MappingError(f"Klant {company_id} is (nog) niet bekend uit Gripp; synchroniseer eerst.",
                           f"Customer {company_id} is not known from Gripp (yet); sync first.")
    code = _relatiecode(relatiecode)
    relatie = _relatie(store, link.administration_id, code)
    if relatie is None and reread_reference(services, link):  # made in SnelStart since the last fetch?
        relatie = _relatie(store, link.administration_id, code)
    if relatie is None:
        raise MappingError(
            f"Relatie {code} bestaat niet in SnelStart-administratie ‘{link.administration_name}’.",
            f"Relatie {code} does not exist in SnelStart administration ‘{link.administration_name}’.")
    if "Klant" not in (relatie["kinds"] or "").split(","):
        raise MappingError(f"Relatie {code} ‘{relatie['name']}’ is geen relatie van de soort Klant; SnelStart boekt "
                           "er geen verkoopfacturen op (BOE-0060).",
                           f"Relatie {code} ‘{relatie['name']}’ is not a relatie of kind Klant; SnelStart books no "
                           "sales invoices on it (BOE-0060).")
    label = company["name"] or ""
    with store.transaction():
        before = next((m for m in setup_repo.customer_mappings(store, identity_id) if m["company_id"] == company_id),
                      None)
        setup_repo.put_customer_mapping(store, identity_id, company_id, label, relatie["relatie_id"], code,
                                        relatie["name"] or "", who)
        history.log_event(store, "mapping", identity_id=identity_id, actor=who,
                          data={"type": "customer", "gripp_id": company_id, "label": label,
                                "relatie_id": relatie["relatie_id"], "relatiecode": code, "relatie": relatie["name"],
                                "previous": before["relatiecode"] if before else None})
    n = len([r for r in invoices_in_scope(store, identity_id, link.start_date) if r["company_id"] == company_id])
    notes_nl, notes_en = [], []
    for gripp_key, relatie_key, normal, name_nl, name_en in (
            ("vatnumber", "vat_number", normal_vat, "BTW-nummer", "VAT number"),
            ("cocnumber", "kvk_number", normal_kvk, "KvK-nummer", "KvK number")):
        ours, theirs = normal(company.get(gripp_key)), normal(relatie[relatie_key])
        if ours and theirs and ours != theirs:
            notes_nl.append(f"het {name_nl} van de relatie ({relatie[relatie_key]}) is niet dat van de klant in "
                            f"Gripp ({company[gripp_key]})")
            notes_en.append(f"the relatie's {name_en} ({relatie[relatie_key]}) is not the customer's in Gripp "
                            f"({company[gripp_key]})")
    on = f"relatie {code} ‘{relatie['name']}’"
    nl = (f"Opgeslagen. De {fmt.plural(n, 'factuur', 'facturen')} van ‘{label}’ in de periode "
          f"{'wordt' if n == 1 else 'worden'} geboekt op {on}.")
    en = (f"Saved. The {fmt.plural(n, 'invoice', 'invoices', 'en')} of ‘{label}’ in the period "
          f"{'is' if n == 1 else 'are'} booked on {on}.")
    if notes_nl:
        return [CheckResult("customer_mapping", WARNING, *_TITLE, f"{nl} Let op: {'; '.join(notes_nl)}.",
                            f"{en} Note: {'; '.join(notes_en)}.",
                            "Klopt de vastlegging, corrigeer dan het nummer in Gripp of SnelStart.",
                            "If the pin is right, correct the number in Gripp or SnelStart.")]
    return [CheckResult("customer_mapping", PASS, *_TITLE, nl, en)]


def remove_customer_mapping(services: Services, identity_id: int, company_id: int, *, actor: Actor | str) -> bool:
    """Remove a pin: the company's invoices are matched on their keys again. False when there was none."""
    who = authorize(actor, "mappings")
    store = services.store
    before = next((m for m in setup_repo.customer_mappings(store, identity_id) if m["company_id"] == company_id), None)
    if before is None:
        return False
    with store.transaction():
        setup_repo.delete_mapping(store, identity_id, "customer", company_id)
        history.log_event(store, "mapping", identity_id=identity_id, actor=who,
                          data={"type": "customer", "gripp_id": company_id, "label": before["gripp_label"],
                                "removed": before["relatiecode"]})
    return True


def _link(store: Store, identity_id: int) -> Link:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise MappingError("Koppel deze identiteit eerst aan een SnelStart-administratie: de relaties komen daaruit.",
                           "Link this identity to a SnelStart administration first: the relaties come from it.")
    return link


def _relatiecode(value: object) -> int:
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 9:
        raise MappingError(f"‘{value}’ is geen relatiecode (alleen cijfers).",
                           f"‘{value}’ is not a relatiecode (digits only).")
    return int(text)


def _relatie(store: Store, administration_id: str, code: int) -> dict | None:
    return store.one("SELECT * FROM ss_relaties WHERE administration_id = ? AND relatiecode = ?",
                     [administration_id, code])


