"""What the use cases need from the wiring, as a Protocol: they depend on this, not on `sync.wiring`.

`sync.wiring.Services` (the composition root) is the one implementation; tests may hand in their own.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import httpx

from sync.core.config import Settings
from sync.core.vault import Vault
from sync.gripp.client import GrippClient
from sync.snelstart.client import SnelStartClient
from sync.store.db import Store
from sync.store.setup import Link


class Services(Protocol):
    settings: Settings
    store: Store
    vault: Vault
    transport: httpx.BaseTransport | None  # None: the real network
    account: str  # the account (catalog key) whose file `store` is

    def today(self) -> date:
        """The business date."""

    def lock_key(self, identity_id: int) -> tuple[str, str, int]:
        """What a run of this identity holds while it runs."""

    def ran(self) -> None:
        """A run, a check or a change of identities ended (the deployment records the account's health); never
        raises."""

    def gripp(self) -> GrippClient: ...

    def snelstart(self, identity_id: int, *, link: Link | None = None) -> SnelStartClient:
        """The client on this identity's saved koppelsleutel."""

    def snelstart_for_key(self, koppelsleutel: str) -> SnelStartClient: ...

    def forget_clients(self) -> None:
        """Drop the cached clients (a key changed)."""
