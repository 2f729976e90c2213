"""The sandbox holds several Gripp accounts: each token sees and changes only its own account, each account has its
own quota, the broken link fails as SnelStart fails a revoked key, and the state file keeps every account."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.core.config import SANDBOX_GRIPP_TOKEN
from sync.core.vault import Vault, vault_for
from sync.jobs.runner import run_identity
from sync.sandbox.sandbox import Sandbox
from sync.sandbox.seed import FIRST_ACCOUNT, build_world, demo_accounts, demo_setup, load_or_create, manifest, reset
from sync.sandbox.seed_accounts import (
    ADMIN_HOFSTRA,
    HOFSTRA,
    HOFSTRA_TOKEN,
    KLEIMEER,
    KLEIMEER_ADMINISTRATIONS,
    hofstra_setup,
)
from sync.sandbox.world import World
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.wiring import Services, bootstrap_sandbox_setup
from tests.conftest import CONSOLE_URL, sandbox_settings

GRIPP = f"{CONSOLE_URL}/sandbox/gripp/public/api3.php"
PAGE = {"paging": {"firstresult": 0, "maxresults": 250}}


def post(sandbox: Sandbox, token: str, *calls: tuple[str, list[Any]]) -> httpx.Response:
    body = [{"method": method, "params": params, "id": n} for n, (method, params) in enumerate(calls, start=1)]
    return sandbox.handle(httpx.Request("POST", GRIPP, json=body, headers={"Authorization": f"Bearer {token}"}))


def rows(sandbox: Sandbox, token: str, entity: str) -> list[dict[str, Any]]:
    [element] = post(sandbox, token, (f"{entity}.get", [[], PAGE])).json()
    assert element["error"] is None, element
    return element["result"]["rows"]


@pytest.fixture(scope="module")
def seeded() -> World:
    return build_world()


# ------------------------------------------------------------------------------------------- the accounts


def test_three_accounts_one_snelstart_and_account_one_is_todays_demo(seeded: World) -> None:
    accounts = demo_accounts()
    assert [a.key for a in accounts] == list(seeded.gripp_accounts) == [FIRST_ACCOUNT, HOFSTRA, KLEIMEER]
    first, broken, new = accounts
    assert first.gripp_token == SANDBOX_GRIPP_TOKEN and first.setup == demo_setup()
    assert seeded.gripp is seeded.gripp_account(FIRST_ACCOUNT)
    assert seeded.gripp.identities == {1: "Studio Noord B.V.", 2: "Noord Advies B.V.", 3: "Noord Academy"}
    assert broken.setup is not None and broken.setup.gripp_api_token == broken.gripp_token
    assert new.setup is None
    # Every token opens exactly its own account; one subscription key for all administrations.
    assert {seeded.account_of_token(a.gripp_token) for a in accounts} == {a.key for a in accounts}
    assert len({a.gripp_token for a in accounts}) == 3
    assert len(seeded.snelstart.subscription_keys) == 1
    for account in accounts:
        for link in account.setup.links if account.setup else []:
            assert link.administration_id in seeded.snelstart.administrations
    # Kleimeer is new to the link: identities with sent invoices, administrations ready, no keys for them.
    kleimeer = seeded.gripp_account(KLEIMEER)
    assert set(kleimeer.identities) == set(KLEIMEER_ADMINISTRATIONS)
    for identity_id, admin_id in KLEIMEER_ADMINISTRATIONS.items():
        assert any(i.identity_id == identity_id and i.status == "SENT" for i in kleimeer.invoices.values())
        assert seeded.snelstart.administrations[admin_id].ledgers
        assert not [k for k in seeded.snelstart.keys.values() if k.administration_id == admin_id]
    facts = manifest(seeded, account=KLEIMEER)
    assert facts.unlinked_identity_ids == [1, 2] and facts.administration_by_identity == KLEIMEER_ADMINISTRATIONS
    assert all(facts.to_book_by_identity[i] for i in (1, 2))


def test_the_accounts_overlap_where_separate_gripp_accounts_do(seeded: World) -> None:
    """Identity 1, company and invoice ids and invoice numbers exist in both: isolation tests can bite."""
    studio, hofstra = seeded.gripp, seeded.gripp_account(HOFSTRA)
    assert 1 in studio.identities and 1 in hofstra.identities
    assert studio.identities[1] != hofstra.identities[1]
    assert set(studio.invoices) & set(hofstra.invoices) and set(studio.companies) & set(hofstra.companies)
    assert {i.number for i in studio.invoices.values()} & {i.number for i in hofstra.invoices.values()}


def test_seeding_is_deterministic_and_small(seeded: World) -> None:
    assert build_world() == seeded
    others = [seeded.gripp_account(key) for key in (HOFSTRA, KLEIMEER)]
    assert all(len(account.identities) <= 2 for account in others)
    assert all(len(account.invoices) <= 25 * len(account.identities) * 2 for account in others)


# -------------------------------------------------------------------------------------------- isolation


def test_each_token_sees_only_its_own_accounts_rows(sandbox: Sandbox) -> None:
    world = sandbox.world
    for key in sandbox.account_keys():
        account, token = world.gripp_account(key), sandbox.gripp_token(key)
        invoices = rows(sandbox, token, "invoice")
        assert len(invoices) == min(250, len(account.invoices))
        first = min(account.invoices)
        [element] = post(sandbox, token, ("invoice.getone", [[{"field": "invoice.id", "operator": "equals",
                                                              "value": first}]])).json()
        [row] = element["result"]["rows"]
        assert row["number"] == str(account.invoices[first].number) or row["number"] == account.invoices[first].number
        assert row["company"]["searchname"] == account.companies[account.invoices[first].company_id].companyname
        assert row["identity"]["searchname"] == account.identities[account.invoices[first].identity_id]
        companies = rows(sandbox, token, "company")
        assert {c["id"] for c in companies} == set(sorted(account.companies)[:250])
        payments = rows(sandbox, token, "payment")
        assert {p["id"] for p in payments} == set(sorted(account.payments)[:250])


def test_a_write_with_one_token_changes_only_that_account(sandbox: Sandbox) -> None:
    world = sandbox.world
    studio, hofstra = world.gripp, world.gripp_account(HOFSTRA)
    shared = min(set(studio.invoices) & set(hofstra.invoices))
    studio_before = len(studio.payments)
    [element] = post(sandbox, HOFSTRA_TOKEN, ("payment.create", [{
        "invoice": shared, "amount": 10.0, "date": "2026-11-27"}])).json()
    assert element["error"] is None, element
    created = element["result"]["recordid"]
    assert hofstra.payments[created].invoice_id == shared
    assert len(studio.payments) == studio_before and created not in studio.payments
    assert studio.invoices[shared].updatedon != hofstra.invoices[shared].updatedon


def test_an_unknown_token_gets_grippss_auth_error_and_pdfs_follow_the_token(sandbox: Sandbox) -> None:
    [element] = post(sandbox, "sandbox-gripp-token-9999", ("invoice.get", [[], PAGE])).json()
    assert element["id"] is None and element["error_code"] == 1009
    world = sandbox.world
    shared = min(set(world.gripp.invoices) & set(world.gripp_account(HOFSTRA).invoices))
    names = {}
    for key in (FIRST_ACCOUNT, HOFSTRA):
        answer = sandbox.handle(httpx.Request(
            "GET", f"{CONSOLE_URL}/sandbox/gripp/pdf/{shared}", params={"token": sandbox.gripp_token(key)}))
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
        names[key] = answer.headers["Content-Disposition"]
    assert names[FIRST_ACCOUNT] == f'inline; filename="factuur-{world.gripp.invoices[shared].number}.pdf"'
    assert names[HOFSTRA] == f'inline; filename="factuur-{world.gripp_account(HOFSTRA).invoices[shared].number}.pdf"'
    refused = sandbox.handle(httpx.Request("GET", f"{CONSOLE_URL}/sandbox/gripp/pdf/{shared}",
                                           params={"token": "nope"}))
    assert refused.status_code == 401


# ------------------------------------------------------------------------------------------------ limits


def test_the_hourly_quota_is_counted_per_account(sandbox: Sandbox) -> None:
    gripp = sandbox.gripp
    gripp.rate_limits, gripp.hourly_quota, gripp.burst_capacity = True, 3, 100
    studio, hofstra = sandbox.gripp_token(FIRST_ACCOUNT), sandbox.gripp_token(HOFSTRA)
    answers = [post(sandbox, studio, ("company.get", [[], PAGE])) for _ in range(3)]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    spent = post(sandbox, studio, ("company.get", [[], PAGE]))
    assert spent.status_code == 429
    other = post(sandbox, hofstra, ("company.get", [[], PAGE]))
    assert other.status_code == 200 and other.headers["X-RateLimit-Remaining"] == "2"
    assert gripp.used_this_hour(FIRST_ACCOUNT) == 3 and gripp.used_this_hour(HOFSTRA) == 1
    assert gripp.stats["posts_by_account"] == {FIRST_ACCOUNT: 4, HOFSTRA: 1}


def test_the_burst_bucket_is_per_account(sandbox: Sandbox) -> None:
    gripp = sandbox.gripp
    gripp.rate_limits, gripp.burst_capacity, gripp.burst_refill_per_second = True, 2, 0.001
    studio, kleimeer = sandbox.gripp_token(FIRST_ACCOUNT), sandbox.gripp_token(KLEIMEER)
    assert [post(sandbox, studio, ("company.get", [[], PAGE])).status_code for _ in range(3)] == [200, 200, 503]
    assert post(sandbox, kleimeer, ("company.get", [[], PAGE])).status_code == 200


def test_spending_one_accounts_quota_leaves_the_others_alone_until_the_next_hour(sandbox: Sandbox, clock) -> None:
    sandbox.spend_gripp_quota("jsonrpc", account=HOFSTRA)
    [element] = post(sandbox, HOFSTRA_TOKEN, ("company.get", [[], PAGE])).json()
    assert element["id"] is None and element["error_code"] != 1009
    assert post(sandbox, SANDBOX_GRIPP_TOKEN, ("company.get", [[], PAGE])).json()[0]["error"] is None
    clock.advance(3600)
    assert post(sandbox, HOFSTRA_TOKEN, ("company.get", [[], PAGE])).json()[0]["error"] is None


# ------------------------------------------------------------------------------------------ the broken link


def _services_for(tmp_path: Path, sandbox: Sandbox, token: str, setup) -> Services:
    """Services for one sandbox account: its Gripp token, its setup bootstrapped (as the accounts layer will)."""
    settings = dataclasses.replace(sandbox_settings(tmp_path), gripp_api_token=token)
    services = Services(settings=settings, store=Store(settings.db_path, clock=sandbox.clock),
                        vault=vault_for(settings), sandbox=sandbox, transport=sandbox.transport(),
                        sleep=lambda seconds: None)
    bootstrap_sandbox_setup(services, setup)
    return services


def test_the_broken_link_fails_on_its_revoked_key_until_linked_again(tmp_path: Path, sandbox: Sandbox) -> None:
    world = sandbox.world
    setup = hofstra_setup()
    facts = manifest(world, account=HOFSTRA)
    assert facts.to_book_by_identity[1] and facts.payments_expected  # work waits behind the broken link
    studio_payments = dict(world.gripp.payments)
    # SnelStart's token endpoint refuses a revoked koppelsleutel with 400 invalid_grant (reference: BOEKBRUG).
    refused = sandbox.handle(httpx.Request("POST", f"{CONSOLE_URL}/sandbox/snelstart/auth/b2b/token", data={
        "grant_type": "clientkey", "clientkey": setup.links[0].koppelsleutel}))
    assert refused.status_code == 400 and refused.json() == {"error": "invalid_grant"}
    services = _services_for(tmp_path, sandbox, HOFSTRA_TOKEN, setup)
    try:
        assert setup_repo.identity_name(services.store, 1) == "Hofstra Installatietechniek B.V."
        result = run_identity(services, 1, trigger="cli")
        assert result.outcome == "failed"
        assert "koppelsleutel" in result.words("en") and "Link the administration again" in result.words("en")
        assert setup_repo.get_link(services.store, 1).health == "broken"
        assert not sandbox.writes()

        # Support links the administration again (a new key); the run books the waiting invoices and brings the
        # payments back, into Hofstra's Gripp only.
        key = sandbox.snelstart.issue_key(ADMIN_HOFSTRA)
        link = setup_repo.get_link(services.store, 1)
        setup_repo.save_link(services.store, identity_id=1, administration_id=ADMIN_HOFSTRA,
                             administration_name=link.administration_name,
                             koppelsleutel_enc=services.vault.encrypt(key), key_hint=Vault.hint(key),
                             start_date=link.start_date, actor="test")
        services.gripp_freshness.forget()
        again = run_identity(services, 1, trigger="cli")
        assert again.outcome in ("ok", "warnings"), again.words("en")
        assert again.counts["booked"] == len(facts.to_book_by_identity[1])
        after = manifest(world, account=HOFSTRA)
        assert after.to_book_by_identity[1] == set() and after.payments_expected == {}
        assert world.gripp.payments == studio_payments
    finally:
        services.close()


# ------------------------------------------------------------------------------------------- persistence


def test_state_with_every_account_round_trips_through_the_file(seeded: World, tmp_path: Path) -> None:
    path = tmp_path / "sandbox-state.json"
    assert reset(path) == seeded
    loaded = World.load(path)
    assert loaded == seeded and list(loaded.gripp_accounts) == [FIRST_ACCOUNT, HOFSTRA, KLEIMEER]
    loaded.gripp_account(HOFSTRA).payments.clear()
    loaded.save(path)
    again = load_or_create(path)
    assert not again.gripp_account(HOFSTRA).payments and again.gripp.payments == seeded.gripp.payments


def _old_state_file(seeded: World, path: Path) -> None:
    """The demo as a state file from before several accounts: one Gripp account under `gripp`, and a SnelStart
    with only that account's administrations and keys."""
    seeded.save(path)
    old = World.load(path)
    others = {ADMIN_HOFSTRA, *KLEIMEER_ADMINISTRATIONS.values()}
    old.gripp_accounts = {FIRST_ACCOUNT: old.gripp}
    tenant = old.snelstart
    tenant.administrations = {k: v for k, v in tenant.administrations.items() if k not in others}
    tenant.keys = {k: v for k, v in tenant.keys.items() if v.administration_id not in others}
    old.save(path)
    _rename_to_old(path)


def test_an_old_single_account_state_file_loads_as_account_one(seeded: World, tmp_path: Path) -> None:
    path = tmp_path / "old-state.json"
    _old_state_file(seeded, path)
    assert '"gripp_accounts"' not in path.read_text()
    old = World.load(path)
    assert list(old.gripp_accounts) == [FIRST_ACCOUNT] and old.gripp == seeded.gripp

    # The console's loader keeps the first account's state and seeds the other accounts beside it.
    old.gripp.payments.clear()
    old.save(path)
    _rename_to_old(path)
    upgraded = load_or_create(path)
    assert list(upgraded.gripp_accounts) == [FIRST_ACCOUNT, HOFSTRA, KLEIMEER]
    assert not upgraded.gripp.payments
    assert upgraded.gripp_account(HOFSTRA) == seeded.gripp_account(HOFSTRA)
    assert upgraded.snelstart.administrations == seeded.snelstart.administrations
    assert upgraded.snelstart.keys == seeded.snelstart.keys
    assert World.load(path) == upgraded  # saved in the new shape


def _rename_to_old(path: Path) -> None:
    raw = json.loads(path.read_text())
    raw["$map"] = [["gripp", value["$map"][0][1]] if key == "gripp_accounts" else [key, value]
                   for key, value in raw["$map"]]
    path.write_text(json.dumps(raw))
