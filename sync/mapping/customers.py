"""Which SnelStart relatie a Gripp company's invoices are booked on — or why no relatie can be trusted with them.

Pure: the push, the dry run and the checks call it with what the cache holds.

A person's pin (the customer mapping) decides. Otherwise every key present on both sides is weighed, and
checked against the others:
- strong keys: the relatie this link created for the company, relatiecode = Gripp customer number, VAT number,
  KvK number, and the relatie this link last booked the company's invoices on (its own earlier bookings: the best
  evidence it has). Two of them pointing at different relaties is a contradiction;
- the chosen relatie carrying a VAT or KvK number other than the company's is a contradiction;
- the exact name (case, spacing and punctuation aside) belonging to another relatie than the strong keys found
  is a contradiction; so is a relatie found by its code alone that carries another company's name ("same
  number, other name": a former customer's relatiecode) — unless the link booked this company on that very relatie
  before: then it was renamed in SnelStart since (`CustomerMatch.renamed`), and it keeps the company's invoices;
- found by the name alone: reused when exactly one Klant has that name and no key of it contradicts the
  company; two or more Klanten with that name are ambiguous;
- nothing found: a new relatie is created.
A contradiction or an ambiguity blocks the invoice, naming the relaties, until a person fixes the data or pins
the company.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sync.core.words import N_, Msg
from sync.mapping.problems import Problem, ProblemCode, make_problem
from sync.snelstart import limits

PINNED, CREATED, CODE, VAT, KVK, NAME, NEW = "pinned", "created", "relatiecode", "btwnummer", "kvknummer", "naam", "new"
BOOKED = "booked"  # the relatie the link's own earlier bookings of the company went to
RELATIECODE = CODE
# How a key found a relatie, said in a contradiction: "relatie 1001 ‘Jansen’ (zelfde BTW-nummer)".
KEY_LABELS = {
    CREATED: N_("customer.key.created"),
    BOOKED: N_("customer.key.booked"),
    CODE: N_("customer.key.relatiecode"),
    VAT: N_("customer.key.vat"),
    KVK: N_("customer.key.kvk"),
    NAME: N_("customer.key.name"),
}
_PUNCTUATION = re.compile(r"[.,;:'\"`’‘\-_/()&+]")


@dataclass(frozen=True)
class CompanyIn:
    company_id: int
    customernumber: int | None
    name: str
    vatnumber: str = ""
    cocnumber: str = ""


@dataclass(frozen=True)
class RelatieIn:
    relatie_id: str
    relatiecode: int | None
    name: str
    kinds: tuple[str, ...]
    vat_number: str = ""
    kvk_number: str = ""


@dataclass(frozen=True)
class CustomerMatch:
    """`relatie_id` None with no problem: a new relatie is to be created. `how` says which key decided."""

    relatie_id: str | None
    how: str
    problem: Problem | None = None
    involved: tuple[RelatieIn, ...] = ()  # the relaties a problem is about
    # Found by its relatiecode (or by nothing else) under another name than the company's, and kept because the link
    # booked this company on it before: renamed in SnelStart since.
    renamed: bool = False


def normal_name(name: str | None) -> str:
    """Names compare without case, punctuation and extra spaces: ‘Jansen B.V.’ is ‘jansen bv’."""
    return " ".join(_PUNCTUATION.sub("", (name or "").casefold()).split())


def normal_vat(value: str | None) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def normal_kvk(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def relatie_label(relatie: RelatieIn) -> str:
    """As a bookkeeper finds it in SnelStart: its relatiecode and its name."""
    return f"{relatie.relatiecode} ‘{relatie.name}’"


def match_customer(company: CompanyIn, relaties: Iterable[RelatieIn], *, number: str, pinned: str | None = None,
                   created: str | None = None, booked: str | None = None) -> CustomerMatch:
    """The relatie for `company`'s invoice `number`; `pinned` is a person's choice, `created` the relatie this
    link created for the company earlier, `booked` the relatie the link last booked one of its invoices on."""
    by_id = {r.relatie_id: r for r in relaties}
    klanten = [r for r in by_id.values() if "Klant" in r.kinds]

    def problem(code: ProblemCode, *involved: RelatieIn, **values: object) -> CustomerMatch:
        return CustomerMatch(None, "", make_problem(code, f"company:{company.company_id}", number=number,
                                                    company=company.name, **values), involved)

    if pinned is not None:
        relatie = by_id.get(pinned)
        if relatie is None or "Klant" not in relatie.kinds:
            why = Msg("customer.pin.gone") if relatie is None else Msg("customer.pin.not_klant")
            return problem(ProblemCode.CUSTOMER_PIN_INVALID, *([relatie] if relatie else []),
                           relatie=relatie_label(relatie) if relatie else pinned, why=why)
        return CustomerMatch(pinned, PINNED)

    found: dict[str, list[RelatieIn]] = {}  # key -> the relaties it points to
    if created is not None and created in by_id and "Klant" in by_id[created].kinds:
        found[CREATED] = [by_id[created]]
    if booked is not None and booked in by_id and "Klant" in by_id[booked].kinds:
        found[BOOKED] = [by_id[booked]]
    if company.customernumber is not None:
        found[CODE] = [r for r in klanten if r.relatiecode == company.customernumber]
    vat, kvk = normal_vat(company.vatnumber), normal_kvk(company.cocnumber)
    if vat:
        found[VAT] = [r for r in klanten if normal_vat(r.vat_number) == vat]
    if kvk:
        found[KVK] = [r for r in klanten if normal_kvk(r.kvk_number) == kvk]
    names = {normal_name(company.name), normal_name(limits.cut(company.name, limits.RELATIE_NAAM))} - {""}
    found[NAME] = [r for r in klanten if normal_name(r.name) in names]

    # BOOKED last: it decides `how` only when nothing else found the relatie
    strong = [(key, r) for key in (CREATED, CODE, VAT, KVK, BOOKED) for r in found.get(key, [])]
    chosen = list(dict.fromkeys(r.relatie_id for _, r in strong))
    if len(chosen) > 1:
        (key_a, a), (key_b, b) = strong[0], next((k, r) for k, r in strong if r.relatie_id != strong[0][1].relatie_id)
        return problem(ProblemCode.CUSTOMER_CONTRADICTION, a, b, customernumber=_customernumber(company),
                       first=_on(a, key_a), second=_on(b, key_b))
    if chosen:
        relatie = by_id[chosen[0]]
        keys = [key for key, r in strong if r.relatie_id == relatie.relatie_id]
        other_names = [r for r in found[NAME] if r.relatie_id != relatie.relatie_id]
        clash = _own_keys_clash(company, relatie)
        involved: tuple[RelatieIn, ...] = (relatie,)
        if clash is None and other_names and relatie not in found[NAME]:
            clash, involved = _on(other_names[0], NAME), (relatie, other_names[0])
        other_name = normal_name(relatie.name) not in names
        if clash is None and keys == [CODE] and other_name:
            clash = Msg("customer.clash.name", name=company.name)
        if clash is not None:
            return problem(ProblemCode.CUSTOMER_CONTRADICTION, *involved, customernumber=_customernumber(company),
                           first=_on(relatie, keys[0]), second=clash)
        renamed = other_name and BOOKED in keys and set(keys) <= {CODE, BOOKED}
        return CustomerMatch(relatie.relatie_id, keys[0], renamed=renamed)

    if len(found[NAME]) > 1:
        listed = ", ".join(relatie_label(r) for r in found[NAME])
        return problem(ProblemCode.CUSTOMER_AMBIGUOUS, *found[NAME], count=len(found[NAME]), relaties=listed)
    if found[NAME]:
        relatie = found[NAME][0]
        clash = _own_keys_clash(company, relatie)
        if clash is not None:
            return problem(ProblemCode.CUSTOMER_CONTRADICTION, relatie, customernumber=_customernumber(company),
                           first=_on(relatie, NAME), second=clash)
        return CustomerMatch(relatie.relatie_id, NAME)
    return CustomerMatch(None, NEW)


def _customernumber(company: CompanyIn) -> str:
    return str(company.customernumber) if company.customernumber else "—"


def _on(relatie: RelatieIn, key: str) -> Msg:
    return Msg("customer.found_by", relatie=relatie_label(relatie), how=Msg(KEY_LABELS[key]))


def _own_keys_clash(company: CompanyIn, relatie: RelatieIn) -> Msg | None:
    """The relatie's own VAT or KvK number, when both sides have one and they differ."""
    vat, their_vat = normal_vat(company.vatnumber), normal_vat(relatie.vat_number)
    if vat and their_vat and vat != their_vat:
        return Msg("customer.clash.vat", ours=vat, theirs=their_vat)
    kvk, their_kvk = normal_kvk(company.cocnumber), normal_kvk(relatie.kvk_number)
    if kvk and their_kvk and kvk != their_kvk:
        return Msg("customer.clash.kvk", ours=kvk, theirs=their_kvk)
    return None


def relaties_from_rows(rows: Iterable[Mapping]) -> list[RelatieIn]:
    """`ss_relaties` cache rows as the matcher's input."""
    return [RelatieIn(r["relatie_id"], r["relatiecode"], r["name"] or "", tuple(k for k in (r["kinds"] or "")
                      .split(",") if k), r["vat_number"] or "", r["kvk_number"] or "") for r in rows]


def company_from_row(row: Mapping | None, company_id: int, fallback_name: str = "") -> CompanyIn:
    """A `gripp_companies` cache row (or only the name on the invoice, when the company is not cached)."""
    if row is None:
        return CompanyIn(company_id, None, fallback_name)
    return CompanyIn(company_id, row.get("customernumber"), row.get("name") or fallback_name,
                     row.get("vatnumber") or "", row.get("cocnumber") or "")
