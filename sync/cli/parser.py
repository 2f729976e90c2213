"""The command line's grammar: every command, option and help text (from the catalog, in the reader's language), and
each command's handler. `--lang` and `--account` are taken before or after the command."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

from sync.cli import accounts, admin, checks, identities, invoice, links, mappings, notify, run, sandbox, status, worker
from sync.cli.common import Speaker, speaker
from sync.core import words
from sync.core.money import typed_amount
from sync.core.outside_text import plain
from sync.core.words import N_
from sync.mapping.types import KostenplaatsSource

# Commands that work on no single account take no `--account`.
NO_ACCOUNT = ("accounts", "hash-password", "reset-sandbox", "sandbox", "worker")


def identity_id(t: Speaker) -> Callable[[str], int]:
    """argparse's `type=` for an identity id: a positive whole number, as Gripp shows it."""

    def parse(text: str) -> int:
        if text.strip().isdigit() and int(text) > 0:
            return int(text)
        raise argparse.ArgumentTypeError(t("cli.usage.not_an_identity", text=text))

    return parse


def iso_date(t: Speaker) -> Callable[[str], date]:
    """argparse's `type=` for a date written YYYY-MM-DD."""

    def parse(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(t("cli.usage.not_a_date", text=text)) from None

    return parse


def amount(t: Speaker) -> Callable[[str], Decimal]:
    """argparse's `type=` for an amount in euros (`250000`, `250000,50`); whether it can be used is the use
    case's to say."""

    def parse(text: str) -> Decimal:
        found = typed_amount(text)
        if found is None:
            raise argparse.ArgumentTypeError(t("cli.usage.not_an_amount", text=text))
        return found

    return parse


def port_number(t: Speaker) -> Callable[[str], int]:
    """argparse's `type=` for a TCP port: 0 (a free one) to 65535."""

    def parse(text: str) -> int:
        if text.strip().isdigit() and int(text) <= 65535:
            return int(text)
        raise argparse.ArgumentTypeError(t("cli.usage.not_a_port", text=text))

    return parse


def parser_class(t: Speaker) -> type[argparse.ArgumentParser]:
    """argparse's parser, saying a value that is not one of the choices in the reader's words: argparse puts each
    choice in `repr()`'s straight quotes (`invalid choice: 'x' (choose from 'run', 'dry-run', …)`) before any
    catalog could translate it. A command or action that does not exist is said as that (`onbekende opdracht
    ‘frobnicate’; kies uit run, dry-run, …`), without argparse's `argument OPDRACHT:` before it. Its subparsers
    (the commands, their actions) are of the same class, so they speak alike."""

    class Parser(argparse.ArgumentParser):
        def _check_value(self, action: argparse.Action, value: Any) -> None:
            if action.choices is None or value in action.choices:
                return
            choices = ", ".join(str(choice) for choice in action.choices)
            if isinstance(action, argparse._SubParsersAction):
                key = N_("cli.usage.unknown_action") if action.dest == "action" else N_("cli.usage.unknown_command")
                raise argparse.ArgumentError(None, t(key, value=str(value), choices=choices))
            raise argparse.ArgumentError(action, t("cli.usage.not_a_choice", value=str(value), choices=choices))

        def error(self, message: str) -> NoReturn:
            super().error(plain(message))  # what was typed is repeated: no control character reaches the terminal

    return Parser


def build(lang: str = words.DEFAULT) -> argparse.ArgumentParser:
    t = speaker(lang)
    identity = identity_id(t)
    exit_codes = t("cli.help.exit_codes")  # under the commands' list and under `run`, the command cron starts
    parser = parser_class(t)(prog="python -m sync", description=t("cli.help.description"), epilog=exit_codes)
    parser.add_argument("--lang", choices=words.LANGUAGES, default=words.DEFAULT, help=t("cli.help.lang"))
    parser.add_argument("--account", metavar=t("cli.metavar.account"), help=t("cli.help.account"))
    sub = parser.add_subparsers(dest="command", title=t("cli.help.commands"), metavar=t("cli.metavar.command"))
    one_identity = t("cli.help.one_identity")

    p = sub.add_parser("run", help=t("cli.help.run"), epilog=exit_codes)
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    p.set_defaults(handler=run.run)

    p = sub.add_parser("dry-run", help=t("cli.help.dry_run"))
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    p.set_defaults(handler=run.dry_run)

    p = sub.add_parser("status", help=t("cli.help.status"))
    p.set_defaults(handler=status.status)

    p = sub.add_parser("check", help=t("cli.help.check"))
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    p.set_defaults(handler=checks.check)

    p = sub.add_parser("invoice", help=t("cli.help.invoice"), description=t("cli.help.invoice.description"))
    p.add_argument("number", metavar=t("cli.metavar.number"), help=t("cli.help.invoice.number"))
    p.add_argument("--identity", type=identity, metavar="ID", help=t("cli.help.invoice.identity"))
    p.set_defaults(handler=invoice.invoice)

    p = sub.add_parser("identities", help=t("cli.help.identities"))
    actions = p.add_subparsers(dest="action", title=t("cli.help.actions"), metavar=t("cli.metavar.action"))
    actions.add_parser("list", help=t("cli.help.identities.list"))
    actions.add_parser("discover", help=t("cli.help.identities.discover"))
    a = actions.add_parser("add", help=t("cli.help.identities.add"))
    a.add_argument("identity", type=identity, metavar="ID", help=t("cli.help.identities.add.identity"))
    p.set_defaults(handler=identities.identities)

    p = sub.add_parser("link", help=t("cli.help.link"),
                       description=t("cli.help.link.description", variable=links.KEY_VARIABLE))
    p.add_argument("--identity", type=identity, required=True, metavar="ID", help=t("cli.help.gripp_identity"))
    p.add_argument("--key", metavar=t("cli.metavar.key"), help=t("cli.help.link.key", variable=links.KEY_VARIABLE))
    p.add_argument("--start-date", type=iso_date(t), metavar=t("cli.metavar.date"), help=t("cli.help.link.start_date"))
    p.add_argument("--confirm-shared", metavar=t("cli.metavar.name"), help=t("cli.help.link.confirm_shared"))
    p.set_defaults(handler=links.link)

    p = sub.add_parser("unlink", help=t("cli.help.unlink"))
    p.add_argument("--identity", type=identity, required=True, metavar="ID", help=t("cli.help.gripp_identity"))
    p.set_defaults(handler=links.unlink)

    p = sub.add_parser("ceiling", help=t("cli.help.ceiling"), description=t("cli.help.ceiling.description"))
    p.add_argument("--identity", type=identity, required=True, metavar="ID", help=t("cli.help.gripp_identity"))
    choice = p.add_mutually_exclusive_group()
    choice.add_argument("amount", nargs="?", type=amount(t), metavar=t("cli.metavar.amount"),
                        help=t("cli.help.ceiling.amount"))
    choice.add_argument("--default", action="store_true", help=t("cli.help.ceiling.default"))
    p.set_defaults(handler=links.ceiling)

    p = sub.add_parser("kostenplaatsen", help=t("cli.help.kostenplaatsen"),
                       description=t("cli.help.kostenplaatsen.description"))
    p.add_argument("--identity", type=identity, required=True, metavar="ID", help=t("cli.help.gripp_identity"))
    choice = p.add_mutually_exclusive_group()
    sources = [str(s) for s in KostenplaatsSource]
    # named in the reader's words, in the usage and in its errors ("bij BRON: …"), as the other commands' are
    choice.add_argument("source", nargs="?", choices=sources, metavar=t("cli.metavar.source"),
                        help=t("cli.help.kostenplaatsen.source", choices=", ".join(sources)))
    choice.add_argument("--default", action="store_true", help=t("cli.help.kostenplaatsen.default"))
    p.set_defaults(handler=links.kostenplaatsen)

    p = sub.add_parser("mappings", help=t("cli.help.mappings"))
    actions = p.add_subparsers(dest="action", required=True, title=t("cli.help.actions"),
                               metavar=t("cli.metavar.action"))
    for name, handler, help_key in (("export", mappings.export, N_("cli.help.mappings.export")),
                                    ("import", mappings.import_, N_("cli.help.mappings.import"))):
        a = actions.add_parser(name, help=t(help_key))
        a.add_argument("file", type=Path, metavar=t("cli.metavar.file"), help=t("cli.help.mappings.file"))
        a.set_defaults(handler=handler)

    p = sub.add_parser("accounts", help=t("cli.help.accounts"),
                       description=t("cli.help.accounts.description", variable=accounts.TOKEN_VARIABLE))
    actions = p.add_subparsers(dest="action", title=t("cli.help.actions"), metavar=t("cli.metavar.action"))
    actions.add_parser("list", help=t("cli.help.accounts.list"))
    a = actions.add_parser("add", help=t("cli.help.accounts.add"))
    a.add_argument("key", metavar=t("cli.metavar.account"), help=t("cli.help.accounts.add.key"))
    a.add_argument("--name", required=True, metavar=t("cli.metavar.name"), help=t("cli.help.accounts.add.name"))
    a.add_argument("--gripp-url", metavar="URL", help=t("cli.help.accounts.add.gripp_url"))
    a = actions.add_parser("check", help=t("cli.help.accounts.check"))
    a.add_argument("key", metavar=t("cli.metavar.account"))
    a = actions.add_parser("remove", help=t("cli.help.accounts.remove"))
    a.add_argument("key", metavar=t("cli.metavar.account"))
    a.add_argument("--yes", action="store_true", help=t("cli.help.accounts.remove.yes"))
    p.set_defaults(handler=accounts.accounts)

    p = sub.add_parser("notify", help=t("cli.help.notify"), description=t("cli.help.notify.description"))
    actions = p.add_subparsers(dest="action", required=True, title=t("cli.help.actions"),
                               metavar=t("cli.metavar.action"))
    actions.add_parser("test", help=t("cli.help.notify.test"))
    p.set_defaults(handler=notify.notify)

    p = sub.add_parser("worker", help=t("cli.help.worker"), description=t("cli.help.worker.description"))
    p.add_argument("--concurrency", type=int, metavar="N", help=t("cli.help.worker.concurrency"))
    p.set_defaults(handler=worker.worker)

    p = sub.add_parser("hash-password", help=t("cli.help.hash_password"))
    p.set_defaults(handler=admin.hash_password)

    p = sub.add_parser("reset-sandbox", help=t("cli.help.reset_sandbox"))
    p.set_defaults(handler=admin.reset_sandbox)

    p = sub.add_parser("sandbox", help=t("cli.help.sandbox"), description=t("cli.help.sandbox.description"))
    actions = p.add_subparsers(dest="action", required=True, title=t("cli.help.actions"),
                               metavar=t("cli.metavar.action"))
    a = actions.add_parser("serve", help=t("cli.help.sandbox.serve"),
                           description=t("cli.help.sandbox.serve.description"))
    a.add_argument("--port", type=port_number(t), default=sandbox.DEFAULT_PORT, metavar=t("cli.metavar.port"),
                   help=t("cli.help.sandbox.serve.port", default=str(sandbox.DEFAULT_PORT)))
    a.add_argument("--host", default="127.0.0.1", metavar=t("cli.metavar.host"),
                   help=t("cli.help.sandbox.serve.host"))
    a.add_argument("--no-limits", action="store_true", help=t("cli.help.sandbox.serve.no_limits"))
    a.add_argument("--webhook-url", metavar="URL", help=t("cli.help.sandbox.serve.webhook_url"))
    a.set_defaults(handler=sandbox.serve)
    a = actions.add_parser("register", help=t("cli.help.sandbox.register"),
                           description=t("cli.help.sandbox.register.description"))
    a.add_argument("--url", required=True, metavar="URL", help=t("cli.help.sandbox.register.url"))
    a.set_defaults(handler=sandbox.register)

    for name, command in sub.choices.items():
        _after_the_command(command, t, account=name not in NO_ACCOUNT)
    return parser


def _after_the_command(p: argparse.ArgumentParser, t: Speaker, *, account: bool) -> None:
    """`--lang` after every command and action too (`python -m sync check --lang en`), `--account` after every
    command that works on one account (`python -m sync run --account acme`, `… mappings export F --account acme`)."""
    p.add_argument("--lang", choices=words.LANGUAGES, default=argparse.SUPPRESS, help=t("cli.help.lang_short"))
    if account:
        p.add_argument("--account", default=argparse.SUPPRESS, metavar=t("cli.metavar.account"),
                       help=t("cli.help.account"))
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for inner in action.choices.values():
                _after_the_command(inner, t, account=account)
