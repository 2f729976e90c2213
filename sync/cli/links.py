"""`link`, `unlink`, `ceiling` and `kostenplaatsen`: link an identity with a pasted koppelsleutel (verified with
SnelStart first), remove its link, say and set the largest invoice total it books, or where its booking lines take
their kostenplaats from. The key is read from the environment or
standard input, never shown."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from sync.cli.common import EXIT_FAILED, EXIT_OK, Speaker, err, fail, lang_of, out, speaker
from sync.cli.session import banner, services, unknown_identity
from sync.core.words import N_, Msg

if TYPE_CHECKING:
    from sync.store.setup import Link
    from sync.wiring import Services

KEY_VARIABLE = "SNELSTART_KOPPELSLEUTEL"  # `link` reads the key here (or from standard input), not from argv


def link(args: argparse.Namespace) -> int:
    from sync.jobs.linking import LinkError, link_with_key, shared_administrations, verify_key

    lang = lang_of(args)
    t = speaker(lang)
    key = _koppelsleutel(args, t)
    with services(args) as opened:
        banner(opened, args)
        if unknown_identity(opened, args):
            return EXIT_FAILED
        try:
            verified = verify_key(opened, key, for_identity=args.identity)
            out(t("cli.link.opens", administration=verified.administration_name, id=verified.administration_id))
            # One administration, one link: refused as on Koppelen, unless support confirms it on purpose, by name.
            link_with_key(opened, args.identity, key, start_date=args.start_date, actor="cli",
                          confirmed_by=args.confirm_shared)
        except LinkError as exc:
            fail(t, exc.message)
            if exc.code == "shared":
                err(t("cli.link.shared", flag="--confirm-shared"))
            return EXIT_FAILED
        out(t("cli.link.linked", identity=str(args.identity), key=verified.key_hint))
        shared = shared_administrations(opened).get(args.identity)
        if shared is not None:
            err(t(shared.message))
        return EXIT_OK


def unlink(args: argparse.Namespace) -> int:
    from sync.jobs.linking import unlink as remove_link

    t = speaker(lang_of(args))
    with services(args) as opened:
        banner(opened, args)
        if unknown_identity(opened, args):
            return EXIT_FAILED
        if not remove_link(opened, args.identity, actor="cli"):
            fail(t, Msg("cli.unlink.not_linked", identity=str(args.identity)))
            return EXIT_FAILED
        out(t("cli.unlink.done", identity=str(args.identity)))
        return EXIT_OK


def ceiling(args: argparse.Namespace) -> int:
    """Without an amount: the identity's ceiling. With one: its own from now on; `--default`: the deployment's."""
    from sync.jobs.inputs import invoice_ceiling
    from sync.jobs.linking import LinkError, change_ceiling
    from sync.store import setup as setup_repo

    t = speaker(lang_of(args))
    with services(args) as opened:
        banner(opened, args)
        link = _linked(opened, args, t)
        if link is None:
            return EXIT_FAILED
        if args.amount is not None or args.default:
            try:
                change_ceiling(opened, args.identity, args.amount, actor="cli")
            except LinkError as exc:
                fail(t, exc.message)
                return EXIT_FAILED
            link = setup_repo.get_link(opened.store, args.identity) or link
        default = opened.settings.max_invoice_total
        key = N_("cli.ceiling.default") if link.max_invoice_total is None else N_("cli.ceiling.own")
        out(t(key, identity=str(args.identity), amount=invoice_ceiling(link, opened.settings), default=default))
        return EXIT_OK


def kostenplaatsen(args: argparse.Namespace) -> int:
    """Without a source: where the identity's booking lines take their kostenplaats from. With one (line, project or
    none): that from now on; `--default`: the default again. Audited, the same as the console's choice."""
    from sync.jobs.inputs import kostenplaats_source
    from sync.jobs.kostenplaatsen import set_source
    from sync.jobs.suggestions import MappingError

    t = speaker(lang_of(args))
    with services(args) as opened:
        banner(opened, args)
        link = _linked(opened, args, t)
        if link is None:
            return EXIT_FAILED
        previous = kostenplaats_source(link)
        if args.source is None and not args.default:
            out(t("cli.kostenplaatsen.source", identity=str(args.identity),
                  source=Msg(f"kostenplaats_source.{previous}"), code=str(previous)))
            return EXIT_OK
        try:
            source = set_source(opened, args.identity, args.source, actor="cli")
        except MappingError as exc:
            fail(t, exc.message)
            return EXIT_FAILED
        # a change says what it was before; the same choice again says that nothing changed
        out(t("cli.kostenplaatsen.changed" if source != previous else "cli.kostenplaatsen.unchanged",
              identity=str(args.identity), source=Msg(f"kostenplaats_source.{source}"), code=str(source),
              previous=Msg(f"kostenplaats_source.{previous}"), previous_code=str(previous)))
        return EXIT_OK


def _koppelsleutel(args: argparse.Namespace, t: Speaker) -> str:
    """`--key`, else the environment variable, else standard input (without echo on a terminal)."""
    if args.key:
        err(t("cli.link.key_on_command_line", variable=KEY_VARIABLE))
        return str(args.key)
    if os.environ.get(KEY_VARIABLE, "").strip():
        return os.environ[KEY_VARIABLE]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(t("cli.link.key_prompt"))
    return sys.stdin.read()


def _linked(opened: Services, args: argparse.Namespace, t: Speaker) -> Link | None:
    """The identity's link, or None once it was said why there is none (no such identity, or not linked)."""
    from sync.store import setup as setup_repo

    if unknown_identity(opened, args):
        return None
    link = setup_repo.get_link(opened.store, args.identity)
    if link is None:
        fail(t, Msg("link.error.not_linked"))
    return link
