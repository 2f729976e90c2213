"""Shared fixtures: a freshly seeded sandbox world, the sandbox around it, settings on a temp database, and the
Services built from them (sandbox mode, so the demo links and mappings are bootstrapped into the fresh DB).

Everything reaches the simulators in-process (`httpx.MockTransport(sandbox.handle)`); only loopback tests open
sockets. The seed builds in well under a second, so every test gets its own world.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.core.clock import RunningClock
from sync.core.config import Settings, load_settings
from sync.sandbox.sandbox import Sandbox, world_noon
from sync.sandbox.seed import build_world
from sync.sandbox.world import World
from sync.wiring import Services, build_services

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


@pytest.fixture
def world() -> World:
    return build_world()


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
