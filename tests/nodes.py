"""Nodes of the distributed mode for the tests: deployments (each with a data folder of its own) on one Postgres
and one shared SYNC_SECRET_KEY; the `nodes` fixture gives two of them on one sandbox world. `serving` runs `python -m
sync sandbox serve` as a process of its own, the one world several node processes share."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync.core.config import SETTING_NAMES, Settings, load_settings
from sync.sandbox.sandbox import Sandbox
from sync.sandbox.world import World
from sync.wiring import Deployment

SECRET = "one-key-for-every-node-0123456789"
ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0
STOP_SECONDS = 60.0


def node_settings(folder: Path, database_url: str) -> Settings:
    return load_settings({"SYNC_DB_PATH": str(folder / "sync.duckdb"), "CONSOLE_PUBLIC_URL": "http://console.test",
                          "SYNC_DATABASE_URL": database_url, "SYNC_SECRET_KEY": SECRET})


@pytest.fixture
def nodes(tmp_path: Path, sandbox: Sandbox, postgres_url: str) -> Iterator[tuple[Deployment, Deployment]]:
    first = Deployment(node_settings(tmp_path / "a", postgres_url), sandbox=sandbox, sleep=lambda s: None)
    second = Deployment(node_settings(tmp_path / "b", postgres_url), sandbox=sandbox, sleep=lambda s: None)
    try:
        yield first, second
    finally:
        second.close()
        first.close()


@dataclass
class Served:
    """`python -m sync sandbox serve` running on its data folder: its address, the settings a node needs
    (`NAME=value`) and every line it printed up to `ready`; what it logs is in `log`."""

    process: subprocess.Popen[str]
    folder: Path
    url: str
    settings: dict[str, str]
    lines: list[str]

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    def stop(self) -> int:
        """SIGTERM (serve saves its world as it stops); its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise RuntimeError("sandbox serve did not stop on SIGTERM") from None
        return int(self.process.returncode)

    def stopped_world(self) -> World:
        """Stop it, then its world as it saved it."""
        self.stop()
        return World.load(self.folder / "sandbox-state.json")


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the link's settings, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in SETTING_NAMES}
    return {**env, **extra}


def start_serving(folder: Path, port: int = 0, *options: str, limits: bool = False) -> Served:
    """`python -m sync sandbox serve --port PORT [--no-limits] [OPTIONS]` on the data folder `folder`, read until
    `ready` (RuntimeError when it does not get there)."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "sync", "--lang", "en", "sandbox", "serve", "--port", str(port),
               *([] if limits else ["--no-limits"]), *options]
    with (folder / "serve.log").open("w") as log:  # a file, not a pipe: nobody drains it while serve works
        process = subprocess.Popen(command, cwd=ROOT, env=clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb")),
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            process.kill()
            raise RuntimeError(f"sandbox serve said no 'ready' in {START_SECONDS:.0f} s: {seen}") from None
        if line is None:
            raise RuntimeError(f"sandbox serve ended before 'ready': {seen} "
                               f"{(folder / 'serve.log').read_text(errors='replace')[-2000:]}")
        seen.append(line)
        if line == "ready":
            break
    settings = dict(line.split("=", 1) for line in seen if "=" in line and not line.startswith("#"))
    return Served(process, folder, settings["GRIPP_API_URL"].split("/sandbox/")[0], settings, seen)


@contextmanager
def serving(folder: Path, port: int = 0, *options: str) -> Iterator[Served]:
    """`start_serving` without limits, stopped at the end when it still runs."""
    try:
        served = start_serving(folder, port, *options)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield served
    finally:
        served.stop()
