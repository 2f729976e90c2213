"""A tiny hand-built SnelStart world and a harness around the simulator, for the SnelStart tests.

Independent of the full seed: one tenant with a subscription key, two administrations, a handful of ledgers and
relaties, the VAT history across the 2019 change, one booking with a partial bank payment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from sync.core.retry import RetryPolicy
from sync.sandbox.faults import Faults
from sync.sandbox.snelstart_sim import SnelStartSimulator
from sync.sandbox.world import (
    SnelStartAdministration,
    SnelStartBankBooking,
    SnelStartBankLine,
    SnelStartBookingLine,
    SnelStartLedger,
    SnelStartRelatie,
    SnelStartSalesBooking,
    SnelStartTenant,
    SnelStartVatRate,
    World,
)
from sync.snelstart.client import SnelStartClient

SUBSCRIPTION_KEY = "test-subscription-key-0001"
WEBHOOK_URL = "https://console.test/webhooks/snelstart"
APP = "gripp-sandbox"
BASE = "http://sandbox.test/sandbox/snelstart"
API_URL = f"{BASE}/api/v2"
AUTH_URL = f"{BASE}/auth"
WEB_URL = f"{BASE}/web"

ADM_ID = "6b0f9d0e-1c1a-4c55-9d1e-0000000000a1"
ADM2_ID = "6b0f9d0e-1c1a-4c55-9d1e-0000000000a2"
LEDGER_HOOG = "bc9c3ab2-7f8f-449f-99ac-000000008000"
LEDGER_LAAG = "bc9c3ab2-7f8f-449f-99ac-000000008010"
LEDGER_VERLEGD = "bc9c3ab2-7f8f-449f-99ac-000000008020"
LEDGER_INACTIVE = "bc9c3ab2-7f8f-449f-99ac-000000008100"
LEDGER_BANK = "bc9c3ab2-7f8f-449f-99ac-000000001100"
KLANT_JANSEN = "5830cec3-8929-4703-80b4-000000000001"
KLANT_OBRIEN = "5830cec3-8929-4703-80b4-000000000002"
LEVERANCIER = "5830cec3-8929-4703-80b4-000000000003"
KLANT_INACTIVE = "5830cec3-8929-4703-80b4-000000000004"
BOOKING_1 = "9f1c0000-0000-4000-8000-000000000001"
FACTUUR_1 = "77aa0000-0000-4000-8000-000000000001"
BANK_1 = "ba4c0000-0000-4000-8000-000000000001"


def make_world() -> World:
    adm = SnelStartAdministration(
        id=ADM_ID, naam="Demo Advies BV", bedrijfsnaam="Demo Advies B.V.", btw_nummer="NL001234567B01",
        kvk_nummer="12345678",
        vat_rates=[
            SnelStartVatRate("Hoog", Decimal("21")),
            SnelStartVatRate("Laag", Decimal("6"), date(1900, 1, 1), date(2018, 12, 31)),
            SnelStartVatRate("Laag", Decimal("9"), date(2019, 1, 1)),
            SnelStartVatRate("Geen", Decimal("0")),
        ],
        ledgers={
            LEDGER_HOOG: SnelStartLedger(LEDGER_HOOG, 8000, "Omzet hoog", "VerkopenOmzetHoog", ["Hoog"]),
            LEDGER_LAAG: SnelStartLedger(LEDGER_LAAG, 8010, "Omzet laag", "VerkopenOmzetLaag", ["Laag"]),
            LEDGER_VERLEGD: SnelStartLedger(LEDGER_VERLEGD, 8020, "Omzet verlegd", "VerkopenOmzetOnbelastVerlegd",
                                            ["Geen"]),
            LEDGER_INACTIVE: SnelStartLedger(LEDGER_INACTIVE, 8100, "Omzet oud", "VerkopenOmzetHoog", ["Hoog"],
                                             nonactief=True),
            LEDGER_BANK: SnelStartLedger(LEDGER_BANK, 1100, "Bank", "DagboekBank", ["Geen"], rekening_code="Balans"),
        },
        relaties={
            KLANT_JANSEN: SnelStartRelatie(KLANT_JANSEN, 1, "Bakkerij Jansen B.V.", ["Klant"],
                                           email="factuur@jansen.test", kvk_nummer="87654321"),
            KLANT_OBRIEN: SnelStartRelatie(KLANT_OBRIEN, 2, "O'Brien & Zn", ["Klant"]),
            LEVERANCIER: SnelStartRelatie(LEVERANCIER, 3, "Kantoorartikelen BV", ["Leverancier"]),
            KLANT_INACTIVE: SnelStartRelatie(KLANT_INACTIVE, 4, "Gestopt BV", ["Klant"], nonactief=True),
        },
    )
    adm.bookings[BOOKING_1] = SnelStartSalesBooking(
        id=BOOKING_1, factuurnummer="2025-0001", factuurdatum=date(2025, 3, 14), klant_id=KLANT_JANSEN,
        factuurbedrag=Decimal("121.00"), betalingstermijn=30,
        boekingsregels=[SnelStartBookingLine(LEDGER_HOOG, Decimal("100.00"), "Hoog", "Advies maart")],
        btw=[("VerkopenHoog", Decimal("21.00"))], omschrijving="Factuur 2025-0001", verkoopfactuur_id=FACTUUR_1,
    )
    adm.bank_bookings[BANK_1] = SnelStartBankBooking(
        id=BANK_1, datum=date(2025, 4, 2), omschrijving="Betaling Jansen", bedrag_ontvangen=Decimal("50.00"),
        verkoop_regels=[SnelStartBankLine(BOOKING_1, Decimal("50.00"), omschrijving="2025-0001")],
        modified_on=datetime(2025, 4, 2, 8, 15),
    )
    adm2 = SnelStartAdministration(id=ADM2_ID, naam="Tweede Administratie", bedrijfsnaam="Tweede B.V.",
                                   vat_rates=[SnelStartVatRate("Hoog", Decimal("21"))])
    return World(snelstart=SnelStartTenant(
        subscription_keys=[SUBSCRIPTION_KEY], administrations={ADM_ID: adm, ADM2_ID: adm2}, webhook_url=WEBHOOK_URL,
    ))


def booking_body(factuurnummer: str = "2025-0042", **changes: Any) -> dict[str, Any]:
    """A valid verkoopboeking for Jansen: 100.00 + 21% VAT."""
    body: dict[str, Any] = {
        "factuurnummer": factuurnummer, "factuurdatum": "2025-03-14T00:00:00", "klant": {"id": KLANT_JANSEN},
        "omschrijving": f"Factuur {factuurnummer}", "factuurbedrag": Decimal("121.00"), "betalingstermijn": 30,
        "boekingsregels": [{"omschrijving": "Advies", "grootboek": {"id": LEDGER_HOOG}, "bedrag": Decimal("100.00"),
                            "btwSoort": "Hoog"}],
        "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": Decimal("21.00")}],
    }
    body.update(changes)
    return body


class FakeClock:
    def __init__(self, start: float = 1_770_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSleep:
    def __init__(self, clock: FakeClock | None = None) -> None:
        self.calls: list[float] = []
        self.clock = clock

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)


class Harness:
    """The simulator behind an in-process transport, with the sandbox's fault semantics."""

    def __init__(self, world: World | None = None, **sim_options: Any) -> None:
        self.world = world or make_world()
        self.clock = sim_options.pop("clock", None) or FakeClock()
        self.webhooks: list[dict[str, Any]] = []
        self.webhook_status = 200
        self.sim = SnelStartSimulator(self.world, clock=self.clock,
                                      webhook_transport=httpx.MockTransport(self._webhook), **sim_options)
        self.faults = Faults()
        self.requests: list[httpx.Request] = []
        self.wrap: Callable[[httpx.Request, Callable[[], httpx.Response]], httpx.Response] | None = None

    def _webhook(self, request: httpx.Request) -> httpx.Response:
        self.webhooks.append({"url": str(request.url), "json": json.loads(request.content)})
        return httpx.Response(self.webhook_status)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for prefix, service, handler in (
            ("/snelstart/auth/", "snelstart-auth", self.sim.handle_auth),
            ("/snelstart/api/v2/", "snelstart-api", self.sim.handle_api),
            ("/snelstart/web/", "snelstart-web", self.sim.handle_web),
        ):
            index = path.find(prefix)
            if index >= 0:
                return self._dispatch(service, handler, request, path[index + len(prefix):])
        return httpx.Response(404, json={"Message": f"no route {path}"})

    def _dispatch(self, service: str, handler: Callable[[httpx.Request, str], httpx.Response],
                  request: httpx.Request, subpath: str) -> httpx.Response:
        # As `Sandbox._dispatch` does: status/timeout faults before the service, lost/broken answers after.
        injected = self.faults.answer_before(service, request)
        if injected is not None:
            return injected
        return self.faults.answer_after(service, request, handler(request, subpath))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def key(self, administration_id: str = ADM_ID, scopes: list[str] | None = None) -> str:
        return self.sim.issue_key(administration_id, scopes)

    def client(self, koppelsleutel: str | None = None, *, subscription_key: str = SUBSCRIPTION_KEY,
               transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] | None = None,
               policy: RetryPolicy | None = None) -> SnelStartClient:
        return SnelStartClient(
            API_URL, AUTH_URL, subscription_key, koppelsleutel or self.key(),
            transport=transport or self.transport(), sleep=sleep or FakeSleep(), clock=self.clock,
            policy=policy or RetryPolicy(rng=lambda: 0.5),
        )

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if "/api/v2/" in r.url.path]

    def token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/b2b/token")]
