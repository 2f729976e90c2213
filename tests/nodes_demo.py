"""`make nodes`: the distributed mode on one machine, to try it — a throwaway Postgres (Debian's `postgresql`), the
sandbox's simulators on their own (`python -m sync sandbox serve`), the demo accounts registered, and two nodes: a
console on http://localhost:PORT (which works jobs too) and a worker (`python -m sync worker`). Ctrl-C stops them
all and removes what they made; nothing of it is kept (the sandbox's own `make run` data is not touched)."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sync.auth.users import hash_password
from tests.cluster import Cluster
from tests.nodes import ROOT, clean_env, start_serving
from tests.postgres import start_postgres

USER, PASSWORD = "support", "nodes-demo-1234"  # a throwaway deployment's only user, said on the screen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make nodes", description=__doc__)
    parser.add_argument("--port", type=int, default=8501, help="the console's port (8501)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)  # stopped by a supervisor: cleaned up as after Ctrl-C
    folder = Path(tempfile.mkdtemp(prefix="sync-nodes-"))
    postgres_folder = Path(tempfile.mkdtemp(prefix="sync-nodes-postgres-"))  # its own: the postgres user's
    stops: list = []
    try:
        url, stop_postgres = start_postgres(postgres_folder)
        stops.append(stop_postgres)
        say(f"Postgres: {url}/postgres (throwaway)")
        webhook = f"http://localhost:{args.port}/webhooks/snelstart"
        served = start_serving(folder / "world", 0, "--webhook-url", webhook)
        stops.append(served.stop)
        say(f"The sandbox's simulators: {served.url}")
        cluster = Cluster(folder, f"{url}/postgres", served)
        stops.append(cluster.close)
        cluster.register_demo()
        say("The demo accounts are registered.")
        worker = cluster.start_node(4)
        stops.append(lambda: cluster.stop(worker))
        say(f"Node 1, a worker: pid {worker.process.pid} (log {folder / 'node-1.log'})")
        console = start_console(cluster, folder / "console", args.port)
        stops.append(lambda: stop(console))
        settings = write_settings(cluster, folder / "nodes.env")
        say(f"Node 2, the console: http://localhost:{args.port} — sign in as {USER} / {PASSWORD}.")
        say(f"Another node by hand, in another terminal: set -a; . {settings}; set +a; "
            "SYNC_DB_PATH=/tmp/node-3/sync.duckdb .venv/bin/python -m sync worker")
        say("Ctrl-C stops everything.")
        while console.poll() is None and worker.alive():
            time.sleep(0.5)
        for name, log in (("the console", folder / "console" / "console.log"), ("the worker", folder / "node-1.log")):
            if log.exists():
                say(f"{name} said, last:\n{log.read_text(errors='replace')[-1500:]}")
        say("A node stopped by itself; stopping the rest.")
        return 1
    except KeyboardInterrupt:
        say("Stopping: the running syncs finish first.")
        return 0
    finally:
        for undo in reversed(stops):
            try:
                undo()
            except Exception as exc:  # the rest is stopped all the same
                say(f"  while stopping: {exc}")
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(postgres_folder, ignore_errors=True)


def start_console(cluster: Cluster, folder: Path, port: int) -> subprocess.Popen[bytes]:
    """A console node in `folder` (its data and its secrets.toml with the one user) on `port`."""
    streamlit = folder / ".streamlit"
    streamlit.mkdir(parents=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", streamlit / "config.toml")
    (streamlit / "secrets.toml").write_text(
        f'[users.{USER}]\npassword_hash = "{hash_password(PASSWORD)}"\nrole = "support"\naccounts = ["*"]\n')
    env = clean_env(**cluster.environment(folder), CONSOLE_PUBLIC_URL=f"http://localhost:{port}",
                    PYTHONPATH=str(ROOT))  # it runs in its own folder (its secrets.toml there), the code is here
    log = (folder / "console.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "console", "--port", str(port)], cwd=folder, env=env,
                               stdout=log, stderr=log)
    log.close()
    return process


def write_settings(cluster: Cluster, path: Path) -> Path:
    """The settings every node shares (the served world's, the database, the one secret key), for a node started by
    hand: a file only this user may read, not the screen."""
    shared = {name: value for name, value in cluster.environment(path.parent).items() if name != "SYNC_DB_PATH"}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.writelines(f"{name}={shlex.quote(value)}\n" for name, value in shared.items())
    return path


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def say(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
