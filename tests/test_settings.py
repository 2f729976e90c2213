"""Settings resolved once, the same way for every process, and a database that knows what it holds."""

from __future__ import annotations

import stat
from decimal import Decimal
from pathlib import Path

import pytest

from sync.core.config import ConfigError, load_settings, read_secrets, resolve_settings
from sync.core.words import say
from sync.store import mode as store_mode
from sync.store.db import Store, StoreUnreadableError
from sync.wiring import build_services
from tests.real_console import REAL_SETTINGS


def test_environment_wins_over_secrets_and_empty_counts_as_unset(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('GRIPP_API_TOKEN = "from-secrets"\nSNELSTART_SUBSCRIPTION_KEY = "sub"\n'
                       'SYNC_SECRET_KEY = "a long enough passphrase"\nSNELSTART_TIER = "production"\n')
    settings = resolve_settings({"GRIPP_API_TOKEN": "from-env", "SNELSTART_TIER": ""}, secrets)
    assert not settings.sandbox
    assert settings.gripp_api_token == "from-env" and settings.snelstart_tier == "production"
    assert resolve_settings({}, tmp_path / "missing.toml").sandbox


def test_every_wrong_value_is_named_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"GRIPP_API_URL": "ftp://gripp", "SNELSTART_WEB_URL": "https://", "CONSOLE_PUBLIC_URL": "x",
                       "SNELSTART_TIER": "gratis", "SYNC_SECRET_KEY": "kort"})
    names = [line.split(":")[0] for line in caught.value.lines("en")]
    assert names == ["GRIPP_API_URL", "SNELSTART_WEB_URL", "CONSOLE_PUBLIC_URL", "SYNC_SECRET_KEY", "SNELSTART_TIER",
                     "SNELSTART_SUBSCRIPTION_KEY"]
    assert "kort" not in str(caught.value)  # a secret is never echoed


def test_trusted_proxies_and_the_invoice_ceiling_are_checked_and_have_safe_defaults() -> None:
    sandbox = load_settings({})
    assert sandbox.trusted_proxies == ()  # nobody's X-Forwarded-For is believed
    assert sandbox.max_invoice_total == Decimal("1000000.00")
    given = load_settings({"SYNC_TRUSTED_PROXIES": "127.0.0.1, ::1 10.8.0.0/16", "SYNC_MAX_INVOICE_TOTAL": "250000,5"})
    assert given.trusted_proxies == ("127.0.0.1/32", "::1/128", "10.8.0.0/16")
    assert given.max_invoice_total == Decimal("250000.50")
    with pytest.raises(ConfigError) as caught:
        load_settings({"SYNC_TRUSTED_PROXIES": "127.0.0.1, proxy.example.nl, *", "SYNC_MAX_INVOICE_TOTAL": "1.000.000"})
    assert [line.split(":")[0] for line in caught.value.lines("en")] == ["SYNC_TRUSTED_PROXIES",
                                                                        "SYNC_MAX_INVOICE_TOTAL"]
    assert "proxy.example.nl" in caught.value.lines("nl")[0]
    for wrong in ("0", "-5", "12,345", "€ 100"):
        with pytest.raises(ConfigError):
            load_settings({"SYNC_MAX_INVOICE_TOTAL": wrong})


def test_a_malformed_secrets_file_names_the_file_and_the_line(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[users.sanne]\nrole = "support"\npassword_hash = "x\n')
    with pytest.raises(ConfigError) as caught:
        read_secrets(secrets)
    assert str(secrets) in str(caught.value) and "line 3" in str(caught.value)


def test_the_first_process_records_the_mode_and_the_other_mode_is_refused(tmp_path: Path) -> None:
    real = load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(tmp_path / "real.duckdb")})
    build_services(real).close()
    sandbox = load_settings({"SYNC_DB_PATH": str(tmp_path / "real.duckdb")})
    with pytest.raises(store_mode.StoreModeError) as caught:
        build_services(sandbox)
    assert "holds real data" in say(caught.value.message, "en")
    assert not (tmp_path / "sandbox-secret.key").exists()  # nothing of the sandbox's was made beside it

    demo = load_settings({"SYNC_DB_PATH": str(tmp_path / "demo" / "sync.duckdb")})
    build_services(demo).close()
    with pytest.raises(store_mode.StoreModeError) as caught:
        build_services(load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(demo.db_path)}))
    assert "sandbox's demo data" in say(caught.value.message, "en")


def _forget_mode(path: Path) -> None:
    store = Store(path)
    store.execute("DELETE FROM store_meta")  # as a file from before modes were recorded
    store.close()


def test_a_file_from_before_modes_is_the_sandboxs_only_when_the_sandbox_key_opens_its_links(tmp_path: Path) -> None:
    demo = load_settings({"SYNC_DB_PATH": str(tmp_path / "demo" / "sync.duckdb")})
    build_services(demo).close()
    _forget_mode(demo.db_path)
    build_services(demo).close()  # the demo's links open with the sandbox key beside it: claimed as sandbox
    store = Store(demo.db_path)
    assert store_mode.recorded(store) == "sandbox"
    store.close()

    real = load_settings({**REAL_SETTINGS, "SYNC_DB_PATH": str(tmp_path / "real" / "sync.duckdb")})
    services = build_services(real)
    from sync.store import setup as setup_repo

    setup_repo.upsert_identity(services.store, 9, "Klant", source="manual")
    services.close()
    _forget_mode(real.db_path)
    with pytest.raises(store_mode.StoreModeError) as caught:
        build_services(load_settings({"SYNC_DB_PATH": str(real.db_path)}))
    assert "earlier version" in say(caught.value.message, "en")


def test_a_damaged_file_is_refused_at_open_without_its_path_in_the_reason(tmp_path: Path) -> None:
    from tests.console_helpers import damaged_database

    path = tmp_path / "sync.duckdb"
    damaged_database(path)
    with pytest.raises(StoreUnreadableError) as caught:
        Store(path)
    assert str(tmp_path) not in caught.value.reason


def test_a_new_database_and_its_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sync.duckdb"
    Store(path).close()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # a file made before: made private at the next open
    Store(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
