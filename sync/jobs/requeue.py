"""Retry what SnelStart refused, once a person has fixed the cause ("only what failed", never everything).

Refused invoices (`failed`) are not offered again on every run — one unfixed error must not make each sync
knock on SnelStart's door again; this puts them back in the queue.
"""

from __future__ import annotations

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind
from sync.store import history, outbox
from sync.store.db import Store
from sync.store.outbox import BookingState


def retry_failed(store: Store, identity_id: int, actor: Actor | str) -> int:
    """Move the identity's `failed` invoices back to `pending`; returns how many moved."""
    actor = authorize(actor, "sync")
    rows = outbox.failed(store, identity_id)
    if not rows:
        return 0
    with store.transaction():
        for row in rows:
            outbox.put(store, identity_id, row["invoice_id"], row["number"], BookingState.PENDING)
        numbers = ", ".join(row["number"] for row in rows[:10]) + (" …" if len(rows) > 10 else "")
        history.log_event(
            store, EventKind.RETRY_FAILED, identity_id=identity_id, actor=actor,
            data={"n": len(rows), "numbers": numbers, "invoices": [row["invoice_id"] for row in rows]},
        )
    return len(rows)
