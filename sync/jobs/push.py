"""Push: every sent Gripp invoice (on or after the start date) becomes exactly one SnelStart verkoopboeking, with
its PDF attached — or waits, with a reason a person can act on.

Per invoice, the decision the dry run reports too (`sync.jobs.plan`): nothing to book (0,00), blocked with reasons
(the invoice's, or a customer whose details contradict each other: `sync.mapping.customers`), adopted (SnelStart
already has a booking with its number that fits: `sync.mapping.adoption`), a conflict (one that does not), or
booked: create the relatie if needed → POST → PDF.

The outbox row is written before and after each remote step, so a crash anywhere resumes correctly. Invoices go
in batches (`BATCH`): the intents of a batch (`posting`) are committed together before any of its POSTs, and the
outcomes (booked, its event, done) together after them — two commits a batch, not a few per invoice. A crash
between the two leaves `posting` rows, settled as below, so grouping the writes changes nothing about exactly-once:
  - `posting` at the start of a run means "a POST may have happened": look the booking up before posting again;
  - a lost answer is settled by looking the booking up; BOE-0021 ("the number exists") by a bounded series of
    look-ups — found: adopted when it fits, a conflict when not; never found: a conflict that is looked at again
    every run, never "failed". Rows an earlier version left "failed" on BOE-0021 are settled the same way;
  - a booked row found at the start of a run checks the booking's documents before uploading.
PDFs: a booking's documents are looked at before every upload, except right after this run's own POST created
the booking. A booking adopted while it is fresh in SnelStart (another copy of the link may have just created it
and be about to upload) gets its PDF on a later run, after that look — so two copies never attach twice.
SnelStart has no idempotency key; the local state plus find-before-create stand in for one.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sync.core.dates import parse_date, parse_local_datetime
from sync.core.events import EventKind, Level
from sync.core.money import to_decimal
from sync.core.words import Msg, jsonable
from sync.gripp.client import GrippClient
from sync.gripp.errors import GrippPdfError
from sync.jobs import after_booking, errors, plan
from sync.jobs.inputs import customer_inputs, invoice_input, invoices_in_scope, mapping_context
from sync.jobs.project_kostenplaatsen import ProjectKostenplaatsen
from sync.jobs.refresh import relatie_row
from sync.mapping import invoice_fingerprint, line_net, map_invoice
from sync.mapping.adoption import FoundBooking, not_visible
from sync.mapping.customers import CREATED, CustomerMatch, RelatieIn, normal_kvk, normal_vat, relaties_from_rows
from sync.mapping.problems import Problem, explained
from sync.mapping.types import InvoiceIn, KostenplaatsSource, MappingContext
from sync.snelstart import errors as ss_errors
from sync.snelstart import limits, odata
from sync.snelstart.client import SnelStartClient
from sync.store import cache, outbox
from sync.store import history as log
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.outbox import BookingRow, BookingState
from sync.store.setup import Link

MAX_PDF_BYTES = 10 * 1024 * 1024  # SnelStart refuses larger documents (BLG-0006)
DEFAULT_WORKERS = 4  # SnelStart allows 5 concurrent calls per administration on test keys
# Invoices whose intents are committed in one transaction before their POSTs, and outcomes in one after. Each
# DuckDB commit costs milliseconds (a WAL sync); a batch of 100 makes that a fraction of a millisecond an invoice,
# while a crash leaves at most one batch to be settled by look-ups.
BATCH = 100
_NL_VAT = re.compile(r"^NL\d{9}B\d{2}$")
# After BOE-0021 the booking is there, but SnelStart's open-items list may show it a moment later (a derived list):
# look right away, then after these pauses, then leave it to the next run.
LOOKUP_PAUSES = (1.0, 3.0)
# A booking adopted within this time of its last change in SnelStart may be another copy's, with its PDF on the
# way: its PDF waits for a later run (which looks at its documents first).
FRESH_BOOKING = timedelta(minutes=15)


@dataclass
class Intent:
    """A booking about to be POSTed: recorded as `posting` (with the rest of its batch) before the POST."""
    row: dict
    invoice: InvoiceIn
    relatie_id: str
    body: dict
    fingerprint: str
    attempts: int


@dataclass
class Made:
    """A booking this run's POST made, and how its PDF went: written down with the rest of its batch."""
    row: dict
    booking_id: str
    amount: Any
    document_id: str | None
    pdf_error: Exception | None


@dataclass
class PushReport:
    booked: int = 0
    adopted: int = 0
    blocked: int = 0
    conflicts: int = 0
    failed: int = 0
    retry_later: int = 0
    nothing_to_book: int = 0
    pdf_attached: int = 0
    pdf_pending: int = 0
    pdf_later: int = 0  # adopted while fresh in SnelStart: the PDF is looked for and attached on the next run
    relaties_created: int = 0
    changed_in_gripp: int = 0
    would_block: dict[str, list[Problem]] = field(default_factory=dict)  # the blocked ones and why
    would_conflict: dict[str, Problem] = field(default_factory=dict)  # the conflicts and why
    # How many bookings are in each state, when the run changed none of them (None: it did; count them again).
    unchanged_states: dict[BookingState, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if isinstance(v, int) and not k.startswith("_")}


class Pusher:
    def __init__(self, store: Store, gripp: GrippClient, snelstart: SnelStartClient, link: Link, *,
                 run_id: str | None = None, workers: int = DEFAULT_WORKERS,
                 progress: Callable[[float], None] | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_total: Decimal | None = None) -> None:
        self.store, self.gripp, self.snelstart, self.link = store, gripp, snelstart, link
        self.max_total = max_total  # the identity's ceiling on an invoice's total (None: SnelStart's only)
        self.identity_id, self.admin = link.identity_id, link.administration_id
        self.run_id, self.workers = run_id, max(1, workers)
        self.progress = progress or (lambda fraction: None)
        self.sleep = sleep
        self.report = PushReport()
        self._relatie_lock = threading.Lock()
        self._fatal: BaseException | None = None  # the link broke or the database refuses writes: stop, raise
        self._stopped: BaseException | None = None  # SnelStart is unavailable: stop, the rest waits a run
        self._read: tuple[list[dict], dict[int, BookingRow]] | None = None  # invoices in scope, their booking rows

    def read(self) -> tuple[list[dict], dict[int, BookingRow]]:
        """The identity's sent invoices in scope and their booking rows, read once for `has_pending` and `run`."""
        if self._read is None:
            self._read = (invoices_in_scope(self.store, self.identity_id, self.link.start_date),
                          outbox.all_for(self.store, self.identity_id))
        return self._read

    def has_pending(self) -> bool:
        """Is any invoice in scope not booked to the end (nor settled as nothing to book)? Only then does a run
        need SnelStart's ledgers, VAT rates and relaties."""
        rows, states = self.read()
        return any((state := states.get(row["invoice_id"])) is None
                   or state["state"] not in (BookingState.DONE, BookingState.NOTHING_TO_BOOK) for row in rows)

    # ------------------------------------------------------------------------------------------ the run
    def run(self) -> PushReport:
        rows, states = self.read()
        work = [(row, states.get(row["invoice_id"])) for row in rows]
        work = [(row, state) for row, state in work if self._needs_work(row, state)]
        if not work:  # the usual scheduled run: nothing to book, so nothing more to read
            self.report.unchanged_states = dict(Counter(state["state"] for state in states.values()))
            self.progress(1.0)
            return self.report
        self.ctx: MappingContext = mapping_context(self.store, self.identity_id, self.admin, max_total=self.max_total)
        self.projects: ProjectKostenplaatsen | None = None
        if self.ctx.kostenplaats_source == KostenplaatsSource.PROJECT:
            # The context reads the very dict the projects' kostenplaatsen are added to as this run makes them.
            self.projects = ProjectKostenplaatsen(self.store, self.snelstart, self.admin,
                                                  dict(self.ctx.project_kostenplaatsen), identity_id=self.identity_id,
                                                  run_id=self.run_id)
            self.ctx = replace(self.ctx, project_kostenplaatsen=self.projects.known)
        self.open_items = plan.snelstart_by_number(self.store, self.admin)
        self._load_relaties()
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="push") as pool:
            for start in range(0, len(work), BATCH):
                self._batch(pool, work[start:start + BATCH])
                self.progress(min(start + BATCH, len(work)) / len(work))
        if self._fatal is not None:
            raise self._fatal
        if self._stopped is not None:
            self._log_stop(self._stopped)
        return self.report

    def _needs_work(self, row: dict, state: BookingRow | None) -> bool:
        outside = plan.outside_push(row, state, self.link.start_date)  # the same answer the dry run gives
        if outside is None:
            return True
        if outside != plan.ALREADY_BOOKED:
            return False
        if state is not None and state["state"] == BookingState.DONE:
            self._flag_if_changed(row, state)
            return False
        return True  # booked / pdf_pending: the PDF still has to go

    def _batch(self, pool: ThreadPoolExecutor, batch: list[tuple[dict, BookingRow | None]]) -> None:
        """One batch: decide each invoice (and settle those that need no POST), record the intents in one
        transaction, POST them with their PDFs, then record what was made in one transaction."""
        intents = [i for i in pool.map(lambda item: self._guarded(item[0], self._prepare, *item), batch) if i]
        if not intents or self._fatal is not None:
            return
        if self._stopped is not None:  # SnelStart became unavailable while deciding: these wait a run, unrecorded
            self.report.add("retry_later", len(intents))
            return
        changes = outbox.Changes()
        for i in intents:
            outbox.put(self.store, self.identity_id, i.row["invoice_id"], i.row["number"], BookingState.POSTING,
                       into=changes, relatie_id=i.relatie_id, fingerprint=i.fingerprint,
                       amount=i.body["factuurbedrag"], reasons=None, conflict_booking_id=None, attempts=i.attempts)
        try:
            with self.store.transaction():
                outbox.write(self.store, self.identity_id, changes)
        except Exception as exc:  # the database refuses writes: nothing was posted, the run stops here
            self._fatal = exc
            return
        # From here on a crash leaves `posting` rows, looked up before they are ever posted again.
        made = [m for m in pool.map(lambda i: self._guarded(i.row, self._send, i), intents) if m]
        self._record(made)

    def _guarded(self, row: dict, step: Callable[..., Any], *args: Any) -> Any:
        """Run one invoice's step; its trouble must not stop the others — unless it stops them all."""
        if self._fatal is not None:
            return None  # the link broke or the database refuses writes: the next run carries on from here
        if self._stopped is not None:
            self.report.add("retry_later")  # SnelStart is unavailable: this invoice waits a run, untouched
            return None
        try:
            return step(*args)
        except Exception as exc:
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
        return None

    def _prepare(self, row: dict, state: BookingRow | None) -> Intent | None:
        if state is not None and state["state"] in outbox.BOOKED_STATES:
            self._flag_if_changed(row, state)
            booking_id = state["booking_id"]
            if booking_id is None:  # every way into a booked state records its booking
                raise RuntimeError(f"invoice {row['number']} is {state['state']} without its booking's id")
            # Any booked row found at the start of a run may already have its document (the run that booked
            # it stopped after uploading, or another copy of the link attached it): look before uploading.
            self._attach_pdf(row, booking_id, check_existing=True, previous_error=state.get("last_error"))
            return None
        return self._book(row, state)

    # ------------------------------------------------------------------------------------------ booking
    def _book(self, row: dict, state: BookingRow | None) -> Intent | None:
        """What the dry run would decide; carried out here unless it is a POST, which comes back as an intent."""
        number = row["number"]
        invoice = invoice_input(row)
        with self._relatie_lock:  # the relaties grow while this run creates them
            decision = plan.decide(invoice, self.ctx, self.open_items, self.customers, row)  # as the dry run
            if decision.kind == plan.BOOK and decision.match is not None and decision.match.renamed:
                # kept on the relatie it was booked on before, renamed in SnelStart since: said once
                after_booking.note_renamed(self.store, self.identity_id,
                                           self.customers.company(row["company_id"], row.get("company_name") or ""),
                                           decision.match, self.relaties, run_id=self.run_id)
        if decision.kind != plan.BOOK:
            self._act(row, state, invoice, decision, why="found")
            return None
        assert decision.match is not None
        if state is not None and (state["state"] == BookingState.POSTING
                                  or plan.reason_codes(state) & plan.LOOK_UP_AGAIN):
            # The last run may have posted it just before it stopped, or SnelStart said it exists (BOE-0021) and
            # did not show it: look again. Still not there: posting is safe — SnelStart refuses a number that is
            # taken (BOE-0021 again, then a bounded look-up), so it can never make a second booking.
            found = self._lookup(number, bounded=False)
            if found is not None:
                self._take_over(row, state, invoice, found, decision.match.relatie_id, why="found")
                return None

        relatie_id = self._relatie_for(row, decision.match)
        if self.projects is not None:  # each project's kostenplaats, found or made once, before the booking names it
            self.projects.ensure((line.project_id, line.project_label) for line in invoice.lines
                                 if line.project_id is not None and line_net(line) != 0)
        result = map_invoice(invoice, self.ctx, relatie_id=relatie_id)
        if result.plan is None:
            self._block(row, state, result.problems)
            return None
        return Intent(row, invoice, relatie_id, result.plan.body, result.plan.fingerprint,
                      (state["attempts"] if state is not None else 0) + 1)

    def _send(self, intent: Intent) -> Made | None:
        """POST one recorded intent and, when that POST made the booking, upload its PDF — remote steps only: what
        was made is written down with the rest of the batch (`_record`). Other endings are recorded here."""
        booking_id = self._post(intent.row, intent.invoice, intent.relatie_id, intent.body, retry_once=True)
        if booking_id is None:
            return None
        # Just created by this very POST: nobody else can have attached a document yet (a copy that adopts a
        # booking this fresh leaves the PDF to a later run), so no look first.
        document_id, problem = self._upload_pdf(intent.row, booking_id, check_existing=False)
        return Made(intent.row, booking_id, intent.body["factuurbedrag"], document_id, problem)

    def _record(self, made: list[Made]) -> None:
        """The batch's new bookings (each with its event) and their PDFs' outcomes, in one transaction."""
        if not made:
            return
        changes, events = outbox.Changes(), []
        now = self.store.now()
        for m in made:
            row = m.row
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.BOOKED,
                       into=changes, booking_id=m.booking_id, amount=m.amount, booked_at=now, last_error=None,
                       error_kind=None, conflict_booking_id=None)
            events.append({"kind": EventKind.BOOKED, "run_id": self.run_id, "identity_id": self.identity_id,
                           "invoice_id": row["invoice_id"], "invoice_number": row["number"],
                           "data": {"amount": m.amount, "customer": row.get("company_name"),
                                    "booking_id": m.booking_id, "invoice_date": row["invoice_date"]}})
            self._pdf_outcome(row, m.document_id, m.pdf_error, None, changes, events)
        try:
            with self.store.transaction():
                outbox.write(self.store, self.identity_id, changes)
                log.log_events(self.store, events)
        except Exception as exc:  # the database refuses writes: the rows stay `posting`, found by look-ups
            self._fatal = exc
            return
        self.report.add("booked", len(made))
        self._count_pdfs([m.pdf_error for m in made])
        for m in made:
            if m.pdf_error is not None:
                self._after_pdf_error(m.pdf_error)

    def _act(self, row: dict, state: BookingRow | None, invoice: InvoiceIn, decision: plan.Decision, *,
             why: str) -> None:
        """Carry out a decision that needs no POST: nothing to book, blocked, a conflict, or an adoption."""
        if decision.kind == plan.NOTHING:
            self._nothing_to_book(row, state, invoice)
        elif decision.kind == plan.BLOCKED:
            self._block(row, state, decision.problems, involved=decision.match.involved if decision.match else ())
        elif decision.kind == plan.CONFLICT:
            self._conflict(row, state, invoice, decision.problems[0], decision.found)
        else:
            assert decision.kind == plan.ADOPT and decision.found is not None
            self._adopt(row, decision.found, why=why)

    def _post(self, row: dict, invoice: InvoiceIn, relatie_id: str, body: dict, *, retry_once: bool) -> str | None:
        """POST the booking: the id of the booking it made, or None when it ended otherwise (recorded here).
        BOE-0021 and a lost answer are settled by looking it up, never by posting blind."""
        try:
            created = self.snelstart.create_verkoopboeking(body)
        except ss_errors.SnelStartBadRequest as exc:
            if ss_errors.is_duplicate_invoice(exc):
                self._after_duplicate(row, invoice, relatie_id)
                return None
            self._fail(row, exc)
            return None
        except (ss_errors.OutcomeUnknownError, ss_errors.ResponseFormatError):
            found = self._lookup(row["number"], bounded=False)
            if found is not None:
                self._take_over(row, None, invoice, found, relatie_id, why="unknown")
                return None
            if retry_once:  # looked up: not there, so once more
                return self._post(row, invoice, relatie_id, body, retry_once=False)
            raise
        return created["id"]

    def _after_duplicate(self, row: dict, invoice: InvoiceIn, relatie_id: str) -> None:
        """SnelStart says the number exists: find that booking (bounded), then adopt it if it fits."""
        found = self._lookup(row["number"], bounded=True)
        if found is None:
            self._conflict(row, None, invoice, not_visible(invoice), None)
            return
        self._take_over(row, None, invoice, found, relatie_id, why="duplicate")

    def _lookup(self, number: str, *, bounded: bool) -> FoundBooking | None:
        pauses = LOOKUP_PAUSES if bounded else ()
        for attempt in range(len(pauses) + 1):
            if attempt:
                self.sleep(pauses[attempt - 1])
            found = self.snelstart.find_verkoopfactuur(number)
            if found is not None:
                return _found_from_answer(found)
        return None

    def _take_over(self, row: dict, state: BookingRow | None, invoice: InvoiceIn, found: FoundBooking,
                   relatie_id: str | None, *, why: str) -> None:
        """A booking with this invoice's number turned up in SnelStart: ours only when it fits (`sync.jobs.plan`)."""
        with self._relatie_lock:
            decision = plan.take_over(invoice, found, relatie_id, self.customers, row)
        self._act(row, state, invoice, decision, why=why)

    def _adopt(self, row: dict, found: FoundBooking, *, why: str) -> None:
        booking_id = found.booking_id
        assert booking_id is not None
        with self.store.transaction():
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.BOOKED,
                       booking_id=booking_id, amount=found.amount, adopted=why == "found", booked_at=self.store.now(),
                       fingerprint=invoice_fingerprint(invoice_input(row)), last_error=None, error_kind=None,
                       reasons=None, conflict_booking_id=None)
            log.log_event(self.store, EventKind.ADOPTED, run_id=self.run_id, identity_id=self.identity_id,
                          invoice_id=row["invoice_id"], invoice_number=row["number"],
                          data={"why": why, "snelstart": found.facts(self.customers.names())})
        self.report.add("adopted")
        if self._fresh(found):
            self.report.add("pdf_later")  # maybe another copy's, with its PDF on the way: look next run
            return
        self._attach_pdf(row, booking_id, check_existing=True)

    def _fresh(self, found: FoundBooking) -> bool:
        if found.modified_on is None:
            return True  # unknown: the careful answer
        now = self.store.now().replace(tzinfo=None)
        return found.modified_on > now - FRESH_BOOKING

    def _conflict(self, row: dict, state: BookingRow | None, invoice: InvoiceIn, problem: Problem,
                  found: FoundBooking | None) -> None:
        """A booking with this number that is not this invoice's (or one SnelStart will not show): a person
        decides. Never adopted, no PDF, no payment."""
        with self.report._lock:
            self.report.would_conflict[row["number"]] = problem
        self.report.add("conflicts")
        reasons = [problem.to_json()]
        current = state if state is not None else outbox.get(self.store, self.identity_id, row["invoice_id"])
        if current is not None and current["state"] == BookingState.CONFLICT and outbox.reasons(current) == reasons:
            return  # already told; no new event every run
        with self.store.transaction():
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.CONFLICT,
                       reasons=reasons, error_kind="config", last_error=None,
                       conflict_booking_id=found.booking_id if found is not None else None)
            log.log_event(self.store, EventKind.CONFLICT, run_id=self.run_id, identity_id=self.identity_id,
                          invoice_id=row["invoice_id"], invoice_number=row["number"],
                          data={"code": problem.code, "reason": jsonable(explained([problem])),
                                "gripp": {"amount": invoice.total_incl_vat, "date": invoice.invoice_date,
                                          "customer": row.get("company_name"), "company_id": row.get("company_id")},
                                "snelstart": found.facts(self.customers.names()) if found is not None else None})

    def _nothing_to_book(self, row: dict, state: BookingRow | None, invoice: InvoiceIn) -> None:
        """An invoice of 0,00: no booking, no open item — and not a problem either."""
        self.report.add("nothing_to_book")
        fingerprint = invoice_fingerprint(invoice)
        with self.store.transaction():
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.NOTHING_TO_BOOK,
                       fingerprint=fingerprint, reasons=None, last_error=None, error_kind=None)
            log.log_event(self.store, EventKind.NOTHING_TO_BOOK, run_id=self.run_id, identity_id=self.identity_id,
                          invoice_id=row["invoice_id"], invoice_number=row["number"],
                          data={"amount": invoice.total_incl_vat, "invoice_date": invoice.invoice_date})

    def _block(self, row: dict, state: BookingRow | None, problems: tuple[Problem, ...],
               involved: tuple[RelatieIn, ...] = ()) -> None:
        with self.report._lock:
            self.report.would_block[row["number"]] = list(problems)
        self.report.add("blocked")
        reasons = [p.to_json() for p in problems]
        unchanged = state is not None and state["state"] == BookingState.BLOCKED and outbox.reasons(state) == reasons
        if unchanged:
            return  # already told; no new event every run
        with self.store.transaction():
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.BLOCKED,
                       reasons=reasons, error_kind="config", last_error=None)
            log.log_event(self.store, EventKind.BLOCKED, run_id=self.run_id, identity_id=self.identity_id,
                          invoice_id=row["invoice_id"], invoice_number=row["number"],
                          data={"codes": [p.code for p in problems], "reason": jsonable(explained(problems)),
                                "customer": row.get("company_name"), "company_id": row.get("company_id"),
                                "relaties": [{"relatie_id": r.relatie_id, "relatiecode": r.relatiecode,
                                              "name": r.name} for r in involved]})

    def _fail(self, row: dict, exc: BaseException) -> None:
        reason = errors.explain(exc)
        codes = list(getattr(exc, "codes", []) or [])
        if ss_errors.names_kostenplaats(exc):  # decided again next run, on SnelStart's grootboeken read again
            codes.append(plan.KOSTENPLAATS_REFUSED)
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], BookingState.FAILED,
                   last_error=last_error(reason), error_kind=errors.CONFIG,
                   reasons=[{"code": ",".join(codes or ["SNELSTART"]), "message": reason.to_json()}])
        self.report.add("failed")
        log.log_event(self.store, EventKind.REFUSED, run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"],
                      data={"reason": reason, "codes": codes})

    def _stop(self, row: dict, exc: BaseException) -> None:
        """SnelStart kept throttling past the retries, or cannot be reached: this invoice and every one not yet
        started wait for the next run (one message for all of them, at the end)."""
        with self.report._lock:
            if self._stopped is None:
                self._stopped = exc
        current = outbox.get(self.store, self.identity_id, row["invoice_id"])
        if current is None:  # no row yet: nothing happened to this invoice, it simply waits
            self.report.add("retry_later")
        elif current["state"] not in outbox.BOOKED_STATES:  # booked ones are counted as pdf_pending already
            outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], current["state"],
                       last_error=last_error(errors.explain(exc)), error_kind=errors.TRANSIENT)
            self.report.add("retry_later")

    def _log_stop(self, exc: BaseException) -> None:
        waiting = self.report.retry_later
        log.log_event(self.store, EventKind.PUSH_STOPPED, run_id=self.run_id, identity_id=self.identity_id,
                      data={"waiting": waiting, "reason": errors.explain(exc)})

    def _record_error(self, row: dict, exc: BaseException) -> None:
        """A transient failure leaves the invoice where it was (the next run carries on); others fail it."""
        if errors.kind_of(exc) not in (errors.TRANSIENT, errors.UNKNOWN):
            self._fail(row, exc)
            return
        reason = errors.explain(exc)
        current = outbox.get(self.store, self.identity_id, row["invoice_id"])
        state = current["state"] if current else BookingState.PENDING
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], state,
                   last_error=last_error(reason), error_kind=errors.TRANSIENT)
        self.report.add("retry_later")
        log.log_event(self.store, EventKind.RETRY, run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"], data={"reason": reason})

    def _flag_if_changed(self, row: dict, state: BookingRow) -> None:
        """An invoice edited in Gripp after booking is flagged for a person, never silently re-booked."""
        if state.get("changed_in_gripp") or not state.get("fingerprint"):
            return
        fetched, written = row.get("fetched_us"), state.get("updated_us")
        if fetched is not None and written is not None and fetched < written:
            return  # not read from Gripp again since the row was last written: it cannot have changed since
        if invoice_fingerprint(invoice_input(row)) == state["fingerprint"]:
            return
        self.report.add("changed_in_gripp")
        outbox.put(self.store, self.identity_id, row["invoice_id"], row["number"], state["state"],
                   changed_in_gripp=True)
        log.log_event(self.store, EventKind.CHANGED, run_id=self.run_id, identity_id=self.identity_id,
                      invoice_id=row["invoice_id"], invoice_number=row["number"])

    # ------------------------------------------------------------------------------------------ the PDF
    def _attach_pdf(self, row: dict, booking_id: str, *, check_existing: bool,
                    previous_error: str | None = None) -> None:
        """Upload the PDF (looking at the booking's documents first when asked) and record how it went."""
        document_id, problem = self._upload_pdf(row, booking_id, check_existing=check_existing)
        changes, events = outbox.Changes(), list[dict]()
        self._pdf_outcome(row, document_id, problem, previous_error, changes, events)
        with self.store.transaction():
            outbox.write(self.store, self.identity_id, changes)
            log.log_events(self.store, events)
        self._count_pdfs([problem])
        if problem is not None:
            self._after_pdf_error(problem)

    def _upload_pdf(self, row: dict, booking_id: str, *, check_existing: bool) -> tuple[str | None, Exception | None]:
        """The remote part: (the document's id, None), or (None, what went wrong). Nothing is written here."""
        try:
            if check_existing:
                documents = self.snelstart.documents_of("Verkoopboekingen", booking_id)
                if documents:
                    return documents[0].get("id"), None
            if not row.get("directpdfurl"):
                raise GrippPdfError("Gripp gave no PDF address (directpdfurl) for this invoice", http_status=404)
            content = self.gripp.download_pdf(row["directpdfurl"])
            if len(content) > MAX_PDF_BYTES:
                raise errors.PdfTooLarge(len(content))
            document = self.snelstart.upload_document("Verkoopboekingen", booking_id, pdf_file_name(row["number"]),
                                                      content)
        except Exception as exc:
            return None, exc
        return document.get("id"), None

    def _pdf_outcome(self, row: dict, document_id: str | None, problem: Exception | None,
                     previous_error: str | None, changes: outbox.Changes, events: list[dict]) -> None:
        """What to write for a PDF's outcome: done, or pdf_pending with its reason (an event only when the reason
        is news). A broken link writes nothing: the booked row is looked at again next run."""
        number = row["number"]
        if problem is None:
            outbox.put(self.store, self.identity_id, row["invoice_id"], number, BookingState.DONE, into=changes,
                       document_id=document_id, last_error=None, error_kind=None)
            return
        kind = errors.kind_of(problem)
        if kind in (errors.LINK, errors.STORE):
            return
        reason = errors.explain(problem)
        error = last_error(reason)
        outbox.put(self.store, self.identity_id, row["invoice_id"], number, BookingState.PDF_PENDING, into=changes,
                   last_error=error, error_kind=kind)
        if error != previous_error and not errors.service_down(problem):  # the same reason as last run is not news
            events.append({"kind": EventKind.PDF, "run_id": self.run_id, "identity_id": self.identity_id,
                           "invoice_id": row["invoice_id"], "invoice_number": number, "data": {"reason": reason}})

    def _count_pdfs(self, problems: list[Exception | None]) -> None:
        self.report.add("pdf_attached", sum(1 for p in problems if p is None))
        self.report.add("pdf_pending", sum(1 for p in problems
                                           if p is not None and errors.kind_of(p) not in (errors.LINK, errors.STORE)))

    def _after_pdf_error(self, problem: Exception) -> None:
        """A broken link or an unavailable SnelStart stops the push (the booking is safe, the PDF waits)."""
        kind = errors.kind_of(problem)
        if kind == errors.LINK:
            self._fatal = self._fatal or errors.link_broken(problem)
        elif kind == errors.STORE:
            self._fatal = self._fatal or problem
        elif errors.service_down(problem):
            with self.report._lock:
                if self._stopped is None:
                    self._stopped = problem

    # ------------------------------------------------------------------------------------------ relaties
    def _load_relaties(self) -> None:
        self.customers = customer_inputs(self.store, self.identity_id, self.admin)
        self.relaties = self.customers.relaties  # grows as this run creates relaties
        self.codes_taken = {r.relatiecode for r in self.relaties if r.relatiecode is not None}
        self.created = self.customers.created
        self.companies = self.customers.companies

    def _relatie_for(self, row: dict, match: CustomerMatch) -> str:
        """The relatie the match chose, or a new Klant (once per company, however many workers ask)."""
        if match.relatie_id is not None:
            return match.relatie_id
        company_id = row["company_id"]
        with self._relatie_lock:
            if company_id in self.created:
                return self.created[company_id]
            company = self.companies.get(company_id) or {"company_id": company_id, "customernumber": None,
                                                         "name": row.get("company_name")}
            relatie_id = self._create_relatie(company)
            setup_repo.record_created_relatie(self.store, self.identity_id, company_id, relatie_id, CREATED)
            self.created[company_id] = relatie_id
            return relatie_id

    def _find_created_relatie(self, body: dict[str, Any]) -> dict | None:
        for found in self.snelstart.relaties(_relatie_filter(body)):
            if found.get("naam") == body["naam"] and "Klant" in (found.get("relatiesoort") or []):
                return found
        return None

    def _create_relatie(self, company: dict) -> str:
        name = (company.get("name") or "Onbekende klant").strip()
        notes: dict[str, Any] = {}  # what the finance person should know about this relatie (sync.core.events)
        naam = limits.cut(name, limits.RELATIE_NAAM)
        if naam != name:  # SnelStart refuses longer names (counted in UTF-16 units): shortened, and said so
            notes.update(shortened_from=name, limit=limits.RELATIE_NAAM)
        body: dict[str, Any] = {"relatiesoort": ["Klant"], "naam": naam}
        code = company.get("customernumber")
        if code is not None and code not in self.codes_taken:
            body["relatiecode"] = code
        email = (company.get("email") or "").strip()
        if email and limits.fits(email, limits.EMAIL):
            body["email"] = email
        vat = normal_vat(company.get("vatnumber"))
        if vat and (not vat.startswith("NL") or _NL_VAT.match(vat)):
            body["btwNummer"] = vat
        elif vat:
            notes["vat_dropped"] = company.get("vatnumber") or vat
        kvk = normal_kvk(company.get("cocnumber"))
        if kvk and limits.fits(kvk, limits.KVK_NUMMER):
            body["kvkNummer"] = kvk
        created: dict[str, Any] | None
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
        made = relaties_from_rows([relatie_row(self.admin, created)])[0]
        self.relaties.append(made)
        if made.relatiecode is not None:
            self.codes_taken.add(made.relatiecode)
        log.log_event(self.store, EventKind.RELATIE, run_id=self.run_id, identity_id=self.identity_id,
                      level=Level.WARNING if notes else Level.INFO,
                      data={"name": naam, "company_id": company.get("company_id"), "relatie_id": made.relatie_id,
                            "relatiecode": made.relatiecode, **notes})
        return created["id"]


def _relatie_filter(body: dict[str, Any]) -> str:
    if "relatiecode" in body:
        return odata.eq("Relatiecode", body["relatiecode"])
    return odata.eq("Naam", body["naam"])


def _found_from_answer(item: dict) -> FoundBooking:
    """A `verkoopfacturen` row as SnelStart sends it."""
    modified = parse_local_datetime(item.get("modifiedOn"))
    amount = item.get("factuurBedrag")
    return FoundBooking((item.get("verkoopBoeking") or {}).get("id"), str(item.get("factuurnummer", "")),
                        (item.get("relatie") or {}).get("id"), parse_date(item.get("factuurDatum")),
                        to_decimal(amount) if amount is not None else None,
                        modified.replace(tzinfo=None) if isinstance(modified, datetime) else None)


def last_error(reason: Msg) -> str:
    """An invoice's last error as the outbox keeps it: the message as JSON (said in the reader's language when
    shown), the same text for the same reason, so that a reason that is no news is recognised."""
    return json.dumps(jsonable(reason), sort_keys=True)


def pdf_file_name(number: str) -> str:
    """SnelStart refuses some characters in file names (BLG-0016) and long names (BLG-0017)."""
    safe = re.sub(r"[^A-Za-z0-9_\-]", "_", number)[:80]
    return f"Factuur_{safe}.pdf"
