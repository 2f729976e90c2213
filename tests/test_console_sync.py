"""Synchronisatie: one click syncs and the page shows the result; a second sync for a busy identity is refused
politely; run history and the event log come from the store; refused invoices can be retried."""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

from console import runtime, tables, views
from sync.core import fmt
from sync.core.events import render
from sync.jobs.locks import exclusive
from sync.jobs.requeue import retry_failed
from sync.jobs.runner import run_identity
from sync.store import history, outbox
from sync.wiring import Services
from tests import console_helpers as helpers


def metric(at, label: str) -> int:
    return int(next(helpers.plain(m.value) for m in at.metric if m.label == label))


def test_sync_now_runs_a_sync_and_the_page_shows_its_result(console: Services) -> None:
    at = helpers.page("synchronisatie")
    assert history.recent_runs(console.store) == []

    at.button(key="sync-1").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)

    runs = history.recent_runs(console.store, 1)
    assert len(runs) == 1 and runs[0]["trigger"] == "manual" and runs[0]["actor"] == "sandbox"
    assert runs[0]["outcome"] in ("ok", "warnings")
    counts = views.counts_of(runs[0])
    assert counts["booked"] > 0  # the first run on the sandbox books the invoices since the old link stopped
    assert metric(at, "Nieuw geboekt") == counts["booked"]
    assert metric(at, "Geblokkeerd") == counts["blocked"]
    assert metric(at, "Betalingen terug in Gripp") == counts["payments_registered"]
    assert any("Studio Noord" in helpers.plain(s.value) for s in [*at.success, *at.warning])
    # The tile now shows the run, and the history lists it.
    tiles = [helpers.plain(m.value) for m in at.markdown]
    assert "nog nooit" not in next(m for m in tiles if "Laatste synchronisatie" in m and "Studio Noord" not in m)
    assert len(at.dataframe[0].value) == 1


def test_sync_everything_runs_every_linked_identity(console: Services) -> None:
    at = helpers.page("synchronisatie")
    at.button(key="sync-all").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)
    ran = sorted(r["identity_id"] for r in history.recent_runs(console.store))
    assert ran == [1, 2]
    assert {m.label for m in at.metric} >= {"Nieuw geboekt", "Geblokkeerd"}


def test_a_second_click_is_refused_and_the_running_syncs_progress_stays_in_view(console: Services) -> None:
    """Finding 6: the refusal was right, but the live progress disappeared until a reload."""
    at = helpers.page("synchronisatie")
    with exclusive(console.lock_key(1)):  # the scheduler (or another tab) is syncing identity 1
        run_id = history.start_run(console.store, 1, "schedule", actor="scheduler")
        history.progress(console.store, run_id, "push", 0.4)
        at.button(key="sync-1").click().run()
        helpers.no_exception(at)
        busy = "Er loopt al een synchronisatie voor Studio Noord B.V.;"
        assert any(busy in helpers.plain(w.value) for w in at.warning)
        assert ".." not in helpers.texts(at)  # finding 11: "Studio Noord B.V.."
        assert [p.value for p in at.progress] == [40]  # read from the store, redrawn until it ends
        assert "Studio Noord" in at.progress[0].text
        elsewhere = helpers.page("overzicht")  # any page, any session
        assert [p.value for p in elsewhere.progress] == [40]
        history.finish_run(console.store, run_id, "ok", {})
    assert [r["run_id"] for r in history.recent_runs(console.store, 1)] == [run_id]  # no second run


def test_a_run_going_elsewhere_is_shown_with_its_progress(console: Services) -> None:
    with exclusive(console.lock_key(2)):
        run_id = history.start_run(console.store, 2, "schedule", actor="scheduler")
        history.progress(console.store, run_id, "push", 0.5)
        at = helpers.page("synchronisatie")
        helpers.no_exception(at)
        assert [p.value for p in at.progress] == [50]
        assert "Noord Advies" in at.progress[0].text and "Automatisch" in at.progress[0].text
        history.finish_run(console.store, run_id, "ok", {})


def test_the_event_log_filters_and_exports_what_it_shows(console: Services) -> None:
    run_identity(console, 2, trigger="manual", actor="tester")
    all_events = history.events(console.store, identity_id=2)
    blocked = [e for e in all_events if e["kind"] == "blocked"]
    assert blocked, "the seed's misconfigurations block some of identity 2's invoices"

    at = helpers.page("synchronisatie")
    helpers.choice(at, "selectbox", "log-identity").set_value(2)
    helpers.choice(at, "selectbox", "log-kind").set_value("blocked").run()
    helpers.no_exception(at)
    log = at.dataframe[1].value
    assert len(log) == len(blocked)
    assert set(log["Factuur"]) == {e["invoice_number"] for e in blocked}
    for link in log["Openen"]:  # the invoice's row, on this account (a new tab keeps it), in this language
        address = urlsplit(str(link))
        assert address.netloc == "console.test" and address.path == "/Openstaande_posten"
        assert parse_qs(address.query).keys() == {"account", "identity", "search", "lang"}
        assert parse_qs(address.query)["identity"] == ["2"]

    at.text_input(key="log-search").input(blocked[0]["invoice_number"]).run()
    assert list(at.dataframe[1].value["Factuur"]) == [blocked[0]["invoice_number"]]

    frame = views.events(console.store, identity_id=2, kind="blocked")
    text = tables.log_csv(frame, "nl")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert [r["Factuur"] for r in rows] == [e["invoice_number"] for e in blocked]
    assert rows[0]["Melding"] == render(blocked[0], "nl") and rows[0]["Soort"] == "Geblokkeerd"
    # Local time to the second, as the screen shows it (not UTC with microseconds).
    assert rows[0]["Tijd"] == fmt.csv_moment(frame["occurred_at"].iloc[0])
    assert "+00" not in rows[0]["Tijd"] and "." not in rows[0]["Tijd"]


def test_errors_link_to_their_invoice_in_the_open_items(console: Services) -> None:
    history.log_event(console.store, "refused", data={"reason": {"nl": "geweigerd", "en": "refused"}},
                      identity_id=1, invoice_id=1, invoice_number="X-1")
    at = helpers.page("synchronisatie")
    links = [p for p in at.main.get("page_link") if "X-1" in helpers.plain(p.value)]
    assert links, "an error on an invoice links to that invoice"
    assert links[0].proto.page == "Openstaande_posten"
    assert links[0].proto.query_string == "lang=nl&account=studio-noord&identity=1&search=X-1"


def test_retry_failed_offers_refused_invoices_again(console: Services) -> None:
    store = console.store
    run_identity(console, 1, trigger="manual", actor="tester")
    booked = store.rows("SELECT invoice_id, number FROM bookings WHERE identity_id = 1 AND state = 'done' LIMIT 2")
    for row in booked:  # pretend SnelStart refused these two
        outbox.put(store, 1, row["invoice_id"], row["number"], "failed", last_error="BOE-0069")
    assert views.booking_counts(store, 1)["failed"] == 2

    at = helpers.page("synchronisatie")
    assert any("2 facturen zijn door SnelStart geweigerd" in helpers.plain(w.value) for w in at.warning)
    at.button(key="retry-1").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)
    assert views.booking_counts(store, 1)["failed"] == 0
    retry = history.events(store, identity_id=1, kind="retry_failed")
    assert retry and retry[-1]["actor"] == "sandbox"
    assert len(history.recent_runs(store, 1)) == 2  # and a sync ran right away


def test_retry_failed_moves_only_failed_rows(console: Services) -> None:
    assert retry_failed(console.store, 1, "tester") == 0


def test_pause_and_resume_from_the_page(console: Services) -> None:
    at = helpers.page("synchronisatie")
    at.button(key="pause-1").click().run()
    helpers.no_exception(at)
    scheduler = runtime.scheduler()
    assert scheduler.next_run(1) is None
    assert any("gepauzeerd" in helpers.plain(m.value) for m in at.markdown)
    at.button(key="resume-1").click().run()
    assert scheduler.next_run(1) is not None

    at.text_input(key="interval-2").input("45").run()
    at.button(key="save-interval-2").click().run()
    helpers.no_exception(at)
    assert views.identities(console.store)[1]["interval_minutes"] == 45


def test_the_event_log_speaks_one_language(console: Services) -> None:
    """Findings 4 and 5: the summary, the "Soort" filter and amounts were English or codes in Dutch mode."""
    run_identity(console, 2, trigger="manual", actor="tester")
    at = helpers.page("synchronisatie")
    kinds = helpers.choice(at, "selectbox", "log-kind")
    shown = [kinds.format_func(o) if hasattr(kinds, "format_func") else o for o in kinds.options]
    assert "Geblokkeerd" in shown and "blocked" not in shown and "manual_sync" not in shown
    summary = at.dataframe[0].value.iloc[0]
    assert "geboekt" in summary["Samenvatting"] and "booked" not in summary["Samenvatting"]
    assert summary["Uitkomst"].startswith("deels gelukt")
    log = at.dataframe[1].value
    payments = [m for m in log["Melding"] if m.startswith("Betaling van")]
    dutch_amount = re.compile(r"Betaling van € -?\d{1,3}(\.\d{3})*,\d{2} op factuur \S+ in Gripp gezet "
                              r"\(\d{2}-\d{2}-\d{4}\)\.")
    assert payments and all(dutch_amount.fullmatch(m) for m in payments), payments[:3]

    english = helpers.page("synchronisatie", lang="en")
    summary = english.dataframe[0].value.iloc[0]
    assert "booked" in summary["Summary"] and "geboekt" not in summary["Summary"]
    assert all(not m.startswith("Betaling") for m in english.dataframe[1].value["Message"])


def test_a_clicked_run_or_event_is_shown_whole_below_its_grid(console: Services) -> None:
    """Issue 24, item 3: at 1280 px the grid cuts a run's summary and an event's message; every column has a width
    and together they fit the 974 px the grid has there; a click on a row shows its text whole below the grid."""
    run_identity(console, 2, trigger="manual", actor="tester")
    at = helpers.page("synchronisatie")
    for grid in at.dataframe[:2]:
        config = json.loads(grid.proto.columns)
        widths = [config[title]["width"] for title in grid.value.columns]
        assert sum(widths) <= 974, widths
    summary = at.dataframe[0].value["Samenvatting"].iloc[0]
    message = max(at.dataframe[1].value["Melding"], key=len)
    row = list(at.dataframe[1].value["Melding"]).index(message)
    assert summary not in helpers.texts(at) and message not in helpers.texts(at)

    at.session_state["run-history"] = {"selection": {"rows": [], "columns": [], "cells": [(0, "Samenvatting")]}}
    at.session_state["event-log"] = {"selection": {"rows": [], "columns": [], "cells": [(row, "Melding")]}}
    at.run()
    helpers.no_exception(at)
    shown = helpers.texts(at)
    assert summary in shown and "Noord Advies B.V. · Handmatig · tester" in shown
    assert message in shown


def test_open_items_before_the_first_sync_offer_the_sync(console: Services) -> None:
    """Finding 9: before the first sync the open items were empty tables with no way to sync."""
    at = helpers.page("openstaande_posten", query={"identity": "2"})
    helpers.no_exception(at)
    assert any("Noord Advies B.V. is nog niet gesynchroniseerd" in helpers.plain(i.value) for i in at.info)
    at.button(key="oi-sync-2").click().run()
    at = helpers.settle(at)
    helpers.no_exception(at)
    runs = history.recent_runs(console.store, 2)
    assert len(runs) == 1 and runs[0]["trigger"] == "manual"
    assert any("Stand van SnelStart zoals het laatst is gelezen" in helpers.plain(c.value) for c in at.caption)
    assert len(at.dataframe[0].value) > 0
