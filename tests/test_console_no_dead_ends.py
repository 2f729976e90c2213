"""No dead ends, no empty promises (issue 24, item 4): what a new-user trial found in the console. A message never
sends the reader to the page they are on, a way to a fix is a link, a button always does something, a pointer
points where the thing is, a step not done yet is no error, a reason is said once, every difference says what it
means, a row names its customer, a filter offers each choice once, and the accounts page agrees with Overzicht
right after a decision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from console import runtime, views
from sync.core.events import label as event_label
from sync.jobs import accounts
from sync.jobs.linking import link_with_key
from sync.jobs.runner import run_identity
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_STUDIO, koppelsleutel_for
from sync.sandbox.world import ALL_SCOPES
from sync.store import history, outbox
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.test_console_records import synced


def walk(node) -> Iterator:  # AppTest's element tree, in the order the page draws it
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def drawn(at) -> list[tuple[str, str, object]]:
    """Every element of the page in order: (type, its text or label, its key)."""
    return [(str(getattr(n, "type", "")), helpers.plain(getattr(n, "value", None) if getattr(n, "type", "") in (
        "markdown", "caption", "subheader", "info", "error", "warning", "success") else getattr(n, "label", "")),
        getattr(n, "key", None)) for n in walk(at.main)]


def revoked_and_run(console: Services) -> None:
    """Identity 1's koppelsleutel revoked in SnelStart, then a sync: the run fails and the link reads broken."""
    console.sandbox.snelstart.revoke_key(koppelsleutel_for(ADMIN_STUDIO))
    run_identity(console, 1, trigger="manual", actor="tester")
    assert setup_repo.get_link(console.store, 1).health == "broken"


# -- a. Koppelen never sends the reader to Koppelen ---------------------------------------------------------------
def test_koppelen_says_what_to_do_here_for_a_broken_link_never_go_to_koppelen(console: Services) -> None:
    revoked_and_run(console)
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    [broken] = [helpers.plain(e.value) for e in at.error]
    assert "werkt niet meer" in broken and "hier opnieuw" in broken and "stap 2" in broken
    english = helpers.page("koppelen", lang="en", query={"identity": "1"})
    [broken] = [helpers.plain(e.value) for e in english.error]
    assert "again here" in broken and "under Linking" not in broken
    # Elsewhere the way to Koppelen is still the right words.
    assert "Koppel de administratie opnieuw via Koppelen" in helpers.texts(helpers.page("overzicht"))

    at.button(key="check-1").click().run()  # step 0: the key check fails, with what to do here
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert "Koppel de administratie opnieuw in stap 2 hieronder" in text
    assert "via Koppelen" not in text and "onder Koppelen" not in text


# -- b. the way to the customer mapping is one click ---------------------------------------------------------------
def test_a_contradicting_customer_links_to_the_customer_mapping(console: Services) -> None:
    seeded = synced(console)
    at = helpers.page("synchronisatie")
    helpers.no_exception(at)
    [way] = [link for link in at.get("page_link") if "Klantkoppeling" in link.label]
    assert way.proto.page.endswith("controles.py") or "Controles" in way.proto.page
    query = dict(pair.split("=") for pair in way.proto.query_string.split("&"))
    assert query == {"account": console.account, "identity": "1", "lang": "nl"}

    # On Controles itself the mapping is further down: a link to its section, not to the page the reader is on.
    checks = helpers.page("controles", query={"identity": "1"})
    helpers.no_exception(checks)
    assert f"Klantgegevens spreken elkaar tegen bij factuur {seeded['contradiction_number']}" in helpers.texts(checks)
    assert any("(#customer-mapping)" in str(m.value) for m in checks.markdown)
    assert any(h.proto.anchor == "customer-mapping" for h in checks.subheader)
    assert not [link for link in checks.get("page_link") if "Klantkoppeling" in link.label]


# -- c. "Voorstel gebruiken" only when there is a proposal that changes the field ---------------------------------
def test_use_the_suggestion_is_offered_only_when_there_is_one_that_changes_the_date(console: Services) -> None:
    key = console.sandbox.snelstart.issue_key(ADMIN_ACADEMY, list(ALL_SCOPES))
    link_with_key(console, 3, key, start_date=date(2026, 1, 1), actor="tester")  # nothing of it in SnelStart yet
    at = helpers.page("koppelen", query={"identity": "3"})
    helpers.no_exception(at)
    assert any("Er staat nog geen factuur van deze identiteit in SnelStart" in helpers.plain(i.value) for i in at.info)
    assert not [b for b in at.button if b.key == "use-suggestion-3"]

    at = helpers.page("koppelen", query={"identity": "1"})
    at.button(key="use-suggestion-1").click().run()
    helpers.no_exception(at)
    assert not [b for b in at.button if b.key == "use-suggestion-1"]  # the field holds it: nothing left to do


# -- d. step 3 holds what it points to ---------------------------------------------------------------------------
def test_step_three_of_a_linked_identity_is_its_start_date_not_a_pointer_past_the_paste_box(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    order = drawn(at)
    step3 = next(i for i, (kind, text, _) in enumerate(order) if kind == "subheader" and text.startswith("Stap 3"))
    field = next(i for i, (_, _, key) in enumerate(order) if key == "linked-start-1")
    paste = next(i for i, (kind, text, _) in enumerate(order) if kind == "expander" and "plakken" in text)
    assert step3 < field < paste
    assert "hieronder onder Startdatum" not in helpers.texts(at)


# -- e. a step not done yet is no error -------------------------------------------------------------------------
def test_step_zero_shows_the_steps_still_to_come_neutrally(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "3"})
    at.button(key="check-3").click().run()
    helpers.no_exception(at)
    lines = [helpers.plain(m.value) for m in at.markdown]
    assert not [line for line in lines if ":red[" in line or ":orange[" in line], lines
    [waiting] = [line for line in lines if "Nog niet gedaan" in line]
    assert ":gray[:material/radio_button_unchecked:]" in waiting
    assert "Koppelsleutel en administratie" in waiting and "Startdatum" in waiting
    assert any(":green[" in line and "Gripp API-sleutel" in line for line in lines)  # what can be checked, is


def test_checks_that_wait_for_the_link_say_so_and_keep_their_status(console: Services) -> None:
    from sync.jobs.checks import PASS, run_checks

    results = run_checks(console, 3)
    assert all(r.status == PASS or r.waits_for_link for r in results)
    assert {r.check for r in results if r.waits_for_link} >= {"koppelsleutel", "start_date", "dry_run"}
    assert {r.status for r in results if r.check in ("koppelsleutel", "start_date")} == {"fail"}  # `check` exits 1
    assert not [r for r in run_checks(console, 1, include_dry_run=False) if r.waits_for_link]


# -- f. a reason once ------------------------------------------------------------------------------------------
def test_a_broken_links_failed_run_says_its_reason_once_on_overzicht(console: Services) -> None:
    revoked_and_run(console)
    at = helpers.page("overzicht")
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert text.count("De koppelsleutel van deze administratie werkt niet meer") == 1, text


# -- g, h, i. Openstaande posten ---------------------------------------------------------------------------------
def test_every_difference_without_a_reason_of_its_own_says_what_it_means(console: Services) -> None:
    run_identity(console, 1, trigger="manual", actor="tester")
    run_identity(console, 2, trigger="manual", actor="tester")
    for identity, kind in ((1, "paid_in_gripp_only"), (2, "only_in_snelstart")):
        frame = views.open_items(console, identity)
        numbers = set(frame.loc[frame["class"] == kind, "number"])
        assert numbers, kind  # the small demo has one of each
        at = helpers.page("openstaande_posten", query={"identity": str(identity)})
        helpers.no_exception(at)
        table = helpers.grid(at)
        reasons = table.loc[table["Factuur"].isin(numbers), "Reden"]
        assert len(reasons) == len(numbers) and all(reasons.str.len() > 0), kind
        if kind == "paid_in_gripp_only":
            assert all("alleen in Gripp" in r and "in SnelStart" in r for r in reasons)
        english = helpers.page("openstaande_posten", lang="en", query={"identity": str(identity)})
        assert all(helpers.grid(english).set_index("Invoice").loc[list(numbers), "Reason"].str.len() > 0)


def test_an_item_only_snelstart_has_names_its_relatie(console: Services) -> None:
    run_identity(console, 2, trigger="manual", actor="tester")
    link = setup_repo.get_link(console.store, 2)
    expected = {row["factuurnummer"]: row["name"] for row in console.store.rows(
        """SELECT o.factuurnummer, r.name FROM ss_open_items o
           JOIN ss_relaties r ON r.administration_id = o.administration_id AND r.relatie_id = o.relatie_id
           WHERE o.administration_id = ?""", [link.administration_id])}
    frame = views.open_items(console, 2)
    only = frame[frame["class"] == "only_in_snelstart"]
    assert len(only) and set(only["number"]) <= set(expected)
    at = helpers.page("openstaande_posten", query={"identity": "2"})
    table = helpers.grid(at).set_index("Factuur")
    for number in only["number"]:
        assert table.loc[number, "Klant"] == expected[number] and expected[number]


def test_an_empty_table_offers_no_download(console: Services) -> None:
    run_identity(console, 1, trigger="manual", actor="tester")
    at = helpers.page("openstaande_posten", query={"search": "no-such-invoice-or-customer"})
    helpers.no_exception(at)
    assert not at.dataframe  # no empty grid (it says "empty", in English): the lists say so in words
    assert not at.download_button
    at.text_input(key="oi-search").input("").run()
    assert [b.label for b in at.download_button] == ["Download als CSV", "Download als CSV"]


# -- j. the log's kind filter offers each name once ------------------------------------------------------------------
def test_the_logs_kind_filter_offers_each_name_once_and_filters_every_kind_under_it(console: Services) -> None:
    from sync.jobs import activation, linking

    linking.unlink(console, 2, actor="tester")
    activation.start_activation(console, 3, actor="tester")
    linking_kinds = {kind for kind in views.event_kinds(console.store) if event_label(kind, "nl") == "Koppeling"}
    assert {"unlinked", "link_started"} <= linking_kinds  # the premise: several kinds are said "Koppeling"

    at = helpers.page("synchronisatie")
    options = helpers.choice(at, "selectbox", "log-kind").options
    assert len(options) == len(set(options)) and options.count("Koppeling") == 1
    helpers.choice(at, "selectbox", "log-kind").set_value(min(linking_kinds)).run()
    helpers.no_exception(at)
    log = at.dataframe[-1].value
    assert set(log["Soort"]) == {"Koppeling"}
    assert len(log) == len(history.events(console.store, kind=linking_kinds, limit=10_000)) >= 2
    at.selectbox(key="lang").set_value("en").run()  # the choice stays when the reader switches language
    assert helpers.choice(at, "selectbox", "log-kind").value == min(linking_kinds)
    assert set(at.dataframe[-1].value["Kind"]) == {event_label(min(linking_kinds), "en")}


# -- k. the accounts page agrees with Overzicht right after a decision ------------------------------------------------
def test_adopting_a_conflict_updates_the_accounts_page_at_once(console: Services) -> None:
    seeded = synced(console)

    def stuck_on_the_accounts_page() -> int:
        [row] = [row for row in accounts.overview(runtime.deployment(), "cli") if row.key == console.account]
        return row.stuck

    def stuck_on_overzicht() -> int:
        return sum(sum(views.booking_counts(console.store, i["identity_id"])[name]
                       for name in ("blocked", "failed", "conflict")) for i in views.linked_identities(console.store))

    assert stuck_on_the_accounts_page() == stuck_on_overzicht()
    at = helpers.page("controles", query={"identity": "1"})
    at.checkbox(key=f"checks-adopt-sure-1-{seeded['conflict']}").check().run()
    at.button(key=f"checks-adopt-1-{seeded['conflict']}").click().run()
    helpers.no_exception(at)
    assert outbox.get(console.store, 1, seeded["conflict"])["state"] == "booked"
    assert stuck_on_the_accounts_page() == stuck_on_overzicht()
