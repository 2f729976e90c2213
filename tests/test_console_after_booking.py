"""Openstaande posten shows a booked invoice that was deleted in Gripp as its own difference, with its reason and the
way out, in Dutch and English, and confirming "deleted on purpose" from the page clears it and records who."""

from __future__ import annotations

from sync.jobs.runner import run_identity
from sync.store import history
from sync.wiring import Services
from tests import console_helpers as helpers


def deleted_after_booking(console: Services) -> tuple[int, str]:
    """Identity 1 synced; one invoice the link booked itself, still open in SnelStart, then deleted in Gripp and
    found so by the next complete read (the sweep)."""
    run_identity(console, 1, trigger="cli")
    found = console.store.one(
        """SELECT b.invoice_id, b.number FROM bookings b JOIN ss_open_items o ON o.factuurnummer = b.number
           WHERE b.identity_id = 1 AND b.state = 'done' AND NOT b.adopted AND o.openstaand_saldo > 0
           ORDER BY b.number LIMIT 1""")
    assert found is not None
    del console.sandbox.world.gripp.invoices[found["invoice_id"]]
    console.store.execute("DELETE FROM sync_state WHERE scope = 'gripp' AND key = 'swept_at'")  # the sweep is due
    console.gripp_freshness.forget()
    run_identity(console, 1, trigger="cli")
    return found["invoice_id"], found["number"]


def test_open_items_show_an_invoice_deleted_in_gripp_with_its_reason_and_confirming_it_clears_it(
        console: Services) -> None:
    invoice_id, number = deleted_after_booking(console)
    at = helpers.page("openstaande_posten", query={"identity": "1", "search": number})
    helpers.no_exception(at)
    [row] = helpers.grid(at).to_dict("records")
    assert row["Verschil"] == "Verdwenen uit Gripp"
    assert "Gripp heeft haar niet meer" in row["Reden"] and "Crediteer hem in SnelStart" in row["Reden"]
    assert "1 geboekte factuur verdwenen uit Gripp" in helpers.texts(at)
    assert "Verdwenen uit Gripp" in {o.split(" (")[0] for o in helpers.choice(at, "multiselect", "oi-classes-1")
                                     .options}

    english = helpers.page("openstaande_posten", lang="en", query={"identity": "1", "search": number})
    helpers.no_exception(english)
    [row_en] = helpers.grid(english).to_dict("records")
    assert "Gone from Gripp" in row_en.values()
    assert any("Gripp no longer has it (deleted)" in str(v) for v in row_en.values())

    confirm = at.button(key=f"oi-gone-confirm-1-{invoice_id}")
    assert confirm.disabled  # a "Ja, …" box first
    sure = at.checkbox(key=f"oi-gone-sure-1-{invoice_id}")
    assert sure.label == f"Ja, factuur {number} is bewust verwijderd in Gripp"
    sure.check().run()
    at.button(key=f"oi-gone-confirm-1-{invoice_id}").click().run()
    helpers.no_exception(at)
    assert any(f"Factuur {number} is bevestigd als bewust verwijderd" in s.value for s in at.success)
    [row] = helpers.grid(at).to_dict("records")
    assert row["Verschil"] == "In orde"
    assert "verdwenen uit Gripp" not in helpers.texts(at)
    [event] = history.events(console.store, identity_id=1, kind="gone_confirmed")
    assert event["invoice_number"] == number and event["actor"]
