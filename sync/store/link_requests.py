"""Link requests: the activation flow's single-use, expiring `referenceKey`, and the key SnelStart delivered on it.

A request is *fresh* (made, nothing delivered yet), *pending* (a key delivered, encrypted, waiting for the user to
save it) or *used* (saved, replaced, deleted, superseded or expired; `outcome` says which). Times travel as epoch
microseconds: DuckDB hands TIMESTAMPTZ to Python only through pytz, which is slow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from sync.core.dates import AMSTERDAM
from sync.store.db import Store


class RequestOutcome(StrEnum):
    """What became of a request (`link_requests.outcome`; None while nothing was delivered on it)."""

    RECEIVED = "received"  # a key delivered, verified: pending
    UNVERIFIED = "received_unverified"  # delivered while SnelStart could not be asked which administration it opens
    LINKED = "linked"
    REGENERATED = "regenerated"  # its key replaced the linked one (SnelStart's Regenerate)
    DELETED = "deleted"  # the link made from it was removed in SnelStart
    SUPERSEDED = "superseded"  # another request's key was saved
    EXPIRED = "expired"


class RequestState(StrEnum):
    """Where a request stands, read off its times (`state`)."""

    FRESH = "fresh"  # made, nothing delivered yet
    PENDING = "pending"  # a key delivered, waiting for the user to save it
    USED = "used"  # saved, replaced, deleted, superseded or expired


RECEIVED, UNVERIFIED, LINKED = RequestOutcome.RECEIVED, RequestOutcome.UNVERIFIED, RequestOutcome.LINKED
REGENERATED, DELETED = RequestOutcome.REGENERATED, RequestOutcome.DELETED
SUPERSEDED, EXPIRED = RequestOutcome.SUPERSEDED, RequestOutcome.EXPIRED


class LinkRequestRow(TypedDict):
    reference_key: str
    identity_id: int
    outcome: RequestOutcome | None
    key_enc: str | None  # the delivered key, encrypted, until it is saved or dropped
    administration_id: str | None  # the administration the key opens (None: not verified yet)
    administration_name: str | None
    action: str | None  # SnelStart's ActionType: Create, Regenerate or Delete
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    received_at: datetime | None


def state(row: LinkRequestRow) -> RequestState:
    if row["used_at"] is not None:
        return RequestState.USED
    if row["received_at"] is not None:
        return RequestState.PENDING
    return RequestState.FRESH


def _moment(epoch_us: int) -> datetime:
    return datetime.fromtimestamp(epoch_us / 1_000_000, tz=AMSTERDAM)


_TIMES = ("created_at", "expires_at", "used_at", "received_at")
_COLUMNS = ", ".join(
    ["reference_key", "identity_id", "outcome", "key_enc", "administration_id", "administration_name", "action",
     *(f"epoch_us({name}) AS {name}" for name in _TIMES)]
)
_CODES: dict[str, Callable[[Any], object]] = {"outcome": RequestOutcome, **dict.fromkeys(_TIMES, _moment)}


def create(store: Store, reference_key: str, identity_id: int, expires_at: datetime, actor: str) -> None:
    store.execute(
        """INSERT INTO link_requests (reference_key, identity_id, created_at, expires_at, created_by)
           VALUES (?, ?, ?, ?, ?)""",
        [reference_key, identity_id, store.now(), expires_at, actor],
    )


def get(store: Store, reference_key: str) -> LinkRequestRow | None:
    return store.one_of(LinkRequestRow, f"SELECT {_COLUMNS} FROM link_requests WHERE reference_key = ?",
                        [reference_key], codes=_CODES)


def latest(store: Store, identity_id: int) -> LinkRequestRow | None:
    return store.one_of(
        LinkRequestRow, f"SELECT {_COLUMNS} FROM link_requests WHERE identity_id = ? ORDER BY created_at DESC LIMIT 1",
        [identity_id], codes=_CODES)


def pending_for(store: Store, identity_id: int) -> LinkRequestRow | None:
    """The latest delivered key of the identity that nobody saved yet and whose request has not expired."""
    return store.one_of(
        LinkRequestRow,
        f"""SELECT {_COLUMNS} FROM link_requests WHERE identity_id = ? AND key_enc IS NOT NULL
              AND received_at IS NOT NULL AND used_at IS NULL AND expires_at > ? ORDER BY received_at DESC LIMIT 1""",
        [identity_id, store.now()], codes=_CODES)


def receive(store: Store, reference_key: str, *, key_enc: str, action: str, administration_id: str | None,
            administration_name: str | None) -> None:
    """A key delivered on the request, kept encrypted until the user saves it. Without an administration it could
    not be verified yet (outcome UNVERIFIED); a request received again is pending again."""
    store.execute(
        """UPDATE link_requests SET key_enc = ?, administration_id = ?, administration_name = ?, action = ?,
                  received_at = ?, used_at = NULL, outcome = ? WHERE reference_key = ?""",
        [key_enc, administration_id, administration_name, action, store.now(),
         str(RECEIVED if administration_id else UNVERIFIED), reference_key],
    )


def regenerated(store: Store, reference_key: str, *, administration_id: str, administration_name: str) -> None:
    """The request's key replaced the linked key (SnelStart's Regenerate)."""
    store.execute(
        """UPDATE link_requests SET key_enc = NULL, administration_id = ?, administration_name = ?, action = ?,
                  received_at = ?, used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?""",
        [administration_id, administration_name, "Regenerate", store.now(), store.now(), str(REGENERATED),
         reference_key],
    )


def close(store: Store, reference_key: str, outcome: RequestOutcome, *, only_unused: bool = False) -> None:
    """The request is done with (`outcome`); a key still on it is dropped. `only_unused`: leave one that some
    other path already closed."""
    store.execute(
        "UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ? WHERE reference_key = ?"
        + (" AND used_at IS NULL" if only_unused else ""),
        [store.now(), str(outcome), reference_key],
    )


def mark_deleted(store: Store, reference_key: str) -> None:
    """The link made from this request was removed in SnelStart (the request keeps when it was first used)."""
    store.execute("UPDATE link_requests SET used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?",
                  [store.now(), str(DELETED), reference_key])


def supersede_pending(store: Store, identity_id: int, keep: str | None = None) -> None:
    """Once the identity is linked, keys delivered for its other requests are no longer wanted: drop them."""
    store.execute(
        """UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ?
           WHERE identity_id = ? AND used_at IS NULL AND received_at IS NOT NULL AND reference_key <> ?""",
        [store.now(), str(SUPERSEDED), identity_id, keep or ""],
    )
