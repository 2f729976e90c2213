"""Run history, the audit/event log and alerts for failed automatic runs."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any, TypedDict

from sync.core.events import AlertKind, EventKind, Level, Outcome, Step, Trigger, data_of, level_of, render, saying
from sync.core.words import DEFAULT, N_, Msg, jsonable
from sync.store.db import Store

INTERRUPTED = Msg(N_("run.interrupted"))  # why a run no process is running any more was closed as failed


class RunRow(TypedDict):
    """A run as the store keeps it."""

    run_id: str
    identity_id: int | None
    trigger: Trigger
    dry_run: bool  # (dry runs are previews now: `sync.store.previews`)
    started_at: datetime
    finished_at: datetime | None
    outcome: Outcome
    step: Step | None
    progress: float | None
    counts_json: str | None  # what it did, as counts
    message: str | None  # why a failed run failed: a message's JSON (a run recorded before runs were data: words)
    actor: str | None


class EventRow(TypedDict):
    """An event as the log keeps it, with its identity's name: data, said with `sync.core.events.render`."""

    event_id: int
    occurred_at: datetime
    run_id: str | None
    identity_id: int | None
    level: str  # sync.core.events.Level
    kind: str  # sync.core.events.EventKind (a row of an older version may hold a kind no longer made)
    invoice_id: int | None
    invoice_number: str | None
    detail_json: str | None  # its values
    actor: str | None
    identity_name: str | None


class AlertRow(TypedDict):
    """An alert for people, as data (`sync.core.events.render_alert` says it)."""

    alert_id: int
    identity_id: int | None
    run_id: str | None
    raised_at: datetime
    kind: str | None  # sync.core.events.AlertKind; None for an alert raised before alerts had kinds
    detail_json: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


_RUN_CODES = {"trigger": Trigger, "outcome": Outcome, "step": Step}


def start_run(store: Store, identity_id: int | None, trigger: Trigger, *, actor: str = "system") -> str:
    run_id = uuid.uuid4().hex[:12]
    store.execute(
        """INSERT INTO runs (run_id, identity_id, trigger, dry_run, started_at, outcome, step, progress, actor)
           VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)""",
        [run_id, identity_id, str(trigger), False, store.now(), str(Outcome.RUNNING), str(Step.START), actor],
    )
    return run_id


_EVERY_IDENTITY = object()


def close_interrupted_runs(store: Store, identity_id: int | object | None = _EVERY_IDENTITY) -> int:
    """Runs still 'running' that no process is running: the process died (a kill, a power cut) or the disk refused
    the run's last writes. They are closed as failed with why, so the history never shows a run going on forever.
    Without `identity_id`: every such run (the owning process does this at start)."""
    where, params = "outcome = ?", list[object]([str(Outcome.RUNNING)])
    if identity_id is not _EVERY_IDENTITY:
        where, params = "outcome = ? AND identity_id IS NOT DISTINCT FROM ?", [*params, identity_id]
    found = store.scalar(f"SELECT count(*) FROM runs WHERE {where}", params)
    if found:
        store.execute(
            f"UPDATE runs SET outcome = ?, finished_at = ?, step = ?, message = ? WHERE {where}",
            [str(Outcome.FAILED), store.now(), str(Step.DONE), _json(INTERRUPTED), *params],
        )
    return int(found or 0)


def progress(store: Store, run_id: str, step: Step, fraction: float) -> None:
    store.execute("UPDATE runs SET step = ?, progress = ? WHERE run_id = ?", [str(step), fraction, run_id])


def finish_run(store: Store, run_id: str, outcome: Outcome, counts: dict[str, Any], reason: Msg | None = None) -> None:
    """What the run did, as data: its counts, and for a failed run why (`message`, a message as JSON)."""
    store.execute(
        """UPDATE runs SET finished_at = ?, outcome = ?, counts_json = ?, message = ?, progress = 1, step = ?
           WHERE run_id = ?""",
        [store.now(), str(outcome), json.dumps(counts, sort_keys=True), _json(reason) if reason else None,
         str(Step.DONE), run_id],
    )


def _json(value: Any) -> str:
    """Values as the store keeps them: messages as their JSON, amounts and dates as text."""
    return json.dumps(jsonable(value), default=str, ensure_ascii=False)  # names as written: the log's search finds them


def get_run(store: Store, run_id: str) -> RunRow | None:
    return store.one_of(RunRow, "SELECT * FROM runs WHERE run_id = ?", [run_id], codes=_RUN_CODES)


def recent_runs(store: Store, identity_id: int | None = None, limit: int = 50) -> list[RunRow]:
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows_of(RunRow, f"SELECT * FROM runs {where} ORDER BY started_at DESC LIMIT {int(limit)}", params,
                         codes=_RUN_CODES)


def last_run(store: Store, identity_id: int) -> RunRow | None:
    rows = recent_runs(store, identity_id, limit=1)
    return rows[0] if rows else None


def log_event(
    store: Store, kind: EventKind, *, data: dict[str, Any] | None = None, level: Level | None = None,
    run_id: str | None = None, identity_id: int | None = None, invoice_id: int | None = None,
    invoice_number: str | None = None, actor: str | None = None,
) -> None:
    """Record what happened: its kind (`sync.core.events.EventKind`) and values — amounts, dates, names, messages
    (`sync.core.words.Msg`); the words come when it is read, in the reader's language."""
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
        data, kind = e.get("data"), EventKind(e["kind"])  # an unknown kind is a mistake: refused here, not shown later
        for column, value in zip(columns, (
                now, e.get("run_id"), e.get("identity_id"), str(e.get("level") or level_of(kind)), str(kind),
                e.get("invoice_id"), e.get("invoice_number"), _json(data) if data else None,
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
    kind: str | Collection[str] | None = None, actor: str | None = None, alias: str = "",
) -> tuple[str, list]:
    """The WHERE clause (and its parameters) of an event-log query; `alias` prefixes the columns. `kind`: one kind,
    or several (the kinds a reader sees under one name)."""
    a = f"{alias}." if alias else ""
    clauses, params = [], []
    for column, value in (("identity_id", identity_id), ("run_id", run_id), ("level", level), ("actor", actor)):
        if value is not None:
            clauses.append(f"{a}{column} = ?")
            params.append(str(value))
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else sorted(kind)
        clauses.append(f"{a}kind IN ({', '.join('?' for _ in kinds)})" if kinds else "FALSE")
        params += kinds
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def event_actors(store: Store) -> list[str]:
    """Everyone (people and processes) the event log says did something, by name."""
    return [row["actor"] for row in store.rows("SELECT DISTINCT actor FROM events WHERE actor IS NOT NULL "
                                               "ORDER BY actor")]


SEARCH_PAGE = 2000  # candidates put into words at a time while searching, newest first


def events(
    store: Store, *, identity_id: int | None = None, run_id: str | None = None, level: str | None = None,
    kind: str | Collection[str] | None = None, actor: str | None = None, search: str | None = None,
    lang: str = DEFAULT, limit: int = 500,
) -> list[EventRow]:
    """Events newest first, as data (with the identity's name); surfaces say them with `sync.core.events.render`.
    `actor`: only what that person (or process) did.

    `search` finds the events that show every word of it to a reader of `lang`: in their words, their invoice
    number, who did it, the identity, or any value they recorded (a customer's name, a code) — `factuur 260032`
    finds the invoice's events whose words say "factuur", a customer's name the events about that customer. The
    words are not stored (events are data), so the database first narrows the log to the events that could show
    each word — it is in their values, or their kind's words or a message nested in their values can say it —
    and only those are put into words and looked at, newest first, until `limit` are found. Amounts are found as
    shown or as recorded (`121,00`, `121.00`), dates as recorded (`2026-11-01`)."""
    where, params = event_filter(identity_id=identity_id, run_id=run_id, level=level, kind=kind, actor=actor,
                                 alias="e")
    words = (search or "").casefold().split()
    clauses = [where.removeprefix("WHERE ")] if where else []
    for word in words:
        clause, values = _could_show(word, lang)
        clauses.append(clause)
        params += values
    query = (f"SELECT e.*, i.name AS identity_name FROM events e LEFT JOIN identities i USING (identity_id) "
             f"WHERE {' AND '.join(clauses) or 'TRUE'} {{below}} ORDER BY e.event_id DESC LIMIT {{limit}}")
    if not words:
        return store.rows_of(EventRow, query.format(below="", limit=int(limit)), params)
    found: list[EventRow] = []
    below: int | None = None
    while len(found) < limit:
        rows = store.rows_of(EventRow, query.format(below="AND e.event_id < ?" if below is not None else "",
                                                    limit=SEARCH_PAGE),
                             [*params, *([below] if below is not None else [])])
        found += [row for row in rows if _shows(row, words, lang)]
        if len(rows) < SEARCH_PAGE:
            break
        below = rows[-1]["event_id"]
    return found[:limit]


def _could_show(word: str, lang: str) -> tuple[str, list[Any]]:
    """SQL that keeps the events that could show `word` (a superset, checked in words afterwards)."""
    if not any(c.isalnum() for c in word):  # `€`, `—`: the formatter's, shown by many events
        return "TRUE", []
    columns = ("e.invoice_number", "e.actor", "i.name", "e.detail_json")
    clauses = [f"contains(lower(coalesce({column}, '')), ?)" for column in columns]
    values: list[Any] = [word] * len(columns)
    kinds, keys = saying(word, lang)
    if kinds:
        clauses.append(f"e.kind IN ({', '.join('?' for _ in kinds)})")
        values += sorted(kinds)
    if keys:  # a message nested in the values (a reason) whose words say it
        clauses.append("regexp_matches(coalesce(e.detail_json, ''), ?)")
        values.append('"(?:' + "|".join(re.escape(key) for key in sorted(keys)) + ')"')
    digits = re.sub(r"[^0-9]", "", word)
    if digits and re.fullmatch(r"[0-9.,€\s-]+", word):  # an amount as shown (1.234,56): as recorded, 1234.56
        clauses.append("contains(regexp_replace(coalesce(e.detail_json, ''), '[.,]', '', 'g'), ?)")
        values.append(digits)
    return "(" + " OR ".join(clauses) + ")", values


def _shows(row: EventRow, words: list[str], lang: str) -> bool:
    """Does the event show every word to a reader of `lang` (in its words, or among what it recorded)?"""
    seen = [render(row, lang), *(str(row.get(c) or "") for c in ("invoice_number", "actor", "identity_name"))]
    seen += _recorded_values(data_of(row))
    text = " ".join(seen).casefold()
    return all(word in text for word in words)


def _recorded_values(value: Any) -> list[str]:
    """Every value an event recorded (not the names they were recorded under), as text."""
    if isinstance(value, dict):
        return [text for name, item in value.items() if name != "msg" for text in _recorded_values(item)]
    if isinstance(value, list):
        return [text for item in value for text in _recorded_values(item)]
    return [] if value is None else [str(value)]


def raise_alert(store: Store, identity_id: int | None, run_id: str | None, kind: AlertKind | str,
                data: dict[str, Any]) -> None:
    """An alert for people (`sync.core.events.AlertKind`): data, put into words when shown. The same alert nobody has
    seen yet is not raised twice: it moves to now (a failure that repeats every interval is one alert, not 72 a
    day)."""
    detail, kind = _json(data), str(AlertKind(kind))
    with store.transaction():
        same = store.scalar(
            """SELECT alert_id FROM alerts WHERE identity_id IS NOT DISTINCT FROM ? AND kind = ? AND detail_json = ?
               AND acknowledged_at IS NULL ORDER BY raised_at DESC LIMIT 1""", [identity_id, kind, detail])
        if same is not None:
            store.execute("UPDATE alerts SET raised_at = ?, run_id = ? WHERE alert_id = ?",
                          [store.now(), run_id, same])
        else:
            store.execute(
                "INSERT INTO alerts (identity_id, run_id, raised_at, kind, detail_json) VALUES (?, ?, ?, ?, ?)",
                [identity_id, run_id, store.now(), kind, detail])


def open_alerts(store: Store, identity_id: int | None = None) -> list[AlertRow]:
    """Alerts nobody has seen yet, newest first, as data (`sync.core.events.render_alert` says them)."""
    where, params = ("AND identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows_of(AlertRow, f"SELECT * FROM alerts WHERE acknowledged_at IS NULL {where} "
                                   "ORDER BY raised_at DESC", params)


def acknowledge_alert(store: Store, alert_id: int, actor: str) -> None:
    """The alert was seen by `actor` (who may: `sync.jobs.alerts`); the event log says which alert, as it said it."""
    alert = store.one("SELECT identity_id, kind, detail_json FROM alerts WHERE alert_id = ? "
                      "AND acknowledged_at IS NULL", [alert_id])
    if alert is None:
        return
    store.execute(
        "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE alert_id = ? AND acknowledged_at IS NULL",
        [store.now(), actor, alert_id],
    )
    seen = {"kind": alert["kind"], "data": data_of(alert)}  # the event says which alert was seen, as it said it
    log_event(store, EventKind.ALERT_ACKNOWLEDGED, data={"alert": seen}, identity_id=alert["identity_id"], actor=actor)
