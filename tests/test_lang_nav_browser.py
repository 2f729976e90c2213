"""Language that stays and moving around (issue 24 items 2 and 5), where only a browser shows it: the filters'
words follow a language switch at once, Streamlit's own "No results" is said in the reader's language, and the
sidebar's links carry the account and the language into a new tab."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests import console_helpers as helpers
from tests.browser import chromium, needs_chromium, page_text, wait_idle

pytestmark = needs_chromium

HOFSTRA = "hofstra-installatie"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[helpers.Server]:
    """`make run` on the sandbox after the demo identity's first sync (so there are open items to filter)."""
    folder = tmp_path_factory.mktemp("lang-nav")
    env = helpers.clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb"))
    ran = subprocess.run([sys.executable, "-m", "sync", "run", "--identity", "1"], cwd=helpers.ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    with helpers.healthy_server(folder) as started:
        yield started


@pytest.fixture
def context(server: helpers.Server) -> Iterator:
    """A browser context of its own (its tabs share nothing with another test's)."""
    with chromium() as browser:
        opened = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL")
        yield opened
        opened.close()


def new_tab(context, url: str, heading: str | re.Pattern):
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(url)
    tab.get_by_role("heading", name=heading).first.wait_for()
    tab.locator(".st-key-menu a").first.wait_for()  # the sidebar's pages
    wait_idle(tab)
    return tab


def choose(page, widget, option: str) -> None:
    """Open a select box (or multiselect) and pick an option; wait for the rerun."""
    wanted = page.get_by_role("option", name=option, exact=True)
    for attempt in range(3):  # a click while the page is still being drawn may open nothing: click again
        box = widget.bounding_box()
        widget.click(position={"x": 20, "y": box["height"] - 15})  # on the box, below its label
        try:
            wanted.wait_for(timeout=5_000)
            break
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
    wanted.click()
    page.wait_for_timeout(300)
    wait_idle(page)


def shown_choice(widget) -> str:
    """What a select box shows as chosen (its field's value)."""
    return widget.locator("input").first.input_value()


def to_english(page) -> None:
    choose(page, page.locator(".st-key-lang"), "English")
    page.wait_for_timeout(600)  # let the last delta paint
    wait_idle(page)


def test_the_filters_words_follow_a_language_switch_at_once(server, context) -> None:
    """The open items' class chips and the log's level filter were still Dutch after switching to English
    (the browser keeps a choice by the words it showed), until a reload."""
    page = new_tab(context, f"{server.base}/Openstaande_posten?identity=1", re.compile("Openstaande posten"))
    chips = page.locator("[class*='st-key-oi-classes-1']")
    chips.get_by_text(re.compile(r"^Nog niet geboekt \(\d+\)")).wait_for()
    to_english(page)
    chips.get_by_text(re.compile(r"^Not booked yet \(\d+\)")).wait_for()
    shown = chips.inner_text()
    assert "Nog niet geboekt" not in shown and "In orde (" not in shown and "In order (" in shown, shown

    page = new_tab(context, f"{server.base}/Synchronisatie", "Synchronisatie")
    level = page.locator("[class*='st-key-log-level']")
    choose(page, level, "fout")
    to_english(page)
    assert shown_choice(level) == "error"  # the choice kept, in English


def test_streamlits_no_results_is_said_in_dutch(server, context) -> None:
    """Streamlit's select boxes say "No results" (typed text that matches nothing; a multiselect with everything
    chosen) in English only: on a Dutch page the reader sees our words."""
    page = new_tab(context, f"{server.base}/Synchronisatie", "Synchronisatie")
    kind = page.locator("[class*='st-key-log-kind'] input")
    kind.click()
    kind.type("xyzzy")
    empty = page.locator("[data-testid='stSelectboxVirtualDropdown'] [role='listbox'][data-empty='true'] span")
    empty.wait_for()
    assert said(empty) == ["0px", '"Geen resultaten"']
    page.keyboard.press("Escape")

    page = new_tab(context, f"{server.base}/Openstaande_posten?identity=1", re.compile("Openstaande posten"))
    page.locator("[class*='st-key-oi-classes-1'] input").click()  # every class chosen: nothing left to choose
    empty = page.locator("[data-testid='stMultiSelectDropdown'] [role='listbox'][data-empty='true'] span")
    empty.wait_for()
    assert said(empty) == ["0px", '"Geen resultaten"']


def test_no_grid_offers_streamlits_english_toolbar(server, context) -> None:
    """Over a grid, Streamlit's toolbar says "Search", "Download as CSV", "Fullscreen" in English, and its CSV is
    not the page's own (the reader's headers and separator): the pages offer their own search and download."""
    page = new_tab(context, f"{server.base}/Openstaande_posten?identity=1", re.compile("Openstaande posten"))
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    grid.hover()
    page.wait_for_timeout(500)
    toolbars = page.locator("[data-testid='stElementToolbar']")
    assert toolbars.count() >= 1  # Streamlit draws it…
    assert not any(toolbars.nth(i).is_visible() for i in range(toolbars.count()))  # …and the reader never sees it
    assert page.get_by_role("button", name="Download as CSV").count() == 0 or not page.get_by_role(
        "button", name="Download as CSV").first.is_visible()


def said(element) -> list[str]:
    """(the size of Streamlit's own text, what is shown after it)."""
    return element.evaluate("e => [getComputedStyle(e).fontSize, getComputedStyle(e, '::after').content]")


def test_the_sidebars_links_carry_the_account_and_the_language_into_a_new_tab(server, context) -> None:
    page = new_tab(context, f"{server.base}/Overzicht?account={HOFSTRA}&lang=en", "Overview")
    links = page.locator(".st-key-menu a")
    hrefs = {link.inner_text().split("\n")[-1].strip(): link.get_attribute("href") for link in links.all()}
    assert set(hrefs) >= {"Overview", "Open items", "Linking", "Checks", "Sync", "Accounts"}, hrefs
    for name, href in hrefs.items():
        assert f"account={HOFSTRA}" in href and "lang=en" in href, (name, href)

    # Opened in a new tab (a new session: nothing but the address), the link shows the same account, in English.
    other = new_tab(context, page.locator(".st-key-menu a", has_text="Open items").evaluate("a => a.href"),
                    re.compile("Open items"))
    assert "Account: Hofstra Installatietechniek (hofstra-installatie)" in page_text(other)
    assert "Openstaande posten" not in page_text(other)


def test_the_switcher_keeps_the_page_and_the_language(server, context) -> None:
    page = new_tab(context, f"{server.base}/Synchronisatie?lang=en", "Sync")
    choose(page, page.locator(".st-key-account-switch"), "Hofstra Installatietechniek")
    page.get_by_text("Account: Hofstra Installatietechniek (hofstra-installatie)").wait_for()
    assert re.search(r"/Synchronisatie\?", page.url) and f"account={HOFSTRA}" in page.url and "lang=en" in page.url
    assert page.get_by_role("heading", name="Sync").first.is_visible()
