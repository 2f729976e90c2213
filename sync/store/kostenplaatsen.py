"""Kostenplaatsen (cost centres): the mapping Gripp → SnelStart per identity, both sides' kostenplaatsen and Gripp's
projects as cached, and the kostenplaatsen the link creates for projects (the intent written before the POST)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sync.store import cache
from sync.store.db import Store

CREATING, CREATED = "creating", "created"  # project_kostenplaatsen.state


# -- the mapping ----------------------------------------------------------------------------------------------
def mappings(store: Store, identity_id: int | None = None) -> list[dict]:
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(
        f"""SELECT identity_id, gripp_costheading_id, gripp_label, snelstart_number FROM kostenplaats_mappings {where}
            ORDER BY identity_id, gripp_costheading_id""",
        params,
    )


def put_mapping(store: Store, identity_id: int, gripp_costheading_id: int, gripp_label: str, snelstart_number: str,
                actor: str) -> None:
    store.execute(
        """INSERT INTO kostenplaats_mappings VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, gripp_costheading_id) DO UPDATE SET gripp_label = excluded.gripp_label,
             snelstart_number = excluded.snelstart_number, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by""",
        [identity_id, gripp_costheading_id, gripp_label, snelstart_number, store.now(), actor],
    )


# -- Gripp's side -----------------------------------------------------------------------------------------------
def put_costheadings(store: Store, rows: Sequence[dict[str, Any]]) -> None:
    cache.upsert(store, "gripp_costheadings", rows, ["costheading_id"])


def costheadings(store: Store) -> dict[int, dict]:
    """Gripp's kostenplaatsen as cached: id → {name, number}."""
    return {r["costheading_id"]: r for r in store.rows("SELECT * FROM gripp_costheadings ORDER BY costheading_id")}


def put_projects(store: Store, rows: Sequence[dict[str, Any]]) -> None:
    cache.upsert(store, "gripp_projects", rows, ["project_id"])


def projects(store: Store) -> dict[int, dict]:
    """Gripp's projects the lines named, as cached: id → {name, number}."""
    return {r["project_id"]: r for r in store.rows("SELECT * FROM gripp_projects ORDER BY project_id")}


def unknown(store: Store, table: str, column: str, ids: Iterable[int]) -> list[int]:
    """Those of `ids` the cache table does not hold yet."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    known = {r[column] for r in store.rows(f"SELECT {column} FROM {table} WHERE {column} IN "
                                           f"({', '.join('?' for _ in wanted)})", wanted)}
    return [i for i in wanted if i not in known]


# -- SnelStart's side -----------------------------------------------------------------------------------------
def replace_snelstart(store: Store, administration_id: str, rows: Sequence[dict[str, Any]]) -> None:
    cache.replace_for_administration(store, "ss_kostenplaatsen", administration_id, rows)


def add_snelstart(store: Store, row: dict[str, Any]) -> None:
    cache.upsert(store, "ss_kostenplaatsen", [row], ["administration_id", "kostenplaats_id"])


def snelstart(store: Store, administration_id: str) -> list[dict]:
    return store.rows("SELECT * FROM ss_kostenplaatsen WHERE administration_id = ? ORDER BY number",
                      [administration_id])


# -- the kostenplaatsen the link creates for projects -------------------------------------------------------------
def project_rows(store: Store, administration_id: str) -> dict[int, dict]:
    return {r["project_id"]: r for r in store.rows(
        "SELECT * FROM project_kostenplaatsen WHERE administration_id = ?", [administration_id])}


def put_project(store: Store, administration_id: str, project_id: int, number: int, state: str,
                kostenplaats_id: str | None = None) -> None:
    store.execute("INSERT OR REPLACE INTO project_kostenplaatsen VALUES (?, ?, ?, ?, ?, ?)",
                  [administration_id, project_id, number, state, kostenplaats_id, store.now()])
