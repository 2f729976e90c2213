"""A tiny hand-built Gripp world, a fake clock and wiring for the Gripp client/simulator tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from sync.core.retry import RetryPolicy
from sync.gripp.client import GrippClient
from sync.sandbox.gripp_sim import GrippSimulator
from sync.sandbox.world import (
    GrippCompany,
    GrippInvoice,
    GrippInvoiceLine,
    GrippLedger,
    GrippPayment,
    GrippVatRate,
    World,
)

TOKEN = "gripp-test-token-7f3a9c"
BASE = "https://gripp.test"
API_URL = f"{BASE}/public/api3.php"
PDF_BASE = f"{BASE}/pdf"
IDENTITY = 1
VAT_HIGH, VAT_LOW, VAT_ZERO, VAT_SHIFTED = 27, 28, 29, 30
LEDGER_HIGH, LEDGER_LOW = 501, 502
# 2025-06-01 12:00:00 UTC: a summer moment for the simulator's "now".
SUMMER_TS = 1748779200.0


@dataclass
class FakeClock:
    """One notion of time for a test: sleeping advances it."""

    now: float = SUMMER_TS
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def line(line_id: int, amount: str, price: str, vat_id: int, ledger_id: int, text: str = "") -> GrippInvoiceLine:
    return GrippInvoiceLine(id=line_id, amount=Decimal(amount), sellingprice=Decimal(price), vat_id=vat_id,
                            ledger_id=ledger_id, description=text, ordering=line_id)


def make_world() -> World:
    world = World()
    account = world.gripp
    account.api_tokens = [TOKEN]
    account.identities = {IDENTITY: "Studio Noord B.V.", 2: "Noord Academy"}
    account.vat_rates = {
        VAT_HIGH: GrippVatRate(VAT_HIGH, "21%", Decimal("21")),
        VAT_LOW: GrippVatRate(VAT_LOW, "9%", Decimal("9")),
        VAT_ZERO: GrippVatRate(VAT_ZERO, "0%", Decimal("0")),
        VAT_SHIFTED: GrippVatRate(VAT_SHIFTED, "Verlegd", Decimal("0"), reverse_charge=True),
    }
    account.ledgers = {
        LEDGER_HIGH: GrippLedger(LEDGER_HIGH, "8000", "Omzet hoog"),
        LEDGER_LOW: GrippLedger(LEDGER_LOW, "8010", "Omzet laag"),
    }
    account.companies = {
        101: GrippCompany(101, 10001, "Bakkerij Jansen B.V.", IDENTITY, vatnumber="NL001234567B01",
                          visitingaddress_street="Dorpsstraat", visitingaddress_streetnumber="12",
                          visitingaddress_zipcode="1234 AB", visitingaddress_city="Zwolle"),
        102: GrippCompany(102, 10002, "Café De Hoek", IDENTITY, email="info@dehoek.nl"),
        103: GrippCompany(103, 10003, "Bouwbedrijf Verlegd B.V.", 2, vatshifted=True,
                          updatedon=datetime(2025, 1, 15, 9, 30)),
    }
    account.invoices = {
        1001: GrippInvoice(
            id=1001, number=20250001, identity_id=IDENTITY, company_id=101, date=date(2025, 3, 2),
            expirydate=date(2025, 4, 1), status="SENT", subject="Website maart",
            lines=[line(5001, "10", "100.00", VAT_HIGH, LEDGER_HIGH, "Ontwerp €"),
                   line(5002, "1", "50.00", VAT_LOW, LEDGER_LOW, "Boek")],
            createdon=datetime(2025, 3, 2, 10, 0), clientreference="PO-778"),
        1002: GrippInvoice(
            id=1002, number=20250002, identity_id=IDENTITY, company_id=102, date=date(2025, 7, 10),
            expirydate=date(2025, 8, 9), status="SENT", subject="Koffie",
            lines=[line(5003, "3", "12.10", VAT_LOW, LEDGER_LOW, "Koffiebonen")],
            createdon=datetime(2025, 7, 10, 8, 0), updatedon=datetime(2025, 7, 15, 14, 5, 9)),
        1003: GrippInvoice(
            id=1003, number=20250003, identity_id=IDENTITY, company_id=101, date=date(2025, 12, 1),
            expirydate=date(2025, 12, 31), status="CONCEPT", subject="Concept",
            lines=[line(5004, "1", "200.00", VAT_HIGH, LEDGER_HIGH, "Advies")],
            createdon=datetime(2025, 12, 1, 9, 0)),
        1004: GrippInvoice(
            id=1004, number=20250004, identity_id=2, company_id=103, date=date(2025, 12, 20),
            expirydate=date(2026, 1, 19), status="SENT", subject="Creditnota",
            lines=[line(5005, "1", "-400.00", VAT_SHIFTED, LEDGER_HIGH, "Creditering")],
            createdon=datetime(2025, 12, 20, 16, 56, 26), updatedon=datetime(2025, 12, 21, 9, 0)),
    }
    account.payments = {
        7001: GrippPayment(7001, 1002, date(2025, 7, 20), Decimal("10.00"), notes="deel"),
    }
    return world


def add_invoices(world: World, count: int, start_id: int = 10_000) -> list[int]:
    """`count` simple sent invoices, one line each, for paging tests."""
    ids = []
    for offset in range(count):
        invoice_id = start_id + offset
        world.gripp.invoices[invoice_id] = GrippInvoice(
            id=invoice_id, number=30_000_000 + offset, identity_id=IDENTITY, company_id=102,
            date=date(2024, 1, 1) + timedelta(days=offset % 300), expirydate=date(2024, 12, 31), status="SENT",
            subject=f"Factuur {offset}", lines=[line(invoice_id * 10, "1", "10.00", VAT_HIGH, LEDGER_HIGH)],
            createdon=datetime(2024, 1, 1, 9, 0))
        ids.append(invoice_id)
    return ids


def make_sim(world: World | None = None, **options: Any) -> GrippSimulator:
    options.setdefault("pdf_base_url", PDF_BASE)
    return GrippSimulator(world or make_world(), **options)


def route(sim: GrippSimulator) -> Callable[[httpx.Request], httpx.Response]:
    """What the sandbox's dispatcher does for Gripp: the API and the PDF links."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if "/pdf/" in path:
            return sim.handle_pdf(request, path.split("/pdf/", 1)[1])
        return sim.handle(request, path.lstrip("/"))

    return handler


def no_backoff() -> RetryPolicy:
    """Deterministic backoff: the full cap of each step (base 0.5 s, doubling)."""
    return RetryPolicy(rng=lambda: 1.0)


def make_client(
    handler: Callable[[httpx.Request], httpx.Response],
    clock: FakeClock | None = None,
    token: str = TOKEN,
    **options: Any,
) -> GrippClient:
    clock = clock or FakeClock()
    options.setdefault("policy", no_backoff())
    return GrippClient(API_URL, token, transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock,
                       **options)


def sim_client(world: World | None = None, clock: FakeClock | None = None, **options: Any) -> tuple[
        GrippClient, GrippSimulator, World]:
    world = world or make_world()
    sim = make_sim(world)
    return make_client(route(sim), clock, **options), sim, world
