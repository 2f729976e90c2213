"""Hand-written cases for the invoice → verkoopboeking mapping (sync/mapping)."""

from __future__ import annotations

import json
import string
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sync.core import words
from sync.core.explained import RECORDED
from sync.core.words import Msg, say
from sync.mapping import (
    PREVENTS,
    PROBLEMS,
    InvoiceIn,
    InvoiceLineIn,
    LedgerMapping,
    MappingContext,
    MappingResult,
    ProblemCode,
    SnelStartLedgerInfo,
    SnelStartVatRateInfo,
    VatMapping,
    check_invoice,
    invoice_fingerprint,
    map_invoice,
    suggest_vat_kind,
    vat_kind_on,
)
from sync.mapping.problems import stored_explained, stored_fix, stored_message
from sync.mapping.types import KostenplaatsMapping, SnelStartKostenplaatsInfo

D = Decimal
FAR_PAST, FAR_FUTURE = date(1900, 1, 1), date(2400, 12, 31)
RELATIE = "5830cec3-8929-4703-80b4-bd695402a7b0"

# --------------------------------------------------------------------------------------------- fixtures

# Gripp VAT-rate ids
V21, V9, V6, V0, VERLEGD, VRIJ = 1, 2, 3, 4, 5, 6
V21_B = 9  # a second Gripp rate of 21 %, mapped to Hoog too
# Gripp ledger ids
L_ADVIES, L_BOEKEN, L_VERLEGD, L_BANK, L_OUD, L_DIV, L_WEG, L_NONE = 10, 11, 12, 13, 14, 15, 16, 17

VAT_RATES = (
    SnelStartVatRateInfo("Hoog", D("21.0"), FAR_PAST, FAR_FUTURE),
    SnelStartVatRateInfo("Laag", D("6.0"), FAR_PAST, date(2018, 12, 31)),
    SnelStartVatRateInfo("Laag", D("9.0"), date(2019, 1, 1), FAR_FUTURE),
    SnelStartVatRateInfo("Geen", D("0.0"), FAR_PAST, FAR_FUTURE),
)


def ss_ledger(
    number: int,
    description: str,
    accepts: tuple[str, ...],
    function: str = "VerkopenOmzetHoog",
    *,
    active: bool = True,
    balance_sheet: bool = False,
) -> SnelStartLedgerInfo:
    return SnelStartLedgerInfo(
        id=f"00000000-0000-0000-0000-{number:012d}",
        number=number,
        description=description,
        active=active,
        function=function,
        accepts=accepts,
        balance_sheet=balance_sheet,
    )


def make_ctx(**overrides: object) -> MappingContext:
    vat = {
        V21: VatMapping(V21, "21%", "Hoog", D("21")),
        V9: VatMapping(V9, "9%", "Laag", D("9")),
        V6: VatMapping(V6, "6% (oud)", "Laag", D("6")),
        V0: VatMapping(V0, "0%", "Geen", D("0")),
        VERLEGD: VatMapping(VERLEGD, "Verlegd", "Verlegd", D("0")),
        V21_B: VatMapping(V21_B, "21% diensten", "Hoog", D("21")),
    }
    ledgers = {
        L_ADVIES: LedgerMapping(L_ADVIES, "Omzet advies", "8000"),
        L_BOEKEN: LedgerMapping(L_BOEKEN, "Omzet boeken", "8010"),
        L_VERLEGD: LedgerMapping(L_VERLEGD, "Omzet verlegd", "8020"),
        L_BANK: LedgerMapping(L_BANK, "Bank", "1100"),
        L_OUD: LedgerMapping(L_OUD, "Omzet oud", "8090"),
        L_DIV: LedgerMapping(L_DIV, "Diverse omzet", "8500"),
        L_WEG: LedgerMapping(L_WEG, "Omzet weg", "8999"),
    }
    snelstart = {
        "8000": ss_ledger(8000, "Omzet hoog", ("Hoog", "Laag", "Geen")),
        "8010": ss_ledger(8010, "Omzet laag", ("Laag",), "VerkopenOmzetLaag"),
        "8020": ss_ledger(8020, "Omzet verlegd", ("Geen",), "VerkopenOmzetOnbelastVerlegd"),
        "1100": ss_ledger(1100, "Bank", ("Geen",), "DagboekBank", balance_sheet=True),
        "8090": ss_ledger(8090, "Omzet oud", ("Hoog",), active=False),
        "8500": ss_ledger(8500, "Diverse opbrengsten", ("Hoog", "Laag", "Overig", "Geen"), "Diversen"),
    }
    fields: dict[str, object] = {"vat": vat, "ledgers": ledgers, "snelstart_ledgers": snelstart}
    fields["vat_rates"] = VAT_RATES
    fields.update(overrides)
    return MappingContext(**fields)  # type: ignore[arg-type]


def line(
    line_id: int = 1,
    price: str = "100",
    qty: str = "1",
    vat_id: int | None = V21,
    ledger_id: int | None = L_ADVIES,
    *,
    discount: str = "0",
    description: str = "Advies",
) -> InvoiceLineIn:
    labels = {V21: "21%", V9: "9%", V6: "6% (oud)", V0: "0%", VERLEGD: "Verlegd", VRIJ: "Vrijgesteld"}
    ledger_labels = {L_NONE: "Niet gekoppeld"}
    return InvoiceLineIn(
        line_id=line_id,
        description=description,
        quantity=D(qty),
        unit_price=D(price),
        discount_pct=D(discount),
        vat_id=vat_id,
        vat_label=labels.get(vat_id, "") if vat_id is not None else "",
        ledger_id=ledger_id,
        ledger_label=ledger_labels.get(ledger_id, f"Grootboek {ledger_id}") if ledger_id else "",
    )


def gripp_total(lines: tuple[InvoiceLineIn, ...], ctx: MappingContext) -> Decimal:
    """Gripp's totalinclvat: net per line to the cent, VAT per rate on the summed net."""
    from sync.core.money import cents

    net_by_rate: dict[int | None, Decimal] = {}
    for ln in lines:
        net = cents(ln.quantity * ln.unit_price * (100 - ln.discount_pct) / 100)
        net_by_rate[ln.vat_id] = net_by_rate.get(ln.vat_id, D(0)) + net
    vat = sum(
        (
            cents(net * ctx.vat[vid].percentage / 100)
            for vid, net in net_by_rate.items()
            if vid in ctx.vat and ctx.vat[vid].kind != "Verlegd"
        ),
        D(0),
    )
    return cents(sum(net_by_rate.values(), D(0)) + vat)


def invoice(
    *lines: InvoiceLineIn,
    number: str = "2025-0042",
    on: date = date(2025, 3, 14),
    due: date | None = date(2025, 4, 13),
    total: Decimal | str | None = None,
    net: Decimal | str | None = None,
    customer: str = "Bakkerij Jansen",
    ctx: MappingContext | None = None,
) -> InvoiceIn:
    lines = lines or (line(),)
    computed = gripp_total(lines, ctx or make_ctx()) if total is None else D(total)
    return InvoiceIn(
        invoice_id=1001,
        number=number,
        invoice_date=on,
        due_date=due,
        subject="Advieswerk maart",
        customer_name=customer,
        total_incl_vat=computed,
        total_excl_vat=None if net is None else D(net),
        lines=tuple(lines),
    )


def codes(result: MappingResult | tuple) -> list[str]:
    problems = result.problems if isinstance(result, MappingResult) else result
    return [p.code for p in problems]


def ok(inv: InvoiceIn, ctx: MappingContext | None = None) -> dict:
    result = map_invoice(inv, ctx or make_ctx(), relatie_id=RELATIE)
    assert result.ok, [say(p.with_fix, "en") for p in result.problems]
    assert result.plan is not None
    return result.plan.body


def ledger_id_of(number: int) -> str:
    return f"00000000-0000-0000-0000-{number:012d}"


def balance(body: dict) -> Decimal:
    return sum((r["bedrag"] for r in body["boekingsregels"]), D(0)) + sum((r["btwBedrag"] for r in body["btw"]), D(0))


# ------------------------------------------------------------------------------------------- happy paths


def test_plain_21_percent_invoice_becomes_the_exact_body() -> None:
    body = ok(invoice(line(price="100", description="Advies maart")))
    assert body == {
        "factuurnummer": "2025-0042",
        "factuurdatum": "2025-03-14T00:00:00",
        "klant": {"id": RELATIE},
        "omschrijving": "Factuur 2025-0042 — Bakkerij Jansen",
        "factuurbedrag": D("121.00"),
        "betalingstermijn": 30,
        "boekingsregels": [
            {
                "omschrijving": "Advies maart",
                "grootboek": {"id": ledger_id_of(8000)},
                "bedrag": D("100.00"),
                "btwSoort": "Hoog",
            }
        ],
        "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": D("21.00")}],
    }
    # Field by field, including the keys' exact spelling and the 2-decimal Decimals.
    assert list(body) == [
        "factuurnummer",
        "factuurdatum",
        "klant",
        "omschrijving",
        "factuurbedrag",
        "betalingstermijn",
        "boekingsregels",
        "btw",
    ]
    assert str(body["factuurbedrag"]) == "121.00"
    assert str(body["boekingsregels"][0]["bedrag"]) == "100.00"
    assert str(body["btw"][0]["btwBedrag"]) == "21.00"


def test_body_is_json_serialisable_with_decimals_as_exact_numbers() -> None:
    body = ok(invoice(line(price="100")))
    text = json.dumps(body, default=lambda o: str(o) if isinstance(o, Decimal) else None)
    back = json.loads(text, parse_float=Decimal)
    assert back["factuurbedrag"] == "121.00" and back["betalingstermijn"] == 30


def test_plan_reports_totals_and_fingerprint() -> None:
    inv = invoice(line(price="100"))
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert result.plan is not None
    assert result.plan.net_total == D("100.00")
    assert result.plan.vat_total == D("21.00")
    assert result.plan.rounding_adjustment == D("0.00")
    assert result.plan.fingerprint == invoice_fingerprint(inv)
    assert result.problems == () and result.notes == ()


def test_mixed_21_and_9_percent_on_two_ledgers() -> None:
    body = ok(
        invoice(
            line(1, "250", vat_id=V21, ledger_id=L_ADVIES, description="Advies"),
            line(2, "39.95", qty="3", vat_id=V9, ledger_id=L_BOEKEN, description="Boek"),
        )
    )
    assert body["boekingsregels"] == [
        {"omschrijving": "Advies", "grootboek": {"id": ledger_id_of(8000)}, "bedrag": D("250.00"), "btwSoort": "Hoog"},
        {"omschrijving": "Boek", "grootboek": {"id": ledger_id_of(8010)}, "bedrag": D("119.85"), "btwSoort": "Laag"},
    ]
    # 119.85 × 9 % = 10.7865 → 10.79
    assert body["btw"] == [
        {"btwSoort": "VerkopenHoog", "btwBedrag": D("52.50")},
        {"btwSoort": "VerkopenLaag", "btwBedrag": D("10.79")},
    ]
    assert body["factuurbedrag"] == D("433.14") == balance(body)


def test_2018_invoice_books_laag_at_6_percent() -> None:
    inv = invoice(line(price="100", vat_id=V6), on=date(2018, 6, 1), due=date(2018, 7, 1))
    body = ok(inv)
    assert body["btw"] == [{"btwSoort": "VerkopenLaag", "btwBedrag": D("6.00")}]
    assert body["factuurbedrag"] == D("106.00")


def test_2018_invoice_with_laag_mapped_at_9_percent_is_blocked() -> None:
    inv = invoice(line(price="100", vat_id=V9), on=date(2018, 6, 1))
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["VAT_PERCENTAGE_WRONG"]
    problem = result.problems[0]
    assert problem.subject == f"vat:{V9}"
    nl, en = say(problem.message, "nl"), say(problem.message, "en")
    assert "‘9%’ (Gripp id 2)" in nl and "9%" in nl and "6%" in nl
    assert "01-06-2018" in nl and "01/06/2018" in en


def test_2019_invoice_with_laag_mapped_at_6_percent_is_blocked() -> None:
    inv = invoice(line(price="100", vat_id=V6), on=date(2019, 1, 1))
    assert codes(check_invoice(inv, make_ctx())) == ["VAT_PERCENTAGE_WRONG"]


def test_reverse_charge_books_geen_lines_and_a_zero_verlegd_row() -> None:
    body = ok(invoice(line(price="1500", vat_id=VERLEGD, ledger_id=L_VERLEGD, description="Installatie")))
    assert body["boekingsregels"] == [
        {
            "omschrijving": "Installatie",
            "grootboek": {"id": ledger_id_of(8020)},
            "bedrag": D("1500.00"),
            "btwSoort": "Geen",
        }
    ]
    assert body["btw"] == [{"btwSoort": "VerkopenVerlegd", "btwBedrag": D("0.00")}]
    assert body["factuurbedrag"] == D("1500.00")


def test_geen_lines_have_no_vat_row() -> None:
    body = ok(invoice(line(price="80", vat_id=V0)))
    assert body["btw"] == []
    assert body["boekingsregels"][0]["btwSoort"] == "Geen"


def test_reverse_charge_mixed_with_other_kinds_is_blocked() -> None:
    inv = invoice(
        line(1, "1500", vat_id=VERLEGD, ledger_id=L_VERLEGD),
        line(2, "100", vat_id=V21, ledger_id=L_ADVIES),
    )
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["VERLEGD_MIXED"]
    assert "‘Verlegd’" in say(result.problems[0].message, "nl") and "‘21%’" in say(result.problems[0].message, "nl")
    assert PREVENTS["VERLEGD_MIXED"] == "BOE-0062"


def test_credit_note_has_every_amount_negative() -> None:
    body = ok(
        invoice(
            line(1, "-250", vat_id=V21, ledger_id=L_ADVIES),
            line(2, "-39.95", qty="3", vat_id=V9, ledger_id=L_BOEKEN),
        )
    )
    assert body["factuurbedrag"] == D("-433.14") == balance(body)
    assert [r["bedrag"] for r in body["boekingsregels"]] == [D("-250.00"), D("-119.85")]
    assert [r["btwBedrag"] for r in body["btw"]] == [D("-52.50"), D("-10.79")]


def test_discount_line_with_opposite_sign_is_allowed() -> None:
    body = ok(
        invoice(
            line(1, "1000", description="Advies"),
            line(2, "-100", description="Korting"),
        )
    )
    assert body["boekingsregels"] == [
        {
            "omschrijving": "Advies; Korting",
            "grootboek": {"id": ledger_id_of(8000)},
            "bedrag": D("900.00"),
            "btwSoort": "Hoog",
        }
    ]
    assert body["factuurbedrag"] == D("1089.00")


# --------------------------------------------------------------------------------------------- rounding


@pytest.mark.parametrize("cents_off", ["0.01", "0.02", "-0.01", "-0.02"])
def test_a_net_difference_with_gripps_net_is_revenue_on_the_largest_line(cents_off: str) -> None:
    lines = (
        line(1, "50", vat_id=V9, ledger_id=L_BOEKEN),
        line(2, "100", vat_id=V21, ledger_id=L_ADVIES),
    )
    exact = gripp_total(lines, make_ctx())
    assert exact == D("175.50")
    inv = invoice(*lines, total=exact + D(cents_off), net=D("150.00") + D(cents_off))
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert result.plan is not None
    body = result.plan.body
    assert (result.plan.rounding_adjustment, result.plan.vat_adjustment) == (D(cents_off), D("0.00"))
    by_ledger = {r["grootboek"]["id"]: r["bedrag"] for r in body["boekingsregels"]}
    assert by_ledger[ledger_id_of(8000)] == D("100.00") + D(cents_off)  # the largest line
    assert by_ledger[ledger_id_of(8010)] == D("50.00")
    assert body["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": D("21.00")},
                           {"btwSoort": "VerkopenLaag", "btwBedrag": D("4.50")}]
    assert body["factuurbedrag"] == exact + D(cents_off) == balance(body)
    assert result.plan.net_total + result.plan.vat_total == body["factuurbedrag"]


@pytest.mark.parametrize("cents_off", ["0.01", "0.02", "-0.01", "-0.02"])
def test_a_rounding_difference_of_vat_is_vat_on_the_largest_vat_row_not_revenue(cents_off: str) -> None:
    lines = (
        line(1, "50", vat_id=V9, ledger_id=L_BOEKEN),
        line(2, "100", vat_id=V21, ledger_id=L_ADVIES),
    )
    for net in (None, "150.00"):  # with Gripp's net, and without it (then a VAT row takes it)
        inv = invoice(*lines, total=D("175.50") + D(cents_off), net=net)
        result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
        assert result.plan is not None
        body = result.plan.body
        assert (result.plan.rounding_adjustment, result.plan.vat_adjustment) == (D("0.00"), D(cents_off))
        assert [r["bedrag"] for r in body["boekingsregels"]] == [D("100.00"), D("50.00")]
        assert body["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": D("21.00") + D(cents_off)},
                               {"btwSoort": "VerkopenLaag", "btwBedrag": D("4.50")}]
        assert body["factuurbedrag"] == balance(body)


def test_two_gripp_rates_of_one_kind_book_the_sum_of_gripps_vat_per_rate() -> None:
    # 10 × 12,35 on each of two 21 % rates: Gripp's VAT is 2 × 25,94 = 51,88 (on the summed 247,00 it
    # would be 51,87); the booking carries Gripp's VAT and Gripp's net.
    lines = (line(1, "12.35", "10", vat_id=V21), line(2, "12.35", "10", vat_id=V21_B))
    inv = invoice(*lines, total="298.88", net="247.00")
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert result.plan is not None
    body = result.plan.body
    assert body["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": D("51.88")}]
    assert [r["bedrag"] for r in body["boekingsregels"]] == [D("247.00")]
    assert (result.plan.rounding_adjustment, result.plan.vat_adjustment) == (D("0.00"), D("0.00"))


def test_vat_gripp_charged_without_a_vat_row_to_carry_it_is_a_total_mismatch() -> None:
    inv = invoice(line(1, "100", vat_id=V0), total="100.01", net="100.00")
    assert codes(map_invoice(inv, make_ctx(), relatie_id=RELATIE)) == ["TOTAL_MISMATCH"]


def test_rounding_largest_line_is_by_absolute_amount() -> None:
    lines = (
        line(1, "50", vat_id=V21, ledger_id=L_ADVIES),
        line(2, "-80", vat_id=V9, ledger_id=L_BOEKEN),
    )
    inv = invoice(*lines, total=gripp_total(lines, make_ctx()) + D("0.01"), net="-29.99")
    body = ok(inv)
    by_ledger = {r["grootboek"]["id"]: r["bedrag"] for r in body["boekingsregels"]}
    assert by_ledger[ledger_id_of(8010)] == D("-79.99")
    assert by_ledger[ledger_id_of(8000)] == D("50.00")
    # and a VAT cent goes on the VAT row with the largest absolute amount (Hoog 10,50 against Laag -7,20)
    body = ok(invoice(*lines, total=gripp_total(lines, make_ctx()) + D("0.01")))
    assert body["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": D("10.51")},
                           {"btwSoort": "VerkopenLaag", "btwBedrag": D("-7.20")}]


def test_rounding_skips_a_line_it_would_zero() -> None:
    # 0.02 (largest) − 0.02 would be a zero line (BOE-0028), so the next largest takes the difference.
    lines = (line(1, "0.02", vat_id=V0, ledger_id=L_ADVIES), line(2, "0.01", vat_id=V0, ledger_id=L_DIV))
    body = ok(invoice(*lines, total="0.01"))
    assert [r["bedrag"] for r in body["boekingsregels"]] == [D("0.02"), D("-0.01")]


def test_rounding_that_would_zero_every_line_is_blocked() -> None:
    result = map_invoice(invoice(line(1, "0.01", vat_id=V0), total="0.00"), make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["TOTAL_MISMATCH"]


@pytest.mark.parametrize("cents_off", ["0.03", "-0.03", "1.00"])
def test_more_than_2_cents_difference_is_total_mismatch(cents_off: str) -> None:
    inv = invoice(line(price="100"), total=D("121.00") + D(cents_off))
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["TOTAL_MISMATCH"]
    problem = result.problems[0]
    assert "€ 121,00" in say(problem.message, "nl")
    assert "Controles → BTW-tarieven en grootboeken koppelen → BTW-tarieven" in say(problem.fix, "nl")
    assert "€121.00" in say(problem.message, "en")


def test_wrong_mapping_percentage_shows_up_as_total_mismatch_too() -> None:
    # Gripp charged 21 %, the mapping says 9 % and SnelStart's Laag agrees with the mapping: only the
    # total can tell.
    inv = invoice(line(price="100", vat_id=V9), total="121.00")
    assert codes(map_invoice(inv, make_ctx(), relatie_id=RELATIE)) == ["TOTAL_MISMATCH"]


def test_vat_is_computed_on_the_summed_net_per_kind() -> None:
    # 3 × 0.05 at 21 %: per line 0.01 each (0.03), on the sum 0.15 × 21 % = 0.0315 → 0.03; 7 lines of 0.05:
    # per line 0.07, on the sum 0.35 × 21 % = 0.0735 → 0.07; choose 0.10: 0.021 → 0.02 per line, 10 lines
    # = 0.20 vs 1.00 × 21 % = 0.21.
    lines = tuple(line(i, "0.10", description=f"r{i}") for i in range(10))
    body = ok(invoice(*lines, total="1.21"))
    assert body["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": D("0.21")}]
    assert body["boekingsregels"][0]["bedrag"] == D("1.00")


def test_sub_cent_prices_round_half_up_per_line() -> None:
    body = ok(invoice(line(price="0.125", qty="1"), line(2, "10.005", qty="1")))  # 0.13 + 10.01
    assert body["boekingsregels"][0]["bedrag"] == D("10.14")


# ------------------------------------------------------------------------------------------ zero lines


def test_zero_lines_are_dropped_and_need_no_mapping() -> None:
    body = ok(
        invoice(
            line(1, "100"),
            line(2, "0", vat_id=None, ledger_id=None, description="Tekstregel"),
            line(3, "50", discount="100", vat_id=VRIJ, ledger_id=L_NONE, description="Gratis"),
        )
    )
    assert len(body["boekingsregels"]) == 1
    assert body["boekingsregels"][0]["omschrijving"] == "Advies"


def test_a_booking_line_that_nets_to_zero_is_dropped() -> None:
    body = ok(
        invoice(
            line(1, "100", vat_id=V21, ledger_id=L_ADVIES),
            line(2, "30", vat_id=V9, ledger_id=L_ADVIES),
            line(3, "-30", vat_id=V9, ledger_id=L_ADVIES),
        )
    )
    assert [r["btwSoort"] for r in body["boekingsregels"]] == ["Hoog"]
    assert [r["btwSoort"] for r in body["btw"]] == ["VerkopenHoog"]


def test_invoice_without_lines_or_with_only_zero_lines_is_no_lines() -> None:
    empty = replace(invoice(), lines=(), total_incl_vat=D("0"))
    assert codes(map_invoice(empty, make_ctx(), relatie_id=RELATIE)) == ["NO_LINES"]
    zeros = invoice(line(1, "0"), line(2, "12", qty="0"), total="0")
    assert codes(check_invoice(zeros, make_ctx())) == ["NO_LINES"]
    cancelling = invoice(line(1, "100"), line(2, "-100"), total="0")
    assert codes(check_invoice(cancelling, make_ctx())) == ["NO_LINES"]


# ------------------------------------------------------------------------------------------ validation


def test_every_problem_is_reported_at_once() -> None:
    ctx = make_ctx(vat={**make_ctx().vat, 7: VatMapping(7, "Raar", "Superhoog", D("25"))})
    inv = invoice(
        line(1, "100", vat_id=None, ledger_id=L_ADVIES),  # LINE_NO_VAT
        line(2, "100", vat_id=V21, ledger_id=None),  # LINE_NO_LEDGER
        line(3, "100", vat_id=VRIJ, ledger_id=L_ADVIES),  # VAT_UNMAPPED
        line(4, "100", vat_id=7, ledger_id=L_ADVIES),  # VAT_KIND_INVALID
        line(5, "100", vat_id=V21, ledger_id=L_NONE),  # LEDGER_UNMAPPED
        line(6, "100", vat_id=V21, ledger_id=L_WEG),  # LEDGER_MISSING
        line(7, "100", vat_id=V21, ledger_id=L_OUD),  # LEDGER_INACTIVE
        line(8, "100", vat_id=V21, ledger_id=L_BANK),  # LEDGER_NOT_SALES + LEDGER_VAT_MISMATCH
        line(9, "100", vat_id=V6, ledger_id=L_BOEKEN),  # VAT_PERCENTAGE_WRONG (2025)
        number="GRIPP-2025-000000000000042",  # 26 characters: NUMBER_TOO_LONG
        total="999.99",
        ctx=ctx,
    )
    found = codes(map_invoice(inv, ctx, relatie_id=RELATIE))
    assert sorted(found) == sorted(
        [
            "NUMBER_TOO_LONG",
            "LINE_NO_VAT",
            "LINE_NO_LEDGER",
            "VAT_UNMAPPED",
            "VAT_KIND_INVALID",
            "VAT_PERCENTAGE_WRONG",
            "LEDGER_UNMAPPED",
            "LEDGER_MISSING",
            "LEDGER_INACTIVE",
            "LEDGER_NOT_SALES",
            "LEDGER_VAT_MISMATCH",
        ]
    )
    # Without a resolved VAT rate for every line the total cannot be checked, so no TOTAL_MISMATCH guess.
    assert "TOTAL_MISMATCH" not in found


def test_problems_name_the_gripp_rate_and_ledger_and_say_what_to_do() -> None:
    inv = invoice(line(1, "100", vat_id=VRIJ), line(2, "100", ledger_id=L_NONE))
    problems = {p.code: p for p in check_invoice(inv, make_ctx())}
    vat = problems["VAT_UNMAPPED"]
    assert say(vat.message, "nl") == \
        "BTW-tarief ‘Vrijgesteld’ (Gripp id 6) is niet gekoppeld aan een SnelStart BTW-soort."
    assert say(vat.fix, "nl") == (
        "Koppel dit BTW-tarief onder Controles → BTW-tarieven en grootboeken koppelen → BTW-tarieven aan Hoog, Laag, "
        "Overig, Geen of Verlegd."
    )
    assert say(vat.message, "en").startswith("VAT rate ‘Vrijgesteld’ (Gripp id 6)")
    assert vat.subject == "vat:6" and vat.config_error and vat.blocking
    for lang in ("nl", "en"):
        assert say(vat.with_fix, lang) == f"{say(vat.message, lang)} {say(vat.fix, lang)}"
    ledger = problems["LEDGER_UNMAPPED"]
    assert "‘Niet gekoppeld’ (Gripp id 17)" in say(ledger.message, "nl") and ledger.subject == "ledger:17"


def test_one_problem_per_vat_rate_and_per_ledger_however_many_lines() -> None:
    inv = invoice(*(line(i, "10", vat_id=VRIJ, ledger_id=L_NONE) for i in range(50)))
    assert codes(check_invoice(inv, make_ctx())) == ["VAT_UNMAPPED", "LEDGER_UNMAPPED"]


def test_ledger_vat_mismatch_names_the_kind_and_what_the_account_allows() -> None:
    inv = invoice(line(1, "100", vat_id=V21, ledger_id=L_BOEKEN))
    (problem,) = check_invoice(inv, make_ctx())
    assert problem.code == "LEDGER_VAT_MISMATCH" and PREVENTS[problem.code] == "BOE-0082"
    assert problem.subject == f"ledger:{L_BOEKEN}/vat:{V21}"
    nl = say(problem.message, "nl")
    assert "8010 ‘Omzet laag’" in nl and "BTW-soort Hoog" in nl and "Laag" in say(problem.fix, "nl")


def test_reverse_charge_needs_a_ledger_that_accepts_geen() -> None:
    inv = invoice(line(1, "100", vat_id=VERLEGD, ledger_id=L_BOEKEN))
    (problem,) = check_invoice(inv, make_ctx())
    assert problem.code == "LEDGER_VAT_MISMATCH" and "Geen (verlegd)" in say(problem.message, "nl")


def test_geen_or_verlegd_mapped_above_zero_is_a_wrong_percentage() -> None:
    ctx = make_ctx(vat={**make_ctx().vat, V0: VatMapping(V0, "0%", "Geen", D("21"))})
    inv = invoice(line(1, "100", vat_id=V0), total="100.00")
    assert "VAT_PERCENTAGE_WRONG" in codes(check_invoice(inv, ctx))


def test_kind_without_a_snelstart_rate_on_the_date_is_a_wrong_percentage() -> None:
    ctx = make_ctx(vat={**make_ctx().vat, 8: VatMapping(8, "Overig 5%", "overig", D("5"))})
    inv = invoice(line(1, "100", vat_id=8, ledger_id=L_DIV), ctx=ctx)
    (problem,) = check_invoice(inv, ctx)
    assert problem.code == "VAT_PERCENTAGE_WRONG" and "geen percentage" in say(problem.message, "nl")


def test_missing_and_blank_invoice_number() -> None:
    assert codes(check_invoice(invoice(number="  "), make_ctx())) == ["NUMBER_MISSING"]
    assert codes(check_invoice(invoice(number="X" * 25), make_ctx())) == []
    assert codes(check_invoice(invoice(number="X" * 26), make_ctx())) == ["NUMBER_TOO_LONG"]


def test_number_length_counts_like_snelstart_does_utf16() -> None:
    assert codes(check_invoice(invoice(number="😀" * 13), make_ctx())) == ["NUMBER_TOO_LONG"]  # 26 units
    assert codes(check_invoice(invoice(number="😀" * 12 + "A"), make_ctx())) == []


def test_total_with_sub_cents_is_amount_precision() -> None:
    result = map_invoice(invoice(total="121.004"), make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["AMOUNT_PRECISION"]
    assert PREVENTS["AMOUNT_PRECISION"] == "BOE-0039"


def test_a_total_above_the_identitys_ceiling_is_blocked_with_the_ceiling_in_its_fix() -> None:
    """10¹² × € 12,34 was booked with its PDF (issue 24, item 11): above the ceiling an invoice is a problem."""
    ceiling = make_ctx(max_total=D("1000000.00"))
    huge = invoice(line(1, "12.34", "1000000000000"))
    result = map_invoice(huge, ceiling, relatie_id=RELATIE)
    assert codes(result) == ["TOTAL_ABOVE_CEILING"] and result.plan is None
    (problem,) = result.problems
    assert problem.values["amount"] == D("14931400000000.00") and problem.values["ceiling"] == D("1000000.00")
    assert "1.000.000,00" in say(problem.fix, "nl") and "14.931.400.000.000,00" in say(problem.message, "nl")
    assert codes(check_invoice(invoice(line(1, "-1000000.01", vat_id=V0)), ceiling)) == ["TOTAL_ABOVE_CEILING"]
    assert codes(check_invoice(invoice(line(1, "1000000.00", vat_id=V0)), ceiling)) == []  # the ceiling itself
    assert ok(huge)  # without a ceiling only SnelStart's own limit counts


def test_amounts_beyond_what_snelstart_holds_are_blocked_whatever_the_ceiling() -> None:
    from sync.snelstart.limits import AMOUNT_MAX

    beyond = invoice(line(1, str(AMOUNT_MAX + D("0.01")), vat_id=V0))
    assert codes(check_invoice(beyond, make_ctx())) == ["AMOUNT_TOO_LARGE"]
    assert codes(check_invoice(invoice(line(1, str(AMOUNT_MAX), vat_id=V0)), make_ctx())) == []
    # A total SnelStart holds, its booking lines not: a huge line on one ledger, its huge discount on another.
    split = invoice(line(1, "1e15", vat_id=V0), line(2, "-1e15", vat_id=V0, ledger_id=L_DIV), line(3, "10", vat_id=V0))
    result = map_invoice(split, make_ctx(), relatie_id=RELATIE)
    assert codes(result) == ["AMOUNT_TOO_LARGE"]
    assert "een boekingsregel" in say(result.problems[0].message, "nl")


def test_non_numbers_are_amount_invalid_not_exceptions() -> None:
    assert codes(check_invoice(invoice(total="NaN"), make_ctx())) == ["AMOUNT_INVALID"]
    bad_line = replace(line(2), quantity=D("Infinity"))
    inv = replace(invoice(line(1)), lines=(line(1), bad_line))
    assert codes(check_invoice(inv, make_ctx())) == ["AMOUNT_INVALID"]


def test_diversen_ledger_is_a_note_not_a_block() -> None:
    inv = invoice(line(1, "100", ledger_id=L_DIV))
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert result.ok and codes(result.notes) == ["LEDGER_NOT_SALES_NOTE"]
    assert not result.notes[0].blocking
    assert check_invoice(inv, make_ctx()) == ()
    assert codes(check_invoice(inv, make_ctx(), include_notes=True)) == ["LEDGER_NOT_SALES_NOTE"]


@pytest.mark.parametrize(
    ("function", "balance_sheet", "blocking"),
    [
        ("VerkopenOmzetHoog", True, True),
        ("DagboekBank", False, True),
        ("BtwAfTeDragenHoog", False, True),
        ("BtwAfteDragenLaag", False, True),
        ("Kruisposten", False, True),
        ("Diversen", False, False),
        ("InkopenKostenHoog", False, False),
        ("DienstverleningBinnenEU", False, None),
        ("VerkopenExportBuitenEU", False, None),
    ],
)
def test_ledger_function_classification(function: str, balance_sheet: bool, blocking: bool | None) -> None:
    ledger = ss_ledger(8000, "Rekening", ("Hoog",), function, balance_sheet=balance_sheet)
    ctx = make_ctx(snelstart_ledgers={**make_ctx().snelstart_ledgers, "8000": ledger})
    result = map_invoice(invoice(line()), ctx, relatie_id=RELATIE)
    if blocking is None:
        assert result.ok and result.notes == ()
    elif blocking:
        assert codes(result) == ["LEDGER_NOT_SALES"]
    else:
        assert result.ok and codes(result.notes) == ["LEDGER_NOT_SALES_NOTE"]


def test_mapped_ledger_number_is_matched_leniently() -> None:
    ctx = make_ctx(ledgers={L_ADVIES: LedgerMapping(L_ADVIES, "Omzet advies", " 08000 ")})
    assert ok(invoice(line()), ctx)["boekingsregels"][0]["grootboek"]["id"] == ledger_id_of(8000)


def test_vat_kind_in_mapping_is_case_insensitive() -> None:
    ctx = make_ctx(vat={V21: VatMapping(V21, "21%", "hoog", D("21"))})
    assert ok(invoice(line()), ctx)["btw"][0]["btwSoort"] == "VerkopenHoog"


def test_check_invoice_reports_what_map_invoice_blocks_on() -> None:
    inv = invoice(line(1, "100", vat_id=VRIJ), number="")
    assert check_invoice(inv, make_ctx()) == map_invoice(inv, make_ctx(), relatie_id=RELATIE).problems


def test_map_invoice_requires_a_relatie() -> None:
    with pytest.raises(ValueError):
        map_invoice(invoice(), make_ctx(), relatie_id="")


def test_problem_table_and_prevents_table_cover_the_same_codes() -> None:
    assert PROBLEMS.keys() == PREVENTS.keys() == set(ProblemCode)
    assert PREVENTS["LEDGER_VAT_MISMATCH"] == "BOE-0082"
    assert PREVENTS["NUMBER_TOO_LONG"] == "BOE-0058"
    assert PREVENTS["LEDGER_INACTIVE"] == "BOE-0008"


def test_every_problem_code_is_triggered_by_some_case() -> None:
    demanding = replace(make_ctx().snelstart_ledgers["8010"], kostenplaats_required=True)
    ctx = make_ctx(vat={**make_ctx().vat, 7: VatMapping(7, "Raar", "Superhoog", D("25"))}, max_total=D("1000000"),
                   snelstart_ledgers={**make_ctx().snelstart_ledgers, "8010": demanding},
                   kostenplaatsen={2: KostenplaatsMapping(2, "Weg", "999"), 3: KostenplaatsMapping(3, "Oud", "130")},
                   snelstart_kostenplaatsen={"130": SnelStartKostenplaatsInfo("k130", 130, "Oud", active=False)})
    cases = [
        invoice(number="", ctx=ctx),
        invoice(number="X" * 26),
        invoice(total="NaN"),
        invoice(total="121.001"),
        replace(invoice(), lines=()),
        invoice(line(vat_id=None)),
        invoice(line(ledger_id=None)),
        invoice(line(vat_id=VRIJ)),
        invoice(line(vat_id=7)),
        invoice(line(vat_id=V6)),
        invoice(line(1, vat_id=VERLEGD, ledger_id=L_VERLEGD), line(2)),
        invoice(line(ledger_id=L_NONE)),
        invoice(line(ledger_id=L_WEG)),
        invoice(line(ledger_id=L_OUD)),
        invoice(line(ledger_id=L_BANK)),
        invoice(line(ledger_id=L_DIV)),
        invoice(line(ledger_id=L_BOEKEN)),
        invoice(total="500"),
        invoice(due=None),
        invoice(line(1, "2000000")),
        invoice(total="1e15"),
        invoice(replace(line(), costheading_id=1)),  # not mapped
        invoice(replace(line(), costheading_id=2)),  # mapped to one SnelStart lacks
        invoice(replace(line(), costheading_id=3)),  # mapped to an inactive one
        invoice(line(vat_id=V9, ledger_id=L_BOEKEN)),  # 8010 demands a kostenplaats, the line has none
    ]
    seen: set[str] = set()
    for case in cases:
        result = map_invoice(case, ctx, relatie_id=RELATIE)
        seen |= {p.code for p in result.problems + result.notes}
        for problem in result.problems + result.notes:  # every value its words name is there (strict mode)
            assert all(say(said, lang) for said in (problem.message, problem.fix) for lang in words.LANGUAGES)
    # The customer and booking-fit codes come from sync.mapping.customers and .adoption (tests/test_customers.py,
    # tests/test_adoption_and_limits.py), not from the invoice itself.
    elsewhere = {"CUSTOMER_CONTRADICTION", "CUSTOMER_AMBIGUOUS", "CUSTOMER_PIN_INVALID", "BOOKING_CONFLICT",
                 "BOOKING_NOT_VISIBLE"}
    assert seen == set(PROBLEMS) - elsewhere


def test_every_problem_code_has_its_two_keys_in_both_catalogs() -> None:
    for code in ProblemCode:
        spec = PROBLEMS[code]
        assert (spec.key, spec.fix) == (f"problem.{code.lower()}", f"problem.{code.lower()}.fix")
        for key in (spec.key, spec.fix):
            for lang in words.LANGUAGES:
                assert words.template(key, lang) != key, (code, lang)  # strict: a missing key raises
        # A fix carries exactly the values its words name, so one fix for many invoices is said once.
        for lang in words.LANGUAGES:
            named = {name for _, name, _, _ in string.Formatter().parse(words.template(spec.fix, lang)) if name}
            assert named == set(spec.fix_values), (code, lang)


def test_a_problem_is_stored_as_its_code_and_values_and_reads_in_each_language() -> None:
    problem = check_invoice(invoice(total="500"), make_ctx())[0]
    stored = json.loads(json.dumps(problem.to_json()))
    assert stored == {"code": "TOTAL_MISMATCH", "subject": f"invoice:{problem.subject.split(':')[1]}",
                      "values": {"number": "2025-0042", "gripp_total": "500", "computed_total": "121.00",
                                 "difference": "379.00"}, "config_error": True, "blocking": True}
    for lang in words.LANGUAGES:
        assert say(stored_message(stored), lang) == say(problem.message, lang)
        assert say(stored_fix(stored), lang) == say(problem.fix, lang)
        assert say(stored_explained([stored]), lang) == say(problem.with_fix, lang)
    assert "€ 500,00" in say(stored_message(stored), "nl") and "€379.00" in say(stored_message(stored), "en")


def test_reasons_stored_before_the_catalog_still_read_in_the_readers_language() -> None:
    old = {"code": "VAT_UNMAPPED", "subject": "vat:6", "nl": "Niet gekoppeld.", "en": "Not mapped.",
           "fix_nl": "Koppel het.", "fix_en": "Map it.", "config_error": True, "blocking": True}
    assert say(stored_explained([old]), "nl") == "Niet gekoppeld. Koppel het."
    assert say(stored_explained([old]), "en") == "Not mapped. Map it."
    refused_old = {"code": "BOE-0042", "nl": "SnelStart weigerde dit.", "en": "SnelStart refused this.", "fix_nl": "",
                   "fix_en": ""}
    assert stored_fix(refused_old) is None and say(stored_explained([refused_old]), "en") == "SnelStart refused this."
    refused = {"code": "BOE-0042", "message": Msg(RECORDED, text={"nl": "Geweigerd.", "en": "Refused."}).to_json()}
    assert stored_fix(refused) is None and say(stored_message(refused), "nl") == "Geweigerd."


# ----------------------------------------------------------------------------------------- body details


def test_payment_term_from_due_date_clamped_and_defaulted() -> None:
    assert ok(invoice(due=date(2025, 3, 28)))["betalingstermijn"] == 14
    assert ok(invoice(due=date(2025, 3, 1)))["betalingstermijn"] == 0
    assert ok(invoice(due=date(2030, 1, 1)))["betalingstermijn"] == 999
    result = map_invoice(invoice(due=None), make_ctx(), relatie_id=RELATIE)
    assert result.plan is not None and result.plan.body["betalingstermijn"] == 30
    assert codes(result.notes) == ["DUE_DATE_MISSING"]


def test_thousand_line_invoice_collapses_to_a_few_booking_lines() -> None:
    lines = tuple(
        line(
            i,
            price=f"{(i % 97) + 1}.{i % 100:02d}",
            qty=str((i % 5) + 1),
            vat_id=(V21, V9, V0)[i % 3],
            ledger_id=(L_ADVIES, L_DIV)[i % 2],
            description=f"Regel {i}",
        )
        for i in range(1000)
    )
    inv = invoice(*lines)
    result = map_invoice(inv, make_ctx(), relatie_id=RELATIE)
    assert result.plan is not None
    body = result.plan.body
    # (8000, 8500) × (Hoog, Laag, Geen)
    assert [(r["grootboek"]["id"][-4:], r["btwSoort"]) for r in body["boekingsregels"]] == [
        ("8000", "Hoog"),
        ("8000", "Laag"),
        ("8000", "Geen"),
        ("8500", "Hoog"),
        ("8500", "Laag"),
        ("8500", "Geen"),
    ]
    assert [r["btwSoort"] for r in body["btw"]] == ["VerkopenHoog", "VerkopenLaag"]
    assert body["factuurbedrag"] == inv.total_incl_vat == balance(body)
    assert all(len(r["omschrijving"]) <= 250 for r in body["boekingsregels"])
    assert result.plan.rounding_adjustment == D("0.00")


def test_quotes_and_unicode_are_carried_verbatim() -> None:
    text = "Café ‘De Gouden Kroon’ — \"extra\" 's-Hertogenbosch 😀 \\ ; '' "
    inv = invoice(line(description=text), number='F-2025/‘7’"', customer="O'Brien & Zoon — ÆØÅ")
    body = ok(inv)
    assert body["factuurnummer"] == 'F-2025/‘7’"'
    assert body["boekingsregels"][0]["omschrijving"] == text
    assert body["omschrijving"] == "Factuur F-2025/‘7’\" — O'Brien & Zoon — ÆØÅ"


def test_long_descriptions_are_trimmed_to_250_utf16_units() -> None:
    body = ok(invoice(line(description="😀" * 200), customer="B" * 400))
    regel = body["boekingsregels"][0]["omschrijving"]
    assert len(regel.encode("utf-16-le")) // 2 <= 250 and regel.endswith("…")
    assert len(body["omschrijving"]) == 250 and body["omschrijving"].startswith("Factuur 2025-0042 — BBB")


def test_empty_line_description_falls_back_to_the_invoice_subject() -> None:
    assert ok(invoice(line(description="  ")))["boekingsregels"][0]["omschrijving"] == "Advieswerk maart"


def test_booking_lines_are_in_a_stable_order_whatever_the_gripp_order() -> None:
    a = (line(1, "10", vat_id=V9, ledger_id=L_DIV), line(2, "20", ledger_id=L_ADVIES), line(3, "30"))
    body1 = ok(invoice(*a))
    body2 = ok(invoice(*reversed(a)))
    key = [(r["grootboek"]["id"], r["btwSoort"], r["bedrag"]) for r in body1["boekingsregels"]]
    assert key == [(r["grootboek"]["id"], r["btwSoort"], r["bedrag"]) for r in body2["boekingsregels"]]
    assert body1["btw"] == body2["btw"]


# ------------------------------------------------------------------------------------------- fingerprint


def test_fingerprint_ignores_line_order_and_line_ids_but_not_amounts() -> None:
    a, b = line(1, "100"), line(2, "50", vat_id=V9, ledger_id=L_BOEKEN)
    base = invoice(a, b)
    assert invoice_fingerprint(base) == invoice_fingerprint(invoice(b, a))
    assert invoice_fingerprint(base) == invoice_fingerprint(invoice(replace(a, line_id=99), b))
    assert invoice_fingerprint(base) == invoice_fingerprint(invoice(replace(a, unit_price=D("100.000")), b))
    assert invoice_fingerprint(base) != invoice_fingerprint(invoice(line(1, "100.01"), b))
    assert invoice_fingerprint(base) != invoice_fingerprint(replace(base, total_incl_vat=D("1")))
    assert invoice_fingerprint(base) != invoice_fingerprint(replace(base, due_date=date(2025, 5, 1)))
    assert invoice_fingerprint(base) != invoice_fingerprint(invoice(replace(a, vat_id=V0), b))
    assert invoice_fingerprint(base) == invoice_fingerprint(replace(base, customer_name="Iemand anders"))
    assert invoice_fingerprint(base).startswith("v1:")


# ---------------------------------------------------------------------------------------------- vat.py


def test_vat_kind_on_follows_the_history() -> None:
    assert vat_kind_on(VAT_RATES, "Laag", date(2018, 12, 31)) == D("6")
    assert vat_kind_on(VAT_RATES, "Laag", date(2019, 1, 1)) == D("9")
    assert vat_kind_on(VAT_RATES, "Hoog", date(2025, 1, 1)) == D("21")
    assert vat_kind_on(VAT_RATES, "Overig", date(2025, 1, 1)) is None
    assert vat_kind_on(VAT_RATES, "Verlegd", date(2025, 1, 1)) == 0
    assert vat_kind_on((), "Geen", date(2025, 1, 1)) == 0
    assert vat_kind_on(VAT_RATES, "Nonsense", date(2025, 1, 1)) is None


def test_suggest_vat_kind_by_percentage_and_date() -> None:
    assert suggest_vat_kind(VAT_RATES, D("21"), date(2025, 1, 1)) == "Hoog"
    assert suggest_vat_kind(VAT_RATES, D("9.00"), date(2025, 1, 1)) == "Laag"
    assert suggest_vat_kind(VAT_RATES, D("9"), date(2018, 1, 1)) is None
    assert suggest_vat_kind(VAT_RATES, D("6"), date(2018, 1, 1)) == "Laag"
    assert suggest_vat_kind(VAT_RATES, D("0"), date(2025, 1, 1)) == "Geen"
    assert suggest_vat_kind(VAT_RATES, D("0"), date(2025, 1, 1), reverse_charge=True) == "Verlegd"
    assert suggest_vat_kind(VAT_RATES, D("21"), date(2025, 1, 1), reverse_charge=True) is None
    assert suggest_vat_kind(VAT_RATES, D("19"), date(2025, 1, 1)) is None


def test_amounts_from_json_or_database_rows_are_read_as_decimals() -> None:
    loose = InvoiceLineIn(1, None, 2, "50.005", 0.0, V21, "21%", L_ADVIES, None)  # type: ignore[arg-type]
    inv = replace(invoice(), number=42, lines=(loose,), total_incl_vat=121.01)  # type: ignore[arg-type]
    body = ok(inv)
    assert body["factuurnummer"] == "42"
    assert body["boekingsregels"][0]["bedrag"] == D("100.01") and body["factuurbedrag"] == D("121.01")
    assert invoice_fingerprint(inv) == invoice_fingerprint(replace(inv, number="42", total_incl_vat=D("121.01")))
    garbage = replace(inv, lines=(replace(loose, quantity="twee"),))
    assert codes(check_invoice(garbage, make_ctx())) == ["AMOUNT_INVALID"]
