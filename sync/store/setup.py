"""Identities, links to SnelStart administrations, VAT, ledger and customer mappings, link requests, stored secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sync.core.explained import RECORDED
from sync.core.words import Msg, jsonable, said
from sync.store.db import Store


@dataclass(frozen=True)
class Link:
    identity_id: int
    administration_id: str
    administration_name: str
    koppelsleutel_enc: str
    key_hint: str
    start_date: date | None
    interval_minutes: int
    paused: bool
    health: str
    health_detail: str | None


def upsert_identity(store: Store, identity_id: int, name: str, source: str = "discovered") -> None:
    store.execute(
        """INSERT INTO identities VALUES (?, ?, ?, ?)
           ON CONFLICT (identity_id) DO UPDATE SET name = CASE WHEN excluded.name <> '' THEN excluded.name
                                                                ELSE identities.name END""",
        [identity_id, name, source, store.now()],
    )


def delete_identity(store: Store, identity_id: int) -> bool:
    found = store.scalar("SELECT count(*) FROM identities WHERE identity_id = ?", [identity_id])
    store.execute("DELETE FROM identities WHERE identity_id = ?", [identity_id])
    return bool(found)


def set_start_date(store: Store, identity_id: int, start_date: date) -> None:
    store.execute("UPDATE links SET start_date = ? WHERE identity_id = ?", [start_date, identity_id])


def set_link_wanted(store: Store, identity_id: int, wanted: bool) -> None:
    from sync.store import cache

    cache.set_state(store, str(identity_id), "link_wanted", "1" if wanted else "")


def link_wanted(store: Store, identity_id: int) -> bool:
    from sync.store import cache

    return bool(cache.get_state(store, str(identity_id), "link_wanted"))


def identities(store: Store) -> list[dict]:
    return store.rows(
        """SELECT i.identity_id, i.name, l.administration_id IS NOT NULL AS linked, l.administration_name,
                  l.start_date, l.interval_minutes, l.paused, l.health, l.health_detail, l.key_hint
           FROM identities i LEFT JOIN links l USING (identity_id) ORDER BY i.identity_id"""
    )


def identity_name(store: Store, identity_id: int) -> str:
    return store.scalar("SELECT name FROM identities WHERE identity_id = ?", [identity_id]) or f"#{identity_id}"


def save_link(
    store: Store, *, identity_id: int, administration_id: str, administration_name: str, koppelsleutel_enc: str,
    key_hint: str, start_date: date | None, actor: str, interval_minutes: int = 20, verified: bool = True,
) -> None:
    """Keep a link. `verified`: SnelStart accepted its key just now (linking verifies it first), so its health is
    'ok'; otherwise (a seeded link) it is 'unknown' until a run or a check asks SnelStart."""
    health = "ok" if verified else "unknown"
    store.execute(
        """INSERT INTO links (identity_id, administration_id, administration_name, koppelsleutel_enc, key_hint,
                              start_date, interval_minutes, paused, linked_at, linked_by, health)
           VALUES (?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?)
           ON CONFLICT (identity_id) DO UPDATE SET administration_id = excluded.administration_id,
               administration_name = excluded.administration_name, koppelsleutel_enc = excluded.koppelsleutel_enc,
               key_hint = excluded.key_hint, start_date = coalesce(excluded.start_date, links.start_date),
               linked_at = excluded.linked_at, linked_by = excluded.linked_by, health = excluded.health,
               health_detail = NULL""",
        [identity_id, administration_id, administration_name, koppelsleutel_enc, key_hint, start_date,
         interval_minutes, store.now(), actor, health],
    )


def delete_link(store: Store, identity_id: int) -> bool:
    found = store.scalar("SELECT count(*) FROM links WHERE identity_id = ?", [identity_id])
    store.execute("DELETE FROM links WHERE identity_id = ?", [identity_id])
    return bool(found)


def get_link(store: Store, identity_id: int) -> Link | None:
    row = store.one(
        """SELECT identity_id, administration_id, administration_name, koppelsleutel_enc, key_hint, start_date,
                  interval_minutes, paused, health, health_detail FROM links WHERE identity_id = ?""",
        [identity_id],
    )
    return Link(**row) if row else None


def links(store: Store) -> list[Link]:
    rows = store.rows(
        """SELECT identity_id, administration_id, administration_name, koppelsleutel_enc, key_hint, start_date,
                  interval_minutes, paused, health, health_detail FROM links ORDER BY identity_id"""
    )
    return [Link(**row) for row in rows]


def links_to_administration(store: Store, administration_id: str) -> list[int]:
    rows = store.rows("SELECT identity_id FROM links WHERE administration_id = ?", [administration_id])
    return [r["identity_id"] for r in rows]


def set_link_health(store: Store, identity_id: int, health: str, why: Msg | str | None = None,
                    also: str | None = None) -> None:
    """The link's health and, when broken, why: a message, said in the reader's language when shown. (TRANSITIONAL:
    callers not yet on messages pass Dutch and English words, `why` and `also`, kept as recorded words.)"""
    if isinstance(why, str):
        why = Msg(RECORDED, text={"nl": why, "en": also or why})
    detail = json.dumps(jsonable(why)) if why is not None else None
    store.execute(
        "UPDATE links SET health = ?, health_detail = ?, health_checked_at = ? WHERE identity_id = ?",
        [health, detail, store.now(), identity_id],
    )


def health_words(detail: str | None, lang: str) -> str:
    """Why a link is broken, in the reader's language (rows written before messages hold both languages' words,
    or English)."""
    if not detail:
        return ""
    try:
        return said(json.loads(detail), lang)
    except ValueError:
        return detail


def set_link_schedule(store: Store, identity_id: int, *, interval_minutes: int | None = None,
                      paused: bool | None = None, start_date: date | None = None) -> None:
    if interval_minutes is not None:
        store.execute("UPDATE links SET interval_minutes = ? WHERE identity_id = ?", [interval_minutes, identity_id])
    if paused is not None:
        store.execute("UPDATE links SET paused = ? WHERE identity_id = ?", [paused, identity_id])
    if start_date is not None:
        store.execute("UPDATE links SET start_date = ? WHERE identity_id = ?", [start_date, identity_id])


# -- mappings --------------------------------------------------------------------------------------------
def vat_mappings(store: Store, identity_id: int | None = None) -> list[dict]:
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(
        f"""SELECT identity_id, gripp_vat_id, gripp_label, kind, percentage FROM vat_mappings {where}
            ORDER BY identity_id, gripp_vat_id""",
        params,
    )


def ledger_mappings(store: Store, identity_id: int | None = None) -> list[dict]:
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(
        f"""SELECT identity_id, gripp_ledger_id, gripp_label, snelstart_number FROM ledger_mappings {where}
            ORDER BY identity_id, gripp_ledger_id""",
        params,
    )


def put_vat_mapping(store: Store, identity_id: int, gripp_vat_id: int, gripp_label: str, kind: str,
                    percentage: Decimal, actor: str) -> None:
    store.execute(
        """INSERT INTO vat_mappings VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, gripp_vat_id) DO UPDATE SET gripp_label = excluded.gripp_label,
             kind = excluded.kind, percentage = excluded.percentage, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by""",
        [identity_id, gripp_vat_id, gripp_label, kind, percentage, store.now(), actor],
    )


def put_ledger_mapping(store: Store, identity_id: int, gripp_ledger_id: int, gripp_label: str,
                       snelstart_number: str, actor: str) -> None:
    store.execute(
        """INSERT INTO ledger_mappings VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, gripp_ledger_id) DO UPDATE SET gripp_label = excluded.gripp_label,
             snelstart_number = excluded.snelstart_number, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by""",
        [identity_id, gripp_ledger_id, gripp_label, snelstart_number, store.now(), actor],
    )


def customer_mappings(store: Store, identity_id: int | None = None) -> list[dict]:
    """Gripp companies a person pinned to a SnelStart relatie."""
    where, params = ("WHERE identity_id = ?", [identity_id]) if identity_id is not None else ("", [])
    return store.rows(
        f"""SELECT identity_id, company_id, gripp_label, relatie_id, relatiecode, relatie_name, updated_by
            FROM customer_mappings {where} ORDER BY identity_id, company_id""",
        params,
    )


def put_customer_mapping(store: Store, identity_id: int, company_id: int, gripp_label: str, relatie_id: str,
                         relatiecode: int | None, relatie_name: str, actor: str) -> None:
    store.execute(
        """INSERT INTO customer_mappings VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (identity_id, company_id) DO UPDATE SET gripp_label = excluded.gripp_label,
             relatie_id = excluded.relatie_id, relatiecode = excluded.relatiecode,
             relatie_name = excluded.relatie_name, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by""",
        [identity_id, company_id, gripp_label, relatie_id, relatiecode, relatie_name, store.now(), actor],
    )


_MAPPING_TABLES = {"vat": ("vat_mappings", "gripp_vat_id"), "ledger": ("ledger_mappings", "gripp_ledger_id"),
                   "customer": ("customer_mappings", "company_id")}


def delete_mapping(store: Store, identity_id: int, kind: str, gripp_id: int) -> None:
    table, column = _MAPPING_TABLES[kind]
    store.execute(f"DELETE FROM {table} WHERE identity_id = ? AND {column} = ?", [identity_id, gripp_id])


# -- link requests (the activation flow's single-use referenceKey) ----------------------------------------
def create_link_request(store: Store, reference_key: str, identity_id: int, expires_at: datetime, actor: str) -> None:
    store.execute(
        """INSERT INTO link_requests (reference_key, identity_id, created_at, expires_at, created_by)
           VALUES (?, ?, ?, ?, ?)""",
        [reference_key, identity_id, store.now(), expires_at, actor],
    )


def get_link_request(store: Store, reference_key: str) -> dict | None:
    return store.one("SELECT * FROM link_requests WHERE reference_key = ?", [reference_key])


def use_link_request(store: Store, reference_key: str, outcome: str) -> None:
    store.execute(
        "UPDATE link_requests SET used_at = ?, outcome = ? WHERE reference_key = ?",
        [store.now(), outcome, reference_key],
    )


def latest_link_request(store: Store, identity_id: int) -> dict | None:
    return store.one(
        "SELECT * FROM link_requests WHERE identity_id = ? ORDER BY created_at DESC LIMIT 1", [identity_id]
    )


# -- stored secrets (encrypted by the caller) ---------------------------------------------------------------
def put_secret(store: Store, name: str, value_enc: str, hint: str) -> None:
    store.execute(
        """INSERT INTO secrets VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET value_enc = excluded.value_enc,
           hint = excluded.hint, updated_at = excluded.updated_at""",
        [name, value_enc, hint, store.now()],
    )


def get_secret(store: Store, name: str) -> dict | None:
    return store.one("SELECT name, value_enc, hint FROM secrets WHERE name = ?", [name])
