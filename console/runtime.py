"""The console process's singletons: one `Services` (one DuckDB connection) and one scheduler.

The server's lifespan calls `start()` once; pages call `services()` and `scheduler()`. When pages run without the
server (AppTest, `streamlit run console/app.py`), the first call builds them lazily — still once per process.
A DuckDB file held by another process is remembered as `Unavailable` with a one-line message that pages show
instead of a traceback.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

from sync.config import Settings, load_settings
from sync.store.db import StoreLockedError
from sync.wiring import Services, build_services

log = logging.getLogger("console")

_lock = threading.RLock()
_services: Services | None = None
_scheduler = None  # sync.jobs.schedule.SyncScheduler
_problem: Unavailable | None = None
_build_options: dict[str, object] = {}  # extra `build_services` arguments (tests: a sleep that does not sleep)


class Unavailable(RuntimeError):
    """The console cannot reach its database; `nl`/`en` say why in one line."""

    def __init__(self, nl: str, en: str) -> None:
        super().__init__(en)
        self.nl, self.en = nl, en


def read_secrets() -> Mapping[str, object] | None:
    """`.streamlit/secrets.toml` values (the environment wins over them, see `sync.config`)."""
    for folder in (Path.cwd(), Path(__file__).resolve().parent.parent):
        path = folder / ".streamlit" / "secrets.toml"
        if path.is_file():
            import tomllib

            with path.open("rb") as handle:
                return tomllib.load(handle)
    return None


def current_settings() -> Settings:
    return load_settings(secrets=read_secrets())


def services() -> Services:
    """The process's services, built on first use. Raises `Unavailable` when the database is locked."""
    global _services, _problem
    with _lock:
        if _services is not None:
            return _services
        if _problem is not None:
            raise _problem
        settings = current_settings()
        try:
            built = build_services(settings, **_build_options)  # type: ignore[arg-type]
        except StoreLockedError as exc:
            holder = f"proces {exc.pid}" if exc.pid else "een ander proces"
            _problem = Unavailable(
                f"De database {exc.path} is in gebruik door {holder}. Stop dat proces of kies een andere "
                "SYNC_DB_PATH en start de console opnieuw.",
                str(exc),
            )
            log.error("%s", exc)
            raise _problem from None
        _connect_webhook(built)
        _services = built
        return _services


def configure(**build_options: object) -> None:
    """Arguments for the next `build_services` (before the first `services()`; tests use it)."""
    with _lock:
        _build_options.clear()
        _build_options.update(build_options)


def problem() -> Unavailable | None:
    return _problem


def scheduler():  # -> SyncScheduler | None
    """The one background scheduler of this process, started on first use (None while the database is
    unavailable)."""
    global _scheduler
    with _lock:
        if _scheduler is None:
            try:
                current = services()
            except Unavailable:
                return None
            from sync.jobs.schedule import SyncScheduler

            _scheduler = SyncScheduler(current)
            _scheduler.start()
        return _scheduler


def start() -> Services | None:
    """Called once by the server's lifespan: services, the sandbox's webhook address and the scheduler."""
    with _lock:
        try:
            built = services()
        except Unavailable:
            return None
        scheduler()
        return built


def stop() -> None:
    """Stop the scheduler (waiting for a running job) and close the database. Safe to call twice."""
    global _services, _scheduler, _problem
    with _lock:
        if _scheduler is not None:
            _scheduler.shutdown()
            _scheduler = None
        if _services is not None:
            _services.close()
            _services = None
        _problem = None


def health() -> dict[str, object]:
    """What `/healthz` answers."""
    with _lock:
        running = _scheduler is not None and _scheduler.running
        db = "ok"
        if _problem is not None:
            db = _problem.en
        elif _services is None:
            db = "not started"
        else:
            try:
                _services.store.scalar("SELECT 1")
            except Exception as exc:  # report, never raise, from a health check
                db = f"error: {type(exc).__name__}"
        sandbox = _services.settings.sandbox if _services is not None else current_settings().sandbox
        jobs = len(_scheduler.jobs()) if running else 0
    return {
        "status": "ok" if db == "ok" and running else "error",
        "sandbox": sandbox,
        "db": db,
        "scheduler": "running" if running else "stopped",
        "jobs": jobs,
    }


def _connect_webhook(built: Services) -> None:
    """In sandbox mode, tell the simulated SnelStart where our webhook is (the real one is registered with
    SnelStart's partner desk)."""
    if not built.settings.sandbox or built.sandbox is None:
        return
    world = built.sandbox.world  # type: ignore[attr-defined]
    url = webhook_url(built.settings)
    with world.lock:
        world.snelstart.webhook_url = url


def webhook_url(settings: Settings) -> str:
    try:
        from sync.linking import webhook_url as linking_webhook_url
    except ImportError:  # the linking use cases are not there (yet): same address they will build
        return f"{settings.console_public_url}/webhooks/snelstart"
    return linking_webhook_url(settings)
