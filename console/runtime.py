"""The console process's singletons: its settings, one `Services` (one DuckDB connection), one scheduler and the
sign-in guard.

The settings — and with them sandbox or real — are decided once, at start-up (`python -m console` validates them
before serving): emptying or breaking secrets.toml later never turns a real console into the sandbox. The
server's lifespan calls `start()` once; pages call `services()` and `scheduler()`. When pages run without the
server (AppTest, `streamlit run console/app.py`), the first call builds them lazily — still once per process.
A database that is locked, unreadable or of the other mode is remembered as `Unavailable` with a one-line message
that pages show instead of a traceback; `/healthz` names only the kind of problem, never a path or a process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from sync.auth.lockout import SignInGuard
from sync.core import config
from sync.core.config import ConfigError, Settings, load_settings
from sync.store.db import StoreLockedError, StoreUnreadableError
from sync.store.mode import StoreModeError
from sync.wiring import Services, build_services

log = logging.getLogger("console")

_lock = threading.RLock()
_services: Services | None = None
_scheduler = None  # sync.jobs.schedule.SyncScheduler
_problem: Unavailable | None = None
_settings: Settings | None = None
_guard: SignInGuard | None = None
_build_options: dict[str, object] = {}  # extra `build_services` arguments (tests: a sleep that does not sleep)


class Unavailable(RuntimeError):
    """The console cannot use its database; `nl`/`en` say why in one line (for signed-in people and the log),
    `code` is all `/healthz` says: locked | unreadable | wrong_mode | settings."""

    def __init__(self, nl: str, en: str, code: str = "unavailable") -> None:
        super().__init__(en)
        self.nl, self.en, self.code = nl, en, code


def read_secrets() -> Mapping[str, object]:
    """`.streamlit/secrets.toml` as it is now (users, roles, `[auth]`); raises `ConfigError` when it cannot be
    read. The settings in it count only at start-up (`current_settings`)."""
    return config.read_secrets()


def current_settings() -> Settings:
    """The settings decided at start-up (the first call); raises `ConfigError` when they cannot be used."""
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings(secrets=read_secrets())
        return _settings


def sign_in_guard() -> SignInGuard:
    """The process's throttle and lockout of sign-in attempts."""
    global _guard
    with _lock:
        if _guard is None:
            _guard = SignInGuard()
        return _guard


def services() -> Services:
    """The process's services, built on first use. Raises `Unavailable` when the database is locked."""
    global _services, _problem
    with _lock:
        if _services is not None:
            return _services
        if _problem is not None:
            raise _problem
        try:
            built = build_services(current_settings(), **_build_options)  # type: ignore[arg-type]
        except StoreLockedError as exc:
            holder = f"proces {exc.pid}" if exc.pid else "een ander proces"
            _problem = Unavailable(
                f"De database {exc.path} is in gebruik door {holder}. Stop dat proces of kies een andere "
                "SYNC_DB_PATH en start de console opnieuw.",
                str(exc), "locked",
            )
        except StoreUnreadableError as exc:
            _problem = Unavailable(
                f"De database {exc.path} is niet te lezen ({exc.reason}). Zet een reservekopie terug of kies een "
                "andere SYNC_DB_PATH en start de console opnieuw.",
                str(exc), "unreadable",
            )
        except StoreModeError as exc:
            _problem = Unavailable(exc.nl, exc.en, "wrong_mode")
        except ConfigError as exc:
            _problem = Unavailable("De instellingen van de console zijn niet bruikbaar; zie het serverlog.",
                                   "The console's settings cannot be used; see the server log.", "settings")
            log.error("settings: %s", "; ".join(exc.problems))
        if _problem is not None:
            log.error("%s", _problem.en)
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
    """Stop the scheduler (waiting for a running job) and close the database; the next start decides the settings
    again. Safe to call twice."""
    global _services, _scheduler, _problem, _settings, _guard
    with _lock:
        _settings = None
        _guard = None
        if _scheduler is not None:
            _scheduler.shutdown()
            _scheduler = None
        if _services is not None:
            _services.close()
            _services = None
        _problem = None


def health() -> dict[str, object]:
    """What `/healthz` answers: anyone may ask, so it says what kind of problem there is and nothing more (no path,
    no process id, no exception text — those go to the server log)."""
    with _lock:
        running = _scheduler is not None and _scheduler.running
        db = "ok"
        if _problem is not None:
            db = _problem.code
        elif _services is None:
            db = "not started"
        else:
            try:
                _services.store.scalar("SELECT max(version) FROM schema_version")
            except Exception as exc:  # report, never raise, from a health check
                log.error("health check: the database does not answer: %s", exc)
                db = "error"
        sandbox = _services.settings.sandbox if _services is not None else (
            _settings.sandbox if _settings is not None else None)
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
        from sync.jobs.linking import webhook_url as linking_webhook_url
    except ImportError:  # the linking use cases are not there (yet): same address they will build
        return f"{settings.console_public_url}/webhooks/snelstart"
    return linking_webhook_url(settings)
