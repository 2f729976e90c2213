"""Small sandbox worlds for the right-records scenarios: one Gripp identity linked to one SnelStart
administration, with exactly the customers, invoices, bookings and bank lines a scenario needs.

`Tiny.copy(tmp_path, name)` is one copy of the link: its own DuckDB file, its own sandbox front (own faults and
call log) over the shared world. Two copies on one world are two databases against one administration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from sync.core.clock import RunningClock
from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.dates import AMSTERDAM
from sync.core.money import cents
from sync.core.vault import vault_for
from sync.jobs import locks, runner
from sync.jobs.payments import MARKER_KEY
from sync.jobs.runner import RunResult, run_identity
from sync.sandbox.sandbox import Sandbox, world_noon
from sync.sandbox.seed import (
    VAT_0,
    VAT_9,
    VAT_21,
    DemoLink,
    MappingRow,
    SandboxSetup,
    correct_mappings,
    gripp_ledgers,
    gripp_vat_rates,
    guid,
    koppelsleutel_for,
    snelstart_vat_history,
    standard_chart,
)
from sync.sandbox.world import (
    ALL_SCOPES,
    GrippCompany,
    GrippInvoice,
    GrippInvoiceLine,
    GrippVatRate,
    SnelStartAdministration,
    SnelStartBankBooking,
    SnelStartBankLine,
    SnelStartBookingLine,
    SnelStartDocument,
    SnelStartKey,
    SnelStartRelatie,
    SnelStartSalesBooking,
    World,
)
from sync.store.db import Store
from sync.wiring import Services, bootstrap_sandbox_setup
from tests.conftest import CONSOLE_URL, sandbox_settings

IDENTITY = 1
ADMIN = "c0000001-0000-4000-8000-000000000001"
START = date(2025, 1, 1)
TODAY = date(2025, 6, 30)
VAT_21_B = 7  # a second Gripp rate of 21 % ("21% diensten"), mapped to Hoog too
LEDGER_HIGH, LEDGER_LOW, LEDGER_ZERO = 8000, 8010, 8020


@dataclass
class Copy:
    """One copy of the link: its database and its view of the sandbox."""

    name: str
    services: Services
    sandbox: Sandbox

    def run(self) -> RunResult:
        """One sync run. Each copy stands for its own process: its "one sync per identity" lock is its own."""
        own_lock = runner.exclusive
        runner.exclusive = lambda key, wait=False: locks.exclusive((self.name, key), wait=wait)
        self.services.gripp_freshness.forget()
        try:
            return run_identity(self.services, IDENTITY, trigger="cli")
        finally:
            runner.exclusive = own_lock

    def close(self) -> None:
        self.services.close()


@dataclass
class Tiny:
    world: World
    setup: SandboxSetup
    clock: RunningClock
    _line_id: int = 50_000
    _bank_seq: int = 0
    copies: list[Copy] = field(default_factory=list)

    @property
    def admin(self) -> SnelStartAdministration:
        return self.world.snelstart.administrations[ADMIN]

    # -- Gripp ------------------------------------------------------------------------------------------
    def company(self, company_id: int, number: int, name: str, *, vat: str = "", kvk: str = "") -> GrippCompany:
        company = GrippCompany(company_id, number, name, IDENTITY, vatnumber=vat, cocnumber=kvk,
                               invoiceemail=f"factuur@klant{number}.nl", createdon=datetime(2024, 1, 2, 9, 0))
        self.world.gripp.companies[company_id] = company
        return company

    def invoice(self, invoice_id: int, number: int, company_id: int, on: date,
                lines: list[tuple[str, str, int, int]], *, status: str = "SENT") -> GrippInvoice:
        """`lines`: (quantity, price, Gripp VAT id, Gripp ledger id)."""
        made = []
        for quantity, price, vat_id, ledger_id in lines:
            self._line_id += 1
            made.append(GrippInvoiceLine(self._line_id, Decimal(quantity), Decimal(price), vat_id, ledger_id,
                                         f"Werkzaamheden {self._line_id}", ordering=len(made)))
        invoice = GrippInvoice(invoice_id, number, IDENTITY, company_id, on, on + timedelta(days=30), status,
                               f"Factuur {number}", made, createdon=datetime.combine(on, time(9, 0)))
        self.world.gripp.invoices[invoice_id] = invoice
        return invoice

    def totals(self, invoice_id: int) -> dict[str, Decimal]:
        return self.world.gripp.invoice_totals(self.world.gripp.invoices[invoice_id])

    def open_in_gripp(self, invoice_id: int) -> Decimal:
        return self.totals(invoice_id)["totalopeninclvat"]

    def our_payments(self, invoice_id: int) -> list:
        return [p for p in self.world.gripp.invoice_payments(invoice_id)
                if p.extendedproperties and MARKER_KEY in p.extendedproperties]

    # -- SnelStart --------------------------------------------------------------------------------------
    def relatie(self, code: int, name: str, *, vat: str = "", kvk: str = "",
                kinds: tuple[str, ...] = ("Klant",)) -> SnelStartRelatie:
        relatie = SnelStartRelatie(guid(ADMIN, "relatie", code), code, name, list(kinds), btw_nummer=vat,
                                   kvk_nummer=kvk, modified_on=datetime(2024, 1, 3, 9, 0))
        self.admin.relaties[relatie.id] = relatie
        return relatie

    def booking(self, number: str, relatie: SnelStartRelatie, on: date, net: str, *, vat: str | None = None,
                modified_on: datetime | None = None, with_pdf: bool = False) -> SnelStartSalesBooking:
        """A booking already in SnelStart (typed by hand, or the old link's): one Hoog line plus its VAT."""
        amount = Decimal(net)
        tax = cents(amount * Decimal("0.21")) if vat is None else Decimal(vat)
        hoog = next(g for g in self.admin.ledgers.values() if g.nummer == LEDGER_HIGH)
        booking = SnelStartSalesBooking(
            id=guid(ADMIN, "verkoopboeking", number), factuurnummer=number, factuurdatum=on, klant_id=relatie.id,
            factuurbedrag=amount + tax, betalingstermijn=30,
            boekingsregels=[SnelStartBookingLine(hoog.id, amount, "Hoog", "Met de hand geboekt")],
            btw=[("VerkopenHoog", tax)], omschrijving=f"Factuur {number}", boekstuk=number,
            verkoopfactuur_id=guid(ADMIN, "verkoopfactuur", number),
            modified_on=modified_on or datetime.combine(on + timedelta(days=1), time(10, 0)),
        )
        self.admin.bookings[booking.id] = booking
        if with_pdf:
            doc_id = guid(ADMIN, "document", number)
            self.admin.documents[doc_id] = SnelStartDocument(doc_id, booking.id, f"{number}.pdf", b"%PDF-1.4 old")
        return booking

    def booking_of(self, number: str) -> SnelStartSalesBooking:
        found = [b for b in self.admin.bookings.values() if b.factuurnummer == number]
        assert len(found) == 1, f"{len(found)} bookings numbered {number}"
        return found[0]

    def bookings_numbered(self, number: str) -> int:
        return sum(1 for b in self.admin.bookings.values() if b.factuurnummer == number)

    def documents_of(self, booking_id: str) -> int:
        return sum(1 for d in self.admin.documents.values() if d.parent_id == booking_id)

    def bank(self, booking_id: str, on: date, credit: str = "0", debet: str = "0") -> SnelStartBankBooking:
        """Money received (credit) or sent back, a storno (debet), against a sales booking."""
        self._bank_seq += 1
        line = SnelStartBankLine(booking_id, Decimal(credit), Decimal(debet), "Bank")
        net = line.credit - line.debet
        bank = SnelStartBankBooking(guid(ADMIN, "bank", self._bank_seq), on, "Bankafschrift",
                                    max(net, Decimal(0)), [line], bedrag_uitgegeven=max(-net, Decimal(0)),
                                    modified_on=self.now() or datetime.combine(on, time(16, 0)))
        self.admin.bank_bookings[bank.id] = bank
        return bank

    def now(self) -> datetime | None:
        """SnelStart's and Gripp's "now" (the shared test clock) once a copy of the link runs: what they stamp on a
        record entered at this moment. None before that (the world's history is dated by hand)."""
        if not self.copies:
            return None
        return datetime.fromtimestamp(self.clock(), AMSTERDAM).replace(tzinfo=None, microsecond=0)

    def ss_open(self, booking_id: str) -> Decimal:
        return self.admin.open_balance(self.admin.bookings[booking_id])

    # -- the link ---------------------------------------------------------------------------------------
    def copy(self, tmp_path: Path, name: str = "a") -> Copy:
        """A copy of the link with its own database (`tmp_path/name`), on this world."""
        folder = tmp_path / name
        settings = sandbox_settings(folder)
        sandbox = Sandbox(self.world, base_url=CONSOLE_URL, clock=self.clock)
        services = Services(settings=settings, store=Store(settings.db_path, clock=self.clock),
                            vault=vault_for(settings), sandbox=sandbox, transport=sandbox.transport(),
                            sleep=lambda seconds: None)
        bootstrap_sandbox_setup(services, self.setup)
        made = Copy(name, services, sandbox)
        self.copies.append(made)
        return made

    def close(self) -> None:
        for made in self.copies:
            made.close()


def tiny_world() -> Tiny:
    """One identity (start date 2025-01-01) linked to one administration with the standard chart and the Dutch
    VAT history; Gripp rates 21 %, a second 21 %, 9 % and 0 %, correctly mapped. No customers or invoices."""
    world = World(today=TODAY)
    gripp, tenant = world.gripp, world.snelstart
    gripp.identities = {IDENTITY: "Studio Klein B.V."}
    gripp.vat_rates = gripp_vat_rates()
    gripp.vat_rates[VAT_21_B] = GrippVatRate(VAT_21_B, "21% diensten", Decimal("21"))
    gripp.ledgers = gripp_ledgers()
    gripp.api_tokens = [SANDBOX_GRIPP_TOKEN]
    tenant.subscription_keys = [SANDBOX_SUBSCRIPTION_KEY]
    admin = SnelStartAdministration(id=ADMIN, naam="Studio Klein", bedrijfsnaam="Studio Klein B.V.",
                                    btw_nummer="NL009999999B01", kvk_nummer="99999999",
                                    vat_rates=snelstart_vat_history(), ledgers=standard_chart(ADMIN))
    tenant.administrations[ADMIN] = admin
    own = SnelStartRelatie(guid(ADMIN, "relatie", "eigen"), 1, "Studio Klein B.V.", ["Eigen"])
    admin.relaties[own.id] = own
    key = koppelsleutel_for("tiny")
    tenant.keys[key] = SnelStartKey(key, ADMIN, scopes=list(ALL_SCOPES))
    mappings = correct_mappings(IDENTITY, [VAT_21, VAT_9, VAT_0], [LEDGER_HIGH, LEDGER_LOW, LEDGER_ZERO])
    mappings.append(MappingRow(IDENTITY, "vat", VAT_21_B, "21% diensten", "Hoog", Decimal("21")))
    setup = SandboxSetup(links=[DemoLink(IDENTITY, "Studio Klein B.V.", ADMIN, "Studio Klein", key, START)],
                         mappings=mappings)
    return Tiny(world, setup, RunningClock(world_noon(world)))  # one "now" for the link and both services


def events_of(store: Store, kind: str) -> list[dict]:
    rows = store.rows("SELECT * FROM events WHERE kind = ? ORDER BY event_id", [kind])
    for row in rows:
        row["detail"] = json.loads(row["detail_json"]) if row.get("detail_json") else {}
    return rows
