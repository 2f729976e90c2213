"""`python -m sync`: the command line drives the same use cases as the console, on the sandbox by default."""

from __future__ import annotations

import csv
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, main
from sync.jobs.runner import forget_gripp_freshness
from sync.sandbox.seed import ADMIN_ACADEMY


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    for name in ("GRIPP_API_URL", "GRIPP_API_TOKEN", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                 "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_WEB_URL", "SNELSTART_APP_SHORT_NAME", "SYNC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(tmp_path / "sync.duckdb"))
    monkeypatch.setenv("CONSOLE_PUBLIC_URL", "http://console.test")
    forget_gripp_freshness()
    yield tmp_path
    forget_gripp_freshness()


def test_run_then_status_on_the_sandbox_speak_dutch_by_default(cli_env, capsys):
    assert main(["run", "--identity", "2"]) == EXIT_OK
    out = capsys.readouterr()
    assert "SANDBOX" in out.err and "Gripp-facturen ophalen" in out.err
    assert "19 geboekt" in out.out and "11 geblokkeerd" in out.out and "1 conflict" in out.out
    assert "deels gelukt" in out.out
    assert main(["status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Noord Advies" in out and "geblokkeerd 11" in out and "laatste synchronisatie" in out
    assert "last run" not in out and "not linked" not in out


def test_every_command_speaks_english_with_lang_en(cli_env, capsys):
    assert main(["--lang", "en", "run", "--identity", "2"]) == EXIT_OK
    out = capsys.readouterr()
    assert "Fetching Gripp invoices" in out.err and "built-in simulators" in out.err
    assert "19 booked" in out.out and "11 blocked" in out.out and "1 conflict" in out.out and "geboekt" not in out.out
    assert main(["--lang", "en", "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "last sync" in out and "blocked 11" in out and "laatste" not in out and "geblokkeerd" not in out
    assert main(["dry-run", "--identity", "2", "--lang", "en"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Would be booked" in out and "Geblokkeerd" not in out


def test_dry_run_accounts_for_every_invoice_and_is_not_a_sync(cli_env, capsys):
    assert main(["dry-run", "--identity", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Zou worden geboekt: 24" in out and "Geblokkeerd: 5" in out
    assert "Staat al in SnelStart, zou worden overgenomen: 315" in out
    assert "Conflict: SnelStart heeft onder dit nummer een boeking die niet past: 1" in out
    assert "250028" in out and "€ 2.371,14 in plaats van € 2.361,14" in out  # the conflict, with its figures
    assert "8200" in out  # the missing ledger is named
    assert "Betalingen terug naar Gripp: 13" in out
    main(["status"])
    status = capsys.readouterr().out
    assert "laatste synchronisatie: nog nooit" in status  # a dry run is not a sync


def test_run_for_an_unlinked_identity_fails_clearly(cli_env, capsys):
    assert main(["run", "--identity", "3"]) == EXIT_FAILED
    assert "niet gekoppeld" in capsys.readouterr().err


def test_mappings_export_and_import_round_trip(cli_env, capsys):
    target = cli_env / "mappings.csv"
    assert main(["mappings", "export", str(target)]) == EXIT_OK
    rows = list(csv.DictReader(target.open()))
    assert rows and set(rows[0]) == {"identity", "type", "gripp_id", "gripp_label", "snelstart", "percentage"}
    assert main(["mappings", "import", str(target)]) == EXIT_OK


def test_mappings_import_with_one_bad_row_applies_nothing(cli_env, capsys):
    main(["run", "--identity", "2"])  # caches ledgers so numbers can be checked
    capsys.readouterr()
    bad = cli_env / "bad.csv"
    bad.write_text(
        "identity,type,gripp_id,gripp_label,snelstart,percentage\n"
        "2,vat,6,Vrijgesteld,Geen,0\n"
        "2,vat,1,21%,Hooog,21\n"
        "2,ledger,8100,Omzet cursussen,9999,\n"
        "7,ledger,8000,Omzet hoog,8000,\n"
    )
    assert main(["mappings", "import", str(bad)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "niets ingelezen" in err and "Hooog" in err and "9999" in err and "unknown identity 7" in err
    export = cli_env / "after.csv"
    main(["mappings", "export", str(export)])
    assert not [r for r in csv.DictReader(export.open()) if r["gripp_id"] == "6"]  # the good row was not applied


def test_a_database_held_by_another_process_is_one_line_with_its_pid(cli_env, capsys):
    db = cli_env / "sync.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"from sync.store.db import Store; import time; s = Store({str(db)!r}); print('ready', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        assert main(["status"]) == EXIT_LOCKED
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"proces {holder.pid}" in err[0] and "Traceback" not in err[0]
    finally:
        holder.kill()
        holder.wait()


def test_reset_sandbox_reseeds_and_clears_the_database(cli_env, capsys):
    main(["run", "--identity", "2"])
    assert main(["reset-sandbox"]) == EXIT_OK
    capsys.readouterr()
    main(["status"])
    out = capsys.readouterr().out
    assert "boekingen: nog geen" in out
    started = time.monotonic()
    assert main(["run", "--identity", "2"]) == EXIT_OK
    assert "19 geboekt" in capsys.readouterr().out
    assert time.monotonic() - started < 120


def test_identities_from_a_fresh_database_against_real_services(tmp_path, monkeypatch, capsys):
    """On real services nothing is bootstrapped: `identities` discovers them from Gripp, or adds one by id checked
    in Gripp, and then `link` works — everything the console's linking page does."""
    from tests.loopback import loopback, loopback_settings

    with loopback(tmp_path) as lb:
        settings = loopback_settings(lb.url, tmp_path / "fresh.duckdb")
        for name, value in {
            "GRIPP_API_URL": settings.gripp_api_url, "GRIPP_API_TOKEN": settings.gripp_api_token,
            "SNELSTART_API_URL": settings.snelstart_api_url, "SNELSTART_AUTH_URL": settings.snelstart_auth_url,
            "SNELSTART_SUBSCRIPTION_KEY": settings.snelstart_subscription_key,
            "SNELSTART_WEB_URL": settings.snelstart_web_url, "CONSOLE_PUBLIC_URL": lb.url,
            "SYNC_DB_PATH": str(settings.db_path), "SYNC_SECRET_KEY": "a passphrase long enough for a test",
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["identities"]) == EXIT_OK
        out = capsys.readouterr()
        assert out.out == "" and "identities discover" in out.err and "SANDBOX" not in out.err

        assert main(["--lang", "en", "identities", "add", "99"]) == EXIT_FAILED
        assert "Gripp has no invoices or companies of identity 99" in capsys.readouterr().err
        assert main(["identities", "add", "3"]) == EXIT_OK
        assert "Identiteit 3 ‘Noord Academy’ toegevoegd (gevonden in Gripp)" in capsys.readouterr().out
        key = lb.sandbox.snelstart.issue_key(ADMIN_ACADEMY)
        assert main(["link", "--identity", "3", "--key", key, "--start-date", "2024-01-01"]) == EXIT_OK
        capsys.readouterr()

        assert main(["identities", "discover"]) == EXIT_OK
        listed = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in listed] == ["1", "2", "3"]
        assert "Studio Noord B.V." in listed[0] and "niet gekoppeld" in listed[0]
        assert "→ Noord Academy" in listed[2]
