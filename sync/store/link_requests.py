"""Link requests: the activation flow's single-use, expiring `referenceKey`, and the key SnelStart delivered on it.

A request is *fresh* (made, nothing delivered yet), *pending* (a key delivered, encrypted, waiting for the user to
save it) or *used* (saved, replaced, deleted, superseded or expired; `outcome` says which). Times travel as epoch
microseconds: DuckDB hands TIMESTAMPTZ to Python only through pytz, which is slow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.core.dates import AMSTERDAM
from sync.store.db import Store

# Outcomes.
RECEIVED, LINKED, REGENERATED, DELETED, SUPERSEDED, EXPIRED = (
    "received", "linked", "regenerated", "deleted", "superseded", "expired")
UNVERIFIED = "received_unverified"  # delivered while SnelStart could not be asked which administration it opens

_TIMES = ("created_at", "expires_at", "used_at", "received_at")
_COLUMNS = ", ".join(
    ["reference_key", "identity_id", "outcome", "key_enc", "administration_id", "administration_name", "action",
     *(f"epoch_us({name}) AS {name}" for name in _TIMES)]
)


def _from_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is not None:
        for name in _TIMES:
            if row[name] is not None:
                row[name] = datetime.fromtimestamp(row[name] / 1_000_000, tz=AMSTERDAM)
    return row


def create(store: Store, reference_key: str, identity_id: int, expires_at: datetime, actor: str) -> None:
    store.execute(
        """INSERT INTO link_requests (reference_key, identity_id, created_at, expires_at, created_by)
           VALUES (?, ?, ?, ?, ?)""",
        [reference_key, identity_id, store.now(), expires_at, actor],
    )


def get(store: Store, reference_key: str) -> dict[str, Any] | None:
    return _from_row(store.one(f"SELECT {_COLUMNS} FROM link_requests WHERE reference_key = ?", [reference_key]))


def latest(store: Store, identity_id: int) -> dict[str, Any] | None:
    return _from_row(store.one(
        f"SELECT {_COLUMNS} FROM link_requests WHERE identity_id = ? ORDER BY created_at DESC LIMIT 1",
        [identity_id]))


def pending_for(store: Store, identity_id: int) -> dict[str, Any] | None:
    """The latest delivered key of the identity that nobody saved yet and whose request has not expired."""
    return _from_row(store.one(
        f"""SELECT {_COLUMNS} FROM link_requests WHERE identity_id = ? AND key_enc IS NOT NULL
              AND received_at IS NOT NULL AND used_at IS NULL AND expires_at > ? ORDER BY received_at DESC LIMIT 1""",
        [identity_id, store.now()],
    ))


def receive(store: Store, reference_key: str, *, key_enc: str, action: str, administration_id: str | None,
            administration_name: str | None) -> None:
    """A key delivered on the request, kept encrypted until the user saves it. Without an administration it could
    not be verified yet (outcome UNVERIFIED); a request received again is pending again."""
    store.execute(
        """UPDATE link_requests SET key_enc = ?, administration_id = ?, administration_name = ?, action = ?,
                  received_at = ?, used_at = NULL, outcome = ? WHERE reference_key = ?""",
        [key_enc, administration_id, administration_name, action, store.now(),
         RECEIVED if administration_id else UNVERIFIED, reference_key],
    )


def regenerated(store: Store, reference_key: str, *, administration_id: str, administration_name: str) -> None:
    """The request's key replaced the linked key (SnelStart's Regenerate)."""
    store.execute(
        """UPDATE link_requests SET key_enc = NULL, administration_id = ?, administration_name = ?, action = ?,
                  received_at = ?, used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?""",
        [administration_id, administration_name, "Regenerate", store.now(), store.now(), REGENERATED,
         reference_key],
    )


def close(store: Store, reference_key: str, outcome: str, *, only_unused: bool = False) -> None:
    """The request is done with (`outcome`); a key still on it is dropped. `only_unused`: leave one that some
    other path already closed."""
    store.execute(
        "UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ? WHERE reference_key = ?"
        + (" AND used_at IS NULL" if only_unused else ""),
        [store.now(), outcome, reference_key],
    )


def mark_deleted(store: Store, reference_key: str) -> None:
    """The link made from this request was removed in SnelStart (the request keeps when it was first used)."""
    store.execute("UPDATE link_requests SET used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?",
                  [store.now(), DELETED, reference_key])


def supersede_pending(store: Store, identity_id: int, keep: str | None = None) -> None:
    """Once the identity is linked, keys delivered for its other requests are no longer wanted: drop them."""
    store.execute(
        """UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ?
           WHERE identity_id = ? AND used_at IS NULL AND received_at IS NOT NULL AND reference_key <> ?""",
        [store.now(), SUPERSEDED, identity_id, keep or ""],
    )
