"""Debian's Chromium driven by Playwright, for the tests that need a real browser; and what they share."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's Chromium is not installed (/usr/bin/chromium): `apt-get install chromium`, "
                              "as .ci/run does, to run the browser tests"),
]


@contextmanager
def chromium() -> Iterator:  # -> playwright Browser
    """Debian's Chromium, headless, launched as the guide says."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium_page(locale: str = "nl-NL", **context: object) -> Iterator:  # -> playwright Page
    with chromium() as browser:
        tab = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=locale, accept_downloads=True,
                               **context)
        tab.set_default_timeout(30_000)
        yield tab


def wait_idle(page, timeout: float = 30_000) -> None:
    """Until the app's script run is over (Streamlit marks its root element with the state)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def after_click(page, locator) -> None:
    """Click, then wait for the rerun it causes to finish."""
    locator.click()
    try:  # a fast run may be over before its start is seen
        page.wait_for_selector("[data-testid='stApp']:not([data-test-script-state='notRunning'])", timeout=500)
    except Exception:
        pass
    wait_idle(page)


def grid_rows(page, index: int = 0, *, key: str | None = None) -> list[list[str]]:
    """The page's `index`-th grid's rows (or the grid drawn with widget key `key`), from its accessible table (the
    cells themselves are drawn on a canvas)."""
    grid = page.locator(f".st-key-{key} table" if key else "[data-testid='stDataFrame'] table").nth(index)
    grid.wait_for(state="attached")
    return [[c.strip() for c in row.locator("td").all_text_contents()] for row in grid.locator("tbody tr").all()]


def table_counts(page) -> dict[str, int]:
    """The page's first plain table as label → count (the open items' summary: "Nog niet geboekt" → 22)."""
    table = page.locator("[data-testid='stTable'] table").first
    table.wait_for()
    counts: dict[str, int] = {}
    for row in table.locator("tbody tr").all():
        cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
        counts[cells[0]] = int(cells[1].replace(".", "").replace(",", ""))
    return counts


def page_text(page) -> str:
    """What a reader reads (the console keeps bare addresses text with invisible word joiners)."""
    return page.locator("body").inner_text().replace("\u2060", "")


SPLIT_WORDS = """(root) => {
    // Every word (a run of non-space characters) whose letters lie on more than one line: a word broken in two.
    const split = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.data.matchAll(/\\S+/g)) {
            const range = document.createRange();
            range.setStart(node, match.index);
            range.setEnd(node, match.index + match[0].length);
            const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
            if (tops.size > 1) split.push(match[0]);
        }
    }
    return split;
}"""


def split_words(locator) -> list[str]:
    """The words under `locator` that the browser broke across two lines (a column too narrow for them)."""
    return [word.replace("\u2060", "") for element in locator.all() for word in element.evaluate(SPLIT_WORDS)]
