"""A plain, valid world of any size, for benchmarks and load tests (10,000 and 100,000 invoices).

Unlike the demo seed there is no story here: every invoice is bookable (correct mappings, existing active
ledgers that accept the VAT kind, a matching relatie for every customer), nothing is booked yet, and no PDFs are
made. Payments cannot be bank bookings before the bookings exist, so they come back as
`setup.bulk_payments` = [(factuurnummer, bank date, amount)] for the benchmark to apply after its first run.

Speed matters (100,000 invoices in a couple of seconds): one RNG, precomputed choices, no per-invoice lookups.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal

from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.money import cents
from sync.sandbox.seed import (
    INTERVAL_MINUTES,
    SANDBOX_TODAY,
    VAT_9,
    VAT_21,
    DemoLink,
    SandboxSetup,
    correct_mappings,
    gripp_ledgers,
    gripp_vat_rates,
    guid,
    koppelsleutel_for,
    nl_vat_number,
    snelstart_vat_history,
    standard_chart,
)
from sync.sandbox.world import (
    ALL_SCOPES,
    GrippCompany,
    GrippInvoice,
    GrippInvoiceLine,
    SnelStartAdministration,
    SnelStartKey,
    SnelStartRelatie,
    World,
)

_HISTORY_DAYS = 730  # two years back from today: inside SnelStart's 5-year limit (BOE-0033), all after 2019
_CITIES = (("Groningen", "97"), ("Assen", "94"), ("Leeuwarden", "89"), ("Zwolle", "80"), ("Emmen", "78"))
_WORDS = ("Noord", "Zuid", "Oost", "West", "Delta", "Polder", "Haven", "Dijk", "Veen", "Wad", "Kwelder", "Esch")
_TRADES = ("Bouw", "Advies", "Installatie", "Transport", "Media", "Zorg", "Techniek", "Design", "Groen", "ICT")
_FORMS = ("B.V.", "B.V.", "B.V.", "V.O.F.", "Holding B.V.")
# (description, quantity, price, vat id, ledger id): a small catalogue of ordinary lines.
_LINES = (
    ("Adviesuren", Decimal("7.5"), Decimal("95.00"), VAT_21, 8000),
    ("Ontwerp huisstijl", Decimal("12"), Decimal("112.50"), VAT_21, 8000),
    ("Hosting", Decimal("1"), Decimal("49.50"), VAT_21, 8000),
    ("Strategiesessie", Decimal("4"), Decimal("135.00"), VAT_21, 8000),
    ("Training Scrum (dagdeel)", Decimal("2"), Decimal("950.00"), VAT_21, 8000),
    ("Webdevelopment", Decimal("16.5"), Decimal("105.00"), VAT_21, 8000),
    ("Reiskosten (km)", Decimal("84"), Decimal("0.23"), VAT_21, 8000),
    ("Lunch tijdens workshop", Decimal("12"), Decimal("12.50"), VAT_9, 8010),
    ("Vakliteratuur (boek)", Decimal("3"), Decimal("34.95"), VAT_9, 8010),
)
_RATE = {VAT_21: Decimal("21"), VAT_9: Decimal("9")}


def bulk_admin_id(identity_id: int) -> str:
    return f"b0000000-0000-4000-8000-{identity_id:012d}"


def build_bulk_world(
    n_invoices: int, *, payments: int = 0, seed: int = 7, identities: int = 1, today: date = SANDBOX_TODAY,
    first_identity: int = 1,
) -> tuple[World, SandboxSetup]:
    """`n_invoices` SENT invoices over `identities` linked identities (each its own administration), about
    n/10 customers with matching relaties, and `payments` of the invoices paid (returned, not applied).
    `first_identity`: the first identity's id (the others follow); worlds built with identities that do not overlap
    have administrations and koppelsleutels that do not either, so they can sit side by side in one SnelStart."""
    if identities < 1:
        raise ValueError("identities must be at least 1")
    rng = random.Random(seed)
    world = World(today=today)
    gripp, tenant = world.gripp, world.snelstart
    gripp.api_tokens = [SANDBOX_GRIPP_TOKEN]
    gripp.vat_rates = gripp_vat_rates()
    gripp.ledgers = gripp_ledgers()
    tenant.subscription_keys = [SANDBOX_SUBSCRIPTION_KEY]
    first_day = today - timedelta(days=_HISTORY_DAYS)

    links: list[DemoLink] = []
    mappings = []
    customers: dict[int, list[GrippCompany]] = {}
    n_companies = max(identities, n_invoices // 10)
    last = first_identity + identities - 1
    for identity_id in range(first_identity, last + 1):
        name = f"Bulkbedrijf {identity_id} B.V."
        gripp.identities[identity_id] = name
        admin_id = bulk_admin_id(identity_id)
        admin = SnelStartAdministration(
            id=admin_id, naam=name, bedrijfsnaam=name, btw_nummer=nl_vat_number(rng),
            kvk_nummer=f"{rng.randint(10_000_000, 99_999_999)}", vat_rates=snelstart_vat_history(),
            ledgers=standard_chart(admin_id),
        )
        tenant.administrations[admin_id] = admin
        own = SnelStartRelatie(id=guid(admin_id, "relatie", "eigen"), relatiecode=1, naam=name,
                               relatiesoort=["Eigen"], btw_nummer=admin.btw_nummer, kvk_nummer=admin.kvk_nummer)
        admin.relaties[own.id] = own
        key = koppelsleutel_for(f"bulk/{seed}/{identity_id}")
        tenant.keys[key] = SnelStartKey(key, admin_id, scopes=list(ALL_SCOPES))
        links.append(DemoLink(identity_id, name, admin_id, name, key, first_day, INTERVAL_MINUTES))
        mappings += correct_mappings(identity_id, [VAT_21, VAT_9], [8000, 8010])
        customers[identity_id] = []

    # Customers, round-robin over the identities; every one has its relatie (same code, same name).
    for index in range(n_companies):
        identity_id = index % identities + first_identity
        number = 100_001 + index
        city, pc = _CITIES[index % len(_CITIES)]
        companyname = f"{_WORDS[index % len(_WORDS)]} {_TRADES[(index // 12) % len(_TRADES)]} {number} " \
                      f"{_FORMS[index % len(_FORMS)]}"
        zipcode = f"{pc}{rng.randint(10, 99)} {rng.choice('ABCEGHJKLMNPRTVWXZ')}{rng.choice('ABCEGHJKLMNPRTVWXZ')}"
        company = GrippCompany(
            id=10_000 + index, customernumber=number, companyname=companyname, identity_id=identity_id,
            vatnumber=nl_vat_number(rng), cocnumber=f"{rng.randint(10_000_000, 99_999_999)}",
            email=f"info@klant{number}.nl", invoiceemail=f"facturen@klant{number}.nl",
            visitingaddress_street="Hoofdstraat", visitingaddress_streetnumber=str(1 + index % 200),
            visitingaddress_zipcode=zipcode, visitingaddress_city=city, termofpayment=(14, 30)[index % 2],
            createdon=datetime.combine(first_day - timedelta(days=30), time(9, 0)),
        )
        gripp.companies[company.id] = company
        customers[identity_id].append(company)
        admin = tenant.administrations[bulk_admin_id(identity_id)]
        relatie = SnelStartRelatie(
            id=guid(admin.id, "relatie", number), relatiecode=number, naam=companyname, relatiesoort=["Klant"],
            email=company.invoiceemail, btw_nummer=company.vatnumber, kvk_nummer=company.cocnumber,
            straat=f"Hoofdstraat {company.visitingaddress_streetnumber}", postcode=zipcode, plaats=city,
        )
        admin.relaties[relatie.id] = relatie

    # Invoices: plain Python in a tight loop (dataclass construction dominates the time).
    paid_index = set(rng.sample(range(n_invoices), min(payments, n_invoices)))
    bulk_payments: list[tuple[str, date, Decimal]] = []
    counters = [0] * (last + 1)
    line_id = 1_000_000
    random_ = rng.random
    n_lines_catalogue = len(_LINES)
    for index in range(n_invoices):
        identity_id = index % identities + first_identity
        pool = customers[identity_id]
        company = pool[int(random_() * len(pool))]
        day = first_day + timedelta(days=int(random_() * (_HISTORY_DAYS + 1)))
        counters[identity_id] += 1
        number = identity_id * 10_000_000 + counters[identity_id]
        lines = []
        for order in range(1 + int(random_() * 3)):
            text, qty, price, vat_id, ledger_id = _LINES[int(random_() * n_lines_catalogue)]
            line_id += 1
            lines.append(GrippInvoiceLine(line_id, qty, price, vat_id, ledger_id, text, ordering=order))
        invoice_id = 1_000 + index
        gripp.invoices[invoice_id] = GrippInvoice(
            id=invoice_id, number=number, identity_id=identity_id, company_id=company.id, date=day,
            expirydate=day + timedelta(days=company.termofpayment), status="SENT",
            subject=f"{lines[0].description} {day.month:02d}-{day.year}", lines=lines,
            createdon=datetime.combine(day, time(9, 0)) + timedelta(minutes=index % 480),
        )
        if index in paid_index:
            net: dict[int, Decimal] = {}
            for line in lines:
                assert line.vat_id is not None
                net[line.vat_id] = net.get(line.vat_id, Decimal("0")) + line.net
            total = cents(sum(net.values(), Decimal("0")) + sum(
                (cents(amount * _RATE[vat] / Decimal(100)) for vat, amount in net.items()), Decimal("0")))
            # Every tenth payment is partial, so the benchmark also exercises "stays partial".
            amount = total if index % 10 else (total / 2).quantize(Decimal("1"), rounding=ROUND_DOWN)
            paid_on = min(today, day + timedelta(days=5 + int(random_() * 36)))
            bulk_payments.append((str(number), paid_on, amount))
    gripp.next_id = max(gripp.next_id, line_id + 1)
    return world, SandboxSetup(links=links, mappings=mappings, bulk_payments=bulk_payments)
