"""Two consoles (two nodes) on one Postgres, in a real browser (issue 21): an account linked on one is shown, opened
and synced from the other.

One `sandbox serve` world; its demo accounts registered into a distributed deployment (`sandbox register`); two
real consoles (`python -m console` on real settings, signed in, each with a data folder of its own, the same
SYNC_DATABASE_URL and SYNC_SECRET_KEY); A works the queue's jobs, B none (`--no-worker`). On console A support links
Kleimeer (the sandbox's account with nothing linked yet) through SnelStart's activation page, whose webhook reaches
A. On console B the Klanten overview shows Kleimeer with its link, its pages show it, support makes its mappings
from the checks' suggestions, "Nu synchroniseren" queues the sync, A runs it, and B's run history and open items
show what it booked. Screenshots of every step go to `test-artifacts/nodes-*.png` (git-ignored).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from console.runtime import NO_WORKER_SETTING
from sync.core.words import say
from sync.jobs.activation import WEBHOOK_PATH
from sync.sandbox.seed_accounts import KLEIMEER, KLEIMEER_NAME
from tests import console_helpers as helpers
from tests import real_console
from tests.browser import after_click, chromium, grid_rows, needs_chromium, page_text, table_counts, wait_idle
from tests.conftest import seed_sandbox
from tests.nodes import ROOT, SECRET, clean_env, serving
from tests.real_console import PASSWORDS, secrets_toml, users_table
from tests.test_signin_browser import sign_in

pytestmark = [*needs_chromium, pytest.mark.slow, pytest.mark.loopback]

ARTIFACTS = helpers.ROOT / "test-artifacts"
IDENTITY = 1  # Kleimeer's first identity, "Kleimeer Landschapsarchitectuur B.V.", administration "Kleimeer Ontwerp"
IDENTITY_NAME = "Kleimeer Landschapsarchitectuur B.V."
ADMINISTRATION = "Kleimeer Ontwerp"
RUN_SECONDS = 60.0  # a queued sync: run by a node and in B's history within this


def nl(key: str, **values: object) -> str:
    return say(key, "nl", **values)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"nodes-{name}.png"), full_page=True)


def visit(page, url: str, heading: str | re.Pattern[str]) -> None:
    """Open `url` as a new page load."""
    page.goto(url)
    arrive(page, heading)


def arrive(page, heading: str | re.Pattern[str]) -> None:
    """Wait for the page headed `heading`, signing in first when the console asks (a new page load is a new
    browser session)."""
    wanted = page.get_by_role("heading", name=heading).first
    signin = page.get_by_role("heading", name="Inloggen")
    wanted.or_(signin).first.wait_for()
    if signin.is_visible():
        sign_in(page, "sanne", PASSWORDS["sanne"], welcome=True)
    wanted.wait_for()
    wait_idle(page)


def test_an_account_linked_on_one_console_is_shown_opened_and_synced_from_the_other(tmp_path: Path,
                                                                                     postgres_url: str) -> None:
    world, folder_a, folder_b = tmp_path / "world", tmp_path / "node-a", tmp_path / "node-b"
    seed_sandbox(world)
    port_a = helpers.free_port()
    webhook = f"http://localhost:{port_a}{WEBHOOK_PATH}"  # SnelStart's webhook reaches node A (as a balancer would)
    with serving(world, 0, "--webhook-url", webhook) as served:
        settings = {**served.settings, "SYNC_DATABASE_URL": postgres_url, "SYNC_SECRET_KEY": SECRET}
        registered = subprocess.run(
            [sys.executable, "-m", "sync", "--lang", "en", "sandbox", "register", "--url", served.url], cwd=ROOT,
            env=clean_env(**settings, SYNC_DB_PATH=str(folder_a / "sync.duckdb")), capture_output=True, text=True,
            timeout=120)
        assert registered.returncode == 0, registered.stdout + registered.stderr
        assert f"Account {KLEIMEER} ‘{KLEIMEER_NAME}’ added, with 0 links" in registered.stdout

        secrets = secrets_toml(settings=settings, users=users_table(("sanne",)))
        for folder in (folder_a, folder_b):
            real_console.deployment(folder, secrets)
        no_account = {"SYNC_ACCOUNT": ""}  # the Klanten overview of every account, as a deployment of many shows
        # B works no jobs (`python -m console --no-worker`): the sync B asks for is run by A, and B shows what A did.
        with helpers.healthy_server(folder_a, port=port_a, cwd=folder_a, extra_env=no_account) as node_a, \
                helpers.healthy_server(folder_b, cwd=folder_b, extra_env={**no_account, NO_WORKER_SETTING: "no"}) \
                as node_b, chromium() as browser:
            health = [node.wait_healthy() for node in (node_a, node_b)]
            assert [(h["sandbox"], h["postgres"], h["worker"]) for h in health] == [
                (False, "ok", "on"), (False, "ok", "off")], health
            assert health[0]["node"] != health[1]["node"], health
            tab_a = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL").new_page()
            tab_b = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL").new_page()
            for tab in (tab_a, tab_b):
                tab.set_default_timeout(30_000)

            # -- console A: link Kleimeer's first identity through SnelStart's activation page ---------------
            link_on_a(tab_a, node_a)
            start_in_the_worlds_year(settings, tmp_path / "node-c")

            # -- console B: Klanten shows Kleimeer linked; its pages show the link; its mappings made there -----
            see_on_b(tab_b, node_b)
            map_on_b(tab_b, node_b)

            # -- console B: Nu synchroniseren queues it; A runs it; B shows the run and the open items -----------
            sync_on_b(tab_b, node_b)
            for node in (node_a, node_b):
                assert "Traceback" not in node.log(), node.log()[-4000:]


def link_on_a(page, node: helpers.Server) -> None:
    visit(page, f"{node.base}/Koppelen?account={KLEIMEER}", nl("link_title"))
    assert f"{KLEIMEER_NAME} ({KLEIMEER})" in page_text(page)
    shot(page, "a-01-koppelen")
    page.get_by_text(nl("not_linked")).wait_for()
    after_click(page, page.get_by_text(nl("switch_on")))
    after_click(page, page.get_by_role("button", name=nl("fetch_key")))
    to_snelstart = page.get_by_role("link", name=nl("open_snelstart"))
    to_snelstart.wait_for()
    activation = to_snelstart.get_attribute("href")
    assert activation and "/sandbox/snelstart/web/couplings/activate/" in activation, activation
    shot(page, "a-02-naar-snelstart")

    # In SnelStart (its own Dutch page): one administration, Koppel; the key goes to A's webhook.
    page.goto(activation)
    page.get_by_text("Een enkele administratie koppelen").click()
    page.get_by_label(ADMINISTRATION, exact=True).check()
    page.get_by_role("button", name="Koppel").click()

    # Back on A: SnelStart's return link names the account; the key arrived; saved.
    page.wait_for_url(re.compile(rf"/Koppelen\?identity={IDENTITY}&ref="))
    assert f"account={KLEIMEER}" in page.url, page.url
    arrive(page, nl("link_title"))
    page.get_by_text(re.compile("SnelStart heeft de koppeling afgerond")).wait_for()
    after_click(page, page.get_by_role("button", name=nl("save_link"), exact=True))
    page.get_by_text(re.compile(f"{re.escape(IDENTITY_NAME)} is gekoppeld aan administratie ‘{ADMINISTRATION}’"))\
        .wait_for()
    shot(page, "a-03-gekoppeld")


def start_in_the_worlds_year(settings: dict[str, str], folder: Path) -> None:
    """Support sets the link's start date on a third node (in this process): the first day of the served world's
    year. A node on real services reads its machine's calendar, the served world keeps the sandbox's (2026): without
    this, a run on a machine a year on (`make test-year-ahead`) would start after every invoice there is."""
    from sync.core.config import load_settings
    from sync.jobs import linking
    from sync.sandbox.seed import SANDBOX_TODAY
    from sync.wiring import Deployment

    third = Deployment(load_settings({**settings, "SYNC_DB_PATH": str(folder / "sync.duckdb")}))
    try:
        linking.change_start_date(third.services(KLEIMEER), IDENTITY, date(SANDBOX_TODAY.year, 1, 1), actor="sanne")
    finally:
        third.close()


def see_on_b(page, node: helpers.Server) -> None:
    visit(page, node.base + "/", re.compile("^Klanten$"))
    row = page.locator(f".st-key-account-{KLEIMEER}")
    row.wait_for()
    shot(page, "b-01-klanten")
    assert "Nog niet gekoppeld" not in row.inner_text(), row.inner_text()
    assert re.search(r"1 van 2 gekoppeld", row.inner_text()), row.inner_text()

    after_click(page, row.get_by_role("link"))
    page.get_by_role("heading", name="Overzicht").wait_for()
    page.locator(f".st-key-identity-{IDENTITY}").wait_for()
    assert f"account={KLEIMEER}" in page.url and f"{KLEIMEER_NAME} ({KLEIMEER})" in page_text(page)
    shot(page, "b-02-overzicht")

    visit(page, f"{node.base}/Koppelen?account={KLEIMEER}&identity={IDENTITY}", nl("link_title"))
    linked = page.get_by_text(re.compile(f"Gekoppeld aan administratie {ADMINISTRATION}"))
    linked.wait_for()
    shot(page, "b-03-koppelen")


def map_on_b(page, node: helpers.Server) -> None:
    """Controles on B: the checks, then the mappings from their suggestions (no mapping yet: a new link)."""
    visit(page, f"{node.base}/Controles?account={KLEIMEER}&identity={IDENTITY}", nl("checks_title"))
    after_click(page, page.get_by_role("button", name=nl("run_checks")))
    page.locator("[data-testid='stCaptionContainer']").filter(has_text=re.compile(r"\d+ in orde, ")).first\
        .wait_for(timeout=60_000)
    after_click(page, page.get_by_role("button", name=re.compile(r"Alle \d+ voorstellen overnemen")))
    page.get_by_text("Opgeslagen. De controles na het opslaan:").wait_for()
    shot(page, "b-04-controles")


def sync_on_b(page, node: helpers.Server) -> None:
    visit(page, f"{node.base}/Synchronisatie?account={KLEIMEER}", nl("sync_title"))
    assert nl("no_runs") in page_text(page)
    after_click(page, page.locator(f".st-key-sync-{IDENTITY} button"))
    # Queued for whichever node is free (A: B works no jobs). The page follows it by itself — the progress tile says
    # it waits or runs elsewhere — and draws the outcome when it is done: nobody has to reload.
    started = time.monotonic()
    while nl("no_runs") in page_text(page):
        assert time.monotonic() - started < RUN_SECONDS, "the queued sync never showed on the page by itself"
        if page.locator(".st-key-live-progress").count():
            shot(page, "b-05-in-de-wachtrij")
        page.wait_for_timeout(200)
    shot(page, "b-06-gelopen")
    history = grid_rows(page, key="run-history")
    assert history and history[0][1] == IDENTITY_NAME, history
    booked = re.search(r"(\d+) geboekt", history[0][4])
    assert history[0][3] == "gelukt" and booked and int(booked.group(1)) > 0, history[0]

    # The open items on B: booked in SnelStart, in order — none waiting.
    visit(page, f"{node.base}/Openstaande_posten?account={KLEIMEER}&identity={IDENTITY}",
          nl("open_items_title"))
    shot(page, "b-07-openstaande-posten")
    counts = table_counts(page)
    assert counts.get("In orde", 0) >= int(booked.group(1)) and "Nog niet geboekt" not in counts, counts
    rows = grid_rows(page)  # the invoices themselves (the rows the grid has drawn)
    assert rows and all("In orde" in row for row in rows), rows
