"""Builds the objects a process needs: settings → store, vault, clients. The only module in `sync/` (besides the
sandbox itself) that knows the sandbox exists: in sandbox mode the clients reach the simulators in-process.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from sync.core.clock import Clock, moment, system_clock
from sync.core.config import Settings, resolve_settings
from sync.core.freshness import Freshness
from sync.core.vault import Vault, VaultError, sandbox_key_file, vault_for
from sync.core.words import N_, Msg
from sync.gripp.client import GrippClient
from sync.jobs import services as ports
from sync.snelstart.client import SnelStartClient
from sync.store import history
from sync.store import kostenplaatsen as kp_repo
from sync.store import mode as store_mode
from sync.store import setup as setup_repo
from sync.store.account_files import AccountFiles, Lease
from sync.store.catalog import DEFAULT_ACCOUNT, Account, Catalog, CatalogModeError, Health, UnknownAccount
from sync.store.db import Store

if TYPE_CHECKING:  # the simulators are loaded only in sandbox mode, by the functions below
    from sync.jobs.queue import Queue
    from sync.sandbox.sandbox import Sandbox
    from sync.sandbox.seed_parts import SandboxAccount, SandboxSetup

# A "sync all" reads Gripp's invoices once, not once per identity: a read this recent is fresh enough.
GRIPP_FRESH_FOR = timedelta(seconds=30)


@dataclass
class Services:
    settings: Settings
    store: Store
    vault: Vault
    sandbox: Sandbox | None = None  # in sandbox mode
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    # The store's clock, shared with the clients (pacing, token expiry, Gripp's quota hour) and, in tests and load
    # runs, with the simulators: one "now" for everything. Short timeouts over loopback; None keeps the default.
    timeout: float | None = None
    account: str = DEFAULT_ACCOUNT  # the account (catalog key) whose file `store` is
    # Called after each run with these services (the deployment writes the account's health row in the catalog).
    after_run: Callable[[Services], object] | None = field(default=None, repr=False)
    # The deployment's catalog, where every account's links are known (None: this account alone, as in tests).
    catalog: Catalog | None = field(default=None, repr=False)
    # Not an argument: services made for another store must not inherit this one's freshness.
    gripp_freshness: Freshness = field(default_factory=lambda: Freshness(GRIPP_FRESH_FOR), init=False, repr=False)
    _gripp: GrippClient | None = field(default=None, repr=False)
    _snelstart: dict[str, SnelStartClient] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _batch: list[int] = field(default_factory=lambda: [0, 0], init=False, repr=False)  # [depth, runs ended in it]

    @property
    def clock(self) -> Clock:
        return self.store.clock

    def now(self) -> datetime:
        return moment(self.clock)

    def today(self) -> date:
        """The business date: the clock's, Amsterdam time (the sandbox's clock runs on its own calendar)."""
        return self.now().date()

    def lock_key(self, identity_id: int) -> tuple[str, str, int]:
        """What a run holds while it runs: the identity *of this account* (accounts may share identity ids)."""
        return ("identity", self.account, identity_id)

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Runs one after another (a job's identities): the deployment is told once, when the last has ended."""
        self._batch[0] += 1
        try:
            yield
        finally:
            self._batch[0] -= 1
            if self._batch[0] == 0 and self._batch[1]:
                self._batch[1] = 0
                self.ran()

    def ran(self) -> None:
        """A run, a check or a change of identities ended: tell the deployment (its health summary), never failing
        the run over it."""
        if self._batch[0]:
            self._batch[1] += 1
            return
        if self.after_run is not None:
            try:
                self.after_run(self)
            except Exception:  # the summary is a convenience; the run's own record is in the store
                logging.getLogger(__name__).exception("could not record the health of account %s", self.account)

    def gripp(self) -> GrippClient:
        with self._lock:
            if self._gripp is None:
                if not self.settings.gripp_api_token:
                    raise RuntimeError(f"Account {self.account} has no Gripp API key (GRIPP_API_TOKEN is not set).")
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

    def snelstart(self, identity_id: int, *, link: setup_repo.Link | None = None) -> SnelStartClient:
        """The client for an identity's linked administration, cached per key (tokens are reused). `link`: the
        identity's link when the caller has just read it."""
        link = link if link is not None else setup_repo.get_link(self.store, identity_id)
        if link is None:
            raise LookupError(f"Identity {identity_id} is not linked to a SnelStart administration.")
        with self._lock:
            client = self._snelstart.get(link.koppelsleutel_enc)
            if client is None:
                client = self.snelstart_for_key(self.vault.decrypt(link.koppelsleutel_enc))
                self._snelstart[link.koppelsleutel_enc] = client
            return client

    def linked(self, identity_id: int) -> None:
        from sync.jobs.checks import check_new_link  # the use case that follows a link (it never raises)

        check_new_link(self, identity_id)

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
            self.sandbox.flush()
        self.store.close()


class _Demo:
    """build_services' default sandbox setup: today's demo links and mappings."""


_DEMO = _Demo()


def build_services(settings: Settings | None = None, *, store: Store | None = None, sandbox: Sandbox | None = None,
                   sleep: Callable[[float], None] = time.sleep, account: str = DEFAULT_ACCOUNT,
                   sandbox_setup: SandboxSetup | _Demo | None = _DEMO, vault: Vault | None = None) -> Services:
    """Real services when configured; otherwise the sandbox (loaded from disk, seeded on first use), whose clock
    the store and the clients then share.

    The process that builds its services owns the database: the file must be of this mode (`StoreModeError`),
    and runs another process left 'running' (it was killed) are closed as interrupted."""
    settings = settings or resolve_settings()
    if settings.sandbox and sandbox is None:
        sandbox = open_sandbox(settings)
    own_store = store is None
    store = store or Store(settings.db_path,
                           clock=sandbox.clock if settings.sandbox and sandbox is not None else system_clock)
    try:
        store_mode.claim(store, store_mode.SANDBOX if settings.sandbox else store_mode.REAL,
                         legacy_sandbox=lambda: opens_with_sandbox_key(store, settings))
        history.close_interrupted_runs(store)
        vault = vault or vault_for(settings)  # a deployment's own: a passphrase is stretched once, not per open
        transport = sandbox.transport() if settings.sandbox and sandbox is not None else None
        services = Services(settings=settings, store=store, vault=vault, sandbox=sandbox, transport=transport,
                            sleep=sleep, account=account)
        if settings.sandbox and sandbox_setup is not None:
            bootstrap_sandbox_setup(services, None if isinstance(sandbox_setup, _Demo) else sandbox_setup)
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


def open_sandbox(settings: Settings, *, base_url: str | None = None, rate_limits: bool = False,
                 record_calls: bool = True) -> Sandbox:
    """The sandbox's simulators, their state loaded from (or seeded into) the data folder — only a folder whose
    database and catalog are the sandbox's (`refuse_real_files`). `base_url`: where they are reached (the
    invoices' PDF links; default the console's address); `rate_limits`: the services' limits enforced;
    `record_calls`: each call kept for tests to count (a long-running `sandbox serve` keeps none)."""
    from sync.sandbox.sandbox import Sandbox, calendar_clock
    from sync.sandbox.seed import load_or_create

    refuse_real_files(settings)
    world = load_or_create(settings.sandbox_state_path)
    return Sandbox(world, base_url=base_url or settings.console_public_url, state_path=settings.sandbox_state_path,
                   clock=calendar_clock(world, settings.sandbox_state_path), rate_limits=rate_limits,
                   record_calls=record_calls)


def refuse_real_files(settings: Settings) -> None:
    """Refuse (`StoreModeError`, `CatalogModeError`) a data folder whose database or catalog holds real data,
    before the sandbox writes anything there: its state, its key file, a catalog. A command that misses the real
    settings leaves a real folder as it found it (issue 24, item 10)."""
    if settings.db_path.exists():
        store = Store(settings.db_path)
        try:
            store_mode.check(store, store_mode.SANDBOX, legacy_sandbox=lambda: opens_with_sandbox_key(store, settings))
        finally:
            store.close()
    if settings.catalog_file.exists():
        catalog = Catalog(settings.catalog_file)
        try:
            catalog.check(store_mode.SANDBOX)
        finally:
            catalog.close()


def sandbox_asgi_app(sandbox: Sandbox) -> Callable[..., Any]:
    """The simulators as an ASGI app, for the console server to mount below `/sandbox` in sandbox mode."""
    from sync.sandbox.asgi import asgi_app

    return asgi_app(sandbox.handle)


def bootstrap_sandbox_setup(services: Services, setup: SandboxSetup | None = None) -> bool:
    """On a fresh database in sandbox mode, configure the demo's links and mappings (as support would).
    `setup` is another `SandboxSetup` (the bulk world's, for load runs); default the demo's."""
    from sync.sandbox.seed import demo_setup

    store = services.store
    if store.scalar("SELECT count(*) FROM identities") or store.scalar("SELECT count(*) FROM links"):
        return False
    setup = setup or demo_setup()
    if services.sandbox is None:
        raise RuntimeError("The sandbox's setup needs the sandbox.")
    world = services.sandbox.world
    account = world.account_of_token(setup.gripp_api_token)  # the setup's own Gripp account
    identities = (world.gripp_account(account) if account else world.gripp).identities
    configure_setup(store, services.vault, identities, setup)
    return True


def configure_setup(store: Store, vault: Vault, identities: Mapping[int, str], setup: SandboxSetup) -> None:
    """Write a sandbox setup into an account's database as support would configure it: the identities, the links
    (their koppelsleutels encrypted by `vault`, never checked with SnelStart yet) and the mappings. Shared by the
    sandbox's own bootstrap and `sandbox register` (the demo accounts in a deployment on a served sandbox)."""
    with store.transaction():
        for identity_id, name in identities.items():
            setup_repo.upsert_identity(store, identity_id, name, source=setup_repo.IdentitySource.DISCOVERED)
        for link in setup.links:
            setup_repo.save_link(
                store, identity_id=link.identity_id, administration_id=link.administration_id,
                administration_name=link.administration_name,
                koppelsleutel_enc=vault.encrypt(link.koppelsleutel),
                key_hint=Vault.hint(link.koppelsleutel), start_date=link.start_date, actor="sandbox",
                interval_minutes=link.interval_minutes,
                verified=False,  # nobody asked SnelStart: its health is unknown until a run or a check does
            )
        for row in setup.mappings:
            if row.type == "vat":
                if row.percentage is None:
                    raise ValueError(f"The sandbox's VAT mapping of {row.gripp_id} has no percentage.")
                setup_repo.put_vat_mapping(store, row.identity_id, row.gripp_id, row.gripp_label, row.snelstart,
                                           row.percentage, "sandbox")
            elif row.type == "kostenplaats":
                kp_repo.put_mapping(store, row.identity_id, row.gripp_id, row.gripp_label, row.snelstart, "sandbox")
            else:
                setup_repo.put_ledger_mapping(store, row.identity_id, row.gripp_id, row.gripp_label, row.snelstart,
                                              "sandbox")


# -- many accounts -------------------------------------------------------------------------------------------
MAX_OPEN_ACCOUNTS = 16  # account databases kept open at once; the least recently used idle one is closed first
# How long a person's change waits for an account a run on another node holds, before it says so.
CONSOLE_WAIT_SECONDS = 20.0


def node_name() -> str:
    """This process among the nodes (in the check-in records, the logs, /healthz)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Deployment:
    """One deployment: its settings, the catalog of accounts, the vault, and each account's `Services` (its own
    DuckDB file and Gripp client), opened on first use and kept in a small bounded cache.

    A deployment configured the old way (`GRIPP_API_TOKEN`, a `SYNC_DB_PATH` file) is registered in place on its
    first start as account `default` whose database IS that file. In sandbox mode the demo accounts are seeded.

    In the distributed mode (`SYNC_DATABASE_URL`) the catalog is in Postgres and so is each account's file
    (`sync.store.account_files`): the local file is a copy, brought up to date when opened, written under the
    account's lease and checked in after."""

    def __init__(self, settings: Settings | None = None, *, sandbox: Sandbox | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_open: int = MAX_OPEN_ACCOUNTS) -> None:
        self.settings = settings or resolve_settings()
        if self.settings.sandbox and sandbox is None:
            sandbox = open_sandbox(self.settings)
        self.sandbox = sandbox
        self.sleep = sleep
        self.max_open = max(1, max_open)
        self.clock: Clock = sandbox.clock if self.settings.sandbox and sandbox is not None else system_clock
        self.node = node_name()
        self.files: AccountFiles | None = None
        self._queue: Queue | None = None
        self.catalog = Catalog(self.settings.database_url or self.settings.catalog_file, clock=self.clock)
        self._open: OrderedDict[str, Services] = OrderedDict()
        self._lock = threading.RLock()
        self._health_writes = threading.Lock()  # one writer of health rows and figures at a time (a few ms each)
        # Set by the scheduler: when an account's next automatic run is (for its health row).
        self.next_run_of: Callable[[str], datetime | None] = lambda key: None
        try:
            if self.settings.database_url:
                self.files = AccountFiles(self.settings.database_url, self.node, clock=self.clock)
            self.catalog.claim(store_mode.SANDBOX if self.settings.sandbox else store_mode.REAL)
            self.vault = vault_for(self.settings)
            if self.files is not None:
                self._same_key_as_the_other_nodes()
            if self.settings.sandbox:
                self._register_sandbox_accounts()
            else:
                self._register_legacy_account()
            self._learn_links()
        except BaseException:
            self.close()
            raise

    # -- accounts -----------------------------------------------------------------------------------------
    def accounts(self) -> list[Account]:
        return self.catalog.accounts()

    def keys(self) -> list[str]:
        return [account.key for account in self.accounts()]

    def today(self) -> date:
        """The deployment's business date (every account's services read the same clock)."""
        return moment(self.clock).date()

    def account(self, key: str) -> Account:
        found = self.catalog.get(key)
        if found is None:
            raise UnknownAccount(key, self.keys())
        return found

    def the_only_account(self) -> str:
        """The account to use when none is named: the only one, else `UnknownAccount` listing them."""
        keys = self.keys()
        if len(keys) == 1:
            return keys[0]
        raise UnknownAccount("", keys)

    def account_settings(self, account: Account) -> Settings:
        """The deployment's settings with the account's Gripp key and address (NULL ones: the deployment's)."""
        token = self.settings.gripp_api_token
        if account.gripp_token_enc:
            token = self.vault.decrypt(account.gripp_token_enc)
        return replace(self.settings, gripp_api_token=token,
                       gripp_api_url=account.gripp_url or self.settings.gripp_api_url)

    def services(self, key: str) -> Services:
        """The account's services, opened on first use (its file migrated, interrupted runs closed). In the
        distributed mode the local copy is first brought up to date, unless this process holds the account."""
        first_check_in = False
        with self._lock:
            found = self._open.get(key)
            if found is not None and (self.files is None or self._current(key)):
                self._open.move_to_end(key)
                return found
            if found is not None:
                self._close_account(key)
            account = self.account(key)
            if self.files is not None:
                first_check_in = self._bring_local(account)
            built = self._open_account(account, setup=self._demo_setup(key))
            self._open[key] = built
            self._evict()
        if first_check_in:
            self.lease(key).first_check_in()
        return built

    # -- the distributed mode: the account's file is a copy of the one in Postgres ------------------------------
    def file_of(self, account: Account) -> Path:
        """Where the account's file is on this node: in the distributed mode one place per node, whatever the
        node that added it had (its file is in Postgres)."""
        if self.files is None:
            return account.db_path
        return self.settings.accounts_dir / f"{account.key}.duckdb"

    def _current(self, key: str) -> bool:
        assert self.files is not None
        return self.files.held(key) or self.files.current(key, self.file_of(self.account(key)))

    def _bring_local(self, account: Account) -> bool:
        """Make the local copy the newest; True when Postgres has no file of the account yet (new, or from before
        the distributed mode: the file this node has, or the catalog names, is checked in once opened)."""
        assert self.files is not None
        path = self.file_of(account)
        if self.files.held(account.key):
            return False
        if self.files.version(account.key) is None:
            if not path.exists() and account.db_path != path and account.db_path.exists():
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                shutil.copyfile(account.db_path, path)  # the single node's file, carried over once
            return True
        if not self.files.current(account.key, path):
            self.files.download(account.key, path)
        return False

    def lease(self, key: str) -> Lease:
        """The account's lease (distributed mode only)."""
        assert self.files is not None
        return self.files.lease(key, self.file_of(self.account(key)), before_download=lambda: self._close_account(key),
                                checkpoint=lambda: self._checkpoint(key))

    @contextmanager
    def holding(self, key: str) -> Iterator[Services]:
        """The account's services while this process alone, of all nodes, may write it (a run, a command): in
        the distributed mode its lease is held throughout and what was written checked in after."""
        if self.files is None:
            yield self.services(key)
            return
        with self.lease(key).hold():
            yield self.services(key)

    def _write_guard(self, key: str) -> Callable[[], AbstractContextManager[object]]:
        """What a write on the account's file is made under: its lease. When this process holds it already (a run)
        the write joins it — counted, so the lease is not given back (and the file not checkpointed) while the write
        is going on; otherwise it takes it (a person's change: refused with `ChangedElsewhere` when the copy is not
        the newest) and checks the change in at once."""
        return lambda: self.lease(key).hold(reload=False, wait=CONSOLE_WAIT_SECONDS)

    def _checkpoint(self, key: str) -> None:
        with self._lock:
            opened = self._open.get(key)
        if opened is not None:
            opened.store.checkpoint()

    def _close_account(self, key: str) -> None:
        with self._lock:
            found = self._open.pop(key, None)
        if found is not None:
            found.close()

    def _same_key_as_the_other_nodes(self) -> None:
        """A node whose SYNC_SECRET_KEY is not the others' could open no koppelsleutel or Gripp key: it stops here,
        saying so, rather than take jobs and fail each one where nobody looks."""
        try:
            self.vault.decrypt(self.catalog.key_check(self.vault.encrypt("gripp-snelstart")))
        except VaultError:
            raise CatalogModeError(Msg(N_("error.secret_key_differs"), address=str(self.catalog.path)),
                                   code="secret_key") from None

    def queue(self) -> Queue:
        """The deployment's job queue (distributed mode only), made on first use and closed with the deployment."""
        from sync.jobs.queue import Queue

        if not self.settings.database_url:
            raise RuntimeError("the job queue needs SYNC_DATABASE_URL")
        with self._lock:
            if self._queue is None:
                self._queue = Queue(self.settings.database_url, now=lambda: moment(self.clock), node=self.node)
            return self._queue

    @contextmanager
    def alone(self, name: str) -> Iterator[bool]:
        """Whether this process is the only node doing `name` now (always so on one node)."""
        if self.files is None:
            yield True
            return
        with self.files.alone(name) as got:
            yield got

    def _open_account(self, account: Account, *, setup: SandboxSetup | None) -> Services:
        store = Store(self.file_of(account), clock=self.clock)
        try:
            built = build_services(self.account_settings(account), store=store, sandbox=self.sandbox,
                                   sleep=self.sleep, account=account.key, sandbox_setup=setup, vault=self.vault)
        except BaseException:
            store.close()
            raise
        built.vault = self.vault
        built.after_run = self.record_health
        built.catalog = self.catalog
        if self.files is not None:
            store.write_guard = self._write_guard(account.key)
        # The account's own file is the truth of its links: the catalog learns them again on every open.
        self.catalog.know_links(account.key, setup_repo.known_links(built.store))
        return built

    def _learn_links(self) -> None:
        """Accounts whose links the catalog does not know yet (a deployment from before it kept them) are read
        once, here, so the first link refused after an upgrade already knows every account's links, whichever
        process opens the deployment first. An SQL migration of the catalog cannot do it: each account's links are
        in its own file. A file that is not there (yet) has no links."""
        for account in self.catalog.links_unknown():
            if self.files is not None:  # the file may be only in Postgres: opened as any node would
                self.catalog.know_links(account.key, setup_repo.known_links(self.services(account.key).store))
                continue
            with self._lock:
                opened = self._open.get(account.key)
            if opened is not None:
                self.catalog.know_links(account.key, setup_repo.known_links(opened.store))
                continue
            if not account.db_path.exists():
                self.catalog.know_links(account.key, [])
                continue
            store = Store(account.db_path, clock=self.clock)
            try:
                self.catalog.know_links(account.key, setup_repo.known_links(store))
            finally:
                store.close()

    def _demo_setup(self, key: str) -> SandboxSetup | None:
        """In the sandbox, an account's demo links and mappings (configured on an empty file: after a reset)."""
        if not self.settings.sandbox:
            return None
        return next((demo.setup for demo in sandbox_accounts() if demo.key == key), None)

    def _evict(self) -> None:
        from sync.jobs.locks import any_running  # the locks live with the use cases

        for key in list(self._open):
            if len(self._open) <= self.max_open:
                return
            held = self.files is not None and self.files.held(key)
            if not held and not any_running(("identity", key)):  # never close a file a run is using
                self._open.pop(key).close()

    def gripp_for_key(self, gripp_token: str, gripp_url: str | None = None) -> GrippClient:
        """A Gripp client on a key that is no account's yet (to try it before the account exists)."""
        transport = self.sandbox.transport() if self.settings.sandbox and self.sandbox is not None else None
        return GrippClient(gripp_url or self.settings.gripp_api_url, gripp_token, transport=transport,
                           sleep=self.sleep, clock=self.clock)

    def forget(self, key: str) -> None:
        """Close the account's services (it was removed)."""
        with self._lock:
            found = self._open.pop(key, None)
        if found is not None:
            found.close()

    def ping(self) -> None:
        """Raise when the catalog or an open account's database does not answer (for /healthz)."""
        self.catalog.ping()
        if self.files is not None:
            self.files.ping()
        with self._lock:
            opened = list(self._open.values())
        for services in opened:
            services.store.scalar("SELECT max(version) FROM schema_version")

    def record_health(self, services: ports.Services) -> Health:
        """Write the account's health row and its identities' figures (`/metrics`) in the catalog (after a run, a
        check, a link change)."""
        from sync.jobs.watch import watch
        from sync.store.health import summarise
        from sync.store.metrics import identity_figures

        with self._health_writes:  # two runs finishing together would conflict on the same catalog rows
            health = summarise(services.store, services.account, next_run_at=self.next_run_of(services.account))
            self.catalog.put_health(health)
            self.catalog.metrics().put(services.account, identity_figures(services.store), at=health.updated_at or
                                       services.store.now())
        try:  # what is announced: never failing what was recorded over it
            watch(services)
        except Exception:
            logging.getLogger(__name__).exception("could not work out the problems of account %s", services.account)
        return health

    def close(self) -> None:
        with self._lock:
            while self._open:
                self._open.popitem(last=False)[1].close()
        catalog = getattr(self, "catalog", None)
        if catalog is not None:
            catalog.close()
        files = getattr(self, "files", None)
        if files is not None:
            files.close()
        queue = getattr(self, "_queue", None)
        if queue is not None:
            queue.close()

    # -- first start ----------------------------------------------------------------------------------
    def _register_legacy_account(self) -> None:
        """The old way (GRIPP_API_TOKEN, the SYNC_DB_PATH file): account `default`, its database that very file
        (no copy), its Gripp key GRIPP_API_TOKEN (kept in the environment, so a changed token is honoured)."""
        settings = self.settings
        if self.catalog.accounts(include_removed=True):
            return
        if not (settings.gripp_api_token or settings.db_path.exists()):
            return  # a new multi-account deployment: accounts come with `python -m sync accounts add`
        self.catalog.add(Account(key=DEFAULT_ACCOUNT, name=DEFAULT_ACCOUNT, db_path=settings.db_path,
                                 key_hint=Vault.hint(settings.gripp_api_token or "")), actor="migration")

    def _register_sandbox_accounts(self) -> None:
        """The sandbox's demo accounts, each with its links and mappings configured as support would; the first
        one's database is SYNC_DB_PATH (today's demo)."""
        known = {str(account.db_path) for account in self.catalog.accounts(include_removed=True)}
        taken = {account.key for account in self.catalog.accounts(include_removed=True)}
        for index, demo in enumerate(sandbox_accounts()):
            path = self.settings.db_path if index == 0 else self.settings.accounts_dir / f"{demo.key}.duckdb"
            if str(path) in known or demo.key in taken:
                continue
            token = None if demo.gripp_token == self.settings.gripp_api_token else self.vault.encrypt(demo.gripp_token)
            try:
                account = self.catalog.add(Account(key=demo.key, name=demo.name, db_path=path, gripp_token_enc=token,
                                                   key_hint=Vault.hint(demo.gripp_token)), actor="sandbox")
            except KeyError:
                continue  # another node sharing the catalog registered it a moment ago
            if self.files is not None:
                built = self.services(account.key)  # configured on its first open, and checked in
            else:
                with self._lock:
                    built = self._open_account(account, setup=demo.setup)
                    self._open[account.key] = built
            self.record_health(built)


@dataclass(frozen=True)
class Registered:
    """What `register_sandbox_accounts` did with one demo account."""

    key: str
    name: str
    added: bool  # False: the deployment had it already (this run, or another node's, added it before)
    configured: bool  # its links and mappings were written into this node's database of it now
    links: int | None  # the account's links in this node's database of it, after (None: not opened here)


def register_sandbox_accounts(deployment: Deployment, gripp_url: str, *, actor: str = "cli") -> list[Registered]:
    """The sandbox's demo accounts in a deployment on real services that point at a served sandbox (`python -m sync
    sandbox serve`): each added as any account is (`add_account`: its key tried on the served Gripp at `gripp_url`,
    its identities read), then its links and mappings configured as the sandbox's bootstrap does
    (`configure_setup`). Idempotent: an account the catalog has already is not added again (also when another node
    adds it at the same moment); its links and mappings are written only into this node's database of it, and only
    when that has none. Another node's database of an account (its path in a shared catalog) is not opened."""
    from psycopg.errors import UniqueViolation  # another node inserted the key first (a Postgres catalog)

    from sync.jobs.accounts import AccountError, add_account
    from sync.jobs.identities import discover_identities

    done = []
    for demo in sandbox_accounts():
        added = False
        if deployment.catalog.get(demo.key, include_removed=True) is None:
            try:
                add_account(deployment, demo.key, demo.name, demo.gripp_token, actor=actor, gripp_url=gripp_url)
                added = True
            except (AccountError, KeyError, UniqueViolation):
                if deployment.catalog.get(demo.key, include_removed=True) is None:
                    raise  # not a race with another node: a refused key, Gripp unreachable, a file in the way
        account = deployment.catalog.get(demo.key)
        own_file = deployment.settings.accounts_dir / f"{demo.key}.duckdb"
        shared = deployment.files is not None  # the distributed mode: every node opens the one file in Postgres
        if account is None or demo.setup is None or not (added or shared or account.db_path == own_file):
            # removed by support (left alone), nothing to configure, or another node's database of it
            done.append(Registered(demo.key, demo.name, added, False, None))
            continue
        services = deployment.services(demo.key)
        store = services.store
        configured = not (setup_repo.links(store) or setup_repo.vat_mappings(store)
                          or setup_repo.ledger_mappings(store))
        if configured:  # added now, or added before and never configured (that run was cut short)
            if not setup_repo.identities(store):
                discover_identities(services, actor=actor)
            identities = {row["identity_id"]: row["name"] for row in setup_repo.identities(store)}
            configure_setup(store, deployment.vault, identities, demo.setup)
            deployment.catalog.know_links(demo.key, setup_repo.known_links(store))
            deployment.record_health(services)
        done.append(Registered(demo.key, demo.name, added, configured, len(setup_repo.links(store))))
    return done


def sandbox_accounts() -> list[SandboxAccount]:
    """The sandbox's Gripp customers (the one place the deployment learns them): Studio Noord (the demo, healthy),
    one whose link is broken and one new to link; each with what support would have configured (or nothing)."""
    from sync.sandbox.seed import demo_accounts

    return demo_accounts()
