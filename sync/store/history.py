"""Run history, the audit/event log and alerts for failed automatic runs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sync.auth.access import Actor, authorize
from sync.core.events import data_of, level_of, render, render_alert
from sync.store.db import Store

INTERRUPTED = {"nl": "onderbroken: het proces stopte of de database kon niet worden geschreven",
               "en": "interrupted: the process stopped or the database could not be written"}


def start_run(store: Store, identity_id: int | None, trigger: str, *, actor: str = "system") -> str:
    run_id = uuid.uuid4().hex[:12]
    store.execute(
        """INSERT INTO runs (run_id, identity_id, trigger, dry_run, started_at, outcome, step, progress, actor)
           VALUES (?, ?, ?, ?, ?, 'running', 'start', 0, ?)""",
        [run_id, identity_id, trigger, False, store.now(), actor],
    )
    return run_id


_EVERY_IDENTITY = object()


def close_interrupted_runs(store: Store, identity_id: int | object | None = _EVERY_IDENTITY) -> int:
    """Runs still 'running' that no process is running: the process died (a kill, a power cut) or the disk refused
    the run's last writes. They are closed as failed with why, so the history never shows a run going on forever.
    Without `identity_id`: every such run (the owning process does this at start)."""
    where, params = ("outcome = 'running'", [])
    if identity_id is not _EVERY_IDENTITY:
        where, params = ("outcome = 'running' AND identity_id IS NOT DISTINCT FROM ?", [identity_id])
    found = store.scalar(f"SELECT count(*) FROM runs WHERE {where}", params)
    if found:
        store.execute(
            f"""UPDATE runs SET outcome = 'failed', finished_at = ?, step = 'done', message = ?
                WHERE {where}""",
            [store.now(), json.dumps(INTERRUPTED), *params],
        )
    return int(found or 0)


def progress(store: Store, run_id: str, step: str, fraction: float) -> None:
    store.execute("UPDATE runs SET step = ?, progress = ? WHERE run_id = ?", [step, fraction, run_id])


def finish_run(store: Store, run_id: str, outcome: str, counts: dict[str, Any],
               reason: dict[str, str] | None = None) -> None:
    """What the run did, as data: its counts, and for a failed run the reason in both languages (`message`)."""
    store.execute(
        """UPDATE runs SET finished_at = ?, outcome = ?, counts_json = ?, message = ?, progress = 1, step = 'done'
           WHERE run_id = ?""",
        [store.now(), outcome, json.dumps(counts, sort_keys=True), json.dumps(reason) if reason else None,
         run_id],
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
    store: Store, kind: str, *, data: dict[str, Any] | None = None, level: str | None = None,
    run_id: str | None = None, identity_id: int | None = None, invoice_id: int | None = None,
    invoice_number: str | None = None, actor: str | None = None,
) -> None:
    """Record what happened: its kind (`sync.core.events.KINDS`) and values; the words come when it is read."""
    log_events(store, [{"kind": kind, "data": data, "level": level, "run_id": run_id, "identity_id": identity_id,
                        "invoice_id": invoice_id, "invoice_number": invoice_number, "actor": actor}])


def log_events(store: Store, entries: list[dict[str, Any]]) -> None:
    """Several events in one statement; each entry has `log_event`'s arguments as keys. The values go as one list a
    column: DuckDB takes a list parameter whole, far faster than a VALUES row each."""
    if not entries:
        return
    now = store.now()
    columns: list[list[Any]] = [[] for _ in range(9)]
    for e in entries:
        data = e.get("data")
        for column, value in zip(columns, (
                now, e.get("run_id"), e.get("identity_id"), e.get("level") or level_of(e["kind"]), e["kind"],
                e.get("invoice_id"), e.get("invoice_number"), json.dumps(data, default=str) if data else None,
                e.get("actor")), strict=True):
            column.append(value)
    store.execute(
        f"""INSERT INTO events (occurred_at, run_id, identity_id, level, kind, invoice_id, invoice_number,
                                detail_json, actor)
            SELECT {", ".join("unnest(?)" for _ in columns)}""",
        columns,
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
        # The words are made when read; the search looks at the values they are made of (and at old rows' words).
        clauses.append(f"({a}invoice_number ILIKE ? OR {a}detail_json ILIKE ? OR {a}actor ILIKE ? "
                       f"OR {a}message_nl ILIKE ? OR {a}message_en ILIKE ?)")
        params += [f"%{search}%"] * 5
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def events(
    store: Store, *, identity_id: int | None = None, run_id: str | None = None, level: str | None = None,
    kind: str | None = None, search: str | None = None, limit: int = 500,
) -> list[dict]:
    """Events newest first, each with its words in both languages (`message_nl`, `message_en`)."""
    where, params = event_filter(identity_id=identity_id, run_id=run_id, level=level, kind=kind, search=search)
    rows = store.rows(f"SELECT * FROM events {where} ORDER BY event_id DESC LIMIT {int(limit)}", params)
    return [{**row, "message_nl": render(row, "nl"), "message_en": render(row, "en")} for row in rows]


def raise_alert(store: Store, identity_id: int | None, run_id: str | None, kind: str, data: dict[str, Any]) -> None:
    """An alert for people (`sync.core.events.ALERTS`): data, put into words when shown."""
    store.execute(
        "INSERT INTO alerts (identity_id, run_id, raised_at, kind, detail_json) VALUES (?, ?, ?, ?, ?)",
        [identity_id, run_id, store.now(), kind, json.dumps(data, default=str)],
    )


def open_alerts(store: Store, identity_id: int | None = None) -> list[dict]:
    where, params = ("AND identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    rows = store.rows(f"SELECT * FROM alerts WHERE acknowledged_at IS NULL {where} ORDER BY raised_at DESC", params)
    return [{**row, "message_nl": render_alert(row, "nl"), "message_en": render_alert(row, "en")} for row in rows]


def acknowledge_alert(store: Store, alert_id: int, actor: Actor | str) -> None:
    actor = authorize(actor, "acknowledge")
    alert = store.one("SELECT identity_id, kind, detail_json, message_nl, message_en FROM alerts WHERE alert_id = ? "
                      "AND acknowledged_at IS NULL", [alert_id])
    if alert is None:
        return
    store.execute(
        "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ? AND acknowledged_at IS NULL",
        [store.now(), actor, alert_id],
    )
    seen = {"kind": alert["kind"], "data": data_of(alert)} if alert["kind"] else {
        "message_nl": alert["message_nl"], "message_en": alert["message_en"]}
    log_event(store, "alert_acknowledged", data={"alert": seen}, identity_id=alert["identity_id"], actor=actor)
