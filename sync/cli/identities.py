"""`identities [list|discover|add ID]`: the Gripp identities this database knows and what each is linked to; read
them off Gripp (it has no list of them), or add one by its id, checked in Gripp."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sync.cli.common import EXIT_FAILED, EXIT_OK, Speaker, err, fail, lang_of, out, speaker
from sync.cli.session import banner, command_of, services
from sync.core.outside_text import plain

if TYPE_CHECKING:  # the store is imported when a command runs
    from sync.store.setup import IdentityRow


def identities(args: argparse.Namespace) -> int:
    from sync.jobs.identities import add_identity, discover_identities
    from sync.jobs.linking import LinkError
    from sync.store import setup as setup_repo

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        try:
            if args.action == "discover":
                err(t("cli.identities.discovering"))
                discover_identities(opened, actor="cli")
            elif args.action == "add":
                name = add_identity(opened, args.identity, actor="cli")  # verified against Gripp first
                out(t("cli.identities.added", identity=str(args.identity), name=name))
                return EXIT_OK
        except LinkError as exc:
            fail(t, exc.message)
            return EXIT_FAILED
        known = setup_repo.identities(opened.store)
    if not known:
        err(t("cli.identities.none", command=command_of(args)))
    for ident in known:
        out(identity_line(t, ident))
    return EXIT_OK


def identity_line(t: Speaker, ident: IdentityRow) -> str:
    """`   2  Noord Advies B.V.  → Noord Advies`: an identity's id, name and what it is linked to."""
    linked = f"→ {plain(ident['administration_name'] or '—')}" if ident["linked"] else t("cli.identities.not_linked")
    return f"{ident['identity_id']:>4}  {plain(ident['name'] or '—')}  {linked}"
