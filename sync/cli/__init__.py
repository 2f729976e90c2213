"""`python -m sync …`: everything the console does, for cron users, support and the tests.

Sandbox by default, real services when configured — resolved exactly as the console does (environment, then
`.streamlit/secrets.toml`) and validated before anything is opened. Human-readable progress on stderr, results on
stdout, non-zero exit on failure. A wrong setting, a database held by another process, unreadable or of the other
mode: one line each, never a traceback. However a command ends (done, failed, Ctrl-C, SIGTERM) its database is
closed and the sandbox's state saved. Every sentence is said from the catalog in one language, the reader's:
Dutch, or English with `--lang en` — argparse's own usage, help and errors included (`sync.core.argparse_words`).

The package holds one module per command group (`run`: run and dry-run, `status`, `checks`, `invoice`, `identities`,
`links`, `mappings`, `accounts`, `admin`: hash-password and reset-sandbox), the grammar (`parser`), what they share
(`common`: exit codes and speaking, `session`: the account a command works on) and how a command ends when it
cannot go on (`failures`).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence

from sync.cli import failures, parser
from sync.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, lang_of, speaker
from sync.core import argparse_words
from sync.core.config import resolve_settings

__all__ = ["EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_USAGE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # the database, its WAL, the sandbox's state and exports: the user's only
    argv = list(sys.argv[1:] if argv is None else argv)
    with argparse_words.speaking(argparse_words.lang_of(argv)):  # usage, help and argument errors too
        grammar = parser.build(argparse_words.lang_of(argv))
        args = grammar.parse_args(argv)
        if not getattr(args, "command", None):
            grammar.print_help()
            return EXIT_USAGE
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    lang = lang_of(args)
    try:
        if args.command != "hash-password":  # the one command that needs no settings
            env = dict(os.environ)
            if args.command == "accounts" and getattr(args, "action", None) == "add":
                env.pop("GRIPP_API_TOKEN", None)  # there it is the new account's key, not the deployment's
            args.settings = resolve_settings(env)
        return int(args.handler(args))
    except failures.EXPLAINED as exc:
        return failures.ending(exc, speaker(lang), lang)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: through every `finally`, so the database is closed and the sandbox's
    state saved (a run left half-way is closed as interrupted by the next start)."""
    raise KeyboardInterrupt
