"""The account's problems, worked out again from its own data after every run, check and schedule change, and
reconciled with the deployment's ledger (`sync.store.notices`): a new one is announced once, its end once, one that
lasts never again — whichever run (automatic or not), check or process found it. See `sync.core.notices`.

The problems (`NoticeKind`): a koppelsleutel SnelStart refuses; the account's Gripp key refused; the subscription no
longer allowing integrations; the last automatic run failed, and apart from it `SYNC_NOTIFY_FAILURES_IN_ROW`
automatic runs in a row; a schedule overdue; invoices newly waiting for a person; Gripp's hourly quota spent twice in
one day. A failing run whose identity's link is refused is said by the link's problem alone (one thing to do).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sync.core.events import Outcome, Trigger
from sync.core.notices import NoticeKind
from sync.core.words import N_
from sync.jobs.services import Services
from sync.store import check_results, health, watching
from sync.store.notices import Problem
from sync.store.setup import LinkHealth, health_reason

log = logging.getLogger(__name__)

# Why a link is broken (the key of the stored reason) → which problem it is; any other reason: the koppelsleutel.
_GRIPP_KEY = {"error.link.gripp_key"}
_NO_INTEGRATIONS = {"error.link.missing_scope", "link.error.no_company_scope"}
UNKNOWN_REASON = {"msg": N_("notice.run_failed.unknown"), "values": {}}  # a run that left no reason (interrupted)
QUOTA_TIMES = 2  # Gripp's hourly quota spent this many times in one day is a problem


def problems(services: Services, account_name: str) -> tuple[list[Problem], dict[int | None, dict[str, Any]]]:
    """The account's problems now, and per identity the values every message about it carries (its names)."""
    store = services.store
    names = watching.names(store)
    base: dict[str, Any] = {"account": services.account, "account_name": account_name}
    about: dict[int | None, dict[str, Any]] = {None: base}
    found: list[Problem] = []
    gripp_refused: str | None = None  # since when
    broken: set[int] = set()
    links = watching.links(store)
    for link in links:
        identity_id = int(link["identity_id"])
        about[identity_id] = {**base, "identity_id": identity_id,
                              "identity_name": names.get(identity_id, f"#{identity_id}"),
                              "administration_name": link["administration_name"]}
        if link["health"] != LinkHealth.BROKEN:
            continue
        since = _iso(link["health_checked_at"])
        reason = health_reason(link["health_detail"])
        key = reason.get("msg") if isinstance(reason, dict) else None
        if key in _GRIPP_KEY:
            gripp_refused = gripp_refused or since
            continue
        broken.add(identity_id)
        kind = NoticeKind.NO_INTEGRATIONS if key in _NO_INTEGRATIONS else NoticeKind.LINK_REFUSED
        found.append(Problem(kind, identity_id, values={**about[identity_id], "since": since}))
    # What a check found and no good run has contradicted since.
    for outcome in check_results.latest(store):
        if outcome.status != "fail" or outcome.identity_id not in about:
            continue
        good = watching.last_good_run(store, outcome.identity_id)
        if good is not None and good >= outcome.checked_at:
            continue
        if outcome.check_key == "gripp" and outcome.said_key == "check.gripp.refused":
            gripp_refused = gripp_refused or _iso(outcome.checked_at)
        elif outcome.check_key == "integrations" and outcome.identity_id not in broken:
            broken.add(outcome.identity_id)
            found.append(Problem(NoticeKind.NO_INTEGRATIONS, outcome.identity_id,
                                 values={**about[outcome.identity_id], "since": _iso(outcome.checked_at)}))
    if gripp_refused is not None:
        found.append(Problem(NoticeKind.GRIPP_KEY_REFUSED, values={**base, "since": gripp_refused}))
    in_row = services.settings.notify_failures_in_row
    for link in links:
        identity_id = int(link["identity_id"])
        if identity_id in broken or gripp_refused is not None:
            continue  # the link's (or the key's) problem says it, with the one thing to do
        found.extend(_failing(watching.recent_runs(store, identity_id, in_row + 50), about[identity_id], in_row))
    now = store.now()
    for identity_id, last_at in health.overdue_since(links, health.last_runs(store), now).items():
        if identity_id in about:
            found.append(Problem(NoticeKind.SCHEDULE_OVERDUE, identity_id,
                                 values={**about[identity_id], "since": _iso(last_at),
                                         "interval_minutes": _interval(links, identity_id)}))
    for row in watching.waiting(store):
        identity_id = int(row["identity_id"])
        found.append(Problem(NoticeKind.WAITING_FOR_PERSON, identity_id, subject=f"invoice:{row['invoice_id']}",
                             values={**about.get(identity_id, base), "number": row["number"], "state": row["state"],
                                     "amount": row["amount"], "since": _iso(row["updated_at"])}))
    today = services.today()
    pauses = watching.quota_pauses(store, today)
    if len(pauses) >= QUOTA_TIMES:
        found.append(Problem(NoticeKind.GRIPP_QUOTA, subject=today.isoformat(),
                             values={**base, "day": today.isoformat(), "n": len(pauses),
                                     "since": _iso(pauses[0]), "resumes_at": _iso(pauses[-1])}))
    return found, about


def watch(services: Services) -> list[int]:
    """Work out the account's problems and reconcile them with the deployment's ledger; the messages it added.
    Without the deployment's catalog (one account alone, as in some tests) there is no ledger: nothing."""
    catalog = services.catalog
    if catalog is None:
        return []
    account = catalog.get(services.account)
    found, about = problems(services, account.name if account is not None else services.account)
    return catalog.notices().reconcile(services.account, found, group_values=about)


def _failing(runs: list[dict[str, Any]], about: dict[str, Any], in_row: int) -> list[Problem]:
    """The last automatic run failed (and how many in a row did), from the identity's last runs, newest first:
    a run that went well, whatever started it, ends the streak."""
    streak = []
    for run in runs:
        if run["outcome"] != Outcome.FAILED:
            break
        streak.append(run)
    automatic = [run for run in streak if run["trigger"] == Trigger.SCHEDULE]
    if not automatic:
        return []
    identity_id = about["identity_id"]
    last = automatic[0]
    reason = json.loads(last["message"]) if last["message"] else None
    values = {**about, "since": _iso(automatic[-1]["started_at"]), "run_at": _iso(last["started_at"]),
              "reason": reason if isinstance(reason, dict) and "msg" in reason else UNKNOWN_REASON}
    found = [Problem(NoticeKind.RUN_FAILED, identity_id, values=values)]
    if len(automatic) >= in_row:
        found.append(Problem(NoticeKind.FAILING_IN_ROW, identity_id, values={**values, "n": len(automatic)}))
    return found


def _interval(links: list[dict[str, Any]], identity_id: int) -> int:
    return next(int(row["interval_minutes"]) for row in links if int(row["identity_id"]) == identity_id)


def _iso(moment: Any) -> str:
    return moment.isoformat() if moment is not None else ""
