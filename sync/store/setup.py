"""Identities, links to SnelStart administrations, VAT, ledger and customer mappings, stored secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypedDict

from sync.core.words import Msg
from sync.store.catalog import KnownLink
from sync.store.db import Store


class LinkHealth(StrEnum):
    """Does SnelStart accept the link's koppelsleutel (`links.health`): it did when last asked, it refused it, or
    nobody asked yet (a seeded link, before its first run or check)."""

    OK = "ok"
    BROKEN = "broken"
    UNKNOWN = "unknown"


class IdentitySource(StrEnum):
    """How an identity became known (`identities.source`)."""

    DISCOVERED = "discovered"  # read off Gripp's invoices and companies
    MANUAL = "manual"  # added by its id


class IdentityRow(TypedDict):
    """An identity with its link, if any (`identities`): the link's columns are None when it is not linked."""

    identity_id: int
    name: str
    linked: bool
    administration_name: str | None
    start_date: date | None
    interval_minutes: int | None
    paused: bool | None
    health: LinkHealth | None
    health_detail: str | None
    key_hint: str | None


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
    health: LinkHealth
    health_detail: str | None
    max_invoice_total: Decimal | None = None  # the identity's own ceiling; None: the deployment's default
    # Where a booking line's kostenplaats comes from (`sync.mapping.types.KostenplaatsSource`); None: the default.
    kostenplaats_source: str | None = None


def upsert_identity(store: Store, identity_id: int, name: str,
                    source: IdentitySource = IdentitySource.DISCOVERED) -> None:
    store.execute(
        """INSERT INTO identities VALUES (?, ?, ?, ?)
           ON CONFLICT (identity_id) DO UPDATE SET name = CASE WHEN excluded.name <> '' THEN excluded.name
                                                                ELSE identities.name END""",
        [identity_id, name, str(source), store.now()],
    )


def identity_known(store: Store, identity_id: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM identities WHERE identity_id = ?", [identity_id]))


def delete_identity(store: Store, identity_id: int) -> bool:
    found = store.scalar("SELECT count(*) FROM identities WHERE identity_id = ?", [identity_id])
    store.execute("DELETE FROM identities WHERE identity_id = ?", [identity_id])
    return bool(found)


def set_start_date(store: Store, identity_id: int, start_date: date) -> None:
    store.execute("UPDATE links SET start_date = ? WHERE identity_id = ?", [start_date, identity_id])


def set_max_invoice_total(store: Store, identity_id: int, amount: Decimal | None) -> None:
    """The identity's own ceiling on an invoice's total; None: the deployment's default again."""
    store.execute("UPDATE links SET max_invoice_total = ? WHERE identity_id = ?", [amount, identity_id])


def set_kostenplaats_source(store: Store, identity_id: int, source: str | None) -> None:
    """Where the identity's booking lines take their kostenplaats from; None: the default again."""
    store.execute("UPDATE links SET kostenplaats_source = ? WHERE identity_id = ?", [source, identity_id])


def set_link_wanted(store: Store, identity_id: int, wanted: bool) -> None:
    from sync.store import cache

    cache.set_state(store, str(identity_id), "link_wanted", "1" if wanted else "")


def link_wanted(store: Store, identity_id: int) -> bool:
    from sync.store import cache

    return bool(cache.get_state(store, str(identity_id), "link_wanted"))


def identities(store: Store) -> list[IdentityRow]:
    return store.rows_of(
        IdentityRow,
        """SELECT i.identity_id, i.name, l.administration_id IS NOT NULL AS linked, l.administration_name,
                  l.start_date, l.interval_minutes, l.paused, l.health, l.health_detail, l.key_hint
           FROM identities i LEFT JOIN links l USING (identity_id) ORDER BY i.identity_id""",
        codes={"health": LinkHealth},
    )


def identity_name(store: Store, identity_id: int) -> str:
    return store.scalar("SELECT name FROM identities WHERE identity_id = ?", [identity_id]) or f"#{identity_id}"


def save_link(
    store: Store, *, identity_id: int, administration_id: str, administration_name: str, koppelsleutel_enc: str,
    key_hint: str, start_date: date | None, actor: str, interval_minutes: int = 20, verified: bool = True,
) -> None:
    """Keep a link. `verified`: SnelStart accepted its key just now (linking verifies it first), so its health is
    'ok'; otherwise (a seeded link) it is 'unknown' until a run or a check asks SnelStart."""
    health = LinkHealth.OK if verified else LinkHealth.UNKNOWN
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
         interval_minutes, store.now(), actor, str(health)],
    )


def delete_link(store: Store, identity_id: int) -> bool:
    found = store.scalar("SELECT count(*) FROM links WHERE identity_id = ?", [identity_id])
    store.execute("DELETE FROM links WHERE identity_id = ?", [identity_id])
    return bool(found)


_LINK_COLUMNS = """identity_id, administration_id, administration_name, koppelsleutel_enc, key_hint, start_date,
                   interval_minutes, paused, health, health_detail, max_invoice_total, kostenplaats_source"""


def get_link(store: Store, identity_id: int) -> Link | None:
    return store.one_of(Link, f"SELECT {_LINK_COLUMNS} FROM links WHERE identity_id = ?", [identity_id],
                        codes={"health": LinkHealth})


def links(store: Store) -> list[Link]:
    return store.rows_of(Link, f"SELECT {_LINK_COLUMNS} FROM links ORDER BY identity_id",
                         codes={"health": LinkHealth})


def known_links(store: Store) -> list[KnownLink]:
    """Every link with its identity's name, as the deployment's catalog keeps them (`Catalog.know_links`)."""
    return [KnownLink(r["identity_id"], r["name"] or f"#{r['identity_id']}", r["administration_id"],
                      r["administration_name"] or r["administration_id"]) for r in store.rows(
        """SELECT l.identity_id, i.name, l.administration_id, l.administration_name
           FROM links l LEFT JOIN identities i USING (identity_id) ORDER BY l.identity_id""")]


def set_link_health(store: Store, identity_id: int, health: LinkHealth, why: Msg | None = None) -> None:
    """The link's health and, when broken, why (a message, said in the reader's language when shown)."""
    detail = json.dumps(why.to_json()) if why is not None else None
    store.execute(
        "UPDATE links SET health = ?, health_detail = ?, health_checked_at = ? WHERE identity_id = ?",
        [str(health), detail, store.now(), identity_id],
    )


def replace_link_key(store: Store, identity_id: int, koppelsleutel_enc: str, key_hint: str) -> None:
    """SnelStart issued a new key for the same administration: the link keeps working on it."""
    store.execute(
        "UPDATE links SET koppelsleutel_enc = ?, key_hint = ?, health = ?, health_detail = NULL WHERE identity_id = ?",
        [koppelsleutel_enc, key_hint, str(LinkHealth.OK), identity_id],
    )


def health_reason(detail: str | None) -> Any:
    """Why a link is broken, as stored: a message's JSON form, or words kept before messages (`{"nl", "en"}`, or
    older still plain English); `words.said` shows any of them in the reader's language."""
    if not detail:
        return None
    try:
        return json.loads(detail)
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
                   "customer": ("customer_mappings", "company_id"),
                   "kostenplaats": ("kostenplaats_mappings", "gripp_costheading_id")}


def delete_mapping(store: Store, identity_id: int, kind: str, gripp_id: int) -> None:
    table, column = _MAPPING_TABLES[kind]
    store.execute(f"DELETE FROM {table} WHERE identity_id = ? AND {column} = ?", [identity_id, gripp_id])


# -- relaties the link created (the only customer matches remembered: every other is weighed afresh each run) -----
def created_relaties(store: Store, identity_id: int, matched_on: str) -> dict[int, str]:
    """Company id -> relatie id of the relaties this link created for the identity's customers."""
    return {r["company_id"]: r["relatie_id"] for r in store.rows(
        "SELECT company_id, relatie_id FROM relatie_matches WHERE identity_id = ? AND matched_on = ?",
        [identity_id, matched_on])}


def record_created_relatie(store: Store, identity_id: int, company_id: int, relatie_id: str, matched_on: str) -> None:
    store.execute("INSERT OR REPLACE INTO relatie_matches VALUES (?, ?, ?, ?, ?)",
                  [identity_id, company_id, relatie_id, matched_on, store.now()])
