"""Accounts: a catalog plus one database per Gripp customer. The old single-account deployment is registered in
place; accounts are added (key checked, identities found), checked, listed and removed from the command line; one
account's data never shows up in another's commands, exports or runs; grants per account are enforced by the use
cases."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from sync.auth.access import AccountNotAllowed, Actor
from sync.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from sync.core.config import SANDBOX_GRIPP_TOKEN, load_settings
from sync.core.vault import Vault
from sync.jobs import accounts
from sync.jobs.locks import AlreadyRunning, exclusive
from sync.sandbox.seed import FIRST_ACCOUNT as DEMO  # the sandbox's demo account (SYNC_DB_PATH's file)
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.catalog import DEFAULT_ACCOUNT, UnknownAccount
from sync.store.db import Store
from sync.wiring import Deployment
from tests.real_console import REAL_SETTINGS

SANDBOX_NAMES = ("GRIPP_API_URL", "GRIPP_API_TOKEN", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                 "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_WEB_URL", "SNELSTART_APP_SHORT_NAME", "SYNC_SECRET_KEY",
                 "SYNC_CATALOG_PATH")
MARK = "ALLEEN-VAN-ACME"  # a text only account acme holds


@pytest.fixture
def cli_env(cli_env, monkeypatch):
    monkeypatch.delenv("SYNC_ACCOUNT")  # the sandbox's three accounts and acme: commands name theirs
    return cli_env


def add_acme(monkeypatch, capsys) -> None:
    """A second account on the sandbox's Gripp: the same identity ids and invoice numbers as the demo."""
    monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_GRIPP_TOKEN + "\n"))
    assert main(["accounts", "add", "acme", "--name", "Acme B.V."]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Klant acme ‘Acme B.V.’ toegevoegd" in out and "3 identiteiten gevonden" in out
    assert SANDBOX_GRIPP_TOKEN not in out  # only its hint


def mark_acme(tmp_path: Path) -> None:
    """Give acme a blocked invoice, an alert and an event that only it has (identity 2, like the demo's)."""
    store = Store(tmp_path / "accounts" / "acme.duckdb")
    try:
        store.execute("""INSERT INTO bookings (identity_id, invoice_id, number, state, reasons_json, attempts,
                                               updated_at) VALUES (2, 999999, '260999', 'blocked', ?, 0, now())""",
                      [f'[{{"code": "X", "nl": "{MARK}"}}]'])
        history.raise_alert(store, 2, None, "auto_sync_failed", {"name": MARK, "reason": {"nl": MARK, "en": MARK}})
        history.log_event(store, "identity", identity_id=2, actor=MARK, data={"identity": 2, "name": MARK})
    finally:
        store.close()


# -- the old way, migrated in place ------------------------------------------------------------------------
def old_database(path: Path, secret_key: str) -> None:
    """A database as a single-account deployment left it: an identity, a link with its key, a run, an event."""
    store = Store(path)
    try:
        store.execute("INSERT INTO store_meta VALUES ('mode', 'real')")
        setup_repo.upsert_identity(store, 7, "Oude Identiteit B.V.")
        setup_repo.save_link(store, identity_id=7, administration_id="adm-7", administration_name="Oude Administratie",
                             koppelsleutel_enc=Vault(secret_key).encrypt("old-key-7"), key_hint="…ey-7",
                             start_date=None, actor="support")
        run_id = history.start_run(store, 7, "schedule")
        history.finish_run(store, run_id, "failed", {}, {"nl": "kapot", "en": "broken"})
    finally:
        store.close()


def test_an_old_deployment_is_registered_in_place_and_keeps_working(tmp_path, monkeypatch, capsys):
    db = tmp_path / "data" / "sync.duckdb"
    old_database(db, REAL_SETTINGS["SYNC_SECRET_KEY"])
    before = db.stat().st_size
    for name in SANDBOX_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**REAL_SETTINGS, "SYNC_DB_PATH": str(db)}.items():
        monkeypatch.setenv(name, value)

    assert main(["status"]) == EXIT_OK  # no --account: the only one
    out = capsys.readouterr()
    assert "Oude Identiteit B.V." in out.out and "Oude Administratie" in out.out and "mislukt" in out.out
    assert "Account:" not in out.err  # one account: the commands look as before

    deployment = Deployment(load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(db)}))
    try:
        [account] = deployment.accounts()
        assert account.key == DEFAULT_ACCOUNT and account.db_path == db  # that very file, no copy
        assert account.gripp_token_enc is None  # GRIPP_API_TOKEN stays the key, from the settings
        services = deployment.services(DEFAULT_ACCOUNT)
        assert services.settings.gripp_api_token == REAL_SETTINGS["GRIPP_API_TOKEN"]
        assert [link.identity_id for link in setup_repo.links(services.store)] == [7]
        assert services.vault.decrypt(setup_repo.get_link(services.store, 7).koppelsleutel_enc) == "old-key-7"
        assert services.store.scalar("SELECT count(*) FROM runs") == 1
    finally:
        deployment.close()
    assert not (tmp_path / "data" / "accounts").exists() and db.stat().st_size >= before
    assert (tmp_path / "data" / "catalog.duckdb").exists()

    # A second start registers nothing twice.
    deployment = Deployment(load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(db)}))
    try:
        assert [a.key for a in deployment.accounts()] == [DEFAULT_ACCOUNT]
    finally:
        deployment.close()


def test_a_new_real_deployment_without_a_token_has_no_accounts_and_says_how_to_add_one(tmp_path, monkeypatch,
                                                                                        capsys):
    for name in SANDBOX_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in {**REAL_SETTINGS, "SYNC_DB_PATH": str(tmp_path / "sync.duckdb")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GRIPP_API_TOKEN")
    assert main(["status"]) == EXIT_USAGE
    assert "accounts add" in capsys.readouterr().err
    assert main(["accounts"]) == EXIT_OK
    assert "Nog geen klanten" in capsys.readouterr().err


# -- the command line ------------------------------------------------------------------------------------
def test_accounts_add_check_list_and_remove(cli_env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("not-a-gripp-key\n"))
    assert main(["accounts", "add", "acme", "--name", "Acme B.V."]) == EXIT_FAILED
    assert "Gripp weigert deze API-sleutel" in capsys.readouterr().err
    assert not (cli_env / "accounts" / "acme.duckdb").exists()  # nothing kept of a refused key

    monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_GRIPP_TOKEN))
    assert main(["accounts", "add", "Bad Key!", "--name", "x"]) == EXIT_USAGE
    assert "accountcode" in capsys.readouterr().err.lower()
    for address in ("not a url", "ftp://gripp.example", "/api/public"):  # once a traceback, or "try again"
        monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_GRIPP_TOKEN))
        assert main(["accounts", "add", "acme", "--name", "Acme", "--gripp-url", address]) == EXIT_USAGE
        assert f"‘{address}’ is geen webadres" in capsys.readouterr().err
    assert not (cli_env / "accounts" / "acme.duckdb").exists()

    add_acme(monkeypatch, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_GRIPP_TOKEN))
    assert main(["--lang", "en", "accounts", "add", "acme", "--name", "Again"]) == EXIT_USAGE
    assert "is taken" in capsys.readouterr().err

    assert main(["accounts", "check", "acme"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "werkt; 3 identiteiten" in out and "Noord Academy" in out

    assert main(["accounts", "check", DEMO]) == EXIT_OK  # also asks SnelStart about each link's key
    out = capsys.readouterr().out
    assert out.count("[IN ORDE     ] ") == 2 and "opent administratie ‘Noord Advies’ van Noord Advies B.V.\n" in out

    assert main(["accounts", "list"]) == EXIT_OK
    header, *listed = capsys.readouterr().out.splitlines()
    assert header.split() == ["Code", "Klant", "Aandacht", "Laatste", "synchronisatie", "Bijzonderheden"]
    keys = [line.split()[0] for line in listed]
    assert sorted(keys) == sorted(["acme", DEMO, "hofstra-installatie", "kleimeer"])
    # what each needs first, in the console's words (Klanten's "Aandacht")
    # "Controleren" ran the demo's setup checks: its deliberate misconfigurations fail them, so it is not "In orde"
    # but needs a person first; not linked yet sorts before not checked yet
    assert keys[0] == DEMO and "Controles falen" in listed[0] and "In orde" not in "\n".join(listed)
    assert keys.index("acme") < keys.index("hofstra-installatie") and "Nog niet gekoppeld" in listed[keys.index("acme")]
    assert "1 koppeling nog niet gecontroleerd" in listed[keys.index("hofstra-installatie")]  # never "in orde"

    assert main(["status"]) == EXIT_USAGE  # several accounts: which one?
    err = capsys.readouterr().err
    assert "--account" in err and "acme" in err and DEMO in err

    assert main(["accounts", "remove", "acme"]) == EXIT_USAGE  # needs --yes
    assert main(["accounts", "remove", "acme", "--yes"]) == EXIT_OK
    capsys.readouterr()
    assert (cli_env / "accounts" / "acme.duckdb").exists()  # kept on disk
    assert main(["status", "--account", "acme"]) == EXIT_USAGE
    assert "geen klant ‘acme’" in capsys.readouterr().err
    monkeypatch.setenv("SYNC_ACCOUNT", DEMO)  # an operator's default account: commands that name none use it
    assert main(["status"]) == EXIT_OK
    assert "Studio Noord" in capsys.readouterr().out


def test_accounts_list_has_a_header_and_columns_a_long_code_or_name_does_not_shift(cli_env, monkeypatch, capsys):
    # The list was a code padded to 16 characters and the rest run on: a longer code pushed its own row's name out
    # of line, and nothing said what each part was.
    key, name = "bouwbedrijf-van-der-heijden-en-zonen", "Bouwbedrijf Van der Heijden & Zonen Infra B.V."
    monkeypatch.setattr("sys.stdin", io.StringIO(SANDBOX_GRIPP_TOKEN + "\n"))
    assert main(["accounts", "add", key, "--name", name]) == EXIT_OK
    capsys.readouterr()
    for lang, columns in (("nl", ("Code", "Klant", "Aandacht", "Laatste synchronisatie", "Bijzonderheden")),
                          ("en", ("Key", "Account", "Needs", "Last sync", "Details"))):
        assert main(["--lang", lang, "accounts", "list"]) == EXIT_OK
        header, *rows = capsys.readouterr().out.splitlines()
        starts = [header.index(column) for column in columns]
        assert starts == sorted(starts) and starts[0] == 0, header
        assert len(rows) == 4 and any(row.startswith(f"{key}  ") for row in rows), rows
        for row in rows:
            # every cell starts where its column's heading does, after at least two spaces
            assert all(row[at - 2:at] == "  " and row[at] != " " for at in starts[1:]), (header, row)
        ours = next(row for row in rows if row.startswith(key))
        needs = "Nog niet gekoppeld" if lang == "nl" else "Not linked yet"
        assert ours[starts[1]:].startswith(name) and ours[starts[2]:].startswith(needs), ours


def test_unlinking_on_the_command_line_shows_in_the_support_overview(cli_env, capsys):
    def linked() -> int:
        deployment = Deployment(load_settings({"SYNC_DB_PATH": str(cli_env / "sync.duckdb"),
                                               "CONSOLE_PUBLIC_URL": "http://console.test"}))
        try:
            return {row.key: row.health for row in accounts.overview(deployment, "cli")}[DEMO].linked
        finally:
            deployment.close()

    before = linked()
    assert main(["unlink", "--identity", "2", "--account", DEMO]) == EXIT_OK
    capsys.readouterr()
    assert linked() == before - 1


def test_the_gripp_key_is_never_taken_from_the_command_line(cli_env):
    with pytest.raises(SystemExit):
        main(["accounts", "add", "acme", "--name", "Acme", "--key", SANDBOX_GRIPP_TOKEN])


# -- isolation ----------------------------------------------------------------------------------------------
def test_commands_and_exports_show_only_the_chosen_account(cli_env, monkeypatch, capsys):
    add_acme(monkeypatch, capsys)
    mark_acme(cli_env)

    assert main(["status", "--account", DEMO]) == EXIT_OK
    out = capsys.readouterr()
    assert "Noord Advies" in out.out and MARK not in out.out and f"Klant: {DEMO}" in out.err
    assert main(["--account", "acme", "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert MARK in out and "Noord Advies B.V.  Nog niet gekoppeld" in out and "→" not in out  # acme links nothing

    default_csv, acme_csv = cli_env / "default.csv", cli_env / "acme.csv"
    assert main(["mappings", "export", str(default_csv), "--account", DEMO]) == EXIT_OK
    assert main(["mappings", "export", str(acme_csv), "--account", "acme"]) == EXIT_OK
    assert len(list(csv.DictReader(default_csv.open()))) > 10
    assert list(csv.DictReader(acme_csv.open())) == []  # acme has no mappings: none of the demo's leak in

    assert main(["run", "--identity", "2", "--account", "acme"]) == EXIT_FAILED  # acme's identity 2 is not linked
    assert "niet gekoppeld" in capsys.readouterr().err
    assert main(["run", "--identity", "2", "--account", DEMO]) == EXIT_OK
    capsys.readouterr()
    deployment = Deployment(load_settings({"SYNC_DB_PATH": str(cli_env / "sync.duckdb"),
                                           "CONSOLE_PUBLIC_URL": "http://console.test"}))
    try:
        acme, default = deployment.services("acme"), deployment.services(DEMO)
        assert acme.store.scalar("SELECT count(*) FROM runs") == 0  # the run touched only its own account
        assert default.store.scalar("SELECT count(*) FROM runs") == 1
        assert default.store.scalar("SELECT count(*) FROM bookings WHERE number = '260999'") == 0
        assert not default.store.scalar("SELECT count(*) FROM events WHERE actor = ?", [MARK])
        health = {row.key: row.health for row in accounts.overview(deployment, "cli")}
        assert health[DEMO].last_run_at is not None and health["acme"].last_run_at is None
    finally:
        deployment.close()


def test_a_run_of_one_account_never_blocks_the_same_identity_of_another(cli_env, monkeypatch, capsys):
    add_acme(monkeypatch, capsys)
    deployment = Deployment(load_settings({"SYNC_DB_PATH": str(cli_env / "sync.duckdb"),
                                           "CONSOLE_PUBLIC_URL": "http://console.test"}))
    try:
        acme, default = deployment.services("acme"), deployment.services(DEMO)
        assert acme.lock_key(2) != default.lock_key(2)
        with exclusive(default.lock_key(2)):
            with pytest.raises(AlreadyRunning), exclusive(default.lock_key(2)):
                pass
            with exclusive(acme.lock_key(2)):  # the same identity id in another account: free
                pass
    finally:
        deployment.close()


def test_an_actor_granted_one_account_cannot_open_another(cli_env, monkeypatch, capsys):
    add_acme(monkeypatch, capsys)
    deployment = Deployment(load_settings({"SYNC_DB_PATH": str(cli_env / "sync.duckdb"),
                                           "CONSOLE_PUBLIC_URL": "http://console.test"}))
    try:
        finance = Actor("femke", "finance", frozenset({"acme"}))
        assert [a.key for a in accounts.visible(deployment, finance)] == ["acme"]
        assert [row.key for row in accounts.overview(deployment, finance)] == ["acme"]
        assert accounts.open_account(deployment, "acme", finance).account == "acme"
        with pytest.raises(AccountNotAllowed):
            accounts.open_account(deployment, DEMO, finance)
        with pytest.raises(AccountNotAllowed):  # the same answer for an account that does not exist
            accounts.open_account(deployment, "nobody", finance)
        assert accounts.choose(deployment, None, finance) == "acme"  # the only one it may see
        with pytest.raises(AccountNotAllowed):
            accounts.choose(deployment, DEMO, finance)
        with pytest.raises(UnknownAccount):
            accounts.choose(deployment, None, "cli")  # two accounts, none named
        support = Actor("sanne", "support", frozenset({"acme"}))
        with pytest.raises(AccountNotAllowed):
            accounts.check_account(deployment, DEMO, actor=support)
        with pytest.raises(AccountNotAllowed):
            accounts.remove_account(deployment, DEMO, actor=support)
        assert DEMO in [a.key for a in deployment.accounts()]
    finally:
        deployment.close()


# -- the support overview ---------------------------------------------------------------------------------
def test_overview_sorts_what_needs_a_person_first(tmp_path):
    from sync.store.catalog import Account, Catalog, Health

    catalog = Catalog(tmp_path / "catalog.duckdb")
    deployment = Deployment.__new__(Deployment)  # only the catalog is read: no account's file is opened
    deployment.catalog = catalog
    rows = {
        "fine": Health("fine", linked=2),
        "alerts": Health("alerts", linked=1, open_alerts=1),
        "stuck": Health("stuck", linked=1, blocked=3, conflicts=1),
        "stuck-less": Health("stuck-less", linked=1, refused=1),
        "broken": Health("broken", linked=1, broken_links=1),
        "overdue": Health("overdue", linked=1, overdue_runs=1),
        "failed": Health("failed", linked=1, failed_runs=2),
        "new": Health("new"),
        "unchecked": Health("unchecked", linked=2, unchecked_links=1),  # SnelStart not asked yet: never "fine"
    }
    try:
        for key in rows:
            catalog.add(Account(key=key, name=key.title(), db_path=tmp_path / f"{key}.duckdb"), actor="test")
        catalog.put_health_rows(list(rows.values()))
        order = [row.key for row in accounts.overview(deployment, "cli")]
        assert order == ["broken", "failed", "overdue", "stuck", "stuck-less", "alerts", "new", "unchecked", "fine"]
        assert accounts.NEEDS[accounts.overview(deployment, "cli", search="unchecked")[0].need] == "unchecked"
        assert [row.key for row in accounts.overview(deployment, "cli", search="STUCK")] == ["stuck", "stuck-less"]
    finally:
        catalog.close()


def test_the_accounts_list_counts_in_words_one_or_many() -> None:
    from sync.cli.accounts import overview_words
    from sync.store.catalog import Health

    one = accounts.OverviewRow("a", "A", Health("a", linked=1, broken_links=1, failed_runs=1, open_alerts=1), 0)
    many = accounts.OverviewRow("b", "B", Health("b", linked=1, broken_links=2, failed_runs=3, open_alerts=4), 0)
    assert overview_words(one, "nl") == "1 verbroken koppeling; 1 mislukte synchronisatie; 1 melding"
    assert overview_words(many, "nl") == "2 verbroken koppelingen; 3 mislukte synchronisaties; 4 meldingen"
    assert overview_words(one, "en") == "1 broken link; 1 failed run; 1 alert"
    assert "(" not in overview_words(many, "en") + overview_words(many, "nl")
