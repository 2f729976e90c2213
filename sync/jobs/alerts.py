"""Alerts from failed automatic runs: a person says they saw one."""

from __future__ import annotations

from sync.auth.access import Actor, authorize
from sync.store import history
from sync.store.db import Store


def acknowledge(store: Store, alert_id: int, actor: Actor | str) -> None:
    """The alert stops showing on Overzicht; finance may do this too (their role's "acknowledge")."""
    history.acknowledge_alert(store, alert_id, authorize(actor, "acknowledge"))
