"""How a command ends when it cannot go on: one line (or a line and a list) in the reader's language and the exit code
that says what kind — never a traceback. A wrong setting or an unknown account is a usage error (2), a database held
by another process is 3 (with its process id), an unreadable database, one of the other mode, a Postgres that cannot be
reached or a file named on the command line that cannot be used is a failure (1)."""

from __future__ import annotations

from sync.cli.common import EXIT_FAILED, EXIT_LOCKED, EXIT_USAGE, Speaker, err, fail
from sync.core.config import ConfigError
from sync.core.words import Msg, said
from sync.store.catalog import CatalogModeError, UnknownAccount
from sync.store.db import StoreLockedError, StoreUnreadableError
from sync.store.mode import StoreModeError
from sync.store.pg import PgUnreachableError

# What `ending` says something about; anything else is not the command line's to explain.
EXPLAINED = (UnknownAccount, ConfigError, StoreLockedError, StoreUnreadableError, StoreModeError, CatalogModeError,
             PgUnreachableError, OSError)


def ending(exc: BaseException, t: Speaker, lang: str) -> int:
    """Say why the command stops; its exit code."""
    if isinstance(exc, UnknownAccount):
        if exc.key:
            fail(t, Msg("cli.error.no_such_account", key=exc.key))
        elif exc.keys:
            fail(t, Msg("cli.error.choose_account"))
        else:
            fail(t, Msg("cli.error.no_accounts"))
        for key in exc.keys:
            err(f"  {key}")
        return EXIT_USAGE
    if isinstance(exc, ConfigError):
        fail(t, Msg("cli.error.settings"))
        for problem in exc.problems:
            err(f"  {said(problem, lang)}")
        return EXIT_USAGE
    if isinstance(exc, StoreLockedError):
        fail(t, Msg("cli.error.locked", path=str(exc.path), pid=str(exc.pid)) if exc.pid else
             Msg("cli.error.locked_by_unknown", path=str(exc.path)))
        return EXIT_LOCKED
    if isinstance(exc, StoreUnreadableError):
        fail(t, Msg("cli.error.unreadable", path=str(exc.path), reason=exc.reason))
        return EXIT_FAILED
    if isinstance(exc, StoreModeError | CatalogModeError | PgUnreachableError):
        fail(t, exc.message)
        return EXIT_FAILED
    if isinstance(exc, OSError):  # a file named on the command line: missing, a folder, not ours
        fail(t, file_problem(exc))
        return EXIT_FAILED
    raise exc


def file_problem(exc: OSError) -> Msg:
    name = str(exc.filename or "")
    if isinstance(exc, FileNotFoundError):
        return Msg("cli.error.file_missing", name=name)
    if isinstance(exc, IsADirectoryError):
        return Msg("cli.error.file_is_folder", name=name)
    if isinstance(exc, NotADirectoryError):
        return Msg("cli.error.path_not_folder", name=name)
    if isinstance(exc, PermissionError):
        return Msg("cli.error.file_no_permission", name=name)
    return Msg("cli.error.file_failed", name=name, reason=str(exc.strerror or exc))
