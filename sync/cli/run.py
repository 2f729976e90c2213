"""`run` and `dry-run`: a sync of one identity or every linked one, and what the next one would do — said with the
console's words and counts (Synchronisatie's result tiles after a run; Controles' dry-run tabs, one per decision)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sync.cli.common import EXIT_FAILED, EXIT_OK, Speaker, counted, err, fail, lang_of, out, speaker
from sync.cli.session import banner, chosen_identities, command_of, nothing_linked, services, unknown_identity
from sync.core import words
from sync.core.events import STEP_WORDS, Outcome, Step, Trigger
from sync.core.outside_text import plain
from sync.core.words import Msg

if TYPE_CHECKING:
    from sync.store.db import Store


def step_words(step: Step, lang: str) -> str:
    """A run's step as its progress line says it."""
    return words.say(STEP_WORDS[step], lang)


def run(args: argparse.Namespace) -> int:
    from sync.core.events import run_label
    from sync.jobs import overview
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.runner import run_all, run_identity
    from sync.store import setup as setup_repo

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        last: dict[int, Step] = {}

        def progress(identity_id: int, step: Step, fraction: float) -> None:
            if last.get(identity_id) != step:
                last[identity_id] = step
                err(f"  [{identity_id}] {step_words(step, lang)}…")

        if unknown_identity(opened, args):
            return EXIT_FAILED
        try:
            if args.identity is not None:
                if setup_repo.get_link(opened.store, args.identity) is None:
                    fail(t, Msg("cli.run.not_linked", identity=str(args.identity), command=command_of(args)))
                    return EXIT_FAILED
                results = [run_identity(opened, args.identity, trigger=Trigger.CLI, actor="cli",
                                        progress=lambda s, f: progress(args.identity, s, f))]
            else:
                results = run_all(opened, trigger=Trigger.CLI, actor="cli", progress=progress)
        except AlreadyRunning:
            fail(t, Msg("cli.error.busy"))
            return EXIT_FAILED
        if not results:
            nothing_linked(args, identities=bool(setup_repo.identities(opened.store)))
            return EXIT_FAILED
        for result in results:
            # As Synchronisatie shows a finished sync: what it did in a few words and a sentence, then its tiles.
            out(t("cli.run.result", name=setup_repo.identity_name(opened.store, result.identity_id),
                  identity=str(result.identity_id), label=run_label(result.outcome, result.counts, lang),
                  summary=result.words(lang)))
            if result.counts:  # failed as a whole: no tiles; a run that booked nothing: what it found
                out(f"  {counted(t, overview.RUN_COUNTS, result.counts)}")
        # A run that booked nothing because everything was blocked (or refused, or in conflict) failed — its words
        # say `niets geboekt` — so cron hears of it too; one with nothing new to do did not (the runner judges).
        return EXIT_OK if all(r.outcome != Outcome.FAILED for r in results) else EXIT_FAILED


def dry_run(args: argparse.Namespace) -> int:
    from sync.core.words import said
    from sync.jobs import plan
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.preview import preview_identity
    from sync.store import setup as setup_repo

    lang = lang_of(args)
    t = speaker(lang)
    with services(args) as opened:
        banner(opened, args)
        ids = chosen_identities(opened, args, linked=True)
        if ids is None:
            return EXIT_FAILED
        failed = False
        for identity_id in ids:
            try:
                preview = preview_identity(opened, identity_id, actor="cli")
            except AlreadyRunning:
                fail(t, Msg("cli.error.busy"))
                return EXIT_FAILED
            out(t("cli.dry_run.heading", name=setup_repo.identity_name(opened.store, identity_id),
                  identity=str(identity_id)))
            if preview.outcome == Outcome.FAILED:
                out(f"  {said(preview.reason, lang)}")
                failed = True
                continue
            for decision in plan.DECISIONS:
                lines = preview.of(decision)
                out(f"  {t('cli.dry_run.decision', label=Msg(plan.DECISION_LABELS[decision]), count=len(lines))}")
                if decision == plan.ALREADY_BOOKED and lines:
                    _already_booked(t, opened.store, identity_id, [line.number for line in lines])
                if decision in (plan.BLOCKED, plan.CONFLICT, plan.REFUSED):
                    for line in lines:
                        out(f"    {plain(line.number)} {plain(line.customer)}: {said(line.reasons, lang)}")
            out(f"  {t('cli.dry_run.decision', label=Msg('decision_payments'), count=len(preview.payments))}")
            for payment in preview.payments:
                payment_words = t("cli.dry_run.payment", number=payment.number, customer=payment.customer,
                                  amount=payment.amount, day=payment.pay_date)
                out(f"    {payment_words}")
        return EXIT_FAILED if failed else EXIT_OK


def _already_booked(t: Speaker, store: Store, identity_id: int, numbers: list[str]) -> None:
    """Already booked is two things, counted apart under the standing's names: booked by the link, and adopted."""
    from sync.jobs import overview

    apart = overview.already_booked_apart(store, identity_id, numbers)
    for name in ("booked", "adopted"):
        out(f"    {t('cli.dry_run.decision', label=Msg(overview.OVERVIEW_COUNTS[name]), count=apart[name])}")
