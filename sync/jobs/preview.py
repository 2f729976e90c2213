"""The dry run: what the next real run would do, per invoice and per payment, written nowhere but in the preview.

It refreshes the cache as a run does (reads only, from Gripp and SnelStart), then accounts for every sent invoice
of the identity with the push's own decision (`sync.jobs.plan`): would book, would adopt (already in SnelStart and
fitting), blocked (with every reason, a customer whose details contradict each other included), a conflict (a
booking with its number that does not fit), refused and waiting, nothing to book, already booked, before the start
date — and the payments the run would bring back to Gripp, including those of the bookings it adopts, and the ones
it would take back (a storno: shown with a negative amount). It is recorded as a
preview (`sync.store.previews`), never as a run: a dry run is not "the last sync".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind, Outcome, Step
from sync.core.words import jsonable
from sync.jobs import errors, plan, refresh
from sync.jobs.inputs import customer_inputs, invoice_ceiling, invoice_input, mapping_context
from sync.jobs.locks import exclusive
from sync.jobs.payments import plan_registrations
from sync.jobs.plan import DecisionKind
from sync.jobs.services import Services
from sync.mapping.problems import explained, stored_explained
from sync.store import cache, outbox, previews
from sync.store import history as log
from sync.store import setup as setup_repo
from sync.store.outbox import BookingRow

STEPS = (Step.GRIPP, Step.SNELSTART, Step.PLAN)  # a dry run's, in order

Progress = Callable[[Step, float], None]


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    customer: str
    invoice_date: date | None
    amount: Any  # Decimal (a str once read back from the store)
    decision: DecisionKind
    # Blocked / refused / conflict: every reason with its fix, a message as stored (`words.jsonable`; a preview
    # recorded before the catalog holds `{"nl", "en"}`, a refusal recorded before messages its words as text): say
    # it with `words.said`.
    reasons: dict[str, Any] | str | None = None
    codes: tuple[str, ...] | list[str] = ()  # the problems' codes (sync.mapping.problems.ProblemCode)


@dataclass(frozen=True)
class PaymentLine:
    number: str
    customer: str
    pay_date: date
    amount: Any


@dataclass
class Preview:
    identity_id: int
    outcome: Outcome  # ok | warnings | failed
    invoices: list[InvoiceLine] = field(default_factory=list)
    payments: list[PaymentLine] = field(default_factory=list)
    reason: dict[str, Any] | None = None  # why it failed: a message as stored (older previews: `{"nl", "en"}`)
    preview_id: str = ""

    def of(self, decision: DecisionKind) -> list[InvoiceLine]:
        return [line for line in self.invoices if line.decision == decision]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {decision: len(self.of(decision)) for decision in plan.DECISIONS}
        counts["payments"] = len(self.payments)
        return counts

    def as_data(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, "invoices": [asdict(i) for i in self.invoices],
                "payments": [asdict(p) for p in self.payments]}

    @classmethod
    def from_data(cls, identity_id: int, data: dict[str, Any], preview_id: str = "") -> Preview:
        return cls(identity_id, Outcome(data.get("outcome", Outcome.FAILED)),
                   [InvoiceLine(**{**i, "decision": DecisionKind(i["decision"])}) for i in data.get("invoices", [])],
                   [PaymentLine(**p) for p in data.get("payments", [])], data.get("reason"), preview_id)


def preview_identity(services: Services, identity_id: int, *, actor: Actor | str = "system",
                     progress: Progress | None = None, today: date | None = None) -> Preview:
    """Dry-run one identity. Raises AlreadyRunning when a run or preview is going for it."""
    from sync.jobs.runner import refresh_gripp_once

    actor = authorize(actor, "checks")
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise LookupError(f"Identiteit {identity_id} is niet gekoppeld aan een SnelStart-administratie.")
    report = progress or (lambda step, fraction: None)
    with exclusive(services.lock_key(identity_id)):  # never beside a real run of the same identity
        previews.close_interrupted(store, identity_id)
        preview_id = previews.start(store, identity_id, actor)
        log.log_event(store, EventKind.PREVIEW, identity_id=identity_id, actor=actor)

        def step(name: Step, fraction: float) -> None:
            overall = (STEPS.index(name) + fraction) / len(STEPS)
            previews.progress(store, preview_id, name, overall)
            report(name, overall)

        try:
            step(Step.GRIPP, 0.0)
            refresh_gripp_once(services)
            step(Step.SNELSTART, 0.0)
            client = services.snelstart(identity_id)
            refresh.refresh_open_items(store, client, link.administration_id)
            refresh.refresh_reference(store, client, link.administration_id)
            refresh.refresh_bank_lines(store, client, link.administration_id)
            step(Step.PLAN, 0.0)
            result = _plan(services, link, today or services.today())
        except Exception as exc:
            why = errors.link_broken(exc).message if errors.kind_of(exc) == errors.LINK else errors.explain(exc)
            result = Preview(identity_id, Outcome.FAILED, reason=jsonable(why))
        result.preview_id = preview_id
        previews.finish(store, preview_id, result.outcome, result.as_data())
        report(Step.PLAN, 1.0)
        return result


def _plan(services: Services, link: setup_repo.Link, today: date) -> Preview:
    store = services.store
    rows = cache.all_sent_invoices(store, link.identity_id)
    states = outbox.all_for(store, link.identity_id)
    ctx = mapping_context(store, link.identity_id, link.administration_id,
                          max_total=invoice_ceiling(link, services.settings))
    in_snelstart = plan.snelstart_by_number(store, link.administration_id)
    customers = customer_inputs(store, link.identity_id, link.administration_id)
    lines: list[InvoiceLine] = []
    adopting: list[tuple[int, str]] = []
    for row in rows:
        state = states.get(row["invoice_id"])
        kind = plan.outside_push(row, state, link.start_date)
        reasons: dict[str, Any] | str | None = None
        codes: tuple[str, ...] = ()
        if kind == plan.REFUSED and state is not None:
            reasons = _refusal(state)
        if kind is None:
            decision = plan.decide(invoice_input(row), ctx, in_snelstart, customers, row)
            kind = decision.kind
            if decision.problems:
                reasons = jsonable(explained(decision.problems))
                codes = tuple(str(p.code) for p in decision.problems)
            if kind == plan.ADOPT and decision.found is not None and decision.found.booking_id:
                adopting.append((row["invoice_id"], decision.found.booking_id))
        lines.append(InvoiceLine(row["number"], row.get("company_name") or "", row["invoice_date"],
                                 row["total_incl_vat"], kind, reasons, codes))
    registrations, reversals = plan_registrations(store, link, today, adopting=adopting)
    names = {row["invoice_id"]: row.get("company_name") or "" for row in rows}
    payments = [PaymentLine(r.number, names.get(r.invoice_id, ""), r.pay_date, r.amount) for r in registrations]
    payments += [PaymentLine(r.number, names.get(r.invoice_id, ""), r.pay_date or today, -r.amount)
                 for r in reversals]
    stuck = any(line.decision in (plan.BLOCKED, plan.CONFLICT, plan.REFUSED) for line in lines)
    return Preview(link.identity_id, Outcome.WARNINGS if stuck else Outcome.OK, lines, payments)


def _refusal(state: BookingRow) -> dict[str, Any] | str:
    """Why SnelStart refused the invoice, as the push stored it (else its last error: a message's JSON, or words
    recorded before messages; `words.said` reads either)."""
    said = stored_explained(outbox.reasons(state))
    if said is not None:
        return jsonable(said)
    error = state.get("last_error") or ""
    try:
        return json.loads(error)
    except ValueError:
        return error


def latest(services: Services, identity_id: int) -> Preview | None:
    """The identity's last dry run, as it was found then."""
    row = previews.latest(services.store, identity_id)
    if row is None:
        return None
    return Preview.from_data(identity_id, row["result"], row["preview_id"])
