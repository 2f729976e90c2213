"""The mappings file: CSV with the header `identity,type,gripp_id,gripp_label,snelstart,percentage`.

Written as every other export is (`sync.core.csv_safe`), for the reader's spreadsheet: UTF-8 with a BOM, in Dutch
`;` between the cells and a decimal comma in the percentage (`21,00`), in English `,` and a decimal point. Read in
either, told apart by the header, and so is a file from before exports had a dialect (`,`, a decimal point, no BOM).

A `vat` row maps a Gripp VAT id to a SnelStart kind (Hoog, Laag, Overig, Geen or Verlegd) with the Gripp rate's
percentage; a `ledger` row maps a Gripp ledger id to a SnelStart grootboek number (percentage empty); a `customer`
row pins a Gripp company id to a SnelStart relatie by its relatiecode (percentage empty); a `kostenplaats` row maps a
Gripp kostenplaats (costheading) id to a SnelStart kostenplaats number (percentage empty).

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
from sync.core import fmt
from sync.core.csv_safe import BOM, SEPARATORS, restore_cell, write_rows
from sync.core.words import N_, Msg, say
from sync.store import cache
from sync.store import kostenplaatsen as kp_repo
from sync.store import setup as setup_repo
from sync.store.db import Store

HEADER = ["identity", "type", "gripp_id", "gripp_label", "snelstart", "percentage"]
KINDS = ("Hoog", "Laag", "Overig", "Geen", "Verlegd")
# A well-formed row for a Gripp id no fetched invoice uses (kept, and reported).
UNUSED = {"vat": N_("mappings.vat_unused"), "ledger": N_("mappings.ledger_unused")}


@dataclass(frozen=True)
class Note:
    """One finding about the file; `line` is the file's line number (1 is the header)."""

    line: int
    message: Msg

    @property
    def on_line(self) -> Msg:
        """The finding with its line number, as a person reads it."""
        return Msg("mappings.note", line=str(self.line), message=self.message)


@dataclass(frozen=True)
class ImportResult:
    count: int  # rows applied
    warnings: list[Note] = field(default_factory=list)  # applied, but the checks will show them as problems


class MappingImportError(ValueError):
    """The file was refused whole; nothing was applied."""

    def __init__(self, problems: list[Note]) -> None:
        super().__init__("; ".join(say(p.on_line, "en") for p in problems))
        self.problems = problems


def export_csv(store: Store, path: Path, lang: str = fmt.DEFAULT_LANG) -> int:
    """Every mapping to `path` in `lang`'s dialect; how many rows."""
    rows = [[r["identity_id"], "vat", r["gripp_vat_id"], r["gripp_label"], r["kind"],
             fmt.plain_amount(r["percentage"], lang)] for r in setup_repo.vat_mappings(store)]
    rows += [[r["identity_id"], "ledger", r["gripp_ledger_id"], r["gripp_label"], r["snelstart_number"], ""]
             for r in setup_repo.ledger_mappings(store)]
    rows += [[r["identity_id"], "customer", r["company_id"], r["gripp_label"], r["relatiecode"], ""]
             for r in setup_repo.customer_mappings(store)]
    rows += [[r["identity_id"], "kostenplaats", r["gripp_costheading_id"], r["gripp_label"], r["snelstart_number"], ""]
             for r in kp_repo.mappings(store)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        handle.write(BOM)
        write_rows(handle, HEADER, rows, sep=SEPARATORS[lang])
    return len(rows)


def import_csv(store: Store, path: Path, *, actor: Actor | str) -> ImportResult:
    actor = authorize(actor, "mappings")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:  # a BOM or none
            sep = ";" if ";" in handle.readline() else ","  # the header says which dialect: it holds no other
            handle.seek(0)
            reader = csv.DictReader(handle, delimiter=sep)
            if reader.fieldnames != HEADER:
                got = sep.join(reader.fieldnames or [])
                raise MappingImportError([Note(1, Msg("mappings.header", wanted=sep.join(HEADER), got=got))])
            rows = [{name: restore_cell(value) if isinstance(value, str) else value for name, value in row.items()}
                    for row in reader]
    except UnicodeDecodeError:
        raise MappingImportError([Note(1, Msg("mappings.not_utf8"))]) from None
    except csv.Error:
        raise MappingImportError([Note(1, Msg("mappings.unreadable"))]) from None
    parsed, problems, warnings = validate_rows(store, rows)
    if problems:
        raise MappingImportError(problems)
    with store.transaction():
        for row in parsed:
            if row["type"] == "vat":
                setup_repo.put_vat_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"],
                                           row["snelstart"], row["percentage"], actor)
            elif row["type"] == "kostenplaats":
                kp_repo.put_mapping(store, row["identity"], row["gripp_id"], row["gripp_label"], row["snelstart"],
                                    actor)
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
        def problem(message: Msg, n: int = n) -> None:
            problems.append(Note(n, message))

        def warn(message: Msg, n: int = n) -> None:
            warnings.append(Note(n, message))

        try:
            identity = int(raw["identity"])
            gripp_id = int(raw["gripp_id"])
        except (TypeError, ValueError):
            problem(Msg("mappings.ids_not_numbers"))
            continue
        if identity not in identities:
            problem(Msg("mappings.unknown_identity", identity=str(identity)))
        kind, target = (raw["type"] or "").strip(), (raw["snelstart"] or "").strip()
        # Gripp is the truth for its own names: the file's label is never stored over it.
        label = labels.get((kind, gripp_id)) or existing.get((identity, kind, gripp_id), "")
        row = {"identity": identity, "type": kind, "gripp_id": gripp_id, "gripp_label": label, "snelstart": target,
               "percentage": None}
        if kind in ("vat", "ledger") and labels.get(kind) and (kind, gripp_id) not in labels:
            warn(Msg(UNUSED[kind], gripp_id=str(gripp_id)))
        if kind == "vat":
            if target not in KINDS:
                problem(Msg("mappings.vat_kind", kinds=", ".join(KINDS), got=target))
            try:
                percentage = Decimal((raw["percentage"] or "").strip().replace(",", "."))  # 21,00 or 21.00
                if not percentage.is_finite():
                    raise InvalidOperation
                row["percentage"] = percentage
            except (InvalidOperation, AttributeError):
                problem(Msg("mappings.percentage", got=raw["percentage"] or ""))
        elif kind == "ledger":
            if not target.isdigit():
                problem(Msg("mappings.ledger_number", got=target))
            elif not _ledger_exists(store, identity, int(target)):
                warn(Msg("mappings.ledger_missing", number=target))
        elif kind == "kostenplaats":
            if not target.isdigit():
                problem(Msg("mappings.kostenplaats_number", got=target))
            else:
                row["snelstart"] = str(int(target))
                if not _kostenplaats_exists(store, identity, int(target)):
                    warn(Msg("mappings.kostenplaats_missing", number=row["snelstart"]))
        elif kind == "customer":
            if not target.isdigit():
                problem(Msg("mappings.relatiecode", got=target))
            elif identity in identities:
                relatie, why = _klant(store, identity, int(target))
                row["relatie_id"] = relatie["relatie_id"] if relatie else ""  # "" is looked up by code each run
                row["relatie_name"] = (relatie["name"] if relatie else "") or ""
                if why:
                    warn(Msg("mappings.pin_kept", why=why))
        else:
            problem(Msg("mappings.type", got=kind))
        parsed.append(row)
    return parsed, problems, warnings


def _gripp_labels(store: Store) -> dict:
    """Gripp's own names as cached: (type, id) -> label; `labels["vat"]`/`["ledger"]` say whether any is cached."""
    out: dict = {}
    for r in cache.gripp_labels(store):
        for kind in ("vat", "ledger"):
            if r[f"{kind}_id"] is not None:
                out[kind] = True
                out[(kind, r[f"{kind}_id"])] = out.get((kind, r[f"{kind}_id"])) or (r[f"{kind}_label"] or "")
    for company_id, name in cache.gripp_company_names(store).items():
        out[("customer", company_id)] = name
    for costheading_id, found in kp_repo.costheadings(store).items():
        out[("kostenplaats", costheading_id)] = found["name"]
    return out


def _existing_labels(store: Store) -> dict[tuple[int, str, int], str]:
    out = {(r["identity_id"], "vat", r["gripp_vat_id"]): r["gripp_label"] for r in setup_repo.vat_mappings(store)}
    out |= {(r["identity_id"], "ledger", r["gripp_ledger_id"]): r["gripp_label"]
            for r in setup_repo.ledger_mappings(store)}
    out |= {(r["identity_id"], "customer", r["company_id"]): r["gripp_label"]
            for r in setup_repo.customer_mappings(store)}
    out |= {(r["identity_id"], "kostenplaats", r["gripp_costheading_id"]): r["gripp_label"]
            for r in kp_repo.mappings(store)}
    return out


def _ledger_exists(store: Store, identity_id: int, number: int) -> bool:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return True  # nothing to check against yet; the checks run once it is linked
    if not cache.snelstart_ledger_count(store, link.administration_id):
        return True
    return cache.snelstart_ledger_exists(store, link.administration_id, number)


def _kostenplaats_exists(store: Store, identity_id: int, number: int) -> bool:
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return True  # nothing to check against yet; the checks run once it is linked
    known = kp_repo.snelstart(store, link.administration_id)
    return not known or any(r["number"] == number for r in known)


def _klant(store: Store, identity_id: int, relatiecode: int) -> tuple[dict | None, Msg | None]:
    """The linked administration's relatie with this code, and why it cannot be booked on (None when it can)."""
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return None, Msg("mappings.klant.not_linked", identity=str(identity_id))
    relatie = cache.snelstart_relatie(store, link.administration_id, relatiecode)
    if relatie is None:
        return None, Msg("mappings.klant.unknown", relatiecode=str(relatiecode))
    if "Klant" not in (relatie["kinds"] or "").split(","):
        return relatie, Msg("mappings.klant.not_klant", relatiecode=str(relatiecode))
    return relatie, None
