"""No dead ends, second trial: what a new user still found. A link opened in a new tab keeps the account, a run that
failed on the link links to Koppelen, Controles points down its own page and says a customer's reason once, one fix
is said once for the problems it clears (in words for several), an empty log says "nog geen" when nothing filters
it, and the button that keeps SnelStart's new key says so, apart from the start date's."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

from sync.core.vault import Vault
from sync.core.words import said, say
from sync.jobs import activation
from sync.jobs.activation import pending_activation
from sync.jobs.checks import CheckKey, run_checks
from sync.jobs.linking import link_with_key
from sync.jobs.preview import preview_identity
from sync.mapping.problems import ProblemCode, explained, make_problem, stored_explained
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_STUDIO
from sync.sandbox.world import ALL_SCOPES
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers
from tests.test_console_no_dead_ends import drawn, revoked_and_run
from tests.test_console_records import synced


# -- 1. the log's "Openen" link keeps the account ----------------------------------------------------------------
def test_the_logs_open_link_carries_the_account_and_the_language(console: Services) -> None:
    seeded = synced(console)
    at = helpers.page("synchronisatie")
    helpers.no_exception(at)
    log = at.dataframe[-1].value
    links = [link for link in log["Openen"] if link]
    assert links
    conflict = next(link for link in links if f"search={seeded['conflict_number']}" in link)
    address = urlsplit(conflict)
    assert address.path.endswith("/Openstaande_posten")
    assert parse_qs(address.query) == {"account": [console.account], "identity": ["1"],
                                       "search": [str(seeded["conflict_number"])], "lang": ["nl"]}


# -- 2. a run that failed on the link links to Koppelen ----------------------------------------------------------
def to_koppelen(at) -> list:
    """The page's own links to Koppelen for an identity (the sidebar's carry no identity)."""
    return [link for link in at.get("page_link") if "oppelen" in link.proto.page and "identity=" in
            link.proto.query_string]


def test_a_run_failed_on_the_link_links_to_koppelen_on_synchronisatie(console: Services) -> None:
    revoked_and_run(console)
    at = helpers.page("synchronisatie")
    helpers.no_exception(at)
    assert "Koppel de administratie opnieuw via Koppelen" in helpers.texts(at)
    [way] = to_koppelen(at)
    query = dict(pair.split("=") for pair in way.proto.query_string.split("&"))
    assert query == {"account": console.account, "identity": "1", "lang": "nl"}


def test_a_healthy_link_gets_no_way_to_koppelen_on_synchronisatie(console: Services) -> None:
    synced(console)
    at = helpers.page("synchronisatie")
    assert not to_koppelen(at)


# -- 3. Controles points down its own page and says a customer's reason once --------------------------------------
def test_controles_points_down_the_page_and_says_the_contradiction_once(console: Services) -> None:
    seeded = synced(console)
    preview_identity(console, 1, actor="tester")
    at = helpers.page("controles", query={"identity": "1"})
    helpers.no_exception(at)
    every = [text for _, text, _ in drawn(at)] + [helpers.plain(t.value) for t in at.text]
    text = "\n".join(every)
    assert "onder Controles → Klantkoppeling" not in text
    assert "hieronder vast onder Klantkoppeling" in text
    reason = "spreken elkaar tegen in SnelStart: relatie 10069"
    assert text.count(reason) == 1, [line for line in every if reason in line]
    assert f"**{seeded['contradiction_number']}**" in "\n".join(str(m.value) for m in at.markdown)
    assert any("de reden staat hierboven onder Klantkoppeling" in helpers.plain(m.value) for m in at.markdown)
    # Elsewhere the way to the mapping still names the page.
    sync = helpers.page("synchronisatie")
    assert "onder Controles → Klantkoppeling" in "\n".join(helpers.plain(t.value) for t in sync.text)


# -- 4. one fix said once, in words for several ------------------------------------------------------------------
def test_problems_one_fix_clears_say_it_once_in_words_for_several() -> None:
    rates = [make_problem(ProblemCode.VAT_UNMAPPED, f"vat:{i}", label=label, vat_id=str(i))
             for i, label in ((7, "21%"), (8, "9%"))]
    said = say(explained(rates), "nl")
    assert said.count("Koppel") == 1 and "Koppel deze BTW-tarieven" in said and "‘21%’" in said and "‘9%’" in said
    assert "Map these VAT rates" in say(explained(rates), "en")
    assert "Koppel dit BTW-tarief" in say(explained(rates[:1]), "nl")  # one: its own words
    stored = say(stored_explained([p.to_json() for p in rates]), "nl")
    assert stored == said
    other = make_problem(ProblemCode.NO_LINES, "invoice:1", number="1")
    mixed = say(explained([rates[0], other, rates[1]]), "nl")
    assert mixed.count("Koppel deze BTW-tarieven") == 1 and mixed.count("Controleer de factuurregels") == 1


def test_noord_academys_log_and_check_say_the_vat_fix_once(console: Services) -> None:
    key = console.sandbox.snelstart.issue_key(ADMIN_ACADEMY, list(ALL_SCOPES))
    link_with_key(console, 3, key, start_date=date(2020, 1, 1), actor="tester")
    [vat] = [r for r in run_checks(console, 3, include_dry_run=False) if r.check == CheckKey.VAT]
    if len(vat.details) > 1:  # several rates unmapped: the fix once, for them all
        fix = say(vat.fix, "nl")
        assert fix.count("Koppel") == 1 and "Koppel deze BTW-tarieven" in fix, fix
    preview = preview_identity(console, 3, actor="tester")
    for line in preview.invoices:
        words = said(line.reasons, "nl") if line.reasons is not None else ""
        assert words.count("Koppel dit BTW-tarief") <= 1 and words.count("Koppel deze BTW-tarieven") <= 1, words


# -- 5. an empty log without a filter ----------------------------------------------------------------------------
def test_an_empty_log_says_nothing_yet_unless_a_filter_hides_it(console: Services) -> None:
    console.store.execute("DELETE FROM events")
    at = helpers.page("synchronisatie")
    helpers.no_exception(at)
    captions = [helpers.plain(c.value) for c in at.caption]
    assert "Nog geen meldingen." in captions and "Geen meldingen die aan het filter voldoen." not in captions
    at.text_input(key="log-search").input("niets").run()
    assert "Geen meldingen die aan het filter voldoen." in [helpers.plain(c.value) for c in at.caption]
    assert "No events yet." in [helpers.plain(c.value) for c in helpers.page("synchronisatie", lang="en").caption]


# -- 6, 7. the key's save button says what it saves, apart from the start date's ----------------------------------
def test_a_new_key_for_a_linked_identity_is_saved_by_its_own_button_apart_from_the_start_date(
        console: Services) -> None:
    request = activation.start_activation(console, 1, actor="tester")
    key = console.sandbox.snelstart.issue_key(ADMIN_STUDIO, list(ALL_SCOPES))
    assert activation.handle_webhook(console, {"KoppelSleutel": key, "ActionType": "Create",
                                               "ReferenceKey": request.reference_key}).status == 200
    assert pending_activation(console, 1) is not None
    at = helpers.page("koppelen", query={"identity": "1", "ref": request.reference_key})
    helpers.no_exception(at)
    order = drawn(at)
    save_key = next(i for i, (_, text, key) in enumerate(order) if key == "save-1")
    step3 = next(i for i, (kind, text, _) in enumerate(order) if kind == "subheader" and text.startswith("Stap 3"))
    save_start = next(i for i, (_, text, key) in enumerate(order) if key == "save-start-1")
    assert save_key < step3 < save_start  # the key's button beside the key, step 3's below its own heading
    assert order[save_key][1] == "Koppeling opslaan" and order[save_start][1] == "Startdatum opslaan"
    assert "klik op **Koppeling opslaan**" in "\n".join(str(m.value) for m in at.markdown)
    english = helpers.page("koppelen", lang="en", query={"identity": "1", "ref": request.reference_key})
    assert [b.label for b in english.button if b.key == "save-1"] == ["Save link"]
    text = helpers.texts(english)
    assert "back here automatically" in text and "by yourself" not in text
    at.button(key="save-1").click().run()
    helpers.no_exception(at)
    assert pending_activation(console, 1) is None
    link = setup_repo.get_link(console.store, 1)
    assert link is not None and link.key_hint == Vault.hint(key)  # the new key is the link's now
