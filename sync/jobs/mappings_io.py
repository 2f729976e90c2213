"""The mappings file: CSV with the header `identity,type,gripp_id,gripp_label,snelstart,percentage`.

A `vat` row maps a Gripp VAT id to a SnelStart kind (Hoog, Laag, Overig, Geen or Verlegd) with the Gripp rate's
percentage; a `ledger` row maps a Gripp ledger id to a SnelStart grootboek number (percentage empty); a `customer`
row pins a Gripp company id to a SnelStart relatie by its relatiecode (percentage empty).

An export always imports back, so a backup can be restored. A file that cannot be read as mappings (header, a
number that is not one, an unknown type or VAT kind, an identity this database does not know) is refused whole:
nothing is applied. A row that is well formed but points at something that does not (yet) exist — a grootboek
SnelStart lacks, a relatie not fetched yet or not a Klant, a Gripp id no cached invoice uses — is applied and
reported as a warning: the checks show it as a problem until it is fixed, as they would for the same mapping made
in the console. `gripp_label` is informational: the label stored is Gripp's own (from the cache), never the file's.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sync.auth.access import Actor, authorize
from sync.core.csv_safe import restore_cell, write_rows
from sync.store import setup as setup_repo
from sync.store.db import Store

HEADER = ["identity", "type", "gripp_id", "gripp_label", "snelstart", "percentage"]
KINDS = ("Hoog", "Laag", "Overig", "Geen", "Verlegd")


@dataclass(frozen=True)
class Note:
    """One finding about the file, in both languages; `line` is the file's line number (1 is the header)."""

    line: int
    nl: str
    en: str

    def text(self, lang: str = "nl") -> str:
        return f"{'line' if lang == 'en' else 'regel'} {self.line}: {self.en if lang == 'en' else self.nl}"


@dataclass(frozen=True)
class ImportResult:
    count: int  # rows applied
    warnings: list[Note] = field(default_factory=list)  # applied, but the checks will show them as problems


class MappingImportError(ValueError):
    """The file was refused whole; nothing was applied."""

    def __init__(self, problems: list[Note]) -> None:
        super().__init__("; ".join(p.text("en") for p in problems))
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


def import_csv(store: Store, path: Path, *, actor: Actor | str) -> ImportResult:
    actor = authorize(actor, "mappings")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != HEADER:
                got = ",".join(reader.fieldnames or [])
                raise MappingImportError([Note(1, f"de kopregel moet {','.join(HEADER)} zijn, maar is ‘{got}’",
                                               f"the header must be {','.join(HEADER)}, got ‘{got}’")])
            rows = [{name: restore_cell(value) if isinstance(value, str) else value for name, value in row.items()}
                    for row in reader]
    except UnicodeDecodeError:
        raise MappingImportError([Note(1, "dit is geen CSV-bestand in UTF-8: bewaar het opnieuw als ‘CSV UTF-8’",
                                       "this is not a UTF-8 CSV file: save it again as ‘CSV UTF-8’")]) from None
    except csv.Error:
        raise MappingImportError([Note(1, "dit is geen CSV-bestand in UTF-8: de regels zijn niet te lezen",
                                       "this is not a UTF-8 CSV file: its lines cannot be read")]) from None
    parsed, problems, warnings = validate_rows(store, rows)
    if problems:
        raise MappingImportError(problems)
    with store.transaction():
        for row in parsed:
            if row["type"] == "vat":
                setup_repo.put_vat_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                           row["snelstart"], row["percentage"], actor)
            elif row["type"] == "customer":
                setup_repo.put_customer_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                                row["relatie_id"], int(row["snelstart"]), row["relatie_name"], actor)
            else:
                setup_repo.put_ledger_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                              row["snelstart"], actor)
    return ImportResult(len(parsed), warnings)


def validate_rows(store: Store, rows: list[dict[str, str]]) -> tuple[list[dict], list[Note], list[Note]]:
    """The rows to apply, the problems that refuse the file, and the warnings about rows that are applied."""
    identities = {r["identity_id"] for r in setup_repo.identities(store)}
    labels = _gripp_labels(store)
    existing = _existing_labels(store)
    problems: list[Note] = []
    warnings: list[Note] = []
    parsed: list[dict] = []
    for n, raw in enumerate(rows, start=2):  # line 1 is the header
        def problem(nl: str, en: str, n: int = n) -> None:
            problems.append(Note(n, nl, en))

        def warn(nl: str, en: str, n: int = n) -> None:
            warnings.append(Note(n, nl, en))

        try:
            identity = int(raw["identity"])
            gripp_id = int(raw["gripp_id"])
        except (TypeError, ValueError):
            problem("identity en gripp_id moeten hele getallen zijn", "identity and gripp_id must be whole numbers")
            continue
        if identity not in identities:
            problem(f"identiteit {identity} is onbekend in deze database (voeg hem eerst toe: `python -m sync "
                    f"identities add {identity}`)",
                    f"identity {identity} is unknown in this database (add it first: `python -m sync identities add "
                    f"{identity}`)")
        kind, target = (raw["type"] or "").strip(), (raw["snelstart"] or "").strip()
        # Gripp is the truth for its own names: the file's label is never stored over it.
        label = labels.get((kind, gripp_id)) or existing.get((identity, kind, gripp_id), "")
        row = {"identity": identity, "type": kind, "gripp_id": gripp_id, "gripp_label": label, "snelstart": target,
               "percentage": None}
        if kind in ("vat", "ledger") and labels.get(kind) and (kind, gripp_id) not in labels:
            what = ("BTW-tarief", "VAT rate") if kind == "vat" else ("grootboek", "ledger")
            warn(f"Gripp-{what[0]} {gripp_id} staat op geen enkele opgehaalde factuur; de koppeling is bewaard",
                 f"Gripp {what[1]} {gripp_id} is on no fetched invoice; the mapping is kept")
        if kind == "vat":
            if target not in KINDS:
                problem(f"de SnelStart-BTW-soort moet {', '.join(KINDS)} zijn, maar is ‘{target}’",
                        f"the SnelStart VAT kind must be one of {', '.join(KINDS)}, got ‘{target}’")
            try:
                row["percentage"] = Decimal((raw["percentage"] or "").strip().replace(",", "."))
                if not row["percentage"].is_finite():
                    raise InvalidOperation
            except (InvalidOperation, AttributeError):
                problem(f"percentage ‘{raw['percentage'] or ''}’ is geen getal",
                        f"percentage ‘{raw['percentage'] or ''}’ is not a number")
        elif kind == "ledger":
            if not target.isdigit():
                problem(f"het SnelStart-grootboeknummer moet een getal zijn, maar is ‘{target}’",
                        f"the SnelStart grootboek number must be a number, got ‘{target}’")
            elif not _ledger_exists(store, identity, int(target)):
                warn(f"grootboek {target} bestaat niet in de gekoppelde SnelStart-administratie; de koppeling is "
                     "bewaard en Controles meldt hem tot hij daar bestaat of je een ander kiest",
                     f"grootboek {target} does not exist in the linked SnelStart administration; the mapping is kept "
                     "and Controles reports it until it exists there or you choose another")
        elif kind == "customer":
            if not target.isdigit():
                problem(f"de SnelStart-relatiecode moet een getal zijn, maar is ‘{target}’",
                        f"the SnelStart relatiecode must be a number, got ‘{target}’")
            elif identity in identities:
                relatie, why = _klant(store, identity, int(target))
                row["relatie_id"] = relatie["relatie_id"] if relatie else ""  # "" is looked up by code each run
                row["relatie_name"] = (relatie["name"] if relatie else "") or ""
                if why:
                    warn(f"{why[0]}; de vastlegging is bewaard en de facturen van deze klant blijven geblokkeerd "
                         "tot dat klopt",
                         f"{why[1]}; the pin is kept and this customer's invoices stay blocked until that is right")
        else:
            problem(f"type moet ‘vat’, ‘ledger’ of ‘customer’ zijn, maar is ‘{kind}’",
                    f"type must be ‘vat’, ‘ledger’ or ‘customer’, got ‘{kind}’")
        parsed.append(row)
    return parsed, problems, warnings


def _gripp_labels(store: Store) -> dict:
    """Gripp's own names as cached: (type, id) -> label; `labels["vat"]`/`["ledger"]` say whether any is cached."""
    out: dict = {}
    for r in store.rows(
        """SELECT DISTINCT CAST(l.vat_id AS INTEGER) AS vat_id, l.vat_label, CAST(l.ledger_id AS INTEGER) AS ledger_id,
                  l.ledger_label
           FROM (SELECT unnest(from_json(lines_json, '[{"vat_id":"INTEGER","vat_label":"VARCHAR",
                                                       "ledger_id":"INTEGER","ledger_label":"VARCHAR"}]')) AS l
                 FROM gripp_invoices)"""
    ):
        for kind in ("vat", "ledger"):
            if r[f"{kind}_id"] is not None:
                out[kind] = True
                out[(kind, r[f"{kind}_id"])] = out.get((kind, r[f"{kind}_id"])) or (r[f"{kind}_label"] or "")
    for r in store.rows("SELECT company_id, name FROM gripp_companies"):
        out[("customer", r["company_id"])] = r["name"] or ""
    return out


def _existing_labels(store: Store) -> dict[tuple[int, str, int], str]:
    out = {(r["identity_id"], "vat", r["gripp_vat_id"]): r["gripp_label"] for r in setup_repo.vat_mappings(store)}
    out |= {(r["identity_id"], "ledger", r["gripp_ledger_id"]): r["gripp_label"]
            for r in setup_repo.ledger_mappings(store)}
    out |= {(r["identity_id"], "customer", r["company_id"]): r["gripp_label"]
            for r in setup_repo.customer_mappings(store)}
    return out


def _ledger_exists(store: Store, identity_id: int, number: int) -> bool:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return True  # nothing to check against yet; the checks run once it is linked
    cached = store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ?", [link.administration_id])
    if not cached:
        return True
    return bool(store.scalar("SELECT count(*) FROM ss_ledgers WHERE administration_id = ? AND number = ?",
                             [link.administration_id, number]))


def _klant(store: Store, identity_id: int, relatiecode: int) -> tuple[dict | None, tuple[str, str] | None]:
    """The linked administration's relatie with this code, and why it cannot be booked on (None when it can)."""
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return None, (f"identiteit {identity_id} is nog niet gekoppeld aan een SnelStart-administratie",
                      f"identity {identity_id} is not linked to a SnelStart administration yet")
    relatie = store.one("SELECT * FROM ss_relaties WHERE administration_id = ? AND relatiecode = ?",
                        [link.administration_id, relatiecode])
    if relatie is None:
        return None, (f"relatie {relatiecode} is (nog) niet bekend in de gekoppelde SnelStart-administratie",
                      f"relatie {relatiecode} is not known (yet) in the linked SnelStart administration")
    if "Klant" not in (relatie["kinds"] or "").split(","):
        return relatie, (f"relatie {relatiecode} is geen Klant", f"relatie {relatiecode} is not a Klant")
    return relatie, None
