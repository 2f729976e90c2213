"""What every seeded sandbox account is made of: the setup types (links, mappings), stable ids, the Dutch VAT
rates and charts of accounts both sides start from, and the booking a correct link makes for an invoice.

Shared by the demo seed (`seed`), its other customers (`seed_accounts`) and the bulk worlds (`bulk`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal

from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.money import ZERO, cents
from sync.sandbox.world import (
    GrippAccount,
    GrippInvoice,
    GrippLedger,
    GrippVatRate,
    SnelStartAdministration,
    SnelStartBookingLine,
    SnelStartLedger,
    SnelStartSalesBooking,
    SnelStartVatRate,
)

INTERVAL_MINUTES = 20

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://sandbox.gripp-snelstart.invalid/")


def guid(*parts: object) -> str:
    """A stable GUID for a named thing (uuid5), so the same seed gives the same ids in every run."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(str(p) for p in parts)))


def koppelsleutel_for(label: str) -> str:
    """64 random-looking hex characters, derived from a fixed label (not from the world seed) so the demo
    setup and the world agree whatever seed the world was built with."""
    return hashlib.sha256(f"gripp-snelstart-sandbox/koppelsleutel/{label}".encode()).hexdigest()


# ------------------------------------------------------------------------------------------- setup types


@dataclass(frozen=True)
class DemoLink:
    identity_id: int
    identity_name: str
    administration_id: str
    administration_name: str
    koppelsleutel: str
    start_date: date
    interval_minutes: int = INTERVAL_MINUTES


@dataclass(frozen=True)
class MappingRow:
    """One row of the mapping CSV `identity,type,gripp_id,gripp_label,snelstart,percentage`.

    `vat`: Gripp VAT id → SnelStart kind (Hoog/Laag/Overig/Geen/Verlegd) with the Gripp rate's percentage.
    `ledger`: Gripp ledger id → SnelStart grootboek number (as a string); percentage None.
    `kostenplaats`: Gripp kostenplaats (costheading) id → SnelStart kostenplaats number; percentage None.
    """

    identity_id: int
    type: Literal["vat", "ledger", "kostenplaats"]
    gripp_id: int
    gripp_label: str
    snelstart: str
    percentage: Decimal | None = None


@dataclass(frozen=True)
class SandboxSetup:
    """What "our side" is configured with: the links and the mappings (and, for bulk worlds, payments to
    apply once the first run has booked the invoices)."""

    links: list[DemoLink]
    mappings: list[MappingRow]
    gripp_api_token: str = SANDBOX_GRIPP_TOKEN
    subscription_key: str = SANDBOX_SUBSCRIPTION_KEY
    # (factuurnummer, bank date, amount): bank bookings need a booking id, so a benchmark applies these after
    # its first run has created the bookings.
    bulk_payments: list[tuple[str, date, Decimal]] = field(default_factory=list)

    def link(self, identity_id: int) -> DemoLink | None:
        return next((link for link in self.links if link.identity_id == identity_id), None)

    def mappings_for(self, identity_id: int, kind: str | None = None) -> list[MappingRow]:
        return [m for m in self.mappings if m.identity_id == identity_id and (kind is None or m.type == kind)]


@dataclass(frozen=True)
class SandboxAccount:
    """One Gripp customer in the sandbox: its account key, name and API token, and what our side is configured
    with for it (None: not linked yet)."""

    key: str
    name: str
    gripp_token: str
    setup: SandboxSetup | None


MAPPING_CSV_COLUMNS = ("identity", "type", "gripp_id", "gripp_label", "snelstart", "percentage")


def mappings_csv(rows: Iterable[MappingRow]) -> str:
    """The mappings in the CSV shape the console imports and exports."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MAPPING_CSV_COLUMNS)
    for r in rows:
        pct = "" if r.percentage is None else str(r.percentage)
        writer.writerow([r.identity_id, r.type, r.gripp_id, r.gripp_label, r.snelstart, pct])
    return out.getvalue()


# ------------------------------------------------------------------------------- shared chart definitions

# Gripp VAT rates (Instellingen > BTW-tarieven). Ids are what invoice lines carry.
VAT_21, VAT_9, VAT_6, VAT_0, VAT_VERLEGD, VAT_VRIJGESTELD = 1, 2, 3, 4, 5, 6


def gripp_vat_rates() -> dict[int, GrippVatRate]:
    return {
        VAT_21: GrippVatRate(VAT_21, "21%", Decimal("21")),
        VAT_9: GrippVatRate(VAT_9, "9%", Decimal("9")),
        VAT_6: GrippVatRate(VAT_6, "6% (t/m 2018)", Decimal("6")),
        VAT_0: GrippVatRate(VAT_0, "0%", Decimal("0")),
        VAT_VERLEGD: GrippVatRate(VAT_VERLEGD, "Verlegd", Decimal("0"), reverse_charge=True),
        VAT_VRIJGESTELD: GrippVatRate(VAT_VRIJGESTELD, "Vrijgesteld", Decimal("0")),
    }


# Gripp ledgers are account-wide. Their ids equal their numbers, so "8000→'8000'" reads the same either way.
GRIPP_LEDGERS = {
    8000: "Omzet hoog",
    8010: "Omzet laag",
    8020: "Omzet 0%",
    8030: "Omzet verlegd",
    8100: "Omzet cursussen",
    8200: "Omzet licenties",
    8300: "Omzet oud",
}


def gripp_ledgers() -> dict[int, GrippLedger]:
    return {n: GrippLedger(id=n, number=str(n), name=name) for n, name in GRIPP_LEDGERS.items()}


def snelstart_vat_history() -> list[SnelStartVatRate]:
    """`GET /btwtarieven`: the Dutch rates over time (Laag 6 % until 2018, 9 % from 2019)."""
    return [
        SnelStartVatRate("Hoog", Decimal("21"), date(1900, 1, 1), date(2400, 12, 31)),
        SnelStartVatRate("Laag", Decimal("6"), date(1900, 1, 1), date(2018, 12, 31)),
        SnelStartVatRate("Laag", Decimal("9"), date(2019, 1, 1), date(2400, 12, 31)),
        SnelStartVatRate("Geen", Decimal("0"), date(1900, 1, 1), date(2400, 12, 31)),
    ]


# (nummer, omschrijving, grootboekfunctie, btw_soorten, rekening_code)
_STANDARD_CHART: tuple[tuple[int, str, str, list[str], str], ...] = (
    (1100, "Bank", "DagboekBank", [], "Balans"),
    (1300, "Debiteuren", "Diversen", [], "Balans"),
    (1600, "Crediteuren", "Diversen", [], "Balans"),
    (4000, "Personeelskosten", "Diversen", [], "WinstEnVerlies"),
    (8000, "Omzet hoog", "VerkopenOmzetHoog", ["Hoog"], "WinstEnVerlies"),
    (8010, "Omzet laag", "VerkopenOmzetLaag", ["Laag"], "WinstEnVerlies"),
    (8020, "Omzet onbelast", "VerkopenBtwVrij", ["Geen"], "WinstEnVerlies"),
    (8030, "Omzet verlegd", "VerkopenOmzetOnbelastVerlegd", ["Geen"], "WinstEnVerlies"),
)


def standard_chart(admin_id: str, extra: Sequence[tuple[int, str, str, list[str], str, bool]] = ()) -> dict[
    str, SnelStartLedger
]:
    """The chart every sandbox administration has, plus admin-specific accounts `(…, nonactief)`."""
    rows = [(*row, False) for row in _STANDARD_CHART] + list(extra)
    ledgers: dict[str, SnelStartLedger] = {}
    for nummer, omschrijving, functie, soorten, rekening, nonactief in sorted(rows):
        ledger_id = guid(admin_id, "grootboek", nummer)
        ledgers[ledger_id] = SnelStartLedger(
            id=ledger_id, nummer=nummer, omschrijving=omschrijving, grootboekfunctie=functie,
            btw_soorten=list(soorten), rekening_code=rekening, nonactief=nonactief,
        )
    return ledgers


def soort_for(kind: str) -> str:
    """The booking line's btwSoort for a mapped VAT kind: reverse charge books as Geen (plus a Verlegd row)."""
    return "Geen" if kind == "Verlegd" else kind


_SALES_BTW = {"Hoog": "VerkopenHoog", "Laag": "VerkopenLaag", "Overig": "VerkopenOverig"}


def snelstart_percentage(rates: Iterable[SnelStartVatRate], soort: str, on: date) -> Decimal | None:
    for rate in rates:
        if rate.btw_soort == soort and rate.datum_vanaf <= on <= rate.datum_tot_en_met:
            return rate.percentage
    return None


def build_booking(
    account: GrippAccount,
    invoice: GrippInvoice,
    admin: SnelStartAdministration,
    mappings: Sequence[MappingRow],
    klant_id: str,
    *,
    total: Decimal | None = None,
    modified_on: datetime | None = None,
) -> SnelStartSalesBooking:
    """The verkoopboeking a correct link makes for a Gripp invoice (used for the old link's history).

    One boekingsregel per (ledger, btwSoort) with the net amounts; VAT per Gripp rate as Gripp computed it,
    summed per SnelStart soort; reverse charge books as Geen plus a zero VerkopenVerlegd row.
    """
    vat_kind = {m.gripp_id: m.snelstart for m in mappings if m.type == "vat"}
    ledger_no = {m.gripp_id: int(m.snelstart) for m in mappings if m.type == "ledger"}
    by_number = {led.nummer: led for led in admin.ledgers.values()}
    groups: dict[tuple[str, str], tuple[Decimal, list[str]]] = {}
    net_by_rate: dict[int, Decimal] = {}
    for line in invoice.money_lines:
        assert line.vat_id is not None and line.ledger_id is not None
        kind = vat_kind[line.vat_id]
        ledger = by_number[ledger_no[line.ledger_id]]
        key = (ledger.id, soort_for(kind))
        amount, texts = groups.get(key, (ZERO, []))
        if line.description not in texts:
            texts.append(line.description)
        groups[key] = (amount + line.net, texts)
        net_by_rate[line.vat_id] = net_by_rate.get(line.vat_id, ZERO) + line.net
    btw: dict[str, Decimal] = {}
    for vat_id, net in net_by_rate.items():
        kind = vat_kind[vat_id]
        rate = account.vat_rates[vat_id]
        if kind == "Verlegd":
            btw.setdefault("VerkopenVerlegd", ZERO)
        elif kind in _SALES_BTW:
            name = _SALES_BTW[kind]
            btw[name] = btw.get(name, ZERO) + cents(net * rate.percentage / Decimal(100))
    total = account.invoice_totals(invoice)["totalinclvat"] if total is None else total
    lines = [
        SnelStartBookingLine(grootboek_id=ledger_id, bedrag=cents(amount), btw_soort=soort,
                             omschrijving="; ".join(texts)[:250])
        for (ledger_id, soort), (amount, texts) in groups.items()
    ]
    number = str(invoice.number)
    booking = SnelStartSalesBooking(
        id=guid(admin.id, "verkoopboeking", number),
        factuurnummer=number,
        factuurdatum=invoice.date,
        klant_id=klant_id,
        factuurbedrag=total,
        betalingstermijn=(invoice.expirydate - invoice.date).days,
        boekingsregels=lines,
        btw=sorted(btw.items()),
        omschrijving=f"Factuur {number}: {invoice.subject}"[:250],
        boekstuk=number,
        verkoopfactuur_id=guid(admin.id, "verkoopfactuur", number),
        modified_on=modified_on or datetime.combine(invoice.date + timedelta(days=1), time(2, 15)),
    )
    balance = sum((r.bedrag for r in lines), ZERO) + sum((b for _, b in booking.btw), ZERO)
    assert balance == total, f"booking {number} does not balance: {balance} != {total}"
    return booking



def _vat_row(identity_id: int, vat_id: int, kind: str) -> MappingRow:
    rate = gripp_vat_rates()[vat_id]
    return MappingRow(identity_id, "vat", vat_id, rate.label, kind, rate.percentage)


def _ledger_row(identity_id: int, ledger_id: int, snelstart_number: int | None = None) -> MappingRow:
    return MappingRow(identity_id, "ledger", ledger_id, f"{ledger_id} {GRIPP_LEDGERS[ledger_id]}",
                      str(snelstart_number or ledger_id), None)


def correct_mappings(identity_id: int, vat_ids: Iterable[int], ledger_ids: Iterable[int]) -> list[MappingRow]:
    """The mapping a careful person (or the suggestion step) would make for these Gripp ids."""
    kinds = {VAT_21: "Hoog", VAT_9: "Laag", VAT_6: "Laag", VAT_0: "Geen", VAT_VERLEGD: "Verlegd",
             VAT_VRIJGESTELD: "Geen"}
    return [_vat_row(identity_id, v, kinds[v]) for v in sorted(set(vat_ids))] + [
        _ledger_row(identity_id, n) for n in sorted(set(ledger_ids))
    ]



def nl_vat_number(rng: random.Random) -> str:
    """An NL VAT number that passes the 11-test on its nine digits (as the old BTW numbers do)."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "NL" + "".join(map(str, digits)) + str(check) + f"B{rng.choice(('01', '01', '01', '02'))}"

