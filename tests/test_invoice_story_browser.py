"""One invoice's whole story in a real browser (issue 23, item 4): on Openstaande posten the reader types the number
of the invoice that was blocked, then fixed and booked, then partly paid, then paid, and reads its story — the same
facts the command line tells."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sync.jobs.story import stories
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.browser import chromium_page, needs_chromium, page_text, wait_idle
from tests.test_invoice_story import NUMBER, lived_console

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[helpers.Server, list[str]]]:
    """`make run` on a sandbox whose invoice NUMBER lived the story (lived in-process first, then let go), with the
    story's moments as the command line says them in Dutch."""
    from sync.core.words import say

    folder = tmp_path_factory.mktemp("story-browser")
    with pytest.MonkeyPatch.context() as monkeypatch:
        console = lived_console(folder, monkeypatch)
        services: Services = next(console)
        [story] = stories(services, NUMBER)
        moments = [say(entry.message, "nl") for entry in story.entries]
        console.close()  # the database and the sandbox's state, saved, for the server
    with helpers.healthy_server(folder) as server:
        yield server, moments


def test_the_story_of_a_searched_number_reads_in_the_browser(lived) -> None:
    server, moments = lived
    with chromium_page() as page:
        page.goto(f"{server.base}/Openstaande_posten?identity=1")
        field = page.locator(".st-key-oi-story input")
        field.wait_for()
        wait_idle(page)
        field.fill(NUMBER)
        field.press("Enter")
        page.locator(".st-key-oi-story-1").wait_for()
        wait_idle(page)
        text = page_text(page)
    assert "Factuur 260029 — Studio Noord B.V. (1)" in text
    assert "€ 400,00 van 30-11-2026 in Gripp gezet" in text and "€ 549,85 van 02-12-2026 in Gripp gezet" in text
    positions = [text.find(moment) for moment in moments]  # every moment, blocked before booked before paid
    assert -1 not in positions and positions == sorted(positions), moments
