"""`notify test [--account KEY]`: one test message to each notification target — the account's and the
deployment's (`SYNC_NOTIFY_URLS`), or without `--account` every target — and per target whether it arrived; exit
code 1 when one did not, or when there is no target at all."""

from __future__ import annotations

import argparse

from sync.cli.common import EXIT_FAILED, EXIT_OK, err, fail, lang_of, out, speaker
from sync.cli.session import deployment
from sync.core.words import Msg, language_name


def notify(args: argparse.Namespace) -> int:
    from sync.jobs.accounts import choose
    from sync.jobs.deliver import send_test, why_not

    lang = lang_of(args)
    t = speaker(lang)
    with deployment(args) as opened:
        if opened.settings.sandbox:
            err(t("process.sandbox_banner", day=opened.today()))
        account = getattr(args, "account", None)
        if account:
            account = choose(opened, account)
        tried = send_test(opened, account, actor="cli")
        if not tried:
            fail(t, Msg("cli.notify.no_targets"))
            return EXIT_FAILED
        for item in tried:
            owner = item.target.account_key or t("cli.notify.deployment")
            if item.arrived:
                out(t("cli.notify.arrived", hint=item.target.hint, owner=owner,
                      lang=language_name(item.target.lang)))
            else:
                out(t("cli.notify.not_arrived", hint=item.target.hint, owner=owner,
                      lang=language_name(item.target.lang), why=why_not(item.error)))
        return EXIT_OK if all(item.arrived for item in tried) else EXIT_FAILED
