"""A throwaway Postgres for the tests (and the benchmark, `make nodes`): Debian's `postgresql` binaries, a cluster
of its own in a temporary folder, on a free loopback port, stopped and removed at the end.

As root the cluster runs as the `postgres` user (Postgres refuses root), in a folder chowned to it. Without
Postgres installed the tests that need it skip, saying how to get it — except in CI (`CI=true`), where a missing
Postgres is a failure: there it must run.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

MISSING = ("Postgres is not installed (no /usr/lib/postgresql/*/bin/initdb): `apt-get install postgresql`, as .ci/run "
           "does, to run the Postgres tests")


def postgres_bin() -> Path | None:
    """The newest Debian Postgres' bin folder, None when there is none."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_owner(command: list[str]) -> list[str]:
    """As root: the command as the `postgres` user (Postgres will not run as root)."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def start_postgres(folder: Path) -> tuple[str, Callable[[], None]]:
    """A new cluster in `folder` (made if missing; as root it becomes the postgres user's, so it must be reachable for
    that user, like a `tempfile.mkdtemp()`), started: its base URL
    (`postgresql://postgres@127.0.0.1:PORT`) and the function that stops it and removes its files.
    Raises RuntimeError when Postgres is not installed or does not start."""
    binaries = postgres_bin()
    if binaries is None:
        raise RuntimeError(MISSING)
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        if subprocess.run(_as_owner(["test", "-w", str(folder)])).returncode != 0:
            raise RuntimeError(f"The postgres user cannot reach {folder}: give a folder of its own right under a "
                               "folder everyone may pass, e.g. tempfile.mkdtemp()")
    data, sockets, log = folder / "data", folder / "sockets", folder / "postgres.log"
    subprocess.run(_as_owner([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                              "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
    _as_postgres_mkdir(sockets)
    port = _free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    started = subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                                        "-o", options, "start"]), capture_output=True, text=True)
    if started.returncode != 0:
        shown = log.read_text(errors="replace")[-2000:] if log.exists() else started.stderr
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"Postgres did not start: {shown}")

    def stop() -> None:
        subprocess.run(_as_owner([str(binaries / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"]),
                       capture_output=True)
        for made in (data, sockets, log):
            shutil.rmtree(made, ignore_errors=True) if made.is_dir() else made.unlink(missing_ok=True)

    return f"postgresql://postgres@127.0.0.1:{port}", stop


def _as_postgres_mkdir(path: Path) -> None:
    path.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def postgres_or_skip() -> None:
    """Skip the test when Postgres is not installed; in CI fail it instead."""
    if postgres_bin() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true, yet {MISSING}")
        pytest.skip(MISSING)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A cluster for the test process (each xdist worker starts its own): its base URL, no database named."""
    postgres_or_skip()
    folder = Path(tempfile.mkdtemp(prefix="sync-postgres-"))  # under /tmp: the postgres user can reach it
    try:
        url, stop = start_postgres(folder)
        try:
            yield url
        finally:
            stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database of the test's own on the session's cluster: its URL. Dropped afterwards."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield f"{postgres_server}/{name}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
