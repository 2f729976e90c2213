"""One configuration, decided once, and state that tells the truth — as a careless operator meets them, in
subprocesses (issue 12, findings 1, 9, 10, 11).

The command line and the console resolve settings alike (environment, then `.streamlit/secrets.toml` of the
working directory); the database says whether it holds sandbox or real data; a wrong value is one line, never a
traceback; a command saves the sandbox's state however it ends; a killed run does not stay 'running'.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sync.core.config import load_settings
from sync.core.vault import Vault
from sync.sandbox.sandbox import Sandbox
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_ADVIES
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import World
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.wiring import build_services
from tests import console_helpers as helpers
from tests.conftest import seed_sandbox
from tests.real_console import REAL_SETTINGS, deployment, secrets_toml

REAL_IDENTITY = 7


def cli(folder: Path, *args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """`python -m sync --lang en …` run from `folder` (its `.streamlit/secrets.toml` is the one read), with no
    settings in the environment but `env`."""
    return subprocess.run([sys.executable, "-m", "sync", "--lang", "en", *args], cwd=folder,
                          env=helpers.clean_env(**env), input=input, capture_output=True, text=True, timeout=240)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def real_database(path: Path) -> None:
    """A database as the real console leaves it: real mode, one identity linked to a real administration."""
    services = build_services(load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(path)}))
    try:
        setup_repo.upsert_identity(services.store, REAL_IDENTITY, "Klant B.V.", source="manual")
        setup_repo.save_link(services.store, identity_id=REAL_IDENTITY, administration_id="real-administration",
                             administration_name="Klant B.V. (echt)",
                             koppelsleutel_enc=services.vault.encrypt("a-real-koppelsleutel"),
                             key_hint=Vault.hint("a-real-koppelsleutel"), start_date=None, actor="support")
    finally:
        services.close()


def links_in(path: Path) -> list[tuple[int, str]]:
    store = Store(path)
    try:
        return [(link.identity_id, link.administration_name) for link in setup_repo.links(store)]
    finally:
        store.close()


# -- finding 1: the CLI reads secrets.toml like the console; a real database refuses the sandbox ---------------


def test_the_command_line_reads_the_real_settings_from_secrets_toml_like_the_console(tmp_path: Path) -> None:
    database = tmp_path / "productie" / "sync.duckdb"
    real_database(database)
    deployment(tmp_path, secrets_toml())  # the real settings only in secrets.toml, as for the console

    status = cli(tmp_path, "status", SYNC_DB_PATH=str(database))
    assert status.returncode == 0, status.stderr
    assert "SANDBOX" not in status.stderr
    assert "Klant B.V." in status.stdout and "Klant B.V. (echt)" in status.stdout

    reset = cli(tmp_path, "reset-sandbox", SYNC_DB_PATH=str(database))
    assert reset.returncode == 1 and "only works in sandbox mode" in reset.stderr
    assert links_in(database) == [(REAL_IDENTITY, "Klant B.V. (echt)")]


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file below `folder` and its bytes."""
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.mark.parametrize("command", [["status"], ["run"], ["reset-sandbox"]])
def test_a_real_database_refuses_the_sandbox_and_reset_sandbox(tmp_path: Path, command: list[str]) -> None:
    """Refused before anything is written: no sandbox state, key file or catalog beside real data (issue 24,
    item 10)."""
    database = tmp_path / "sync.duckdb"
    real_database(database)
    before = folder_files(tmp_path)
    result = cli(tmp_path, *command, SYNC_DB_PATH=str(database))  # no settings at all: the sandbox
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "holds real data" in result.stderr and "SANDBOX" not in result.stderr
    no_traceback(result)
    assert folder_files(tmp_path) == before
    assert links_in(database) == [(REAL_IDENTITY, "Klant B.V. (echt)")]
    store = Store(database)
    try:
        assert store.scalar("SELECT count(*) FROM runs") == 0
    finally:
        store.close()


@pytest.mark.parametrize("command", [["status"], ["reset-sandbox"]])
def test_a_real_deployments_folder_is_left_as_it_was_by_a_refused_sandbox(tmp_path: Path, command: list[str]) -> None:
    """A real deployment (its catalog of accounts real, no SYNC_DB_PATH file of its own) reached without its
    settings: the sandbox refuses the catalog and writes nothing into the folder first (issue 24, item 10)."""
    from sync.wiring import Deployment

    data = tmp_path / "data"
    data.mkdir()
    Deployment(load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(data / "sync.duckdb")})).close()
    assert (data / "catalog.duckdb").is_file()
    before = folder_files(tmp_path)
    result = cli(tmp_path, *command, SYNC_DB_PATH=str(data / "sync.duckdb"))
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "real" in result.stderr and "SANDBOX" not in result.stderr
    no_traceback(result)
    assert folder_files(tmp_path) == before
    assert not (data / "sandbox-state.json").exists()


# -- findings 9 and 11: wrong values are one line each, at start, never a traceback or an outage ---------------


def test_wrong_settings_are_one_clear_line_each_for_the_command_line(tmp_path: Path) -> None:
    database = tmp_path / "sync.duckdb"
    real_database(database)
    result = cli(tmp_path, "run", SYNC_DB_PATH=str(database), **{**REAL_SETTINGS, "GRIPP_API_URL": "not a url",
                                                                 "SNELSTART_TIER": "bogus"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: the settings cannot be used:"
    assert any(line.strip().startswith("GRIPP_API_URL: 'not a url' is not a web address") for line in lines)
    assert any(line.strip().startswith("SNELSTART_TIER: 'bogus' is not a SnelStart tier") for line in lines)
    assert len(lines) == 3
    assert "reached" not in result.stderr + result.stdout  # a configuration error, not an outage


def test_a_gripp_url_that_is_not_a_url_is_a_settings_error_not_an_outage(tmp_path: Path) -> None:
    database = tmp_path / "sync.duckdb"
    real_database(database)
    result = cli(tmp_path, "run", SYNC_DB_PATH=str(database), **{**REAL_SETTINGS, "GRIPP_API_URL": "not a url"})
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "GRIPP_API_URL: 'not a url' is not a web address" in result.stderr
    assert "reached" not in result.stderr + result.stdout and "Temporary" not in result.stderr + result.stdout
    no_traceback(result)


def test_a_bogus_tier_is_one_line_also_in_sandbox_mode(tmp_path: Path) -> None:
    result = cli(tmp_path, "status", SYNC_DB_PATH=str(tmp_path / "sync.duckdb"), SNELSTART_TIER="bogus")
    assert result.returncode == 2 and "SNELSTART_TIER: 'bogus'" in result.stderr
    no_traceback(result)


def test_a_malformed_secrets_toml_is_one_clear_line_for_the_command_line(tmp_path: Path) -> None:
    deployment(tmp_path, 'GRIPP_API_TOKEN = "unterminated\n')
    result = cli(tmp_path, "status", SYNC_DB_PATH=str(tmp_path / "sync.duckdb"))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "secrets.toml: not valid TOML" in result.stderr and "line 1" in result.stderr
    no_traceback(result)
    assert not (tmp_path / "sync.duckdb").exists()  # nothing was opened on settings nobody can read


@pytest.mark.parametrize("secrets, env", [
    ('GRIPP_API_TOKEN = "unterminated\n', {}),
    ("", {"SNELSTART_TIER": "bogus"}),
    ("", {**REAL_SETTINGS, "GRIPP_API_URL": "not a url"}),
], ids=["malformed-secrets", "bogus-tier", "not-a-url"])
def test_the_console_does_not_start_on_wrong_settings_and_says_why(tmp_path: Path, secrets: str,
                                                                   env: dict[str, str]) -> None:
    deployment(tmp_path, secrets)
    result = subprocess.run([sys.executable, "-m", "console", "--port", str(helpers.free_port())], cwd=tmp_path,
                            env=helpers.clean_env(SYNC_DB_PATH=str(tmp_path / "sync.duckdb"), **env),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]  # the process speaks Dutch unless asked otherwise
    assert result.stderr.startswith("De console start niet: de instellingen zijn niet bruikbaar:"), result.stderr
    no_traceback(result)


def test_a_second_console_on_a_taken_port_says_so_plainly_before_announcing_itself(tmp_path: Path) -> None:
    import socket

    deployment(tmp_path, "")
    with socket.socket() as first:  # the first console's listening socket
        first.bind(("127.0.0.1", 0))
        first.listen()
        port = first.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "console", "--port", str(port), "--lang", "en"], cwd=tmp_path,
                                env=helpers.clean_env(SYNC_DB_PATH=str(tmp_path / "sync.duckdb")),
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {port} is already in use — most likely another console runs there" in lines[0]
    assert f"make run PORT={port + 1}" in lines[0] and "Console on" not in result.stderr
    no_traceback(result)


@pytest.mark.parametrize("damage", ["not-duckdb", "bad-blocks"])
def test_a_corrupt_database_is_one_clear_line_for_the_command_line(tmp_path: Path, damage: str) -> None:
    database = tmp_path / "sync.duckdb"
    if damage == "not-duckdb":
        database.write_bytes(os.urandom(100_000))
    else:
        helpers.damaged_database(database)
    result = cli(tmp_path, "status", SYNC_DB_PATH=str(database))
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be read" in lines[0], result.stderr
    no_traceback(result)


# -- finding 10: a killed run is marked at the next start; the sandbox's state is saved however a command ends -


def start_run(folder: Path, identity: int, until: str) -> subprocess.Popen:
    """`python -m sync run --identity …` on the (small demo) sandbox, returned once its progress shows `until`."""
    seed_sandbox(folder)
    process = subprocess.Popen([sys.executable, "-m", "sync", "--lang", "en", "run", "--identity", str(identity)],
                               cwd=folder,
                               env=helpers.clean_env(SYNC_DB_PATH=str(folder / "sync.duckdb")),
                               stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    seen = []
    for line in process.stderr:  # progress lines, one per step
        seen.append(line)
        if until in line:
            return process
    process.wait(30)
    raise AssertionError(f"the run ended before {until!r}: {''.join(seen)}")


def test_a_run_killed_with_sigkill_is_interrupted_not_running_in_status(tmp_path: Path) -> None:
    process = start_run(tmp_path, 2, "Booking invoices in SnelStart")
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    status = cli(tmp_path, "status", SYNC_DB_PATH=str(tmp_path / "sync.duckdb"))
    assert status.returncode == 0, status.stderr
    [line] = [line for line in status.stdout.splitlines() if "Last sync" in line and "never" not in line]
    assert "running" not in line and "failed (interrupted" in line, status.stdout


def booked_in_database(folder: Path) -> set[str]:
    store = Store(folder / "sync.duckdb")
    try:
        return {row["booking_id"] for row in store.rows(
            "SELECT booking_id FROM bookings WHERE identity_id = 2 AND booking_id IS NOT NULL")}
    finally:
        store.close()


def booked_in_sandbox(folder: Path) -> set[str]:
    world = World.load(folder / "sandbox-state.json")
    return set(world.snelstart.administrations[ADMIN_ADVIES].bookings)


def test_the_sandbox_state_is_saved_when_a_command_ends(tmp_path: Path) -> None:
    seed_sandbox(tmp_path)
    result = cli(tmp_path, "run", "--identity", "2", SYNC_DB_PATH=str(tmp_path / "sync.duckdb"))
    assert result.returncode == 0, result.stderr
    booked = booked_in_database(tmp_path)
    assert len(booked) >= 20
    assert booked <= booked_in_sandbox(tmp_path), "the database names bookings the sandbox lost"


def test_the_sandbox_state_is_saved_when_a_command_is_terminated(tmp_path: Path) -> None:
    process = start_run(tmp_path, 2, "Registering payments in Gripp")  # the bookings are made by then
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    booked = booked_in_database(tmp_path)
    assert len(booked) >= 20
    assert booked <= booked_in_sandbox(tmp_path), "the database names bookings the sandbox lost"


# -- finding 11: private files; the koppelsleutel not on the command line --------------------------------------


def test_the_database_and_its_folder_are_private_to_the_user(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    result = cli(tmp_path, "status", SYNC_DB_PATH=str(folder / "sync.duckdb"))
    assert result.returncode == 0, result.stderr
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [folder, *folder.iterdir()]}
    assert modes.pop("data") == 0o700, modes
    folders = {name for name in modes if (folder / name).is_dir()}  # the accounts' folder
    assert modes and all(mode == (0o700 if name in folders else 0o600) for name, mode in modes.items()), {
        k: oct(v) for k, v in modes.items()}
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for name in folders for path in (folder / name).iterdir())


def sandbox_with_a_fresh_key(folder: Path) -> str:
    world = small_world()
    key = Sandbox(world).snelstart.issue_key(ADMIN_ACADEMY)
    seed_sandbox(folder, world)
    return key


@pytest.mark.parametrize("how", ["stdin", "environment"])
def test_the_koppelsleutel_comes_from_standard_input_or_the_environment(tmp_path: Path, how: str) -> None:
    key = sandbox_with_a_fresh_key(tmp_path)
    env = {"SYNC_DB_PATH": str(tmp_path / "sync.duckdb")}
    if how == "environment":
        env["SNELSTART_KOPPELSLEUTEL"] = key
    result = cli(tmp_path, "link", "--identity", "3", input=key + "\n" if how == "stdin" else "", **env)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Identity 3 linked" in result.stdout and key not in result.stdout + result.stderr
    assert (3, "Noord Academy") in links_in(tmp_path / "sync.duckdb")


def test_hash_password_takes_a_password_over_72_bytes(tmp_path: Path) -> None:
    from sync.auth.users import authenticate, users_from

    password = "een heel lang wachtwoord " * 5  # 125 bytes
    result = cli(tmp_path, "hash-password", input=password + "\n")
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    users = users_from({"users": {"sanne": {"password_hash": result.stdout.strip(), "role": "support"}}})
    assert authenticate(users, "sanne", password) is not None
    assert authenticate(users, "sanne", password[:72]) is None  # every byte counts
