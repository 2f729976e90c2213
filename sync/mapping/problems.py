"""Why an invoice cannot be booked: one table of problem codes with their Dutch and English texts.

Every text names the Gripp VAT rate, ledger or line by label and id and says what to do, so a finance person
can act on it without reading logs. `PREVENTS` says which SnelStart error each check keeps from happening.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sync.core import fmt
from sync.mapping.types import Problem


@dataclass(frozen=True)
class Spec:
    nl: str
    en: str
    fix_nl: str
    fix_en: str
    config_error: bool = True
    blocking: bool = True


_VAT_FIX_NL = ("Koppel dit BTW-tarief onder Controles → BTW-tarieven en grootboeken koppelen → BTW-tarieven aan "
               "Hoog, Laag, Overig, Geen of Verlegd.")
_VAT_FIX_EN = ("Map this VAT rate under Checks → Map VAT rates and ledgers → VAT rates to Hoog, Laag, Overig, Geen "
               "or Verlegd.")

PROBLEMS: dict[str, Spec] = {
    "NUMBER_MISSING": Spec(
        "Factuur met Gripp id {invoice_id} heeft geen factuurnummer.",
        "Invoice with Gripp id {invoice_id} has no invoice number.",
        "Controleer de factuur in Gripp: een verstuurde factuur heeft altijd een nummer.",
        "Check the invoice in Gripp: a sent invoice always has a number.",
    ),
    "NUMBER_TOO_LONG": Spec(
        "Factuurnummer ‘{number}’ is {length} tekens lang; SnelStart staat er hoogstens 25 toe.",
        "Invoice number ‘{number}’ is {length} characters long; SnelStart allows at most 25.",
        "Kort het nummerformaat in Gripp in (Instellingen → Identiteiten & Sjablonen); boek deze factuur met de "
        "hand in SnelStart.",
        "Shorten the number format in Gripp (Settings → Identities & Templates); book this invoice by hand in "
        "SnelStart.",
    ),
    "AMOUNT_INVALID": Spec(
        "Factuur {number}: {what} is geen bruikbaar getal ({value}).",
        "Invoice {number}: {what} is not a usable number ({value}).",
        "Controleer de factuur in Gripp en corrigeer het bedrag.",
        "Check the invoice in Gripp and correct the amount.",
    ),
    "AMOUNT_PRECISION": Spec(
        "Het totaal van factuur {number} in Gripp ({amount}) heeft meer dan 2 decimalen; een boeking kan alleen "
        "hele centen bevatten.",
        "The total of invoice {number} in Gripp ({amount}) has more than 2 decimals; a booking can only hold "
        "whole cents.",
        "Controleer de factuur in Gripp; staat het totaal daar in hele centen, meld dit dan bij de ondersteuning.",
        "Check the invoice in Gripp; if it shows the total in whole cents there, report this to support.",
    ),
    "NO_LINES": Spec(
        "Factuur {number} heeft geen regels met een bedrag; er valt niets te boeken.",
        "Invoice {number} has no lines with an amount; there is nothing to book.",
        "Controleer de factuurregels in Gripp. Een factuur zonder bedrag hoeft niet in SnelStart te staan.",
        "Check the invoice lines in Gripp. An invoice without an amount does not need to be in SnelStart.",
    ),
    "LINE_NO_VAT": Spec(
        "Regel ‘{line}’ (Gripp regel {line_id}) van factuur {number} heeft geen BTW-tarief.",
        "Line ‘{line}’ (Gripp line {line_id}) of invoice {number} has no VAT rate.",
        "Kies in Gripp een BTW-tarief voor deze regel (of voor het product).",
        "Choose a VAT rate for this line (or its product) in Gripp.",
    ),
    "LINE_NO_LEDGER": Spec(
        "Regel ‘{line}’ (Gripp regel {line_id}) van factuur {number} heeft geen grootboekrekening.",
        "Line ‘{line}’ (Gripp line {line_id}) of invoice {number} has no ledger.",
        "Kies in Gripp een omzetgrootboek voor deze regel (of voor het product).",
        "Choose a revenue ledger for this line (or its product) in Gripp.",
    ),
    "VAT_UNMAPPED": Spec(
        "BTW-tarief ‘{label}’ (Gripp id {vat_id}) is niet gekoppeld aan een SnelStart BTW-soort.",
        "VAT rate ‘{label}’ (Gripp id {vat_id}) is not mapped to a SnelStart VAT kind.",
        _VAT_FIX_NL,
        _VAT_FIX_EN,
    ),
    "VAT_KIND_INVALID": Spec(
        "BTW-tarief ‘{label}’ (Gripp id {vat_id}) is gekoppeld aan ‘{kind}’, maar dat is geen SnelStart BTW-soort.",
        "VAT rate ‘{label}’ (Gripp id {vat_id}) is mapped to ‘{kind}’, which is not a SnelStart VAT kind.",
        _VAT_FIX_NL,
        _VAT_FIX_EN,
    ),
    "VAT_PERCENTAGE_WRONG": Spec(
        "BTW-tarief ‘{label}’ (Gripp id {vat_id}) is gekoppeld aan {kind} met {mapped}, maar SnelStart kent "
        "voor {kind} op {date} {expected}.",
        "VAT rate ‘{label}’ (Gripp id {vat_id}) is mapped to {kind} at {mapped}, but on {date} SnelStart's "
        "{kind} rate is {expected}.",
        "Koppel het tarief onder Controles → BTW-tarieven en grootboeken koppelen → BTW-tarieven aan een BTW-soort "
        "die op de factuurdatum {mapped} "
        "is, of geef de factuur in Gripp een BTW-tarief dat op die datum geldt.",
        "Map the rate under Checks → Map VAT rates and ledgers → VAT rates to a VAT kind that is {mapped} on the "
        "invoice date, or give "
        "the invoice a VAT rate in Gripp that was valid on that date.",
    ),
    "VERLEGD_MIXED": Spec(
        "Factuur {number} combineert verlegde BTW ({verlegd}) met andere BTW-tarieven ({others}); SnelStart "
        "staat dat in één boeking niet toe.",
        "Invoice {number} mixes reverse-charge VAT ({verlegd}) with other VAT rates ({others}); SnelStart "
        "does not allow that in one booking.",
        "Maak in Gripp een factuur met alleen de verlegde regels en een met de overige, of corrigeer het "
        "BTW-tarief van de regels.",
        "In Gripp, split it into an invoice with only the reverse-charge lines and one with the rest, or "
        "correct the lines' VAT rate.",
    ),
    "LEDGER_UNMAPPED": Spec(
        "Grootboek ‘{label}’ (Gripp id {ledger_id}) is niet gekoppeld aan een SnelStart-grootboekrekening.",
        "Ledger ‘{label}’ (Gripp id {ledger_id}) is not mapped to a SnelStart ledger account.",
        "Koppel dit grootboek onder Controles → BTW-tarieven en grootboeken koppelen → Grootboeken aan een "
        "omzetrekening in SnelStart.",
        "Map this ledger under Checks → Map VAT rates and ledgers → Ledgers to a revenue account in SnelStart.",
    ),
    "LEDGER_MISSING": Spec(
        "Grootboek ‘{label}’ (Gripp id {ledger_id}) is gekoppeld aan SnelStart-rekening {ss_number}, maar die "
        "bestaat niet in de SnelStart-administratie.",
        "Ledger ‘{label}’ (Gripp id {ledger_id}) is mapped to SnelStart account {ss_number}, which does not "
        "exist in the SnelStart administration.",
        "Maak rekening {ss_number} aan in SnelStart, of koppel dit grootboek aan een bestaande omzetrekening.",
        "Create account {ss_number} in SnelStart, or map this ledger to an existing revenue account.",
    ),
    "LEDGER_INACTIVE": Spec(
        "Grootboek ‘{label}’ (Gripp id {ledger_id}) is gekoppeld aan SnelStart-rekening {ss_number} "
        "‘{ss_label}’, maar die staat op non-actief.",
        "Ledger ‘{label}’ (Gripp id {ledger_id}) is mapped to SnelStart account {ss_number} ‘{ss_label}’, "
        "which is inactive.",
        "Zet rekening {ss_number} in SnelStart weer op actief, of koppel dit grootboek aan een actieve omzetrekening.",
        "Reactivate account {ss_number} in SnelStart, or map this ledger to an active revenue account.",
    ),
    "LEDGER_NOT_SALES": Spec(
        "Grootboek ‘{label}’ (Gripp id {ledger_id}) is gekoppeld aan SnelStart-rekening {ss_number} "
        "‘{ss_label}’; dat is {reason} en geen omzetrekening.",
        "Ledger ‘{label}’ (Gripp id {ledger_id}) is mapped to SnelStart account {ss_number} ‘{ss_label}’, "
        "which is {reason} and not a revenue account.",
        "Koppel dit grootboek onder Controles → BTW-tarieven en grootboeken koppelen → Grootboeken aan een "
        "omzetrekening (een winst-en-"
        "verliesrekening, bijvoorbeeld met functie VerkopenOmzetHoog).",
        "Map this ledger under Checks → Map VAT rates and ledgers → Ledgers to a revenue account (a profit-and-loss "
        "account, for "
        "example with function VerkopenOmzetHoog).",
    ),
    "LEDGER_NOT_SALES_NOTE": Spec(
        "Grootboek ‘{label}’ (Gripp id {ledger_id}) is gekoppeld aan SnelStart-rekening {ss_number} "
        "‘{ss_label}’ met functie {function}; dat is geen omzetfunctie. De factuur wordt wel geboekt.",
        "Ledger ‘{label}’ (Gripp id {ledger_id}) is mapped to SnelStart account {ss_number} ‘{ss_label}’ "
        "with function {function}, which is not a sales function. The invoice is booked anyway.",
        "Hoort de omzet op deze rekening, dan kunt u dit negeren; koppel anders een omzetrekening.",
        "If the revenue belongs on this account you can ignore this; otherwise map a revenue account.",
        blocking=False,
    ),
    "LEDGER_VAT_MISMATCH": Spec(
        "SnelStart-rekening {ss_number} ‘{ss_label}’ (gekoppeld aan Gripp-grootboek ‘{label}’, id {ledger_id}) "
        "staat BTW-soort {kind} niet toe, maar regels met BTW-tarief ‘{vat_label}’ (Gripp id {vat_id}) komen "
        "erop.",
        "SnelStart account {ss_number} ‘{ss_label}’ (mapped from Gripp ledger ‘{label}’, id {ledger_id}) does "
        "not allow VAT kind {kind}, but lines with VAT rate ‘{vat_label}’ (Gripp id {vat_id}) are booked on it.",
        "Sta BTW-soort {kind} toe bij rekening {ss_number} in SnelStart, of koppel dit grootboek aan een "
        "rekening die {kind} toestaat (nu toegestaan: {accepts}).",
        "Allow VAT kind {kind} on account {ss_number} in SnelStart, or map this ledger to an account that "
        "allows {kind} (allowed now: {accepts}).",
    ),
    "TOTAL_MISMATCH": Spec(
        "Het totaal van factuur {number} in Gripp ({gripp_total}) wijkt {difference} af van wat de regels en "
        "de BTW-koppeling opleveren ({computed_total}). Tot 2 cent wordt automatisch afgerond; dit is meer.",
        "The total of invoice {number} in Gripp ({gripp_total}) differs by {difference} from what its lines and "
        "the VAT mapping add up to ({computed_total}). Up to 2 cents is rounded automatically; this is more.",
        "Controleer de percentages onder Controles → BTW-tarieven en grootboeken koppelen → BTW-tarieven: "
        "waarschijnlijk is een BTW-tarief met een "
        "verkeerd percentage gekoppeld. Klopt de koppeling, controleer dan de factuur in Gripp.",
        "Check the percentages under Checks → Map VAT rates and ledgers → VAT rates: most likely a VAT rate is mapped "
        "with the wrong "
        "percentage. If the mapping is right, check the invoice in Gripp.",
    ),
    "DUE_DATE_MISSING": Spec(
        "Factuur {number} heeft geen vervaldatum; de betalingstermijn in SnelStart wordt {days} dagen.",
        "Invoice {number} has no due date; the payment term in SnelStart will be {days} days.",
        "Geen actie nodig; geef de factuur in Gripp een vervaldatum als de termijn anders moet zijn.",
        "No action needed; give the invoice a due date in Gripp if the term should differ.",
        blocking=False,
    ),
    # -- the customer (sync.mapping.customers) -------------------------------------------------------------
    "CUSTOMER_CONTRADICTION": Spec(
        "Factuur {number}: de gegevens van klant ‘{company}’ (Gripp-klantnummer {customernumber}) spreken elkaar "
        "tegen in SnelStart: {first}, tegenover {second}. De factuur wordt niet geboekt, zodat hij niet op de "
        "verkeerde relatie komt.",
        "Invoice {number}: the details of customer ‘{company}’ (Gripp customer number {customernumber}) contradict "
        "each other in SnelStart: {first}, against {second}. The invoice is not booked, so it cannot land on the "
        "wrong relatie.",
        "Zoek uit welke relatie de klant is. Corrigeer het klantnummer, BTW- of KvK-nummer in Gripp of bij de "
        "relaties in SnelStart, of leg de klant vast onder Controles → Klantkoppeling; de volgende synchronisatie "
        "boekt de factuur dan.",
        "Find out which relatie the customer is. Correct the customer, VAT or KvK number in Gripp or on the "
        "relaties in SnelStart, or pin the customer under Checks → Customer mapping; the next sync then books "
        "the invoice.",
    ),
    "CUSTOMER_AMBIGUOUS": Spec(
        "Factuur {number}: klant ‘{company}’ heeft geen klantnummer, BTW- of KvK-nummer dat SnelStart kent, en "
        "er zijn {count} relaties met die naam: {relaties}. De factuur wordt niet geboekt tot duidelijk is welke "
        "het is.",
        "Invoice {number}: customer ‘{company}’ has no customer, VAT or KvK number SnelStart knows, and there are "
        "{count} relaties with that name: {relaties}. The invoice is not booked until it is clear which one it "
        "is.",
        "Leg de klant vast aan de juiste relatie onder Controles → Klantkoppeling, of geef de relatie in SnelStart "
        "het klantnummer uit Gripp als relatiecode.",
        "Pin the customer to the right relatie under Checks → Customer mapping, or give the relatie in SnelStart "
        "the Gripp customer number as its relatiecode.",
    ),
    "CUSTOMER_PIN_INVALID": Spec(
        "Factuur {number}: klant ‘{company}’ is vastgelegd op relatie {relatie}, maar die {why}.",
        "Invoice {number}: customer ‘{company}’ is pinned to relatie {relatie}, but it {why}.",
        "Kies onder Controles → Klantkoppeling een bestaande relatie (soort Klant) voor deze klant, of haal de "
        "vastlegging weg.",
        "Choose an existing relatie (of kind Klant) for this customer under Checks → Customer mapping, or remove "
        "the pin.",
    ),
    # -- a booking found by number (sync.mapping.adoption) --------------------------------------------------
    "BOOKING_CONFLICT": Spec(
        "In SnelStart staat al een boeking met factuurnummer {number}, maar die hoort niet bij deze factuur: "
        "{differences}. De koppeling neemt hem niet over, hangt er geen PDF aan en zet er geen betalingen van "
        "terug in Gripp.",
        "SnelStart already holds a booking numbered {number}, but it is not this invoice's: {differences}. The "
        "link does not adopt it, attaches no PDF to it and brings no payments back from it.",
        # Where the button is, for the run log, the CSV and the dry run; the card beside the button says it in its
        # own words (console/records.py).
        "Is het toch deze factuur, kies dan ‘Toch overnemen’ onder Controles → Conflicten en tegenstrijdige "
        "klantgegevens (support; dit wordt vastgelegd). Is het een andere boeking, geef die in SnelStart een ander "
        "factuurnummer of crediteer hem: de volgende synchronisatie boekt deze factuur dan.",
        "If it is this invoice after all, choose ‘Adopt anyway’ under Checks → Conflicts and contradicting "
        "customer details (support; this is recorded). If it is another booking, give it another invoice number "
        "in SnelStart or credit it: the next sync then books this invoice.",
    ),
    "BOOKING_NOT_VISIBLE": Spec(
        "SnelStart meldt dat factuurnummer {number} al bestaat (BOE-0021), maar toont geen boeking met dat "
        "nummer. De koppeling kijkt bij elke synchronisatie opnieuw.",
        "SnelStart says invoice number {number} exists already (BOE-0021), but shows no booking with that number. "
        "The link looks again at every sync.",
        "Zoek de boeking in SnelStart op. Is het deze factuur, dan neemt de koppeling hem over zodra SnelStart hem "
        "toont; is het een andere, geef die een ander factuurnummer.",
        "Look the booking up in SnelStart. If it is this invoice, the link adopts it as soon as SnelStart shows "
        "it; if it is another one, give that one another invoice number.",
    ),
}

# The SnelStart error each check keeps from happening (None: SnelStart would accept the booking, but it would
# be wrong — wrong VAT return, revenue on the wrong account, an amount that is not Gripp's).
PREVENTS: dict[str, str | None] = {
    "NUMBER_MISSING": "BOE-0058",  # factuurnummer required
    "NUMBER_TOO_LONG": "BOE-0058",  # factuurnummer ≤ 25
    "AMOUNT_INVALID": "BOE-0039",  # not in balance
    "AMOUNT_PRECISION": "BOE-0039",
    "NO_LINES": "BOE-0023",  # no boekingsregels (and BOE-0028, a zero line)
    "LINE_NO_VAT": "BOE-0069",  # invalid btw
    "LINE_NO_LEDGER": "BOE-0089",  # grootboek not found
    "VAT_UNMAPPED": "BOE-0069",
    "VAT_KIND_INVALID": "BOE-0069",
    "VAT_PERCENTAGE_WRONG": None,  # SnelStart books whatever VAT it is given: the VAT return would be wrong
    "VERLEGD_MIXED": "BOE-0062",
    "LEDGER_UNMAPPED": "BOE-0089",
    "LEDGER_MISSING": "BOE-0089",
    "LEDGER_INACTIVE": "BOE-0008",  # booking on a non-active account (also ALG-0105)
    "LEDGER_NOT_SALES": None,  # revenue on a bank/VAT/balance account: accepted, and wrong
    "LEDGER_NOT_SALES_NOTE": None,
    "LEDGER_VAT_MISMATCH": "BOE-0082",
    "TOTAL_MISMATCH": "BOE-0039",  # and a booking whose amount is not the invoice's
    "DUE_DATE_MISSING": None,
    "CUSTOMER_CONTRADICTION": None,  # SnelStart would book it, on whichever relatie we picked
    "CUSTOMER_AMBIGUOUS": None,
    "CUSTOMER_PIN_INVALID": "BOE-0060",  # the relatie does not exist or is not a Klant
    "BOOKING_CONFLICT": "BOE-0021",  # and a foreign booking adopted as ours
    "BOOKING_NOT_VISIBLE": "BOE-0021",
}

assert PREVENTS.keys() == PROBLEMS.keys()


# ----------------------------------------------------------------------------------------- formatting values


@dataclass(frozen=True)
class Pct:
    value: Decimal


@dataclass(frozen=True)
class Money:
    value: Decimal


@dataclass(frozen=True)
class Bi:
    """A value that reads differently per language."""

    nl: str
    en: str


def _fmt(value: object, lang: str) -> str:
    """Every amount, percentage and date through the one formatter (`sync.core.fmt`)."""
    if isinstance(value, Bi):
        return value.nl if lang == "nl" else value.en
    if isinstance(value, Pct):
        return fmt.percent(value.value, lang) if value.value.is_finite() else str(value.value)
    if isinstance(value, Money):
        return fmt.money(value.value, lang) if value.value.is_finite() else str(value.value)
    if isinstance(value, date):
        return fmt.day(value, lang)
    if isinstance(value, Decimal):
        return fmt.number(value, lang)
    return str(value)


def make_problem(code: str, subject: str, **params: object) -> Problem:
    """Fill in the table's texts for `code`; values wrapped in Pct/Money/Bi, and dates, read per language."""
    spec = PROBLEMS[code]
    nl = {k: _fmt(v, "nl") for k, v in params.items()}
    en = {k: _fmt(v, "en") for k, v in params.items()}
    return Problem(
        code=code,
        subject=subject,
        nl=spec.nl.format(**nl),
        en=spec.en.format(**en),
        fix_nl=spec.fix_nl.format(**nl),
        fix_en=spec.fix_en.format(**en),
        config_error=spec.config_error,
        blocking=spec.blocking,
    )
