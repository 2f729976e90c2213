"""The figures the team's monitoring scrapes (`/metrics`, `console/metrics.py`), read where they are cheap to read.

An account's own file holds its runs and bookings; `identity_figures` sums them per identity when the account's
health row is written (after every run, check and link change), and the catalog keeps the sums
(`identity_figures`), so a scrape reads the catalog only, however many accounts there are. Problems (`notices`) and
deliveries are the catalog's own. Only account keys and identity ids leave here: no names, no keys, no addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.core.events import DID_ITS_WORK, Outcome
from sync.store.db import Store
from sync.store.deliveries import Deliveries, DeliveryState
from sync.store.outbox import BookingState
from sync.store.pg import PgStore

# How a run ended → its column; a running run is not counted until it ends.
RUN_OUTCOMES = {Outcome.OK: "runs_ok", Outcome.WARNINGS: "runs_warnings", Outcome.FAILED: "runs_failed",
                Outcome.REFUSED: "runs_refused"}
SUCCESS = DID_ITS_WORK  # the run did its work (sync.core.events: one definition for every reader)
# What waits for a person, by the word the metric's label uses → the outbox state and the column.
WAITING = {"blocked": (BookingState.BLOCKED, "blocked"), "refused": (BookingState.FAILED, "refused"),
           "conflict": (BookingState.CONFLICT, "conflicts")}
# A delivery's outcomes that are final: a delivery reaches one once and keeps it, and no delivery row is deleted, so
# their counts never go down (a counter). A due one (waiting, or to be retried) is not an outcome yet: a gauge.
FINAL_DELIVERIES = (DeliveryState.SENT, DeliveryState.GAVE_UP, DeliveryState.DROPPED)


@dataclass(frozen=True)
class IdentityFigures:
    identity_id: int
    last_success_at: datetime | None = None
    runs: dict[str, int] = field(default_factory=dict)     # Outcome value → runs that ended so
    waiting: dict[str, int] = field(default_factory=dict)  # "blocked" | "refused" | "conflict" → invoices


@dataclass(frozen=True)
class AccountFigures:
    account_key: str
    updated_at: datetime | None            # when its figures were last written (the health row's time)
    identities: list[IdentityFigures]
    failing_checks: int | None = None      # setup checks that fail (the health row's); None: no health row yet


@dataclass(frozen=True)
class Count:
    """One labelled count: open problems by kind, deliveries by outcome."""

    account_key: str
    identity_id: int | None
    what: str
    n: int


def identity_figures(store: Store) -> list[IdentityFigures]:
    """Per identity of an account's own file: its last successful run, its runs by outcome and what waits."""
    runs: dict[int, dict[str, int]] = {}
    for row in store.rows("""SELECT identity_id, outcome, count(*) AS n FROM runs
                             WHERE NOT dry_run AND identity_id IS NOT NULL GROUP BY ALL"""):
        if row["outcome"] in RUN_OUTCOMES:
            runs.setdefault(int(row["identity_id"]), {})[row["outcome"]] = int(row["n"])
    last = {int(row["identity_id"]): row["at"] for row in store.rows(
        f"""SELECT identity_id, max(started_at) AS at FROM runs WHERE NOT dry_run AND identity_id IS NOT NULL
            AND outcome IN ({', '.join('?' * len(SUCCESS))}) GROUP BY identity_id""", [str(o) for o in SUCCESS])}
    label_of = {str(state): label for label, (state, _) in WAITING.items()}
    waiting: dict[int, dict[str, int]] = {}
    for row in store.rows(
            f"""SELECT identity_id, state, count(*) AS n FROM bookings
                WHERE state IN ({', '.join('?' * len(label_of))}) GROUP BY ALL""", list(label_of)):
        waiting.setdefault(int(row["identity_id"]), {})[label_of[row["state"]]] = int(row["n"])
    ids = {int(i) for (i,) in store.cursor().execute("SELECT identity_id FROM identities").fetchall()}
    return [IdentityFigures(i, last.get(i), runs.get(i, {}), waiting.get(i, {}))
            for i in sorted(ids | set(runs) | set(waiting))]


class MetricsRows:
    """The catalog's side: the figures kept per identity, and the counts `/metrics` reads at scrape time."""

    def __init__(self, store: Store | PgStore) -> None:
        self._store = store

    def put(self, account_key: str, figures: list[IdentityFigures], *, at: datetime) -> None:
        """The account's figures, replacing what was there (an identity gone from the file goes from here too)."""
        columns = ["account_key", "identity_id", "updated_at", "last_success_at", *RUN_OUTCOMES.values(),
                   *(column for _, column in WAITING.values())]
        rows = [[account_key, f.identity_id, at, f.last_success_at,
                 *(f.runs.get(str(o), 0) for o in RUN_OUTCOMES),
                 *(f.waiting.get(label, 0) for label in WAITING)] for f in figures]
        with self._store.transaction() as cur:
            cur.execute("DELETE FROM identity_figures WHERE account_key = ?", [account_key])
            if rows:
                cur.executemany(f"INSERT INTO identity_figures ({', '.join(columns)}) "
                                f"VALUES ({', '.join('?' * len(columns))})", rows)

    def accounts(self) -> list[AccountFigures]:
        """Every current account (removed ones left out), with its identities' figures."""
        rows = self._store.rows(
            f"""SELECT a.account_key, h.updated_at AS health_at, h.failing_checks, f.identity_id, f.last_success_at,
                       {', '.join('f.' + c for c in RUN_OUTCOMES.values())},
                       {', '.join('f.' + c for _, c in WAITING.values())}
                FROM accounts a LEFT JOIN account_health h USING (account_key)
                LEFT JOIN identity_figures f USING (account_key)
                WHERE a.removed_at IS NULL ORDER BY a.account_key, f.identity_id""")
        found: dict[str, AccountFigures] = {}
        for row in rows:
            account = found.setdefault(row["account_key"], AccountFigures(
                row["account_key"], row["health_at"], [],
                None if row["health_at"] is None else int(row["failing_checks"] or 0)))
            if row["identity_id"] is not None:
                account.identities.append(_identity(row))
        return list(found.values())

    def open_problems(self) -> list[Count]:
        """The open rows of the ledger of problems (`notices`), by account, identity and kind."""
        return [Count(row["account_key"], row["identity_id"], row["kind"], int(row["n"])) for row in self._store.rows(
            """SELECT n.account_key, n.identity_id, n.kind, count(*) AS n FROM notices n
               JOIN accounts a USING (account_key) WHERE n.ended_at IS NULL AND a.removed_at IS NULL
               GROUP BY n.account_key, n.identity_id, n.kind ORDER BY 1, 2, 3, 4""")]

    def deliveries(self) -> list[Count]:
        """Notification deliveries by the target's account ('' for the support team's targets) and outcome: the
        delivery's state (`sync.store.deliveries.DeliveryState`: due — waiting or to be retried —, sent, gave_up,
        dropped). Test messages are not counted."""
        return [Count(account or "", None, state, n) for account, state, n in Deliveries(self._store).by_outcome()]


def _identity(row: dict[str, Any]) -> IdentityFigures:
    return IdentityFigures(
        identity_id=int(row["identity_id"]),
        last_success_at=row["last_success_at"],
        runs={str(outcome): int(row[column]) for outcome, column in RUN_OUTCOMES.items()},
        waiting={label: int(row[column]) for label, (_, column) in WAITING.items()},
    )
