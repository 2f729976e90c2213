"""Openstaande posten and Koppelen tell the truth about SnelStart (a new-user trial on Hofstra, whose koppelsleutel
is revoked): a SnelStart that could not be read is said to be unread, never "no invoice there" or "not yet booked";
the page is as fresh as SnelStart's last read, not a failed run; every difference says what it means; the rows come
by invoice number."""

from __future__ import annotations

import csv
import io

from console import tables, views
from sync.jobs.conflicts import adopt_anyway
from sync.jobs.reconcile import number_order
from sync.jobs.runner import run_identity
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.test_console_no_dead_ends import revoked_and_run
from tests.test_console_records import synced


def koppelen_link(at) -> dict[str, str]:
    [way] = [link for link in at.get("page_link") if link.label in ("Naar Koppelen", "Go to Linking")]
    return dict(pair.split("=") for pair in way.proto.query_string.split("&"))


def test_open_items_against_a_snelstart_never_read_say_so_and_call_nothing_not_booked(console: Services) -> None:
    revoked_and_run(console)  # the first run fails on the link: SnelStart's open items were never read
    at = helpers.page("openstaande_posten", query={"identity": "1"})
    helpers.no_exception(at)
    [warning] = [helpers.plain(w.value) for w in at.warning]
    assert "SnelStart kon nog niet worden gelezen" in warning
    assert "De koppelsleutel van deze administratie werkt niet meer" in warning  # the link's health reason
    assert koppelen_link(at) == {"account": console.account, "identity": "1", "lang": "nl"}
    assert "Stand van" not in helpers.texts(at)  # the failed run's time is no "as of"

    table = helpers.grid(at)
    assert len(table)
    assert "Nog niet geboekt" not in set(table["Verschil"])
    assert set(table["Verschil"]) <= {"SnelStart niet gelezen", "Conflict: andere boeking met dit nummer"}
    assert all("SnelStart kon niet worden gelezen" in r for r in table.loc[
        table["Verschil"] == "SnelStart niet gelezen", "Reden"])
    frame = views.open_items(console, 1)
    assert (frame["gripp_open"].fillna(0) != 0).all()  # settled in Gripp, unknown in SnelStart: no open item

    english = helpers.page("openstaande_posten", lang="en", query={"identity": "1"})
    [warning] = [helpers.plain(w.value) for w in english.warning]
    assert "SnelStart could not be read yet" in warning
    assert koppelen_link(english)["lang"] == "en"


def test_after_a_failed_run_the_page_is_as_of_snelstarts_last_read_and_says_since_when(console: Services) -> None:
    run_identity(console, 1, trigger="manual", actor="tester")
    read = views.snelstart_read_at(console.store, 1)
    assert read is not None
    at = helpers.page("openstaande_posten", query={"identity": "1"})
    assert not at.warning or all("SnelStart kon" not in w.value for w in at.warning)
    assert "Stand van SnelStart zoals het laatst is gelezen" in helpers.texts(at)

    console.sandbox.snelstart.expire_tokens()  # the revoked key's token must not outlive it
    revoked_and_run(console)
    assert views.snelstart_read_at(console.store, 1) == read  # the failed run read nothing
    at = helpers.page("openstaande_posten", query={"identity": "1"})
    helpers.no_exception(at)
    [warning] = [helpers.plain(w.value) for w in at.warning]
    assert "SnelStart kon sinds" in warning and "werkt niet meer" in warning
    assert koppelen_link(at)["identity"] == "1"
    assert "Nog niet geboekt" not in warning


def test_koppelen_says_snelstart_could_not_be_read_not_that_no_invoice_is_there(console: Services) -> None:
    revoked_and_run(console)
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert "nog geen factuur van deze identiteit in SnelStart" not in text
    assert "SnelStart kon niet worden gelezen" in text and "als de koppeling werkt" in text


def test_every_difference_row_has_a_reason_also_after_adopting_a_conflict(console: Services) -> None:
    seeded = synced(console)
    adopt_anyway(console.store, 1, seeded["conflict"], actor="support")
    run_identity(console, 1, trigger="manual", actor="tester")
    frame = views.open_items(console, 1)
    adopted = frame[frame["number"] == str(seeded["conflict_number"])]
    assert list(adopted["class"]) == ["amount_differs"]

    at = helpers.page("openstaande_posten", query={"identity": "1", "search": str(seeded["conflict_number"])})
    helpers.no_exception(at)
    [reason] = helpers.grid(at)["Reden"]
    assert "ander bedrag" in reason and "vastgehouden" in reason
    at.session_state["oi-table"] = {"selection": {"rows": [], "columns": [], "cells": [(0, "Factuur")]}}
    at.run()
    assert reason in helpers.texts(at)  # the row detail too

    for lang in ("nl", "en"):
        table = tables.side_by_side(frame, lang)
        reasons = [r for r, kind in zip(table.iloc[:, -1], frame["class"], strict=True) if kind != "in_sync"]
        assert all(reasons), lang
    assert set(views.CLASS_REASONS) == {c for c in views.Difference if c != "in_sync"}


def test_rows_and_csv_come_by_invoice_number(console: Services) -> None:
    assert sorted(["260045", "X-10", "260024", "X-9", "260029", None, "9"], key=number_order) == [
        "9", "260024", "260029", "260045", "X-9", "X-10", None]
    run_identity(console, 1, trigger="manual", actor="tester")
    frame = views.open_items(console, 1)
    expected = sorted(frame["number"], key=number_order)
    at = helpers.page("openstaande_posten", query={"identity": "1"})
    helpers.no_exception(at)
    assert list(helpers.grid(at)["Factuur"]) == expected
    written = tables.open_items_csv(frame, "nl").lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(written), delimiter=tables.SEPARATORS["nl"]))
    assert [row[0] for row in rows[1:]] == expected
