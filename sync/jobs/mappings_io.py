"""The mappings file: CSV with the header `identity,type,gripp_id,gripp_label,snelstart,percentage`.

A `vat` row maps a Gripp VAT id to a SnelStart kind (Hoog, Laag, Overig, Geen or Verlegd) with the Gripp rate's
percentage; a `ledger` row maps a Gripp ledger id to a SnelStart grootboek number (percentage empty); a `customer`
row pins a Gripp company id to a SnelStart relatie by its relatiecode (percentage empty).
Import validates every row and applies all rows or none.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sync.auth.access import Actor, authorize
from sync.core.csv_safe import restore_cell, write_rows
from sync.store import setup as setup_repo
from sync.store.db import Store

HEADER = ["identity", "type", "gripp_id", "gripp_label", "snelstart", "percentage"]
KINDS = ("Hoog", "Laag", "Overig", "Geen", "Verlegd")


class MappingImportError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def export_csv(store: Store, path: Path) -> int:
    rows = [[r["identity_id"], "vat", r["gripp_vat_id"], r["gripp_label"], r["kind"], f"{r['percentage']:f}"]
            for r in setup_repo.vat_mappings(store)]
    rows += [[r["identity_id"], "ledger", r["gripp_ledger_id"], r["gripp_label"], r["snelstart_number"], ""]
             for r in setup_repo.ledger_mappings(store)]
    rows += [[r["identity_id"], "customer", r["company_id"], r["gripp_label"], r["relatiecode"], ""]
             for r in setup_repo.customer_mappings(store)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_rows(handle, HEADER, rows)
    return len(rows)


def import_csv(store: Store, path: Path, *, actor: Actor | str) -> int:
    actor = authorize(actor, "mappings")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != HEADER:
            got = ",".join(reader.fieldnames or [])
            raise MappingImportError([f"the header must be {','.join(HEADER)}, got {got}"])
        rows = [{name: restore_cell(value) if isinstance(value, str) else value for name, value in row.items()}
                for row in reader]
    parsed, problems = validate_rows(store, rows)
    if problems:
        raise MappingImportError(problems)
    with store.transaction():
        for row in parsed:
            if row["type"] == "vat":
                setup_repo.put_vat_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                           row["snelstart"], row["percentage"], actor)
            elif row["type"] == "customer":
                relatie = row["relatie"]
                setup_repo.put_customer_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                                relatie["relatie_id"], relatie["relatiecode"], relatie["name"] or "",
                                                actor)
            else:
                setup_repo.put_ledger_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                              row["snelstart"], actor)
    return len(parsed)


def validate_rows(store: Store, rows: list[dict[str, str]]) -> tuple[list[dict], list[str]]:
    identities = {r["identity_id"] for r in setup_repo.identities(store)}
    known_vat, known_ledgers = _known_gripp_ids(store)
    problems: list[str] = []
    parsed: list[dict] = []
    for n, raw in enumerate(rows, start=2):  # line 1 is the header
        where = f"line {n}"
        try:
            identity = int(raw["identity"])
            gripp_id = int(raw["gripp_id"])
        except (TypeError, ValueError):
            problems.append(f"{where}: identity and gripp_id must be whole numbers")
            continue
        if identity not in identities:
            problems.append(f"{where}: unknown identity {identity}")
        kind, label, target = raw["type"].strip(), raw["gripp_label"].strip(), raw["snelstart"].strip()
        row = {"identity": identity, "type": kind, "gripp_id": gripp_id, "gripp_label": label, "snelstart": target,
               "percentage": None}
        if kind == "vat":
            if known_vat and gripp_id not in known_vat:
                problems.append(f"{where}: Gripp VAT id {gripp_id} is not used on any invoice")
            if target not in KINDS:
                problems.append(f"{where}: SnelStart VAT kind must be one of {', '.join(KINDS)}, got '{target}'")
            try:
                row["percentage"] = Decimal(raw["percentage"].strip())
            except (InvalidOperation, AttributeError):
                problems.append(f"{where}: percentage '{raw['percentage']}' is not a number")
        elif kind == "ledger":
            if known_ledgers and gripp_id not in known_ledgers:
                problems.append(f"{where}: Gripp ledger id {gripp_id} is not used on any invoice")
            if not target.isdigit():
                problems.append(f"{where}: SnelStart grootboek number must be a number, got '{target}'")
            elif not _ledger_exists(store, identity, int(target)):
                problems.append(f"{where}: grootboek {target} does not exist in the linked SnelStart administration")
        elif kind == "customer":
            if not target.isdigit():
                problems.append(f"{where}: SnelStart relatiecode must be a number, got '{target}'")
            else:
                relatie, why = _klant(store, identity, int(target))
                if why:
                    problems.append(f"{where}: {why}")
                row["relatie"] = relatie
        else:
            problems.append(f"{where}: type must be 'vat', 'ledger' or 'customer', got '{kind}'")
        parsed.append(row)
    return parsed, problems


def _known_gripp_ids(store: Store) -> tuple[set[int], set[int]]:
    rows = store.rows(
        """SELECT DISTINCT CAST(l.vat_id AS INTEGER) AS vat_id, CAST(l.ledger_id AS INTEGER) AS ledger_id
           FROM (SELECT unnest(from_json(lines_json, '[{"vat_id":"INTEGER","ledger_id":"INTEGER"}]')) AS l
                 FROM gripp_invoices)"""
    )
    return ({r["vat_id"] for r in rows if r["vat_id"] is not None},
            {r["ledger_id"] for r in rows if r["ledger_id"] is not None})


def _ledger_exists(store: Store, identity_id: int, number: int) -> bool:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return True  # nothing to check against yet; the checks run once it is linked
    cached = store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ?", [link.administration_id])
    if not cached:
        return True
    return bool(store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ? AND number = ?",
                             [link.administration_id, number]))


def _klant(store: Store, identity_id: int, relatiecode: int) -> tuple[dict | None, str]:
    """The linked administration's relatie with this code, or why it cannot be pinned to."""
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return None, f"identity {identity_id} is not linked to a SnelStart administration"
    relatie = store.one("SELECT * FROM ss_relaties WHERE administration_id = ? AND relatiecode = ?",
                        [link.administration_id, relatiecode])
    if relatie is None:
        return None, (f"relatie {relatiecode} is not known in the linked SnelStart administration (sync first if it "
                      "is new)")
    if "Klant" not in (relatie["kinds"] or "").split(","):
        return None, f"relatie {relatiecode} is not a Klant"
    return relatie, ""
