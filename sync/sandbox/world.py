"""The sandbox's data: what Gripp accounts and SnelStart administrations hold.

This is the contract between the simulators (`gripp_sim`, `snelstart_sim`), the seed (`seed`) and the tests.
Values are Python-native (Decimal money, date/datetime wall-clock in Europe/Amsterdam); the simulators turn
them into each API's own JSON shapes. The world persists as JSON (`save`/`load`) so sandbox state survives
restarts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sync.core.money import cents

# --------------------------------------------------------------------------------------------------- Gripp


@dataclass
class GrippVatRate:
    """A VAT rate under Gripp's Instellingen > BTW-tarieven. Not exposed by the API (lines carry the id)."""

    id: int
    label: str  # e.g. "21%", "9%", "6% (oud)", "0%", "Verlegd"
    percentage: Decimal
    reverse_charge: bool = False


@dataclass
class GrippLedger:
    id: int
    number: str  # Gripp types ledger numbers as strings
    name: str
    active: bool = True


@dataclass
class GrippCostheading:
    """A kostenplaats (Instellingen > Kostenplaatsen): the `costheading` class has `name` and `number` (a string)."""

    id: int
    name: str
    number: str


@dataclass
class GrippProject:
    """A project an invoice line names (`invoiceline.project`): `project` has `name` and a read-only int `number`."""

    id: int
    name: str
    number: int


@dataclass
class GrippCompany:
    id: int
    customernumber: int
    companyname: str
    identity_id: int
    relationtype: str = "COMPANY"  # or PRIVATEPERSON
    vatnumber: str = ""
    cocnumber: str = ""
    email: str = ""
    invoiceemail: str = ""
    phone: str = ""
    visitingaddress_street: str = ""
    visitingaddress_streetnumber: str = ""
    visitingaddress_zipcode: str = ""
    visitingaddress_city: str = ""
    visitingaddress_country: str = "NL"
    vatshifted: bool = False
    termofpayment: int = 30
    createdon: datetime = field(default_factory=lambda: datetime(2016, 1, 1, 9, 0))
    updatedon: datetime | None = None
    extendedproperties: str | None = None


@dataclass
class GrippInvoiceLine:
    id: int
    amount: Decimal  # quantity
    sellingprice: Decimal  # per unit, excluding VAT; negative on credit notes
    vat_id: int | None
    ledger_id: int | None
    description: str = ""
    discount: Decimal = Decimal("0")  # percentage
    buyingprice: Decimal = Decimal("0")
    ordering: int = 0
    # NORMAL, or GROUP: a heading above the lines below it, as Gripp stores it (amount 1, price 0.00, the lines'
    # VAT rate, no ledger; seen in a live account's project lines, flipmoo/begripp src/db/database.sqlite).
    rowtype: str = "NORMAL"
    costheading_id: int | None = None  # `invoiceline.costheading`: the line's kostenplaats
    project_id: int | None = None  # `invoiceline.project`

    @property
    def net(self) -> Decimal:
        """Line amount excluding VAT, to the cent, as Gripp shows it."""
        return cents(self.amount * self.sellingprice * (Decimal(100) - self.discount) / Decimal(100))


@dataclass
class GrippPayment:
    id: int
    invoice_id: int
    date: date
    amount: Decimal
    notes: str = ""
    extendedproperties: str | None = None
    createdon: datetime = field(default_factory=lambda: datetime(2020, 1, 1))


@dataclass
class GrippInvoice:
    id: int
    number: int
    identity_id: int
    company_id: int
    date: dt.date  # (the field shadows the type in this class body, hence dt.date)
    expirydate: dt.date
    status: str  # CONCEPT or SENT
    subject: str
    lines: list[GrippInvoiceLine]
    createdon: datetime
    updatedon: datetime | None = None
    clientreference: str = ""
    paymentmethod: str = "MANUALTRANSFER"
    extendedproperties: str | None = None

    @property
    def money_lines(self) -> list[GrippInvoiceLine]:
        """The lines that carry amounts: all but group headings."""
        return [line for line in self.lines if line.rowtype != "GROUP"]


@dataclass
class GrippAccount:
    """One Gripp account (one API token), holding several identities."""

    identities: dict[int, str] = field(default_factory=dict)  # id -> name ("searchname")
    vat_rates: dict[int, GrippVatRate] = field(default_factory=dict)
    ledgers: dict[int, GrippLedger] = field(default_factory=dict)
    costheadings: dict[int, GrippCostheading] = field(default_factory=dict)
    projects: dict[int, GrippProject] = field(default_factory=dict)
    companies: dict[int, GrippCompany] = field(default_factory=dict)
    invoices: dict[int, GrippInvoice] = field(default_factory=dict)
    payments: dict[int, GrippPayment] = field(default_factory=dict)
    api_tokens: list[str] = field(default_factory=list)
    next_id: int = 900_000

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def invoice_payments(self, invoice_id: int) -> list[GrippPayment]:
        return [p for p in self.payments.values() if p.invoice_id == invoice_id]

    def invoice_totals(self, invoice: GrippInvoice) -> dict[str, Decimal]:
        """Gripp's computed totals: net per line to the cent, VAT per rate on the summed net, to the cent."""
        net_by_rate: dict[int | None, Decimal] = {}
        for line in invoice.lines:
            net_by_rate[line.vat_id] = net_by_rate.get(line.vat_id, Decimal("0")) + line.net
        net = sum(net_by_rate.values(), Decimal("0.00"))
        vat = Decimal("0.00")
        for vat_id, amount in net_by_rate.items():
            rate = self.vat_rates.get(vat_id) if vat_id is not None else None
            if rate is not None and not rate.reverse_charge:
                vat += cents(amount * rate.percentage / Decimal(100))
        total = cents(net + vat)
        paid = cents(sum((p.amount for p in self.invoice_payments(invoice.id)), Decimal("0.00")))
        return {
            "totalincldiscountexclvat": cents(net),
            "totalinclvat": total,
            "totalincldiscountinclvat": total,
            "totalpayed": paid,
            "totalopeninclvat": cents(total - paid),
        }


# ----------------------------------------------------------------------------------------------- SnelStart


def new_guid() -> str:
    return str(uuid.uuid4())


@dataclass
class SnelStartVatRate:
    """One row of `GET /btwtarieven`: a soort's percentage over a period (open bounds are sentinel dates)."""

    btw_soort: str  # Geen | Laag | Hoog | Overig
    percentage: Decimal
    datum_vanaf: date = date(1900, 1, 1)
    datum_tot_en_met: date = date(2400, 12, 31)


@dataclass
class SnelStartLedger:
    id: str
    nummer: int
    omschrijving: str
    grootboekfunctie: str  # e.g. VerkopenOmzetHoog, Diversen, DagboekBank
    btw_soorten: list[str]  # the VAT kinds the account accepts: Geen/Laag/Hoog/Overig
    rekening_code: str = "WinstEnVerlies"
    nonactief: bool = False
    modified_on: datetime = field(default_factory=lambda: datetime(2024, 1, 2, 9, 0))
    kostenplaats_verplicht: bool = False  # a booking line on it needs a kostenplaats


@dataclass
class SnelStartKostenplaats:
    """`KostenplaatsModel`: omschrijving, nonactief, nummer (int32), id."""

    id: str
    nummer: int
    omschrijving: str
    nonactief: bool = False


@dataclass
class SnelStartRelatie:
    id: str
    relatiecode: int
    naam: str
    relatiesoort: list[str]  # Klant / Leverancier / Eigen
    email: str = ""
    btw_nummer: str = ""
    kvk_nummer: str = ""
    straat: str = ""
    postcode: str = ""
    plaats: str = ""
    nonactief: bool = False
    modified_on: datetime = field(default_factory=lambda: datetime(2020, 1, 1, 9, 0))


@dataclass
class SnelStartBookingLine:
    grootboek_id: str
    bedrag: Decimal  # excluding VAT
    btw_soort: str  # Geen | Laag | Hoog | Overig
    omschrijving: str = ""
    kostenplaats_id: str | None = None


@dataclass
class SnelStartDocument:
    id: str
    parent_id: str
    file_name: str
    content: bytes
    read_only: bool = False


@dataclass
class SnelStartSalesBooking:
    """A verkoopboeking; its verkoopfactuur (open item) is derived from it plus the bank bookings."""

    id: str
    factuurnummer: str
    factuurdatum: date
    klant_id: str
    factuurbedrag: Decimal
    betalingstermijn: int
    boekingsregels: list[SnelStartBookingLine]
    btw: list[tuple[str, Decimal]]  # (btwSoort in the sales vocabulary, btwBedrag)
    omschrijving: str = ""
    boekstuk: str = ""
    verkoopfactuur_id: str = field(default_factory=new_guid)
    modified_on: datetime = field(default_factory=lambda: datetime(2020, 1, 1, 9, 0))


@dataclass
class SnelStartBankLine:
    """One `verkoopboekingBoekingsRegels` row: money received (`credit`) against a sales booking."""

    boeking_id: str
    credit: Decimal
    debet: Decimal = Decimal("0")
    omschrijving: str = ""


@dataclass
class SnelStartBankBooking:
    id: str
    datum: date
    omschrijving: str
    bedrag_ontvangen: Decimal
    verkoop_regels: list[SnelStartBankLine]
    bedrag_uitgegeven: Decimal = Decimal("0")
    dagboek_id: str = "00000000-0000-0000-0000-00000000ba4c"
    modified_on: datetime = field(default_factory=lambda: datetime(2020, 1, 1, 9, 0))


@dataclass
class SnelStartAdministration:
    id: str  # administratieIdentifier
    naam: str  # administratieNaam
    bedrijfsnaam: str
    btw_nummer: str = ""
    kvk_nummer: str = ""
    vat_rates: list[SnelStartVatRate] = field(default_factory=list)
    ledgers: dict[str, SnelStartLedger] = field(default_factory=dict)
    kostenplaatsen: dict[str, SnelStartKostenplaats] = field(default_factory=dict)
    relaties: dict[str, SnelStartRelatie] = field(default_factory=dict)
    bookings: dict[str, SnelStartSalesBooking] = field(default_factory=dict)
    documents: dict[str, SnelStartDocument] = field(default_factory=dict)
    bank_bookings: dict[str, SnelStartBankBooking] = field(default_factory=dict)

    def open_balance(self, booking: SnelStartSalesBooking) -> Decimal:
        """`verkoopfacturen.openstaandSaldo`: the amount less what bank bookings settled against it."""
        settled = sum(
            (line.credit - line.debet
             for bank in self.bank_bookings.values() for line in bank.verkoop_regels
             if line.boeking_id == booking.id),
            Decimal("0.00"),
        )
        return cents(booking.factuurbedrag - settled)


@dataclass
class SnelStartKey:
    """A koppelsleutel: opens exactly one administration, with the scopes its subscription allows."""

    koppelsleutel: str
    administration_id: str
    scopes: list[str]
    revoked: bool = False


@dataclass
class SnelStartTenant:
    """What SnelStart knows: the partner's subscription keys, the administrations and the issued keys."""

    subscription_keys: list[str] = field(default_factory=list)
    administrations: dict[str, SnelStartAdministration] = field(default_factory=dict)
    keys: dict[str, SnelStartKey] = field(default_factory=dict)  # koppelsleutel -> key
    # The activation page's webhook (the partner registers one URL per appShortName).
    webhook_url: str | None = None


ALL_SCOPES = [
    "boekhouden:read", "boekhouden:write", "documenten:read", "documenten:write", "relaties:read",
    "relaties:write", "orders:read", "bankieren:read", "settings:read",
    "settings:write",  # POST /kostenplaatsen: a kostenplaats per project
]


# ------------------------------------------------------------------------------------------------- World


# The key a one-account world's account goes by, and the one an old single-account state file loads as: the
# demo's first customer.
FIRST_ACCOUNT = "studio-noord"


@dataclass
class World:
    """Several Gripp accounts (each its own API tokens, identities and data) beside one SnelStart, which holds
    every account's administrations: the deployment has one subscription key, each customer their own keys."""

    gripp_accounts: dict[str, GrippAccount] = field(default_factory=lambda: {FIRST_ACCOUNT: GrippAccount()})
    snelstart: SnelStartTenant = field(default_factory=SnelStartTenant)
    # Sandbox "today": the seed's payments and ageing are relative to it.
    today: date = field(default_factory=lambda: date(2026, 11, 28))
    # The real moment (epoch seconds) the sandbox's calendar stood at noon on `today`: the first time a console or
    # a command opened this world (`sandbox.calendar_clock`). None until then, and in tests, whose clocks start on
    # `today` themselves.
    opened_at: float | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @property
    def gripp(self) -> GrippAccount:
        """The first account: what a caller that knows of only one account means."""
        return next(iter(self.gripp_accounts.values()))

    def gripp_account(self, key: str) -> GrippAccount:
        try:
            return self.gripp_accounts[key]
        except KeyError:
            raise KeyError(f"the sandbox has no Gripp account {key!r}") from None

    def account_of_token(self, token: str | None) -> str | None:
        """The key of the account this API token belongs to; None for a token no account has."""
        if not token:
            return None
        with self.lock:
            return next((key for key, account in self.gripp_accounts.items() if token in account.api_tokens), None)

    def save(self, path: Path) -> None:
        text = self.to_json()
        tmp = path.with_suffix(".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # atomic: a crash mid-save leaves the previous state

    @classmethod
    def load(cls, path: Path) -> World:
        return cls.from_json(path.read_text(encoding="utf-8"))

    def to_json(self) -> str:
        """The whole world as the state file holds it."""
        with self.lock:
            payload = _encode(_as_plain(self))
        return json.dumps(payload, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> World:
        """A world of its own from `to_json`'s text (also a copy: nothing is shared with the world it came from)."""
        return _decode_world(json.loads(text))


def _as_plain(value: Any) -> Any:
    """Like dataclasses.asdict, minus the lock (asdict would try to deep-copy it)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _as_plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "lock"}
    if isinstance(value, dict):
        return {k: _as_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_plain(v) for v in value]
    return value


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        import base64

        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {"$map": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        if "$d" in value:
            return Decimal(value["$d"])
        if "$dt" in value:
            return datetime.fromisoformat(value["$dt"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$b" in value:
            import base64

            return base64.b64decode(value["$b"])
        if "$map" in value:
            return {_plain(k): _plain(v) for k, v in value["$map"]}
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _build(cls: type, data: dict[str, Any]) -> Any:
    """Rebuild a dataclass tree from plain values, guided by the field annotations."""
    kwargs = {name: _coerce(hint, data[name]) for name, hint in _field_hints(cls) if name in data}
    return cls(**kwargs)


@functools.cache
def _field_hints(cls: type) -> tuple[tuple[str, Any], ...]:
    """Each field's name and resolved annotation, once per class: resolving the string annotations is most of a
    load's time when done for every record."""
    import typing

    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _coerce(hint: Any, value: Any) -> Any:
    import typing

    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, dict):
        return _build(hint, value)
    if origin is dict and args and isinstance(value, dict):
        return {k: _coerce(args[1], v) for k, v in value.items()}
    if origin is list and args and isinstance(value, list):
        return [_coerce(args[0], v) for v in value]
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in args:
            if isinstance(arg, type) and dataclasses.is_dataclass(arg) and isinstance(value, dict):
                return _build(arg, value)
    return value


def _decode_world(payload: dict[str, Any]) -> World:
    plain = _plain(payload)
    if "gripp" in plain and "gripp_accounts" not in plain:  # a state file from before there were several accounts
        plain["gripp_accounts"] = {FIRST_ACCOUNT: plain.pop("gripp")}
    return _build(World, plain)
