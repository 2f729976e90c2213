"""The catalog on Postgres behaves as on DuckDB: every test of its behaviour runs on both (`where`), on a throwaway
Postgres (`tests.postgres`). Then what only Postgres has: two nodes on one database, two nodes migrating it at
once, and an address whose password is never shown."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from sync.core.config import ConfigError, load_settings
from sync.core.notices import NoticeKind, Said
from sync.core.words import say
from sync.store.catalog import Account, Catalog, CatalogModeError, Health, KnownLink
from sync.store.deliveries import FAILING_AFTER, DeliveryState, StoredTarget
from sync.store.metrics import IdentityFigures
from sync.store.notices import Problem
from sync.store.pg import PgStore, PgUnreachableError, placeholders, shown_url

AT = datetime(2026, 11, 28, 12, tzinfo=UTC)


def fixed() -> float:
    """The clock stands still at AT: every time written is AT."""
    return AT.timestamp()


@pytest.fixture(params=["duckdb", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the catalog lives: a DuckDB file, or a fresh Postgres database."""
    if request.param == "duckdb":
        return str(tmp_path / "catalog.duckdb")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def catalog(where: str):
    opened = Catalog(where, clock=fixed)
    yield opened
    opened.close()


def add(catalog: Catalog, *keys: str) -> None:
    for key in keys:
        catalog.add(Account(key=key, name=f"{key.upper()} B.V.", db_path=Path(f"/data/{key}.duckdb")), actor="test")


# -- the same behaviour on both ---------------------------------------------------------------------------
def test_accounts_are_added_read_listed_and_removed(catalog: Catalog) -> None:
    add(catalog, "noord", "kleimeer-2")
    found = catalog.get("noord")
    assert found is not None and found.name == "NOORD B.V." and found.db_path == Path("/data/noord.duckdb")
    assert found.created_at is not None and found.created_at.tzinfo is not None and found.key_hint == ""
    with pytest.raises(KeyError):
        add(catalog, "noord")
    assert [a.key for a in catalog.accounts()] == ["kleimeer-2", "noord"]
    assert catalog.remove("noord", actor="test") and not catalog.remove("noord", actor="test")
    assert catalog.get("noord") is None and catalog.get("noord", include_removed=True) is not None
    assert [a.key for a in catalog.accounts()] == ["kleimeer-2"]
    assert [a.key for a in catalog.accounts(include_removed=True)] == ["kleimeer-2", "noord"]
    catalog.claim("sandbox")
    assert catalog.check("sandbox") == "sandbox"
    with pytest.raises(CatalogModeError):
        catalog.check("real")


def test_health_rows_are_written_again_and_read_with_shared_links_and_undelivered(catalog: Catalog) -> None:
    add(catalog, "a", "b", "c")
    schedule = [{"identity_id": 1, "interval_minutes": 20, "paused": False}]
    catalog.put_health(Health("a", identities=3, blocked=2, last_outcome="ok", last_run_at=AT, schedule=schedule))
    catalog.put_health(Health("a", identities=3, blocked=5, failing_checks=1, schedule=schedule))  # replaces
    catalog.put_health_rows([Health("b", linked=1)])
    catalog.know_links("a", [KnownLink(1, "Studio", "adm-1", "Administratie 1")])
    catalog.know_links("b", [KnownLink(4, "Hofstra", "adm-1", "Administratie 1")])
    deliveries = catalog.deliveries()
    for _ in range(FAILING_AFTER):
        deliveries.record(1, "a-target", account_key="a", hint="json://x", ok=False, error="refused", now=AT,
                          retry_at=AT)
    a, b, c = catalog.health()
    assert (a.account_key, a.identities, a.blocked, a.failing_checks, a.last_outcome, a.last_run_at) == \
        ("a", 3, 5, 1, None, None)
    assert a.schedule == schedule and a.updated_at == AT and isinstance(a.blocked, int)
    assert (a.shared_links, a.undelivered) == (1, 1) and (b.shared_links, b.undelivered, b.linked) == (1, 0, 1)
    assert c == Health("c")  # no row yet: an empty one
    catalog.remove("b", actor="test")
    assert [(h.account_key, h.shared_links) for h in catalog.health()] == [("a", 0), ("c", 0)]


def test_links_are_known_shared_and_keep_supports_confirmation(catalog: Catalog) -> None:
    add(catalog, "a", "b")
    assert [x.key for x in catalog.links_unknown()] == ["a", "b"]
    catalog.know_links("a", [KnownLink(1, "Studio", "adm-1", "Adm 1"), KnownLink(2, "Advies", "adm-2", "")])
    catalog.know_links("b", [KnownLink(4, "Hofstra", "adm-1", "Adm 1")], confirmed={4: "Sanne"})
    catalog.know_links("b", [KnownLink(4, "Hofstra", "adm-1", "Adm 1")])  # again: the confirmation stays
    assert [x.key for x in catalog.links_unknown()] == []
    [first, second] = catalog.links_to("adm-1")
    assert (first.account_key, first.account_name, first.identity_id, first.confirmed_by) == ("a", "A B.V.", 1, None)
    assert (second.account_key, second.confirmed_by, second.confirmed_at) == ("b", "Sanne", AT)
    assert catalog.links_to("adm-2")[0].administration_name == ""
    shared = catalog.shared_links("a")
    assert list(shared) == [1] and [link.account_key for link in shared[1]] == ["b"]
    catalog.know_links("b", [KnownLink(4, "Hofstra", "adm-9", "Adm 9")])  # another administration: confirmation gone
    assert catalog.shared_links("a") == {} and catalog.links_to("adm-9")[0].confirmed_by is None


def test_sign_in_lockouts_are_kept_replaced_dropped_and_pruned(catalog: Catalog) -> None:
    lockouts = catalog.lockouts()
    assert lockouts.get("user", "h1") is None
    lockouts.put("user", "h1", [1.5, 2.5], 0.0, 2.5)
    lockouts.put("user", "h1", [1.5, 2.5, 3.5], 903.5, 3.5)
    assert lockouts.get("user", "h1") == ([1.5, 2.5, 3.5], 903.5)
    lockouts.drop("user", "h1")
    assert lockouts.get("user", "h1") is None
    for n in range(10):
        lockouts.put("client", f"k{n}", [float(n)], 0.0, float(n))
    lockouts.prune(idle_before=3.0, keep=4)  # k0..k2 idle; of the rest the four touched last stay
    assert [n for n in range(10) if lockouts.get("client", f"k{n}")] == [6, 7, 8, 9]


def test_the_ledger_opens_and_ends_problems_once_and_says_each(catalog: Catalog) -> None:
    add(catalog, "a")
    ledger = catalog.notices()
    failed = Problem(NoticeKind.RUN_FAILED, 1, values={"name": "Studio"})
    waiting = [Problem(NoticeKind.WAITING_FOR_PERSON, 1, f"inv-{n}", {"number": n, "amount": "12.50"})
               for n in (260031, 260032)]
    first = ledger.reconcile("a", [failed, *waiting], group_values={1: {"name": "Studio"}})
    assert len(first) == 2  # the failure, and one message for both invoices
    assert ledger.reconcile("a", [failed, *waiting]) == []  # nothing new
    [notice_failed, *_] = ledger.open_notices("a")
    assert notice_failed.kind == "run_failed" and notice_failed.started_at == AT and notice_failed.ended_at is None
    over = ledger.reconcile("a", waiting)
    assert len(over) == 1 and [n.kind for n in ledger.open_notices()] == ["waiting_for_person"] * 2
    said = [(m.said, m.values.get("n")) for m in ledger.messages("a")]
    assert said == [("started", None), ("started", 2), ("over", None)]
    assert [n.ended_at is not None for n in ledger.notices("a")] == [True, False, False]
    assert ledger.messages("nobody") == []


def test_deliveries_are_planned_due_recorded_and_dropped(catalog: Catalog) -> None:
    add(catalog, "a")
    book = catalog.deliveries()
    target = StoredTarget("a-1", "a", "enc", "json://host", "nl", created_by="Sanne")
    assert book.add_target(target) and not book.add_target(target)
    assert [(t.target_key, t.created_by, t.created_at) for t in book.targets("a")] == [("a-1", "Sanne", AT)]
    [started] = catalog.notices().reconcile("a", [Problem(NoticeKind.GRIPP_KEY_REFUSED)])
    [message] = book.unplanned()
    assert message.message_id == started and message.kind == "gripp_key_refused" and message.said == "started"
    book.plan(started, [("a-1", "a"), ("team", None)], AT)
    book.plan(started, [("a-1", "a")], AT)  # again: nothing twice
    assert book.unplanned() == []
    assert book.due(AT - timedelta(minutes=1)) == []
    due = book.due(AT)
    assert [(d.message.message_id, d.target_key, d.attempts) for d in due] == \
        [(started, "a-1", 0), (started, "team", 0)]
    book.record(started, "a-1", account_key="a", hint="json://host", ok=False, error="timeout", now=AT,
                retry_at=AT + timedelta(minutes=5))
    book.record(started, "team", account_key=None, hint="json://team", ok=True, error=None, now=AT, retry_at=None)
    assert [d.target_key for d in book.due(AT)] == [] and [d.attempts for d in book.due(AT + timedelta(hours=1))] == [1]
    states = {s.target_key: (s.failures_in_row, s.last_error, s.last_ok_at) for s in book.states()}
    assert states == {"a-1": (1, "timeout", None), "team": (0, None, AT)}
    row = book.delivery(started, "team")
    assert row is not None and row["state"] == DeliveryState.SENT and row["sent_at"] == AT
    test = book.add_test(account_key="a", target_key="a-1", target_account="a", now=AT)
    assert test > started and book.last_digest("team") is None
    digest = book.add_message(account_key=None, said=Said.DIGEST, values={"n": 1}, target_key="team", now=AT)
    assert book.last_digest("team") == AT and digest > test
    assert book.by_outcome() == [("a", "due", 1), (None, "sent", 1)]  # the test message is not counted
    assert [n.kind for n in book.open_notices()] == ["gripp_key_refused"]
    assert book.drop_gone({"team"}) == 2  # a-1's problem and its test
    assert book.failing(1) == [] and book.remove_target("a", "a-1") and book.targets() == []


def test_metrics_rows_are_replaced_per_account_and_counted(catalog: Catalog) -> None:
    add(catalog, "a", "b")
    rows = catalog.metrics()
    rows.put("a", [IdentityFigures(1, AT, {"ok": 3, "failed": 1}, {"blocked": 2}), IdentityFigures(2)], at=AT)
    rows.put("a", [IdentityFigures(1, AT, {"ok": 4}, {"conflict": 1})], at=AT)
    catalog.put_health(Health("a", failing_checks=2))
    a, b = rows.accounts()
    assert (a.account_key, a.updated_at, a.failing_checks, b.failing_checks, b.identities) == ("a", AT, 2, None, [])
    [one] = a.identities
    assert (one.identity_id, one.last_success_at, one.runs["ok"], one.runs["failed"], one.waiting) == \
        (1, AT, 4, 0, {"blocked": 0, "refused": 0, "conflict": 1})
    catalog.notices().reconcile("a", [Problem(NoticeKind.RUN_FAILED, 1), Problem(NoticeKind.GRIPP_KEY_REFUSED)])
    assert [(c.identity_id, c.what, c.n) for c in rows.open_problems()] == \
        [(1, "run_failed", 1), (None, "gripp_key_refused", 1)]
    assert rows.deliveries() == []


# -- only Postgres ---------------------------------------------------------------------------------------
def test_two_nodes_on_one_database_see_each_others_writes_at_once(postgres_url: str) -> None:
    one, two = Catalog(postgres_url, clock=fixed), Catalog(postgres_url, clock=fixed)
    try:
        add(one, "noord")
        assert [a.key for a in two.accounts()] == ["noord"]
        two.put_health(Health("noord", blocked=7))
        two.lockouts().put("user", "h", [1.0], 60.0, 1.0)
        assert one.health()[0].blocked == 7 and one.lockouts().get("user", "h") == ([1.0], 60.0)
        one.remove("noord", actor="test")
        assert two.accounts() == [] and two.health() == []
    finally:
        one.close()
        two.close()


def test_two_nodes_migrating_a_fresh_database_at_once_both_start_and_apply_each_migration_once(
        postgres_url: str) -> None:
    opened: list[Catalog] = []
    failed: list[BaseException] = []
    start = threading.Barrier(3)

    def node() -> None:
        start.wait()
        try:
            opened.append(Catalog(postgres_url))
        except BaseException as exc:  # the test says what went wrong
            failed.append(exc)

    threads = [threading.Thread(target=node) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert failed == [] and len(opened) == 3
        store = opened[0]._store
        versions = [row["version"] for row in store.rows("SELECT version FROM schema_version ORDER BY version")]
        assert versions == list(range(1, len(versions) + 1)) and len(versions) >= 8
        assert isinstance(store, PgStore) and store.migrate() == versions[-1]
    finally:
        for catalog in opened:
            catalog.close()


def test_a_password_is_never_shown_when_postgres_cannot_be_reached(postgres_server: str) -> None:
    port = postgres_server.rsplit(":", 1)[1]
    for url in (f"postgresql://sync:geheim-wachtwoord@127.0.0.1:{port}/not_there",  # refused: no such database
                "postgresql://sync:geheim-wachtwoord@127.0.0.1:1/catalog?password=geheim-wachtwoord"):  # nobody
        with pytest.raises(PgUnreachableError) as refused:
            Catalog(url)
        shown = [str(refused.value), repr(refused.value), say(refused.value.message, "nl"),
                 say(refused.value.message, "en"), repr(refused.value.__cause__), refused.value.reason]
        assert not any("geheim" in text for text in shown), shown
        assert refused.value.code == "unreachable" and "sync@127.0.0.1:" in say(refused.value.message, "nl")
        assert "SYNC_DATABASE_URL" in say(refused.value.message, "en")


def test_the_shown_address_of_an_open_catalog_has_no_password(postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:geheim-wachtwoord@")
    catalog = Catalog(with_password)
    try:
        catalog.claim("real")
        assert catalog.path == postgres_url
        with pytest.raises(CatalogModeError) as other:
            catalog.check("sandbox")
        assert "geheim" not in say(other.value.message, "nl") and postgres_url in str(other.value)
    finally:
        catalog.close()


def test_values_come_back_as_duckdb_gives_them(postgres_url: str) -> None:
    store = PgStore(postgres_url)
    try:
        row = store.one("SELECT CAST(? AS NUMERIC(12, 2)) AS amount, CAST(? AS TIMESTAMPTZ) AS at, "
                        "CAST(? AS BIGINT) AS n, ? AS word, CAST(? AS BOOLEAN) AS yes, '50%' AS percent",
                        [Decimal("12.50"), AT, 7, "é", True])
        assert row == {"amount": Decimal("12.50"), "at": AT, "n": 7, "word": "é", "yes": True, "percent": "50%"}
        assert str(row["at"].tzinfo) == "Europe/Amsterdam" and row["at"].hour == 13
        assert store.scalar("SELECT ?", [DeliveryState.DUE]) == "due"  # a code is stored as its value
        with store.transaction() as tx, store.transaction():  # nested: one transaction
            tx.execute("CREATE TABLE t (n INTEGER)")
            store.execute("INSERT INTO t VALUES (?)", [1])
        with pytest.raises(RuntimeError), store.transaction():
            store.execute("INSERT INTO t VALUES (?)", [2])
            raise RuntimeError("rolled back")
        assert store.scalar("SELECT count(*) FROM t") == 1
    finally:
        store.close()


# -- pieces ------------------------------------------------------------------------------------------------
def test_placeholders_become_psycopgs_and_percent_signs_stay_literal() -> None:
    assert placeholders("SELECT * FROM t WHERE a = ? AND b LIKE '50%' AND c = ?") == \
        "SELECT * FROM t WHERE a = %s AND b LIKE '50%%' AND c = %s"
    assert placeholders("SELECT 10 % ?, 'what?', \"odd?name\" -- why?\nFROM t") == \
        "SELECT 10 %% %s, 'what?', \"odd?name\" -- why?\nFROM t"
    assert placeholders("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', %s"


def test_shown_url_drops_the_password_wherever_it_is() -> None:
    assert shown_url("postgresql://sync:s3cret@db.example:5432/catalog") == "postgresql://sync@db.example:5432/catalog"
    assert shown_url("postgres://db/catalog?sslmode=require&password=s3cret") == \
        "postgres://db/catalog?sslmode=require"
    assert shown_url("postgresql://sync@db/catalog") == "postgresql://sync@db/catalog"


def test_the_database_url_setting_is_checked_and_never_shown(tmp_path: Path) -> None:
    env = {"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"), "SYNC_SECRET_KEY": "one-key-for-every-node"}
    settings = load_settings({**env, "SYNC_DATABASE_URL": "postgresql://sync:s3cret@db/catalog"})
    assert settings.database_url == "postgresql://sync:s3cret@db/catalog" and settings.sandbox
    assert "s3cret" not in repr(settings) and load_settings(env).database_url is None
    with pytest.raises(ConfigError) as wrong:
        load_settings({**env, "SYNC_DATABASE_URL": "mysql://sync:s3cret@db/catalog"})
    assert "SYNC_DATABASE_URL" in str(wrong.value) and "s3cret" not in str(wrong.value)
    assert "s3cret" not in " ".join(wrong.value.lines("nl"))
    # Every node opens every account's koppelsleutels: one SYNC_SECRET_KEY, never each node's sandbox key file.
    with pytest.raises(ConfigError) as keyless:
        load_settings({"SYNC_DB_PATH": env["SYNC_DB_PATH"], "SYNC_DATABASE_URL": "postgresql://sync@db/catalog"})
    assert "SYNC_SECRET_KEY" in " ".join(keyless.value.lines("en"))


def test_the_command_line_and_the_console_say_an_unreachable_postgres_in_one_line(
        capsys: pytest.CaptureFixture[str]) -> None:
    from console.runtime import _unavailable
    from sync.cli.common import EXIT_FAILED, speaker
    from sync.cli.failures import ending

    problem = PgUnreachableError("postgresql://sync@db.example:5432/catalog", "connection refused")
    assert ending(problem, speaker("nl"), "nl") == EXIT_FAILED
    said = capsys.readouterr().err.strip()
    assert len(said.splitlines()) == 1 and "postgresql://sync@db.example:5432/catalog" in said
    assert "SYNC_DATABASE_URL" in said and "niet bereikbaar" in said
    shown = _unavailable(problem)
    assert shown is not None and shown.code == "unreachable" and shown.message == problem.message


def test_nodes_reconciling_one_account_at_once_announce_a_problem_once(postgres_url: str,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import contextlib

    from sync.store import notices

    monkeypatch.setattr(notices, "_RECONCILING", contextlib.nullcontext())  # as if each were a process of its own
    nodes = [Catalog(postgres_url, clock=fixed) for _ in range(6)]
    start = threading.Barrier(len(nodes))

    def reconcile(node: Catalog) -> None:
        start.wait()
        node.notices().reconcile("a", [Problem(NoticeKind.RUN_FAILED, 1)])

    try:
        add(nodes[0], "a")
        threads = [threading.Thread(target=reconcile, args=(node,)) for node in nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(nodes[0].notices().notices("a")) == 1 and len(nodes[0].notices().messages("a")) == 1
    finally:
        for node in nodes:
            node.close()


def test_without_postgres_the_tests_skip_saying_how_to_get_it_but_in_ci_they_fail(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from _pytest.outcomes import Failed, Skipped

    from tests import postgres

    monkeypatch.setattr(postgres, "postgres_bin", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(Skipped, match="apt-get install postgresql"):
        postgres.postgres_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Failed, match="apt-get install postgresql"):
        postgres.postgres_or_skip()


def test_a_deployment_keeps_its_catalog_on_the_database_url(tmp_path: Path, sandbox, postgres_url: str) -> None:
    from sync.wiring import Deployment

    settings = load_settings({"SYNC_DB_PATH": str(tmp_path / "sync.duckdb"), "CONSOLE_PUBLIC_URL": "http://console.test",
                              "SYNC_DATABASE_URL": postgres_url, "SYNC_SECRET_KEY": "one-key-for-every-node"})
    deployment = Deployment(settings, sandbox=sandbox, sleep=lambda seconds: None)
    try:
        keys = deployment.keys()
        assert len(keys) == 3 and deployment.catalog.path == postgres_url
        other = Catalog(postgres_url)  # another node
        try:
            assert [a.key for a in other.accounts()] == keys and other.check("sandbox") == "sandbox"
            assert other.links_unknown() == []  # the links the deployment learnt are there for every node
        finally:
            other.close()
        assert not settings.catalog_file.exists()
    finally:
        deployment.close()
