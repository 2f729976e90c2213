"""Running the console's pages under `streamlit.testing.v1.AppTest` on a freshly seeded sandbox.

The pages build the process's services lazily (`console.runtime`) from the environment, so each test points
SYNC_DB_PATH at its own temp folder (the sandbox state and vault key live beside it) before the first run, and
the runtime is reset around it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from console import runtime
from console.text import WORD_JOINER
from sync.sandbox.seed import FIRST_ACCOUNT
from sync.wiring import Services

APP = str(Path(__file__).resolve().parent.parent / "console" / "app.py")
PAGES = {
    "overzicht": "pages/overzicht.py",
    "openstaande_posten": "pages/openstaande_posten.py",
    "koppelen": "pages/koppelen.py",
    "controles": "pages/controles.py",
    "synchronisatie": "pages/synchronisatie.py",
}
TIMEOUT = 90


def open_console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """A console process of its own: settings from the environment, a fresh sandbox, no server."""
    for name in ("GRIPP_API_URL", "GRIPP_API_TOKEN", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                 "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_WEB_URL", "SNELSTART_APP_SHORT_NAME", "SYNC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(tmp_path / "sync.duckdb"))
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "http://console.test")
    monkeypatch.setenv("SYNC_ACCOUNT", FIRST_ACCOUNT)  # the sandbox's demo account (it has two more)
    runtime.stop()
    runtime.configure(sleep=lambda seconds: None)  # the clients' pacing waits for nothing in tests
    try:
        yield runtime.services()
    finally:
        _wait_for_manual_runs()
        runtime.stop()
        runtime.configure()


def page(name: str, *, lang: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """The app with one page open (run once)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if lang:
        at.session_state["lang"] = lang
    at.run()  # the entry script first: it registers the pages (st.navigation)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGES[name])
    return at.run()


def landing(name: str, query: dict[str, str]) -> AppTest:
    """A browser that opens the console at a page's address with `query`, in a session of its own (a link from
    elsewhere, a new tab): the first run sees nothing but the address."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(PAGES[name])
    return at.run()


def choice(at: AppTest, kind: str, key: str):
    """The select box or multiselect a page draws with `console.ui.choice(…, key=key)` (its widget key carries the
    words it shows)."""
    found = [widget for widget in getattr(at, kind) if str(widget.key).startswith(f"{key}~")]
    assert len(found) == 1, [widget.key for widget in getattr(at, kind)]
    return found[0]


def plain(markdown: object) -> str:
    """Markdown source as the reader sees its text: the console escapes outside text (`console.text.md`)."""
    return re.sub(r"\\(.)", r"\1", str(markdown)).replace(WORD_JOINER, "")


def texts(at: AppTest) -> str:
    """Everything readable on the page, for `in` checks."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        parts += [plain(element.value) for element in getattr(at, kind)]
    parts += [str(m.label) + " " + str(m.value) for m in at.metric]
    return "\n".join(parts)


def grid(at: AppTest, n: int = 0) -> pd.DataFrame:
    """The page's `n`-th grid as the reader reads its titles: a column under a group (the open items' "Gripp",
    "SnelStart") is called by both, "Gripp Vervaldatum"."""
    frame = at.dataframe[n].value
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.set_axis([" ".join(part for part in column if part) for column in frame.columns], axis=1)
    return frame


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def damaged_database(path: Path) -> None:
    """A DuckDB file that opens, whose blocks then fail their checksums (a bad disk, a half-copied backup)."""
    import os

    from sync.store.db import Store

    store = Store(path)
    store.execute("CREATE TABLE filler AS SELECT range AS n, md5(range::VARCHAR) AS s FROM range(300000)")
    store.close()
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.seek(size // 2)
        handle.write(os.urandom(size // 4))


# -- the real server, as the README starts it ------------------------------------------------------------------
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_command(port: int) -> list[str]:
    """The README's command (`make run PORT=…`) when the venv is installed as make expects it; otherwise what
    `make run` itself executes, so a test never installs packages."""
    import shutil
    import subprocess

    make = shutil.which("make")
    if make and subprocess.run([make, "-q", ".venv/.installed"], cwd=ROOT, capture_output=True).returncode == 0:
        return [make, "--no-print-directory", "run", f"PORT={port}"]
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "console", "--port", str(port)]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any of the link's settings (as on a machine that has none), plus
    `extra`; the project importable from any working directory."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIPP_", "SNELSTART_", "SYNC_", "CONSOLE_"))}
    # The project first; what was there stays (`make test-year-ahead` puts its sleep fix there for every process).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["SYNC_ACCOUNT"] = FIRST_ACCOUNT  # the sandbox's demo account, where the tests look (when it exists)
    env.update(extra)
    return env


class Server:
    """`make run` in its own process group, with its database (and sandbox state) in a temp folder.

    With `cwd`, `python -m console` in that folder instead, so it reads that folder's `.streamlit/secrets.toml`
    (the settings of a real console, its users) — as an operator's deployment would."""

    def __init__(self, data_dir: Path, port: int | None = None, extra_env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        import subprocess
        import sys

        self.port = port or free_port()
        self.base = f"http://localhost:{self.port}"
        self.log_path = data_dir / "console.log"
        env = clean_env(SYNC_DB_PATH=str(data_dir / "sync.duckdb"), CONSOLE_PUBLIC_URL=self.base, **(extra_env or {}))
        command = run_command(self.port) if cwd is None else [sys.executable, "-m", "console", "--port", str(self.port)]
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=cwd or ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self, seconds: float = 60.0) -> dict:
        import time

        import httpx

        deadline = time.monotonic() + seconds
        last: object = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the console exited ({self.process.returncode}):\n{self.log()}")
            try:
                answer = httpx.get(f"{self.base}/healthz", timeout=2)
                last = answer.json()
                if answer.status_code == 200:
                    return answer.json()
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.25)
        raise AssertionError(f"the console did not become healthy: {last}\n{self.log()}")

    def stop(self, seconds: float = 20.0) -> int:
        """SIGTERM to the process group we started (make and the console under it); its return code."""
        import os
        import signal
        import subprocess

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(seconds)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()
        return int(self.process.returncode)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _wait_for_manual_runs(timeout: float = TIMEOUT) -> None:
    from console import manual

    with manual._lock:
        running = list(manual._active.values())
        manual._active.clear()
    for run in running:
        run.done.wait(timeout)


def settle(at: AppTest, timeout: float = TIMEOUT) -> AppTest:
    """Wait until the syncs and dry runs the page started in the console's worker have ended, then draw the page
    again (the page reads their outcome from the store, as a browser's next refresh does)."""
    from console import manual

    with manual._lock:
        running = list(manual._active.values())
    for run in running:
        assert run.done.wait(timeout), "a manual sync did not end"
    return at.run()


@contextmanager
def healthy_server(data_dir: Path, **options: object) -> Iterator[Server]:
    """A `Server` that has answered healthy, stopped afterwards."""
    server = Server(data_dir, **options)  # type: ignore[arg-type]
    try:
        server.wait_healthy()
        yield server
    finally:
        server.stop()
