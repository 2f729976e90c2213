"""What happens to each sent Gripp invoice: the one decision the real push and the dry run both take.

`outside_push` says why an invoice needs no booking this run (before the start date, already booked, refused
by SnelStart and unchanged since); `decide` says what happens to one that does (blocked with its problems,
adopted because SnelStart already has a booking with its number, nothing to book, or booked). The push
(`sync.jobs.push`) acts on these answers; the dry run (`sync.jobs.preview`) reports them. So a dry run and the
next real run on the same world cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sync.jobs.inputs import invoice_input
from sync.mapping import check_invoice, invoice_fingerprint, line_net
from sync.mapping.types import InvoiceIn, MappingContext, Problem
from sync.store.db import Store

BOOK, ADOPT, BLOCKED, NOTHING = "book", "adopt", "blocked", "nothing_to_book"
BEFORE_START, ALREADY_BOOKED, REFUSED = "before_start", "already_booked", "refused"
# In the order the dry run lists them: what the run does first, what stays as it is after.
DECISIONS = (BOOK, ADOPT, BLOCKED, REFUSED, NOTHING, ALREADY_BOOKED, BEFORE_START)


@dataclass(frozen=True)
class Decision:
    kind: str
    problems: tuple[Problem, ...] = ()


def outside_push(row: dict[str, Any], state: dict | None, start_date: date | None) -> str | None:
    """Why this sent invoice needs no booking step this run, or None when it does."""
    if start_date is not None and row["invoice_date"] is not None and row["invoice_date"] < start_date:
        return BEFORE_START
    if state is None or state["state"] in ("pending", "posting", "blocked"):
        return None
    if state["state"] == "failed":
        # SnelStart refused it: offered again only once the invoice changed or a person chose "retry failed"
        # (sync.jobs.requeue) — one unfixed refusal must not knock on SnelStart's door every run.
        changed = bool(state.get("fingerprint")) and invoice_fingerprint(invoice_input(row)) != state["fingerprint"]
        return None if changed else REFUSED
    return ALREADY_BOOKED  # booked (perhaps with its PDF still to come): never a second booking


def nothing_to_book(invoice: InvoiceIn) -> bool:
    """An invoice of € 0,00 with no line carrying an amount: there is no booking to make."""
    return invoice.total_incl_vat == 0 and all(line_net(line) == 0 for line in invoice.lines)


def decide(invoice: InvoiceIn, ctx: MappingContext, open_items: dict[str, Any]) -> Decision:
    """For an invoice that needs booking: blocked (with every problem), adopt, nothing to book, or book."""
    if nothing_to_book(invoice):
        return Decision(NOTHING)
    problems = check_invoice(invoice, ctx)
    if problems:
        return Decision(BLOCKED, problems)
    if invoice.number in open_items:
        return Decision(ADOPT)
    return Decision(BOOK)


def snelstart_by_number(store: Store, administration_id: str) -> dict[str, dict[str, Any]]:
    """SnelStart's verkoopfacturen (the cached open-items list, paid ones included) by invoice number."""
    return {row["factuurnummer"]: row
            for row in store.rows("SELECT * FROM ss_open_items WHERE administration_id = ?", [administration_id])}
