"""An identity's own ceiling on an invoice's total (issue 24, item 11): set by support, audited, and judged by in the
run, the dry run and the checks alike; an identity without one keeps the deployment's SYNC_MAX_INVOICE_TOTAL."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from sync.auth.access import Actor, NotAllowed
from sync.core.events import render
from sync.core.words import say
from sync.jobs import plan
from sync.jobs.inputs import invoice_ceiling
from sync.jobs.linking import LinkError, change_ceiling
from sync.jobs.preview import preview_identity
from sync.jobs.runner import run_identity
from sync.mapping.problems import stored_fix, stored_message
from sync.sandbox.seed import ADMIN_ADVIES, ADMIN_STUDIO, IDENTITY_ACADEMY, IDENTITY_ADVIES, IDENTITY_STUDIO
from sync.sandbox.world import GrippInvoice, GrippInvoiceLine, World
from sync.snelstart.limits import AMOUNT_MAX
from sync.store import history, outbox
from sync.store import setup as setup_repo

LARGE = Decimal("300000.00")  # net; above the 250 000 set below, far below the default 1 000 000 with any VAT
NUMBERS = {IDENTITY_STUDIO: 990_001, IDENTITY_ADVIES: 990_002}


def add_large_invoices(services, world: World) -> dict[int, GrippInvoice]:
    """Per identity, an invoice of LARGE on the customer, VAT rate and ledger of one the dry run books as it is."""
    added = {}
    next_id = max(world.gripp.invoices) + 1
    for identity_id, number in NUMBERS.items():
        bookable = preview_identity(services, identity_id).of(plan.BOOK)[0].number
        like = next(i for i in world.gripp.invoices.values()
                    if str(i.number) == bookable and i.identity_id == identity_id)
        model = like.money_lines[0]
        invoice = GrippInvoice(id=next_id, number=number, identity_id=identity_id, company_id=like.company_id,
                               date=like.date, expirydate=like.date + timedelta(days=14), status="SENT",
                               subject="Groot project",
                               lines=[GrippInvoiceLine(next_id, Decimal(1), LARGE, model.vat_id, model.ledger_id,
                                                       "Groot project")],
                               createdon=like.createdon)
        world.gripp.invoices[invoice.id] = added[identity_id] = invoice
        next_id += 1
    services.gripp_freshness.forget()  # the next dry run reads Gripp again, as it would a while later
    return added


def test_an_identitys_own_lower_ceiling_blocks_what_another_identity_books(services, world) -> None:
    large = add_large_invoices(services, world)
    change_ceiling(services, IDENTITY_STUDIO, Decimal("250000"), actor="sanne")
    studio = setup_repo.get_link(services.store, IDENTITY_STUDIO)
    advies = setup_repo.get_link(services.store, IDENTITY_ADVIES)
    assert studio is not None and advies is not None
    assert invoice_ceiling(studio, services.settings) == Decimal("250000.00")
    assert invoice_ceiling(advies, services.settings) == services.settings.max_invoice_total == Decimal("1000000.00")

    # The dry run says what the run does: blocked for the identity with its own ceiling, booked for the other.
    dry = {identity_id: preview_identity(services, identity_id) for identity_id in NUMBERS}
    (blocked,) = [line for line in dry[IDENTITY_STUDIO].invoices if line.number == str(NUMBERS[IDENTITY_STUDIO])]
    assert blocked.decision == plan.BLOCKED and list(blocked.codes) == ["TOTAL_ABOVE_CEILING"]
    (booked,) = [line for line in dry[IDENTITY_ADVIES].invoices if line.number == str(NUMBERS[IDENTITY_ADVIES])]
    assert booked.decision == plan.BOOK

    for identity_id in NUMBERS:
        run_identity(services, identity_id, actor="system")
    state = outbox.all_for(services.store, IDENTITY_STUDIO)[large[IDENTITY_STUDIO].id]
    assert state["state"] == "blocked"
    (reason,) = outbox.reasons(state)
    assert reason["code"] == "TOTAL_ABOVE_CEILING"
    assert "250.000,00" in say(stored_message(reason), "nl") and "250,000.00" in say(stored_message(reason), "en")
    assert "250.000,00" in say(stored_fix(reason), "nl") and "250,000.00" in say(stored_fix(reason), "en")
    studio_books = world.snelstart.administrations[ADMIN_STUDIO].bookings.values()
    assert not [b for b in studio_books if b.factuurnummer == str(NUMBERS[IDENTITY_STUDIO])]

    assert outbox.all_for(services.store, IDENTITY_ADVIES)[large[IDENTITY_ADVIES].id]["state"] == "done"
    advies_books = world.snelstart.administrations[ADMIN_ADVIES].bookings.values()
    (booking,) = [b for b in advies_books if b.factuurnummer == str(NUMBERS[IDENTITY_ADVIES])]
    assert booking.factuurbedrag > Decimal("250000")


def test_the_ceiling_is_set_and_reset_audited_with_what_it_was(services) -> None:
    change_ceiling(services, IDENTITY_STUDIO, Decimal("250000.5"), actor="sanne")
    change_ceiling(services, IDENTITY_STUDIO, Decimal("250000.50"), actor="sanne")  # the same: nothing to record
    change_ceiling(services, IDENTITY_STUDIO, None, actor="bram")
    assert setup_repo.get_link(services.store, IDENTITY_STUDIO).max_invoice_total is None
    reset, raised = history.events(services.store, identity_id=IDENTITY_STUDIO, kind="ceiling")
    assert (raised["actor"], reset["actor"]) == ("sanne", "bram")
    assert render(raised, "nl") == ("Hoogste factuurbedrag van Studio Noord B.V. gewijzigd van de standaard "
                                    "(€ 1.000.000,00) in € 250.000,50.")
    assert render(reset, "en") == ("Highest invoice total of Studio Noord B.V. changed from €250,000.50 to the "
                                   "default (€1,000,000.00).")


@pytest.mark.parametrize("amount, key", [
    (Decimal("0"), "link.error.ceiling_not_an_amount"),
    (Decimal("-5"), "link.error.ceiling_not_an_amount"),
    (Decimal("100.005"), "link.error.ceiling_not_an_amount"),
    (Decimal("NaN"), "link.error.ceiling_not_an_amount"),
    (AMOUNT_MAX + Decimal("0.01"), "link.error.ceiling_too_high"),
])
def test_a_ceiling_that_cannot_be_is_refused_in_words_and_nothing_changes(services, amount, key) -> None:
    with pytest.raises(LinkError) as caught:
        change_ceiling(services, IDENTITY_STUDIO, amount, actor="sanne")
    assert caught.value.message.key == key
    assert all(say(caught.value.message, lang) for lang in ("nl", "en"))
    assert setup_repo.get_link(services.store, IDENTITY_STUDIO).max_invoice_total is None
    assert not history.events(services.store, identity_id=IDENTITY_STUDIO, kind="ceiling")


def test_only_who_may_link_sets_a_ceiling_and_only_on_a_linked_identity(services) -> None:
    change_ceiling(services, IDENTITY_STUDIO, AMOUNT_MAX, actor=Actor("sanne", "support"))  # SnelStart's own: allowed
    with pytest.raises(NotAllowed):
        change_ceiling(services, IDENTITY_STUDIO, Decimal("1"), actor=Actor("femke", "finance"))
    assert setup_repo.get_link(services.store, IDENTITY_STUDIO).max_invoice_total == AMOUNT_MAX
    setup_repo.delete_link(services.store, IDENTITY_ACADEMY)
    with pytest.raises(LinkError) as caught:
        change_ceiling(services, IDENTITY_ACADEMY, Decimal("1"), actor="sanne")
    assert caught.value.message.key == "link.error.not_linked"
