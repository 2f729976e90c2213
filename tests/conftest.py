"""Shared fixtures: a freshly seeded sandbox world, the sandbox around it, settings on a temp database, and the
Services built from them (sandbox mode, so the demo links and mappings are bootstrapped into the fresh DB); the
console's pages (`console`) and the command line (`cli_env`) on a sandbox of their own.

The world is the small demo (`sync.sandbox.seed_small`): every story of the demo on about 140 of its 585 invoices,
so a first sync takes a second, not several. A test that pins the full demo's figures is marked `full_world` and
gets the whole seed; such tests, the real browser and the real console processes are `slow` (`pytest -m "not
slow"` leaves them out; `make test` runs everything).

Everything reaches the simulators in-process (`httpx.MockTransport(sandbox.handle)`); only loopback tests open
sockets. Each test process seeds a demo once; every test gets a world of its own, decoded from that seed's text.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.core.clock import RunningClock
from sync.core.config import SETTING_NAMES, Settings, load_settings
from sync.sandbox.sandbox import Sandbox, world_noon
from sync.sandbox.seed import build_world
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import World
from sync.wiring import Services, build_services
from tests.nodes import nodes  # noqa: F401  (a fixture: two nodes of the distributed mode on one Postgres)
from tests.postgres import postgres_server, postgres_url  # noqa: F401  (fixtures: a throwaway Postgres)

CONSOLE_URL = "http://console.test"
# A key missing from a catalog, or a value a template needs and nobody gave, fails the test that says it (and the
# consoles and commands the tests start) instead of degrading a sentence.
os.environ["SYNC_STRICT_WORDS"] = "1"


@pytest.fixture(autouse=True)
def _the_demo_account(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox holds three Gripp accounts; commands and pages that name none use the demo's (SYNC_ACCOUNT),
    as an operator who works on one account would set it. Tests of several accounts name theirs."""
    from sync.sandbox.seed import FIRST_ACCOUNT

    monkeypatch.setenv("SYNC_ACCOUNT", FIRST_ACCOUNT)


def sandbox_settings(tmp_path: Path, console_url: str = CONSOLE_URL) -> Settings:
    """Sandbox-mode settings with the database (and the generated vault key file) in `tmp_path`."""
    return load_settings({"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"), "CONSOLE_PUBLIC_URL": console_url})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The whole demo world and a real browser cost seconds a test: both are `slow` without saying it twice. The
    slow tests go first, so that spread over several workers (pytest-xdist) the run does not end waiting on one
    worker's last browser test while the others are done."""
    for item in items:
        if item.get_closest_marker("full_world") or item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: otherwise in collection order


@functools.cache
def _demo_state(full: bool) -> str:
    """The demo world's state (`World.to_json`), seeded once per test process; every test gets its own copy."""
    return (build_world() if full else small_world()).to_json()


def full_world_wanted(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("full_world") is not None


def demo_world(request: pytest.FixtureRequest) -> World:
    """A world of the test's own: the full demo for a test marked `full_world`, else the small one."""
    return World.from_json(_demo_state(full_world_wanted(request)))


def seed_sandbox(folder: Path, world: World | None = None, *, full: bool = False) -> None:
    """The sandbox state in `folder` (a console or command on a database there serves it instead of seeding the
    full demo on first use): `world`, or else the small demo (the full one with `full`)."""
    path = sandbox_settings(folder).sandbox_state_path
    if world is not None:
        world.save(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_demo_state(full), encoding="utf-8")


@pytest.fixture
def world(request: pytest.FixtureRequest) -> World:
    return demo_world(request)


@pytest.fixture
def clock(world: World) -> RunningClock:
    """Real speed from noon on the world's fixed 'today' (2026-11-28): the simulators, the store and the clients
    share it, so no test's dates depend on the calendar."""
    return RunningClock(world_noon(world))


@pytest.fixture
def sandbox(world: World, clock: RunningClock) -> Sandbox:
    return Sandbox(world, base_url=CONSOLE_URL, clock=clock)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(tmp_path)


@pytest.fixture
def services(settings: Settings, sandbox: Sandbox) -> Iterator[Services]:
    built = build_services(settings, sandbox=sandbox, sleep=lambda seconds: None)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Services]:
    """The console's pages (`tests.console_helpers.page`) on a sandbox of their own in `tmp_path`, seeded with
    the small demo (the full one when the test is marked `full_world`)."""
    from tests.console_helpers import open_console

    seed_sandbox(tmp_path, full=full_world_wanted(request))
    yield from open_console(tmp_path, monkeypatch)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """The command line (`sync.cli.main`) on a sandbox of its own in `tmp_path` (returned), seeded with the small
    demo (the full one when the test is marked `full_world`); no other setting from the environment than the demo
    account (`_the_demo_account`)."""
    for name in SETTING_NAMES:
        if name != "SYNC_ACCOUNT":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(tmp_path / "sync.duckdb"))
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", CONSOLE_URL)
    seed_sandbox(tmp_path, full=full_world_wanted(request))
    return tmp_path
