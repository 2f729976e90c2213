"""The Gripp client against the simulator over a real socket (uvicorn on 127.0.0.1)."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader

from sync.gripp.client import GrippClient
from sync.gripp.filters import Filter
from sync.gripp.models import Invoice
from sync.sandbox.asgi import asgi_app
from tests.gripp_fixtures import TOKEN, FakeClock, add_invoices, make_sim, make_world, route
from tests.servers import serve_asgi

pytestmark = pytest.mark.loopback


def serving(make_handler: Callable[[str], Callable[[httpx.Request], httpx.Response]]):
    """Serve the handler built for the server's base URL; yield that URL."""
    return serve_asgi(lambda base: asgi_app(make_handler(base)))


def exercise(client: GrippClient, world_invoice_count: int) -> None:
    rows = list(client.get_all("invoice", page_size=100))
    assert len(rows) == world_invoice_count == len({r["id"] for r in rows})
    payment_id = client.create("payment", {"invoice": 1002, "date": "2025-08-01", "amount": Decimal("29.57"),
                                           "notes": "loopback"})
    invoice = Invoice.from_row(client.getone("invoice", [Filter("invoice.id", "equals", 1002)]))
    assert invoice.totalopeninclvat == Decimal("0.00") and invoice.totalpayed == Decimal("39.57")
    assert payment_id in [p.id for p in invoice.payments]
    content = client.download_pdf(invoice.directpdfurl)
    assert "20250002" in PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert client.rate_limit_limit == 1000 and client.rate_limit_remaining is not None


def test_get_all_payment_create_and_pdf_over_real_http():
    world = make_world()
    add_invoices(world, 296)
    clock = FakeClock()

    def handler_for(base: str) -> Callable[[httpx.Request], httpx.Response]:
        return route(make_sim(world, pdf_base_url=f"{base}/pdf"))

    with serving(handler_for) as base, GrippClient(f"{base}/public/api3.php", TOKEN, sleep=clock.sleep,
                                                   clock=clock) as client:
        exercise(client, 300)
        assert client.request_count == 4 and clock.sleeps == []


def test_the_same_through_the_sandbox_dispatcher():
    try:
        from sync.sandbox.sandbox import Sandbox
    except Exception as exc:  # the SnelStart half is written concurrently
        pytest.skip(f"sandbox dispatcher not importable yet: {exc}")
    world = make_world()
    add_invoices(world, 296)
    clock = FakeClock()

    def handler_for(base: str) -> Callable[[httpx.Request], httpx.Response]:
        return Sandbox(world, base_url=base).handle

    with serving(handler_for) as base, GrippClient(f"{base}/sandbox/gripp/public/api3.php", TOKEN,
                                                   sleep=clock.sleep, clock=clock) as client:
        exercise(client, 300)
