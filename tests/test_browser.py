"""The console in a real browser: started with the README's command, Debian's Chromium driven by Playwright.

The walk a support engineer makes with a customer: link the sandbox's unlinked identity ("Noord Academy") through
the (simulated) SnelStart activation page, accept the suggested VAT and ledger mappings, press "Nu
synchroniseren", and find the newly booked invoices on the open-items page. A screenshot of every page goes to
`test-artifacts/` (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import console_helpers as helpers

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = helpers.ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's Chromium is not installed (/usr/bin/chromium): `apt-get install chromium`, "
                              "as .ci/run does, to run the browser test"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[helpers.Server]:
    started = helpers.Server(tmp_path)
    try:
        started.wait_healthy()
        yield started
    finally:
        started.stop()


@pytest.fixture
def page(server: helpers.Server):  # -> playwright Page
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
            tab.set_default_timeout(30_000)
            yield tab
        finally:
            browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(300)  # let the last delta paint
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_page(page, server: helpers.Server, path: str, title: str) -> None:
    page.goto(server.base + path)
    page.get_by_role("heading", name=title).first.wait_for()
    page.get_by_text("SANDBOX").first.wait_for()


def summary(page) -> dict[str, int]:
    """The class counts on Openstaande posten (a plain table)."""
    table = page.locator("[data-testid='stTable'] table").first
    table.wait_for()
    counts: dict[str, int] = {}
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        counts[cells[0]] = int(cells[1])
    return counts


def grid_rows(page) -> list[list[str]]:
    """The open-items grid's rows, from its accessible table (the cells themselves are drawn on a canvas)."""
    grid = page.locator("[data-testid='stDataFrame'] table").first
    grid.wait_for(state="attached")
    return [[c.strip() for c in row.locator("td").all_text_contents()] for row in grid.locator("tbody tr").all()]


def test_link_sync_and_see_the_new_bookings_in_a_real_browser(server: helpers.Server, page) -> None:
    # Koppelen, as the very first page of a fresh server (a deep link, as SnelStart's successUrl is one).
    open_page(page, server, "/Koppelen?identity=3", "Koppelen met SnelStart")
    page.get_by_text("Nog niet gekoppeld aan een SnelStart-administratie.").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    shot(page, "1-koppelen")
    # Switch the link on, fetch the Maatwerk key.
    page.get_by_text("SnelStart-koppeling aan voor deze identiteit").click()
    page.get_by_role("button", name="Maatwerk key ophalen").click()
    to_snelstart = page.get_by_role("link", name="Naar SnelStart")
    to_snelstart.wait_for()
    shot(page, "2-koppelen")
    activation = to_snelstart.get_attribute("href")
    assert activation and activation.startswith(f"{server.base}/sandbox/snelstart/web/couplings/activate/")

    # In SnelStart: one administration, "Noord Academy", Koppel.
    page.goto(activation)
    page.get_by_text("Een enkele administratie koppelen").click()
    page.get_by_label("Noord Academy", exact=True).check()
    shot(page, "3-snelstart-koppelen")
    page.get_by_role("button", name="Koppel").click()

    # Back in the console: the verified administration, then save.
    page.wait_for_url(re.compile(r"/Koppelen\?identity=3&ref="))
    received = page.get_by_text("SnelStart heeft de koppeling afgerond")
    received.wait_for()
    assert "Noord Academy" in received.inner_text()
    shot(page, "4-koppelen-terug")
    page.get_by_role("button", name="Opslaan").click()
    page.get_by_text("Noord Academy is gekoppeld aan administratie ‘Noord Academy’").wait_for()
    shot(page, "5-koppelen-opgeslagen")

    # Controles: Noord Academy has no mappings yet; accept the suggestions in one click.
    open_page(page, server, "/Controles?identity=3", "Controles")
    page.get_by_role("button", name=re.compile(r"Alle \d+ voorstellen overnemen")).click()
    page.get_by_text("Opgeslagen. De controles na het opslaan:").wait_for()
    shot(page, "6-controles")

    # Before the sync: the invoices wait as "Nog niet geboekt".
    open_page(page, server, "/Openstaande_posten?identity=3", "Openstaande posten: Gripp en SnelStart naast elkaar")
    before = summary(page)
    waiting = before.get("Nog niet geboekt", 0)
    assert waiting > 0, before
    rows = grid_rows(page)
    assert rows and all(row[2] == "Nog niet geboekt" for row in rows), rows
    number = rows[0][0]

    # Synchronisatie: one click for Noord Academy; the page follows the run until it is done.
    open_page(page, server, "/Synchronisatie", "Synchronisatie")
    page.locator(".st-key-sync-3 button").click()
    result = page.locator("[data-testid='stAlert']").filter(has_text="Noord Academy —")
    result.wait_for(timeout=90_000)
    booked = re.search(r"(\d+) geboekt", result.inner_text())
    assert booked and int(booked.group(1)) == waiting, result.inner_text()
    shot(page, "7-synchronisatie")

    # Openstaande posten: the new bookings are there, on both sides, in order.
    open_page(page, server, "/Openstaande_posten?identity=3", "Openstaande posten: Gripp en SnelStart naast elkaar")
    after = summary(page)
    assert "Nog niet geboekt" not in after, after
    assert after.get("In orde", 0) >= waiting, after
    shot(page, "8-openstaande-posten")
    search = page.get_by_label("Zoeken")
    search.fill(number)
    search.press("Enter")
    page.get_by_text("1 van 1 posten").wait_for()
    for _ in range(50):  # the grid redraws a moment after the rerun's text
        rows = grid_rows(page)
        if len(rows) == 1:
            break
        page.wait_for_timeout(200)
    assert len(rows) == 1 and rows[0][0] == number and rows[0][2] == "In orde", rows
    assert rows[0][5] == rows[0][8] != "—", rows  # open in Gripp and in SnelStart: the same amount
    shot(page, "9-openstaande-posten-factuur")

    # The overview: Noord Academy linked, its last run and its bookings.
    open_page(page, server, "/", "Overzicht")
    academy = page.locator(".st-key-identity-3")
    academy.get_by_text("Volgende synchronisatie").wait_for()
    assert "nog nooit" not in academy.inner_text()
    shot(page, "10-overzicht")
