"""What the overview says about an identity, the same on every surface — the console's Overzicht and Synchronisatie,
the command line's `status` and `run`: the counts it shows and what each is called, what needs a person, and the
link's health by name. The words are catalog keys (the console's own), so a count has one name everywhere."""

from __future__ import annotations

from sync.core.words import N_, NN_
from sync.store import outbox
from sync.store.db import Store
from sync.store.outbox import BookingState

# The identity's standing, as Overzicht's tiles and `status` show it, in that order: the invoices the link booked, the
# ones it adopted (SnelStart had them already), blocked, refused by SnelStart, and the payments brought back to Gripp.
# Booked and adopted stay apart here as in a run's counts: "booked" means one thing on every surface.
OVERVIEW_COUNTS = {"booked": N_("count_booked_by_link"), "adopted": N_("count_adopted"),
                   "blocked": N_("count_blocked"), "failed": N_("count_failed"), "payments": N_("count_payments")}
# What needs a person, under the counts (counted: the key takes `n`).
ATTENTION = {"blocked": NN_("attention_blocked"), "failed": NN_("attention_refused"),
             "conflict": NN_("attention_conflict")}
# What one run did (Synchronisatie's tiles after a sync, `run`): the keys of a run's counts.
RUN_COUNTS = {"booked": N_("count_booked_now"), "adopted": N_("count_adopted"), "blocked": N_("count_blocked"),
              "conflicts": N_("count_conflicts"), "failed": N_("count_failed"),
              "payments_registered": N_("count_payments")}
# A link's health (`links.health`): SnelStart accepted its key, refused it, or was not asked yet; and, said in its
# place (`link_state`), an administration another link links too.
SHARED = "shared"
HEALTH_LABELS = {"ok": N_("health_ok"), "broken": N_("health_broken"), "unknown": N_("health_unknown"),
                 SHARED: N_("health_shared")}


def health_label(health: str | None) -> str:
    """The catalog key of a link's health; anything not known to be ok or broken is not checked yet."""
    return HEALTH_LABELS.get(health or "unknown", HEALTH_LABELS["unknown"])


def link_state(health: str | None, shared: bool, checked: bool) -> str | None:
    """How a link's health reads on Overzicht and in `status`: a link whose administration another link (of any
    account) links too is never "in orde" — it reads "gedeelde administratie" until one side is unlinked; a broken
    link stays broken, the worse of the two. A link whose setup checks never ran (`checked` false) is not "in
    orde" either: nobody knows yet whether its BTW-tarieven and grootboeken are mapped ("nog niet gecontroleerd")."""
    if health == "broken":
        return health
    if shared:
        return SHARED
    return health if checked else "unknown"


def booking_counts(store: Store, identity_id: int) -> dict[str, int]:
    """booked (by the link), adopted, blocked, failed (refused), conflict, pending (to book) and payments (back in
    Gripp)."""
    states = outbox.counts(store, identity_id)
    payments = outbox.payments_registered(store, identity_id)
    adopted = len(outbox.adopted_numbers(store, identity_id))
    return {
        "booked": sum(states.get(s, 0) for s in outbox.BOOKED_STATES) - adopted,
        "adopted": adopted,
        "blocked": states.get(BookingState.BLOCKED, 0),
        "failed": states.get(BookingState.FAILED, 0),
        "conflict": states.get(BookingState.CONFLICT, 0),
        "pending": states.get(BookingState.PENDING, 0) + states.get(BookingState.POSTING, 0),
        "payments": int(payments or 0),
    }


def already_booked_apart(store: Store, identity_id: int, numbers: list[str]) -> dict[str, int]:
    """A dry run's "already booked" invoices as the standing counts them: booked by the link, and adopted."""
    adopted = outbox.adopted_numbers(store, identity_id)
    taken = sum(1 for number in numbers if number in adopted)
    return {"booked": len(numbers) - taken, "adopted": taken}
