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

from enum import StrEnum


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
