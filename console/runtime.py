"""The console process's singletons: its settings, the `Deployment` (the catalog of accounts and each account's
`Services`, one DuckDB connection per account file), one scheduler over every account and the sign-in guard.

The settings — and with them sandbox or real — are decided once, at start-up (`python -m console` validates them
before serving): emptying or breaking secrets.toml later never turns a real console into the sandbox. The
server's lifespan calls `start()` once; pages call `services()` and `scheduler()`. When pages run without the
server (AppTest, `streamlit run console/app.py`), the first call builds them lazily — still once per process.
A database that is locked, unreadable or of the other mode is remembered as `Unavailable` with a one-line message
that pages show instead of a traceback; `/healthz` names only the kind of problem, never a path or a process.
With one account that is the whole console's problem, as it always was; with several, only that account's.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypedDict, Unpack

from console import process_lines
from sync.auth.lockout import LockoutState, MemoryLockouts, SignInGuard
from sync.core import config
from sync.core.config import ConfigError, Settings, load_settings
from sync.core.explained import Explained
from sync.core.words import N_, Msg
from sync.store.catalog import CatalogModeError, UnknownAccount
from sync.store.db import StoreLockedError, StoreUnreadableError
from sync.store.mode import StoreModeError
from sync.store.pg import PgUnreachableError
from sync.wiring import Deployment, Services

if TYPE_CHECKING:  # the scheduler (and APScheduler, or procrastinate) is loaded on first use
    from sync.jobs.queue import Queue
    from sync.jobs.queue_schedule import QueueScheduler
    from sync.jobs.schedule import SyncScheduler

log = logging.getLogger("console")

_lock = threading.RLock()
_deployment: Deployment | None = None
_scheduler: SyncScheduler | QueueScheduler | None = None
_problem: Unavailable | None = None  # the deployment's (or its only account's): the console cannot work
_account_problems: dict[str, Unavailable] = {}  # with several accounts: the one that cannot be opened
_settings: Settings | None = None
_guard: SignInGuard | None = None


class DeploymentOptions(TypedDict, total=False):
    """Extra `Deployment` arguments (tests: a sleep that does not sleep)."""

    sleep: Callable[[float], None]
    max_open: int


_build_options: DeploymentOptions = {}


class Unavailable(Explained, RuntimeError):
    """The console cannot use its database: `message` says why in one line (for signed-in people and the log),
    `code` is all `/healthz` says: locked | unreadable | wrong_mode | unreachable | settings."""


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
    """The process's throttle and lockout of sign-in attempts, its records in the catalog (a restart forgets no
    lockout); in memory only while the catalog cannot be opened (the console cannot work then anyway)."""
    global _guard
    with _lock:
        if _guard is None:
            secret = (current_settings().secret_key or "").encode()
            try:
                state: LockoutState = deployment().catalog.lockouts()
            except Unavailable:
                log.warning("sign-in lockouts are kept in memory only: the catalog cannot be opened")
                state = MemoryLockouts()
            _guard = SignInGuard(state=state, secret=secret)
        return _guard


def deployment() -> Deployment:
    """The process's deployment, built on first use. Raises `Unavailable` when its catalog (or its only account's
    database) cannot be used."""
    global _deployment, _problem
    with _lock:
        if _deployment is not None:
            return _deployment
        if _problem is not None:
            raise _problem
        built: Deployment | None = None
        try:
            built = Deployment(current_settings(), **_build_options)
            keys = built.keys()
            if len(keys) == 1:
                built.services(keys[0])  # one account: its database is the console's, checked at start as always
        except Exception as exc:
            if built is not None:
                built.close()
            _problem = _unavailable(exc)
            if _problem is None:
                raise
            log.error("%s", _problem)
            raise _problem from None
        _connect_webhook(built)
        _deployment = built
        return _deployment


def services(account: str | None = None) -> Services:
    """The services of `account` (default: the only account). Raises `Unavailable` when its database cannot be
    used, `UnknownAccount` when there is no such account or several and none was named."""
    current = deployment()
    key = account or _default_account(current)
    with _lock:
        if key in _account_problems:
            raise _account_problems[key]
        try:
            return current.services(key)
        except UnknownAccount:
            raise
        except Exception as exc:
            problem = _unavailable(exc)
            if problem is None:
                raise
            log.error("account %s: %s", key, problem)
            _account_problems[key] = problem
            raise problem from None


def _default_account(current: Deployment) -> str:
    """The only account, else SYNC_ACCOUNT's when it exists (`UnknownAccount` when neither)."""
    keys = current.keys()
    if len(keys) != 1 and current.settings.default_account in keys:
        return str(current.settings.default_account)
    return current.the_only_account()


def _unavailable(exc: BaseException) -> Unavailable | None:
    """The one-line message for a database that cannot be used; None for anything else (a bug: raised as is)."""
    if isinstance(exc, StoreLockedError):
        return Unavailable(Msg(N_("console.unavailable.locked"), path=str(exc.path), pid=str(exc.pid)) if exc.pid
                           else Msg(N_("console.unavailable.locked_by_unknown"), path=str(exc.path)), code="locked")
    if isinstance(exc, StoreUnreadableError):
        return Unavailable(Msg(N_("console.unavailable.unreadable"), path=str(exc.path), reason=str(exc.reason)),
                           code="unreadable")
    if isinstance(exc, StoreModeError | CatalogModeError):
        return Unavailable(exc.message, code="wrong_mode")
    if isinstance(exc, PgUnreachableError):
        return Unavailable(exc.message, code="unreachable")
    if isinstance(exc, ConfigError):
        log.error("settings: %s", "; ".join(exc.lines(process_lines.lang())))
        return Unavailable(Msg(N_("console.unavailable.settings")), code="settings")
    return None


def webhook_services(reference: str) -> Services:
    """The services of the account a SnelStart webhook's referenceKey names (`acme.…`; one without an account is
    the default account's, from before accounts). `UnknownAccount` when it names no account here — also on a
    deployment without accounts, or without the default one; `Unavailable` when the database cannot be used."""
    from sync.jobs.activation import account_of_reference

    current = deployment()
    account = account_of_reference(reference)
    if account is None:  # a reference from before accounts: the account whose database is SYNC_DB_PATH
        home = [a.key for a in current.accounts() if a.db_path == current.settings.db_path]
        account = home[0] if home else current.the_only_account()
    return services(account)


def configure(**build_options: Unpack[DeploymentOptions]) -> None:
    """Arguments for the next `Deployment` (before the first `services()`; tests use it)."""
    global _build_options
    with _lock:
        _build_options = build_options


def problem() -> Unavailable | None:
    return _problem


def console_works() -> bool:
    """Whether this console also works jobs in the distributed mode (`python -m console --no-worker`: not)."""
    return os.environ.get(NO_WORKER_SETTING, "").lower() not in ("0", "no", "false", "nee", "off")


NO_WORKER_SETTING = "SYNC_CONSOLE_WORKER"


def scheduler() -> SyncScheduler | QueueScheduler | None:
    """The one background scheduler of this process, over every account, started on first use (None while the
    deployment is unavailable). In the distributed mode: the queue's, working jobs unless told not to."""
    global _scheduler
    with _lock:
        if _scheduler is None:
            try:
                current = deployment()
            except Unavailable:
                return None
            from sync.jobs import deliver

            if current.settings.database_url:
                from sync.jobs.queue_schedule import QueueScheduler

                _scheduler = QueueScheduler(current, current.queue(), works=console_works())
            else:
                from sync.jobs.schedule import SyncScheduler

                _scheduler = SyncScheduler(current)
            _scheduler.start()
            # Notifications go out from here, apart from every run: a target that hangs never holds a sync.
            _scheduler.every("notify-deliver", deliver.INTERVAL_SECONDS, lambda: deliver.every_few_seconds(current))
        return _scheduler


def queue() -> Queue | None:
    """The job queue a manual sync is put on (the distributed mode), None when this process runs it itself. Read
    from the scheduler the server started; never starts one (every page asks, AppTest's pages too)."""
    with _lock:
        return getattr(_scheduler, "queue", None)


def start() -> Deployment | None:
    """Called once by the server's lifespan: the deployment, the sandbox's webhook address and the scheduler."""
    with _lock:
        try:
            built = deployment()
        except Unavailable:
            return None
        scheduler()
        return built


def stop() -> None:
    """Stop the scheduler (waiting for a running job) and close the database; the next start decides the settings
    again. Safe to call twice."""
    global _deployment, _scheduler, _problem, _settings, _guard
    with _lock:
        _settings = None
        _guard = None
        if _scheduler is not None:
            _scheduler.shutdown()
            _scheduler = None
        if _deployment is not None:
            _close(_deployment)
            _deployment = None
        _problem = None
        _account_problems.clear()


SHUTDOWN_WAIT = 20.0  # seconds a manual sync gets to finish when the console is stopped


def _close(deployment: Deployment) -> None:
    """Close the databases once the manual syncs have ended (or had their time). A sync still writing keeps its
    connection busy: then say so in one line — the next start marks that run interrupted — instead of a
    traceback and "Application shutdown failed"."""
    import duckdb

    from console import manual

    if not manual.wait_for_all(SHUTDOWN_WAIT):
        log.warning("Stopping while a manual sync is still running; the next start marks it interrupted.")
    for _ in range(2):  # a busy account's database is dropped from the list: the second pass closes the rest
        try:
            deployment.close()
            return
        except duckdb.Error as exc:
            log.warning("A database was still in use at shutdown (%s); the next start marks the run interrupted.",
                        type(exc).__name__)


def health() -> dict[str, object]:
    """What `/healthz` answers: anyone may ask, so it says what kind of problem there is and nothing more (no path,
    no process id, no exception text — those go to the server log)."""
    with _lock:
        running = _scheduler is not None and _scheduler.running
        db = "ok"
        if _problem is not None:
            db = _problem.code
        elif _deployment is None:
            db = "not started"
        else:
            try:
                _deployment.ping()
            except Exception as exc:  # report, never raise, from a health check
                log.error("health check: the database does not answer: %s", exc)
                db = "error"
        sandbox = _deployment.settings.sandbox if _deployment is not None else (
            _settings.sandbox if _settings is not None else None)
        jobs = len(_scheduler.jobs()) if _scheduler is not None and running else 0
        answer: dict[str, object] = {
            "status": "ok" if db == "ok" and running else "error",
            "sandbox": sandbox,
            "db": db,
            "scheduler": "running" if running else "stopped",
            "jobs": jobs,
        }
        if _deployment is not None and _deployment.files is not None:  # the distributed mode: this node
            queue = getattr(_scheduler, "queue", None)
            answer.update({"postgres": "ok" if db == "ok" else "error", "node": _deployment.node,
                           "worker": "on" if console_works() else "off",
                           "working": queue.working if queue is not None else 0})
    return answer


def _connect_webhook(built: Deployment) -> None:
    """In sandbox mode, tell the simulated SnelStart where our webhook is (the real one is registered with
    SnelStart's partner desk)."""
    if not built.settings.sandbox or built.sandbox is None:
        return
    world = built.sandbox.world
    url = webhook_url(built.settings)
    with world.lock:
        world.snelstart.webhook_url = url


def webhook_url(settings: Settings) -> str:
    try:
        from sync.jobs.activation import webhook_url as linking_webhook_url
    except ImportError:  # the linking use cases are not there (yet): same address they will build
        return f"{settings.console_public_url}/webhooks/snelstart"
    return linking_webhook_url(settings)
