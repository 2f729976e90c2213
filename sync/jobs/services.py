"""What the use cases need from the wiring, as Protocols: they depend on these, not on `sync.wiring`.

`sync.wiring.Services` and `sync.wiring.Deployment` (the composition root) implement them; tests may hand in their own.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

import httpx

from sync.core.clock import Clock
from sync.core.config import Settings
from sync.core.freshness import Freshness
from sync.core.vault import Vault
from sync.gripp.client import GrippClient
from sync.snelstart.client import SnelStartClient
from sync.store.catalog import Account, Catalog, Health
from sync.store.db import Store
from sync.store.setup import Link


class Services(Protocol):
    settings: Settings
    store: Store
    vault: Vault
    transport: httpx.BaseTransport | None  # None: the real network
    account: str  # the account (catalog key) whose file `store` is
    catalog: Catalog | None  # the deployment's (every account's links); None: this account alone
    gripp_freshness: Freshness  # when this account's cache last read Gripp's invoices ("sync all" reads them once)

    @property
    def sleep(self) -> Callable[[float], None]:
        """How waits are slept (the tests' clock skips them). Read-only: a dataclass field holding a function
        is not a settable attribute to the type checker."""

    @property
    def clock(self) -> Clock:
        """The store's clock: one "now" for the runs, the clients and (in tests) the simulators."""

    def today(self) -> date:
        """The business date."""

    def lock_key(self, identity_id: int) -> tuple[str, str, int]:
        """What a run of this identity holds while it runs."""

    def ran(self) -> None:
        """A run, a check or a change of identities ended (the deployment records the account's health); never
        raises."""

    def batched(self) -> AbstractContextManager[None]:
        """Runs one after another: `ran` tells the deployment once, when the last has ended."""

    def gripp(self) -> GrippClient: ...

    def snelstart(self, identity_id: int, *, link: Link | None = None) -> SnelStartClient:
        """The client on this identity's saved koppelsleutel."""

    def snelstart_for_key(self, koppelsleutel: str) -> SnelStartClient: ...

    def forget_clients(self) -> None:
        """Drop the cached clients (a key changed)."""

    def linked(self, identity_id: int) -> None:
        """A link was just made (`sync.jobs.linking`): its setup checks run and are kept (`checks.check_new_link`;
        wired here, as the checks build on linking); never raises."""


class Accounts(Protocol):
    """The accounts a scheduler runs: `sync.wiring.Deployment`, or one account's services (`schedule.OneAccount`)."""

    settings: Settings
    next_run_of: Callable[[str], datetime | None]  # set by the scheduler: an account's next automatic run

    def keys(self) -> list[str]: ...

    def services(self, key: str) -> Services: ...

    def record_health(self, services: Services) -> object:
        """Write the account's health row (after its schedule changed)."""


class Deployment(Accounts, Protocol):
    """Every account of one deployment, for the use cases that add, check and remove accounts
    (`sync.wiring.Deployment`)."""

    catalog: Catalog
    vault: Vault

    def accounts(self) -> list[Account]: ...

    def account(self, key: str) -> Account:
        """The account (`UnknownAccount` when there is none)."""

    def forget(self, key: str) -> None:
        """Close the account's services (it was removed)."""

    def record_health(self, services: Services) -> Health: ...

    def alone(self, name: str) -> AbstractContextManager[bool]:
        """Whether this node is the only one doing `name` now (always so on one node)."""

    def gripp_for_key(self, gripp_token: str, gripp_url: str | None = None) -> GrippClient:
        """A Gripp client on a key that is no account's yet (to try it before the account exists)."""
