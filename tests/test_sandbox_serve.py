"""`python -m sync sandbox serve` (the simulators on their own, as a real process on a loopback port) and `sandbox
register` (the demo accounts in a deployment on real services that points at it): the printed settings reach Gripp
and SnelStart with the real clients, a registered deployment has the sandbox's links and mappings and books invoices
with `python -m sync run`, a second register adds nothing, and SIGTERM saves the world a restarted serve goes on
with. The world is the small demo, seeded into the served data folder first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sync.cli import main
from sync.core.config import SETTING_NAMES, load_settings
from sync.gripp.client import GrippClient
from sync.sandbox.seed import demo_accounts, demo_setup
from sync.sandbox.world import World
from sync.snelstart.client import SnelStartClient
from sync.store import setup as setup_repo
from sync.store.catalog import Catalog
from sync.wiring import Deployment
from tests.conftest import seed_sandbox
from tests.nodes import ROOT, Served, clean_env, serving

pytestmark = pytest.mark.slow  # each test starts `sandbox serve` (and commands) as processes of their own

SECRET = "a-secret-key-for-the-node-tests"


def _stop(served: Served) -> str:
    """SIGTERM, as an operator or a bench stops it: the exit code is 0, and what it said on standard error."""
    assert served.stop() == 0
    return served.log.read_text()


def _node_env(served: Served, node: Path, **extra: str) -> dict[str, str]:
    """A node's settings: what serve printed (paced as a production key: the simulators enforce no limits here),
    its own data folder and secret key."""
    return clean_env(**served.settings, SYNC_DB_PATH=str(node / "sync.duckdb"), SYNC_SECRET_KEY=SECRET, **extra)


def _register(served: Served, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["--lang", "en", "sandbox", "register", "--url", served.url])
    return code, capsys.readouterr().out


def _bookings(world: World) -> int:
    return sum(len(admin.bookings) for admin in world.snelstart.administrations.values())


def test_serve_prints_a_nodes_settings_and_the_real_clients_reach_gripp_and_snelstart(tmp_path: Path) -> None:
    seed_sandbox(tmp_path)
    with serving(tmp_path) as served:
        assert served.lines[-1] == "ready"
        assert served.lines[0].startswith("# The sandbox (Gripp and SnelStart) listens on http://127.0.0.1:")
        assert set(served.settings) == {"GRIPP_API_URL", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                                        "SNELSTART_WEB_URL", "SNELSTART_APP_SHORT_NAME",
                                        "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_TIER"}
        assert served.settings["SNELSTART_TIER"] == "production"  # --no-limits: the most a real node may pace to
        node = load_settings({**served.settings, "SYNC_SECRET_KEY": SECRET,
                              "SYNC_DB_PATH": str(tmp_path / "node" / "sync.duckdb")})
        assert not node.sandbox  # a node on these settings is on "real" services
        first = demo_setup().links[0]
        with GrippClient(node.gripp_api_url, demo_accounts()[0].gripp_token) as gripp:
            invoices = list(gripp.get_all("invoice"))
            assert invoices
            pdf = gripp.download_pdf(invoices[0]["directpdfurl"])  # the PDF links name the served port
            assert pdf.startswith(b"%PDF")
        with SnelStartClient(node.snelstart_api_url, node.snelstart_auth_url, str(node.snelstart_subscription_key),
                             first.koppelsleutel) as snelstart:
            assert snelstart.company_info()["administratieIdentifier"] == first.administration_id
            assert list(snelstart.verkoopfacturen())
        assert "Sandbox stopped; the world is saved in" in _stop(served)


def test_register_sets_up_the_demo_accounts_a_run_books_and_a_restarted_serve_keeps_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    world_folder, node = tmp_path / "world", tmp_path / "node"
    seed_sandbox(world_folder)
    state = world_folder / "sandbox-state.json"
    with serving(world_folder) as served:
        env = _node_env(served, node)
        code, said = _register(served, env, monkeypatch, capsys)
        assert code == 0
        assert said.splitlines() == ["Account studio-noord ‘Studio Noord’ added, with 2 links",
                                     "Account hofstra-installatie ‘Hofstra Installatietechniek’ added, with 1 link",
                                     "Account kleimeer ‘Kleimeer Landschapsarchitectuur’ added, with 0 links"]
        code, said = _register(served, env, monkeypatch, capsys)
        assert code == 0
        assert said.count("was there already; nothing added") == 3

        settings = load_settings(env)
        deployment = Deployment(settings)
        try:
            assert sorted(deployment.keys()) == ["hofstra-installatie", "kleimeer", "studio-noord"]
            for demo in demo_accounts():
                account = deployment.account(demo.key)
                assert account.gripp_url == served.settings["GRIPP_API_URL"]
                assert account.db_path == settings.accounts_dir / f"{demo.key}.duckdb"
                store = deployment.services(demo.key).store
                links = {link.identity_id: link for link in setup_repo.links(store)}
                wanted = demo.setup.links if demo.setup else []
                assert sorted(links) == sorted(link.identity_id for link in wanted)
                for link in wanted:  # the koppelsleutel kept encrypted by this deployment's vault
                    assert links[link.identity_id].administration_id == link.administration_id
                    assert deployment.vault.decrypt(links[link.identity_id].koppelsleutel_enc) == link.koppelsleutel
                rows = demo.setup.mappings if demo.setup else []
                assert {(m["identity_id"], m["gripp_vat_id"]) for m in setup_repo.vat_mappings(store)} == {
                    (r.identity_id, r.gripp_id) for r in rows if r.type == "vat"}
                assert {(m["identity_id"], m["gripp_ledger_id"]) for m in setup_repo.ledger_mappings(store)} == {
                    (r.identity_id, r.gripp_id) for r in rows if r.type == "ledger"}
                for link in wanted:  # the catalog knows every link (one administration, one link)
                    assert [(known.account_key, known.identity_id)
                            for known in deployment.catalog.links_to(link.administration_id)] == [
                        (demo.key, link.identity_id)]
        finally:
            deployment.close()

        before = _bookings(World.load(state))
        ran = subprocess.run([sys.executable, "-m", "sync", "--lang", "en", "--account", "studio-noord", "run"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stdout + ran.stderr
        assert "Newly booked: 0" not in ran.stdout
        port = served.url.rsplit(":", 1)[1]
        _stop(served)
    booked = _bookings(World.load(state)) - before
    assert booked > 0  # what the run booked is in the saved world

    with serving(world_folder, port=int(port)) as again:  # the accounts' Gripp address names this port
        assert again.url == served.url
        rerun = subprocess.run([sys.executable, "-m", "sync", "--lang", "en", "--account", "studio-noord", "run"],
                               cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        _stop(again)
    assert _bookings(World.load(state)) - before == booked  # nothing booked twice: the world came back whole


def test_register_on_a_postgres_catalog_adds_each_account_once_over_two_nodes(
        tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    seed_sandbox(tmp_path / "world")
    with serving(tmp_path / "world") as served:
        first = _node_env(served, tmp_path / "node-1", SYNC_DATABASE_URL=postgres_url)
        code, said = _register(served, first, monkeypatch, capsys)
        assert code == 0 and said.count(" added, with ") == 3
        second = _node_env(served, tmp_path / "node-2", SYNC_DATABASE_URL=postgres_url)
        for env in (second, first):  # another node, and the first again: nothing twice
            code, said = _register(served, env, monkeypatch, capsys)
            assert code == 0
            assert said.count("was there already; nothing added") == 3, said
    catalog = Catalog(postgres_url)
    try:
        accounts = catalog.accounts(include_removed=True)
        assert sorted(a.key for a in accounts) == ["hofstra-installatie", "kleimeer", "studio-noord"]
        assert all(a.db_path.parent == tmp_path / "node-1" / "accounts" for a in accounts)
        for demo in demo_accounts():  # every link known to every node
            for link in demo.setup.links if demo.setup else []:
                assert [known.account_key for known in catalog.links_to(link.administration_id)] == [demo.key]
    finally:
        catalog.close()


def test_serve_refuses_real_settings_and_register_refuses_the_builtin_sandbox(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(tmp_path / "sync.duckdb"))
    assert main(["--lang", "en", "sandbox", "register", "--url", "http://127.0.0.1:8600"]) == 2
    assert "this is the built-in sandbox" in capsys.readouterr().err
    monkeypatch.setenv("GRIPP_API_URL", "http://127.0.0.1:9/sandbox/gripp/public/api3.php")
    monkeypatch.setenv("SNELSTART_SUBSCRIPTION_KEY", "k")
    monkeypatch.setenv("SYNC_SECRET_KEY", SECRET)
    assert main(["--lang", "en", "sandbox", "serve", "--port", "0"]) == 1
    assert "real services are configured here" in capsys.readouterr().err
    assert not (tmp_path / "sandbox-state.json").exists()
