"""Dry runs (previews), kept apart from the runs: a preview is never "the last sync"."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sync.core.events import Outcome, Step
from sync.store.db import Store


def start(store: Store, identity_id: int, actor: str) -> str:
    preview_id = uuid.uuid4().hex[:12]
    store.execute(
        """INSERT INTO previews (preview_id, identity_id, started_at, outcome, step, progress, actor)
           VALUES (?, ?, ?, ?, ?, 0, ?)""",
        [preview_id, identity_id, store.now(), str(Outcome.RUNNING), str(Step.START), actor],
    )
    return preview_id


def close_interrupted(store: Store, identity_id: int) -> None:
    """A preview still 'running' when a new one starts for the identity: its process stopped."""
    store.execute(
        "UPDATE previews SET outcome = ?, finished_at = ?, step = ? WHERE identity_id = ? AND outcome = ?",
        [str(Outcome.FAILED), store.now(), str(Step.DONE), identity_id, str(Outcome.RUNNING)],
    )


def progress(store: Store, preview_id: str, step: Step, fraction: float) -> None:
    store.execute("UPDATE previews SET step = ?, progress = ? WHERE preview_id = ?", [str(step), fraction, preview_id])


def finish(store: Store, preview_id: str, outcome: Outcome, result: dict[str, Any]) -> None:
    store.execute(
        """UPDATE previews SET finished_at = ?, outcome = ?, step = ?, progress = 1, result_json = ?
           WHERE preview_id = ?""",
        [store.now(), str(outcome), str(Step.DONE), json.dumps(result, default=str), preview_id],
    )


def latest(store: Store, identity_id: int) -> dict | None:
    """The identity's newest finished preview, its result as data (`result`)."""
    row = store.one(
        "SELECT * FROM previews WHERE identity_id = ? AND outcome <> ? ORDER BY started_at DESC LIMIT 1",
        [identity_id, str(Outcome.RUNNING)],
    )
    if row is None:
        return None
    return {**row, "result": json.loads(row["result_json"]) if row.get("result_json") else {}}
