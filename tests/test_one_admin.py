"""One administration, one link (issue 23, item 3): linking an identity to a SnelStart administration that another
identity of any account links already is refused, naming that account and identity, in both languages — pasted,
through SnelStart's activation flow and on the command line — unless support confirms it on purpose (recorded with
the person's name); then both links warn, on every surface that shows a link, until one side is unlinked. The
deployment's catalog keeps which identity of which account links which administration, also for links made before
it did. Koppelen's side is in test_console_linking.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.auth.access import Actor
from sync.cli import EXIT_FAILED, EXIT_OK, main
from sync.core.config import load_settings
from sync.core.events import render
from sync.core.words import say
from sync.jobs import accounts
from sync.jobs.activation import confirm_activation, handle_webhook, start_activation
from sync.jobs.checks import CheckKey, CheckStatus, run_checks
from sync.jobs.identities import remove_identity
from sync.jobs.linking import LinkError, link_with_key, shared_administrations, unlink
from sync.sandbox.seed import ADMIN_STUDIO, FIRST_ACCOUNT
from sync.sandbox.seed_accounts import ADMIN_KLEIMEER_ONTWERP, KLEIMEER
from sync.sandbox.world import ALL_SCOPES
from sync.store import check_results, history
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.wiring import Deployment, Services

STUDIO = FIRST_ACCOUNT  # its identity 1, Studio Noord B.V., links ADMIN_STUDIO
ANNA = Actor("Anna de Vries", "support")
THEIRS_NL = "identiteit 1 (Studio Noord B.V.) van klant Studio Noord (studio-noord)"
THEIRS_EN = "identity 1 (Studio Noord B.V.) of account Studio Noord (studio-noord)"
OURS_NL = "identiteit 1 (Kleimeer Landschapsarchitectuur B.V.) van klant Kleimeer Landschapsarchitectuur (kleimeer)"


def open_deployment(folder: Path) -> Deployment:
    return Deployment(load_settings({"SYNC_DB_PATH": str(folder / "sync.duckdb"),
                                     "CONSOLE_PUBLIC_URL": "http://console.test"}), sleep=lambda seconds: None)


@pytest.fixture
def deployment(cli_env: Path) -> Iterator[Deployment]:
    """The sandbox's three accounts; Kleimeer knows its identity 1 (as "Identiteiten ophalen" would find it)."""
    opened = open_deployment(cli_env)
    try:
        kleimeer = opened.services(KLEIMEER)
        setup_repo.upsert_identity(kleimeer.store, 1, "Kleimeer Landschapsarchitectuur B.V.")
        yield opened
    finally:
        opened.close()


def studio_key(services: Services) -> str:
    """What SnelStart's "Maatwerk" tile shows for Studio Noord's administration (someone chose the wrong one)."""
    assert services.sandbox is not None
    return services.sandbox.snelstart.issue_key(ADMIN_STUDIO, list(ALL_SCOPES))


def shared_words(services: Services, identity_id: int, lang: str) -> str:
    return say(shared_administrations(services)[identity_id].message, lang)


# -- refused ------------------------------------------------------------------------------------------------------
def test_another_accounts_administration_is_refused_naming_that_account_and_identity(deployment):
    kleimeer = deployment.services(KLEIMEER)
    with pytest.raises(LinkError) as caught:
        link_with_key(kleimeer, 1, studio_key(kleimeer), actor=ANNA)
    assert caught.value.code == "shared"
    nl, en = say(caught.value.message, "nl"), say(caught.value.message, "en")
    assert "Administratie ‘Studio Noord B.V.’ is al gekoppeld aan " + THEIRS_NL in nl
    assert "Administration ‘Studio Noord B.V.’ is already linked to " + THEIRS_EN in en
    assert setup_repo.get_link(kleimeer.store, 1) is None
    assert shared_administrations(deployment.services(STUDIO)) == {}  # nothing to warn about: nothing was linked


def test_the_activation_flow_is_refused_the_same_way(deployment):
    kleimeer = deployment.services(KLEIMEER)
    request = start_activation(kleimeer, 1, actor=ANNA)
    answer = handle_webhook(kleimeer, json.dumps({"KoppelSleutel": studio_key(kleimeer), "ActionType": "Create",
                                                  "ReferenceKey": request.reference_key}).encode())
    assert answer.status == 200
    with pytest.raises(LinkError) as caught:
        confirm_activation(kleimeer, 1, request.reference_key, actor=ANNA)
    assert caught.value.code == "shared" and THEIRS_NL in say(caught.value.message, "nl")
    assert setup_repo.get_link(kleimeer.store, 1) is None

    confirm_activation(kleimeer, 1, request.reference_key, actor=ANNA, confirm_shared=True)
    assert setup_repo.get_link(kleimeer.store, 1).administration_id == ADMIN_STUDIO
    assert history.events(kleimeer.store, identity_id=1, kind="link_shared")[0]["actor"] == ANNA.name


def test_its_own_administration_again_is_not_refused(deployment):
    kleimeer = deployment.services(KLEIMEER)
    own = kleimeer.sandbox.snelstart.issue_key(ADMIN_KLEIMEER_ONTWERP, list(ALL_SCOPES))
    link_with_key(kleimeer, 1, own, actor=ANNA)
    link_with_key(kleimeer, 1, kleimeer.sandbox.snelstart.issue_key(ADMIN_KLEIMEER_ONTWERP, list(ALL_SCOPES)),
                  actor=ANNA)  # a new key for the same administration
    studio = deployment.services(STUDIO)
    # Studio's identity 1 again, while Kleimeer shares its administration on purpose: it is its own, so no question.
    link_with_key(kleimeer, 1, studio_key(kleimeer), actor=ANNA, confirm_shared=True)
    link_with_key(studio, 1, studio_key(studio), actor=ANNA)
    link_with_key(studio, 1, studio_key(studio), actor=ANNA, confirm_shared=True)  # nothing to confirm: no event
    assert setup_repo.get_link(studio.store, 1).administration_id == ADMIN_STUDIO
    assert history.events(studio.store, kind="link_shared") == []
    assert "Anna de Vries" in shared_words(studio, 1, "nl")  # the confirmation is kept with the new key


# -- confirmed on purpose ------------------------------------------------------------------------------------------
def test_confirmed_on_purpose_both_links_warn_until_one_is_unlinked(deployment):
    kleimeer, studio = deployment.services(KLEIMEER), deployment.services(STUDIO)
    link_with_key(kleimeer, 1, studio_key(kleimeer), actor=ANNA, confirm_shared=True)
    assert setup_repo.get_link(kleimeer.store, 1).administration_id == ADMIN_STUDIO

    event = history.events(kleimeer.store, identity_id=1, kind="link_shared")[0]
    assert event["actor"] == "Anna de Vries"
    assert render(event, "nl") == ("Anna de Vries koppelde Kleimeer Landschapsarchitectuur B.V. bewust aan "
                                   f"administratie ‘Studio Noord B.V.’, naast {THEIRS_NL}.")
    assert "Anna de Vries linked Kleimeer Landschapsarchitectuur B.V. to administration" in render(event, "en")

    ours, theirs = shared_words(kleimeer, 1, "nl"), shared_words(studio, 1, "nl")
    assert f"ook gekoppeld aan {THEIRS_NL}" in ours and "Zo bevestigd door Anna de Vries" in ours
    assert f"ook gekoppeld aan {OURS_NL}" in theirs and "Zo bevestigd door Anna de Vries" in theirs
    assert "Confirmed on purpose by Anna de Vries" in shared_words(studio, 1, "en")
    assert 2 not in shared_administrations(studio)  # Noord Advies has an administration of its own
    health = {row.key: row.health for row in accounts.overview(deployment, "cli")}
    assert (health[KLEIMEER].shared_links, health[STUDIO].shared_links, health["hofstra-installatie"].shared_links) \
        == (1, 1, 0)

    # The checks list (Controles) says it too: the key works, the administration is shared.
    checked = run_checks(studio, 1, include_dry_run=False, only=[CheckKey.KOPPELSLEUTEL])[0]
    assert checked.status == CheckStatus.WARNING and OURS_NL in say(checked.explanation, "nl")

    assert unlink(kleimeer, 1, actor=ANNA)
    assert shared_administrations(studio) == {} and shared_administrations(kleimeer) == {}
    health = {row.key: row.health for row in accounts.overview(deployment, "cli")}
    assert (health[KLEIMEER].shared_links, health[STUDIO].shared_links) == (0, 0)
    assert run_checks(studio, 1, include_dry_run=False, only=[CheckKey.KOPPELSLEUTEL])[0].ok


def test_a_removed_account_or_identity_links_nothing_any_more(deployment):
    kleimeer, studio = deployment.services(KLEIMEER), deployment.services(STUDIO)
    link_with_key(kleimeer, 1, studio_key(kleimeer), actor=ANNA, confirm_shared=True)
    accounts.remove_account(deployment, KLEIMEER, actor=ANNA)
    assert shared_administrations(studio) == {}
    assert [link.account_key for link in deployment.catalog.links_to(ADMIN_STUDIO)] == [STUDIO]

    assert unlink(studio, 2, actor=ANNA) and remove_identity(studio, 2, actor=ANNA)
    assert {link.identity_id for link in deployment.catalog.links_to(ADMIN_STUDIO)} == {1}


# -- links made before the catalog kept them ------------------------------------------------------------------------
def test_links_made_before_the_catalog_kept_them_are_learnt_on_its_first_open(cli_env):
    opened = open_deployment(cli_env)
    catalog_file = opened.settings.catalog_file
    opened.close()
    # A catalog as it was before: its migration ran, nothing learnt yet.
    catalog = Store(catalog_file, migrations="sync.store.catalog_migrations")
    try:
        catalog.execute("DELETE FROM administration_links")
        catalog.execute("DELETE FROM administration_links_known")
    finally:
        catalog.close()
    opened = open_deployment(cli_env)
    try:
        assert [(link.account_key, link.identity_id) for link in opened.catalog.links_to(ADMIN_STUDIO)] \
            == [(STUDIO, 1)]
        kleimeer = opened.services(KLEIMEER)
        setup_repo.upsert_identity(kleimeer.store, 1, "Kleimeer Landschapsarchitectuur B.V.")
        with pytest.raises(LinkError):
            link_with_key(kleimeer, 1, studio_key(kleimeer), actor=ANNA)
    finally:
        opened.close()


# -- the command line -------------------------------------------------------------------------------------------
def test_the_link_command_refuses_and_takes_supports_confirmation_by_name(deployment, cli_env, capsys):
    key = studio_key(deployment.services(KLEIMEER))
    sandbox = deployment.sandbox
    sandbox.world.save(sandbox.state_path)  # the key SnelStart minted, for the command's own sandbox
    deployment.close()  # one process owns the files: the command opens them itself

    assert main(["link", "--account", KLEIMEER, "--identity", "1", "--key", key]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert THEIRS_NL in err and "--confirm-shared NAAM" in err
    assert main(["--lang", "en", "link", "--account", KLEIMEER, "--identity", "1", "--key", key]) == EXIT_FAILED
    assert THEIRS_EN in capsys.readouterr().err

    assert main(["link", "--account", KLEIMEER, "--identity", "1", "--key", key,
                 "--confirm-shared", "Anna de Vries"]) == EXIT_OK
    out = capsys.readouterr()
    assert "Zo bevestigd door Anna de Vries" in out.err
    assert main(["status", "--account", STUDIO]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"ook gekoppeld aan {OURS_NL}" in out and "Anna de Vries" in out
    assert main(["--lang", "en", "status", "--account", KLEIMEER]) == EXIT_OK
    assert f"also linked to {THEIRS_EN}" in capsys.readouterr().out
    assert main(["accounts"]) == EXIT_OK
    assert "1 koppeling met een gedeelde administratie" in capsys.readouterr().out

    opened = open_deployment(cli_env)
    try:
        kleimeer = opened.services(KLEIMEER)
        assert history.events(kleimeer.store, identity_id=1, kind="link_shared")[0]["actor"] == "Anna de Vries"
    finally:
        opened.close()


# -- never "In orde" while shared (trial finding) -------------------------------------------------------------------
def share_verified(deployment: Deployment) -> None:
    """Support links Kleimeer's identity 1 beside Studio Noord's on purpose; SnelStart accepts every key of both
    (as "Controleren" finds), both start on Studio Noord's start date, no check fails: without the shared
    administration, both accounts would be in order."""
    kleimeer, studio = deployment.services(KLEIMEER), deployment.services(STUDIO)
    start = setup_repo.get_link(studio.store, 1).start_date
    link_with_key(kleimeer, 1, studio_key(kleimeer), start_date=start, actor=ANNA, confirm_shared=True)
    for services in (kleimeer, studio):
        for link in setup_repo.links(services.store):
            setup_repo.set_link_health(services.store, link.identity_id, setup_repo.LinkHealth.OK)
            check_results.record(services.store, link.identity_id,  # checked: their setup checks pass
                                 [(check, "pass", None) for check in check_results.SETUP])
        deployment.record_health(services)


def test_a_shared_administration_is_a_warning_on_klanten_never_in_orde(console):
    from streamlit.testing.v1 import AppTest

    from console import runtime
    from tests import console_helpers as helpers
    from tests.test_console_accounts import klanten, links_of

    deployment = runtime.deployment()
    setup_repo.upsert_identity(deployment.services(KLEIMEER).store, 1, "Kleimeer Landschapsarchitectuur B.V.")
    share_verified(deployment)
    needs = {row.key: accounts.NEEDS[row.need] for row in accounts.overview(deployment, "cli")}
    assert needs == {KLEIMEER: "shared", STUDIO: "shared", "hofstra-installatie": "unchecked"}

    at = klanten()
    helpers.no_exception(at)
    text = helpers.texts(at)
    assert "In orde" not in text and text.count("Gedeelde administratie") == 2  # both rows, what they need
    shown = [helpers.plain(m.value) for m in at.markdown]
    assert shown.count(":orange[:material/link:] Gedeelde administratie") == 2  # a warning: orange
    assert shown.count(":orange[:material/link:] 1 koppeling met een gedeelde administratie") == 2
    order = links_of(at)
    assert order.index("Kleimeer") < order.index("Hofstra") and order.index("Studio") < order.index("Hofstra")

    english = AppTest.from_file(helpers.APP, default_timeout=helpers.TIMEOUT)
    english.session_state["lang"] = "en"
    english.run()
    english.switch_page("pages/klanten.py")
    shown = helpers.texts(english.run())
    assert "Fine" not in shown and shown.count("Shared administration") == 2

    overzicht = helpers.page("overzicht")  # Studio Noord's identity 1: its link's health says it, in orange
    helpers.no_exception(overzicht)
    health = [helpers.plain(m.value) for m in overzicht.markdown if "Koppeling" in m.value]
    assert any(":orange[:material/link:] gedeelde administratie" in h for h in health)
    assert any(":green[:material/check_circle:] in orde" in h for h in health)  # identity 2: its own administration

    assert unlink(deployment.services(KLEIMEER), 1, actor=ANNA)
    deployment.record_health(deployment.services(STUDIO))
    text = helpers.texts(klanten())
    assert "Gedeelde administratie" not in text and "In orde" in text  # Studio Noord, fine again


def test_accounts_list_and_status_say_the_shared_administration_not_in_orde(deployment, capsys):
    share_verified(deployment)
    deployment.close()  # one process owns the files: the command opens them itself

    assert main(["accounts", "list"]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    ours, theirs = (next(line for line in lines if line.startswith(key)) for key in (KLEIMEER, STUDIO))
    for line in (ours, theirs):
        assert "In orde" not in line and "Gedeelde administratie" in line
        assert "1 koppeling met een gedeelde administratie" in line
    hofstra = next(i for i, line in enumerate(lines) if line.startswith("hofstra"))
    assert lines.index(ours) < hofstra and lines.index(theirs) < hofstra  # among what needs a person
    assert main(["--lang", "en", "accounts", "list"]) == EXIT_OK
    ours = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(KLEIMEER))
    assert "Shared administration" in ours and "Fine" not in ours

    assert main(["status", "--account", STUDIO]) == EXIT_OK
    first, second = (line for line in capsys.readouterr().out.splitlines() if "sleutel" in line)
    assert "gedeelde administratie" in first and "in orde" not in first
    assert "in orde" in second  # Noord Advies, its own administration
