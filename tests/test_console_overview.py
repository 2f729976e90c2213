"""Overzicht: per identity the link, last and next run and the counts from the store; a failed automatic run stays
on top until someone clicks "Gezien", which is recorded with who did it."""

from __future__ import annotations

from console import runtime
from sync.core import fmt
from sync.core.events import run_label
from sync.core.words import Msg
from sync.jobs.runner import run_identity
from sync.store import history, outbox
from sync.wiring import Services
from tests import console_helpers as helpers


def test_overview_shows_each_identity_with_the_stores_figures(console: Services) -> None:
    result = run_identity(console, 2, trigger="manual", actor="tester")
    at = helpers.page("overzicht")
    helpers.no_exception(at)
    assert [helpers.plain(s.value) for s in at.subheader] == ["Studio Noord B.V.", "Noord Advies B.V.", "Noord Academy"]

    states = outbox.counts(console.store, 2)
    booked = sum(states.get(s, 0) for s in outbox.BOOKED_STATES)
    payments = console.store.scalar("SELECT count(*) FROM payments_applied WHERE identity_id = 2 AND state = 'done'")
    metrics = [(m.label, m.value) for m in at.metric]
    # booked and adopted apart, as the run that did them counted them (one meaning of "geboekt" on every surface)
    assert booked == result.counts["booked"] + result.counts["adopted"]
    assert metrics[5:10] == [("Geboekt door de koppeling", fmt.count(result.counts["booked"])),
                             ("Overgenomen", fmt.count(result.counts["adopted"])),
                             ("Geblokkeerd", fmt.count(states.get("blocked", 0))),
                            ("Geweigerd", fmt.count(states.get("failed", 0))),
                            ("Betalingen terug in Gripp", fmt.count(payments))]
    assert booked > 0 and states.get("blocked", 0) > 0
    markdown = "\n".join(helpers.plain(m.value) for m in at.markdown)
    assert "Noord Advies" in markdown and "…" in markdown  # administration and masked key
    assert run_label(result.outcome, result.counts, "nl") in markdown
    assert "deels gelukt — 11 geblokkeerd, 1 conflict" in markdown  # what it did, not just "gelukt"
    assert result.outcome in ("ok", "warnings")
    next_run = runtime.scheduler().next_run(1)
    assert fmt.moment(next_run) in markdown
    assert any("Nog niet gekoppeld" in helpers.plain(i.value) for i in at.info)  # identity 3


def test_a_failed_automatic_run_stays_until_seen(console: Services) -> None:
    history.raise_alert(console.store, 1, None, "auto_sync_failed",
                        {"name": "Studio Noord B.V.", "reason": {"nl": "X", "en": "X"}})
    at = helpers.page("overzicht")
    assert any("Automatische synchronisatie van Studio Noord B.V. mislukt" in helpers.plain(e.value) for e in at.error)

    at = helpers.page("overzicht")  # still there on the next visit
    alert_id = history.open_alerts(console.store)[0]["alert_id"]
    at.button(key=f"ack-{alert_id}").click().run()
    helpers.no_exception(at)
    assert not at.error
    seen = console.store.one("SELECT acknowledged_by, acknowledged_at FROM alerts WHERE alert_id = ?", [alert_id])
    assert seen["acknowledged_by"] == "sandbox" and seen["acknowledged_at"] is not None
    assert history.open_alerts(console.store) == []


def test_a_broken_link_shows_its_reason(console: Services) -> None:
    from sync.store import setup as setup_repo

    setup_repo.set_link_health(console.store, 1, "broken", Msg("link.error.key_refused"))
    at = helpers.page("overzicht")
    markdown = "\n".join(helpers.plain(m.value) for m in at.markdown)
    assert "verbroken" in markdown and "SnelStart kent deze koppelsleutel niet (meer)" in markdown
    assert "does not know" not in markdown  # the reader's language only
    assert any("identity=1" in str(link.proto.page) + str(link.proto.query_string) or "Koppelen" in link.label
               for link in at.main.get("page_link"))  # and the way to mend it: to Koppelen
    at = helpers.page("overzicht", lang="en")
    markdown = "\n".join(helpers.plain(m.value) for m in at.markdown)
    assert "SnelStart does not know this koppelsleutel (any more)" in markdown and "kent deze" not in markdown
    assert "stopped until the koppelsleutel works again" in markdown  # no next run promised while it is refused


def test_an_identity_whose_invoices_are_all_blocked_is_red_with_the_count_and_the_way_to_the_fix(
        console: Services) -> None:
    """Finding 8: all 25 blocked was "in orde" and "gelukt", with no link to what to fix."""
    from sync.store import setup as setup_repo

    setup_repo.put_ledger_mapping(console.store, 1, 8000, "8000 Omzet hoog", "9999", "tester")  # every invoice
    setup_repo.put_ledger_mapping(console.store, 1, 8010, "8010 Omzet laag", "9999", "tester")
    setup_repo.put_ledger_mapping(console.store, 1, 8020, "8020 Omzet 0%", "9999", "tester")
    setup_repo.put_ledger_mapping(console.store, 1, 8030, "8030 Omzet verlegd", "9999", "tester")
    result = run_identity(console, 1, trigger="manual", actor="tester")
    assert result.counts["booked"] == 0 and result.counts["blocked"] > 0
    at = helpers.page("overzicht")
    helpers.no_exception(at)
    tile = "\n".join(m.value for m in at.markdown)
    assert "gelukt" not in tile.replace("deels gelukt", "") and "niets geboekt" in tile
    red = [e.value for e in at.error]
    assert any(f"{result.counts['blocked']} facturen geblokkeerd" in e for e in red), red
    links = [link.label for link in at.main.get("page_link")]
    assert "Bekijk en los op onder Controles" in links


def test_the_overview_speaks_english_only_when_asked(console: Services) -> None:
    run_identity(console, 2, trigger="manual", actor="tester")
    at = helpers.page("overzicht", lang="en")
    text = helpers.texts(at)
    assert "partly done — 11 blocked, 1 conflict" in text and "Last sync" in text
    for dutch in ("gelukt", "geblokkeerd", "Laatste synchronisatie", "facturen"):
        assert dutch not in text, dutch
