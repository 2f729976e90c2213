"""`status`: per identity what the console's Overzicht shows — the link and its health, the same counts under the same
names, what needs a person, the last sync — and the open alerts."""

from __future__ import annotations

import argparse
import json

from sync.cli.common import EXIT_OK, counted, lang_of, out, speaker
from sync.cli.session import banner, command_of, services
from sync.core.outside_text import plain
from sync.core.words import Msg


def status(args: argparse.Namespace) -> int:
    from sync.core.events import Outcome, render_alert, run_label
    from sync.core.words import said
    from sync.jobs import overview
    from sync.jobs.linking import shared_administrations
    from sync.store import check_results, history
    from sync.store import setup as setup_repo

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        store = opened.store
        known = setup_repo.identities(store)
        shared = shared_administrations(opened)
        checked = check_results.checked(store)  # setup checks that never ran: not "in orde" yet
        if not known:
            out(t("cli.status.no_identities", command=command_of(args)))
        for ident in known:
            identity_id = ident["identity_id"]
            if not ident["linked"]:
                out(f"{identity_id:>4}  {plain(ident['name'])}  {t('not_linked')}")
                continue
            health = Msg(overview.health_label(overview.link_state(ident["health"], identity_id in shared,
                                                                   identity_id in checked)))
            if ident["health"] == setup_repo.LinkHealth.BROKEN and ident.get("health_detail"):
                health = Msg("cli.status.health_why", health=health,
                             why=setup_repo.health_reason(ident["health_detail"]))
            out(f"{identity_id:>4}  {plain(ident['name'])}  " + t("cli.status.linked", administration=ident[
                "administration_name"], key=ident["key_hint"], health=health))
            if identity_id in shared:  # one administration, two links: said on both sides
                out(f"      {t(shared[identity_id].message)}")
            counts = overview.booking_counts(store, identity_id)
            out(f"      {counted(t, overview.OVERVIEW_COUNTS, counts)}")
            for state, key in overview.ATTENTION.items():
                if counts[state]:
                    out(f"      {t(key, n=counts[state])}")
            last = history.last_run(store, identity_id)
            if last is None:
                ran: Msg | str = Msg("never")
            else:
                counts_json, message = last["counts_json"], last["message"]
                counts_of = json.loads(counts_json) if counts_json else {}
                outcome = run_label(last["outcome"], counts_of, lang)
                if last["outcome"] == Outcome.FAILED and message:  # e.g. interrupted by a kill: say why
                    try:
                        why = said(json.loads(message), lang)
                    except ValueError:
                        why = message
                    ran = t("cli.status.run_failed", at=last["started_at"], outcome=outcome, why=why)
                else:
                    ran = t("cli.status.run", at=last["started_at"], outcome=outcome)
            out(f"      {t('cli.field', label=Msg('last_run'), value=ran)}")
        for alert in history.open_alerts(store):
            out(t("cli.status.alert", at=alert["raised_at"], text=render_alert(alert, lang)))
        return EXIT_OK
