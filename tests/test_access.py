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
