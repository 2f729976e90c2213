"""The sandbox's other customers, beside the demo's Studio Noord: one whose link broke, one new to the link.

Each is its own Gripp account (own API token, identities, companies, invoices, payments); their administrations
sit in the same SnelStart as Studio Noord's, reached with the deployment's one subscription key. Like separate
Gripp accounts they reuse ids and numbers the first account has too (identity 1, company ids from 101, invoice
ids from 1001, invoice numbers like 260001), so a mix-up between accounts cannot hide.

- Hofstra Installatietechniek (`hofstra-installatie`): identity 1, linked by our link since its first invoice, which
  booked its invoices and brought payments back until about two months ago. Then someone removed the koppeling in
  SnelStart: the key is revoked, so the first run fails on the link until support links the administration again
  (and then finds invoices to book and payments to bring back).
- Kleimeer Landschapsarchitectuur (`kleimeer`): identities 1 and 2 with sent invoices; their administrations are
  ready in SnelStart (chart of accounts, some customers typed in by hand) but nothing is linked: setup None.

Small on purpose (the suite seeds often): about 40 invoices for Hofstra, about 20 per Kleimeer identity, up to the
world's `today`; one `random.Random` per account keeps them deterministic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sync.sandbox.seed_parts import (
    VAT_0,
    VAT_9,
    VAT_21,
    DemoLink,
    SandboxAccount,
    SandboxSetup,
    build_booking,
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
    GrippAccount,
    GrippCompany,
    GrippInvoice,
    GrippInvoiceLine,
    GrippPayment,
    SnelStartAdministration,
    SnelStartBankBooking,
    SnelStartBankLine,
    SnelStartKey,
    SnelStartRelatie,
    World,
)

HOFSTRA = "hofstra-installatie"
HOFSTRA_NAME = "Hofstra Installatietechniek"
HOFSTRA_TOKEN = "sandbox-gripp-token-0002"
ADMIN_HOFSTRA = "a0000004-0000-4000-8000-000000000004"

KLEIMEER = "kleimeer"
KLEIMEER_NAME = "Kleimeer Landschapsarchitectuur"
KLEIMEER_TOKEN = "sandbox-gripp-token-0003"
ADMIN_KLEIMEER_ONTWERP = "a0000005-0000-4000-8000-000000000005"
ADMIN_KLEIMEER_BEHEER = "a0000006-0000-4000-8000-000000000006"
# The administration ready for each Kleimeer identity (what the linking steps should pick).
KLEIMEER_ADMINISTRATIONS = {1: ADMIN_KLEIMEER_ONTWERP, 2: ADMIN_KLEIMEER_BEHEER}

HOFSTRA_FIRST_MONTH = date(2025, 3, 1)  # invoicing from Gripp, and linked, since
HOFSTRA_BOOKED_UNTIL = date(2026, 9, 30)  # the link booked invoices dated up to this day, then the key was revoked
KLEIMEER_FIRST_MONTH = date(2026, 1, 1)


@dataclass(frozen=True)
class _Line:
    text: str
    quantities: tuple[str, ...]
    price: str
    vat_id: int
    ledger_id: int


@dataclass(frozen=True)
class _Identity:
    id: int
    name: str
    administration_id: str
    administration_name: str
    address: tuple[str, str, str]  # street and number, postcode, city
    customers: tuple[tuple[str, str], ...]  # (name, city); a name with no legal form is a private person
    catalogue: tuple[_Line, ...]


# city -> (postcode digits range, area code)
_PLACES = {
    "Heerenveen": ((8441, 8449), "0513"), "Joure": ((8501, 8502), "0513"), "Sneek": ((8601, 8608), "0515"),
    "Drachten": ((9201, 9204), "0512"), "Wolvega": ((8471, 8472), "0561"), "Akkrum": ((8491, 8491), "0566"),
    "Amersfoort": ((3811, 3829), "033"), "Utrecht": ((3511, 3585), "030"), "Zeist": ((3701, 3709), "030"),
    "Hilversum": ((1211, 1223), "035"), "Soest": ((3761, 3768), "035"), "Bunnik": ((3981, 3984), "030"),
}
_STREETS = ("Molenweg", "Kerkstraat", "Stationsweg", "Industrieweg", "Dorpsstraat", "Schoolstraat", "Parklaan",
            "Burgemeester Falkenaweg", "Julianalaan", "Beukenlaan")
_LEGAL_FORMS = ("B.V.", "V.O.F.", "U.A.", "Stichting", "Gemeente", "VvE")

_HOFSTRA = _Identity(
    1, "Hofstra Installatietechniek B.V.", ADMIN_HOFSTRA, "Hofstra Installatietechniek",
    ("Kanaalweg 17", "8443 PM", "Heerenveen"),
    (("Bouwbedrijf Van der Meer B.V.", "Heerenveen"), ("VvE Het Witte Huis", "Joure"),
     ("Zorgboerderij De Kempen V.O.F.", "Akkrum"), ("Camping De Wieken V.O.F.", "Wolvega"),
     ("Bakkerij Posthuma B.V.", "Sneek"), ("Gemeente Heerenveen", "Heerenveen"),
     ("Stichting Dorpshuis De Skalle", "Joure"), ("Autobedrijf Terpstra B.V.", "Drachten"),
     ("H. de Jong", "Heerenveen"), ("A. Veenstra-Bakker", "Joure"), ("T. Wijbenga", "Sneek")),
    (_Line("Onderhoud cv-ketel", ("1",), "135.00", VAT_21, 8000),
     _Line("Arbeid monteur (uur)", ("2", "3.5", "6", "8"), "62.50", VAT_21, 8000),
     _Line("Installatie warmtepomp", ("1",), "7850.00", VAT_21, 8000),
     _Line("Materiaal volgens bon", ("1",), "418.35", VAT_21, 8000),
     _Line("Voorrijkosten", ("1",), "39.50", VAT_21, 8000),
     # Solar panels on or near a home carry 0 % VAT since 1 January 2023.
     _Line("Levering en montage zonnepanelen (woning)", ("8", "10", "12"), "395.00", VAT_0, 8020)),
)
_KLEIMEER = (
    _Identity(
        1, "Kleimeer Landschapsarchitectuur B.V.", ADMIN_KLEIMEER_ONTWERP, "Kleimeer Ontwerp",
        ("Utrechtseweg 212", "3818 ES", "Amersfoort"),
        (("Gemeente Soest", "Soest"), ("Stichting Landgoed Oostbroek", "Bunnik"),
         ("Projectontwikkeling Eemkwartier B.V.", "Amersfoort"), ("Woningstichting De Zeister Bossen", "Zeist"),
         ("Hoveniersbedrijf Groenrijk Utrecht B.V.", "Utrecht"), ("J. van Lienden", "Hilversum")),
        (_Line("Ontwerp tuinplan", ("6", "12", "16"), "98.00", VAT_21, 8000),
         _Line("Landschapsvisie (uren)", ("8", "20", "32"), "112.50", VAT_21, 8000),
         _Line("Beplantingsplan", ("1",), "1250.00", VAT_21, 8000),
         _Line("Levering beplanting", ("1",), "684.20", VAT_9, 8010)),
    ),
    _Identity(
        2, "Kleimeer Groenbeheer B.V.", ADMIN_KLEIMEER_BEHEER, "Kleimeer Groenbeheer",
        ("Utrechtseweg 214", "3818 ES", "Amersfoort"),
        (("VvE Park Vlierhove", "Amersfoort"), ("Gemeente Bunnik", "Bunnik"),
         ("Kantorenpark De Brand B.V.", "Amersfoort"), ("Stichting Hofje van Sint Anna", "Utrecht"),
         ("M. Kok-de Graaf", "Zeist")),
        (_Line("Groenonderhoud {maand}", ("1",), "865.00", VAT_21, 8000),
         _Line("Snoeiwerk (uur)", ("4", "6", "12"), "48.50", VAT_21, 8000),
         _Line("Levering plantgoed", ("1",), "312.40", VAT_9, 8010)),
    ),
)
_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")


def hofstra_setup() -> SandboxSetup:
    """Hofstra as our side knows it: identity 1 linked (with a key SnelStart has since revoked), mapped right."""
    key = koppelsleutel_for(f"{HOFSTRA}/{ADMIN_HOFSTRA}")
    link = DemoLink(_HOFSTRA.id, _HOFSTRA.name, ADMIN_HOFSTRA, _HOFSTRA.administration_name, key,
                    HOFSTRA_FIRST_MONTH)
    return SandboxSetup(links=[link], mappings=correct_mappings(_HOFSTRA.id, [VAT_21, VAT_0], [8000, 8020]),
                        gripp_api_token=HOFSTRA_TOKEN)


def other_accounts() -> list[SandboxAccount]:
    return [SandboxAccount(HOFSTRA, HOFSTRA_NAME, HOFSTRA_TOKEN, hofstra_setup()),
            SandboxAccount(KLEIMEER, KLEIMEER_NAME, KLEIMEER_TOKEN, None)]


def add_other_accounts(world: World, seed: int) -> None:
    """Seed Hofstra and Kleimeer into `world` (beside whatever it holds), deterministic for `seed`."""
    _Account(world, HOFSTRA, HOFSTRA_TOKEN, (_HOFSTRA,), HOFSTRA_FIRST_MONTH,
             random.Random(f"{seed}/{HOFSTRA}")).build()
    _hofstra_history(world, random.Random(f"{seed}/{HOFSTRA}/history"))
    kleimeer = _Account(world, KLEIMEER, KLEIMEER_TOKEN, _KLEIMEER, KLEIMEER_FIRST_MONTH,
                        random.Random(f"{seed}/{KLEIMEER}"))
    kleimeer.build()
    for identity in _KLEIMEER:  # customers someone already typed into SnelStart by hand
        for company in kleimeer.companies[identity.id][::2]:
            _relatie(world, identity.administration_id, company)


class _Account:
    """One small Gripp account and its (empty) administrations: companies, sent invoices, one concept."""

    def __init__(self, world: World, key: str, token: str, identities: tuple[_Identity, ...], first: date,
                 rng: random.Random) -> None:
        self.world, self.key, self.identities, self.first, self.rng = world, key, identities, first, rng
        self.account = GrippAccount(api_tokens=[token], vat_rates=gripp_vat_rates(), ledgers=gripp_ledgers())
        self.companies: dict[int, list[GrippCompany]] = {}

    def build(self) -> None:
        world, account = self.world, self.account
        with world.lock:
            world.gripp_accounts[self.key] = account
            for identity in self.identities:
                account.identities[identity.id] = identity.name
                self._administration(identity)
            next_company = 101
            for identity in self.identities:
                self.companies[identity.id] = []
                for name, city in identity.customers:
                    company = self._company(next_company, identity.id, name, city)
                    account.companies[company.id] = company
                    self.companies[identity.id].append(company)
                    next_company += 1
            self._invoices()

    def _administration(self, identity: _Identity) -> None:
        admin_id = identity.administration_id
        admin = SnelStartAdministration(
            id=admin_id, naam=identity.administration_name, bedrijfsnaam=identity.name,
            btw_nummer=nl_vat_number(self.rng), kvk_nummer=f"{self.rng.randint(10_000_000, 99_999_999)}",
            vat_rates=snelstart_vat_history(), ledgers=standard_chart(admin_id),
        )
        street, postcode, city = identity.address
        own = SnelStartRelatie(id=guid(admin_id, "relatie", "eigen"), relatiecode=1, naam=identity.name,
                               relatiesoort=["Eigen"], btw_nummer=admin.btw_nummer, kvk_nummer=admin.kvk_nummer,
                               straat=street, postcode=postcode, plaats=city, modified_on=datetime(2024, 12, 2, 9, 0))
        admin.relaties[own.id] = own
        self.world.snelstart.administrations[admin_id] = admin

    def _company(self, company_id: int, identity_id: int, name: str, city: str) -> GrippCompany:
        rng = self.rng
        (low, high), area = _PLACES[city]
        person = not any(form in name.split() for form in _LEGAL_FORMS)
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:24]
        company = GrippCompany(
            id=company_id, customernumber=10_000 + company_id - 100, companyname=name, identity_id=identity_id,
            relationtype="PRIVATEPERSON" if person else "COMPANY",
            email=f"{slug}@ziggo.nl" if person else f"info@{slug}.nl",
            phone=f"{area}-{rng.randint(10 ** (9 - len(area)), 10 ** (10 - len(area)) - 1)}",
            visitingaddress_street=rng.choice(_STREETS), visitingaddress_streetnumber=str(rng.randint(1, 120)),
            visitingaddress_zipcode=f"{rng.randint(low, high)} {rng.choice('BCDGHJKLMNPRTVWX')}"
                                    f"{rng.choice('BCEGHJKLMNPRTVWXZ')}",
            visitingaddress_city=city, termofpayment=14 if person else 30,
            createdon=datetime.combine(self.first - timedelta(days=rng.randint(5, 60)), time(10, 0)),
        )
        if not person:
            company.vatnumber = nl_vat_number(rng)
            company.cocnumber = f"{rng.randint(1_000_000, 99_999_999):08d}"
        company.invoiceemail = company.email
        return company

    def _invoices(self) -> None:
        """1–3 sent invoices a month per identity, numbered per identity and year as Gripp does, one concept."""
        rng, account = self.rng, self.account
        drafts: list[tuple[date, int, GrippCompany, str]] = []
        for identity in self.identities:
            month = self.first
            while month <= self.world.today:
                following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
                last = min(following - timedelta(days=1), self.world.today)
                for _ in range(rng.randint(1, 3)):
                    on = month + timedelta(days=rng.randint(0, (last - month).days))
                    drafts.append((on, identity.id, rng.choice(self.companies[identity.id]), "SENT"))
                month = following
            drafts.append((self.world.today - timedelta(days=2), identity.id,
                           rng.choice(self.companies[identity.id]), "CONCEPT"))
        counters: dict[tuple[int, int], int] = {}
        line_id = 100_000
        by_identity = {identity.id: identity for identity in self.identities}
        for index, (on, identity_id, company, status) in enumerate(
                sorted(drafts, key=lambda d: (d[3] != "SENT", d[0], d[1]))):
            counters[(identity_id, on.year)] = counters.get((identity_id, on.year), 0) + 1
            number = (on.year % 100) * 10_000 + (identity_id - 1) * 5000 + counters[(identity_id, on.year)]
            lines = []
            catalogue = by_identity[identity_id].catalogue
            for order, item in enumerate(rng.sample(catalogue, rng.randint(1, min(3, len(catalogue))))):
                line_id += 1
                lines.append(GrippInvoiceLine(
                    id=line_id, amount=Decimal(rng.choice(item.quantities)), sellingprice=Decimal(item.price),
                    vat_id=item.vat_id, ledger_id=item.ledger_id, ordering=order,
                    description=item.text.format(maand=f"{_MONTHS[on.month - 1]} {on.year}")))
            invoice_id = 1001 + index
            account.invoices[invoice_id] = GrippInvoice(
                id=invoice_id, number=number, identity_id=identity_id, company_id=company.id, date=on,
                expirydate=on + timedelta(days=company.termofpayment), status=status,
                subject=lines[0].description, lines=lines,
                createdon=datetime.combine(on, time(9, 0)) + timedelta(minutes=rng.randint(0, 420)))


def _relatie(world: World, admin_id: str, company: GrippCompany) -> SnelStartRelatie:
    """The customer's relatie as the link (or a careful person) makes it: same number, same name."""
    relatie = SnelStartRelatie(
        id=guid(admin_id, "relatie", company.customernumber), relatiecode=company.customernumber,
        naam=company.companyname, relatiesoort=["Klant"], email=company.invoiceemail,
        btw_nummer=company.vatnumber, kvk_nummer=company.cocnumber,
        straat=f"{company.visitingaddress_street} {company.visitingaddress_streetnumber}",
        postcode=company.visitingaddress_zipcode, plaats=company.visitingaddress_city,
        modified_on=company.createdon + timedelta(days=1),
    )
    world.snelstart.administrations[admin_id].relaties[relatie.id] = relatie
    return relatie


def _hofstra_history(world: World, rng: random.Random) -> None:
    """What the link did for Hofstra before its key was revoked: bookings, relaties, payments both ways; then
    a few payments SnelStart received since (to bring back once relinked) and the revoked key."""
    setup = hofstra_setup()
    link = setup.links[0]
    account = world.gripp_account(HOFSTRA)
    admin = world.snelstart.administrations[ADMIN_HOFSTRA]
    booked_until = min(HOFSTRA_BOOKED_UNTIL, world.today)
    relaties: dict[int, SnelStartRelatie] = {}
    booked: list[tuple[GrippInvoice, str]] = []  # (invoice, booking id)
    for invoice in sorted(account.invoices.values(), key=lambda i: (i.date, i.number)):
        if invoice.status != "SENT" or not link.start_date <= invoice.date <= booked_until:
            continue
        company = account.companies[invoice.company_id]
        if company.id not in relaties:
            relaties[company.id] = _relatie(world, ADMIN_HOFSTRA, company)
        booking = build_booking(account, invoice, admin, setup.mappings, relaties[company.id].id,
                                modified_on=datetime.combine(invoice.date + timedelta(days=1), time(3, 10)))
        admin.bookings[booking.id] = booking
        booked.append((invoice, booking.id))

    payment_id = 500_000
    recent = [entry for entry in booked if entry[0].date >= booked_until - timedelta(days=90)]
    unpaid = {id(entry) for entry in recent[-3:]}  # the last ones booked: not paid yet, anywhere
    snelstart_only = {id(entry) for entry in rng.sample(recent[:-3], max(0, min(3, len(recent) - 3)))}
    for entry in booked:
        if id(entry) in unpaid:
            continue
        invoice, booking_id = entry
        amount = admin.bookings[booking_id].factuurbedrag
        on = min(world.today, invoice.date + timedelta(days=rng.randint(6, 35)))
        bank_id = guid(ADMIN_HOFSTRA, "bankboeking", invoice.number)
        customer = account.companies[invoice.company_id].companyname
        admin.bank_bookings[bank_id] = SnelStartBankBooking(
            id=bank_id, datum=on, omschrijving=f"{customer} factuur {invoice.number}", bedrag_ontvangen=amount,
            verkoop_regels=[SnelStartBankLine(booking_id, amount, omschrijving=f"Factuur {invoice.number}")],
            modified_on=datetime.combine(on, time(16, 0)),
        )
        if id(entry) in snelstart_only:
            continue  # received after the key stopped working: the link has not brought it back yet
        payment_id += 1
        account.payments[payment_id] = GrippPayment(
            id=payment_id, invoice_id=invoice.id, date=on, amount=amount, notes="Betaling via SnelStart",
            createdon=datetime.combine(on + timedelta(days=1), time(2, 30)))

    # Someone removed the koppeling in SnelStart Web: the key our side holds no longer opens the administration.
    world.snelstart.keys[link.koppelsleutel] = SnelStartKey(link.koppelsleutel, ADMIN_HOFSTRA,
                                                            scopes=list(ALL_SCOPES), revoked=True)
