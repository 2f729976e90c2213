"""The sandbox served over real HTTP on 127.0.0.1, and Services whose clients talk to it like to the real services.

`loopback(tmp_path)` starts uvicorn on a free port with the whole sandbox (both APIs, the PDFs, SnelStart's token
endpoint; the small demo world unless given another) and yields a `Loopback`: its URL, the world, the sandbox (for
faults), a virtual clock shared by the simulators and the clients, and `services()` — a fresh `Services` on the same
database file each call ("a new process"), configured as for real services (`GRIPP_API_URL`, `SNELSTART_*` pointing
at the loopback server, so the clients use real transports and sandbox mode is off), with the demo's links and
mappings.

Timeouts are short (`timeout`, a second) and the server's "hang" for an injected timeout only a little longer, so a
timeout fault costs about a second, not thirty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from sync.core.config import Settings, load_settings, sandbox_services
from sync.core.vault import vault_for
from sync.jobs.payments import MARKER_KEY
from sync.sandbox.asgi import asgi_app
from sync.sandbox.sandbox import Sandbox, VirtualClock, world_noon
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import World
from sync.store.db import Store
from sync.wiring import Services, bootstrap_sandbox_setup
from tests.servers import serve_asgi

CLIENT_TIMEOUT = 1.0
HANG_SECONDS = 1.5


@dataclass
class Loopback:
    url: str
    world: World
    sandbox: Sandbox
    settings: Settings
    clock: VirtualClock
    timeout: float
    _open: list[Services] = field(default_factory=list)

    def services(self) -> Services:
        """New Services on the same database and the same (simulated) services, as a new process would have."""
        services = Services(
            settings=self.settings, store=Store(self.settings.db_path, clock=self.clock),
            vault=vault_for(self.settings), sandbox=self.sandbox, transport=None, sleep=self.clock.sleep,
            timeout=self.timeout,
        )
        bootstrap_sandbox_setup(services)
        self._open.append(services)
        return services

    def close_services(self) -> None:
        for services in self._open:
            try:
                services.close()
            except Exception:  # already closed by the test
                pass
        self._open.clear()


def loopback_settings(url: str, db_path: Path) -> Settings:
    """Real-service settings (sandbox mode off) whose every URL is the loopback server's."""
    return load_settings({
        **sandbox_services(url),
        "CONSOLE_PUBLIC_URL": url,
        "SYNC_DB_PATH": str(db_path),
        "SYNC_SECRET_KEY": Fernet.generate_key().decode(),
    })


@contextmanager
def loopback(tmp_path: Path, world: World | None = None, *, timeout: float = CLIENT_TIMEOUT,
             hang_seconds: float = HANG_SECONDS, rate_limits: bool = False) -> Iterator[Loopback]:
    world = world or small_world()
    clock = VirtualClock(world_noon(world).timestamp())
    built: dict[str, Sandbox] = {}

    def make_app(url: str):
        built["sandbox"] = Sandbox(world, base_url=url, clock=clock, sleep=clock.sleep, rate_limits=rate_limits)
        return asgi_app(built["sandbox"].handle, hang_seconds=hang_seconds)

    with serve_asgi(make_app) as url:
        lb = Loopback(url, world, built["sandbox"], loopback_settings(url, tmp_path / "sync.duckdb"), clock, timeout)
        try:
            yield lb
        finally:
            lb.close_services()


# ------------------------------------------------------------------------------------------- assertions


def assert_exactly_once(world: World, facts, identities=(1,)) -> None:
    """Every booking, document, relatie and payment the link is responsible for is in the services exactly once:
    nothing duplicated, nothing lost."""
    for identity_id in identities:
        admin = world.snelstart.administrations[facts.administration_by_identity[identity_id]]
        numbers = Counter(b.factuurnummer for b in admin.bookings.values())
        expected = facts.to_book_by_identity[identity_id] | facts.prebooked_by_identity[identity_id]
        assert {n: numbers[n] for n in expected} == dict.fromkeys(expected, 1), "bookings: lost or duplicated"
        assert max(numbers.values(), default=1) == 1, "a booking was duplicated"
        documents = Counter(d.parent_id for d in admin.documents.values())
        # A booking in conflict (changed in SnelStart) is not the invoice's: nothing is attached to it.
        booking_ids = {b.id for b in admin.bookings.values() if b.factuurnummer in expected - facts.conflicts_expected}
        assert {b: documents[b] for b in booking_ids} == dict.fromkeys(booking_ids, 1), "documents"
        relatie_names = Counter((r.naam, r.relatiecode) for r in admin.relaties.values())
        assert max(relatie_names.values()) == 1, "a relatie was duplicated"
    markers = Counter(p.extendedproperties for p in world.gripp.payments.values()
                      if p.extendedproperties and MARKER_KEY in p.extendedproperties)
    assert max(markers.values(), default=1) == 1, "a payment was registered twice"
    expected_numbers = set().union(*(facts.to_book_by_identity[i] | facts.prebooked_by_identity[i]
                                     for i in identities))
    registered: dict[str, list] = {}
    for p in world.gripp.payments.values():
        if p.extendedproperties and MARKER_KEY in p.extendedproperties:
            number = str(world.gripp.invoices[p.invoice_id].number)
            registered.setdefault(number, []).append((p.date, p.amount))
    wanted = {n: sorted(v) for n, v in facts.payments_expected.items() if n in expected_numbers}
    assert {n: sorted(v) for n, v in registered.items()} == wanted, "payments: lost or duplicated"


def snelstart_writes(world: World, identity_id: int, facts) -> tuple[int, int, int]:
    admin = world.snelstart.administrations[facts.administration_by_identity[identity_id]]
    return len(admin.bookings), len(admin.documents), len(admin.relaties)
