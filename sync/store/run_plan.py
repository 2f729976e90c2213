"""The distributed mode's schedule, in Postgres beside procrastinate's jobs: when each linked identity of each
account runs next (`run_plan`), and the deferral of its job.

A job is deferred in the same transaction that records why (the plan moving an identity's next run on, a
person's "Nu synchroniseren"): both happen or neither does. Each sync job carries
- `lock` = the account: procrastinate starts no job while another job with that lock runs, on any node — one
  account never runs on two nodes at once, and a worker skips to another account's job meanwhile (fairness);
- `queueing_lock` = the account and identity: a run already waiting is not queued twice (what APScheduler's
  `coalesce`/`max_instances=1` did).

The schedules themselves are the accounts' (each link's interval and pause, in its file): the catalog's health
rows carry them (`schedule_json`), which is what the plan reads, so planning never opens an account file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

SYNC_TASK = "link:sync"
SYNC_QUEUE = "sync"
SCHEMA = """CREATE TABLE IF NOT EXISTS run_plan (
    account TEXT NOT NULL,
    identity_id BIGINT NOT NULL,
    interval_minutes INTEGER NOT NULL,
    paused BOOLEAN NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    requested_at TIMESTAMPTZ,            -- the last "Nu synchroniseren"
    requested_by TEXT,
    PRIMARY KEY (account, identity_id)
)"""


@dataclass(frozen=True)
class SyncJob:
    """"Sync identity I (or identities I, J, …) of account A", as a job. A tick of the plan gives each account one
    job with every identity of it that is due, run one after another: one lease, one copy of the file shipped and
    checked in, one read of Gripp's invoices for them all (as a single node runs an account's due identities)."""

    account: str
    identity_ids: tuple[int, ...]
    trigger: str = "schedule"
    actor: str = "scheduler"

    @property
    def lock(self) -> str:
        return f"account:{self.account}"

    @property
    def queueing_lock(self) -> str:
        return f"sync:{self.account}:{'+'.join(str(i) for i in self.identity_ids)}"

    def args(self) -> dict[str, Any]:
        return {"account": self.account, "identity_ids": list(self.identity_ids), "trigger": self.trigger,
                "actor": self.actor}


Connection = psycopg.Connection[Any]


def create(connection: Connection, queue_schema: str) -> None:
    """procrastinate's tables (`queue_schema`, its own SQL) and the run plan, once for the deployment: the first node
    to start makes them, under a lock, while the others wait and then find them there."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('queue schema', 0))")
        if connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone() == (None,):
            connection.execute(queue_schema.encode())
        connection.execute(SCHEMA)


def prune(connection: Connection, before: datetime) -> int:
    """Finished jobs that ended before `before` go (the queue's own history; the runs are in the accounts')."""
    cursor = connection.execute(
        "DELETE FROM procrastinate_jobs WHERE status IN ('succeeded', 'cancelled') AND id IN (SELECT job_id "
        "FROM procrastinate_events WHERE type IN ('succeeded', 'cancelled') AND at < %s)", [before])
    return cursor.rowcount


def defer(connection: Connection, job: SyncJob, *, task: str = SYNC_TASK, queue: str = SYNC_QUEUE) -> int | None:
    """Queue the job in the connection's transaction; None when the same run is already waiting."""
    try:
        with connection.transaction():  # a savepoint: a refused job leaves the caller's transaction whole
            row = connection.execute(
                "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, 0, %s, %s, %s, NULL)"
                "::procrastinate_job_to_defer_v1])",
                [queue, task, job.lock, job.queueing_lock, Jsonb(job.args())]).fetchone()
    except psycopg.errors.UniqueViolation:
        return None  # its queueing lock: that run is waiting already
    return int(row[0][0]) if row and row[0] else None


def request(connection: Connection, job: SyncJob, now: datetime) -> int | None:
    """A person's "Nu synchroniseren": recorded and deferred together, for the identities whose run is not waiting
    already (None when every one is)."""
    with connection.transaction():
        waiting = waiting_runs(connection)
        wanted = tuple(i for i in job.identity_ids if (job.account, i) not in waiting)
        if not wanted:
            return None
        connection.execute("UPDATE run_plan SET requested_at = %s, requested_by = %s WHERE account = %s AND "
                           "identity_id = ANY(%s)", [now, job.actor, job.account, list(wanted)])
        return defer(connection, SyncJob(job.account, wanted, job.trigger, job.actor))


def waiting_runs(connection: Connection) -> set[tuple[str, int]]:
    """The identities (of every account) whose run waits in the queue."""
    return {(str(account), int(identity)) for account, identity in connection.execute(
        "SELECT args->>'account', jsonb_array_elements_text(args->'identity_ids') FROM procrastinate_jobs "
        "WHERE task_name = %s AND status = 'todo'", [SYNC_TASK]).fetchall()}


def plan(connection: Connection, now: datetime) -> list[SyncJob]:
    """One tick: bring the plan in line with the accounts' schedules (new links get their first run one interval
    from now, as APScheduler's interval did; gone ones leave), then defer the runs that are due — one job per
    account, its due identities in it — and move their next run on by whole intervals. One tick at a time across
    the nodes (an advisory lock for the transaction)."""
    deferred: list[SyncJob] = []
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(hashtextextended('run plan', 0))")
        schedules = connection.execute(
            "SELECT h.account_key, h.schedule_json FROM account_health h JOIN accounts a USING (account_key) "
            "WHERE a.removed_at IS NULL").fetchall()
        wanted = {(str(key), int(row["identity_id"])): row
                  for key, text in schedules for row in json.loads(text or "[]")}
        planned = {(str(r[0]), int(r[1])): r for r in connection.execute(
            "SELECT account, identity_id, interval_minutes, paused, due_at FROM run_plan").fetchall()}
        for gone in planned.keys() - wanted.keys():
            connection.execute("DELETE FROM run_plan WHERE account = %s AND identity_id = %s", list(gone))
        due: list[tuple[str, int]] = []
        for (account, identity), row in sorted(wanted.items()):
            interval, paused = max(1, int(row["interval_minutes"])), bool(row["paused"])
            found = planned.get((account, identity))
            if found is None or found[2] != interval:
                next_at = now + timedelta(minutes=interval)
            else:
                next_at = found[4]
                if next_at <= now:
                    if not paused:
                        due.append((account, identity))
                    while next_at <= now:
                        next_at += timedelta(minutes=interval)
            connection.execute(
                "INSERT INTO run_plan (account, identity_id, interval_minutes, paused, due_at) VALUES (%s, %s, %s, "
                "%s, %s) ON CONFLICT (account, identity_id) DO UPDATE SET interval_minutes = "
                "excluded.interval_minutes, paused = excluded.paused, due_at = excluded.due_at",
                [account, identity, interval, paused, next_at])
        waiting = waiting_runs(connection)  # a due run already waiting is not queued twice
        by_account: dict[str, list[int]] = {}
        for account, identity in due:
            if (account, identity) not in waiting:
                by_account.setdefault(account, []).append(identity)
        for account, identities in sorted(by_account.items()):
            job = SyncJob(account, tuple(identities))
            if defer(connection, job) is not None:
                deferred.append(job)
    return deferred


def next_runs(connection: Connection, account: str | None = None) -> dict[tuple[str, int], datetime]:
    """When each identity (of `account`) runs next; paused ones are left out."""
    where, params = ("AND account = %s", [account]) if account is not None else ("", [])
    return {(str(r[0]), int(r[1])): r[2] for r in connection.execute(
        f"SELECT account, identity_id, due_at FROM run_plan WHERE NOT paused {where}", params).fetchall()}


def waiting(connection: Connection, account: str | None = None) -> dict[str, int]:
    """Identities whose sync waits in the queue, and runs (of `account`)."""
    where, params = ("AND args->>'account' = %s", [account]) if account is not None else ("", [])
    found = dict(connection.execute(
        f"SELECT status::text, sum(jsonb_array_length(args->'identity_ids')) FROM procrastinate_jobs WHERE "
        f"task_name = %s AND status IN ('todo', 'doing') {where} GROUP BY status", [SYNC_TASK, *params]).fetchall())
    return {"waiting": int(found.get("todo", 0)), "running": int(found.get("doing", 0))}
