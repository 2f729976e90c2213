"""`accounts [list|add|check|remove]`: the Gripp accounts of this deployment — every account with what needs a person
first (the console's Klanten words), add one (its key tried on Gripp first), check one, take one out."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from sync.cli.checks import result_lines
from sync.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Speaker, err, fail, lang_of, out, speaker, table
from sync.cli.identities import identity_line
from sync.cli.session import deployment
from sync.core import fmt
from sync.core.outside_text import plain
from sync.core.words import N_, NN_, Msg

if TYPE_CHECKING:
    from sync.jobs.accounts import OverviewRow

TOKEN_VARIABLE = "GRIPP_API_TOKEN"  # `accounts add` reads the new account's Gripp key here (or standard input)
# What an account's health counts, said after what it needs first (counted keys, in this order).
HEALTH_COUNTS = (("broken_links", NN_("cli.accounts.broken_links")),
                 ("unchecked_links", NN_("cli.accounts.unchecked_links")),
                 ("shared_links", NN_("cli.accounts.shared_links")),
                 ("failed_runs", NN_("cli.accounts.failed_runs")), ("overdue_runs", NN_("cli.accounts.overdue_runs")),
                 ("blocked", NN_("cli.accounts.blocked")), ("refused", NN_("cli.accounts.refused")),
                 ("conflicts", NN_("cli.accounts.conflicts")),
                 ("failing_checks", NN_("cli.accounts.failing_checks")),
                 ("open_alerts", NN_("cli.accounts.open_alerts")), ("undelivered", NN_("cli.accounts.undelivered")))
# `accounts list`'s header, one key per column (the console's Klanten words where it has them).
COLUMNS = (N_("cli.accounts.column.key"), N_("accounts_col_name"), N_("accounts_col_need"), N_("accounts_col_last"),
           N_("cli.accounts.column.details"))
# AccountError codes that mean what was typed cannot be used (a usage error); Gripp refusing or unreachable fails.
USAGE_CODES = ("invalid", "no_key", "taken")


def accounts(args: argparse.Namespace) -> int:
    from sync.jobs import accounts as use

    lang = lang_of(args)
    t = tn = speaker(lang)
    with deployment(args) as opened:
        try:
            if args.action == "add":
                checked = use.add_account(opened, args.key, args.name, _gripp_token(t), actor="cli",
                                          gripp_url=args.gripp_url)
                out(tn("cli.accounts.added", n=len(checked.identities), key=checked.account.key,
                       name=checked.account.name, hint=checked.account.key_hint))
                for ident in checked.identities:
                    out(f"  {ident['identity_id']:>4}  {plain(ident['name'] or '—')}")
                return EXIT_OK
            if args.action == "check":
                checked = use.check_account(opened, args.key, actor="cli")
                if checked.problem is not None:
                    fail(t, checked.problem.message)
                    return EXIT_FAILED
                out(tn("cli.accounts.key_works", n=len(checked.identities), key=args.key))
                for ident in checked.identities:
                    out(f"  {identity_line(t, ident)}")
                for identity_id, result in checked.links.items():  # does SnelStart still accept each link's key
                    for line in result_lines(t, result, lang, str(identity_id)):
                        out(line)
                return EXIT_OK if all(r.status != "fail" for r in checked.links.values()) else EXIT_FAILED
            if args.action == "remove":
                if not args.yes:
                    fail(t, Msg("cli.accounts.remove_needs_yes", key=args.key))
                    return EXIT_USAGE
                use.remove_account(opened, args.key, actor="cli")
                out(t("cli.accounts.removed", key=args.key))
                return EXIT_OK
        except use.AccountError as exc:
            fail(t, exc.message)
            return EXIT_USAGE if exc.code in USAGE_CODES else EXIT_FAILED
        rows = use.overview(opened, "cli")
        if not rows:
            err(t("cli.accounts.none"))
            return EXIT_OK
        for line in table([t(key) for key in COLUMNS], [overview_row(row, lang) for row in rows]):
            out(line)
        from sync.jobs.deliver import failing_targets, why_not

        for state in failing_targets(opened):  # the support team's own targets belong to no account's row
            if state.account_key is None:
                out(t("cli.accounts.deployment_undelivered", hint=state.hint, why=why_not(state.last_error)))
        return EXIT_OK


def overview_row(row: OverviewRow, lang: str) -> list[str]:
    """An account's row in `accounts list`, under `COLUMNS`: its code, its name, what it needs first (the console's
    Klanten words), its last sync, and what its health counts (`—` when nothing)."""
    from sync.jobs.accounts import NEED_LABELS, NEEDS

    t = speaker(lang)
    last = row.health.last_run_at
    return [row.key, row.name, t(NEED_LABELS[NEEDS[row.need]]), fmt.moment(last, lang) if last else
            t("never"), overview_words(row, lang) or "—"]


def overview_words(row: OverviewRow, lang: str) -> str:
    """What an account's health counts: `2 verbroken koppelingen; 1 melding`; empty when nothing."""
    from sync.jobs.accounts import NEEDS

    t = tn = speaker(lang)
    health = row.health
    parts = [tn(key, n=int(getattr(health, name))) for name, key in HEALTH_COUNTS if getattr(health, name)]
    if not health.linked and NEEDS[row.need] != "not_linked":  # what it needs first did not say so
        parts.append(t("cli.accounts.not_linked"))
    return "; ".join(parts)


def _gripp_token(t: Speaker) -> str:
    """The new account's Gripp API key: the environment variable, else standard input (no echo on a terminal)."""
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        return os.environ[TOKEN_VARIABLE].strip()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass(t("cli.accounts.token_prompt"))
    return sys.stdin.read().strip()
