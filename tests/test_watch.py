"""What is announced (issue 22, items 2, 3 and 5): every kind of problem once when it starts and once when it is
over, across a restart, never again while it lasts, whichever run or check finds it; the words of each in Dutch and
English; and health that says "In orde" only when the checks pass too (Kleimeer, linked with its VAT rates and
ledgers unmapped, once read "In orde" while its Controles said "2 fouten")."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from sync.cli import main
from sync.core.events import EventKind, Outcome, Trigger
from sync.core.notices import FIX_PAGE, PARTS, NoticeKind, Said, notice_words
from sync.core.words import Msg, say
from sync.jobs import accounts
from sync.jobs.checks import run_checks
from sync.jobs.linking import link_with_key
from sync.sandbox.seed import FIRST_ACCOUNT as STUDIO
from sync.sandbox.seed_accounts import (
    HOFSTRA,
    HOFSTRA_TOKEN,
    KLEIMEER,
    KLEIMEER_ADMINISTRATIONS,
    KLEIMEER_FIRST_MONTH,
    KLEIMEER_TOKEN,
)
from sync.sandbox.world import ALL_SCOPES
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.notices import Message
from sync.store.setup import LinkHealth
from sync.wiring import Deployment, Services
from tests import console_helpers as helpers
from tests.test_console_accounts import klanten, links_of
from tests.test_one_admin import open_deployment


@pytest.fixture
def folder(cli_env: Path) -> Path:
    return cli_env


@pytest.fixture
def deployment(folder: Path) -> Iterator[Deployment]:
    opened = open_deployment(folder)
    try:
        yield opened
    finally:
        opened.close()


def messages(deployment: Deployment, account: str = STUDIO) -> list[Message]:
    return deployment.catalog.notices().messages(account)


def kinds_of(deployment: Deployment, found: list[Message]) -> list[tuple[str, str]]:
    notices = {n.notice_id: n.kind for n in deployment.catalog.notices().notices(found[0].account_key)} if found \
        else {}
    return [(notices[m.notice_id], m.said) for m in found if m.notice_id is not None]


def words(kind: str, message: Message, lang: str) -> str:
    parts = ("title", "what", "fix") if message.said == Said.STARTED else ("title", "over")
    return "\n".join(say(notice_words(kind, part, message.values), lang) for part in parts)


# -- making and mending each kind of problem in the demo account's own data ------------------------------------------
def _broken(why: str) -> Callable[[Services], None]:
    return lambda services: setup_repo.set_link_health(services.store, 1, LinkHealth.BROKEN, Msg(why))


def _mended(services: Services) -> None:
    setup_repo.set_link_health(services.store, 1, LinkHealth.OK)


def _runs(*outcomes: str, trigger: str = Trigger.SCHEDULE, ago: timedelta = timedelta(minutes=1)) -> Callable[
        [Services], None]:
    def add(services: Services) -> None:
        store = services.store
        for n, outcome in enumerate(outcomes):
            at = store.now() - ago + timedelta(seconds=n)
            reason = json.dumps(Msg("error.snelstart_busy").to_json()) if outcome == Outcome.FAILED else None
            store.execute(
                """INSERT INTO runs (run_id, identity_id, trigger, dry_run, started_at, finished_at, outcome, message)
                   VALUES (?, 1, ?, FALSE, ?, ?, ?, ?)""",
                [f"r-{trigger}-{outcome}-{ago}-{n}-{at.timestamp()}", trigger, at, at, outcome, reason])
    return add


def _waiting(*numbers: str) -> Callable[[Services], None]:
    def add(services: Services) -> None:
        for n in numbers:
            services.store.execute(
                """INSERT OR REPLACE INTO bookings (identity_id, invoice_id, number, state, amount, updated_at)
                   VALUES (1, ?, ?, 'blocked', 121.00, ?)""", [int(n), n, services.store.now()])
    return add


def _settled(services: Services) -> None:
    services.store.execute("UPDATE bookings SET state = 'booked' WHERE identity_id = 1")


def _quota_spent_twice(services: Services) -> None:
    now = services.store.now()
    for hours in (1, 2):
        history.log_event(services.store, EventKind.PAUSED, identity_id=1,
                          data={"resumes_at": (now + timedelta(hours=hours)).isoformat()})


def _next_day(services: Services) -> None:
    services.store.execute("UPDATE events SET occurred_at = occurred_at - INTERVAL 2 DAY WHERE kind = 'paused'")


CASES: dict[NoticeKind, tuple[Callable[[Services], None], Callable[[Services], None], tuple[str, ...]]] = {
    # kind: (make it, mend it, what its words must name)
    NoticeKind.LINK_REFUSED: (_broken("error.link.koppelsleutel"), _mended, ("Studio Noord B.V.", "Koppel")),
    NoticeKind.GRIPP_KEY_REFUSED: (_broken("error.link.gripp_key"), _mended, ("API",)),
    NoticeKind.NO_INTEGRATIONS: (_broken("error.link.missing_scope"), _mended, ("abonnement",)),
    NoticeKind.RUN_FAILED: (_runs(Outcome.FAILED), _runs(Outcome.OK, trigger=Trigger.MANUAL),
                            ("SnelStart", "Studio Noord B.V.")),
    NoticeKind.SCHEDULE_OVERDUE: (_runs(Outcome.OK, ago=timedelta(days=1)), _runs(Outcome.OK), ("20",)),
    NoticeKind.WAITING_FOR_PERSON: (_waiting("260001", "260002"), _settled, ("260001", "260002")),
    NoticeKind.GRIPP_QUOTA: (_quota_spent_twice, _next_day, ("Gripp",)),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_kind_is_announced_once_when_it_starts_and_once_when_it_is_over_across_a_restart(folder, kind):
    make, mend, named = CASES[kind]
    deployment = open_deployment(folder)
    try:
        services = deployment.services(STUDIO)
        deployment.record_health(services)
        assert messages(deployment) == []  # a fresh demo: nothing wrong that is announced
        make(services)
        deployment.record_health(services)
        started = messages(deployment)
        assert kinds_of(deployment, started) == [(kind, Said.STARTED)]
        deployment.record_health(services)  # a second look finds the same problem: nothing new
        run_checks(services, 1, only=("start_date",))  # a check finds it too: the same problem
        assert messages(deployment) == started
    finally:
        deployment.close()

    deployment = open_deployment(folder)  # a restart: the ledger remembers
    try:
        services = deployment.services(STUDIO)
        deployment.record_health(services)
        assert messages(deployment) == started
        mend(services)
        deployment.record_health(services)
        found = messages(deployment)
        assert kinds_of(deployment, found) == [(kind, Said.STARTED), (kind, Said.OVER)]
        deployment.record_health(services)
        assert messages(deployment) == found  # over is said once
        assert deployment.catalog.notices().open_notices(STUDIO) == []
    finally:
        deployment.close()

    # The words: every part in both languages from the values the message carries, naming the customer.
    for message in found:
        for lang in ("nl", "en"):
            text = words(kind, message, lang)
            assert "Studio Noord" in text, (lang, text)
            if message.said == Said.STARTED and lang == "nl":
                for name in named:
                    assert name in text, (name, text)
        raw = json.dumps(message.values)
        assert "sandbox-gripp-token" not in raw and "koppelsleutel_enc" not in raw  # never a key
    assert FIX_PAGE[kind] in ("Koppelen", "Klanten", "Controles", "Synchronisatie")


def test_failures_in_row_is_a_problem_of_its_own_after_the_setting(folder, monkeypatch):
    monkeypatch.setenv("SYNC_NOTIFY_FAILURES_IN_ROW", "3")
    deployment = open_deployment(folder)
    try:
        assert deployment.settings.notify_failures_in_row == 3
        services = deployment.services(STUDIO)
        _runs(Outcome.FAILED, Outcome.FAILED, ago=timedelta(minutes=10))(services)
        deployment.record_health(services)
        assert kinds_of(deployment, messages(deployment)) == [(NoticeKind.RUN_FAILED, Said.STARTED)]
        _runs(Outcome.FAILED, ago=timedelta(minutes=2))(services)  # the third in a row
        deployment.record_health(services)
        found = messages(deployment)
        assert kinds_of(deployment, found) == [(NoticeKind.RUN_FAILED, Said.STARTED),
                                               (NoticeKind.FAILING_IN_ROW, Said.STARTED)]
        assert found[-1].values["n"] == 3
        assert "3 automatische synchronisaties van Studio Noord B.V." in words(NoticeKind.FAILING_IN_ROW,
                                                                               found[-1], "nl")
        assert "3 automatic syncs" in words(NoticeKind.FAILING_IN_ROW, found[-1], "en")
        _runs(Outcome.OK, trigger=Trigger.SCHEDULE)(services)  # a run that went well ends both
        deployment.record_health(services)
        assert [m.said for m in messages(deployment)][-2:] == [Said.OVER, Said.OVER]
    finally:
        deployment.close()


def test_invoices_newly_waiting_are_listed_once_in_one_message(deployment):
    services = deployment.services(STUDIO)
    _waiting("260001", "260002")(services)
    deployment.record_health(services)
    _waiting("260003")(services)  # one more: only it is new
    deployment.record_health(services)
    found = messages(deployment)
    assert [m.values["numbers"] for m in found] == [["260001", "260002"], ["260003"]]
    assert [m.values["n"] for m in found] == [2, 1]
    assert "1 nieuwe factuur" in words(NoticeKind.WAITING_FOR_PERSON, found[1], "nl")
    assert "260001 en 260002" in words(NoticeKind.WAITING_FOR_PERSON, found[0], "nl")
    assert "Studio Noord B.V." in words(NoticeKind.WAITING_FOR_PERSON, found[0], "en")
    # An account taken out: its problems end without a word.
    deployment.forget(STUDIO)
    assert deployment.catalog.remove(STUDIO, actor="test")
    assert deployment.catalog.notices().open_notices(STUDIO) == [] and messages(deployment) == found


def test_a_long_list_of_invoices_says_how_many_more_there_are(deployment):
    services = deployment.services(STUDIO)
    _waiting(*(str(n) for n in range(260001, 260023)))(services)  # 22: the message names 20
    deployment.record_health(services)
    _settled(services)
    deployment.record_health(services)
    started, over = messages(deployment)
    assert (started.values["n"], len(started.values["numbers"]), started.values["more"]) == (22, 20, 2)
    assert "22 nieuwe facturen" in words(NoticeKind.WAITING_FOR_PERSON, started, "nl")
    assert "260019, 260020 en 2 andere." in words(NoticeKind.WAITING_FOR_PERSON, started, "nl")
    assert "260020 and 2 more." in words(NoticeKind.WAITING_FOR_PERSON, started, "en")
    assert "260020 en 2 andere." in words(NoticeKind.WAITING_FOR_PERSON, over, "nl")


def test_every_kind_has_its_words_and_fix_page():
    assert set(FIX_PAGE) == set(NoticeKind)
    noon = "2026-11-28T12:00:00+01:00"
    values = {"account": "acme", "account_name": "Acme", "identity_id": 1, "identity_name": "Acme B.V.",
              "administration_name": "Acme", "since": noon, "over_at": noon, "run_at": noon,
              "reason": Msg("error.snelstart_busy").to_json(), "n": 2,
              "numbers": ["1", "2"], "interval_minutes": 20, "day": "2026-11-28",
              "resumes_at": "2026-11-28T14:00:00+01:00", "more": 0, "invoices": []}
    for kind in NoticeKind:
        for part in PARTS:
            for lang in ("nl", "en"):
                assert "Acme" in say(notice_words(kind, part, values), lang) or part == "fix"


# -- Hofstra: a fresh sandbox's revoked koppelsleutel, through the command line ---------------------------------------
def test_hofstra_run_announces_once_that_the_link_must_be_made_again(folder, capsys):
    assert main(["--account", HOFSTRA, "run"]) == 1
    assert main(["--account", HOFSTRA, "run"]) == 1  # again: nothing new
    capsys.readouterr()
    deployment = open_deployment(folder)
    try:
        found = messages(deployment, HOFSTRA)
        assert kinds_of(deployment, found) == [(NoticeKind.LINK_REFUSED, Said.STARTED)]
        nl, en = words(NoticeKind.LINK_REFUSED, found[0], "nl"), words(NoticeKind.LINK_REFUSED, found[0], "en")
        assert "Hofstra" in nl and "Maak de koppeling opnieuw" in nl
        assert "Hofstra" in en and "Make the link again" in en
        assert HOFSTRA_TOKEN not in json.dumps(found[0].values)
        assert messages(deployment, STUDIO) == [] and messages(deployment, KLEIMEER) == []
    finally:
        deployment.close()


# -- health that tells the truth --------------------------------------------------------------------------------------
def link_kleimeer(deployment: Deployment) -> None:
    """Support fetches Kleimeer's identities and links the first, as on Koppelen: making the link runs its setup
    checks (nobody has to press Controles for the truth)."""
    from sync.store import check_results

    services = deployment.services(KLEIMEER)
    setup_repo.upsert_identity(services.store, 1, "Kleimeer Landschapsarchitectuur B.V.")
    assert services.sandbox is not None
    key = services.sandbox.snelstart.issue_key(KLEIMEER_ADMINISTRATIONS[1], list(ALL_SCOPES))
    link_with_key(services, 1, key, start_date=KLEIMEER_FIRST_MONTH, actor="test")
    failing = [c.check_key for c in check_results.latest(services.store) if c.identity_id == 1 and c.status == "fail"]
    assert sorted(failing) == ["ledgers", "vat"]  # as Controles says: "2 fouten"
    deployment.record_health(services)


def test_kleimeer_with_failing_checks_is_not_in_order_in_accounts_list(folder, capsys):
    deployment = open_deployment(folder)
    try:
        link_kleimeer(deployment)
        row = next(r for r in accounts.overview(deployment, "cli") if r.key == KLEIMEER)
        assert accounts.NEEDS[row.need] == "checks" and row.health.failing_checks == 2
    finally:
        deployment.close()
    assert main(["accounts", "list"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith(KLEIMEER))
    assert "In orde" not in line and "Controles falen" in line and "2 controles falen" in line
    assert KLEIMEER_TOKEN not in line


def test_a_mapping_saved_after_a_failing_check_no_longer_counts_it(deployment):
    link_kleimeer(deployment)
    services = deployment.services(KLEIMEER)
    assert deployment.record_health(services).failing_checks == 2
    setup_repo.put_vat_mapping(services.store, 1, 1, "21%", "Hoog", Decimal("21"), "test")
    health = deployment.record_health(services)
    assert health.failing_checks == 1  # the ledgers still fail; the VAT check is to be run again
    assert accounts.NEEDS[accounts.need_of(health)] == "checks"


def test_a_start_date_in_the_future_is_a_failing_check(deployment):
    services = deployment.services(STUDIO)
    link = setup_repo.get_link(services.store, 1)
    assert link is not None
    setup_repo.set_link_schedule(services.store, 1, start_date=services.today() + timedelta(days=30))
    setup_repo.set_link_health(services.store, 1, LinkHealth.OK)
    setup_repo.set_link_health(services.store, 2, LinkHealth.OK)
    health = deployment.record_health(services)
    assert health.failing_checks == 1
    assert accounts.NEEDS[accounts.need_of(health)] == "checks"


def test_kleimeer_is_not_in_order_on_klanten_and_says_why(console):
    from console import runtime

    link_kleimeer(runtime.deployment())
    at = klanten()
    helpers.no_exception(at)
    text = helpers.texts(at)
    # Nobody asked SnelStart about the other two accounts' links yet: no account may read "In orde"; Kleimeer says
    # why it needs a person, and comes before the links nobody asked about.
    assert "In orde" not in text
    assert "Controles falen" in text and "2 controles falen" in text
    assert links_of(at).index("Kleimeer") < links_of(at).index("Hofstra")

    at = helpers.page("overzicht", query={"account": KLEIMEER})  # the identity itself says which checks fail
    helpers.no_exception(at)
    assert any("2 controles falen" in helpers.plain(e.value) for e in at.error)


def test_the_failures_in_row_setting_is_checked_and_keeps_the_sandbox() -> None:
    from sync.core.config import ConfigError, load_settings

    assert load_settings({}).notify_failures_in_row == 3
    assert load_settings({"SYNC_NOTIFY_FAILURES_IN_ROW": "5"}).notify_failures_in_row == 5
    assert load_settings({"SYNC_NOTIFY_FAILURES_IN_ROW": "5"}).sandbox
    for wrong in ("1", "drie", "101"):
        with pytest.raises(ConfigError) as caught:
            load_settings({"SYNC_NOTIFY_FAILURES_IN_ROW": wrong})
        assert "failed runs in a row" in "\n".join(caught.value.lines("en"))


# -- a run that booked nothing failed, for every reader alike ---------------------------------------------------------
def test_a_scheduled_run_that_booked_nothing_is_a_failed_run_everywhere(deployment):
    """A trial: every invoice blocked, nothing in SnelStart — the command line said "niets geboekt" and exit 1, but
    the run was stored as `warnings`: the metrics counted a success, nothing was announced, and a failing check
    stopped counting because "a later run succeeded"."""
    from sync.jobs.runner import run_identity
    from sync.store import check_results
    from sync.store.metrics import identity_figures

    services = deployment.services(STUDIO)
    for ledger, label in ((8000, "hoog"), (8010, "laag"), (8020, "0%"), (8030, "verlegd")):  # every invoice
        setup_repo.put_ledger_mapping(services.store, 1, ledger, f"{ledger} Omzet {label}", "9999", "tester")
    check_results.record(services.store, 1, [("subscription", "fail", "check.subscription.missing")])
    before = deployment.record_health(services).failing_checks
    result = run_identity(services, 1, trigger=Trigger.SCHEDULE)
    assert result.counts["booked"] == 0 and result.counts["blocked"] > 0 and not result.counts["in_snelstart"]
    assert result.outcome == Outcome.FAILED
    last = history.last_run(services.store, 1)
    assert last is not None and last["outcome"] == Outcome.FAILED  # stored as it is judged
    health = deployment.record_health(services)
    assert health.failed_runs == 1 and accounts.NEEDS[accounts.need_of(health)] == "runs"
    assert health.failing_checks == before  # no "later run succeeded": the refused subscription still fails
    figures = next(f for f in identity_figures(services.store) if f.identity_id == 1)
    assert figures.last_success_at is None and figures.runs == {Outcome.FAILED: 1}
    assert (NoticeKind.RUN_FAILED, Said.STARTED) in kinds_of(deployment, messages(deployment))
    # Its words still say what it found, not a bare "mislukt".
    assert say(result.summary, "nl").startswith("0 geboekt") and "geblokkeerd" in say(result.summary, "nl")
    from sync.core.events import run_label

    assert run_label(last["outcome"], json.loads(last["counts_json"]), "nl").startswith("niets geboekt — ")


# -- "In orde" only for what was checked -------------------------------------------------------------------------------
def test_a_link_whose_checks_could_not_run_is_made_and_reads_not_checked_yet(deployment, monkeypatch):
    """Checks that cannot run (SnelStart unreachable) never fail the link; the link then reads "nog niet
    gecontroleerd" on Klanten and in `accounts list`, not "In orde"."""
    from sync.jobs import checks

    def unreachable(*args: object, **kwargs: object) -> None:
        raise OSError("SnelStart unreachable")

    monkeypatch.setattr(checks, "run_checks", unreachable)  # as check_new_link finds it
    services = deployment.services(KLEIMEER)
    setup_repo.upsert_identity(services.store, 1, "Kleimeer Landschapsarchitectuur B.V.")
    assert services.sandbox is not None
    key = services.sandbox.snelstart.issue_key(KLEIMEER_ADMINISTRATIONS[1], list(ALL_SCOPES))
    link_with_key(services, 1, key, start_date=KLEIMEER_FIRST_MONTH, actor="test")
    assert setup_repo.get_link(services.store, 1) is not None  # linked all the same
    setup_repo.set_link_health(services.store, 1, LinkHealth.OK)  # SnelStart knows the key; nobody checked the rest
    health = deployment.record_health(services)
    assert health.unchecked_links == 1 and accounts.NEEDS[accounts.need_of(health)] == "unchecked"


def test_overzicht_says_not_checked_yet_for_a_linked_identity_whose_checks_never_ran(console):
    """Kleimeer's second identity, never checked, stayed "in orde" on Overzicht."""
    from sync.store import check_results

    for identity_id in (1, 2):
        setup_repo.set_link_health(console.store, identity_id, LinkHealth.OK)
    check_results.record(console.store, 1, [("vat", "pass", None), ("ledgers", "pass", None)])  # only the first
    at = helpers.page("overzicht")
    helpers.no_exception(at)
    link_states = [helpers.plain(m.value) for m in at.markdown if helpers.plain(m.value).startswith("**Koppeling**")]
    assert "in orde" in link_states[0] and "nog niet gecontroleerd" not in link_states[0], link_states
    assert "nog niet gecontroleerd" in link_states[1] and "in orde" not in link_states[1], link_states
    from console import runtime

    assert runtime.deployment().record_health(console).unchecked_links == len(link_states) - 1
