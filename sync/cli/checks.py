"""`check`: every check of an identity (or of every linked one), with what to do when one does not pass; exit code 1
when one fails."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sync.cli.common import EXIT_FAILED, EXIT_OK, Speaker, lang_of, out, speaker
from sync.cli.session import banner, chosen_identities, services
from sync.core.words import N_

if TYPE_CHECKING:
    from sync.jobs.checks import CheckResult

# A check's status as the command line marks it, in capitals in a column of its own (the console shows an icon).
STATUS_WORDS = {"pass": N_("cli.check.pass"), "warning": N_("cli.check.warning"), "fail": N_("cli.check.fail")}


def result_lines(t: Speaker, result: CheckResult, lang: str, subject: str) -> list[str]:
    """One check's result: its status, the subject and what was found; what to do when it did not pass."""
    head = f"  [{t(STATUS_WORDS[result.status]):12}] {subject}:"
    found = t(result.explanation).splitlines() or [""]
    # Several findings (a list, one per line) go under the heading, each indented as far as the text starts.
    lines = [f"{head} {found[0]}"] if len(found) == 1 else [head, *(" " * 17 + line for line in found)]
    if not result.ok and result.fix is not None:
        fix = t(result.fix).splitlines() or [""]
        lines += [f"            → {fix[0]}", *(" " * 14 + line for line in fix[1:])]
    return lines


def check(args: argparse.Namespace) -> int:
    from sync.jobs.checks import run_checks
    from sync.store import setup as setup_repo

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        identities = chosen_identities(opened, args)
        if identities is None:
            return EXIT_FAILED
        failed = False
        for identity_id in identities:
            out(t("cli.check.heading", name=setup_repo.identity_name(opened.store, identity_id),
                  identity=str(identity_id)))
            for result in run_checks(opened, identity_id):
                for line in result_lines(t, result, lang, t(result.title)):
                    out(line)
                failed |= result.status == "fail"
        return EXIT_FAILED if failed else EXIT_OK
