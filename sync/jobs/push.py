"""Push: every sent Gripp invoice (on or after the start date) becomes exactly one SnelStart verkoopboeking, with
its PDF attached.

Per invoice: validate → blocked with reasons, or → ensure the relatie → find-before-create → POST → PDF.
The outbox row is written before and after each remote step, so a crash anywhere resumes correctly:
  - `posting` at the start of a run means "a POST may have happened": look the booking up before posting again;
  - BOE-0021 and an unknown outcome are settled by looking the booking up and adopting it;
  - a booked row found at the start of a run checks the booking's documents before uploading again (so the
    upload needs no write of its own before it).
SnelStart has no idempotency key; the local state plus find-before-create stand in for one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from sync.dates import now_amsterdam
from sync.gripp.client import GrippClient
from sync.gripp.errors import GrippPdfError
from sync.jobs import errors
from sync.jobs.inputs import invoice_input, invoices_in_scope, mapping_context
from sync.jobs.refresh import relatie_row
from sync.mapping import check_invoice, invoice_fingerprint, map_invoice
from sync.mapping.types import MappingContext, Problem
from sync.snelstart import errors as ss_errors
from sync.snelstart import odata
from sync.snelstart.client import SnelStartClient
from sync.store import cache, outbox
from sync.store import history as log
from sync.store.db import Store
from sync.store.setup import Link

MAX_PDF_BYTES = 10 * 1024 * 1024  # SnelStart refuses larger documents (BLG-0006)
NAME_MAX = 50  # a relatie's naam in SnelStart
DEFAULT_WORKERS = 4  # SnelStart allows 5 concurrent calls per administration on test keys
_NL_VAT = re.compile(r"^NL\d{9}B\d{2}$")


@dataclass
class PushReport:
    booked: int = 0
    adopted: int = 0
    blocked: int = 0
    failed: int = 0
    retry_later: int = 0
    pdf_attached: int = 0
    pdf_pending: int = 0
    relaties_created: int = 0
    changed_in_gripp: int = 0
    would_book: list[str] = field(default_factory=list)  # dry run
    would_adopt: list[str] = field(default_factory=list)  # dry run: already in SnelStart
    would_block: dict[str, list[Problem]] = field(default_factory=dict)  # dry run and real runs
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int) and not k.startswith("_")}


class Pusher:
    def __init__(self, store: Store, gripp: GrippClient, snelstart: SnelStartClient | None, link: Link, *,
                 run_id: str | None = None, dry_run: bool = False, workers: int = DEFAULT_WORKERS,
                 progress: Callable[[float], None] | None = None) -> None:
        self.store, self.gripp, self.snelstart, self.link = store, gripp, snelstart, link
        self.identity_id, self.admin = link.identity_id, link.administration_id
        self.run_id, self.dry_run, self.workers = run_id, dry_run, max(1, workers)
        self.progress = progress or (lambda fraction: None)
        self.report = PushReport()
        self._relatie_lock = threading.Lock()
        self._fatal: BaseException | None = None  # the link broke or the database refuses writes: stop, raise
        self._stopped: BaseException | None = None  # SnelStart is unavailable: stop, the rest waits a run

    # ------------------------------------------------------------------------------------------ the run
    def run(self) -> PushReport:
        rows = invoices_in_scope(self.store, self.identity_id, self.link.start_date)
        states = outbox.all_for(self.store, self.identity_id)
        self.ctx: MappingContext = mapping_context(self.store, self.identity_id, self.admin)
        self.open_items = {
            row["factuurnummer"]: row
            for row in self.store.rows("SELECT * FROM ss_open_items WHERE administration_id = ?", [self.admin])
        }
        self._load_relaties()
        work = [(row, states.get(row["invoice_id"])) for row in rows]
        work = [(row, state) for row, state in work if self._needs_work(row, state)]
        if not work:
            self.progress(1.0)
            return self.report
        done = 0
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="push") as pool:
            for _ in pool.map(lambda item: self._one(*item), work):
                done += 1
                self.progress(done / len(work))
        if self._fatal is not None:
            raise self._fatal
        if self._stopped is not None:
            self._log_stop(self._stopped)
        return self.report

    def _needs_work(self, row: dict, state: dict | None) -> bool:
        if state is not None and state["state"] == "failed":
            # SnelStart refused it: offered again only once the invoice changed or a person chose "retry failed"
            # (sync.jobs.requeue) — one unfixed refusal must not knock on SnelStart's door every run.
            return bool(state.get("fingerprint")) and invoice_fingerprint(invoice_input(row)) != state["fingerprint"]
        if state is None or state["state"] in outbox.OPEN_STATES:
            return True
        if state["state"] == "done":
            self._flag_if_changed(row, state)
            return False
        return True  # booked / pdf_uploading / pdf_pending: the PDF still has to go

    def _one(self, row: dict, state: dict | None) -> None:
        if self._fatal is not None:
            return  # the link broke or the database refuses writes: the next run carries on from here
        if self._stopped is not None:
            self.report.add("retry_later")  # SnelStart is unavailable: this invoice waits a run, untouched
            return
        try:
            if state is not None and state["state"] in outbox.BOOKED_STATES:
                self._flag_if_changed(row, state)
                # Any booked row found at the start of a run may already have its document (the run that booked
                # it stopped after uploading): look before uploading.
                self._attach_pdf(row, state["booking_id"], check_existing=True,
                                 previous_error=state.get("last_error"))
            else:
                self._book(row, state)
        except Exception as exc:  # one invoice's trouble must not stop the others — unless it stops them all
            kind = errors.kind_of(exc)
            if kind == errors.LINK:
                self._fatal = errors.link_broken(exc)
                return
            if kind == errors.STORE:
                self._fatal = exc
                return
            try:
                if errors.service_down(exc):
                    self._stop(row, exc)
                else:
                    self._record_error(row, exc)
            except Exception as inner:  # recording failed too (the database): stop the run with that reason
                self._fatal = inner

    # ------------------------------------------------------------------------------------------ booking
    def _book(self, row: dict, state: dict | None) -> None:
        number = row["number"]
        invoice = invoice_input(row)
        problems = check_invoice(invoice, self.ctx)
        if problems:
            self._block(row, state, problems)
            return
        existing = self.open_items.get(number)
        if self.dry_run:
            with self.report._lock:
                (self.report.would_adopt if existing is not None else self.report.would_book).append(number)
            return

        if existing is None and state is not None and state["state"] == "posting":
            existing = self._lookup(number)  # the last run may have posted it just before it stopped
        if existing is not None:
            self._adopt(row, existing, why="found")
            return

        relatie_id = self._ensure_relatie(row)
        result = map_invoice(invoice, self.ctx, relatie_id=relatie_id)
        if result.plan is None:
            self._block(row, state, result.problems)
            return
        plan = result.plan
        outbox.put(self.store, self.identity_id, row["invoice_id"], number, "posting", relatie_id=relatie_id,
                   fingerprint=plan.fingerprint, amount=plan.body["factuurbedrag"], reasons=None,
                   attempts=(state or {}).get("attempts", 0) + 1)
        try:
            created = self.snelstart.create_verkoopboeking(plan.body)
        except ss_errors.SnelStartBadRequest as exc:
            if ss_errors.is_duplicate_invoice(exc):
                self._settle_by_lookup(row, plan.body, why="duplicate")
                return
            self._fail(row, exc)
            return
        except (ss_errors.OutcomeUnknownError, ss_errors.ResponseFormatError):
            self._settle_by_lookup(row, plan.body, why="unknown")
            return
        self._booked(row, created["id"], plan.body["factuurbedrag"])

    def _settle_by_lookup(self, row: dict, body: dict, *, why: str) -> None:
        """After BOE-0021 or a lost answer: adopt the booking if SnelStart has it, else post once more."""
        found = self._lookup(row["number"])
        if found is not None:
            self._adopt(row, found, why=why)
            return
        if why == "duplicate":
            self._fail(row, RuntimeError("SnelStart meldt het factuurnummer als dubbel, maar toont de boeking niet"))
            return
        created = self.snelstart.create_verkoopboeking(body)  # looked up: not there, so one more POST is safe
        self._booked(row, created["id"], body["factuurbedrag"])

    def _lookup(self, number: str) -> dict | None:
        found = self.snelstart.find_verkoopfactuur(number)
        if found is None:
            return None
        return {"booking_id": (found.get("verkoopBoeking") or {}).get("id"),
                "factuur_bedrag": found.get("factuurBedrag")}

    def _booked(self, row: dict, booking_id: str, amount: Any) -> None:
        with self.store.transaction():  # the state and its event together: one commit, never one without the other
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "booked",
                       booking_id=booking_id, amount=amount, booked_at=now_amsterdam(), last_error=None,
                       error_kind=None)
            log.log_event(self.store, "booked", f"Factuur {row['number']} geboekt in SnelStart.",
                          f"Invoice {row['number']} booked in SnelStart.", run_id=self.run_id,
                          identity_id=self.identity_id, invoice_id=row["invoice_id"], invoice_number=row["number"])
        self.report.add("booked")
        self._attach_pdf(row, booking_id, check_existing=False)

    def _adopt(self, row: dict, found: dict, *, why: str) -> None:
        booking_id = found["booking_id"]
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "booked", booking_id=booking_id,
                   amount=found.get("factuur_bedrag"), adopted=why == "found", booked_at=now_amsterdam(),
                   fingerprint=invoice_fingerprint(invoice_input(row)), last_error=None, error_kind=None, reasons=None)
        self.report.add("adopted")
        log.log_event(self.store, "adopted",
                      f"Factuur {row['number']} stond al in SnelStart; die boeking is overgenomen (geen dubbele).",
                      f"Invoice {row['number']} was already in SnelStart; that booking was adopted (no duplicate).",
                      run_id=self.run_id, identity_id=self.identity_id, invoice_id=row["invoice_id"],
                      invoice_number=row["number"], detail={"why": why})
        self._attach_pdf(row, booking_id, check_existing=True)

    def _block(self, row: dict, state: dict | None, problems: tuple[Problem, ...]) -> None:
        with self.report._lock:
            self.report.would_block[row["number"]] = list(problems)
        self.report.add("blocked")
        if self.dry_run:
            return
        reasons = [asdict(p) for p in problems]
        unchanged = state is not None and state["state"] == "blocked" and outbox.reasons(state) == reasons
        if unchanged:
            return  # already told; no new event every run
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "blocked", reasons=reasons,
                   error_kind="config", last_error=None)
        first = problems[0]
        log.log_event(self.store, "blocked", f"Factuur {row['number']} geblokkeerd: {first.nl} {first.fix_nl}",
                      f"Invoice {row['number']} blocked: {first.en} {first.fix_en}", level="warning",
                      run_id=self.run_id, identity_id=self.identity_id, invoice_id=row["invoice_id"],
                      invoice_number=row["number"], detail={"codes": [p.code for p in problems]})

    def _fail(self, row: dict, exc: BaseException) -> None:
        nl, en = errors.describe(exc)
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "failed", last_error=en,
                   error_kind="config", reasons=[{"code": ",".join(getattr(exc, "codes", []) or ["SNELSTART"]),
                                                  "nl": nl, "en": en, "fix_nl": "", "fix_en": ""}])
        self.report.add("failed")
        log.log_event(self.store, "error", f"Factuur {row['number']}: {nl}", f"Invoice {row['number']}: {en}",
                      level="error", run_id=self.run_id, identity_id=self.identity_id, invoice_id=row["invoice_id"],
                      invoice_number=row["number"])

    def _stop(self, row: dict, exc: BaseException) -> None:
        """SnelStart kept throttling past the retries, or cannot be reached: this invoice and every one not yet
        started wait for the next run (one message for all of them, at the end)."""
        with self.report._lock:
            if self._stopped is None:
                self._stopped = exc
        en = errors.describe(exc)[1]
        current = outbox.get(self.store, self.identity_id, row["invoice_id"])
        if current is None:  # no row yet: nothing happened to this invoice, it simply waits
            self.report.add("retry_later")
        elif current["state"] not in outbox.BOOKED_STATES:  # booked ones are counted as pdf_pending already
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], current["state"],
                       last_error=en, error_kind="transient")
            self.report.add("retry_later")

    def _log_stop(self, exc: BaseException) -> None:
        nl, en = errors.describe(exc)
        waiting = self.report.retry_later
        log.log_event(self.store, "retry",
                      f"Boeken gestopt: {nl} {waiting} facturen wachten op de volgende run.",
                      f"Booking stopped: {en} {waiting} invoices wait for the next run.", level="warning",
                      run_id=self.run_id, identity_id=self.identity_id, detail={"waiting": waiting})

    def _record_error(self, row: dict, exc: BaseException) -> None:
        """A transient failure leaves the invoice where it was (the next run carries on); others fail it."""
        if errors.kind_of(exc) not in (errors.TRANSIENT, errors.UNKNOWN):
            self._fail(row, exc)
            return
        nl, en = errors.describe(exc)
        current = outbox.get(self.store, self.identity_id, row["invoice_id"])
        state = current["state"] if current else "pending"
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], state, last_error=en,
                   error_kind="transient")
        self.report.add("retry_later")
        log.log_event(self.store, "retry", f"Factuur {row['number']}: {nl}", f"Invoice {row['number']}: {en}",
                      level="warning", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"])

    def _flag_if_changed(self, row: dict, state: dict) -> None:
        """An invoice edited in Gripp after booking is flagged for a person, never silently re-booked."""
        if state.get("changed_in_gripp") or not state.get("fingerprint"):
            return
        if invoice_fingerprint(invoice_input(row)) == state["fingerprint"]:
            return
        self.report.add("changed_in_gripp")
        if self.dry_run:
            return
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], state["state"],
                   changed_in_gripp=True)
        log.log_event(self.store, "changed",
                      f"Factuur {row['number']} is in Gripp gewijzigd nadat hij geboekt is; pas de boeking in "
                      "SnelStart zelf aan of maak een creditnota.",
                      f"Invoice {row['number']} was changed in Gripp after it was booked; correct the booking in "
                      "SnelStart or issue a credit note.", level="warning", run_id=self.run_id,
                      identity_id=self.identity_id, invoice_id=row["invoice_id"], invoice_number=row["number"])

    # ------------------------------------------------------------------------------------------ the PDF
    def _attach_pdf(self, row: dict, booking_id: str, *, check_existing: bool,
                    previous_error: str | None = None) -> None:
        number = row["number"]
        try:
            if check_existing:
                documents = self.snelstart.documents_of("Verkoopboekingen", booking_id)
                if documents:
                    self._pdf_done(row, documents[0].get("id"))
                    return
            if not row.get("directpdfurl"):
                raise GrippPdfError("Gripp gaf geen PDF-adres (directpdfurl) voor deze factuur", http_status=404)
            content = self.gripp.download_pdf(row["directpdfurl"])
            if len(content) > MAX_PDF_BYTES:
                raise errors.PdfTooLarge(len(content))
            document = self.snelstart.upload_document("Verkoopboekingen", booking_id, pdf_file_name(number), content)
        except Exception as exc:
            kind = errors.kind_of(exc)
            if kind == errors.LINK:
                raise errors.link_broken(exc) from exc
            if kind == errors.STORE:
                raise
            nl, en = errors.describe(exc)
            outbox.put(self.store, self.identity_id, row["invoice_id"], number, "pdf_pending", last_error=en,
                       error_kind=kind)
            self.report.add("pdf_pending")
            if errors.service_down(exc):
                raise  # SnelStart itself is unavailable: the push stops (the booking is safe, the PDF waits)
            if en != previous_error:  # the same reason as last run is not news
                log.log_event(self.store, "pdf", f"PDF van factuur {number} nog niet bijgevoegd: {nl}",
                              f"PDF of invoice {number} not attached yet: {en}", level="warning", run_id=self.run_id,
                              identity_id=self.identity_id, invoice_id=row["invoice_id"], invoice_number=number)
            return
        self._pdf_done(row, document.get("id"))

    def _pdf_done(self, row: dict, document_id: str | None) -> None:
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "done", document_id=document_id,
                   last_error=None, error_kind=None)
        self.report.add("pdf_attached")

    # ------------------------------------------------------------------------------------------ relaties
    def _load_relaties(self) -> None:
        rows = self.store.rows("SELECT * FROM ss_relaties WHERE administration_id = ?", [self.admin])
        klanten = [r for r in rows if "Klant" in (r["kinds"] or "").split(",")]
        self.by_code = {r["relatiecode"]: r for r in klanten if r["relatiecode"] is not None}
        self.codes_taken = {r["relatiecode"] for r in rows if r["relatiecode"] is not None}
        self.by_vat = {_norm(r["vat_number"]): r for r in klanten if r["vat_number"]}
        self.by_kvk = {_norm(r["kvk_number"]): r for r in klanten if r["kvk_number"]}
        self.matches = {
            r["company_id"]: r["relatie_id"]
            for r in self.store.rows("SELECT * FROM relatie_matches WHERE identity_id = ?", [self.identity_id])
        }
        self.companies = {
            r["company_id"]: r for r in self.store.rows("SELECT * FROM gripp_companies")
        }

    def _find_created_relatie(self, body: dict[str, Any]) -> dict | None:
        for found in self.snelstart.relaties(_relatie_filter(body)):
            if found.get("naam") == body["naam"] and "Klant" in (found.get("relatiesoort") or []):
                return found
        return None

    def _ensure_relatie(self, row: dict) -> str:
        """Match on relatiecode = Gripp customer number, then VAT number, then KvK; else create a Klant."""
        with self._relatie_lock:
            company_id = row["company_id"]
            if company_id in self.matches:
                return self.matches[company_id]
            company = self.companies.get(company_id) or {"customernumber": None, "name": row["company_name"]}
            found, how = None, ""
            if company.get("customernumber") in self.by_code:
                found, how = self.by_code[company["customernumber"]], "relatiecode"
            elif company.get("vatnumber") and _norm(company["vatnumber"]) in self.by_vat:
                found, how = self.by_vat[_norm(company["vatnumber"])], "btwnummer"
            elif company.get("cocnumber") and _norm(company["cocnumber"]) in self.by_kvk:
                found, how = self.by_kvk[_norm(company["cocnumber"])], "kvknummer"
            relatie_id = found["relatie_id"] if found else self._create_relatie(company)
            self.store.execute(
                "INSERT OR REPLACE INTO relatie_matches VALUES (?, ?, ?, ?, ?)",
                [self.identity_id, company_id, relatie_id, how or "created", now_amsterdam()],
            )
            self.matches[company_id] = relatie_id
            return relatie_id

    def _create_relatie(self, company: dict) -> str:
        name = (company.get("name") or "Onbekende klant").strip()
        notes: list[tuple[str, str]] = []  # (nl, en): what the finance person should know about this relatie
        naam = name[:NAME_MAX].rstrip()
        if naam != name:  # SnelStart refuses longer names (KIOUI truncates too): shortened, and said so
            notes.append((f"naam ingekort tot {NAME_MAX} tekens (in Gripp: '{name}')",
                          f"name shortened to {NAME_MAX} characters (in Gripp: '{name}')"))
        body: dict[str, Any] = {"relatiesoort": ["Klant"], "naam": naam}
        code = company.get("customernumber")
        if code is not None and code not in self.codes_taken:
            body["relatiecode"] = code
        if company.get("email"):
            body["email"] = company["email"][:250]
        vat = _norm(company.get("vatnumber") or "")
        if vat and (not vat.startswith("NL") or _NL_VAT.match(vat)):
            body["btwNummer"] = vat
        elif vat:
            notes.append(_vat_note(company.get("vatnumber") or vat))
        if company.get("cocnumber"):
            body["kvkNummer"] = _norm(company["cocnumber"])[:12]
        try:
            created = self.snelstart.create_relatie(body)
        except ss_errors.SnelStartBadRequest as exc:
            if "REL-0088" in exc.codes and "btwNummer" in body:  # SnelStart rejects the VAT number: keep going
                notes.append(_vat_note(body.pop("btwNummer"), refused=True))
                created = self.snelstart.create_relatie(body)
            else:
                raise
        except (ss_errors.OutcomeUnknownError, ss_errors.ResponseFormatError):
            created = self._find_created_relatie(body)  # the answer was lost: it may exist; never create twice
            if created is None:
                created = self.snelstart.create_relatie(body)
        self.report.add("relaties_created")
        cache.upsert(self.store, "ss_relaties", [relatie_row(self.admin, created)], ["administration_id", "relatie_id"])
        self.codes_taken.add(created.get("relatiecode"))
        note_nl = "".join(f"; {nl}" for nl, _ in notes)
        note_en = "".join(f"; {en}" for _, en in notes)
        log.log_event(self.store, "relatie", f"Klant '{naam}' aangemaakt in SnelStart{note_nl}.",
                      f"Customer '{naam}' created in SnelStart{note_en}.", run_id=self.run_id,
                      identity_id=self.identity_id, level="warning" if notes else "info",
                      detail={"company_id": company.get("company_id"), "notes": [en for _, en in notes]} if notes
                      else None)
        return created["id"]


def _vat_note(vat: str, *, refused: bool = False) -> tuple[str, str]:
    why_nl = "SnelStart weigert het als ongeldig (REL-0088)" if refused else "het is geen geldig btw-nummer"
    why_en = "SnelStart refuses it as invalid (REL-0088)" if refused else "it is not a valid VAT number"
    return (f"zonder btw-nummer '{vat}': {why_nl}; corrigeer het in Gripp en vul het in SnelStart aan",
            f"without VAT number '{vat}': {why_en}; correct it in Gripp and add it in SnelStart")


def _relatie_filter(body: dict[str, Any]) -> str:
    if "relatiecode" in body:
        return odata.eq("Relatiecode", body["relatiecode"])
    return odata.eq("Naam", body["naam"])


def _norm(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def pdf_file_name(number: str) -> str:
    """SnelStart refuses some characters in file names (BLG-0016) and long names (BLG-0017)."""
    safe = re.sub(r"[^A-Za-z0-9_\-]", "_", number)[:80]
    return f"Factuur_{safe}.pdf"
