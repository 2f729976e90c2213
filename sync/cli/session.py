"""The account a command works on: the deployment and the chosen account's services, closed however the command
ends; the sandbox banner; an identity the database does not know, said once."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sync.cli.common import err, fail, lang_of, speaker
from sync.core.words import N_, Msg

if TYPE_CHECKING:
    from sync.wiring import Deployment, Services


@contextmanager
def deployment(args: argparse.Namespace) -> Iterator[Deployment]:
    """The deployment (its catalog of accounts), closed however the command ends."""
    from sync.jobs import deliver
    from sync.wiring import Deployment

    opened = Deployment(args.settings)
    try:
        yield opened
    finally:
        try:
            deliver.at_exit(opened)  # what the command's runs and checks announced, after they ended
        finally:
            opened.close()


@contextmanager
def services(args: argparse.Namespace) -> Iterator[Services]:
    """The chosen account's services (`--account`, else the only account), closed however the command ends (the
    sandbox's state is saved on close)."""
    from sync.jobs.accounts import choose

    t = speaker(lang_of(args))
    with deployment(args) as opened:
        key = choose(opened, getattr(args, "account", None))
        # In the distributed mode the command holds the account, as a run on a node would: its copy is the newest
        # and what it changes is checked in when it ends.
        with opened.holding(key) as chosen:
            if len(opened.keys()) > 1:
                account = opened.account(key)
                err(t("cli.account_chosen", key=account.key, name=account.name))
            try:
                yield chosen
            finally:
                chosen.ran()  # the support overview's row follows what the command changed (a link, an unlink)


def banner(services: Services, args: argparse.Namespace) -> None:
    """Every command on the sandbox says so first."""
    t = speaker(lang_of(args))
    if services.settings.sandbox:
        err(t("process.sandbox_banner", day=services.today()))


def unknown_identity(services: Services, args: argparse.Namespace) -> bool:
    """Says so, and True, when `--identity` names an identity this database does not know."""
    from sync.store import setup as setup_repo

    wanted = getattr(args, "identity", None)
    if wanted is None or any(i["identity_id"] == wanted for i in setup_repo.identities(services.store)):
        return False
    fail(speaker(lang_of(args)), Msg("cli.error.unknown_identity", identity=str(wanted), command=command_of(args)))
    return True


def command_of(args: argparse.Namespace) -> str:
    """The command line as the user needs to type it again (with the account they chose) for a hint."""
    return f"python -m sync --account {args.account}" if getattr(args, "account", None) else "python -m sync"


def nothing_linked(args: argparse.Namespace, *, identities: bool = True) -> None:
    """Says that no identity is linked yet, and how to link one (or, without `identities`, to fetch them first)."""
    key = N_("cli.error.nothing_linked") if identities else N_("cli.error.no_identities")
    fail(speaker(lang_of(args)), Msg(key, command=command_of(args)))


def chosen_identities(services: Services, args: argparse.Namespace, *, linked: bool = False) -> list[int] | None:
    """The identities a command is about: the one `--identity` names (which must be `linked` when asked), or every
    linked one. None, said with what to do, when there is none."""
    from sync.store import setup as setup_repo

    if unknown_identity(services, args):
        return None
    if args.identity is None:
        found = [link.identity_id for link in setup_repo.links(services.store)]
    elif linked and setup_repo.get_link(services.store, args.identity) is None:
        fail(speaker(lang_of(args)), Msg("cli.run.not_linked", identity=str(args.identity), command=command_of(args)))
        return None
    else:
        found = [args.identity]
    if not found:
        nothing_linked(args, identities=bool(setup_repo.identities(services.store)))
        return None
    return found
