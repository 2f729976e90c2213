"""Builds the objects a process needs: settings → store, vault, clients. The only module in `sync/` (besides the
sandbox itself) that knows the sandbox exists: in sandbox mode the clients reach the simulators in-process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import httpx

from sync.core.clock import Clock, moment, system_clock
from sync.core.config import Settings, resolve_settings
from sync.core.vault import Vault, VaultError, sandbox_key_file, vault_for
from sync.gripp.client import GrippClient
from sync.snelstart.client import SnelStartClient
from sync.store import history
from sync.store import mode as store_mode
from sync.store import setup as setup_repo
from sync.store.db import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    vault: Vault
    sandbox: object | None = None  # sync.sandbox.sandbox.Sandbox in sandbox mode
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    # The store's clock, shared with the clients (pacing, token expiry, Gripp's quota hour) and, in tests and load
    # runs, with the simulators: one "now" for everything. Short timeouts over loopback; None keeps the default.
    timeout: float | None = None
    _gripp: GrippClient | None = field(default=None, repr=False)
    _snelstart: dict[str, SnelStartClient] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def clock(self) -> Clock:
        return self.store.clock

    def now(self) -> datetime:
        return moment(self.clock)

    def today(self) -> date:
        """The business date. The sandbox has its own fixed 'today' (its demo data is dated around it)."""
        world = getattr(self.sandbox, "world", None)
        return world.today if world is not None else self.now().date()

    def gripp(self) -> GrippClient:
        with self._lock:
            if self._gripp is None:
                if not self.settings.gripp_api_token:
                    raise RuntimeError("GRIPP_API_TOKEN is not set.")
                self._gripp = GrippClient(
                    self.settings.gripp_api_url, self.settings.gripp_api_token, transport=self.transport,
                    sleep=self.sleep, wall_clock=self.now, **self._client_options(),
                )
            return self._gripp

    def snelstart_for_key(self, koppelsleutel: str) -> SnelStartClient:
        """A client for one koppelsleutel (used to verify a key before it is saved)."""
        if not self.settings.snelstart_subscription_key:
            raise RuntimeError("SNELSTART_SUBSCRIPTION_KEY is not set.")
        return SnelStartClient(
            self.settings.snelstart_api_url, self.settings.snelstart_auth_url,
            self.settings.snelstart_subscription_key, koppelsleutel, transport=self.transport, sleep=self.sleep,
            limits=self.settings.snelstart_tier, **self._client_options(),
        )

    def _client_options(self) -> dict:
        options: dict = {"clock": self.clock}
        if self.timeout is not None:
            options["timeout"] = httpx.Timeout(self.timeout)
        return options

    def snelstart(self, identity_id: int) -> SnelStartClient:
        """The client for an identity's linked administration, cached per key (tokens are reused)."""
        link = setup_repo.get_link(self.store, identity_id)
        if link is None:
            raise LookupError(f"Identity {identity_id} is not linked to a SnelStart administration.")
        with self._lock:
            client = self._snelstart.get(link.koppelsleutel_enc)
            if client is None:
                client = self.snelstart_for_key(self.vault.decrypt(link.koppelsleutel_enc))
                self._snelstart[link.koppelsleutel_enc] = client
            return client

    def forget_clients(self) -> None:
        with self._lock:
            for client in self._snelstart.values():
                client.close()
            self._snelstart.clear()

    def close(self) -> None:
        self.forget_clients()
        if self._gripp is not None:
            self._gripp.close()
        if self.sandbox is not None:
            self.sandbox.flush()  # type: ignore[attr-defined]
        self.store.close()


def build_services(settings: Settings | None = None, *, store: Store | None = None, sandbox: object | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> Services:
    """Real services when configured; otherwise the sandbox (loaded from disk, seeded on first use), whose clock
    the store and the clients then share.

    The process that builds its services owns the database: the file must be of this mode (`StoreModeError`),
    and runs another process left 'running' (it was killed) are closed as interrupted."""
    settings = settings or resolve_settings()
    if settings.sandbox and sandbox is None:
        sandbox = open_sandbox(settings)
    own_store = store is None
    store = store or Store(settings.db_path,
                           clock=sandbox.clock if settings.sandbox else system_clock)  # type: ignore[union-attr]
    try:
        store_mode.claim(store, store_mode.SANDBOX if settings.sandbox else store_mode.REAL,
                         legacy_sandbox=lambda: opens_with_sandbox_key(store, settings))
        history.close_interrupted_runs(store)
        vault = vault_for(settings)
        transport = sandbox.transport() if settings.sandbox else None  # type: ignore[union-attr]
        services = Services(settings=settings, store=store, vault=vault, sandbox=sandbox, transport=transport,
                            sleep=sleep)
        if settings.sandbox:
            bootstrap_sandbox_setup(services)
    except BaseException:
        if own_store:
            store.close()
        raise
    return services


def opens_with_sandbox_key(store: Store, settings: Settings) -> bool:
    """A file from before modes were recorded is the sandbox's when the sandbox's key (never made here) opens
    every stored link."""
    key_file = sandbox_key_file(settings)
    links = setup_repo.links(store)
    if not key_file.is_file() or not links:
        return False
    vault = Vault(key_file.read_text().strip())
    try:
        for link in links:
            vault.decrypt(link.koppelsleutel_enc)
    except VaultError:
        return False
    return True


def open_sandbox(settings: Settings):  # -> Sandbox
    from sync.sandbox.sandbox import Sandbox
    from sync.sandbox.seed import load_or_create

    world = load_or_create(settings.sandbox_state_path)
    return Sandbox(world, base_url=settings.console_public_url, state_path=settings.sandbox_state_path)


def sandbox_asgi_app(sandbox: object):  # -> the ASGI app of sync.sandbox.asgi
    """The simulators as an ASGI app, for the console server to mount below `/sandbox` in sandbox mode."""
    from sync.sandbox.asgi import asgi_app

    return asgi_app(sandbox.handle)  # type: ignore[attr-defined]


def bootstrap_sandbox_setup(services: Services, setup: object | None = None) -> bool:
    """On a fresh database in sandbox mode, configure the demo's links and mappings (as support would).
    `setup` is another `SandboxSetup` (the bulk world's, for load runs); default the demo's."""
    from sync.sandbox.seed import demo_setup

    store = services.store
    if store.scalar("SELECT count(*) FROM identities") or store.scalar("SELECT count(*) FROM links"):
        return False
    setup = setup or demo_setup()
    world = services.sandbox.world  # type: ignore[union-attr]
    account = world.account_of_token(setup.gripp_api_token)  # the setup's own Gripp account
    identities = (world.gripp_account(account) if account else world.gripp).identities
    with store.transaction():
        for identity_id, name in identities.items():
            setup_repo.upsert_identity(store, identity_id, name, source="discovered")
        for link in setup.links:
            setup_repo.save_link(
                store, identity_id=link.identity_id, administration_id=link.administration_id,
                administration_name=link.administration_name,
                koppelsleutel_enc=services.vault.encrypt(link.koppelsleutel),
                key_hint=Vault.hint(link.koppelsleutel), start_date=link.start_date, actor="sandbox",
                interval_minutes=link.interval_minutes,
            )
        for row in setup.mappings:
            if row.type == "vat":
                setup_repo.put_vat_mapping(store, row.identity_id, row.gripp_id, row.gripp_label, row.snelstart,
                                           row.percentage, "sandbox")
            else:
                setup_repo.put_ledger_mapping(store, row.identity_id, row.gripp_id, row.gripp_label, row.snelstart,
                                              "sandbox")
    return True
