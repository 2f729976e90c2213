"""Roles: support may do everything, finance only open items, exports, sync now and acknowledging alerts."""

from __future__ import annotations

import pytest

from sync.auth.access import Actor, NotAllowed, can, require
from sync.auth.users import authenticate, hash_password, users_from
from sync.core.words import say

SUPPORT = Actor("sanne", "support")
FINANCE = Actor("femke", "finance")


@pytest.mark.parametrize("permission", ["view", "export", "sync", "acknowledge"])
def test_finance_may_read_export_and_sync(permission):
    require(FINANCE, permission)


@pytest.mark.parametrize("permission", ["link", "mappings", "checks", "schedule", "keys"])
def test_finance_may_not_link_map_check_or_touch_keys(permission):
    with pytest.raises(NotAllowed) as caught:
        require(FINANCE, permission)
    assert "femke" in say(caught.value.message, "nl") and "support" in say(caught.value.message, "en")


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
    assert authenticate(users, "femke", "geheim") == Actor("femke", "finance", frozenset({"default"}))
    assert authenticate(users, "femke", "fout") is None
    assert authenticate(users, "nobody", "geheim") is None


def test_use_cases_refuse_finance_for_linking_mappings_and_checks(services, sandbox, tmp_path):
    from sync.jobs import activation, linking, suggestions
    from sync.jobs.checks import run_checks
    from sync.jobs.mappings_io import export_csv, import_csv
    from sync.store import setup as setup_repo

    key = sandbox.snelstart.issue_key(next(iter(sandbox.world.snelstart.administrations)))
    before = setup_repo.links(services.store)
    with pytest.raises(NotAllowed):
        linking.link_with_key(services, 3, key, actor=FINANCE)
    with pytest.raises(NotAllowed):
        linking.unlink(services, 1, actor=FINANCE)
    with pytest.raises(NotAllowed):
        activation.start_activation(services, 3, actor=FINANCE)
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
    from sync.jobs import linking
    from sync.store import history

    linking.unlink(services, 2, actor=SUPPORT)
    event = history.events(services.store, kind="unlinked")[0]
    assert event["actor"] == "sanne"


def test_manual_sync_and_acknowledged_alert_are_in_the_audit_log_with_who(services):
    from sync.jobs import alerts
    from sync.jobs.runner import run_identity
    from sync.store import history

    services.gripp_freshness.forget()
    run_identity(services, 2, trigger="manual", actor=FINANCE)
    services.gripp_freshness.forget()
    assert history.events(services.store, kind="manual_sync")[0]["actor"] == "femke"
    history.raise_alert(services.store, 2, None, "auto_sync_failed", {"name": "Noord Advies", "reason": "x"})
    alert = history.open_alerts(services.store, 2)[0]
    alerts.acknowledge(services.store, alert["alert_id"], FINANCE)
    assert history.open_alerts(services.store, 2) == []
    assert history.events(services.store, kind="alert_acknowledged")[0]["actor"] == "femke"


def test_passwords_over_72_bytes_count_in_full_and_never_raise():
    import bcrypt

    long = "wachtwoord-" * 12  # 132 bytes
    users = users_from({"users": {"sanne": {"password_hash": hash_password(long), "role": "support"},
                                  "oud": {"password_hash": bcrypt.hashpw(b"kort", bcrypt.gensalt(4)).decode(),
                                          "role": "finance"}}})
    assert authenticate(users, "sanne", long) == Actor("sanne", "support")
    assert authenticate(users, "sanne", long[:72]) is None and authenticate(users, "sanne", long + "x") is None
    assert authenticate(users, "oud", "kort") == Actor("oud", "finance", frozenset({"default"}))  # old hashes work
    assert authenticate(users, "oud", long) is None and authenticate(users, "nobody", long) is None


def test_an_unknown_name_costs_the_same_bcrypt_work_as_a_wrong_password(monkeypatch):
    import bcrypt

    from sync.auth import users as users_module

    costs = []
    real_checkpw = bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        costs.append(hashed.split(b"$")[2])
        return real_checkpw(password, hashed)

    users = users_from({"users": {"sanne": {"password_hash": bcrypt.hashpw(b"geheim", bcrypt.gensalt(5)).decode(),
                                            "role": "support"}}})
    monkeypatch.setattr(users_module.bcrypt, "checkpw", counting)
    assert authenticate(users, "sanne", "fout") is None
    assert authenticate(users, "niemand", "fout") is None
    assert costs == [b"05", b"05"]  # one check each, of the same cost


def test_a_command_line_run_says_who_started_it_and_a_failed_scheduled_run_names_the_scheduler(services, sandbox):
    """The audit view filters the log by who: a run from the command line and a failed automatic run say so."""
    from sync.jobs.runner import run_identity
    from sync.store import history

    services.gripp_freshness.forget()
    run_identity(services, 2, trigger="cli", actor="cli")
    assert [e["actor"] for e in history.events(services.store, kind="manual_sync")] == ["cli"]

    sandbox.faults.add("snelstart-api", "status", status=500, path_contains="verkoopfacturen", times=None)
    result = run_identity(services, 2, trigger="schedule", actor="scheduler")
    assert result.outcome == "failed"
    assert [e["actor"] for e in history.events(services.store, kind="run_failed")] == ["scheduler"]
