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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync.core.config import SETTING_NAMES, Settings, load_settings
from sync.sandbox.sandbox import Sandbox
from sync.wiring import Deployment

SECRET = "one-key-for-every-node-0123456789"
ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0


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
    process: subprocess.Popen[str]
    url: str
    settings: dict[str, str]
    lines: list[str]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the link's settings, plus `extra`."""
    env = {name: value for name, value in os.environ.items() if name not in SETTING_NAMES}
    return {**env, **extra}


@contextmanager
def serving(folder: Path, port: int = 0, *options: str) -> Iterator[Served]:
    """`python -m sync sandbox serve --port PORT --no-limits [OPTIONS]` on the data folder `folder`, read until
    `ready`; stopped with SIGTERM at the end when it still runs."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sync", "--lang", "en", "sandbox", "serve", "--port", str(port), "--no-limits",
         *options],
        cwd=ROOT, env=clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb")), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    try:
        while True:
            try:
                line = lines.get(timeout=START_SECONDS)
            except queue.Empty:
                pytest.fail(f"serve said no 'ready' in {START_SECONDS} s: {seen}")
            if line is None:
                pytest.fail(f"serve ended before 'ready': {seen} {process.stderr.read() if process.stderr else ''}")
            seen.append(line)
            if line == "ready":
                break
        settings = dict(line.split("=", 1) for line in seen if "=" in line and not line.startswith("#"))
        url = settings["GRIPP_API_URL"].split("/sandbox/")[0]
        yield Served(process, url, settings, seen)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
