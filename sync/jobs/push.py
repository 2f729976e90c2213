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

from sync.gripp.client import GrippClient
from sync.gripp.errors import GrippPdfError
from sync.jobs import errors, plan
from sync.jobs.inputs import invoice_input, invoices_in_scope, mapping_context
from sync.jobs.refresh import relatie_row
from sync.mapping import invoice_fingerprint, map_invoice
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
    nothing_to_book: int = 0
    would_block: dict[str, list[Problem]] = field(default_factory=dict)  # the blocked ones and why
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int) and not k.startswith("_")}


class Pusher:
    def __init__(self, store: Store, gripp: GrippClient, snelstart: SnelStartClient | None, link: Link, *,
                 run_id: str | None = None, workers: int = DEFAULT_WORKERS,
                 progress: Callable[[float], None] | None = None) -> None:
        self.store, self.gripp, self.snelstart, self.link = store, gripp, snelstart, link
        self.identity_id, self.admin = link.identity_id, link.administration_id
        self.run_id, self.workers = run_id, max(1, workers)
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
        self.open_items = plan.snelstart_by_number(self.store, self.admin)
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
        outside = plan.outside_push(row, state, self.link.start_date)  # the same answer the dry run gives
        if outside is None:
            return True
        if outside != plan.ALREADY_BOOKED:
            return False
        if state is not None and state["state"] == "done":
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
        decision = plan.decide(invoice, self.ctx, self.open_items)  # the same decision the dry run reports
        if decision.kind == plan.NOTHING:
            self.report.add("nothing_to_book")
            return
        if decision.kind == plan.BLOCKED:
            self._block(row, state, decision.problems)
            return
        existing = self.open_items.get(number)

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
        booking = result.plan
        outbox.put(self.store, self.identity_id, row["invoice_id"], number, "posting", relatie_id=relatie_id,
                   fingerprint=booking.fingerprint, amount=booking.body["factuurbedrag"], reasons=None,
                   attempts=(state or {}).get("attempts", 0) + 1)
        try:
            created = self.snelstart.create_verkoopboeking(booking.body)
        except ss_errors.SnelStartBadRequest as exc:
            if ss_errors.is_duplicate_invoice(exc):
                self._settle_by_lookup(row, booking.body, why="duplicate")
                return
            self._fail(row, exc)
            return
        except (ss_errors.OutcomeUnknownError, ss_errors.ResponseFormatError):
            self._settle_by_lookup(row, booking.body, why="unknown")
            return
        self._booked(row, created["id"], booking.body["factuurbedrag"])

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
                       booking_id=booking_id, amount=amount, booked_at=self.store.now(), last_error=None,
                       error_kind=None)
            log.log_event(self.store, "booked", run_id=self.run_id, identity_id=self.identity_id,
                          invoice_id=row["invoice_id"], invoice_number=row["number"],
                          data={"amount": amount, "customer": row.get("company_name")})
        self.report.add("booked")
        self._attach_pdf(row, booking_id, check_existing=False)

    def _adopt(self, row: dict, found: dict, *, why: str) -> None:
        booking_id = found["booking_id"]
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "booked", booking_id=booking_id,
                   amount=found.get("factuur_bedrag"), adopted=why == "found", booked_at=self.store.now(),
                   fingerprint=invoice_fingerprint(invoice_input(row)), last_error=None, error_kind=None, reasons=None)
        self.report.add("adopted")
        log.log_event(self.store, "adopted", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"], data={"why": why})
        self._attach_pdf(row, booking_id, check_existing=True)

    def _block(self, row: dict, state: dict | None, problems: tuple[Problem, ...]) -> None:
        with self.report._lock:
            self.report.would_block[row["number"]] = list(problems)
        self.report.add("blocked")
        reasons = [asdict(p) for p in problems]
        unchanged = state is not None and state["state"] == "blocked" and outbox.reasons(state) == reasons
        if unchanged:
            return  # already told; no new event every run
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "blocked", reasons=reasons,
                   error_kind="config", last_error=None)
        log.log_event(self.store, "blocked", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"],
                      data={"codes": [p.code for p in problems], "reason": reasons_text(problems)})

    def _fail(self, row: dict, exc: BaseException) -> None:
        nl, en = errors.describe(exc)
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], "failed", last_error=en,
                   error_kind="config", reasons=[{"code": ",".join(getattr(exc, "codes", []) or ["SNELSTART"]),
                                                  "nl": nl, "en": en, "fix_nl": "", "fix_en": ""}])
        self.report.add("failed")
        log.log_event(self.store, "refused", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"], data={"reason": {"nl": nl, "en": en}})

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
        log.log_event(self.store, "push_stopped", run_id=self.run_id, identity_id=self.identity_id,
                      data={"waiting": waiting, "reason": {"nl": nl, "en": en}})

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
        log.log_event(self.store, "retry", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"], data={"reason": {"nl": nl, "en": en}})

    def _flag_if_changed(self, row: dict, state: dict) -> None:
        """An invoice edited in Gripp after booking is flagged for a person, never silently re-booked."""
        if state.get("changed_in_gripp") or not state.get("fingerprint"):
            return
        if invoice_fingerprint(invoice_input(row)) == state["fingerprint"]:
            return
        self.report.add("changed_in_gripp")
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], state["state"],
                   changed_in_gripp=True)
        log.log_event(self.store, "changed", run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"])

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
                log.log_event(self.store, "pdf", run_id=self.run_id, identity_id=self.identity_id,
                              invoice_id=row["invoice_id"], invoice_number=number,
                              data={"reason": {"nl": nl, "en": en}})
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
                [self.identity_id, company_id, relatie_id, how or "created", self.store.now()],
            )
            self.matches[company_id] = relatie_id
            return relatie_id

    def _create_relatie(self, company: dict) -> str:
        name = (company.get("name") or "Onbekende klant").strip()
        notes: dict[str, Any] = {}  # what the finance person should know about this relatie (sync.events)
        naam = name[:NAME_MAX].rstrip()
        if naam != name:  # SnelStart refuses longer names (KIOUI truncates too): shortened, and said so
            notes.update(shortened_from=name, limit=NAME_MAX)
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
            notes["vat_dropped"] = company.get("vatnumber") or vat
        if company.get("cocnumber"):
            body["kvkNummer"] = _norm(company["cocnumber"])[:12]
        try:
            created = self.snelstart.create_relatie(body)
        except ss_errors.SnelStartBadRequest as exc:
            if "REL-0088" in exc.codes and "btwNummer" in body:  # SnelStart rejects the VAT number: keep going
                notes.update(vat_dropped=body.pop("btwNummer"), vat_refused=True)
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
        log.log_event(self.store, "relatie", run_id=self.run_id, identity_id=self.identity_id,
                      level="warning" if notes else "info",
                      data={"name": naam, "company_id": company.get("company_id"), **notes})
        return created["id"]


def _relatie_filter(body: dict[str, Any]) -> str:
    if "relatiecode" in body:
        return odata.eq("Relatiecode", body["relatiecode"])
    return odata.eq("Naam", body["naam"])


def _norm(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def reasons_text(problems: tuple[Problem, ...] | list[Problem]) -> dict[str, str]:
    """Every problem of a blocked invoice with its fix, in both languages, for the log and the dry run."""
    return {lang: " ".join(p.text(lang) for p in problems) for lang in ("nl", "en")}


def pdf_file_name(number: str) -> str:
    """SnelStart refuses some characters in file names (BLG-0016) and long names (BLG-0017)."""
    safe = re.sub(r"[^A-Za-z0-9_\-]", "_", number)[:80]
    return f"Factuur_{safe}.pdf"
