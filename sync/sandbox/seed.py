"""The sandbox's demo data: a small Dutch agency group invoicing from Gripp and booking in SnelStart.

Everything here is deterministic: one `random.Random(seed)` drives every choice and every SnelStart GUID is a
uuid5 of a readable name, so `build_world()` twice gives equal worlds and a test can rely on the story below.

The story (today = 2026-11-28):
- Gripp account with three identities. "Studio Noord B.V." (design/web studio, invoices since 2018-07, so it
  crosses the 1 January 2019 change of the low VAT rate from 6 % to 9 %), "Noord Advies B.V." (consultancy,
  since 2023-01) and "Noord Academy" (training, since 2024-01).
- Identities 1 and 2 used Gripp's previous link until 2026-06-30: those invoices are already booked in their
  SnelStart administrations, with payments (mostly in sync, some not — see `_Builder._payments`).
- Identity 3 is not linked yet; its administration is ready (chart of accounts, relaties).
- Four deliberate misconfigurations, each on a few invoices dated after the cutoff (so the new link meets
  them): an unmapped Gripp VAT rate, a ledger missing in SnelStart, a ledger that does not accept the VAT kind
  used on it, and an inactive ledger.
- Kostenplaatsen: Studio Noord's low-rate lines (photo books, workshop lunches) carry a Gripp kostenplaats, mapped to
  the same-numbered one in its administration, whose "Omzet laag" (8010) demands a kostenplaats — and one invoice
  still to book has its low-rate line without one, so the checks find that grootboek (KOSTENPLAATS_REQUIRED). Its
  design and web-development lines name a Gripp project, for an identity that takes its kostenplaatsen from those.
- Two records a careful link must not trust: per linked identity, a booking whose amount the accountant changed
  in SnelStart (a conflict: never adopted, no PDF, no payments through it) and a customer whose number is a
  former customer's relatiecode in SnelStart (same number, other name: its invoices are blocked, not booked on
  that relatie).

`manifest(world)` derives the facts tests assert against from the world itself, so it stays true when the
seed changes and it also tells what is still *outstanding* after a sync has run.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import TypedDict

from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.money import ZERO, cents
from sync.sandbox.seed_accounts import KLEIMEER, KLEIMEER_ADMINISTRATIONS, add_other_accounts, other_accounts
from sync.sandbox.seed_parts import (
    GRIPP_LEDGERS,
    INTERVAL_MINUTES,
    MAPPING_CSV_COLUMNS,
    VAT_0,
    VAT_6,
    VAT_9,
    VAT_21,
    VAT_VERLEGD,
    VAT_VRIJGESTELD,
    DemoLink,
    MappingRow,
    SandboxAccount,
    SandboxSetup,
    build_booking,
    correct_mappings,
    gripp_ledgers,
    gripp_vat_rates,
    guid,
    koppelsleutel_for,
    mappings_csv,
    nl_vat_number,
    snelstart_percentage,
    snelstart_vat_history,
    soort_for,
    standard_chart,
)
from sync.sandbox.world import (
    ALL_SCOPES,
    FIRST_ACCOUNT,
    GrippAccount,
    GrippCompany,
    GrippCostheading,
    GrippInvoice,
    GrippInvoiceLine,
    GrippPayment,
    GrippProject,
    SnelStartAdministration,
    SnelStartBankBooking,
    SnelStartBankLine,
    SnelStartBookingLine,
    SnelStartKey,
    SnelStartKostenplaats,
    SnelStartRelatie,
    SnelStartSalesBooking,
    World,
)

__all__ = [
    "ADMINISTRATION_NAMES", "ADMINISTRATION_OF", "ADMIN_ACADEMY", "ADMIN_ADVIES", "ADMIN_STUDIO",
    "CUSTOMER_CONTRADICTION", "DEFAULT_SEED", "FIRST_ACCOUNT", "FIRST_ACCOUNT_NAME", "GRIPP_LEDGERS",
    "IDENTITY_ACADEMY", "IDENTITY_ADVIES", "IDENTITY_NAMES", "IDENTITY_STUDIO", "INTERVAL_MINUTES", "LEDGER_INACTIVE",
    "LEDGER_MISSING", "LEDGER_UNMAPPED", "LEDGER_VAT_MISMATCH", "LOW_RATE_CHANGE", "MAPPING_CSV_COLUMNS",
    "MISCONFIGURATIONS", "OLD_LINK_CUTOFF", "SANDBOX_TODAY", "VAT_0", "VAT_6", "VAT_9", "VAT_21", "VAT_RATE_MISMATCH",
    "VAT_UNMAPPED", "VAT_VERLEGD", "VAT_VRIJGESTELD", "DemoLink", "MappingRow", "SandboxAccount", "SandboxSetup",
    "SeedManifest", "build_booking", "build_world", "correct_mappings", "demo_accounts", "demo_setup", "gripp_ledgers",
    "gripp_vat_rates", "guid", "invoice_problems", "koppelsleutel_for", "load_or_create", "manifest", "mappings_csv",
    "nl_vat_number", "reset", "snelstart_percentage", "snelstart_vat_history", "soort_for", "standard_chart",
]

SANDBOX_TODAY = date(2026, 11, 28)
FIRST_ACCOUNT_NAME = "Studio Noord"  # the Gripp account of the demo's three identities (key FIRST_ACCOUNT)
DEFAULT_SEED = 2026
LOW_RATE_CHANGE = date(2019, 1, 1)  # Laag went from 6 % to 9 %
OLD_LINK_CUTOFF = date(2026, 6, 30)  # the previous link booked invoices dated up to and including this day
HEADING_EVERY = 3  # every third invoice starts with a group heading line (rowtype GROUP)

IDENTITY_STUDIO = 1
IDENTITY_ADVIES = 2
IDENTITY_ACADEMY = 3
IDENTITY_NAMES = {
    IDENTITY_STUDIO: "Studio Noord B.V.",
    IDENTITY_ADVIES: "Noord Advies B.V.",
    IDENTITY_ACADEMY: "Noord Academy",
}
FIRST_INVOICE_MONTH = {
    IDENTITY_STUDIO: date(2018, 7, 1),
    IDENTITY_ADVIES: date(2023, 1, 1),
    IDENTITY_ACADEMY: date(2024, 1, 1),
}
# Readable, fixed administration GUIDs: a tester can type them.
ADMIN_STUDIO = "a0000001-0000-4000-8000-000000000001"
ADMIN_ADVIES = "a0000002-0000-4000-8000-000000000002"
ADMIN_ACADEMY = "a0000003-0000-4000-8000-000000000003"
ADMINISTRATION_OF = {IDENTITY_STUDIO: ADMIN_STUDIO, IDENTITY_ADVIES: ADMIN_ADVIES, IDENTITY_ACADEMY: ADMIN_ACADEMY}
ADMINISTRATION_NAMES = {ADMIN_STUDIO: "Studio Noord B.V.", ADMIN_ADVIES: "Noord Advies", ADMIN_ACADEMY: "Noord Academy"}

# Reason codes the checks give for the deliberate misconfigurations.
VAT_UNMAPPED = "VAT_UNMAPPED"
LEDGER_MISSING = "LEDGER_MISSING"
LEDGER_VAT_MISMATCH = "LEDGER_VAT_MISMATCH"
LEDGER_INACTIVE = "LEDGER_INACTIVE"
# Never produced by the seed; `invoice_problems` reports them so a broken seed cannot hide.
LEDGER_UNMAPPED = "LEDGER_UNMAPPED"
VAT_RATE_MISMATCH = "VAT_RATE_MISMATCH"
KOSTENPLAATS_REQUIRED = "KOSTENPLAATS_REQUIRED"  # a grootboek that demands a kostenplaats, a line without one
KOSTENPLAATS_UNMAPPED = "KOSTENPLAATS_UNMAPPED"  # never produced by the seed, as LEDGER_UNMAPPED
MISCONFIGURATIONS = (VAT_UNMAPPED, LEDGER_MISSING, LEDGER_VAT_MISMATCH, LEDGER_INACTIVE, KOSTENPLAATS_REQUIRED)
# The customer whose customer number is a former customer's relatiecode: its invoices are blocked, not booked on
# that relatie.
CUSTOMER_CONTRADICTION = "CUSTOMER_CONTRADICTION"

# ------------------------------------------------------------------------------------------ the setup


def demo_setup() -> SandboxSetup:
    """The sandbox's configured side: identities 1 and 2 linked, with their (deliberately imperfect) mappings."""
    links = [
        DemoLink(IDENTITY_STUDIO, IDENTITY_NAMES[IDENTITY_STUDIO], ADMIN_STUDIO, ADMINISTRATION_NAMES[ADMIN_STUDIO],
                 koppelsleutel_for(ADMIN_STUDIO), date(2018, 7, 1), INTERVAL_MINUTES),
        DemoLink(IDENTITY_ADVIES, IDENTITY_NAMES[IDENTITY_ADVIES], ADMIN_ADVIES, ADMINISTRATION_NAMES[ADMIN_ADVIES],
                 koppelsleutel_for(ADMIN_ADVIES), date(2023, 1, 1), INTERVAL_MINUTES),
    ]
    mappings = [
        # Identity 1 maps ledger 8200 to "8200", which its administration does not have (LEDGER_MISSING).
        *correct_mappings(IDENTITY_STUDIO, [VAT_21, VAT_9, VAT_6, VAT_0, VAT_VERLEGD],
                          [8000, 8010, 8020, 8030, 8200]),
        # Identity 1's Gripp kostenplaatsen, each on SnelStart's with the same number.
        *(MappingRow(IDENTITY_STUDIO, "kostenplaats", costheading_id, name, number)
          for costheading_id, (name, number, _) in GRIPP_COSTHEADINGS.items() if costheading_id in STUDIO_COSTHEADINGS),
        # Identity 2 has no row for VAT 6 "Vrijgesteld" (VAT_UNMAPPED); 8100 only accepts Geen while identity 2
        # books 21 % on it (LEDGER_VAT_MISMATCH); 8300 is inactive in SnelStart (LEDGER_INACTIVE).
        *correct_mappings(IDENTITY_ADVIES, [VAT_21, VAT_9, VAT_0, VAT_VERLEGD],
                          [8000, 8010, 8020, 8030, 8100, 8300]),
    ]
    return SandboxSetup(links=links, mappings=mappings)


# ------------------------------------------------------------------------------------------ kostenplaatsen

# Gripp's kostenplaatsen (account-wide): id -> (name, number, the item texts whose lines carry it).
GRIPP_COSTHEADINGS: dict[int, tuple[str, str, tuple[str, ...]]] = {
    1: ("Drukwerk", "110", ("Fotoboek",)),
    2: ("Workshops", "120", ("Lunch tijdens workshop",)),
    3: ("Webdesign", "130", ()),  # in Gripp, on no line yet
}
STUDIO_COSTHEADINGS = (1, 2)  # the ones Studio Noord's lines carry, mapped
# Studio Noord's administration: SnelStart kostenplaatsen by number, and the grootboek that demands one.
STUDIO_KOSTENPLAATSEN = {110: "Drukwerk", 120: "Workshops", 130: "Webdesign", 900: "Algemeen"}
KOSTENPLAATS_LEDGER = 8010
# Gripp projects Studio Noord's lines name: id -> (name, number, the item texts whose lines carry it).
GRIPP_PROJECTS: dict[int, tuple[str, int, tuple[str, ...]]] = {
    1: ("Website vernieuwing", 1041, ("Webdevelopment sprint",)),
    2: ("Huisstijl en logo", 1042, ("Ontwerp huisstijl", "Logo-ontwerp")),
}


# ------------------------------------------------------------------------------------- names and places

# city -> (postcode range, area code, streets)
_CITIES: dict[str, tuple[tuple[int, int], str, tuple[str, ...]]] = {
    "Groningen": ((9711, 9747), "050", ("Oude Ebbingestraat", "Herestraat", "Zuiderdiep", "Paterswoldseweg",
                                        "Oosterstraat", "Vismarkt", "Hereweg", "Peizerweg", "Eemsgolaan")),
    "Assen": ((9401, 9411), "0592", ("Brink", "Kloosterstraat", "Industrieweg", "Stationsstraat", "Europaweg")),
    "Leeuwarden": ((8911, 8939), "058", ("Nieuwestad", "Tweebaksmarkt", "Oostergrachtswal", "Zuiderplein")),
    "Drachten": ((9200, 9204), "0512", ("Zuiderdwarsvaart", "Noorderdwarsvaart", "De Knobben", "Raadhuisplein")),
    "Emmen": ((7811, 7826), "0591", ("Hoofdstraat", "Boermarke", "Phoenixstraat", "Statenweg")),
    "Zwolle": ((8011, 8043), "038", ("Diezerstraat", "Melkmarkt", "Blaloweg", "Hanzelaan")),
    "Sneek": ((8601, 8608), "0515", ("Marktstraat", "Oosterdijk", "Lemmerweg")),
    "Haren": ((9750, 9752), "050", ("Rijksstraatweg", "Kerklaan", "Oosterweg")),
    "Veendam": ((9641, 9648), "0598", ("Kerkstraat", "Museumplein", "Dr. Bouwdijkstraat")),
    "Hoogezand": ((9601, 9603), "0598", ("Hoofdstraat", "Gorecht-Oost", "Industrieweg")),
    "Appingedam": ((9901, 9903), "0596", ("Solwerderstraat", "Dijkstraat", "Farmsumerweg")),
    "Delfzijl": ((9930, 9934), "0596", ("Damsterdiep", "Handelskade Oost", "Oude Schans")),
    "Winsum": ((9951, 9951), "0595", ("Hoofdstraat", "Stationsweg", "Onderdendamsterweg")),
    "Franeker": ((8801, 8802), "0517", ("Voorstraat", "Godsacker", "Harlingerweg")),
    "Harlingen": ((8861, 8862), "0517", ("Voorstraat", "Noorderhaven", "Kimswerderweg")),
    "Roden": ((9301, 9304), "050", ("Heerestraat", "Ceintuurbaan", "Produktieweg")),
    "Leek": ((9351, 9356), "0594", ("Tolberterstraat", "Oostindie", "Nieuwe Drift")),
    "Paterswolde": ((9765, 9765), "050", ("Groningerweg", "Hoofdweg")),
    "Vries": ((9481, 9481), "0592", ("Kerkbrink", "Asserstraat")),
    "Zuidhorn": ((9801, 9804), "0594", ("Hoofdstraat", "Dorpsstraat", "Kruisweg")),
    "Winschoten": ((9671, 9675), "0597", ("Langestraat", "Venne", "Papierbaan")),
}

# Foreign customers: (street, number, postcode, city)
_FOREIGN_ADDRESSES = {
    "Atelier Vandenbroucke BV": ("Korenmarkt", "12", "9000", "Gent"),
    "Nordlicht Medien GmbH": ("Schlachte", "21", "28195", "Bremen"),
    "Alpenblick Design AG": ("Bahnhofstrasse", "88", "8001", "Zürich"),
    "Wouters Strategy BV": ("Avenue Louise", "231", "1050", "Brussel"),
    "Hanse Logistik GmbH": ("Große Elbstraße", "145", "22767", "Hamburg"),
    "Brightwater Consulting Ltd": ("Fenchurch Street", "12", "EC3M 3BY", "London"),
}

# (name, kind, city or country). kind: company | foundation | gov | person | eu | noneu
_CUSTOMERS: dict[int, tuple[tuple[str, str, str], ...]] = {
    IDENTITY_STUDIO: (
        ("Bakkerij Bolhuis B.V.", "company", "Groningen"),
        ("Gemeente Westerkwartier", "gov", "Zuidhorn"),
        ("Stichting Kunstpodium Noord", "foundation", "Groningen"),
        ("Van der Veen Installatietechniek B.V.", "company", "Assen"),
        ("Fietsenmakerij De Ketting V.O.F.", "company", "Haren"),
        ("Tandartsenpraktijk Zuiderpark B.V.", "company", "Groningen"),
        ("Hoekstra & Dijkstra Advocaten", "company", "Leeuwarden"),
        ("Brouwerij Het Wad B.V.", "company", "Delfzijl"),
        ("Stichting Zorggroep Eemsmond", "foundation", "Appingedam"),
        ("Kaasboerderij Wiersma V.O.F.", "company", "Drachten"),
        ("Gemeente Tynaarlo", "gov", "Vries"),
        ("Stichting Wadden Erfgoed", "foundation", "Harlingen"),
        ("Koffiebranderij Noorderzon B.V.", "company", "Groningen"),
        ("Autobedrijf Bakker B.V.", "company", "Hoogezand"),
        ("Jansen Bouw & Onderhoud B.V.", "company", "Emmen"),
        ("Bloemenhuis Flora V.O.F.", "company", "Veendam"),
        ("Hotel De Oude Pastorie B.V.", "company", "Winsum"),
        ("Scheepswerf Talsma B.V.", "company", "Franeker"),
        ("Stichting Muziekschool De Toonladder", "foundation", "Groningen"),
        ("Fysiotherapie Helpman V.O.F.", "company", "Groningen"),
        ("Van Dijk Transport B.V.", "company", "Zwolle"),
        ("Stichting Stadsboerderij Groningen", "foundation", "Groningen"),
        ("Optiek Mulder B.V.", "company", "Assen"),
        ("Groen Hoveniers V.O.F.", "company", "Paterswolde"),
        ("Restaurant De Smederij V.O.F.", "company", "Leek"),
        ("Makelaardij Schuurman B.V.", "company", "Groningen"),
        ("Visser & Zn. Accountants B.V.", "company", "Sneek"),
        ("Kinderopvang Klein Geluk B.V.", "company", "Roden"),
        ("Energiecoöperatie Noordenwind U.A.", "company", "Groningen"),
        ("Woonwinkel Het Pakhuis V.O.F.", "company", "Leeuwarden"),
        ("Stichting Cultuurhuis De Linde", "foundation", "Winschoten"),
        ("Gemeente Midden-Groningen", "gov", "Hoogezand"),
        ("Drukkerij Noordster B.V.", "company", "Sneek"),
        ("Dierenkliniek Het Hogeland B.V.", "company", "Winsum"),
        ("J. de Vries", "person", "Groningen"),
        ("M.A. Kuipers", "person", "Haren"),
        ("R. Boersma-Smit", "person", "Drachten"),
        ("Atelier Vandenbroucke BV", "eu", "BE"),
        ("Nordlicht Medien GmbH", "eu", "DE"),
        ("Alpenblick Design AG", "noneu", "CH"),
    ),
    IDENTITY_ADVIES: (
        ("Gemeente Assen", "gov", "Assen"),
        ("Provincie Drenthe", "gov", "Assen"),
        ("Woonstichting Thuis in Noord", "foundation", "Groningen"),
        ("Zorgcentrum De Hoogte B.V.", "company", "Groningen"),
        ("Stichting Hogeschool Noordkust", "foundation", "Leeuwarden"),
        ("Agrifood Innovatie B.V.", "company", "Veendam"),
        ("Bouwbedrijf Kiers B.V.", "company", "Emmen"),
        ("Logistiek Centrum Eemshaven B.V.", "company", "Delfzijl"),
        ("ICT Partners Drenthe B.V.", "company", "Assen"),
        ("Van Houten Consultancy V.O.F.", "company", "Zwolle"),
        ("Stichting Sportfonds Groningen", "foundation", "Groningen"),
        ("Flexwerk Noord Uitzendbureau B.V.", "company", "Drachten"),
        ("Zuivelcoöperatie De Marne U.A.", "company", "Winsum"),
        ("Stichting Museum Het Depot", "foundation", "Leeuwarden"),
        ("Techniek Opleidingen Noord B.V.", "company", "Hoogezand"),
        ("Veenstra Advocaten B.V.", "company", "Groningen"),
        ("Gemeente Noordenveld", "gov", "Roden"),
        ("Huisartsenpraktijk Kloosterveen", "company", "Assen"),
        ("Recreatiepark De Zeven Heuvelen B.V.", "company", "Emmen"),
        ("Marketingbureau Zeebries V.O.F.", "company", "Harlingen"),
        ("Duurzaam Wonen Coöperatie U.A.", "company", "Leek"),
        ("P. van Dam", "person", "Haren"),
        ("Wouters Strategy BV", "eu", "BE"),
        ("Hanse Logistik GmbH", "eu", "DE"),
        ("Brightwater Consulting Ltd", "noneu", "GB"),
    ),
    IDENTITY_ACADEMY: (
        ("Gemeente Groningen", "gov", "Groningen"),
        ("Gemeente Het Hogeland", "gov", "Winsum"),
        ("Stichting Jeugdzorg Noord", "foundation", "Groningen"),
        ("Zorggroep Ommelanden B.V.", "company", "Appingedam"),
        ("Agrarisch Collectief Noord U.A.", "company", "Zuidhorn"),
        ("Bouwgroep Dijkstra B.V.", "company", "Drachten"),
        ("Softwarehuis Bits & Bytes B.V.", "company", "Groningen"),
        ("Stichting Kinderopvang Stad", "foundation", "Groningen"),
        ("Hiemstra Verzekeringen B.V.", "company", "Leeuwarden"),
        ("Transportbedrijf Nijdam B.V.", "company", "Veendam"),
        ("Stichting Onderwijsgroep Noordwest", "foundation", "Leek"),
        ("Kapsalon Knip & Kleur V.O.F.", "company", "Roden"),
        ("A. Bos", "person", "Groningen"),
        ("L. Meijer", "person", "Assen"),
        ("S. Huizinga-Post", "person", "Zwolle"),
    ),
}

# The groups' own details (for the SnelStart administrations and their "Eigen" relatie).
_OWN_DETAILS = {
    ADMIN_STUDIO: ("Studio Noord B.V.", "Oude Boteringestraat", "44", "9712 GK", "Groningen"),
    ADMIN_ADVIES: ("Noord Advies B.V.", "Verlengde Hereweg", "161", "9722 AK", "Groningen"),
    ADMIN_ACADEMY: ("Noord Academy", "Verlengde Hereweg", "163", "9722 AK", "Groningen"),
}

_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")
_MONTHS_SHORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
# Dutch postcodes never use these letter pairs.
_POSTCODE_LETTERS = "ABCEGHJKLMNPRSTVWXZ"
_FORBIDDEN_PAIRS = {"SA", "SD", "SS"}



def be_vat_number(rng: random.Random) -> str:
    """BE + 10 digits: an enterprise number whose last two digits are 97 - (first eight mod 97)."""
    base = rng.randint(2_000_000, 9_999_999)  # with the leading 0: 0xxxxxxx
    return f"BE0{base:07d}{97 - base % 97:02d}"


def de_vat_number(rng: random.Random) -> str:
    """DE + 9 digits with the ISO 7064 MOD 11,10 check digit."""
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
    product = 10
    for d in digits:
        total = (d + product) % 10 or 10
        product = (2 * total) % 11
    check = (11 - product) % 10
    return "DE" + "".join(map(str, digits)) + str(check)


def _slug(name: str) -> str:
    words = [w for w in name.replace("&", " ").split()
             if w not in {"B.V.", "V.O.F.", "U.A.", "BV", "GmbH", "AG", "Ltd", "Stichting", "Zn."}]
    return "".join(ch for ch in "".join(words).lower() if ch.isalnum()).translate(str.maketrans("öé", "oe"))


# ------------------------------------------------------------------------------------ invoice catalogue


def _hours(lo: int, hi: int) -> tuple[Decimal, ...]:
    return tuple(Decimal(h) / 2 for h in range(lo * 2, hi * 2 + 1))


def _count(lo: int, hi: int) -> tuple[Decimal, ...]:
    return tuple(Decimal(n) for n in range(lo, hi + 1))


_ONE = (Decimal(1),)


@dataclass(frozen=True)
class _Item:
    text: str  # format() keys: maand, maandnaam, jaar, kw, n, product
    qty: tuple[Decimal, ...]
    prices: tuple[str, ...]
    kind: str  # hoog | laag | vrij


_CATALOGUE: dict[int, tuple[_Item, ...]] = {
    IDENTITY_STUDIO: (
        _Item("Ontwerp huisstijl", _hours(8, 40), ("95.00", "97.50", "105.00"), "hoog"),
        _Item("Webdevelopment sprint {n}", _hours(16, 60), ("112.50", "115.00"), "hoog"),
        _Item("Hosting {maand} {jaar}", _ONE, ("29.95", "49.50", "79.00"), "hoog"),
        _Item("Onderhoud website {kw} {jaar}", _hours(1, 6), ("95.00",), "hoog"),
        _Item("Fotografie reportage", _hours(2, 8), ("85.00", "90.00"), "hoog"),
        _Item("Drukwerkbegeleiding", _hours(1, 6), ("85.00",), "hoog"),
        _Item("Logo-ontwerp", _ONE, ("650.00", "895.00"), "hoog"),
        _Item("UX-onderzoek en wireframes", _hours(6, 24), ("105.00", "112.50"), "hoog"),
        _Item("Licentie {product} {jaar}", _count(1, 5), ("120.00", "249.00"), "hoog"),
        _Item("Social media campagne {maandnaam}", _hours(4, 16), ("85.00", "92.50"), "hoog"),
        _Item("Reiskosten (km)", _count(20, 180), ("0.23",), "hoog"),
        _Item("Fotoboek (gedrukt)", _count(10, 50), ("24.95", "19.50"), "laag"),
        _Item("Lunch tijdens workshop", _count(6, 20), ("12.50", "14.75"), "laag"),
    ),
    IDENTITY_ADVIES: (
        _Item("Strategiesessie", _hours(3, 8), ("135.00", "145.00"), "hoog"),
        _Item("Adviesuren {maandnaam} {jaar}", _hours(4, 40), ("125.00", "130.00"), "hoog"),
        _Item("Training Scrum (dagdeel)", _count(1, 4), ("950.00",), "hoog"),
        _Item("Interim projectleiding {maandnaam} {jaar}", _hours(16, 80), ("110.00", "117.50"), "hoog"),
        _Item("Workshop OKR", _ONE, ("1250.00",), "hoog"),
        _Item("Procesanalyse en rapportage", _hours(8, 24), ("125.00",), "hoog"),
        _Item("Reiskosten (km)", _count(20, 180), ("0.23",), "hoog"),
        _Item("Lunch tijdens heisessie", _count(6, 20), ("14.75", "16.50"), "laag"),
        _Item("Vakliteratuur (boek)", _count(1, 12), ("34.95", "29.50"), "laag"),
    ),
    IDENTITY_ACADEMY: (
        _Item("Training Scrum Master (2 dagen)", _count(1, 12), ("895.00",), "vrij"),
        _Item("Cursus Projectmatig Werken", _count(1, 10), ("1195.00",), "vrij"),
        _Item("Leergang Leiderschap, module {n}", _count(1, 8), ("650.00",), "vrij"),
        _Item("E-learning Agile basis", _count(1, 25), ("149.00",), "vrij"),
        _Item("Lesmateriaal (boek)", _count(1, 12), ("39.95",), "laag"),
        _Item("Incompany workshop op locatie", _ONE, ("1450.00",), "hoog"),
        _Item("Zaalhuur trainingsruimte", _count(1, 3), ("350.00",), "hoog"),
        _Item("Examen PSM I", _count(1, 6), ("175.00",), "hoog"),
    ),
}
_KIND_WEIGHTS = {
    IDENTITY_STUDIO: {"hoog": 88, "laag": 12},
    IDENTITY_ADVIES: {"hoog": 92, "laag": 8},
    IDENTITY_ACADEMY: {"vrij": 70, "laag": 15, "hoog": 15},
}
# Invoices per month: (lo, hi), uniform.
_PER_MONTH = {IDENTITY_STUDIO: (2, 5), IDENTITY_ADVIES: (2, 4), IDENTITY_ACADEMY: (1, 3)}
# Numbers: two-digit year, then a counter; the offset keeps numbers unique across the account.
_NUMBER_OFFSET = {IDENTITY_STUDIO: 0, IDENTITY_ADVIES: 5000, IDENTITY_ACADEMY: 8000}

# The deliberate misconfigurations: (identity, reason, how many invoices, the offending line).
_MISCONFIGURED: tuple[tuple[int, str, int, _Item, int, int], ...] = (
    # (identity, reason, count, item, vat_id, ledger_id)
    (IDENTITY_STUDIO, LEDGER_MISSING, 4,
     _Item("Licentie {product} {jaar}", _count(1, 5), ("120.00", "249.00"), "hoog"), VAT_21, 8200),
    (IDENTITY_ADVIES, VAT_UNMAPPED, 3,
     _Item("Opleiding Lean Six Sigma Green Belt (CRKBO)", _count(1, 6), ("1495.00",), "vrij"),
     VAT_VRIJGESTELD, 8020),
    (IDENTITY_ADVIES, LEDGER_VAT_MISMATCH, 4,
     _Item("Training Scrum (dagdeel)", _count(1, 4), ("950.00",), "hoog"), VAT_21, 8100),
    (IDENTITY_ADVIES, LEDGER_INACTIVE, 3,
     _Item("Nacalculatie meerwerk", _hours(2, 12), ("125.00",), "hoog"), VAT_21, 8300),
)


# ---------------------------------------------------------------------------------------- the builder


@dataclass
class _Customer:
    identity_id: int
    name: str
    kind: str
    place: str
    start: date
    end: date
    weight: int
    new: bool = False  # first invoiced after the old link's cutoff: no relatie in SnelStart yet
    company: GrippCompany | None = None

    @property
    def domestic(self) -> bool:
        return self.kind not in ("eu", "noneu")


@dataclass
class _LineSpec:
    qty: Decimal
    price: Decimal
    vat_id: int
    ledger_id: int
    text: str
    discount: Decimal = Decimal("0")


class _PaymentPlan(TypedDict):
    """How many of an identity's booked invoices get which payment story (`_Builder._payments`)."""

    snelstart_only: int
    partial: tuple[str, ...]
    unpaid: int
    gripp_only: int
    differs: tuple[Decimal, ...]


@dataclass
class _Draft:
    identity_id: int
    customer: _Customer
    date: date
    lines: list[_LineSpec]
    minutes: int  # createdon = date 09:00 + minutes
    status: str = "SENT"
    subject: str = ""
    misconfig: str | None = None
    credit_of: _Draft | None = None
    subcent: bool = False
    edited_after: timedelta | None = None
    clientreference: str = ""
    number: int = 0
    invoice: GrippInvoice | None = None

    @property
    def is_credit(self) -> bool:
        return self.credit_of is not None

    @property
    def made(self) -> GrippInvoice:
        """The Gripp invoice made of this draft (once it is made)."""
        if self.invoice is None:
            raise RuntimeError("the draft is not an invoice yet")
        return self.invoice


class _Builder:
    def __init__(self, today: date, seed: int) -> None:
        self.today = today
        self.rng = random.Random(seed)
        self.setup = demo_setup()
        self.world = World(today=today)
        self.customers: dict[int, list[_Customer]] = {}
        self.drafts: list[_Draft] = []
        self.conflicts: dict[int, _Customer] = {}
        self.totals: dict[int, Decimal] = {}  # invoice id -> Gripp totalinclvat
        self.bookings: dict[int, SnelStartSalesBooking] = {}  # invoice id -> booking
        self.relaties: dict[str, dict[int, SnelStartRelatie]] = {}  # admin -> relatiecode -> relatie
        self.credit_settlement: dict[int, str] = {}  # id(credit note draft) -> combined | refund | open | none
        self._payment_id = 500_000
        self._bank_seq = 0

    # ------------------------------------------------------------------------------------------ helpers

    def _business_day(self, first: date, last: date) -> date:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        weekdays = [d for d in days if d.weekday() < 5] or days
        return self.rng.choice(weekdays)

    def _line(self, identity_id: int, item: _Item, on: date, vat_id: int, ledger_id: int,
              discount_ok: bool = True) -> _LineSpec:
        rng = self.rng
        text = item.text.format(
            maand=_MONTHS_SHORT[on.month - 1], maandnaam=_MONTHS[on.month - 1], jaar=on.year,
            kw=f"Q{(on.month - 1) // 3 + 1}", n=rng.randint(1, 12),
            product=rng.choice(("CMS", "fontpakket", "iconenset", "beeldbank")),
        )
        discount = Decimal(rng.choice((5, 10))) if discount_ok and rng.random() < 0.08 else Decimal("0")
        return _LineSpec(rng.choice(item.qty), Decimal(rng.choice(item.prices)), vat_id, ledger_id, text, discount)

    def _vat_ledger(self, identity_id: int, kind: str, on: date) -> tuple[int, int]:
        if kind == "laag":
            return (VAT_6 if on < LOW_RATE_CHANGE else VAT_9), 8010
        if kind == "vrij":
            return VAT_VRIJGESTELD, 8100
        return VAT_21, 8000

    def _lines_for(self, identity_id: int, customer: _Customer, on: date, force_low: bool = False) -> list[
        _LineSpec
    ]:
        rng = self.rng
        catalogue = _CATALOGUE[identity_id]
        count = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
        if not customer.domestic:
            # Foreign customers only buy services: reverse charge inside the EU, 0 % outside it.
            items = rng.sample([i for i in catalogue if i.kind == "hoog" and "Reiskosten" not in i.text],
                               min(count, 3))
            vat_id, ledger_id = (VAT_VERLEGD, 8030) if customer.kind == "eu" else (VAT_0, 8020)
            return [self._line(identity_id, i, on, vat_id, ledger_id) for i in items]
        weights = _KIND_WEIGHTS[identity_id]
        chosen: list[_Item] = []
        for _ in range(count):
            kind = rng.choices(list(weights), weights=list(weights.values()))[0]
            options = [i for i in catalogue if i.kind == kind and i not in chosen]
            if options:
                chosen.append(rng.choice(options))
        if force_low and not any(i.kind == "laag" for i in chosen):
            chosen.append(next(i for i in catalogue if i.kind == "laag"))
        return [self._line(identity_id, i, on, *self._vat_ledger(identity_id, i.kind, on)) for i in chosen]

    def _subject(self, identity_id: int, lines: list[_LineSpec], on: date) -> str:
        month = f"{_MONTHS[on.month - 1]} {on.year}"
        options = {
            IDENTITY_STUDIO: (lines[0].text, f"Werkzaamheden {month}", f"Ontwerp en ontwikkeling {month}"),
            IDENTITY_ADVIES: (lines[0].text, f"Advieswerkzaamheden {month}", f"Begeleiding {month}"),
            IDENTITY_ACADEMY: (lines[0].text, f"Opleidingen {month}"),
        }[identity_id]
        return self.rng.choice(options)

    def _new_draft(self, customer: _Customer, on: date, *, status: str = "SENT", force_low: bool = False) -> _Draft:
        lines = self._lines_for(customer.identity_id, customer, on, force_low)
        draft = _Draft(customer.identity_id, customer, on, lines, self.rng.randint(0, 420), status=status)
        self.drafts.append(draft)
        return draft

    # -------------------------------------------------------------------------------------- customers

    def _customers(self) -> None:
        rng = self.rng
        new_counts = {IDENTITY_STUDIO: 8, IDENTITY_ADVIES: 5, IDENTITY_ACADEMY: 0}
        for identity_id, rows in _CUSTOMERS.items():
            first = FIRST_INVOICE_MONTH[identity_id]
            late_start = OLD_LINK_CUTOFF - timedelta(days=150)
            customers: list[_Customer] = []
            for name, kind, place in rows:
                if rng.random() < 0.5 or (identity_id == IDENTITY_ACADEMY and rng.random() < 0.3):
                    start = first  # already a customer when the identity started invoicing from Gripp
                else:
                    start = first + timedelta(days=rng.randint(0, max(1, (late_start - first).days)))
                end = self.today
                if kind in ("company", "person") and rng.random() < 0.2:
                    end = min(self.today, start + timedelta(days=rng.randint(400, 1500)))
                weight = rng.choice((1, 1, 1, 2, 2, 3, 5)) if kind != "person" else 1
                customers.append(_Customer(identity_id, name, kind, place, start, end, weight))
            # ~20 % are new since the cutoff: the link will create their relaties.
            pool = [c for c in customers if c.kind in ("company", "foundation")]
            for c in rng.sample(pool, new_counts[identity_id]):
                c.new = True
                room = max(4, (self.today - OLD_LINK_CUTOFF).days - 40)
                c.start = OLD_LINK_CUTOFF + timedelta(days=rng.randint(3, room))
                c.end = self.today
            if new_counts[identity_id]:
                self.conflicts[identity_id] = rng.choice([c for c in customers if c.new])
            self.customers[identity_id] = customers

        # Gripp numbers customers in the order they were created, across the whole account.
        everyone = [c for cs in self.customers.values() for c in cs]
        created = {id(c): datetime.combine(c.start - timedelta(days=rng.randint(1, 30)), time(10, 0))
                   + timedelta(minutes=rng.randint(0, 400)) for c in everyone}
        everyone.sort(key=lambda c: (created[id(c)], c.identity_id, c.name))
        for index, c in enumerate(everyone):
            c.company = self._company(c, 101 + index, 10001 + index, created[id(c)])
            self.world.gripp.companies[c.company.id] = c.company

    def _company(self, c: _Customer, company_id: int, number: int, createdon: datetime) -> GrippCompany:
        rng = self.rng
        slug = _slug(c.name)
        company = GrippCompany(id=company_id, customernumber=number, companyname=c.name, identity_id=c.identity_id,
                               createdon=createdon)
        if c.kind in ("eu", "noneu"):
            street, streetnumber, zipcode, city = _FOREIGN_ADDRESSES[c.name]
            company.visitingaddress_country = c.place
            company.vatnumber = {
                "BE": be_vat_number, "DE": de_vat_number,
            }.get(c.place, lambda r: "")(rng)
            if c.place == "CH":
                company.vatnumber = f"CHE-{rng.randint(100, 999)}.{rng.randint(100, 999)}.{rng.randint(100, 999)} MWST"
            elif c.place == "GB":
                company.vatnumber = f"GB{rng.randint(100_000_000, 999_999_999)}"
            company.vatshifted = c.kind == "eu"
            company.phone = {"BE": "+32 9 ", "DE": "+49 421 ", "CH": "+41 44 ", "GB": "+44 20 "}[c.place] + str(
                rng.randint(1_000_000, 9_999_999))
            company.email = f"info@{slug}.{c.place.lower() if c.place != 'GB' else 'co.uk'}"
            company.invoiceemail = company.email.replace("info@", "accounts@")
            company.termofpayment = 30
        else:
            (lo, hi), area, streets = _CITIES[c.place]
            street = rng.choice(streets)
            streetnumber = str(rng.randint(1, 180)) + rng.choice(("", "", "", "", "a", "-2"))
            while True:
                letters = rng.choice(_POSTCODE_LETTERS) + rng.choice(_POSTCODE_LETTERS)
                if letters not in _FORBIDDEN_PAIRS:
                    break
            zipcode, city = f"{rng.randint(lo, hi)} {letters}", c.place
            digits = 10 - len(area)  # Dutch numbers have ten digits including the area code
            company.phone = f"{area}-{rng.randint(10 ** (digits - 1) * 2, 10 ** digits - 1)}"
            if c.kind == "person":
                company.relationtype = "PRIVATEPERSON"
                company.email = f"{slug}@{rng.choice(('ziggo.nl', 'kpnmail.nl', 'gmail.com', 'hetnet.nl'))}"
                company.invoiceemail = company.email
                company.termofpayment = 14
            else:
                company.vatnumber = nl_vat_number(rng)
                company.cocnumber = f"{rng.randint(1_000_000, 99_999_999):08d}"
                company.email = f"info@{slug}.nl"
                prefix = "crediteurenadministratie" if c.kind == "gov" else rng.choice(
                    ("facturen", "administratie", "boekhouding", "info"))
                company.invoiceemail = f"{prefix}@{slug}.nl"
                company.termofpayment = 30 if c.kind in ("gov", "foundation") else rng.choice((14, 30, 30))
        company.visitingaddress_street = street
        company.visitingaddress_streetnumber = streetnumber
        company.visitingaddress_zipcode = zipcode
        company.visitingaddress_city = city
        if rng.random() < 0.15:
            company.updatedon = createdon + timedelta(days=rng.randint(30, 900), minutes=rng.randint(0, 500))
            if company.updatedon.date() > self.today:
                company.updatedon = None
        return company

    # --------------------------------------------------------------------------------------- invoices

    def _invoices(self) -> None:
        rng = self.rng
        for identity_id, customers in self.customers.items():
            month = FIRST_INVOICE_MONTH[identity_id]
            while month <= self.today:
                nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                last = min(nxt - timedelta(days=1), self.today)
                lo, hi = _PER_MONTH[identity_id]
                for _ in range(rng.randint(lo, hi)):
                    on = self._business_day(month, last)
                    active = [c for c in customers if c.start <= on <= c.end]
                    if not active:
                        continue
                    customer = rng.choices(active, weights=[c.weight for c in active])[0]
                    # Identity 1's 2018 history must show the old 6 % rate: push low-rate lines there.
                    force_low = identity_id == IDENTITY_STUDIO and on < LOW_RATE_CHANGE and rng.random() < 0.35
                    self._new_draft(customer, on, force_low=force_low and customer.domestic)
                month = nxt
            # Every customer has at least one invoice (the foreign ones carry the 0 % and reverse-charge cases).
            invoiced = {id(d.customer) for d in self.drafts}
            for c in customers:
                if id(c) not in invoiced:
                    last = min(c.end, self.today)
                    self._new_draft(c, self._business_day(max(c.start, last - timedelta(days=120)), last))

        studio_2018 = [d for d in self.drafts if d.identity_id == IDENTITY_STUDIO and d.date < LOW_RATE_CHANGE]
        if not any(line.vat_id == VAT_6 for d in studio_2018 for line in d.lines):
            target = next(d for d in studio_2018 if d.customer.domestic)
            target.lines.append(self._line(IDENTITY_STUDIO, _CATALOGUE[IDENTITY_STUDIO][-1], target.date, VAT_6, 8010))

        self._misconfigured()
        self._sub_cent()
        self._credit_notes()
        self._concepts()
        for d in self.drafts:
            if not d.subject:
                d.subject = self._subject(d.identity_id, d.lines, d.date)
            if d.status == "SENT" and not d.is_credit and rng.random() < 0.07:
                d.edited_after = timedelta(days=rng.randint(0, 20), hours=rng.randint(1, 6))
            if d.customer.kind == "gov" and rng.random() < 0.6:
                d.clientreference = f"PO-{d.date.year}-{rng.randint(100, 9999):04d}"
            elif d.customer.kind == "company" and rng.random() < 0.1:
                d.clientreference = f"Ref. {rng.choice(('offerte', 'opdracht'))} {rng.randint(1000, 9999)}"
        self._number_and_create()

    def _eligible(self, identity_id: int, first: date, last: date) -> list[_Draft]:
        return [d for d in self.drafts
                if d.identity_id == identity_id and first <= d.date <= last and d.status == "SENT"
                and d.customer.domestic and d.misconfig is None and not d.is_credit and not d.subcent
                and d.customer is not self.conflicts.get(identity_id)]

    def _misconfigured(self) -> None:
        """A few invoices after the cutoff each carry exactly one deliberate problem."""
        rng = self.rng
        for identity_id, reason, count, item, vat_id, ledger_id in _MISCONFIGURED:
            pool = [c for c in self.customers[identity_id]
                    if c.kind in ("company", "foundation", "gov") and c is not self.conflicts.get(identity_id)]
            for _ in range(count):
                on = self._business_day(OLD_LINK_CUTOFF + timedelta(days=1), self.today - timedelta(days=3))
                active = [c for c in pool if c.start <= on <= c.end] or pool
                customer = rng.choice(active)
                draft = _Draft(identity_id, customer, on, [], rng.randint(0, 420), misconfig=reason)
                if rng.random() < 0.6:  # often next to an ordinary, correct line
                    ordinary = [i for i in _CATALOGUE[identity_id] if i.kind == "hoog" and i.text != item.text]
                    draft.lines.append(self._line(identity_id, rng.choice(ordinary), on, VAT_21, 8000))
                draft.lines.append(self._line(identity_id, item, on, vat_id, ledger_id, discount_ok=False))
                self.drafts.append(draft)

    def _sub_cent(self) -> None:
        """Two invoices with prices below the cent (Gripp rounds the line to cents): one booked, one to book."""
        specs = (
            (date(2025, 1, 1), OLD_LINK_CUTOFF - timedelta(days=20), "Stockfoto's (per stuk)", "3", "33.333"),
            (OLD_LINK_CUTOFF + timedelta(days=1), self.today - timedelta(days=5), "Iconen op maat (per stuk)", "7",
             "14.285"),
        )
        for first, last, text, qty, price in specs:
            pool = self._eligible(IDENTITY_STUDIO, first, last)
            if not pool:
                continue
            draft = self.rng.choice(pool)
            draft.subcent = True
            draft.lines.append(_LineSpec(Decimal(qty), Decimal(price), VAT_21, 8000, text))

    def _credit_notes(self) -> None:
        """Credit notes copy some lines of an earlier invoice of the same customer with negative prices."""
        rng = self.rng
        plan = (
            # (identity, booked by the old link?, settlement) settlement: combined | refund | open | none
            (IDENTITY_STUDIO, True, "combined"), (IDENTITY_STUDIO, True, "refund"), (IDENTITY_STUDIO, True, "open"),
            (IDENTITY_STUDIO, False, "none"),
            (IDENTITY_ADVIES, True, "combined"), (IDENTITY_ADVIES, True, "refund"), (IDENTITY_ADVIES, False, "none"),
            (IDENTITY_ACADEMY, False, "none"),
        )
        used: set[int] = set()
        for identity_id, booked, settlement in plan:
            if booked:
                first = FIRST_INVOICE_MONTH[identity_id] + timedelta(days=30)
                last = OLD_LINK_CUTOFF - timedelta(days=35)
            elif identity_id == IDENTITY_ACADEMY:
                first, last = FIRST_INVOICE_MONTH[identity_id], self.today - timedelta(days=35)
            else:
                first, last = OLD_LINK_CUTOFF + timedelta(days=1), self.today - timedelta(days=12)
            pool = [d for d in self._eligible(identity_id, first, last) if id(d) not in used]
            if settlement == "combined":
                pool = [d for d in pool if len(d.lines) >= 2] or pool
            original = rng.choice(pool)
            used.add(id(original))
            if settlement == "combined" and len(original.lines) >= 2:
                credited = rng.sample(original.lines, rng.randint(1, len(original.lines) - 1))
            else:
                credited = rng.sample(original.lines, rng.randint(1, len(original.lines)))
            latest = OLD_LINK_CUTOFF if booked else self.today
            on = min(latest, original.date + timedelta(days=rng.randint(4, 30)))
            if on.weekday() >= 5:
                on -= timedelta(days=on.weekday() - 4)
            lines = [_LineSpec(s.qty, -s.price, s.vat_id, s.ledger_id, s.text, s.discount)
                     for s in sorted(credited, key=original.lines.index)]
            note = _Draft(identity_id, original.customer, on, lines, rng.randint(0, 420), credit_of=original)
            self.drafts.append(note)
            self.credit_settlement[id(note)] = settlement

    def _concepts(self) -> None:
        rng = self.rng
        for identity_id, count in ((IDENTITY_STUDIO, 2), (IDENTITY_ADVIES, 1), (IDENTITY_ACADEMY, 1)):
            for _ in range(count):
                on = self._business_day(self.today - timedelta(days=8), self.today)
                pool = [c for c in self.customers[identity_id] if c.domestic and c.start <= on <= c.end]
                self._new_draft(rng.choice(pool), on, status="CONCEPT")

    def _number_and_create(self) -> None:
        """Number per identity in date order (a year prefix and a counter), then create the Gripp rows."""
        rng = self.rng
        for identity_id in self.customers:
            counters: dict[int, int] = {}
            mine = [d for d in self.drafts if d.identity_id == identity_id]
            # Concepts get the next numbers once everything sent that year is numbered.
            for d in sorted(mine, key=lambda d: (d.status != "SENT", d.date, d.minutes)):
                year = d.date.year
                counters[year] = counters.get(year, 0) + 1
                d.number = (year % 100) * 10_000 + _NUMBER_OFFSET[identity_id] + counters[year]
        for d in self.drafts:
            if d.credit_of is not None:
                d.subject = f"Creditnota op factuur {d.credit_of.number}"

        gripp = self.world.gripp
        line_id = 100_000
        ordered = sorted(self.drafts, key=lambda d: (d.date, d.minutes, d.identity_id, d.number))
        for index, d in enumerate(ordered):
            assert d.customer.company is not None
            lines = []
            if index % HEADING_EVERY == 0:  # a group heading above the lines, as real Gripp invoices have
                line_id += 1
                lines.append(GrippInvoiceLine(
                    id=line_id, amount=Decimal("1"), sellingprice=Decimal("0"), vat_id=d.lines[0].vat_id,
                    ledger_id=None, description=d.subject or "Werkzaamheden", ordering=0, rowtype="GROUP"))
            for order, spec in enumerate(d.lines, start=len(lines)):
                line_id += 1
                lines.append(GrippInvoiceLine(
                    id=line_id, amount=spec.qty, sellingprice=spec.price, vat_id=spec.vat_id,
                    ledger_id=spec.ledger_id, description=spec.text, discount=spec.discount, ordering=order,
                    buyingprice=Decimal("0"),
                ))
            createdon = datetime.combine(d.date, time(9, 0)) + timedelta(minutes=d.minutes)
            updatedon = None
            if d.edited_after is not None:
                updatedon = min(createdon + d.edited_after, datetime.combine(self.today, time(8, 30)))
            invoice = GrippInvoice(
                id=1001 + index, number=d.number, identity_id=d.identity_id,
                company_id=d.customer.company.id, date=d.date,
                expirydate=d.date + timedelta(days=d.customer.company.termofpayment),
                status=d.status, subject=d.subject, lines=lines, createdon=createdon, updatedon=updatedon,
                clientreference=d.clientreference,
                paymentmethod="AUTOMATICTRANSFER" if d.customer.kind == "person" and rng.random() < 0.3
                else "MANUALTRANSFER",
            )
            d.invoice = invoice
            gripp.invoices[invoice.id] = invoice
            self.totals[invoice.id] = _total(gripp, invoice)

    # -------------------------------------------------------------------------------------- SnelStart

    def _snelstart(self) -> None:
        tenant = self.world.snelstart
        rng = self.rng
        extras: dict[str, list[tuple[int, str, str, list[str], str, bool]]] = {
            # Studio Noord deliberately lacks 8200 "Omzet licenties".
            ADMIN_STUDIO: [],
            ADMIN_ADVIES: [
                # Exempt training: only Geen — identity 2 books 21 % on it (BOE-0082 in SnelStart).
                (8100, "Omzet cursussen", "VerkopenBtwVrij", ["Geen"], "WinstEnVerlies", False),
                (8300, "Omzet oud", "VerkopenOmzetHoog", ["Hoog"], "WinstEnVerlies", True),
            ],
            ADMIN_ACADEMY: [(8100, "Omzet cursussen", "VerkopenBtwVrij", ["Geen"], "WinstEnVerlies", False)],
        }
        for identity_id, admin_id in ADMINISTRATION_OF.items():
            naam, street, number, postcode, city = _OWN_DETAILS[admin_id]
            admin = SnelStartAdministration(
                id=admin_id, naam=ADMINISTRATION_NAMES[admin_id], bedrijfsnaam=naam,
                btw_nummer=nl_vat_number(rng), kvk_nummer=f"{rng.randint(10_000_000, 99_999_999)}",
                vat_rates=snelstart_vat_history(), ledgers=standard_chart(admin_id, extras[admin_id]),
            )
            tenant.administrations[admin_id] = admin
            codes: dict[int, SnelStartRelatie] = {}
            self.relaties[admin_id] = codes
            own = SnelStartRelatie(id=guid(admin_id, "relatie", "eigen"), relatiecode=1, naam=naam,
                                   relatiesoort=["Eigen"], btw_nummer=admin.btw_nummer, kvk_nummer=admin.kvk_nummer,
                                   straat=f"{street} {number}", postcode=postcode, plaats=city,
                                   modified_on=datetime(2018, 6, 1, 9, 0))
            admin.relaties[own.id] = own
            for code, supplier in enumerate(("Kantoorvakhandel Noord B.V.", "Datacenter Groningen B.V.",
                                             "Koffieservice Van Wijk V.O.F."), start=50001):
                rel = SnelStartRelatie(id=guid(admin_id, "relatie", code), relatiecode=code, naam=supplier,
                                       relatiesoort=["Leverancier"], btw_nummer=nl_vat_number(rng),
                                       email=f"facturen@{_slug(supplier)}.nl", modified_on=datetime(2019, 2, 1, 9, 0))
                admin.relaties[rel.id] = rel
                codes[code] = rel
            for c in self.customers[identity_id]:
                assert c.company is not None
                if c.new and c is not self.conflicts.get(identity_id):
                    continue  # the link creates these
                company = c.company
                naam_rel = company.companyname
                if c is self.conflicts.get(identity_id):
                    # A former customer once had this relatiecode in SnelStart: same number, other name.
                    naam_rel = {IDENTITY_STUDIO: "Bakkerij De Korenschoof V.O.F.",
                                IDENTITY_ADVIES: "Adviesgroep Hunzedal B.V."}[identity_id]
                rel = SnelStartRelatie(
                    id=guid(admin_id, "relatie", company.customernumber), relatiecode=company.customernumber,
                    naam=naam_rel, relatiesoort=["Klant"], email=company.invoiceemail,
                    btw_nummer="" if c is self.conflicts.get(identity_id) else company.vatnumber,
                    kvk_nummer="" if c is self.conflicts.get(identity_id) else company.cocnumber,
                    straat=f"{company.visitingaddress_street} {company.visitingaddress_streetnumber}",
                    postcode=company.visitingaddress_zipcode, plaats=company.visitingaddress_city,
                    modified_on=company.createdon + timedelta(days=1),
                )
                admin.relaties[rel.id] = rel
                codes[rel.relatiecode] = rel

        for link in self.setup.links:
            tenant.keys[link.koppelsleutel] = SnelStartKey(link.koppelsleutel, link.administration_id,
                                                           scopes=list(ALL_SCOPES))

        # The old link's bookings.
        gripp = self.world.gripp
        for link in self.setup.links:
            admin = tenant.administrations[link.administration_id]
            mappings = self.setup.mappings_for(link.identity_id)
            for d in self.drafts:
                if (d.identity_id == link.identity_id and d.status == "SENT"
                        and link.start_date <= d.date <= OLD_LINK_CUTOFF):
                    assert d.invoice is not None and d.customer.company is not None
                    assert d.misconfig is None
                    klant = self.relaties[admin.id][d.customer.company.customernumber]
                    booking = build_booking(gripp, d.invoice, admin, mappings, klant.id,
                                            total=self.totals[d.invoice.id])
                    admin.bookings[booking.id] = booking
                    self.bookings[d.invoice.id] = booking

    # --------------------------------------------------------------------------------------- payments

    def _bank(self, admin_id: str, on: date, text: str, regels: list[SnelStartBankLine]) -> SnelStartBankBooking:
        self._bank_seq += 1
        admin = self.world.snelstart.administrations[admin_id]
        for regel in regels:
            regel.omschrijving = regel.omschrijving or f"Factuur {admin.bookings[regel.boeking_id].factuurnummer}"
        net = sum((r.credit - r.debet for r in regels), ZERO)
        bank = SnelStartBankBooking(
            id=guid(admin_id, "bankboeking", self._bank_seq), datum=on, omschrijving=text[:250],
            bedrag_ontvangen=cents(max(net, ZERO)), bedrag_uitgegeven=cents(max(-net, ZERO)), verkoop_regels=regels,
            modified_on=datetime.combine(on, time(16, 0)) + timedelta(minutes=self.rng.randint(0, 90)),
        )
        admin.bank_bookings[bank.id] = bank
        return bank

    def _gripp_payment(self, invoice: GrippInvoice, on: date, amount: Decimal, notes: str) -> None:
        self._payment_id += 1
        self.world.gripp.payments[self._payment_id] = GrippPayment(
            id=self._payment_id, invoice_id=invoice.id, date=on, amount=amount, notes=notes,
            # The old link registered payments in its nightly run.
            createdon=datetime.combine(on + timedelta(days=1), time(2, 30))
            + timedelta(minutes=self.rng.randint(0, 40)),
        )

    def _pay_date(self, on: date, lo: int = 5, hi: int = 40) -> date:
        return min(self.today, on + timedelta(days=self.rng.randint(lo, hi)))

    def _payments(self) -> None:
        """Payments on the old link's bookings: most in sync, a known few not (see the module docstring)."""
        rng = self.rng
        plans: dict[int, _PaymentPlan] = {
            IDENTITY_STUDIO: {"snelstart_only": 9, "partial": ("single", "two", "two_first_in_gripp", "in_sync"),
                              "unpaid": 6, "gripp_only": 1, "differs": (Decimal("10.00"),)},
            IDENTITY_ADVIES: {"snelstart_only": 6, "partial": ("single", "gripp_smaller"),
                              "unpaid": 4, "gripp_only": 1, "differs": (Decimal("-10.00"),)},
        }
        for link in self.setup.links:
            identity_id, admin_id = link.identity_id, link.administration_id
            plan = plans[identity_id]
            booked = [d for d in self.drafts if d.invoice is not None and d.invoice.id in self.bookings
                      and d.identity_id == identity_id]
            originals = {id(d.credit_of) for d in booked if d.credit_of is not None}
            free = [d for d in booked if not d.is_credit and id(d) not in originals]
            taken: set[int] = set()

            def pick(first: date, count: int, minimum: Decimal = ZERO, pool: list[_Draft] = free,
                     taken: set[int] = taken) -> list[_Draft]:
                # Prefer recent invoices; widen to older ones if a window is too thin for this seed.
                for lo in (first, first - timedelta(days=365), date(1900, 1, 1)):
                    cands = [d for d in pool if id(d) not in taken and d.date >= lo
                             and self.totals[d.made.id] >= minimum]
                    if len(cands) >= count:
                        chosen = rng.sample(cands, count)
                        taken.update(id(d) for d in chosen)
                        return sorted(chosen, key=lambda d: d.date)
                raise RuntimeError("not enough invoices to place the payment scenario")

            ss_only = pick(date(2026, 1, 1), plan["snelstart_only"])
            partial = pick(date(2025, 10, 1), len(plan["partial"]), Decimal("200"))
            unpaid = pick(date(2025, 6, 1), plan["unpaid"])
            gripp_only = pick(date(2025, 1, 1), plan["gripp_only"])
            differs = pick(date(2025, 1, 1), len(plan["differs"]))

            for d in ss_only:  # paid in SnelStart after the old link stopped bringing payments back
                inv = d.invoice
                assert inv is not None
                self._bank(admin_id, self._pay_date(inv.date), f"{d.customer.name} factuur {inv.number}",
                           [SnelStartBankLine(self.bookings[inv.id].id, self.totals[inv.id])])
            for d, how in zip(partial, plan["partial"], strict=True):
                self._partial(admin_id, d, how)
            for d in gripp_only:  # e.g. paid cash at the office and registered by hand in Gripp only
                inv = d.invoice
                assert inv is not None
                self._gripp_payment(inv, self._pay_date(inv.date), self.totals[inv.id], "Contant voldaan")
            for d, delta in zip(differs, plan["differs"], strict=True):
                # The accountant changed the booking's amount (still balanced); both sides unpaid.
                booking = self.bookings[d.made.id]
                booking.factuurbedrag = cents(booking.factuurbedrag + delta)
                booking.boekingsregels[0].bedrag = cents(booking.boekingsregels[0].bedrag + delta)
                booking.modified_on = datetime.combine(d.date + timedelta(days=45), time(14, 12))
            del unpaid  # unpaid and overdue: nothing on either side (dunning candidates)

            for d in booked:
                if d.is_credit:
                    self._credit_note_payment(admin_id, d)
            # Everything else was paid in full and the old link registered it in Gripp: in sync. Originals of
            # "combined" credit notes are settled together with their note (above).
            in_sync = [d for d in free if id(d) not in taken] + [
                n.credit_of for n in booked
                if n.credit_of is not None and self.credit_settlement[id(n)] != "combined"
            ]
            for d in sorted(in_sync, key=lambda d: d.date):
                inv = d.invoice
                assert inv is not None
                on = self._pay_date(inv.date)
                self._bank(admin_id, on, f"{d.customer.name} factuur {inv.number}",
                           [SnelStartBankLine(self.bookings[inv.id].id, self.totals[inv.id])])
                self._gripp_payment(inv, on, self.totals[inv.id], "Betaling via SnelStart")

            self._manual_booking(identity_id, admin_id)

    def _partial(self, admin_id: str, d: _Draft, how: str) -> None:
        inv = d.invoice
        assert inv is not None
        total = self.totals[inv.id]
        booking_id = self.bookings[inv.id].id

        def part(fraction: str) -> Decimal:
            return max(Decimal("1.00"), (total * Decimal(fraction)).quantize(Decimal("1"), rounding=ROUND_DOWN))

        name = d.customer.name
        if how in ("single", "in_sync", "gripp_smaller"):
            amount = part("0.5" if how != "gripp_smaller" else "0.6")
            on = self._pay_date(inv.date, 10, 30)
            self._bank(admin_id, on, f"{name} deelbetaling factuur {inv.number}",
                       [SnelStartBankLine(booking_id, amount)])
            if how == "in_sync":
                self._gripp_payment(inv, on, amount, "Deelbetaling via SnelStart")
            elif how == "gripp_smaller":
                # Someone registered an earlier promise in Gripp; only the difference must come back.
                self._gripp_payment(inv, on, part("0.25"), "Deelbetaling (handmatig)")
            return
        first, second = part("0.4"), part("0.25")
        d1 = self._pay_date(inv.date, 10, 25)
        d2 = min(self.today, d1 + timedelta(days=self.rng.randint(20, 45)))
        self._bank(admin_id, d1, f"{name} 1e termijn factuur {inv.number}", [SnelStartBankLine(booking_id, first)])
        self._bank(admin_id, d2, f"{name} 2e termijn factuur {inv.number}", [SnelStartBankLine(booking_id, second)])
        if how == "two_first_in_gripp":
            self._gripp_payment(inv, d1, first, "Deelbetaling via SnelStart")

    def _credit_note_payment(self, admin_id: str, note: _Draft) -> None:
        settlement = self.credit_settlement[id(note)]
        inv = note.invoice
        original = note.credit_of
        assert inv is not None and original is not None and original.invoice is not None
        amount = -self.totals[inv.id]  # positive: what the customer gets back
        if settlement == "combined":
            # The customer paid the invoice minus the credit note in one transfer.
            orig_inv = original.invoice
            on = self._pay_date(inv.date, 3, 20)
            self._bank(admin_id, on, f"{note.customer.name} factuur {orig_inv.number} -/- creditnota {inv.number}", [
                SnelStartBankLine(self.bookings[orig_inv.id].id, self.totals[orig_inv.id]),
                SnelStartBankLine(self.bookings[inv.id].id, ZERO, debet=amount),
            ])
            self._gripp_payment(orig_inv, on, self.totals[orig_inv.id], "Betaling via SnelStart")
            self._gripp_payment(inv, on, -amount, "Verrekend met factuur " + str(orig_inv.number))
        elif settlement == "refund":
            on = self._pay_date(inv.date, 3, 14)
            self._bank(admin_id, on, f"Terugbetaling creditnota {inv.number} {note.customer.name}",
                       [SnelStartBankLine(self.bookings[inv.id].id, ZERO, debet=amount)])
            self._gripp_payment(inv, on, -amount, "Terugbetaald")

    def _manual_booking(self, identity_id: int, admin_id: str) -> None:
        """A booking someone made by hand in SnelStart: its factuurnummer is not in Gripp."""
        admin = self.world.snelstart.administrations[admin_id]
        number, on, text, net = {
            IDENTITY_STUDIO: ("M-2025-001", date(2025, 3, 14), "Doorbelasting drukkosten", Decimal("250.00")),
            IDENTITY_ADVIES: ("M-2025-002", date(2025, 9, 22), "Doorbelasting zaalhuur", Decimal("480.00")),
        }[identity_id]
        conflict = self.conflicts.get(identity_id)
        conflict_code = conflict.company.customernumber if conflict and conflict.company else None
        klant = next(r for code, r in sorted(self.relaties[admin_id].items())
                     if "Klant" in r.relatiesoort and code != conflict_code)
        hoog = next(led for led in admin.ledgers.values() if led.nummer == 8000)
        vat = cents(net * Decimal("0.21"))
        booking = SnelStartSalesBooking(
            id=guid(admin_id, "verkoopboeking", number), factuurnummer=number, factuurdatum=on, klant_id=klant.id,
            factuurbedrag=net + vat, betalingstermijn=30,
            boekingsregels=[SnelStartBookingLine(hoog.id, net, "Hoog", text)], btw=[("VerkopenHoog", vat)],
            omschrijving=text, boekstuk=number, verkoopfactuur_id=guid(admin_id, "verkoopfactuur", number),
            modified_on=datetime.combine(on, time(11, 5)),
        )
        admin.bookings[booking.id] = booking
        if identity_id == IDENTITY_STUDIO:  # one of them has been paid, too
            self._bank(admin_id, on + timedelta(days=21), f"{klant.naam} {number}",
                       [SnelStartBankLine(booking.id, booking.factuurbedrag)])

    def _kostenplaatsen(self) -> None:
        """Kostenplaatsen and projects on Studio Noord's lines, SnelStart's side of them, and the one invoice the
        grootboek that demands a kostenplaats blocks. Chosen by text and date, never by the random generator, so the
        rest of the world is exactly what it was without them."""
        gripp = self.world.gripp
        gripp.costheadings = {i: GrippCostheading(i, name, number) for i, (name, number, _) in
                              GRIPP_COSTHEADINGS.items()}
        gripp.projects = {i: GrippProject(i, name, number) for i, (name, number, _) in GRIPP_PROJECTS.items()}
        # The invoice still to book whose low-rate line has none: the last plain one with such a line, of a customer
        # SnelStart knows (so no story of a relatie to create hangs on it).
        paid = {p.invoice_id for p in gripp.payments.values()}
        candidates = [d for d in self._eligible(IDENTITY_STUDIO, OLD_LINK_CUTOFF + timedelta(days=1), self.today)
                      if d.invoice is not None and d.invoice.id not in paid and not d.customer.new
                      and any(line.ledger_id == KOSTENPLAATS_LEDGER for line in d.invoice.money_lines)]
        without = max(candidates, key=lambda d: (d.date, d.number)).made.id
        for invoice in gripp.invoices.values():
            if invoice.identity_id != IDENTITY_STUDIO:
                continue
            for line in invoice.money_lines:
                if invoice.id != without:
                    line.costheading_id = _carrier(GRIPP_COSTHEADINGS, line.description)
                if invoice.date > OLD_LINK_CUTOFF:
                    line.project_id = _carrier(GRIPP_PROJECTS, line.description)
        admin = self.world.snelstart.administrations[ADMIN_STUDIO]
        admin.kostenplaatsen = {
            guid(ADMIN_STUDIO, "kostenplaats", number): SnelStartKostenplaats(
                guid(ADMIN_STUDIO, "kostenplaats", number), number, name)
            for number, name in STUDIO_KOSTENPLAATSEN.items()}
        ledger = next(led for led in admin.ledgers.values() if led.nummer == KOSTENPLAATS_LEDGER)
        ledger.kostenplaats_verplicht = True
        # The old link's bookings on that grootboek had to carry one: a booking line per kostenplaats.
        for invoice_id, booking in self.bookings.items():
            invoice = gripp.invoices[invoice_id]
            if invoice.identity_id == IDENTITY_STUDIO:
                booking.boekingsregels = [part for line in booking.boekingsregels
                                          for part in _per_kostenplaats(line, ledger.id, invoice)]

    def build(self) -> World:
        gripp = self.world.gripp
        gripp.api_tokens = [SANDBOX_GRIPP_TOKEN]
        gripp.identities = dict(IDENTITY_NAMES)
        gripp.vat_rates = gripp_vat_rates()
        gripp.ledgers = gripp_ledgers()
        self.world.snelstart.subscription_keys = [SANDBOX_SUBSCRIPTION_KEY]
        self._customers()
        self._invoices()
        self._snelstart()
        self._payments()
        self._kostenplaatsen()
        return self.world


def _carrier(table: Mapping[int, tuple[str, object, tuple[str, ...]]], text: str) -> int | None:
    """The id in `table` whose item texts start the line's text."""
    return next((i for i, (_, _, texts) in table.items() if text.startswith(texts)), None) if text else None


def _per_kostenplaats(line: SnelStartBookingLine, ledger_id: str, invoice: GrippInvoice) -> list[SnelStartBookingLine]:
    """A booking line on the grootboek that demands a kostenplaats, split into one per kostenplaats of the Gripp lines
    it sums (their nets add up to it exactly); any other line as it is."""
    if line.grootboek_id != ledger_id:
        return [line]
    parts: dict[int | None, tuple[Decimal, list[str]]] = {}
    for gripp_line in invoice.money_lines:
        if gripp_line.ledger_id != KOSTENPLAATS_LEDGER:
            continue
        amount, texts = parts.get(gripp_line.costheading_id, (ZERO, []))
        parts[gripp_line.costheading_id] = (amount + gripp_line.net, [*texts, gripp_line.description])
    if sum((amount for amount, _ in parts.values()), ZERO) != line.bedrag:
        return [line]  # not this grootboek's lines alone (never in the demo): left as the old link booked it
    return [SnelStartBookingLine(line.grootboek_id, cents(amount), line.btw_soort, "; ".join(texts)[:250],
                                 kostenplaats_id=guid(ADMIN_STUDIO, "kostenplaats",
                                                      int(GRIPP_COSTHEADINGS[costheading][1]))
                                 if costheading is not None else None)
            for costheading, (amount, texts) in parts.items() if amount != 0]


def build_world(*, today: date = SANDBOX_TODAY, seed: int = DEFAULT_SEED) -> World:
    """The demo world, every account of `demo_accounts()` in it: same `today` and `seed`, same world."""
    world = _Builder(today, seed).build()
    add_other_accounts(world, seed)
    return world


def demo_accounts() -> list[SandboxAccount]:
    """The sandbox's Gripp customers, in the world's order: Studio Noord (healthy; `world.gripp`), Hofstra (its
    koppelsleutel was revoked in SnelStart) and Kleimeer (new: nothing linked yet)."""
    return [SandboxAccount(FIRST_ACCOUNT, FIRST_ACCOUNT_NAME, SANDBOX_GRIPP_TOKEN, demo_setup()), *other_accounts()]


def load_or_create(path: Path) -> World:
    """The saved sandbox state if there is one, else a freshly seeded world (saved right away). A state file
    from before there were several accounts loads as the first account; the others are seeded beside it."""
    if not path.exists():
        return reset(path)
    world = World.load(path)
    if any(account.key not in world.gripp_accounts for account in demo_accounts()):
        fresh = build_world(today=world.today)
        for key, account in fresh.gripp_accounts.items():
            if key not in world.gripp_accounts:
                world.gripp_accounts[key] = account
        admins, keys = world.snelstart.administrations, world.snelstart.keys
        for admin_id, admin in fresh.snelstart.administrations.items():
            admins.setdefault(admin_id, admin)
        for key, record in fresh.snelstart.keys.items():
            if record.administration_id not in ADMINISTRATION_NAMES:  # the others' keys, never the first's
                keys.setdefault(key, record)
        world.save(path)
    return world


def reset(path: Path) -> World:
    """Reseed: build the demo world (every account) and save it over whatever was there."""
    world = build_world()
    world.save(path)
    return world


# --------------------------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class SeedManifest:
    """Facts about a world, derived from the world and the setup (invoice numbers as strings).

    Computed on a freshly seeded world it describes the scenario; computed after a sync it describes what is
    still outstanding (`to_book_by_identity` and `payments_expected` should then be empty).
    """

    identity_ids: list[int]
    linked_identity_ids: list[int]
    unlinked_identity_ids: list[int]
    sent_invoices_by_identity: dict[int, set[str]]
    # Booked in the identity's administration (on a fresh world: by the old link).
    prebooked_by_identity: dict[int, set[str]]
    # SENT, dated on/after the start date, not booked, no problem. For an unlinked identity: what a link
    # starting at its first invoice month (`start_dates`) with correct mappings would book.
    to_book_by_identity: dict[int, set[str]]
    # number -> reason (linked identities only): a misconfiguration, or CUSTOMER_CONTRADICTION for the invoices of a
    # customer whose number is another company's relatiecode in SnelStart.
    blocked_expected: dict[str, str]
    # number -> (bank date, amount) registrations the link must make in Gripp.
    payments_expected: dict[str, list[tuple[date, Decimal]]]
    paid_in_gripp_only: set[str]
    amount_differs: set[str]
    only_in_snelstart: set[str]
    credit_notes: set[str]
    concept_invoices: set[str]
    relatie_conflicts: dict[int, int]  # identity -> customernumber whose relatiecode has another name
    # Booked already, but not as Gripp has it (the amount was changed in SnelStart): a conflict, never adopted.
    conflicts_expected: set[str] = field(default_factory=set)
    # Extras for the console and the reconciliation tests.
    partially_paid: set[str] = field(default_factory=set)  # booked, 0 < paid in SnelStart < amount
    paid_in_instalments: set[str] = field(default_factory=set)  # two or more bank bookings
    unpaid_overdue: set[str] = field(default_factory=set)  # booked, nothing paid anywhere, past due
    missing_relaties: dict[int, set[int]] = field(default_factory=dict)  # identity -> customernumbers to create
    start_dates: dict[int, date] = field(default_factory=dict)
    administration_by_identity: dict[int, str] = field(default_factory=dict)
    suggested_mappings: dict[int, list[MappingRow]] = field(default_factory=dict)  # unlinked identities


def invoice_problems(world: World, setup: SandboxSetup, invoice: GrippInvoice) -> list[str]:
    """Why the link must not book this invoice (empty: it can). An independent check of the seed's intent."""
    link = setup.link(invoice.identity_id)
    if link is None:
        return ["NOT_LINKED"]
    admin = world.snelstart.administrations[link.administration_id]
    vat_map = {m.gripp_id: m for m in setup.mappings_for(invoice.identity_id, "vat")}
    ledger_map = {m.gripp_id: m for m in setup.mappings_for(invoice.identity_id, "ledger")}
    kostenplaats_map = {m.gripp_id: m for m in setup.mappings_for(invoice.identity_id, "kostenplaats")}
    by_number = {led.nummer: led for led in admin.ledgers.values()}
    problems: list[str] = []
    for line in invoice.money_lines:
        soort = None
        vat = vat_map.get(line.vat_id) if line.vat_id is not None else None
        if vat is None:
            problems.append(VAT_UNMAPPED)
        else:
            soort = soort_for(vat.snelstart)
            if vat.snelstart != "Verlegd":
                pct = snelstart_percentage(admin.vat_rates, vat.snelstart, invoice.date)
                if pct is None or pct != vat.percentage:
                    problems.append(VAT_RATE_MISMATCH)
        mapped = ledger_map.get(line.ledger_id) if line.ledger_id is not None else None
        if mapped is None:
            problems.append(LEDGER_UNMAPPED)
            continue
        ledger = by_number.get(int(mapped.snelstart))
        if ledger is None:
            problems.append(LEDGER_MISSING)
            continue
        if ledger.nonactief:
            problems.append(LEDGER_INACTIVE)
        if soort is not None and soort not in ledger.btw_soorten:
            problems.append(LEDGER_VAT_MISMATCH)
        if line.costheading_id is not None and line.costheading_id not in kostenplaats_map:
            problems.append(KOSTENPLAATS_UNMAPPED)
        elif line.costheading_id is None and ledger.kostenplaats_verplicht:
            problems.append(KOSTENPLAATS_REQUIRED)
    return list(dict.fromkeys(problems))


def manifest(world: World, setup: SandboxSetup | None = None, *, account: str | None = None) -> SeedManifest:
    """The facts of one Gripp account (default the first, with the demo's setup; another account's default is
    its `demo_accounts()` setup, None meaning nothing linked)."""
    if account is None or account == FIRST_ACCOUNT:
        setup = setup or demo_setup()
        ready = ADMINISTRATION_OF
    else:
        known = next((a for a in demo_accounts() if a.key == account), None)
        setup = setup or (known.setup if known else None) or SandboxSetup(links=[], mappings=[])
        ready = KLEIMEER_ADMINISTRATIONS if account == KLEIMEER else {}
    gripp, tenant = world.gripp_account(account) if account else world.gripp, world.snelstart
    identity_ids = sorted(gripp.identities)
    linked = sorted(link.identity_id for link in setup.links)
    unlinked = [i for i in identity_ids if i not in linked]
    companies = gripp.companies
    payments_by_invoice: dict[int, list[GrippPayment]] = {}
    for p in gripp.payments.values():
        payments_by_invoice.setdefault(p.invoice_id, []).append(p)

    sent: dict[int, set[str]] = {i: set() for i in identity_ids}
    by_number: dict[tuple[int, str], GrippInvoice] = {}
    credit_notes: set[str] = set()
    concepts: set[str] = set()
    for inv in gripp.invoices.values():
        number = str(inv.number)
        by_number[(inv.identity_id, number)] = inv
        if inv.status == "SENT":
            sent.setdefault(inv.identity_id, set()).add(number)
            if inv.money_lines and all(line.net < 0 for line in inv.money_lines):
                credit_notes.add(number)
        elif inv.status == "CONCEPT":
            concepts.add(number)

    prebooked: dict[int, set[str]] = {}
    to_book: dict[int, set[str]] = {}
    blocked: dict[str, str] = {}
    payments_expected: dict[str, list[tuple[date, Decimal]]] = {}
    paid_in_gripp_only: set[str] = set()
    amount_differs: set[str] = set()
    only_in_snelstart: set[str] = set()
    partially_paid: set[str] = set()
    instalments: set[str] = set()
    overdue: set[str] = set()
    conflicts: dict[int, int] = {}
    missing_relaties: dict[int, set[int]] = {}
    start_dates: dict[int, date] = {}
    admin_of: dict[int, str] = {}
    suggested: dict[int, list[MappingRow]] = {}

    for link in setup.links:
        identity_id = link.identity_id
        admin = tenant.administrations[link.administration_id]
        start_dates[identity_id] = link.start_date
        admin_of[identity_id] = admin.id
        bank_by_booking: dict[str, dict[str, tuple[date, Decimal]]] = {}
        for bank in admin.bank_bookings.values():
            for line in bank.verkoop_regels:
                per_bank = bank_by_booking.setdefault(line.boeking_id, {})
                when, amount = per_bank.get(bank.id, (bank.datum, ZERO))
                per_bank[bank.id] = (when, amount + line.credit - line.debet)
        booked_numbers: set[str] = set()
        for booking in admin.bookings.values():
            found = by_number.get((identity_id, booking.factuurnummer))
            if found is None:
                only_in_snelstart.add(booking.factuurnummer)
                continue
            inv = found
            booked_numbers.add(booking.factuurnummer)
            gripp_total = _total(gripp, inv)
            if booking.factuurbedrag != gripp_total:
                amount_differs.add(booking.factuurnummer)
            entries = sorted(bank_by_booking.get(booking.id, {}).values())
            ss_paid = cents(sum((a for _, a in entries), ZERO))
            gripp_paid = cents(sum((p.amount for p in payments_by_invoice.get(inv.id, [])), ZERO))
            diff = cents(ss_paid - gripp_paid)
            if diff != 0 and (diff > 0) == (booking.factuurbedrag > 0) and entries:
                if gripp_paid == 0:
                    payments_expected[booking.factuurnummer] = [(d, a) for d, a in entries if a != 0]
                else:
                    payments_expected[booking.factuurnummer] = [(entries[-1][0], diff)]
            if gripp_paid != 0 and ss_paid == 0:
                paid_in_gripp_only.add(booking.factuurnummer)
            if booking.factuurbedrag > 0 and 0 < ss_paid < booking.factuurbedrag:
                partially_paid.add(booking.factuurnummer)
            if len(entries) >= 2:
                instalments.add(booking.factuurnummer)
            if (booking.factuurbedrag > 0 and ss_paid == 0 and gripp_paid == 0 and inv.expirydate < world.today
                    and booking.factuurbedrag == gripp_total):
                overdue.add(booking.factuurnummer)
        prebooked[identity_id] = booked_numbers & sent.get(identity_id, set())

        relatie_names = {r.relatiecode: r.naam for r in admin.relaties.values()}
        for company in companies.values():
            name = relatie_names.get(company.customernumber)
            if company.identity_id == identity_id and name is not None and name != company.companyname:
                conflicts[identity_id] = company.customernumber
        todo: set[str] = set()
        missing: set[int] = set()
        for number in sent.get(identity_id, set()) - booked_numbers:
            inv = by_number[(identity_id, number)]
            if inv.date < link.start_date:
                continue
            problems = invoice_problems(world, setup, inv)
            customer = companies[inv.company_id]
            if problems:
                blocked[number] = problems[0]
                continue
            if customer.customernumber == conflicts.get(identity_id):
                blocked[number] = CUSTOMER_CONTRADICTION  # same number, other name: never on that relatie
                continue
            todo.add(number)
            if customer.customernumber not in relatie_names:
                missing.add(customer.customernumber)
        to_book[identity_id] = todo
        missing_relaties[identity_id] = missing

    for identity_id in unlinked:
        mine = [inv for inv in gripp.invoices.values() if inv.identity_id == identity_id and inv.status == "SENT"]
        if not mine:
            to_book[identity_id] = set()
            continue
        first = min(inv.date for inv in mine).replace(day=1)
        start_dates[identity_id] = first
        to_book[identity_id] = {str(inv.number) for inv in mine}
        admin_id = ready.get(identity_id)
        if admin_id is not None:
            admin_of[identity_id] = admin_id
        suggested[identity_id] = correct_mappings(
            identity_id, {line.vat_id for inv in mine for line in inv.lines if line.vat_id is not None},
            {line.ledger_id for inv in mine for line in inv.lines if line.ledger_id is not None},
        )

    return SeedManifest(
        identity_ids=identity_ids, linked_identity_ids=linked, unlinked_identity_ids=unlinked,
        sent_invoices_by_identity=sent, prebooked_by_identity=prebooked, to_book_by_identity=to_book,
        blocked_expected=blocked, payments_expected=payments_expected, paid_in_gripp_only=paid_in_gripp_only,
        amount_differs=amount_differs, only_in_snelstart=only_in_snelstart, credit_notes=credit_notes,
        concept_invoices=concepts, relatie_conflicts=conflicts,
        conflicts_expected=amount_differs & set().union(*sent.values()), partially_paid=partially_paid,
        paid_in_instalments=instalments, unpaid_overdue=overdue, missing_relaties=missing_relaties,
        start_dates=start_dates, administration_by_identity=admin_of, suggested_mappings=suggested,
    )


def _total(account: GrippAccount, invoice: GrippInvoice) -> Decimal:
    """Gripp's totalinclvat without scanning the payments (invoice_totals also sums those)."""
    net_by_rate: dict[int | None, Decimal] = {}
    for line in invoice.lines:
        net_by_rate[line.vat_id] = net_by_rate.get(line.vat_id, ZERO) + line.net
    total = sum(net_by_rate.values(), ZERO)
    for vat_id, amount in net_by_rate.items():
        rate = account.vat_rates.get(vat_id) if vat_id is not None else None
        if rate is not None and not rate.reverse_charge:
            total += cents(amount * rate.percentage / Decimal(100))
    return cents(total)
