"""What the link tells people without being looked at: the kinds of problem it announces (`NoticeKind`) and what an
outgoing message says of one (`Said`).

A problem is state, not an event: after every run and check the account's problems are worked out again from its
own data (`sync.jobs.watch`), and the deployment's ledger of problems (the catalog's `notices`) learns which are new
and which are over. A new one is announced once ("started"), its end once ("over"); one that lasts is not said
again, across restarts, and a manual run or a check that finds it finds the same problem as the schedule.
Every message waits in the catalog's `messages` until each target that hears its account has it
(`sync.jobs.deliver`), outside any run.

The words are in the catalogs only, by kind: `notice.<kind>.title` (a message's subject), `notice.<kind>.what` (what
is wrong, filled from the notice's values), `notice.<kind>.fix` (the one thing to do) and `notice.<kind>.over` (it
is over); `FIX_PAGE` names the console page where it is fixed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from sync.core.words import N_, NN_, Msg


class NoticeKind(StrEnum):
    LINK_REFUSED = "link_refused"              # SnelStart refuses the identity's koppelsleutel
    GRIPP_KEY_REFUSED = "gripp_key_refused"    # Gripp refuses the account's API key
    NO_INTEGRATIONS = "no_integrations"        # the SnelStart subscription no longer allows integrations
    RUN_FAILED = "run_failed"                  # the last automatic run failed
    FAILING_IN_ROW = "failing_in_row"          # that many automatic runs in a row failed (a setting)
    SCHEDULE_OVERDUE = "schedule_overdue"      # no successful run for two intervals
    WAITING_FOR_PERSON = "waiting_for_person"  # invoices newly waiting for a person: conflicts, contradicting
                                               # customers, blocked; one message lists them
    GRIPP_QUOTA = "gripp_quota"                # Gripp's hourly quota spent twice in one day


class Said(StrEnum):
    """What one outgoing message says."""

    STARTED = "started"  # a problem began
    OVER = "over"        # it is over ("opgelost")
    DIGEST = "digest"    # the daily list of what is still open
    TEST = "test"        # "Testbericht sturen" / `python -m sync notify test`


# The console page where each kind of problem is fixed (the page's address, `CONSOLE_PUBLIC_URL/<page>`, opened
# with `?account=<account>` and, for an identity's problem, `&identity=<identity_id>`).
FIX_PAGE: dict[NoticeKind, str] = {
    NoticeKind.LINK_REFUSED: "Koppelen",            # link the administration again
    NoticeKind.GRIPP_KEY_REFUSED: "Klanten",        # support replaces the account's Gripp key
    NoticeKind.NO_INTEGRATIONS: "Controles",        # the subscription: see the integrations check
    NoticeKind.RUN_FAILED: "Synchronisatie",        # the run's reason, and "Nu synchroniseren"
    NoticeKind.FAILING_IN_ROW: "Synchronisatie",
    NoticeKind.SCHEDULE_OVERDUE: "Synchronisatie",  # the schedule (paused? interval?) and the last runs
    NoticeKind.WAITING_FOR_PERSON: "Synchronisatie",  # the invoices waiting for a decision, with their way out
    NoticeKind.GRIPP_QUOTA: "Synchronisatie",       # fewer runs, or a larger interval
}

PARTS = ("title", "what", "fix", "over")
# The catalog keys, spelled out so that extraction (`make catalog`) keeps them: `notice.<kind>.<part>`.
WORDS: dict[NoticeKind, tuple[str, str, str, str]] = {
    NoticeKind.LINK_REFUSED: (N_("notice.link_refused.title"), N_("notice.link_refused.what"),
                              N_("notice.link_refused.fix"), N_("notice.link_refused.over")),
    NoticeKind.GRIPP_KEY_REFUSED: (N_("notice.gripp_key_refused.title"), N_("notice.gripp_key_refused.what"),
                                   N_("notice.gripp_key_refused.fix"), N_("notice.gripp_key_refused.over")),
    NoticeKind.NO_INTEGRATIONS: (N_("notice.no_integrations.title"), N_("notice.no_integrations.what"),
                                 N_("notice.no_integrations.fix"), N_("notice.no_integrations.over")),
    NoticeKind.RUN_FAILED: (N_("notice.run_failed.title"), N_("notice.run_failed.what"),
                            N_("notice.run_failed.fix"), N_("notice.run_failed.over")),
    NoticeKind.FAILING_IN_ROW: (N_("notice.failing_in_row.title"), NN_("notice.failing_in_row.what"),
                                N_("notice.failing_in_row.fix"), N_("notice.failing_in_row.over")),
    NoticeKind.SCHEDULE_OVERDUE: (N_("notice.schedule_overdue.title"), N_("notice.schedule_overdue.what"),
                                  N_("notice.schedule_overdue.fix"), N_("notice.schedule_overdue.over")),
    NoticeKind.WAITING_FOR_PERSON: (NN_("notice.waiting_for_person.title"), NN_("notice.waiting_for_person.what"),
                                    N_("notice.waiting_for_person.fix"), NN_("notice.waiting_for_person.over")),
    NoticeKind.GRIPP_QUOTA: (N_("notice.gripp_quota.title"), N_("notice.gripp_quota.what"),
                             N_("notice.gripp_quota.fix"), N_("notice.gripp_quota.over")),
}


def notice_words(kind: NoticeKind | str, part: str, values: Mapping[str, Any]) -> Msg:
    """One part (`PARTS`) of what a message about a problem of `kind` says, filled from its `values_json` (a
    message stored in it, such as a run's reason, is read back as a message): `say(notice_words(…), lang)`."""
    key = WORDS[NoticeKind(kind)][PARTS.index(part)]
    values = dict(values)
    more = values.get("more")
    if isinstance(more, int) and more > 0 and isinstance(values.get("numbers"), list):
        # The watcher names at most so many invoices and counts the rest: the list says it is not complete.
        values["numbers"] = [*values["numbers"], Msg(NN_("notice.waiting_for_person.more"), n=more).to_json()]
    found = Msg.from_json({"msg": key, "values": values})
    assert found is not None
    return found
