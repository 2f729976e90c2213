"""The booking state of every Gripp invoice (the outbox) and the payments registered in Gripp.

Each step of the push records its state before and after it, so a crash at any point resumes correctly:
  pending -> posting -> booked -> pdf_uploading -> done
  blocked (fix the mapping, then it is retried), failed (SnelStart refused: reason kept), pdf_pending
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sync.dates import now_amsterdam
from sync.store.db import Store

OPEN_STATES = ("pending", "posting", "blocked", "failed")
BOOKED_STATES = ("booked", "pdf_uploading", "pdf_pending", "done")


def get(store: Store, identity_id: int, invoice_id: int) -> dict | None:
    return store.one("SELECT * FROM bookings WHERE identity_id = ? AND invoice_id = ?", [identity_id, invoice_id])


def all_for(store: Store, identity_id: int) -> dict[int, dict]:
    rows = store.rows("SELECT * FROM bookings WHERE identity_id = ?", [identity_id])
    return {row["invoice_id"]: row for row in rows}


def put(store: Store, identity_id: int, invoice_id: int, number: str, state: str, **fields: Any) -> None:
    """Create or move a booking row; only the given fields change."""
    now = now_amsterdam()
    existing = get(store, identity_id, invoice_id)
    if existing is None:
        store.execute(
            "INSERT INTO bookings (identity_id, invoice_id, number, state, updated_at) VALUES (?, ?, ?, ?, ?)",
            [identity_id, invoice_id, number, state, now],
        )
    sets = {"state": state, "updated_at": now, **fields}
    if "reasons" in sets:
        reasons = sets.pop("reasons")
        sets["reasons_json"] = json.dumps(reasons, ensure_ascii=False) if reasons else None
    assignments = ", ".join(f"{column} = ?" for column in sets)
    store.execute(
        f"UPDATE bookings SET {assignments} WHERE identity_id = ? AND invoice_id = ?",
        [*sets.values(), identity_id, invoice_id],
    )


def reasons(row: dict) -> list[dict]:
    return json.loads(row["reasons_json"]) if row.get("reasons_json") else []


def counts(store: Store, identity_id: int) -> dict[str, int]:
    rows = store.rows("SELECT state, count(*) AS n FROM bookings WHERE identity_id = ? GROUP BY state", [identity_id])
    return {row["state"]: row["n"] for row in rows}


# -- payments -------------------------------------------------------------------------------------------
def payment(store: Store, marker: str) -> dict | None:
    return store.one("SELECT * FROM payments_applied WHERE marker = ?", [marker])


def payment_intent(store: Store, *, marker: str, identity_id: int, invoice_id: int, booking_id: str, amount: Decimal,
                   pay_date: date) -> None:
    store.execute(
        """INSERT INTO payments_applied
               (marker, identity_id, invoice_id, booking_id, amount, pay_date, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, 'sending', ?) ON CONFLICT (marker) DO NOTHING""",
        [marker, identity_id, invoice_id, booking_id, amount, pay_date, now_amsterdam()],
    )


def payment_done(store: Store, marker: str, gripp_payment_id: int | None) -> None:
    store.execute(
        "UPDATE payments_applied SET state = 'done', gripp_payment_id = ?, applied_at = ? WHERE marker = ?",
        [gripp_payment_id, now_amsterdam(), marker],
    )


def payments_for(store: Store, identity_id: int) -> list[dict]:
    return store.rows("SELECT * FROM payments_applied WHERE identity_id = ? ORDER BY created_at", [identity_id])
