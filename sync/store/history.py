"""Run history, the audit/event log and alerts for failed automatic runs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sync.access import Actor, authorize
from sync.dates import now_amsterdam
from sync.store.db import Store


def start_run(store: Store, identity_id: int | None, trigger: str, *, dry_run: bool = False,
              actor: str = "system") -> str:
    run_id = uuid.uuid4().hex[:12]
    store.execute(
        """INSERT INTO runs (run_id, identity_id, trigger, dry_run, started_at, outcome, step, progress, actor)
           VALUES (?, ?, ?, ?, ?, 'running', 'start', 0, ?)""",
        [run_id, identity_id, trigger, dry_run, now_amsterdam(), actor],
    )
    return run_id


def close_interrupted_runs(store: Store, identity_id: int | None) -> int:
    """Runs still 'running' that no process is running: the process died or the disk refused the run's last
    writes. They are closed as failed, so the history never shows a run going on forever."""
    found = store.scalar(
        "SELECT count(*) FROM runs WHERE outcome = 'running' AND identity_id IS NOT DISTINCT FROM ?", [identity_id])
    if found:
        store.execute(
            """UPDATE runs SET outcome = 'failed', finished_at = ?, step = 'done',
                      message = 'interrupted: the process stopped or the database could not be written'
               WHERE outcome = 'running' AND identity_id IS NOT DISTINCT FROM ?""",
            [now_amsterdam(), identity_id],
        )
    return int(found or 0)


def progress(store: Store, run_id: str, step: str, fraction: float) -> None:
    store.execute("UPDATE runs SET step = ?, progress = ? WHERE run_id = ?", [step, fraction, run_id])


def finish_run(store: Store, run_id: str, outcome: str, counts: dict[str, int], message: str = "") -> None:
    store.execute(
        """UPDATE runs SET finished_at = ?, outcome = ?, counts_json = ?, message = ?, progress = 1, step = 'done'
           WHERE run_id = ?""",
        [now_amsterdam(), outcome, json.dumps(counts, sort_keys=True), message, run_id],
    )


def get_run(store: Store, run_id: str) -> dict | None:
    return store.one("SELECT * FROM runs WHERE run_id = ?", [run_id])


def recent_runs(store: Store, identity_id: int | None = None, limit: int = 50) -> list[dict]:
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(f"SELECT * FROM runs {where} ORDER BY started_at DESC LIMIT {int(limit)}", params)


def last_run(store: Store, identity_id: int) -> dict | None:
    rows = recent_runs(store, identity_id, limit=1)
    return rows[0] if rows else None


def log_event(
    store: Store, kind: str, message_nl: str, message_en: str, *, level: str = "info", run_id: str | None = None,
    identity_id: int | None = None, invoice_id: int | None = None, invoice_number: str | None = None,
    detail: dict[str, Any] | None = None, actor: str | None = None,
) -> None:
    store.execute(
        """INSERT INTO events (occurred_at, run_id, identity_id, level, kind, invoice_id, invoice_number,
                               message_nl, message_en, detail_json, actor)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [now_amsterdam(), run_id, identity_id, level, kind, invoice_id, invoice_number, message_nl, message_en,
         json.dumps(detail, default=str) if detail else None, actor],
    )


def log_events(store: Store, entries: list[dict[str, Any]]) -> None:
    """Several events in one statement; each entry has `log_event`'s arguments as keys."""
    if not entries:
        return
    now = now_amsterdam()
    params: list[Any] = []
    for e in entries:
        detail = e.get("detail")
        params += [now, e.get("run_id"), e.get("identity_id"), e.get("level", "info"), e["kind"], e.get("invoice_id"),
                   e.get("invoice_number"), e["message_nl"], e["message_en"],
                   json.dumps(detail, default=str) if detail else None, e.get("actor")]
    store.execute(
        f"""INSERT INTO events (occurred_at, run_id, identity_id, level, kind, invoice_id, invoice_number,
                                message_nl, message_en, detail_json, actor)
            VALUES {", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in entries)}""",
        params,
    )


def event_filter(
    *, identity_id: int | None = None, run_id: str | None = None, level: str | None = None,
    kind: str | None = None, search: str | None = None, alias: str = "",
) -> tuple[str, list]:
    """The WHERE clause (and its parameters) of an event-log query; `alias` prefixes the columns."""
    a = f"{alias}." if alias else ""
    clauses, params = [], []
    for column, value in (("identity_id", identity_id), ("run_id", run_id), ("level", level), ("kind", kind)):
        if value is not None:
            clauses.append(f"{a}{column} = ?")
            params.append(value)
    if search:
        clauses.append(f"({a}invoice_number ILIKE ? OR {a}message_nl ILIKE ? OR {a}message_en ILIKE ?)")
        params += [f"%{search}%"] * 3
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def events(
    store: Store, *, identity_id: int | None = None, run_id: str | None = None, level: str | None = None,
    kind: str | None = None, search: str | None = None, limit: int = 500,
) -> list[dict]:
    where, params = event_filter(identity_id=identity_id, run_id=run_id, level=level, kind=kind, search=search)
    return store.rows(f"SELECT * FROM events {where} ORDER BY event_id DESC LIMIT {int(limit)}", params)


def raise_alert(store: Store, identity_id: int | None, run_id: str | None, message_nl: str, message_en: str) -> None:
    store.execute(
        "INSERT INTO alerts (identity_id, run_id, raised_at, message_nl, message_en) VALUES (?, ?, ?, ?, ?)",
        [identity_id, run_id, now_amsterdam(), message_nl, message_en],
    )


def open_alerts(store: Store, identity_id: int | None = None) -> list[dict]:
    where, params = ("AND identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(
        f"SELECT * FROM alerts WHERE acknowledged_at IS NULL {where} ORDER BY raised_at DESC", params
    )


def acknowledge_alert(store: Store, alert_id: int, actor: Actor | str) -> None:
    actor = authorize(actor, "acknowledge")
    alert = store.one("SELECT identity_id, message_nl, message_en FROM alerts WHERE alert_id = ? "
                      "AND acknowledged_at IS NULL", [alert_id])
    if alert is None:
        return
    store.execute(
        "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ? AND acknowledged_at IS NULL",
        [now_amsterdam(), actor, alert_id],
    )
    log_event(store, "alert_acknowledged", f"Melding gezien door {actor}: {alert['message_nl']}",
              f"Alert acknowledged by {actor}: {alert['message_en']}", identity_id=alert["identity_id"], actor=actor)
