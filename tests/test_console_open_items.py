"""Openstaande posten: the figures on the page are the store's (reconcile.open_items), filters and search narrow
what is shown, the reminder view splits "already paid in SnelStart" from "truly overdue", CSV is what is shown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal

import pandas as pd
import pytest

from console import tables
from console.i18n import class_label, t
from sync.core import fmt
from sync.jobs.reconcile import open_items
from sync.jobs.runner import run_identity
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.conftest import seed_sandbox


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One synced sandbox (the small demo) for the whole module: these tests only read."""
    folder = tmp_path_factory.mktemp("open-items")
    seed_sandbox(folder)
    with pytest.MonkeyPatch.context() as monkeypatch:
        console = helpers.open_console(folder, monkeypatch)
        services = next(console)
        run_identity(services, 1, trigger="manual", actor="tester")
        yield services
        console.close()


def store_frame(services: Services, identity_id: int = 1):
    link = setup_repo.get_link(services.store, identity_id)
    return open_items(services.store, identity_id, link.administration_id, link.start_date, services.today())


def test_counts_and_totals_per_class_match_the_store(synced: Services) -> None:
    at = helpers.page("openstaande_posten")
    helpers.no_exception(at)
    frame = store_frame(synced)
    expected = {class_label(name, "nl"): int(n) for name, n in frame["class"].value_counts().items()}
    assert len(expected) > 2  # the seed has several kinds of differences

    summary = at.table[0].value
    assert {label: int(n) for label, n in summary["Aantal"].items()} == expected
    for name in frame["class"].unique():
        row = summary.loc[class_label(name, "nl")]
        gripp = sum((Decimal(str(v)) for v in frame.loc[frame["class"] == name, "gripp_open"].dropna()),
                    Decimal(0))
        assert row["Gripp open"] == fmt.money(gripp, "nl")

    table = helpers.grid(at)
    assert len(table) == len(frame)
    assert set(table["Factuur"]) == set(frame["number"])
    assert "naast elkaar" in at.title[0].value


def test_class_filter_narrows_the_list(synced: Services) -> None:
    frame = store_frame(synced)
    at = helpers.page("openstaande_posten")
    helpers.choice(at, "multiselect", "oi-classes-1").set_value(["not_booked"]).run()
    helpers.no_exception(at)
    table = helpers.grid(at)
    assert set(table["Factuur"]) == set(frame.loc[frame["class"] == "not_booked", "number"])
    assert set(table["Verschil"]) == {"Nog niet geboekt"}
    assert all(reason for reason in table["Reden"])  # blocked invoices say why


GRID_ROOM = 974  # pixels: the grid's width at 1280×800 with the sidebar open (tests/test_fit_browser.py sees it)


def test_gripp_and_snelstart_stand_side_by_side_under_their_names_in_the_room_of_a_laptop(synced: Services) -> None:
    """Issue 24, item 3: each side's due date and total / open under its name, every column given a width, all
    of them together within what a 1280 px screen leaves the grid, in both languages."""
    for lang, due, money in (("nl", "Vervaldatum", "Totaal / open (€)"), ("en", "Due date", "Total / open (€)")):
        at = helpers.page("openstaande_posten", lang=lang)
        helpers.no_exception(at)
        columns = list(at.dataframe[0].value.columns)
        assert columns[3:7] == [("Gripp", due), ("Gripp", money), ("SnelStart", due), ("SnelStart", money)]
        config = json.loads(at.dataframe[0].proto.columns)
        widths = [config[title]["width"] for _, title in columns]
        assert sum(widths) <= GRID_ROOM, (lang, widths)


def test_a_clicked_cell_shows_its_row_whole_below_the_grid(synced: Services) -> None:
    """The grid cuts a long reason; a click on any cell of its row shows the row whole: invoice, customer, what
    differs, both sides' figures with their euro signs, and the reason."""
    frame = store_frame(synced)
    row = frame[frame["class"] == "not_booked"].iloc[0]
    at = helpers.page("openstaande_posten", query={"search": row["number"]})
    reason = helpers.grid(at)["Reden"].iloc[0]
    assert len(reason) > 40 and reason not in helpers.texts(at)  # in a 74 px column: cut
    assert "Klik op een cel om de hele regel eronder te lezen." in helpers.texts(at)
    at.session_state["oi-table"] = {"selection": {"rows": [], "columns": [], "cells": [(0, "Reden")]}}
    at.run()
    helpers.no_exception(at)
    shown = helpers.texts(at)
    assert reason in shown
    assert f"**{row['number']}** · {row['customer']} — Nog niet geboekt" in shown
    assert f"Gripp: Vervaldatum {fmt.day(row['gripp_due'], 'nl')} · Totaal {fmt.money(row['gripp_total'], 'nl')}" \
        in shown
    assert "SnelStart: Vervaldatum" not in shown  # not booked: nothing on SnelStart's side to say


def test_search_by_invoice_number_or_customer(synced: Services) -> None:
    frame = store_frame(synced)
    number = frame["number"].iloc[0]
    at = helpers.page("openstaande_posten")
    at.text_input(key="oi-search").input(number).run()
    assert list(helpers.grid(at)["Factuur"]) == [number]

    customer = frame["customer"].dropna().iloc[0]
    at.text_input(key="oi-search").input(customer.upper()).run()
    shown = helpers.grid(at)
    assert set(shown["Factuur"]) == set(frame.loc[frame["customer"] == customer, "number"])


def test_a_link_from_the_log_opens_the_invoice(synced: Services) -> None:
    frame = store_frame(synced, 1)
    number = frame["number"].iloc[-1]
    at = helpers.page("openstaande_posten", query={"identity": "1", "search": number})
    helpers.no_exception(at)
    assert helpers.choice(at, "selectbox", "oi-identity").value == 1
    assert list(helpers.grid(at)["Factuur"]) == [number]


def test_the_reminder_view_separates_paid_elsewhere_from_truly_overdue(synced: Services) -> None:
    frame = store_frame(synced)
    overdue = frame["in_gripp"] & (frame["days_overdue"] > 0)
    paid_elsewhere = set(frame.loc[overdue & (frame["class"] == "payment_not_in_gripp"), "number"])
    open_both = overdue & frame["in_snelstart"] & (frame["gripp_open"] != 0) & (frame["snelstart_open"] != 0) \
        & ~frame["class"].isin(["payment_not_in_gripp", "conflict", "drift_changed", "amount_differs"])
    truly = set(frame.loc[open_both, "number"])
    assert truly, "the seed has overdue invoices open on both sides"

    at = helpers.page("openstaande_posten")
    helpers.no_exception(at)
    headers = [s.value for s in at.subheader]
    assert f"Niet herinneren: al betaald volgens SnelStart ({len(paid_elsewhere)})" in headers
    assert f"Echt te laat ({len(truly)})" in headers
    check_first = set(frame.loc[overdue & frame["class"].isin(["conflict", "drift_changed", "amount_differs"])
                                & (frame["gripp_open"] != 0), "number"])
    lists = [paid_elsewhere, check_first, truly]  # an empty one is a sentence, not a grid
    grids = [set(helpers.grid(at, n)["Factuur"]) for n in range(1, len(at.dataframe))]
    assert grids == [found for found in lists if found]
    assert not paid_elsewhere & truly


def test_csv_export_is_what_is_shown_for_dutch_excel(synced: Services) -> None:
    """Finding 10: a UTF-8 BOM (accents and ‘ ’ survive Excel), headers and words in the reader's language."""
    frame = store_frame(synced)
    shown = frame[frame["class"] == "in_sync"]
    text = tables.open_items_csv(shown, "nl")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))
    assert [r["Factuur"] for r in rows] == list(shown["number"])
    first = shown.iloc[0]
    assert rows[0]["Gripp open"] == fmt.plain_amount(first["gripp_open"], "nl")
    assert "," in rows[0]["Gripp open"]  # Dutch decimal comma
    assert rows[0]["Verschil"] == "In orde" and "in_sync" not in text  # words, not codes
    assert rows[0]["Gripp vervaldatum"] == fmt.day(first["gripp_due"], "nl")
    english = list(csv.DictReader(io.StringIO(tables.open_items_csv(shown, "en")[1:])))
    assert english[0]["Gripp open"] == fmt.plain_amount(first["gripp_open"], "en")
    assert "Invoice" in english[0] and "Factuur" not in english[0]

    at = helpers.page("openstaande_posten")
    assert [b.label for b in at.download_button] == ["Download als CSV", "Download als CSV"]


def test_a_settled_item_only_in_snelstart_is_no_open_item(synced: Services) -> None:
    """Finding 13: the demo's booking made by hand in SnelStart (no Gripp invoice) is paid in full; € 0,00 open is
    no open item, so it is not listed under "Alleen in SnelStart"."""
    from sync.sandbox.seed import manifest

    link = setup_repo.get_link(synced.store, 1)
    settled = {row["factuurnummer"] for row in synced.store.rows(
        "SELECT factuurnummer FROM ss_open_items WHERE administration_id = ? AND openstaand_saldo = 0",
        [link.administration_id])} & manifest(synced.sandbox.world).only_in_snelstart
    assert settled  # the premise: M-2025-001, paid in SnelStart
    frame = store_frame(synced)
    assert not settled & set(frame["number"])
    only = frame[frame["class"] == "only_in_snelstart"]
    assert (only["snelstart_open"].fillna(0) != 0).all()


def test_the_csv_leaves_a_missing_side_blank(synced: Services) -> None:
    """Finding 13: an item only SnelStart has gets blank Gripp cells in the CSV, as other empty cells are (no `—`)."""
    frame = store_frame(synced)
    row = frame[frame["class"] == "in_sync"].head(1).copy()
    for column in ("gripp_date", "gripp_due", "gripp_total", "gripp_open", "customer"):  # as the query leaves them
        row.loc[:, column] = pd.NaT if column.endswith(("date", "due")) else float("nan")
    assert row["gripp_date"].isna().all() and str(row["gripp_date"].dtype).startswith("datetime64")
    row["class"] = "only_in_snelstart"
    for lang, sep in (("nl", ";"), ("en", ",")):
        [cells] = list(csv.reader(io.StringIO(tables.open_items_csv(row, lang)[1:]), delimiter=sep))[1:]
        assert fmt.EMPTY not in cells, cells
        assert cells[2:4] == ["", ""] and cells[4:6] == ["", ""]  # Gripp's date, due date, total, open


def test_searching_twice_keeps_the_class_filter(synced: Services) -> None:
    """Finding 1: search, clear, search again — the "Toon" filter keeps every class and the counts stay true."""
    frame = store_frame(synced)
    customers = frame["customer"].dropna().unique()
    first, second = customers[0], customers[1]
    at = helpers.page("openstaande_posten")
    chosen = list(helpers.choice(at, "multiselect", "oi-classes-1").value)
    at.text_input(key="oi-search").input(first).run()
    at.text_input(key="oi-search").input("").run()
    helpers.no_exception(at)
    assert list(helpers.choice(at, "multiselect", "oi-classes-1").value) == chosen
    assert len(helpers.grid(at)) == len(frame)
    assert f"{len(frame)} van {len(frame)} posten" in helpers.texts(at)
    at.text_input(key="oi-search").input(first).run()
    at.text_input(key="oi-search").input(second).run()
    expected = set(frame.loc[frame["customer"].fillna("").str.lower().str.contains(second.lower(), regex=False),
                             "number"])
    assert set(helpers.grid(at)["Factuur"]) == expected and expected


def test_the_ageing_axis_counts_in_the_readers_locale(synced: Services) -> None:
    """Finding 5: the axis said "2,000 4,000" in Dutch and "0.000000" when empty."""
    from console import charts

    spec = charts.ageing(["a", "b"], [Decimal("2000"), Decimal("0")], "nl").to_dict()
    assert spec["config"]["locale"]["number"]["thousands"] == "." and spec["config"]["locale"]["number"][
        "decimal"] == ","
    assert spec["encoding"]["x"]["axis"]["format"] == "$,.0f"
    english = charts.ageing(["a"], [Decimal("0")], "en").to_dict()
    assert english["config"]["locale"]["number"]["thousands"] == ","


def test_the_page_reads_the_cache_and_never_the_apis(synced: Services) -> None:
    before = dict(synced.sandbox.request_counts)
    at = helpers.page("openstaande_posten")
    at.text_input(key="oi-search").input("2026").run()
    helpers.no_exception(at)
    assert synced.sandbox.request_counts == before


def test_money_and_dates_follow_the_language(synced: Services) -> None:
    frame = store_frame(synced)
    row = frame[frame["gripp_total"].notna()].iloc[0]
    at = helpers.page("openstaande_posten", query={"search": row["number"]})
    dutch = helpers.grid(at).iloc[0]
    assert dutch["Gripp Totaal / open (€)"] == (f"{fmt.grouped_amount(row['gripp_total'], 'nl')} / "
                                                f"{fmt.grouped_amount(row['gripp_open'], 'nl')}")
    assert dutch["Gripp Vervaldatum"] == fmt.day(row["gripp_due"], "nl")

    at.selectbox(key="lang").set_value("en").run()
    english = helpers.grid(at).iloc[0]
    assert english["Gripp Total / open (€)"] == (f"{fmt.grouped_amount(row['gripp_total'], 'en')} / "
                                                 f"{fmt.grouped_amount(row['gripp_open'], 'en')}")
    assert english["Gripp Due date"] == fmt.day(row["gripp_due"], "en")


def test_nothing_open_is_overdue_by_no_days(synced: Services) -> None:
    """Trial finding: a settled credit note ("In orde") showed 1322 "Dagen te laat" in the CSV."""
    frame = store_frame(synced)
    settled = frame[(frame["gripp_open"].fillna(0) <= 0) & (frame["snelstart_open"].fillna(0) <= 0)]
    assert len(settled) > 0 and settled["days_overdue"].isna().all()
    still_open = frame[frame["gripp_open"].fillna(0) > 0]
    assert still_open["days_overdue"].notna().all()



@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_table_is_drawn_empty(synced: Services, lang: str) -> None:
    """Issue 24 item 2: an empty table or grid says Streamlit's own "empty", in English; a list with nothing in it
    says so in the reader's words instead (a search that finds nothing, the reminder lists)."""
    at = helpers.page("openstaande_posten", lang=lang)
    at.text_input(key="oi-search").input("no such invoice anywhere").run()
    helpers.no_exception(at)
    assert [len(grid.value) for grid in at.dataframe] == [len(grid.value) for grid in at.dataframe if len(grid.value)]
    assert all(len(table.value) for table in at.table)
    shown = helpers.texts(at)
    assert helpers.plain(t("no_rows", lang)) in shown
    assert shown.count(t("reminder_list_empty", lang)) == 3  # do not remind, check first, truly overdue
