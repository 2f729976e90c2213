"""`hash-password` (a bcrypt hash for a console user) and `reset-sandbox` (reseed the simulators and start with a
fresh database — only ever the sandbox's own files). The one module of the command line that reaches the sandbox."""

from __future__ import annotations

import argparse
import sys

from sync.cli.common import EXIT_FAILED, EXIT_OK, fail, lang_of, out, speaker
from sync.cli.session import deployment
from sync.core.config import Settings
from sync.core.words import Msg

MIN_PASSWORD = 10  # characters; any length above that


def hash_password(args: argparse.Namespace) -> int:
    import getpass

    from sync.auth.users import hash_password as bcrypt_hash

    t = speaker(lang_of(args))
    if sys.stdin.isatty():  # typed blind: asked twice, so a slip of the finger is caught here, not at sign-in
        password = getpass.getpass(t("cli.hash_password.prompt"))
        if len(password) >= MIN_PASSWORD and getpass.getpass(t("cli.hash_password.again")) != password:
            fail(t, Msg("cli.hash_password.differ"))
            return EXIT_FAILED
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        fail(t, Msg("cli.hash_password.too_short", least=MIN_PASSWORD))
        return EXIT_FAILED
    out(bcrypt_hash(password))
    return EXIT_OK


def reset_sandbox(args: argparse.Namespace) -> int:
    t = tn = speaker(lang_of(args))
    settings: Settings = args.settings
    if not settings.sandbox:
        fail(t, Msg("cli.reset_sandbox.not_sandbox"))
        return EXIT_FAILED
    from sync.sandbox.seed import reset
    from sync.store import mode as store_mode
    from sync.store import setup as setup_repo
    from sync.store.db import Store
    from sync.wiring import opens_with_sandbox_key

    if settings.db_path.exists():
        store = Store(settings.db_path)  # raises when the console holds it or the file is unreadable
        try:  # only the sandbox's own file is wiped: a real one (or one that does not say) is refused
            store_mode.claim(store, store_mode.SANDBOX, legacy_sandbox=lambda: opens_with_sandbox_key(store, settings))
        finally:
            store.close()
    sandbox_files = [settings.db_path]
    if settings.catalog_file.exists():  # the sandbox's catalog and its demo accounts' files go too
        from sync.store.catalog import Catalog

        catalog = Catalog(settings.catalog_file)  # raises when the console holds it
        try:
            catalog.claim(store_mode.SANDBOX)  # never a real deployment's catalog
            sandbox_files += [account.db_path for account in catalog.accounts(include_removed=True)
                              if account.db_path.parent == settings.accounts_dir]
        finally:
            catalog.close()
        sandbox_files.append(settings.catalog_file)
    for file in sandbox_files:
        for path in (file, file.with_name(file.name + ".wal")):
            path.unlink(missing_ok=True)
    reset(settings.sandbox_state_path)
    with deployment(args) as opened:  # every demo account is seeded again, so every one is counted (no --account)
        keys = opened.keys()
        links = sum(len(setup_repo.links(opened.services(key).store)) for key in keys)
        out(tn("cli.reset_sandbox.done", n=links, accounts=len(keys), folder=str(settings.db_path.parent)))
        return EXIT_OK
