"""`invoice NUMBER [--identity ID]`: one invoice's whole story (`sync.jobs.story`) — the invoice at a glance, then
what happened to it in time order — said with the console's words. Exit code 1 when no identity knows the number."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sync.cli.common import EXIT_FAILED, EXIT_OK, Speaker, fail, lang_of, out, speaker, table
from sync.cli.session import banner, services, unknown_identity
from sync.core import fmt
from sync.core.words import Msg

if TYPE_CHECKING:
    from sync.jobs.story import Story
    from sync.wiring import Services


def story_lines(t: Speaker, story: Story, lang: str) -> list[str]:
    """The story as lines: a heading, each summary line under its label, the links, then every moment of it."""
    lines = [t("story.heading", invoice=story.number, name=story.identity_name, identity=str(story.identity_id))]
    lines += [f"  {t('cli.field', label=Msg(label), value=what)}" for label, what in story.summary()]
    if story.gripp_url:
        lines.append(f"  {t('cli.field', label=Msg('story.open_in_gripp'), value=story.gripp_url)}")
    lines += ["", t("story.timeline")]
    rows = [[fmt.moment(entry.at, lang) if entry.timed else fmt.day(entry.at.date(), lang),
             t(entry.message)] for entry in story.entries]
    lines += [f"  {line}" for line in table([t("story.col_when"), t("story.col_what")], rows)]
    return lines


def unknown(services: Services, number: str, identity_id: int | None) -> Msg:
    """No story for the number: with `--identity`, said of that identity (its id and name), so nobody reads it as
    unknown to every identity."""
    if identity_id is None:
        return Msg("story.unknown", number=number)
    from sync.store import setup as setup_repo

    name = next((i["name"] for i in setup_repo.identities(services.store) if i["identity_id"] == identity_id), None)
    return Msg("story.unknown_for_identity", number=number, identity=str(identity_id), name=name or "—")


def invoice(args: argparse.Namespace) -> int:
    from sync.jobs.story import stories

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        if unknown_identity(opened, args):
            return EXIT_FAILED
        found = stories(opened, args.number, args.identity)
        if not found:
            fail(t, unknown(opened, args.number.strip(), args.identity))
            return EXIT_FAILED
        for n, story in enumerate(found):
            if n:
                out("")
            for line in story_lines(t, story, lang):
                out(line)
        return EXIT_OK
