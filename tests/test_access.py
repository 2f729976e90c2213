"""Roles: support may do everything, finance only open items, exports, sync now and acknowledging alerts."""

from __future__ import annotations

import pytest

from sync.access import Actor, NotAllowed, can, require
from sync.users import authenticate, hash_password, users_from

SUPPORT = Actor("sanne", "support")
FINANCE = Actor("femke", "finance")


@pytest.mark.parametrize("permission", ["view", "export", "sync", "acknowledge"])
def test_finance_may_read_export_and_sync(permission):
    require(FINANCE, permission)


@pytest.mark.parametrize("permission", ["link", "mappings", "checks", "schedule", "keys"])
def test_finance_may_not_link_map_check_or_touch_keys(permission):
    with pytest.raises(NotAllowed) as caught:
        require(FINANCE, permission)
    assert "femke" in caught.value.nl and "support" in caught.value.en


def test_support_may_do_everything():
    for permission in ("view", "export", "sync", "acknowledge", "checks", "link", "mappings", "schedule", "keys"):
        require(SUPPORT, permission)


def test_trusted_process_callers_pass_and_unknown_permissions_are_a_bug():
    require("cli", "link")
    assert can("scheduler", "mappings")
    with pytest.raises(ValueError):
        require(SUPPORT, "launch-missiles")


def test_configured_users_sign_in_with_hashed_passwords_only():
    users = users_from({"users": {
        "femke": {"password_hash": hash_password("geheim"), "role": "finance"},
        "plain": {"password_hash": "not-a-hash", "role": "support"},
        "odd": {"password_hash": hash_password("x"), "role": "admin"},
    }})
    assert set(users) == {"femke"}
    assert authenticate(users, "femke", "geheim") == Actor("femke", "finance")
    assert authenticate(users, "femke", "fout") is None
    assert authenticate(users, "nobody", "geheim") is None


def test_use_cases_refuse_finance_for_linking_mappings_and_checks(services, sandbox, tmp_path):
    from sync import linking, suggestions
    from sync.checks import run_checks
    from sync.jobs.mappings_io import export_csv, import_csv
    from sync.store import setup as setup_repo

    key = sandbox.snelstart.issue_key(next(iter(sandbox.world.snelstart.administrations)))
    before = setup_repo.links(services.store)
    with pytest.raises(NotAllowed):
        linking.link_with_key(services, 3, key, actor=FINANCE)
    with pytest.raises(NotAllowed):
        linking.unlink(services, 1, actor=FINANCE)
    with pytest.raises(NotAllowed):
        linking.start_activation(services, 3, actor=FINANCE)
    with pytest.raises(NotAllowed):
        suggestions.save_ledger_mapping(services, 1, 8000, "Omzet hoog", "8000", actor=FINANCE)
    with pytest.raises(NotAllowed):
        run_checks(services, 1, actor=FINANCE)
    target = tmp_path / "m.csv"
    export_csv(services.store, target)
    with pytest.raises(NotAllowed):
        import_csv(services.store, target, actor=FINANCE)
    assert setup_repo.links(services.store) == before


def test_support_changes_are_audited_with_who_did_them(services):
    from sync import linking
    from sync.store import history

    linking.unlink(services, 2, actor=SUPPORT)
    event = history.events(services.store, kind="unlinked")[0]
    assert event["actor"] == "sanne"


def test_manual_sync_and_acknowledged_alert_are_in_the_audit_log_with_who(services):
    from sync.jobs.runner import forget_gripp_freshness, run_identity
    from sync.store import history

    forget_gripp_freshness()
    run_identity(services, 2, trigger="manual", actor=FINANCE)
    forget_gripp_freshness()
    assert history.events(services.store, kind="manual_sync")[0]["actor"] == "femke"
    history.raise_alert(services.store, 2, None, "Automatische synchronisatie mislukt", "Automatic sync failed")
    alert = history.open_alerts(services.store, 2)[0]
    history.acknowledge_alert(services.store, alert["alert_id"], FINANCE)
    assert history.open_alerts(services.store, 2) == []
    assert history.events(services.store, kind="alert_acknowledged")[0]["actor"] == "femke"
