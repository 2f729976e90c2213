"""The kostenplaats the link makes in SnelStart for a Gripp project (an identity whose kostenplaats source is the
project) — exactly once.

It is numbered and named after the project: SnelStart's `nummer` is Gripp's project number (an int on both sides; the
project's id when Gripp sent none), `omschrijving` the project's name. The number is the key: before anything is
created the administration's kostenplaatsen are read, and one with that number is taken as the project's, whoever
made it (a person who prepared them, an earlier run whose answer was lost, another copy of the link). The intent is
written (`creating`) before the POST and the result (`created`, with SnelStart's id) after it, so a crash or a lost
answer is settled by that look-up, never by a second POST (README "Exactly once").
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sync.core.events import EventKind
from sync.jobs.refresh import kostenplaats_row
from sync.snelstart import errors as ss_errors
from sync.snelstart.client import SnelStartClient
from sync.store import history
from sync.store import kostenplaatsen as kp_repo
from sync.store.db import Store

# [GUESS] the spec gives no length for a kostenplaats's omschrijving; a grootboek's is 50 on create (BOE-0088), so a
# project's name is cut to that.
OMSCHRIJVING_MAX = 50


@dataclass(frozen=True)
class ProjectKostenplaats:
    project_id: int
    number: int
    name: str


def project_kostenplaats(store: Store, project_id: int, label: str = "") -> ProjectKostenplaats:
    """How the project's kostenplaats is numbered and named: Gripp's project number (the project's id when Gripp
    sent none) and the project's name, cut to what SnelStart is assumed to hold."""
    found = kp_repo.projects(store).get(project_id)
    number = found["number"] if found and found["number"] is not None else project_id
    name = ((found["name"] if found else "") or label or f"Project {number}").strip()
    return ProjectKostenplaats(project_id, int(number), name[:OMSCHRIJVING_MAX])


class ProjectKostenplaatsen:
    """Finds or makes the SnelStart kostenplaats of each project an invoice books on, once per project, however many
    invoices (and push workers) ask. `known` is shared with the mapping context, which reads it."""

    def __init__(self, store: Store, client: SnelStartClient, administration_id: str, known: dict[int, str], *,
                 identity_id: int, run_id: str | None = None) -> None:
        self.store, self.client, self.admin = store, client, administration_id
        self.known, self.identity_id, self.run_id = known, identity_id, run_id
        self._listed: dict[int, dict] | None = None  # SnelStart's kostenplaatsen by number, read once a run
        self._lock = threading.Lock()  # one project made once, however many push workers ask

    def ensure(self, projects: Iterable[tuple[int, str]]) -> None:
        """Each (project id, label) gets its kostenplaats id in `known`. Raises what SnelStart raised when one could
        not be made; its intent stays `creating`, settled by a look-up next time."""
        with self._lock:
            for project_id, label in projects:
                if project_id not in self.known:
                    self.known[project_id] = self._find_or_make(project_kostenplaats(self.store, project_id, label))

    def _by_number(self, number: int, *, again: bool = False) -> dict | None:
        if self._listed is None or again:
            rows = self.client.kostenplaatsen()
            with self.store.transaction():
                kp_repo.replace_snelstart(self.store, self.admin, [kostenplaats_row(self.admin, r) for r in rows])
            self._listed = {}
            for row in rows:  # the first of a number wins, as SnelStart lists them
                self._listed.setdefault(int(row.get("nummer") or 0), row)
        return self._listed.get(number)

    def _find_or_make(self, project: ProjectKostenplaats) -> str:
        # Look first: made by a run whose answer was lost (its row says `creating`), by a person, by another copy.
        found = self._by_number(project.number)
        if found is None:
            with self.store.transaction():
                kp_repo.put_project(self.store, self.admin, project.project_id, project.number, kp_repo.CREATING)
            body = {"omschrijving": project.name, "nummer": project.number, "nonactief": False}
            try:
                found = self.client.create_kostenplaats(body)
            except (ss_errors.OutcomeUnknownError, ss_errors.ResponseFormatError):
                found = self._by_number(project.number, again=True)  # it may have been made: never make it twice
                if found is None:
                    raise
            self._listed = {**(self._listed or {}), project.number: found}
            with self.store.transaction():
                kp_repo.add_snelstart(self.store, kostenplaats_row(self.admin, found))
                history.log_event(self.store, EventKind.KOSTENPLAATS, run_id=self.run_id,
                                  identity_id=self.identity_id,
                                  data={"number": project.number, "name": project.name,
                                        "project_id": project.project_id, "kostenplaats_id": found["id"]})
        with self.store.transaction():
            kp_repo.put_project(self.store, self.admin, project.project_id, project.number, kp_repo.CREATED,
                                str(found["id"]))
        return str(found["id"])
