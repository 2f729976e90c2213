"""Customer matching (`sync.mapping.customers`): every key present is checked against the others; a contradiction
or an ambiguity blocks, naming the relaties; a unique exact name is reused; a person's pin decides."""

from __future__ import annotations

import pytest

from sync.core.words import say
from sync.mapping.customers import (
    CREATED,
    NAME,
    NEW,
    PINNED,
    RELATIECODE,
    VAT,
    CompanyIn,
    RelatieIn,
    match_customer,
    normal_name,
)

JANSEN = RelatieIn("r-1001", 1001, "Bakkerij Jansen B.V.", ("Klant",), "NL001234567B01", "12345678")
BEHEER = RelatieIn("r-3003", 3003, "Jansen Beheer B.V.", ("Klant",), "NL009999999B01", "87654321")
HOEK = RelatieIn("r-7", 7, "Café De Hoek", ("Klant",))
HOEK_2 = RelatieIn("r-8", 8, "café de hoek", ("Klant",))
SUPPLIER = RelatieIn("r-50001", 50001, "Kantoorvakhandel Noord B.V.", ("Leverancier",))
OLD = RelatieIn("r-10069", 10069, "Bakkerij De Korenschoof V.O.F.", ("Klant",))
ALL = (JANSEN, BEHEER, HOEK, SUPPLIER, OLD)


def company(number=None, name="Bakkerij Jansen B.V.", vat="", kvk="") -> CompanyIn:
    return CompanyIn(101, number, name, vat, kvk)


def match(c: CompanyIn, relaties=ALL, **kw):
    return match_customer(c, relaties, number="2025-0001", **kw)


def test_number_vat_and_kvk_that_agree_match() -> None:
    found = match(company(1001, vat="NL 0012.34567.B01", kvk="1234-5678"))
    assert (found.relatie_id, found.how, found.problem) == ("r-1001", RELATIECODE, None)


def test_the_number_of_one_relatie_and_the_vat_number_of_another_contradict_naming_both() -> None:
    found = match(company(1001, vat="NL009999999B01"))
    assert found.relatie_id is None and found.problem.code == "CUSTOMER_CONTRADICTION"
    assert "relatie 1001 ‘Bakkerij Jansen B.V.’ (relatiecode = klantnummer)" in say(found.problem.message, "nl")
    assert "relatie 3003 ‘Jansen Beheer B.V.’ (zelfde BTW-nummer)" in say(found.problem.message, "nl")
    assert {r.relatie_id for r in found.involved} == {"r-1001", "r-3003"}
    assert "Klantkoppeling" in say(found.problem.fix, "nl") and "Customer mapping" in say(found.problem.fix, "en")


def test_vat_and_kvk_of_two_relaties_contradict() -> None:
    found = match(company(None, name="X", vat="NL001234567B01", kvk="87654321"))
    assert found.problem.code == "CUSTOMER_CONTRADICTION"


def test_a_relatie_carrying_another_vat_number_than_the_company_contradicts() -> None:
    found = match(company(1001, vat="NL005555555B01"))
    assert found.problem.code == "CUSTOMER_CONTRADICTION"
    assert "NL005555555B01" in say(found.problem.message, "nl") and "NL001234567B01" in say(found.problem.message, "nl")


def test_a_name_that_belongs_to_another_relatie_contradicts_the_number() -> None:
    found = match(company(1001, name="Café De Hoek"))
    assert found.problem.code == "CUSTOMER_CONTRADICTION"
    assert {r.relatie_id for r in found.involved} == {"r-1001", "r-7"}


def test_same_number_other_name_is_a_contradiction_not_a_match() -> None:
    found = match(company(10069, name="Brouwerij Het Wad B.V."))
    assert found.problem.code == "CUSTOMER_CONTRADICTION"
    assert "zelfde nummer, andere naam" in say(found.problem.message, "nl")


def test_the_number_and_a_differently_written_same_name_match() -> None:
    assert match(company(1001, name="bakkerij  jansen BV")).relatie_id == "r-1001"


def test_a_unique_exact_name_without_other_keys_is_reused() -> None:
    found = match(company(1002, name="Café De Hoek"))
    assert (found.relatie_id, found.how) == ("r-7", NAME)


def test_a_name_match_whose_vat_number_differs_contradicts() -> None:
    other = RelatieIn("r-9", 9, "Garage Smit", ("Klant",), "NL001111111B01")
    found = match(company(None, name="Garage Smit", vat="NL002222222B01"), (*ALL, other))
    assert found.problem.code == "CUSTOMER_CONTRADICTION"


def test_two_klanten_with_the_name_are_ambiguous_and_named() -> None:
    found = match(company(1002, name="Café De Hoek"), (*ALL, HOEK_2))
    assert found.problem.code == "CUSTOMER_AMBIGUOUS"
    assert "7 ‘Café De Hoek’, 8 ‘café de hoek’" in say(found.problem.message, "nl")


def test_nothing_found_means_create() -> None:
    assert match(company(1005, name="Nieuwe Klant B.V.")).how == NEW


def test_only_klanten_count_a_supplier_with_the_number_is_not_a_match() -> None:
    assert match(company(50001, name="Kantoorvakhandel Noord B.V.")).how == NEW


def test_a_pin_decides_whatever_the_keys_say() -> None:
    found = match(company(1001, vat="NL009999999B01"), pinned="r-3003")
    assert (found.relatie_id, found.how, found.problem) == ("r-3003", PINNED, None)


@pytest.mark.parametrize("pinned, why", [("r-gone", "no longer exists"), ("r-50001", "not a relatie of kind Klant")])
def test_a_pin_to_a_relatie_that_is_gone_or_no_klant_blocks(pinned: str, why: str) -> None:
    found = match(company(1001), pinned=pinned)
    assert found.problem.code == "CUSTOMER_PIN_INVALID" and why in say(found.problem.message, "en")


def test_the_relatie_the_link_created_is_recognised_and_checked_against_the_other_keys() -> None:
    created = RelatieIn("r-new", 2000, "Stichting Vrienden van het Noorderplantsoen Groni…", ("Klant",))
    long_name = "Stichting Vrienden van het Noorderplantsoen Groningen"
    assert match(company(1005, name=long_name), (*ALL, created), created="r-new").how == CREATED
    # found by its shortened name too (SnelStart's 50 UTF-16 units)
    assert match(company(1005, name=long_name), (*ALL, created)).relatie_id == "r-new"
    clash = match(company(1005, name=long_name, vat="NL001234567B01"), (*ALL, created), created="r-new")
    assert clash.problem.code == "CUSTOMER_CONTRADICTION"


def test_vat_alone_matches() -> None:
    found = match(company(None, name="Andere naam", vat="NL009999999B01"))
    assert (found.relatie_id, found.how) == ("r-3003", VAT)


def test_names_compare_without_case_punctuation_and_spacing() -> None:
    assert normal_name("Jansen B.V.") == normal_name("jansen  BV") == "jansen bv"
    assert normal_name("Café De Hoek") != normal_name("Cafe De Hoek")  # an accent is part of the name
