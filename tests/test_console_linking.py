"""Koppelen: the activation wizard (SnelStart sends the key to the webhook, the user lands back and saves), the
paste fallback, a second identity on an administration only with a yes, unlinking with a confirmation, adding an
identity. Keys are only ever shown masked."""

from __future__ import annotations

from datetime import date

from streamlit.testing.v1 import AppTest

from console import runtime
from sync.core import fmt
from sync.core.vault import Vault
from sync.jobs import activation
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_STUDIO
from sync.sandbox.world import ALL_SCOPES
from sync.store import history, link_requests
from sync.store import setup as setup_repo
from sync.wiring import Services
from tests import console_helpers as helpers


def issue_key(services: Services, administration_id: str) -> str:
    """What SnelStart mints when someone links an administration (the 'Maatwerk' tile shows it)."""
    return services.sandbox.snelstart.issue_key(administration_id, list(ALL_SCOPES))


def shown(at) -> str:
    parts = [helpers.texts(at)]
    parts += [str(w.value) for w in at.text_input]
    return "\n".join(parts)


def test_the_activation_wizard_links_an_identity(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "3"})
    helpers.no_exception(at)
    assert helpers.choice(at, "selectbox", "link-identity").value == 3
    assert any("Nog niet gekoppeld" in helpers.plain(i.value) for i in at.info)

    at.toggle(key="switch-3").set_value(True).run()
    assert "Een enkele administratie koppelen" in helpers.texts(at)
    at.button(key="fetch-3").click().run()
    helpers.no_exception(at)
    url = at.get("link_button")[0].proto.url
    request = link_requests.latest(console.store, 3)
    assert request is not None and request["reference_key"] in url
    assert url.startswith("http://console.test/sandbox/snelstart/web/couplings/activate/gripp-sandbox?")
    assert "Koppelen%3Fidentity%3D3" in url  # SnelStart sends the user back to this page

    # In SnelStart the user picks "Noord Academy" and clicks "Koppel": SnelStart POSTs the key to our webhook.
    key = issue_key(console, ADMIN_ACADEMY)
    answer = activation.handle_webhook(console, {"KoppelSleutel": key, "ActionType": "Create",
                                              "ReferenceKey": request["reference_key"]})
    assert answer.status == 200

    # ... and sends the browser back to successUrl.
    back = helpers.page("koppelen", query={"identity": "3", "ref": request["reference_key"]})
    helpers.no_exception(back)
    received = next(text for text in map(helpers.plain, (s.value for s in back.success))
                    if "SnelStart heeft de koppeling afgerond" in text)
    assert "Noord Academy" in received and Vault.hint(key) in received
    assert key not in shown(back)  # never in full
    back.date_input(key="start-3").set_value(date(2026, 1, 1))
    back.button(key="save-3").click().run()
    helpers.no_exception(back)

    link = setup_repo.get_link(console.store, 3)
    assert link is not None and link.administration_id == ADMIN_ACADEMY and link.start_date == date(2026, 1, 1)
    assert any("Noord Academy is gekoppeld aan administratie" in helpers.plain(s.value) for s in back.success)
    assert runtime.scheduler().next_run(3) is not None  # and it is on the schedule
    assert key not in shown(back)


def test_the_paste_fallback_verifies_then_saves(console: Services) -> None:
    key = issue_key(console, ADMIN_ACADEMY)
    at = helpers.page("koppelen", query={"identity": "3"})
    at.toggle(key="switch-3").set_value(True).run()
    at.text_input(key="paste-3").input("not a key at all").run()
    at.button(key="verify-3").click().run()
    assert at.error  # refused with a reason, nothing saved
    assert setup_repo.get_link(console.store, 3) is None

    at.text_input(key="paste-3").input(key).run()
    at.button(key="verify-3").click().run()
    helpers.no_exception(at)
    opened = next(helpers.plain(i.value) for i in at.info if "opent administratie" in helpers.plain(i.value))
    assert "Noord Academy" in opened and Vault.hint(key) in opened and key not in opened
    assert setup_repo.get_link(console.store, 3) is None  # verified only

    at.button(key="save-paste-3").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 3).administration_id == ADMIN_ACADEMY


def test_a_shared_administration_needs_an_explicit_yes(console: Services) -> None:
    key = issue_key(console, ADMIN_STUDIO)  # already linked to identity 1
    at = helpers.page("koppelen", query={"identity": "3"})
    at.toggle(key="switch-3").set_value(True).run()
    at.text_input(key="paste-3").input(key).run()
    at.button(key="verify-3").click().run()
    assert any("al gekoppeld aan identiteit 1 (Studio Noord B.V.) van klant" in helpers.plain(w.value)
               for w in at.warning)
    at.button(key="save-paste-3").click().run()
    helpers.no_exception(at)
    assert any("Eén administratie hoort bij één koppeling" in helpers.plain(w.value)
               for w in at.warning)  # refused without the yes
    assert setup_repo.get_link(console.store, 3) is None

    at.checkbox(key="confirm-shared-paste-3").check().run()
    at.button(key="save-paste-3").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 3).administration_id == ADMIN_STUDIO


def test_unlinking_asks_for_confirmation(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "2"})
    assert at.button(key="unlink-2").disabled
    at.checkbox(key="unlink-sure-2").check().run()
    at.button(key="unlink-2").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 2) is None
    assert runtime.scheduler().next_run(2) is None
    assert any("Nog niet gekoppeld" in helpers.plain(i.value) for i in at.info)


def test_step_zero_runs_the_subscription_checks(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "3"})
    at.button(key="check-3").click().run()
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert "SnelStart-abonnementssleutel" in text and "Gripp API-sleutel" in text


def test_an_identity_can_be_added_by_id(console: Services) -> None:
    at = helpers.page("koppelen")
    at.text_input(key="new-identity-id").input("7")
    at.text_input(key="new-identity-name").input("Noord Events")
    at.button(key="add-identity").click().run()
    helpers.no_exception(at)
    # Finding 9: an id Gripp does not know is refused with what to check, never added as a ghost.
    assert any("Gripp kent geen facturen of relaties van identiteit 7" in e.value for e in at.error)
    assert 7 not in {row["identity_id"] for row in setup_repo.identities(console.store)}


def test_an_unlinked_identity_can_be_removed_and_added_again_from_gripp(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "3"})
    at.checkbox(key="remove-sure-3").check().run()
    at.button(key="remove-3").click().run()
    helpers.no_exception(at)
    assert 3 not in {row["identity_id"] for row in setup_repo.identities(console.store)}
    assert any("Identiteit ‘Noord Academy’ verwijderd" in s.value for s in at.success)
    at.text_input(key="new-identity-id").input("3")
    at.button(key="add-identity").click().run()
    assert setup_repo.identity_name(console.store, 3) == "Noord Academy"


def test_an_account_new_to_link_fetches_its_identities_from_gripp_on_koppelen(console: Services) -> None:
    """Trial finding: Kleimeer (new to link) said "0 van 0 gekoppeld" on Klanten, and its Koppelen page said to add
    an identity "onder Koppelen" — on Koppelen. The page now offers what `identities discover` does, in words
    that fit it; Klanten says there are no identities yet, then counts the ones found."""
    from sync.jobs import accounts

    at = helpers.page("koppelen", query={"account": "kleimeer"})
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert "Er zijn nog geen identiteiten. Haal ze hieronder op uit Gripp" in text
    assert "onder Koppelen" not in text and not at.main.get("page_link")  # no way to the page it is on
    row = {r.key: r for r in accounts.overview(runtime.deployment(), "test")}["kleimeer"]
    assert row.health.identities == 0

    at.button(key="discover-identities").click().run()
    helpers.no_exception(at)
    assert any("2 identiteiten gevonden in Gripp: Kleimeer Landschapsarchitectuur B.V., Kleimeer Groenbeheer B.V."
               in helpers.plain(s.value) for s in at.success)
    assert helpers.choice(at, "selectbox", "link-identity").options  # pick one and link it, as for any identity
    kleimeer = runtime.deployment().services("kleimeer")
    assert {e["actor"] for e in history.events(kleimeer.store, kind="identity")} == {"sandbox"}  # who asked
    row = {r.key: r for r in accounts.overview(runtime.deployment(), "test")}["kleimeer"]
    assert (row.health.identities, row.health.linked) == (2, 0)  # Klanten: 0 van 2 gekoppeld

    at.button(key="discover-identities").click().run()  # again: nothing new, said so
    assert any("Geen nieuwe identiteiten in Gripp" in helpers.plain(s.value) for s in at.success)
    assert len(history.events(kleimeer.store, kind="identity")) == 2


def test_the_link_switch_is_remembered_in_a_new_session(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "3"})
    assert at.toggle(key="switch-3").value is False
    at.toggle(key="switch-3").set_value(True).run()
    fresh = helpers.page("koppelen", query={"identity": "3"})  # another session
    assert fresh.toggle(key="switch-3").value is True
    assert any(b.key == "fetch-3" for b in fresh.button)


def test_the_start_date_of_a_linked_identity_can_be_changed_with_snelstarts_suggestion(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    hint = next(text for text in (helpers.plain(i.value) for i in at.info) if text.startswith("Voorstel:"))
    assert "de laatste factuur die al in SnelStart staat" in hint
    at.button(key="use-suggestion-1").click().run()
    at.button(key="save-start-1").click().run()
    helpers.no_exception(at)
    saved = setup_repo.get_link(console.store, 1).start_date
    assert hint.startswith(f"Voorstel: {fmt.day(saved)}")
    assert history.events(console.store, identity_id=1, kind="start_date")[0]["actor"] == "sandbox"


def test_support_sets_and_resets_a_linked_identitys_highest_invoice_total(console: Services) -> None:
    from decimal import Decimal

    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    field = at.text_input(key="ceiling-1")
    assert field.label == "Hoogste factuurbedrag" and field.value == "" and field.placeholder == "1000000,00"
    assert "Leeg: de standaard van deze installatie, € 1.000.000,00." in helpers.texts(at)

    field.set_value("250.000").run()  # grouping is not an amount: said, nothing saved
    at.button(key="save-ceiling-1").click().run()
    assert any("‘250.000’ kan geen hoogste factuurbedrag zijn" in helpers.plain(e.value) for e in at.error)
    assert setup_repo.get_link(console.store, 1).max_invoice_total is None

    at.text_input(key="ceiling-1").set_value("250000,50").run()
    at.button(key="save-ceiling-1").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 1).max_invoice_total == Decimal("250000.50")
    assert any("Hoogste factuurbedrag opgeslagen: € 250.000,50." in helpers.plain(s.value) for s in at.success)
    (event,) = history.events(console.store, identity_id=1, kind="ceiling")
    assert event["actor"] == "sandbox"
    assert helpers.page("koppelen", query={"identity": "1"}).text_input(key="ceiling-1").value == "250000,50"

    at.text_input(key="ceiling-1").set_value("").run()  # empty: the deployment's default again
    at.button(key="save-ceiling-1").click().run()
    assert setup_repo.get_link(console.store, 1).max_invoice_total is None
    assert any("weer de standaard, € 1.000.000,00" in helpers.plain(s.value) for s in at.success)

    english = helpers.page("koppelen", lang="en", query={"identity": "1"})
    assert english.text_input(key="ceiling-1").label == "Highest invoice total"


def test_an_english_user_comes_back_from_snelstart_in_english_on_the_same_account(console: Services) -> None:
    """Issue 24 item 2: SnelStart sends the browser back in a new session, which knows only the address. The return
    address carries the language and the account, so the user lands on Koppelen in English, on their account."""
    from urllib.parse import parse_qs, urlsplit

    at = helpers.page("koppelen", lang="en", query={"identity": "3"})
    at.toggle(key="switch-3").set_value(True).run()
    at.button(key="fetch-3").click().run()
    helpers.no_exception(at)
    success = parse_qs(urlsplit(at.get("link_button")[0].proto.url).query)["successUrl"][0]
    back_to = urlsplit(success)
    query = {name: values[0] for name, values in parse_qs(back_to.query).items()}
    assert back_to.path == "/Koppelen"
    assert query["lang"] == "en" and query["account"] == console.account and query["identity"] == "3"

    # SnelStart delivers the key, then sends the browser to that address: a fresh session, nothing but the address.
    key = issue_key(console, ADMIN_ACADEMY)
    assert activation.handle_webhook(console, {"KoppelSleutel": key, "ActionType": "Create",
                                               "ReferenceKey": query["ref"]}).status == 200
    back = helpers.landing("koppelen", query)
    helpers.no_exception(back)
    assert back.title[0].value == "Link with SnelStart"
    assert any("SnelStart finished the link" in helpers.plain(s.value) for s in back.success)


def test_another_accounts_administration_is_refused_on_koppelen_until_support_says_yes(console: Services) -> None:
    """One administration, one link (issue 23): Kleimeer's identity pasted Studio Noord's key. Refused, naming
    Studio Noord's account and identity; with support's "Ja, …" it is linked, recorded with the name, and both links
    warn — on Koppelen and Overzicht, in both languages — until one of them is unlinked."""
    kleimeer = runtime.deployment().services("kleimeer")
    setup_repo.upsert_identity(kleimeer.store, 1, "Kleimeer Landschapsarchitectuur B.V.")
    theirs = "identiteit 1 (Studio Noord B.V.) van klant Studio Noord (studio-noord)"
    ours = "identiteit 1 (Kleimeer Landschapsarchitectuur B.V.) van klant Kleimeer Landschapsarchitectuur (kleimeer)"
    at = helpers.page("koppelen", query={"account": "kleimeer", "identity": "1"})
    at.toggle(key="switch-1").set_value(True).run()
    at.text_input(key="paste-1").input(issue_key(console, ADMIN_STUDIO)).run()
    at.button(key="verify-1").click().run()
    helpers.no_exception(at)
    assert any(f"is al gekoppeld aan {theirs}" in helpers.plain(w.value) for w in at.warning)
    at.button(key="save-paste-1").click().run()
    helpers.no_exception(at)
    assert any(f"Administratie ‘Studio Noord B.V.’ is al gekoppeld aan {theirs}" in helpers.plain(w.value)
               and "Eén administratie hoort bij één koppeling" in helpers.plain(w.value) for w in at.warning)
    assert setup_repo.get_link(kleimeer.store, 1) is None

    sure = at.checkbox(key="confirm-shared-paste-1")
    assert helpers.plain(sure.label) == f"Ja, koppel ‘Studio Noord B.V.’ bewust ook hier, naast {theirs}"
    sure.check().run()
    at.button(key="save-paste-1").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(kleimeer.store, 1).administration_id == ADMIN_STUDIO
    who = history.events(kleimeer.store, identity_id=1, kind="link_shared")[0]["actor"]
    assert who
    assert any(f"ook gekoppeld aan {theirs}" in helpers.plain(w.value) and f"Zo bevestigd door {who}"
               in helpers.plain(w.value) for w in at.warning)

    studio = helpers.page("koppelen", lang="en", query={"identity": "1"})  # the other side, in English
    helpers.no_exception(studio)
    assert any("also linked to identity 1 (Kleimeer Landschapsarchitectuur B.V.) of account Kleimeer "
               f"Landschapsarchitectuur (kleimeer). Confirmed on purpose by {who}" in helpers.plain(w.value)
               for w in studio.warning)
    overview = helpers.page("overzicht")
    assert any(f"ook gekoppeld aan {ours}" in helpers.plain(w.value) for w in overview.warning)
    klanten = AppTest.from_file(helpers.APP, default_timeout=helpers.TIMEOUT)
    klanten.run()
    klanten.switch_page("pages/klanten.py")
    assert helpers.texts(klanten.run()).count("1 koppeling met een gedeelde administratie") == 2  # both rows

    at.checkbox(key="unlink-sure-1").check().run()
    at.button(key="unlink-1").click().run()
    helpers.no_exception(at)
    studio = helpers.page("koppelen", query={"identity": "1"})
    assert not any("ook gekoppeld aan" in helpers.plain(w.value) for w in studio.warning)


def test_support_chooses_where_an_identitys_kostenplaatsen_come_from(console: Services) -> None:
    at = helpers.page("koppelen", query={"identity": "1"})
    helpers.no_exception(at)
    # the collapsed section says the current choice in its title
    assert "Kostenplaats op de boekingsregels: de kostenplaats op de Gripp-regel" in {e.label for e in at.expander}
    choice = at.radio(key="kp-source-1")
    assert choice.value == "line" and choice.format_func("project") == "het project van de regel"
    choice.set_value("project").run()
    at.button(key="save-kp-source-1").click().run()
    helpers.no_exception(at)
    assert setup_repo.get_link(console.store, 1).kostenplaats_source == "project"
    assert any("de kostenplaats komt van het project van de regel" in helpers.plain(s.value) for s in at.success)
    (event,) = history.events(console.store, identity_id=1, kind="mapping")[:1]
    assert event["actor"] == "sandbox"
    english = helpers.page("koppelen", lang="en", query={"identity": "1"})
    assert english.radio(key="kp-source-1").value == "project"
    assert english.radio(key="kp-source-1").label == "Kostenplaats on the booking lines"
    assert "Kostenplaats on the booking lines: the line's project" in {e.label for e in english.expander}
