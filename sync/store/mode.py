"""Whether a database holds sandbox or real data, written in the file itself.

The first process that uses a file records its mode; from then on a process in the other mode refuses the file.
So a command line that misses the real settings can never run the sandbox (or `reset-sandbox`) on real data, and
real services never sync the sandbox's demo links.
"""

from __future__ import annotations

from collections.abc import Callable

from sync.core.explained import Explained
from sync.core.words import N_, Msg
from sync.store.db import Store

SANDBOX, REAL = "sandbox", "real"
_DATA_TABLES = ("identities", "links", "bookings", "runs", "events")


class StoreModeError(Explained, RuntimeError):
    """The file belongs to the other mode; `message` says what to do, in one line."""


def recorded(store: Store) -> str | None:
    return store.scalar("SELECT value FROM store_meta WHERE key = 'mode'")


def holds_data(store: Store) -> bool:
    return any(store.scalar(f"SELECT count(*) FROM {table}") for table in _DATA_TABLES)


def claim(store: Store, mode: str, *, legacy_sandbox: Callable[[], bool] = lambda: False) -> None:
    """Record `mode` on a file that has none, or refuse a file of the other mode (`StoreModeError`).

    A file from before modes were recorded that already holds data is taken as real, unless `legacy_sandbox()`
    shows it is the sandbox's own (its keys open with the sandbox's key file): the sandbox never guesses."""
    check(store, mode, legacy_sandbox=legacy_sandbox)
    if recorded(store) is None:
        store.execute("INSERT INTO store_meta VALUES ('mode', ?) ON CONFLICT DO NOTHING", [mode])


def check(store: Store, mode: str, *, legacy_sandbox: Callable[[], bool] = lambda: False) -> None:
    """Refuse a file `claim` would refuse (`StoreModeError`), recording nothing: asked before a process writes
    anything beside it."""
    found = recorded(store)
    if found is None:
        if mode == SANDBOX and holds_data(store) and not legacy_sandbox():
            raise StoreModeError(Msg(N_("error.store_mode.unknown"), path=str(store.path)), code="unknown_mode")
        return
    if found == mode:
        return
    if found == REAL:
        raise StoreModeError(Msg(N_("error.store_mode.real"), path=str(store.path)), code="real")
    raise StoreModeError(Msg(N_("error.store_mode.sandbox"), path=str(store.path)), code="sandbox")
