"""`python -m sync`: the command line drives the same use cases as the console, on the sandbox by default."""

from __future__ import annotations

import csv
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, main
from sync.sandbox.seed import ADMIN_ACADEMY


@pytest.mark.full_world  # the demo's identity 2: 19 booked, 11 blocked
def test_run_then_status_on_the_sandbox_speak_dutch_by_default(cli_env, capsys):
    assert main(["run", "--identity", "2"]) == EXIT_OK
    out = capsys.readouterr()
    assert "SANDBOX" in out.err and "Gripp-facturen ophalen" in out.err
    assert "19 geboekt" in out.out and "11 geblokkeerd" in out.out and "1 conflict" in out.out
    assert "deels gelukt" in out.out
    assert main(["status"]) == EXIT_OK
    out = capsys.readouterr().out
    # Overzicht's counts under Overzicht's names (tests/test_cli_console_words.py holds them side by side)
    assert "Noord Advies" in out and "Geblokkeerd: 11" in out and "Laatste synchronisatie: " in out
    assert "Last sync" not in out and "not linked" not in out


@pytest.mark.full_world  # the demo's identity 2: 19 booked, 11 blocked
def test_every_command_speaks_english_with_lang_en(cli_env, capsys):
    assert main(["--lang", "en", "run", "--identity", "2"]) == EXIT_OK
    out = capsys.readouterr()
    assert "Fetching Gripp invoices" in out.err and "built-in simulation of Gripp and SnelStart" in out.err
    assert "19 booked" in out.out and "11 blocked" in out.out and "1 conflict" in out.out and "geboekt" not in out.out
    assert main(["--lang", "en", "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Last sync" in out and "Blocked: 11" in out and "Laatste" not in out and "eblokkeerd" not in out
    assert main(["dry-run", "--identity", "2", "--lang", "en"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Would be booked" in out and "Geblokkeerd" not in out


def test_check_keeps_a_result_of_several_findings_indented_under_its_heading(cli_env, capsys):
    # Identity 2's ledgers hold two findings (a VAT kind not allowed, an inactive account): a list, each with its fix.
    assert main(["check", "--identity", "2"]) == EXIT_FAILED
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.endswith("] Grootboekrekeningen:"))
    findings = list(itertools.takewhile(lambda line: line.startswith(" " * 17 + "- "), lines[at + 1:]))
    assert len(findings) == 2, lines[at:at + 6]
    fixes = lines[at + 1 + len(findings):at + 3 + len(findings)]
    assert fixes[0].startswith("            → - ") and fixes[1].startswith(" " * 14 + "- "), fixes
    assert not any(line.startswith("-") for line in lines)  # nothing falls back to the margin


def test_check_indents_every_line_of_a_result_and_its_fix_where_the_first_line_starts():
    # Any explanation or fix of several lines, not only a list of findings: nothing falls back to the margin.
    from sync.cli.checks import result_lines
    from sync.cli.common import speaker
    from sync.core.words import Msg
    from sync.jobs.checks import CheckKey, CheckResult

    said = {"why": "De eerste regel\nloopt hier door\nen hier", "fix": "Doe dit\nen dan dat"}
    dutch = speaker("nl")

    def t(what, **values):  # the two messages of several lines as written above, the rest from the catalog
        return said.get(getattr(what, "key", "")) or dutch(what, **values)

    result = CheckResult(CheckKey.LEDGERS, "fail", Msg("why"), Msg("fix"))
    lines = result_lines(t, result, "nl", "Grootboek")
    assert lines == ["  [FOUT        ] Grootboek:",
                     " " * 17 + "De eerste regel", " " * 17 + "loopt hier door", " " * 17 + "en hier",
                     " " * 12 + "→ Doe dit", " " * 14 + "en dan dat"]


def test_an_account_without_identities_is_told_how_to_get_them_with_its_own_account_named(cli_env, capsys):
    # Kleimeer's identities are in Gripp but not fetched yet: status and check once printed only the banner.
    from sync.sandbox.seed_accounts import KLEIMEER

    assert main(["--account", KLEIMEER, "status"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"`python -m sync --account {KLEIMEER} identities discover`" in out
    for command in ("check", "run", "dry-run"):
        assert main(["--account", KLEIMEER, command]) == EXIT_FAILED, command
        err = capsys.readouterr().err
        # no identities at all: fetch them first (linking one the database does not know fails)
        assert "\nfout: er zijn nog geen identiteiten" in err and f"`python -m sync --account {KLEIMEER} identities " \
            "discover`" in err, err
    # the command line's run is the command line's in the run history ("Door"), not "the link"
    from sync.core.config import resolve_settings
    from sync.jobs.accounts import choose
    from sync.store import history
    from sync.wiring import Deployment

    assert main(["run", "--identity", "1"]) == EXIT_OK
    deployment = Deployment(resolve_settings(dict(os.environ)))
    try:
        services = deployment.services(choose(deployment, None))  # SYNC_ACCOUNT's, as for the commands
        assert history.recent_runs(services.store, 1)[0]["actor"] == "cli"
    finally:
        deployment.close()
    # an identity that is there but not linked is named, as `run` names it
    assert main(["dry-run", "--identity", "3"]) == EXIT_FAILED
    assert "identiteit 3 is niet gekoppeld: koppel haar met" in capsys.readouterr().err


def test_a_dry_run_of_every_linked_identity_says_each_one_whole(cli_env, capsys):
    # An identity with payments to bring back, then one with blocked invoices: the payments' lines once shadowed the
    # words of the next identity's reasons (a traceback half-way, found by a new-user trial).
    assert main(["dry-run"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("Geblokkeerd (") == 2 and out.count("Betalingen terug naar Gripp (") == 2, out
    assert "Traceback" not in out


@pytest.mark.full_world  # the demo's figures: 23, 6, 315, 13
def test_dry_run_accounts_for_every_invoice_and_is_not_a_sync(cli_env, capsys):
    assert main(["dry-run", "--identity", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    # The console's dry-run tabs, word for word: one name per decision on every surface
    assert "Zou worden geboekt (23)" in out and "Geblokkeerd (6)" in out
    assert "Staat al in SnelStart: overnemen (315)" in out
    assert "Conflict: andere boeking met dit nummer in SnelStart (1)" in out
    assert "250028" in out and "€ 2.371,14 in plaats van € 2.361,14" in out  # the conflict, with its figures
    assert "8200" in out  # the missing ledger is named
    assert "SnelStart-rekening 8010 ‘Omzet laag’" in out  # and the grootboek that demands a kostenplaats
    assert "Betalingen terug naar Gripp (13)" in out
    main(["status"])
    status = capsys.readouterr().out
    assert "Laatste synchronisatie: nog nooit" in status  # a dry run is not a sync


@pytest.mark.parametrize("argv", [["unlink", "--identity", "1"], ["ceiling", "--identity", "1"],
                                  ["kostenplaatsen", "--identity", "1"]])
def test_every_command_on_an_identity_says_sandbox_first(cli_env, capsys, argv):
    """Trial finding: `unlink` left out the SANDBOX line the other commands print (so did `ceiling` and
    `kostenplaatsen`): on the sandbox, nothing a command does may read as done on the real administration."""
    assert main(["--account", "studio-noord", *argv]) == EXIT_OK
    assert "SANDBOX" in capsys.readouterr().err


def test_run_for_an_unlinked_identity_fails_clearly(cli_env, capsys):
    assert main(["run", "--identity", "3"]) == EXIT_FAILED
    assert "niet gekoppeld" in capsys.readouterr().err


def exported(path: Path) -> list[dict[str, str]]:
    """A mappings export's rows, read as a Dutch spreadsheet reads them (UTF-8 with a BOM, `;` between cells)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_mappings_export_and_import_round_trip(cli_env, capsys):
    # Written as every other export is, for the reader's spreadsheet: UTF-8 with a BOM, `;` and a decimal comma in
    # Dutch, `,` and a decimal point in English (it was `,`, a point and no BOM whatever the language).
    header = "identity;type;gripp_id;gripp_label;snelstart;percentage"
    target = cli_env / "mappings.csv"
    assert main(["mappings", "export", str(target)]) == EXIT_OK
    first = target.read_bytes()
    assert first.startswith(("\ufeff" + header + "\r\n").encode())
    rows = exported(target)
    vat = [row for row in rows if row["type"] == "vat"]
    assert vat and all(re.fullmatch(r"\d+,\d\d", row["percentage"]) for row in vat), vat
    assert main(["--lang", "en", "mappings", "export", str(cli_env / "en.csv")]) == EXIT_OK
    english = (cli_env / "en.csv").read_text(encoding="utf-8")
    assert english.startswith("\ufeff" + header.replace(";", ",")) and "Hoog,21.00\n" in english

    # A file from before (`,`, a decimal point, no BOM) still imports, and what it changed shows in the next export.
    one = vat[0]
    old = cli_env / "old.csv"
    old.write_text(f"{header.replace(';', ',')}\n{one['identity']},vat,{one['gripp_id']},x,Verlegd,9.5\n",
                   encoding="utf-8")
    assert main(["mappings", "import", str(old)]) == EXIT_OK
    assert "1 koppeling ingelezen" in capsys.readouterr().out
    changed = cli_env / "changed.csv"
    assert main(["mappings", "export", str(changed)]) == EXIT_OK
    again = [row for row in exported(changed) if (row["identity"], row["type"], row["gripp_id"]) ==
             (one["identity"], "vat", one["gripp_id"])]
    assert [(row["snelstart"], row["percentage"]) for row in again] == [("Verlegd", "9,50")]

    # The new dialect reads back whole: importing the first export restores it exactly, the English one too.
    for backup in (target, cli_env / "en.csv"):
        assert main(["mappings", "import", str(backup)]) == EXIT_OK
        assert f"{len(rows)} koppelingen ingelezen" in capsys.readouterr().out
        assert main(["mappings", "export", str(changed)]) == EXIT_OK
        assert changed.read_bytes() == first


def test_run_exits_1_when_everything_was_blocked_and_0_when_there_is_nothing_new(cli_env, capsys):
    # A cron job saw exit 0 from a run whose every invoice was blocked ("niets geboekt — 25 geblokkeerd").
    backup = cli_env / "backup.csv"
    assert main(["mappings", "export", str(backup)]) == EXIT_OK
    wrong = cli_env / "wrong.csv"  # identity 1's revenue ledgers on a grootboek SnelStart does not have
    wrong.write_text("identity,type,gripp_id,gripp_label,snelstart,percentage\n" + "".join(
        f"1,ledger,{row['gripp_id']},x,9999,\n" for row in exported(backup)
        if row["identity"] == "1" and row["type"] == "ledger"), encoding="utf-8")
    assert main(["mappings", "import", str(wrong)]) == EXIT_OK
    capsys.readouterr()
    assert main(["run", "--identity", "1"]) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "niets geboekt — " in out and "Nieuw geboekt: 0, Overgenomen: 0," in out, out
    assert main(["--lang", "en", "run", "--identity", "1"]) == EXIT_FAILED  # still all blocked: still a failure
    assert "nothing booked — " in capsys.readouterr().out

    assert main(["mappings", "import", str(backup)]) == EXIT_OK
    assert main(["run", "--identity", "1"]) == EXIT_OK  # mended: it books
    out = capsys.readouterr().out
    assert "niets geboekt" not in out and "Nieuw geboekt: 0," not in out, out
    assert main(["run", "--identity", "1"]) == EXIT_OK  # nothing new to do is no failure
    out = capsys.readouterr().out
    assert "niets geboekt" not in out and "Nieuw geboekt: 0," in out, out


def test_run_help_and_the_commands_list_say_every_exit_code(capsys):
    from sync.cli.common import EXIT_INTERRUPTED, EXIT_USAGE

    for argv, codes in ((["run", "--help"], "Afsluitcodes: 0 klaar"), (["--help"], "Afsluitcodes: 0 klaar"),
                        (["--lang", "en", "run", "--help"], "Exit codes: 0 done")):
        with pytest.raises(SystemExit) as ended:
            main(argv)
        assert ended.value.code == EXIT_OK
        said = " ".join(capsys.readouterr().out.split())  # as one paragraph, however argparse wrapped it
        assert codes in said, said
        for code in (EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_INTERRUPTED):
            assert f"; {code} " in said, (code, said)
        assert "alles geblokkeerd" in said or "everything was blocked" in said


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
    assert "niets ingelezen" in err and "regel 3: de SnelStart-BTW-soort moet" in err and "‘Hooog’" in err
    assert "regel 5: identiteit 7 is onbekend" in err and "unknown" not in err
    export = cli_env / "after.csv"
    main(["mappings", "export", str(export)])
    assert not [r for r in exported(export) if r["gripp_id"] == "6"]  # the good row was not applied


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


@pytest.mark.slow  # reset-sandbox seeds the full demo (19 booked); the run before it is on the small one
def test_reset_sandbox_reseeds_and_clears_the_database(cli_env, capsys):
    main(["run", "--identity", "2"])
    assert main(["reset-sandbox"]) == EXIT_OK
    capsys.readouterr()
    main(["status"])
    out = capsys.readouterr().out
    assert "Geboekt door de koppeling: 0, Overgenomen: 0, Geblokkeerd: 0" in out
    assert main(["run", "--identity", "2"]) == EXIT_OK
    assert "19 geboekt" in capsys.readouterr().out


@pytest.mark.slow  # reset-sandbox seeds the full demo
def test_reset_sandbox_needs_no_account_and_counts_every_account_it_reseeded(cli_env, capsys, monkeypatch):
    """It reseeds every demo account, so it neither asks which one nor reports only one (it did both)."""
    monkeypatch.delenv("SYNC_ACCOUNT")
    assert main(["reset-sandbox"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "Sandbox opnieuw gevuld: 3 gekoppelde identiteiten (klanten: 3)" in out and str(cli_env) in out


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


def test_a_bad_path_is_one_plain_line_in_the_readers_language(cli_env, capsys):
    missing, folder, nowhere = cli_env / "nonexist.csv", cli_env, Path("/nonexistent-dir/x.csv")
    for argv, nl, en in ((["mappings", "import", str(missing)], "bestaat niet", "does not exist"),
                         (["mappings", "import", str(folder)], "is een map", "is a folder"),
                         (["mappings", "export", str(nowhere)], "bestaat niet", "does not exist")):
        assert main(argv) == EXIT_FAILED
        err = capsys.readouterr().err
        assert [line for line in err.splitlines() if line.startswith("fout:")] == [
            f"fout: {argv[-1]} {nl}" + err.split(f"{argv[-1]} {nl}")[1].splitlines()[0]]
        assert "Traceback" not in err and "Error" not in err
        assert main(["--lang", "en", *argv]) == EXIT_FAILED
        err = capsys.readouterr().err
        assert f"error: {argv[-1]} {en}" in err and "Traceback" not in err and "fout" not in err
    binary = cli_env / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    assert main(["mappings", "import", str(binary)]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert "regel 1: dit is geen CSV-bestand in UTF-8: bewaar het opnieuw als ‘CSV UTF-8’" in err
    assert "Error" not in err  # no Python exception names for a finance user


def test_an_export_always_imports_back_and_gripps_labels_stay_gripps(cli_env, capsys):
    """The demo's ledger 8200 does not exist in SnelStart: a backup holding that mapping is restored anyway, the
    row reported as the checks report it; the file's label column never renames Gripp's ledger."""
    assert main(["run", "--identity", "1"]) == EXIT_OK  # caches SnelStart's grootboeken
    backup = cli_env / "backup.csv"
    assert main(["mappings", "export", str(backup)]) == EXIT_OK
    before = exported(backup)
    capsys.readouterr()
    assert main(["mappings", "import", str(backup)]) == EXIT_OK
    out = capsys.readouterr()
    assert f"{len(before)} koppelingen ingelezen" in out.out
    assert "grootboek 8200 bestaat niet in de gekoppelde SnelStart-administratie; de koppeling is bewaard" in out.err
    assert main(["--lang", "en", "mappings", "import", str(backup)]) == EXIT_OK
    err = capsys.readouterr().err
    assert "grootboek 8200 does not exist in the linked SnelStart administration; the mapping is kept" in err
    assert "bestaat" not in err

    hostile = cli_env / "hostile.csv"
    hostile.write_text("identity,type,gripp_id,gripp_label,snelstart,percentage\n"
                       "1,ledger,8200,=1+1 <b>x</b> 🎉,8000,\n", encoding="utf-8")
    assert main(["mappings", "import", str(hostile)]) == EXIT_OK
    assert "1 koppeling ingelezen" in capsys.readouterr().out
    again = cli_env / "again.csv"
    main(["mappings", "export", str(again)])
    row = next(r for r in exported(again) if r["type"] == "ledger" and r["gripp_id"] == "8200")
    assert row["snelstart"] == "8000" and row["gripp_label"] == next(
        r["gripp_label"] for r in before if r["type"] == "ledger" and r["gripp_id"] == "8200")
    assert "<b>" not in again.read_text(encoding="utf-8")
    capsys.readouterr()
    main(["check", "--identity", "1"])
    out = capsys.readouterr().out
    assert "=1+1" not in out and "<b>" not in out
    assert "onderaan deze pagina" not in out and "python -m sync dry-run" in out and "(en)" not in out


def test_an_identity_the_database_does_not_know_is_said_to_not_exist(cli_env, capsys):
    for argv in (["check", "--identity", "999"], ["run", "--identity", "999"], ["dry-run", "--identity", "999"],
                 ["unlink", "--identity", "999"], ["ceiling", "--identity", "999"],
                 ["link", "--identity", "999", "--key", "x"]):
        assert main(argv) == EXIT_FAILED
        out = capsys.readouterr()
        assert "fout: identiteit 999 bestaat niet in deze database" in out.err and "== " not in out.out
        assert main(["--lang", "en", *argv]) == EXIT_FAILED
        assert "error: identity 999 does not exist in this database" in capsys.readouterr().err
    assert main(["--account", "studio-noord", "run", "--identity", "999"]) == EXIT_FAILED
    assert "`python -m sync --account studio-noord identities add 999`" in capsys.readouterr().err  # runnable as is


def _parse_fails(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    assert ended.value.code == 2
    return capsys.readouterr().err


def test_help_usage_and_argument_errors_speak_dutch_by_default_and_english_with_lang_en(cli_env, capsys):
    import argparse

    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    assert ended.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("gebruik: python -m sync") and "opties:" in out and "deze hulptekst tonen" in out
    assert "verversen, facturen boeken" in out and "usage" not in out and "show this help" not in out

    err = _parse_fails(["check", "--identity", "abc"], capsys)
    assert "fout: bij --identity: ‘abc’ is geen identiteit-id" in err and "invalid" not in err
    err = _parse_fails(["link", "--identity", "1", "--start-date", "2026-13-45"], capsys)
    assert "‘2026-13-45’ is geen datum; schrijf JJJJ-MM-DD" in err and "fromisoformat" not in err
    err = _parse_fails(["link"], capsys)
    assert "dit ontbreekt nog: --identity" in err and "required" not in err

    err = _parse_fails(["check", "--identity", "abc", "--lang", "en"], capsys)
    assert "error: argument --identity: ‘abc’ is not an identity id" in err and err.startswith("usage:")
    err = _parse_fails(["--lang", "en", "link", "--identity", "1", "--start-date", "2026-13-45"], capsys)
    assert "‘2026-13-45’ is not a date; write YYYY-MM-DD" in err
    with pytest.raises(SystemExit):
        main(["--lang=en", "--help"])
    assert "refresh, book invoices" in capsys.readouterr().out
    assert argparse._("usage: ") == "usage: "  # argparse speaks English again for everyone else


def test_an_unknown_command_action_or_choice_is_said_in_the_readers_words_with_the_choices_readable(capsys):
    # argparse said "'frobnicate' kan niet; kies uit 'run', 'dry-run', …" after "bij OPDRACHT:": repr()'s quotes
    # around every choice, half Dutch. Each is one sentence of the catalog's, in typographic quotes.
    commands = ("run, dry-run, status, check, invoice, identities, link, unlink, ceiling, kostenplaatsen, mappings, "
                "accounts, notify, worker, hash-password, reset-sandbox, sandbox")
    err = _parse_fails(["frobnicate"], capsys)
    assert err.startswith("gebruik: python -m sync")
    assert f"python -m sync: fout: onbekende opdracht ‘frobnicate’; kies uit {commands}\n" in err
    err = _parse_fails(["--lang", "en", "frobnicate"], capsys)
    assert f"python -m sync: error: unknown command ‘frobnicate’; choose from {commands}\n" in err
    err = _parse_fails(["mappings", "frob"], capsys)
    assert "python -m sync mappings: fout: onbekende handeling ‘frob’; kies uit export, import\n" in err
    err = _parse_fails(["identities", "wat", "--lang", "en"], capsys)
    assert "python -m sync identities: error: unknown action ‘wat’; choose from list, discover, add\n" in err
    err = _parse_fails(["status", "--lang", "xx"], capsys)
    assert "python -m sync status: fout: bij --lang: ‘xx’ is geen keuze; kies uit nl, en\n" in err
    err = _parse_fails(["--lang=de", "run"], capsys)  # an unknown language: Dutch, the default, says so
    assert "fout: bij --lang: ‘de’ is geen keuze; kies uit nl, en" in err
    err = _parse_fails(["frob\x1b[2J\u202e"], capsys)  # what was typed comes back without a terminal's escapes
    assert "onbekende opdracht ‘frob [2J’" in err and "\x1b" not in err and "\u202e" not in err
    err = _parse_fails(["unlink", "--identity", "1", "\x1b]0;x\x07"], capsys)  # argparse's own words repeat it too
    assert "fout: onbekend:  ]0;x " in err and not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", err)


def test_hash_password_on_a_terminal_asks_twice_and_catches_a_mistyped_confirmation(monkeypatch, capsys):
    import getpass

    typed = iter(["correct horse battery", "correct horse batterx"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    assert main(["hash-password"]) == EXIT_FAILED
    out = capsys.readouterr()
    assert out.out == "" and "de twee wachtwoorden verschillen" in out.err
    typed = iter(["correct horse battery", "correct horse battery"])
    assert main(["hash-password"]) == EXIT_OK
    assert "$2b$" in capsys.readouterr().out


# ================================================================================================ one vocabulary

# Synchronisatie's tiles after a sync (console/pages/synchronisatie.py `show_result`): the run's count → its name.
SYNC_TILES = (("booked", "count_booked_now"), ("adopted", "count_adopted"), ("blocked", "count_blocked"),
              ("conflicts", "count_conflicts"), ("failed", "count_failed"), ("payments_registered", "count_payments"))
# Overzicht's tiles (console/pages/overzicht.py): `views.booking_counts` → its name; and what needs a person.
OVERVIEW_TILES = (("booked", "count_booked_by_link"), ("adopted", "count_adopted"), ("blocked", "count_blocked"),
                  ("failed", "count_failed"),
                  ("payments", "count_payments"))
ATTENTION = (("blocked", "attention_blocked"), ("failed", "attention_refused"), ("conflict", "attention_conflict"))


def console_view(identity_id: int):
    """What the console's pages read for the identity, from the same database the commands wrote: the last dry run
    (Controles), the last sync (Synchronisatie, Overzicht) and the booking counts (Overzicht)."""
    from console import views
    from sync.core.config import resolve_settings
    from sync.jobs import preview
    from sync.jobs.accounts import choose
    from sync.wiring import Deployment

    deployment = Deployment(resolve_settings(dict(os.environ)))
    try:
        services = deployment.services(choose(deployment, None))  # SYNC_ACCOUNT's, as for the commands
        last = views.last_run(services.store, identity_id)
        return (preview.latest(services, identity_id), views.counts_of(last) if last else {},
                last["outcome"] if last else None, views.booking_counts(services.store, identity_id))
    finally:
        deployment.close()


def test_dry_run_run_and_status_say_the_consoles_words_and_counts_in_both_languages(cli_env, capsys):
    """The sandbox's first dry run, first run and status, by the command line and as the console's pages show them:
    the same name for each decision and count, the same numbers (issue 20: 'Al geboekt door de koppeling: 340' and
    'geboekt 1, klaar 339' were the command line's own words and sums)."""
    from sync.core import fmt
    from sync.core.events import run_label
    from sync.core.words import say
    from sync.jobs import plan
    from sync.sandbox.seed import FIRST_ACCOUNT

    def command(*argv: str) -> str:
        assert main(["--account", FIRST_ACCOUNT, *argv]) == EXIT_OK
        return capsys.readouterr().out

    def view():
        return console_view(1)

    for lang in ("nl", "en"):  # the first dry run, in each language: Controles' tabs, line by line
        shown = command("--lang", lang, "dry-run", "--identity", "1").splitlines()
        dry, *_ = view()
        for decision in plan.DECISIONS:  # the console's tab label, as controles.py writes it
            assert f"  {say(plan.DECISION_LABELS[decision], lang)} ({fmt.count(len(dry.of(decision)), lang)})" \
                in shown, (lang, decision)
        assert f"  {say('decision_payments', lang)} ({fmt.count(len(dry.payments), lang)})" in shown
        assert len(dry.of(plan.BOOK)) and len(dry.of(plan.ADOPT)) and not len(dry.of(plan.ALREADY_BOOKED))
    would_book, would_adopt = len(dry.of(plan.BOOK)), len(dry.of(plan.ADOPT))

    result = command("--lang", "en", "run", "--identity", "1")
    _, counts, outcome, standing = view()
    assert counts["booked"] == would_book and counts["adopted"] == would_adopt  # the dry run said what happened
    assert f"(identity 1): {run_label(outcome, counts, 'en')} — " in result
    tiles = ", ".join(f"{say(key, 'en')}: {fmt.count(counts.get(name, 0), 'en')}" for name, key in SYNC_TILES)
    assert f"  {tiles}\n" in result  # Synchronisatie's tiles: "Newly booked: 23, Adopted: 315, …"

    for lang in ("nl", "en"):  # Overzicht: the same counts under the same names, booked and adopted apart
        status = command("--lang", lang, "status")
        tiles = ", ".join(f"{say(key, lang)}: {fmt.count(standing[name], lang)}" for name, key in OVERVIEW_TILES)
        assert f"      {tiles}\n" in status, status
        assert (standing["booked"], standing["adopted"]) == (would_book, would_adopt)
        for name, key in ATTENTION:
            assert (say(key, lang, n=standing[name]) in status) == bool(standing[name]), (lang, key)
        assert f"{say('last_run', lang)}: " in status and run_label(outcome, counts, lang) in status
        assert not re.search(r"\b(klaar|done|geboekt|booked) \d", status)  # no outbox states: the console's counts

        again = command("--lang", lang, "dry-run", "--identity", "1").splitlines()  # booked and adopted apart
        assert f"  {say('decision_already_booked', lang)} ({fmt.count(would_book + would_adopt, lang)})" in again
        assert f"    {say('count_booked_by_link', lang)} ({fmt.count(would_book, lang)})" in again
        assert f"    {say('count_adopted', lang)} ({fmt.count(would_adopt, lang)})" in again


def test_names_from_outside_cannot_reorder_a_line_or_reach_the_terminal(cli_env, capsys):
    """A Gripp identity named with a right-to-left override, an isolate, a terminal escape and a line break prints
    as its letters (issue 24, item 9)."""
    from sync.store import setup as setup_repo
    from sync.store.db import Store

    assert main(["identities"]) == EXIT_OK
    store = Store(cli_env / "sync.duckdb")
    try:
        setup_repo.upsert_identity(store, 2, "Noord\u202eAdvies\u2066 B.V.\x1b[2J\r\nok: alles goed")
    finally:
        store.close()
    capsys.readouterr()
    for command in (["identities"], ["status"], ["--lang", "en", "status"]):
        assert main(command) == EXIT_OK
        out = capsys.readouterr()
        printed = out.out + out.err
        assert not set(printed) & set("\u202e\u2066\x1b\r"), repr(printed)
        assert "NoordAdvies B.V. [2J" in printed
        assert not any(line.startswith("ok: alles goed") for line in printed.splitlines())


def test_ceiling_shows_sets_and_resets_an_identitys_highest_invoice_total(cli_env, capsys):
    assert main(["ceiling", "--identity", "1"]) == EXIT_OK
    assert capsys.readouterr().out == ("Hoogste factuurbedrag van identiteit 1: € 1.000.000,00, de standaard "
                                       "(SYNC_MAX_INVOICE_TOTAL).\n")
    assert main(["ceiling", "--identity", "1", "250000,50"]) == EXIT_OK
    assert capsys.readouterr().out == ("Hoogste factuurbedrag van identiteit 1: € 250.000,50 (eigen; de standaard is "
                                       "€ 1.000.000,00).\n")
    assert main(["--lang", "en", "ceiling", "--identity", "1"]) == EXIT_OK
    assert capsys.readouterr().out == ("Highest invoice total of identity 1: €250,000.50 (its own; the default is "
                                       "€1,000,000.00).\n")
    assert main(["ceiling", "--identity", "2"]) == EXIT_OK  # another identity keeps the default
    assert "€ 1.000.000,00, de standaard" in capsys.readouterr().out

    assert main(["ceiling", "--identity", "1", "0"]) == EXIT_FAILED  # the use case's refusal, in words
    assert "‘0’ kan geen hoogste factuurbedrag zijn" in capsys.readouterr().err
    assert main(["ceiling", "--identity", "1", "922337203685477.59"]) == EXIT_FAILED
    assert "meer dan SnelStart in een bedrag kan bewaren" in capsys.readouterr().err
    assert "‘250.000,00’ is geen bedrag" in _parse_fails(["ceiling", "--identity", "1", "250.000,00"], capsys)
    assert "niet samen met" in _parse_fails(["ceiling", "--identity", "1", "5", "--default"], capsys)
    assert main(["ceiling", "--identity", "3"]) == EXIT_FAILED
    assert "niet gekoppeld" in capsys.readouterr().err

    assert main(["ceiling", "--identity", "1", "--default"]) == EXIT_OK
    assert "€ 1.000.000,00, de standaard" in capsys.readouterr().out
