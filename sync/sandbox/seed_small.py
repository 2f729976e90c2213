"""The demo world made small: every story of `seed.build_world()` on about 140 invoices instead of 585.

A first sync of the full demo books or adopts about 480 invoices with their PDFs: seconds of work that most tests do
not need. `small_world()` builds the full demo and then takes out, on both sides (Gripp's invoice and payments,
SnelStart's booking, its documents and bank bookings), the invoices that are more of the same. Per identity it keeps
every invoice `manifest()` names for a reason (blocked, conflict, payments to bring back, paid in Gripp only, partly
paid, in instalments, unpaid and overdue, credit notes and the invoices they credit, concepts); of the plain ones,
per side (booked by the old link, still to book, not linked), the first and the last with each trait the engine
treats differently: each VAT rate (so 6 % before and 9 % after 1 January 2019, reverse charge, 0 %), each ledger, a
group heading, a discount, a price below the cent, three lines or more, an edit in Gripp, a client reference, an
automatic transfer, a foreign customer, a private person, a customer SnelStart does not know yet; and a few ordinary
ones. Nothing is changed or added: every invoice, booking and payment left is the full demo's, so the names, numbers
and dates a reader knows stay, and `manifest()` of the small world tells the same story with smaller counts. The
other accounts (Hofstra, Kleimeer) are small already and stay whole.

Tests that pin the demo's exact figures (23 to book, 315 to adopt, …) and the sandbox `make run` serves use the full
world; everything else can use this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from sync.sandbox.seed import (
    DEFAULT_SEED,
    SANDBOX_TODAY,
    VAT_VERLEGD,
    build_world,
    demo_setup,
    manifest,
)
from sync.sandbox.world import GrippAccount, GrippCompany, GrippInvoice, World

# Plain invoices kept per identity and per side (booked by the old link / still to book / not linked).
PLAIN_KEPT = 2
_CENT = Decimal("0.01")


def small_world(*, today: date = SANDBOX_TODAY, seed: int = DEFAULT_SEED, plain: int = PLAIN_KEPT) -> World:
    """The demo world (same `today` and `seed`) with only the invoices that tell its stories, and `plain` more of
    the ordinary ones per identity and side."""
    world = build_world(today=today, seed=seed)
    keep = _kept_invoices(world, plain)
    _take_out(world, [inv for inv in world.gripp.invoices.values() if inv.id not in keep])
    return world


def _kept_invoices(world: World, plain: int) -> set[int]:
    facts = manifest(world)
    gripp = world.gripp
    named = (set(facts.blocked_expected) | facts.conflicts_expected | facts.amount_differs
             | set(facts.payments_expected) | facts.paid_in_gripp_only | facts.partially_paid
             | facts.paid_in_instalments | facts.unpaid_overdue | facts.credit_notes | facts.concept_invoices)
    by_number = {(inv.identity_id, str(inv.number)): inv for inv in gripp.invoices.values()}
    keep = {inv.id for (_, number), inv in by_number.items() if number in named}
    # A credit note's original stays with it: they may have been settled by one bank transfer.
    for inv in list(gripp.invoices.values()):
        if inv.id in keep and str(inv.number) in facts.credit_notes:
            original = _credited(gripp, inv)
            if original is not None:
                keep.add(original.id)

    def side(inv: GrippInvoice) -> str:
        number = str(inv.number)
        if number in facts.prebooked_by_identity.get(inv.identity_id, set()):
            return "booked"
        if number in facts.to_book_by_identity.get(inv.identity_id, set()):
            return "to_book"
        return "other"

    traits = _traits(gripp, facts.missing_relaties)
    ordered = sorted(gripp.invoices.values(), key=lambda inv: (inv.date, inv.number))
    groups: dict[tuple[int, str], list[GrippInvoice]] = {}
    for inv in ordered:
        groups.setdefault((inv.identity_id, side(inv)), []).append(inv)
    for invoices in groups.values():
        for trait in traits:  # the first and the last: a start date later than the first still finds one
            having = [inv for inv in invoices if trait(inv)]
            keep.update(inv.id for inv in having[:1] + having[-1:])
        keep.update(inv.id for inv in [inv for inv in invoices if inv.id not in keep][-plain:])
    # A customer SnelStart does not know yet keeps an invoice to book: the link creates its relatie (as in the full
    # demo, where every such customer has one), whichever of its invoices was kept for another reason.
    for (identity_id, which), invoices in groups.items():
        new = facts.missing_relaties.get(identity_id, set())
        if which != "to_book" or not new:
            continue
        kept = {gripp.companies[inv.company_id].customernumber for inv in gripp.invoices.values()
                if inv.id in keep and inv.identity_id == identity_id}
        for number in kept & new:
            keep.add(next(inv.id for inv in invoices if gripp.companies[inv.company_id].customernumber == number))
    return keep


def _traits(gripp: GrippAccount, missing_relaties: dict[int, set[int]]) -> list[Callable[[GrippInvoice], bool]]:
    """What makes an invoice different to the engine; the first invoice with each is kept."""
    companies = gripp.companies

    def customer(inv: GrippInvoice) -> GrippCompany:
        return companies[inv.company_id]

    def has_rate(vat_id: int) -> Callable[[GrippInvoice], bool]:
        return lambda inv: any(line.vat_id == vat_id for line in inv.money_lines)

    def has_ledger(ledger_id: int) -> Callable[[GrippInvoice], bool]:
        return lambda inv: any(line.ledger_id == ledger_id for line in inv.money_lines)

    lines = [line for inv in gripp.invoices.values() for line in inv.money_lines]
    return [
        *(has_rate(vat_id) for vat_id in sorted({line.vat_id for line in lines if line.vat_id is not None})),
        *(has_ledger(ledger_id) for ledger_id in sorted({line.ledger_id for line in lines
                                                         if line.ledger_id is not None})),
        has_rate(VAT_VERLEGD),
        lambda inv: any(line.rowtype == "GROUP" for line in inv.lines),
        lambda inv: any(line.discount for line in inv.money_lines),
        lambda inv: any(line.sellingprice != line.sellingprice.quantize(_CENT) for line in inv.money_lines),
        lambda inv: len(inv.money_lines) >= 3,
        lambda inv: inv.updatedon is not None,
        lambda inv: bool(inv.clientreference),
        lambda inv: inv.paymentmethod != "MANUALTRANSFER",
        lambda inv: customer(inv).visitingaddress_country != "NL",
        lambda inv: customer(inv).relationtype == "PRIVATEPERSON",
        lambda inv: customer(inv).customernumber in missing_relaties.get(inv.identity_id, set()),
    ]


def _credited(gripp: GrippAccount, note: GrippInvoice) -> GrippInvoice | None:
    """The invoice a credit note credits (the seed names it in the subject: "Creditnota op factuur N")."""
    number = note.subject.rsplit(" ", 1)[-1]
    return next((inv for inv in gripp.invoices.values()
                 if inv.identity_id == note.identity_id and str(inv.number) == number), None)


def _take_out(world: World, invoices: Iterable[GrippInvoice]) -> None:
    """Each invoice out of Gripp with its payments, and its booking out of SnelStart with its documents and the
    bank bookings that paid it (a bank booking that also paid a kept invoice would be a bug in the choice)."""
    gripp = world.gripp
    links = {link.identity_id: link.administration_id for link in demo_setup().links}
    for inv in invoices:
        admin_id = links.get(inv.identity_id)
        if admin_id is not None:
            admin = world.snelstart.administrations[admin_id]
            for booking in [b for b in admin.bookings.values() if b.factuurnummer == str(inv.number)]:
                del admin.bookings[booking.id]
                for doc_id in [d.id for d in admin.documents.values() if d.parent_id == booking.id]:
                    del admin.documents[doc_id]
                for bank in list(admin.bank_bookings.values()):
                    if any(line.boeking_id == booking.id for line in bank.verkoop_regels):
                        assert all(line.boeking_id == booking.id for line in bank.verkoop_regels), bank.id
                        del admin.bank_bookings[bank.id]
        for payment_id in [p.id for p in gripp.payments.values() if p.invoice_id == inv.id]:
            del gripp.payments[payment_id]
        del gripp.invoices[inv.id]

