"""The comparison fits the screen it is for (issue 24, item 3): in Chromium at 1280×800 with the sidebar open, in
Dutch and in English, Gripp's and SnelStart's open items stand side by side — every column of the grid in view
without scrolling sideways, every title whole, dates and amounts whole — and what the grid cuts (a long customer,
difference or reason; a run's summary, an event's message) is read whole below it after a click. On Klanten a name
too long for its column ends in "…".

Streamlit's grid (glide-data-grid) draws on a canvas. What it shows is read from what it gives the browser besides:
its scrolling layer (`.dvn-scroller`: as wide as all columns together) and its accessibility table, which holds the
columns and rows in view. Text widths are measured with the grid's own font.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from console import tables
from sync.core.words import say
from sync.sandbox.seed import IDENTITY_STUDIO, manifest
from sync.sandbox.seed_small import small_world
from tests import console_helpers as helpers
from tests.browser import chromium, needs_chromium, wait_idle

pytestmark = [*needs_chromium, pytest.mark.loopback]

LAPTOP = {"width": 1280, "height": 800}
ROW = 35  # pixels: a row of Streamlit's grid, and its header
SHOTS = helpers.ROOT / "test-artifacts"

GRID = """(grid) => {
    // What the grid shows: how wide its columns are together against the room it has, the titles and the rows of
    // its accessibility table (the columns and rows in view), and the widths of texts in its font.
    const scroller = grid.querySelector('.dvn-scroller');
    const look = getComputedStyle(grid.querySelector('.stDataFrameGlideDataEditor'));
    const context = document.createElement('canvas').getContext('2d');
    context.font = look.getPropertyValue('--gdg-header-font-style') + ' ' + look.getPropertyValue('--gdg-font-family');
    const width = (text) => context.measureText(text).width;
    const table = grid.querySelector('table[role=grid]');
    const titles = [...table.querySelectorAll('thead th')].map(th => th.textContent);
    const rows = [...table.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(td => td.textContent));
    return {
        scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth,
        padding: parseFloat(look.getPropertyValue('--gdg-cell-horizontal-padding')),
        titles, rows, titleWidths: titles.map(width), cellWidths: rows.map(row => row.map(width)),
    };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[helpers.Server]:
    """The small demo, synced once (as `python -m sync run` does), served as `make run` serves it."""
    folder = tmp_path_factory.mktemp("fit")
    small_world().save(folder / "sandbox-state.json")
    subprocess.run([sys.executable, "-m", "sync", "run"], cwd=folder, check=True, capture_output=True, timeout=180,
                   env=helpers.clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb"), CONSOLE_PUBLIC_URL="http://x.test"))
    with helpers.healthy_server(folder) as started:
        yield started


@pytest.fixture(scope="module")
def laptop() -> Iterator:
    SHOTS.mkdir(exist_ok=True)
    with chromium() as browser:
        tab = browser.new_page(viewport=LAPTOP, locale="nl-NL")
        tab.set_default_timeout(30_000)
        yield tab


def open_page(page, server: helpers.Server, path: str, lang: str) -> None:
    page.goto(f"{server.base}/{path}{'&' if '?' in path else '?'}lang={lang}")
    wait_idle(page)
    page.wait_for_timeout(500)  # the grids take their width after the first frame


def click_cell(page, key: str, x: float, y: float) -> str:
    """Click the grid `key` at (x, y) from its top left corner; the text of the box below it that shows the row."""
    canvas = page.locator(f".st-key-{key} canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()  # the canvas lies under the grid's scrolling layer: click the page there
    assert box is not None
    page.mouse.move(box["x"] + x, box["y"] + y)  # the grid takes the cell under the pointer as it moves there:
    page.wait_for_timeout(300)  # a click straight after the page changed beneath it is sometimes not a cell's
    page.mouse.click(box["x"] + x, box["y"] + y)
    detail = page.locator(f".st-key-{key}-detail")
    detail.wait_for()
    wait_idle(page)
    return detail.inner_text()


def grid_in_view(page, key: str | None) -> dict:
    """The grid `key` (None: the page's first) scrolled into view, as `GRID` reads it."""
    grid = page.locator(f".st-key-{key} [data-testid='stDataFrame']" if key else "[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    grid.locator("table[role=grid] tbody tr").first.wait_for(state="attached")  # drawn
    return grid.evaluate(GRID)


def assert_in_view(shown: dict, lang: str) -> None:
    """Every column in view: the columns together no wider than the grid (nothing to scroll sideways to)."""
    assert shown["scrollWidth"] <= shown["clientWidth"], (lang, shown["scrollWidth"], shown["clientWidth"])


def assert_whole(shown: dict, keys: list[str], widths: dict[str, int], lang: str, whole: tuple[str, ...] = ()) -> None:
    """The grid's titles are the catalog's `keys`, each whole in its column's width; the cells of the `whole`
    columns too."""
    assert shown["titles"] == [say(key, lang) for key in keys], lang
    room = {say(key, lang): width - 2 * shown["padding"] for key, width in widths.items()}
    cut = [title for title, width in zip(shown["titles"], shown["titleWidths"], strict=True) if width > room[title]]
    assert cut == [], (lang, "titles cut")
    whole_titles = {say(key, lang) for key in whole}
    for cells, cell_widths in zip(shown["rows"], shown["cellWidths"], strict=True):
        for title, text, width in zip(shown["titles"], cells, cell_widths, strict=True):
            assert title not in whole_titles or width <= room[title], (lang, title, text)


COMPARISON_TITLES = ["col_invoice", "col_customer", "col_class", "col_due", "col_total_open", "col_due",
                     "col_total_open", "col_days_overdue", "col_reason"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_gripp_and_snelstart_side_by_side_at_1280(server, laptop, lang: str) -> None:
    page = laptop
    open_page(page, server, f"Openstaande_posten?identity={IDENTITY_STUDIO}", lang)
    assert page.locator("[data-testid='stSidebar']").bounding_box()["width"] >= 200  # type: ignore[index]
    shown = grid_in_view(page, None)  # all items, the first tab's
    page.screenshot(path=str(SHOTS / f"fit-open-items-{lang}.png"))
    assert len(shown["rows"]) >= 5  # the demo's open items, in view
    assert_in_view(shown, lang)
    assert_whole(shown, COMPARISON_TITLES, tables.COMPARISON_WIDTHS, lang,
                 whole=("col_invoice", "col_due", "col_total_open", "col_days_overdue"))
    # Both sides' figures, to the cent, in one row as the reader sees them.
    assert any(" / " in cell for row in shown["rows"] for cell in row[4:7:2])


def test_a_click_shows_the_row_the_grid_cuts_whole(server, laptop) -> None:
    """A blocked invoice's reason does not fit its column: a click on it shows it whole below the grid."""
    world = small_world()
    facts = manifest(world)
    numbers = {str(inv.number) for inv in world.gripp.invoices.values() if inv.identity_id == IDENTITY_STUDIO}
    blocked = sorted(number for number in facts.blocked_expected if number in numbers)[0]
    page = laptop
    open_page(page, server, f"Openstaande_posten?identity={IDENTITY_STUDIO}&search={blocked}", "nl")
    shown = grid_in_view(page, "oi-table")
    assert [row[0] for row in shown["rows"]] == [blocked]
    reason, reason_width = shown["rows"][0][-1], shown["cellWidths"][0][-1]
    assert reason_width > tables.COMPARISON_WIDTHS["col_reason"] - 2 * shown["padding"], "cut in the grid"
    canvas = page.locator(".st-key-oi-table canvas").first.bounding_box()
    assert canvas is not None
    text = click_cell(page, "oi-table", canvas["width"] - 20, canvas["height"] - ROW / 2)  # the one row's reason
    assert blocked in text and reason in text, text
    page.screenshot(path=str(SHOTS / "fit-open-items-detail.png"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_run_history_and_the_log_fit_and_read_whole_after_a_click(server, laptop, lang: str) -> None:
    page = laptop
    open_page(page, server, "Synchronisatie", lang)
    history, log = grid_in_view(page, "run-history"), grid_in_view(page, "event-log")
    page.screenshot(path=str(SHOTS / f"fit-sync-{lang}.png"))
    assert_in_view(history, lang)
    assert_in_view(log, lang)
    assert_whole(history, list(tables.HISTORY_WIDTHS), tables.HISTORY_WIDTHS, lang, whole=("col_started",))
    assert_whole(log, list(tables.LOG_WIDTHS), tables.LOG_WIDTHS, lang, whole=("col_time", "col_invoice"))

    # The first row's long text, clicked (its column starts after the configured widths of those before it).
    for key, shown, widths, column in (("run-history", history, tables.HISTORY_WIDTHS, "col_summary"),
                                        ("event-log", log, tables.LOG_WIDTHS, "col_message")):
        keys = list(widths)
        left = sum(widths[k] for k in keys[:keys.index(column)])
        text = shown["rows"][0][keys.index(column)]
        assert text and text in click_cell(page, key, left + 20, ROW * 1.5), (key, lang)


def test_a_name_too_long_for_its_column_ends_in_an_ellipsis(server, laptop) -> None:
    """Klanten on a narrower window: Kleimeer Landschapsarchitectuur no longer fits and ends in "…" (whole in the
    link's tooltip), instead of stopping mid-letter."""
    page = laptop
    try:
        page.set_viewport_size({"width": 1024, "height": 800})
        open_page(page, server, "Klanten", "nl")
        name = page.locator(".st-key-account-kleimeer [data-testid='stPageLink'] a [data-testid='stMarkdownContainer']"
                            " p")
        drawn = name.first.evaluate("""(p) => {
            const look = getComputedStyle(p);
            return {text: p.textContent, cut: p.scrollWidth > p.clientWidth, overflow: look.overflowX,
                    ending: look.textOverflow};
        }""")
        assert drawn["text"] == "Kleimeer Landschapsarchitectuur" and drawn["cut"], drawn
        assert drawn["overflow"] == "hidden" and drawn["ending"] == "ellipsis", drawn
        page.screenshot(path=str(SHOTS / "fit-klanten-1024.png"))
    finally:
        page.set_viewport_size(LAPTOP)
