"""The cached Gripp and SnelStart data: bulk writes (whole pages at a time, never row by row) and the reads the use
cases make of it."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pandas as pd

from sync.store.db import Store

_frame_names = itertools.count()
# gripp_invoices.status of an invoice a complete read of Gripp no longer finds (deleted there). The link's own word:
# Gripp's invoice status has only CONCEPT and SENT (the API metadata's `values`), and a deleted record is simply
# absent from every read (`invoice.delete` is "true on success"). Never written after a partial read.
DELETED = "DELETED"


def upsert(store: Store, table: str, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> int:
    """Insert or replace `rows` by primary key; the batch is de-duplicated first (last one wins)."""
    if not rows:
        return 0
    unique = {tuple(row[k] for k in key): row for row in rows}
    with store.transaction() as cur:  # a write like any other (in the distributed mode: under the account's lease)
        _insert_frame(cur, table, frame_of(list(unique.values())), "INSERT OR REPLACE INTO")
    return len(unique)


def replace_for_administration(store: Store, table: str, administration_id: str, rows: Sequence[dict[str, Any]]) -> int:
    """A full refresh of one administration's rows: what is gone in SnelStart is gone here too."""
    with store.transaction() as cur:
        cur.execute(f"DELETE FROM {table} WHERE administration_id = ?", [administration_id])
        if not rows:
            return 0
        _insert_frame(cur, table, frame_of(rows), "INSERT INTO")
    return len(rows)


def replace_if_changed(store: Store, table: str, administration_id: str, rows: Sequence[dict[str, Any]],
                       key: str) -> int:
    """`replace_for_administration`, unless the cache holds exactly these rows already (`fetched_at` aside, which
    then stays when they were first read as they are): an unchanged refresh costs one read, not a rewrite and its
    commit. Any difference, or a value read back in another form, rewrites the lot."""
    def comparable(found: Sequence[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
        return {row[key]: {k: v for k, v in row.items() if k != "fetched_at"} for row in found}

    cached = store.rows(f"SELECT * EXCLUDE (fetched_at) FROM {table} WHERE administration_id = ?",
                        [administration_id])  # not compared, and zoned timestamps are dear to read
    if len(cached) == len(rows) and comparable(cached) == comparable(rows):
        return len(rows)
    return replace_for_administration(store, table, administration_id, rows)


def frame_of(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame DuckDB reads exactly. Money goes in as text: DuckDB guesses a Decimal column's type
    from a sample of its values, and a later value with more digits or decimals than the sample's would be
    rounded or refused; text is cast to the table's own DECIMAL type, exactly."""
    frame = pd.DataFrame(list(rows))
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object and any(isinstance(v, Decimal) for v in values):
            frame[column] = [format(v, "f") if isinstance(v, Decimal) else v for v in values]
    return frame


def _insert_frame(cur: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame, verb: str) -> None:
    name = f"_frame_{next(_frame_names)}"
    cur.register(name, frame)
    try:
        cur.execute(f"{verb} {table} BY NAME SELECT * FROM {name}")
    finally:
        try:
            cur.unregister(name)
        except Exception:  # an aborted transaction refuses even this; the original error matters more
            pass


OPEN_ITEMS_READ_AT = "open_items_read_at"  # sync_state key, per administration


def get_state(store: Store, scope: str, key: str) -> str | None:
    return store.scalar("SELECT value FROM sync_state WHERE scope = ? AND key = ?", [scope, key])


def set_state(store: Store, scope: str, key: str, value: str | None) -> None:
    store.execute(
        "INSERT OR REPLACE INTO sync_state VALUES (?, ?, ?)", [scope, key, value]
    )


def open_items_read_at(store: Store, administration_id: str) -> datetime | None:
    """When SnelStart's open items of the administration were last read (a read that changed nothing too), or None:
    never. A cache from before this was kept dates itself by its rows."""
    value = get_state(store, administration_id, OPEN_ITEMS_READ_AT)
    if value is not None:
        return datetime.fromisoformat(value)
    found = store.scalar("SELECT max(fetched_at) FROM ss_open_items WHERE administration_id = ?", [administration_id])
    return found if isinstance(found, datetime) else None


def last_invoice_in_snelstart(store: Store, administration_id: str, identity_id: int) -> dict | None:
    """The latest verkoopfactuur (`factuurnummer`, `factuur_datum`) SnelStart holds for the identity that the link
    did not book itself — what was booked there before the link: among its own invoices when the Gripp cache knows
    them (an administration can serve several identities), else among every verkoopfactuur of the administration.
    The link's own bookings never count: after a sync the latest of them would put every invoice still blocked
    before the suggested start date, and so out of the link for good."""
    return store.one(
        """SELECT s.factuurnummer, s.factuur_datum FROM ss_open_items s
           WHERE s.administration_id = ? AND s.factuur_datum IS NOT NULL
             AND (s.factuurnummer IN (SELECT number FROM gripp_invoices WHERE identity_id = ?)
                  OR NOT EXISTS (SELECT 1 FROM gripp_invoices WHERE identity_id = ?))
             AND s.factuurnummer NOT IN (SELECT number FROM bookings
                                         WHERE identity_id = ? AND NOT adopted AND booking_id IS NOT NULL)
           ORDER BY s.factuur_datum DESC, s.factuurnummer DESC LIMIT 1""",
        [administration_id, identity_id, identity_id, identity_id],
    )


# -- reads of the cache ------------------------------------------------------------------------------------
def sent_invoices(store: Store, identity_id: int, start_date: date | None) -> list[dict[str, Any]]:
    """Sent invoices of the identity, dated on or after `start_date`: what should reach SnelStart. Gripp's change
    stamps are left out and the cache's own read time comes as microseconds (`fetched_us`): turning three zoned
    timestamps a row into Python datetimes cost more than the rest of the read, every run."""
    return store.rows(
        """SELECT * EXCLUDE (createdon, updatedon, fetched_at), epoch_us(fetched_at) AS fetched_us
           FROM gripp_invoices
           WHERE identity_id = ? AND status = 'SENT' AND (? IS NULL OR invoice_date >= ?)
           ORDER BY invoice_date, invoice_id""",
        [identity_id, start_date, start_date],
    )


def sent_invoice_count(store: Store) -> int:
    return int(store.scalar("SELECT count(*) FROM gripp_invoices WHERE status = 'SENT'") or 0)


def sent_invoice_ids(store: Store) -> set[int]:
    """The ids of every invoice the cache holds as sent, of every identity."""
    return {int(r["invoice_id"]) for r in store.rows("SELECT invoice_id FROM gripp_invoices WHERE status = 'SENT'")}


def mark_deleted(store: Store, invoice_ids: Collection[int]) -> None:
    """A complete read of Gripp no longer finds these invoices: deleted there. The rows stay (what they were is the
    invoice's story), with status `DELETED`, so nothing reads them as sent any more."""
    if invoice_ids:
        store.execute(f"UPDATE gripp_invoices SET status = '{DELETED}' WHERE invoice_id IN "
                      f"({', '.join('?' for _ in invoice_ids)})", list(invoice_ids))


def gripp_companies(store: Store) -> dict[int, dict[str, Any]]:
    return {r["company_id"]: r for r in store.rows("SELECT * FROM gripp_companies")}


def set_gripp_payments(store: Store, payments_of: dict[int, tuple[Decimal, str]]) -> None:
    """Each invoice's payments as just read from Gripp (invoice id -> paid total, payments JSON), in one write."""
    if not payments_of:
        return
    params: list[Any] = []
    for invoice_id, (paid, payments_json) in payments_of.items():
        params += [invoice_id, paid, payments_json]
    store.execute(
        f"""UPDATE gripp_invoices
            SET total_paid = v.paid, total_open = total_incl_vat - v.paid, payments_json = v.payments
            FROM (VALUES {", ".join("(?, ?::DECIMAL(18, 2), ?)" for _ in payments_of)}) AS v(id, paid, payments)
            WHERE gripp_invoices.invoice_id = v.id""",
        params,
    )


def snelstart_ledgers(store: Store, administration_id: str) -> list[dict[str, Any]]:
    return store.rows("SELECT * FROM ss_ledgers WHERE administration_id = ?", [administration_id])


def snelstart_vat_rates(store: Store, administration_id: str) -> list[dict[str, Any]]:
    return store.rows("SELECT * FROM ss_vat_rates WHERE administration_id = ? ORDER BY kind, valid_from",
                      [administration_id])


def snelstart_relaties(store: Store, administration_id: str) -> list[dict[str, Any]]:
    return store.rows("SELECT * FROM ss_relaties WHERE administration_id = ?", [administration_id])


def open_items_of(store: Store, administration_id: str) -> list[dict[str, Any]]:
    """SnelStart's open items (verkoopfacturen) of the administration as last read."""
    return store.rows("SELECT * FROM ss_open_items WHERE administration_id = ?", [administration_id])


def bank_lines(store: Store, administration_id: str) -> list[dict[str, Any]]:
    return store.rows("SELECT booking_id, datum, amount FROM ss_bank_lines WHERE administration_id = ?",
                      [administration_id])


def all_sent_invoices(store: Store, identity_id: int) -> list[dict[str, Any]]:
    """Every sent invoice of the identity, whatever its date (the dry run lists those before the start date too)."""
    return store.rows("SELECT * FROM gripp_invoices WHERE identity_id = ? AND status = 'SENT' "
                      "ORDER BY invoice_date, invoice_id", [identity_id])


def gripp_invoice(store: Store, invoice_id: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM gripp_invoices WHERE invoice_id = ?", [invoice_id])


def has_gripp_invoices(store: Store, identity_id: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM gripp_invoices WHERE identity_id = ?", [identity_id]))


def gripp_company(store: Store, company_id: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM gripp_companies WHERE company_id = ?", [company_id])


def gripp_labels(store: Store) -> list[dict[str, Any]]:
    """Every Gripp VAT rate and ledger (id, label) the cached invoices' lines name."""
    return store.rows(
        """SELECT DISTINCT CAST(l.vat_id AS INTEGER) AS vat_id, l.vat_label, CAST(l.ledger_id AS INTEGER) AS ledger_id,
                  l.ledger_label
           FROM (SELECT unnest(from_json(lines_json, '[{"vat_id":"INTEGER","vat_label":"VARCHAR",
                                                       "ledger_id":"INTEGER","ledger_label":"VARCHAR"}]')) AS l
                 FROM gripp_invoices)"""
    )


def gripp_company_names(store: Store) -> dict[int, str]:
    return {r["company_id"]: r["name"] or "" for r in store.rows("SELECT company_id, name FROM gripp_companies")}


def snelstart_ledger_count(store: Store, administration_id: str) -> int:
    return int(store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ?", [administration_id]) or 0)


def snelstart_ledger_exists(store: Store, administration_id: str, number: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ? AND number = ?",
                             [administration_id, number]))


def snelstart_relatie(store: Store, administration_id: str, relatiecode: int) -> dict[str, Any] | None:
    return store.one("SELECT * FROM ss_relaties WHERE administration_id = ? AND relatiecode = ?",
                     [administration_id, relatiecode])


def snelstart_relaties_with_code(store: Store, administration_id: str) -> list[dict[str, Any]]:
    """The administration's relaties that have a relatiecode (relatiecode, name, kinds), by code."""
    return store.rows("SELECT relatiecode, name, kinds FROM ss_relaties WHERE administration_id = ? AND relatiecode "
                      "IS NOT NULL ORDER BY relatiecode", [administration_id])
