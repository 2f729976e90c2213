"""The distributed mode in one test process: two deployments (two nodes, each with a data folder of its own) on one
Postgres and one sandbox world. What one node writes, the other sees; a node with an empty folder serves the
same open items; one account is held by one node at a time, and a copy that lost its lease checks nothing in."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from sync.core.events import Trigger
from sync.jobs.runner import run_identity
from sync.sandbox.sandbox import Sandbox
from sync.sandbox.world import FIRST_ACCOUNT
from sync.store import setup as setup_repo
from sync.store.account_files import ChangedElsewhere, CheckInRefused, LeaseTimeout
from sync.store.catalog import Account
from sync.store.comparison import compared
from sync.wiring import Deployment
from tests.nodes import node_settings


def open_items(deployment: Deployment, key: str) -> list[tuple]:
    services = deployment.services(key)
    found = []
    for link in setup_repo.links(services.store):
        frame = compared(services.store, link.identity_id, link.administration_id, link.start_date, services.today())
        found += sorted(tuple(str(value) for value in row) for row in frame.itertuples(index=False))
    return found


def test_a_second_node_sees_the_accounts_links_and_mappings_the_first_made(nodes) -> None:
    first, second = nodes
    assert first.keys() == second.keys() and FIRST_ACCOUNT in set(first.keys())
    store = first.services(FIRST_ACCOUNT).store
    identity = setup_repo.links(store)[0].identity_id
    setup_repo.put_ledger_mapping(store, identity, 999001, "Omzet nieuw", "8099", "support")
    seen = second.services(FIRST_ACCOUNT).store
    assert {(row["gripp_ledger_id"], row["snelstart_number"]) for row in setup_repo.ledger_mappings(seen, identity)} \
        >= {(999001, "8099")}
    assert [link.administration_id for link in setup_repo.links(seen)] == \
        [link.administration_id for link in setup_repo.links(store)]
    # and back: the second's change reaches the first, whose open copy is brought up to date
    setup_repo.put_ledger_mapping(seen, identity, 999001, "Omzet nieuw", "8098", "support")
    again = first.services(FIRST_ACCOUNT).store
    assert {(r["gripp_ledger_id"], r["snelstart_number"]) for r in setup_repo.ledger_mappings(again, identity)} \
        >= {(999001, "8098")}


def test_an_account_added_on_one_node_opens_on_the_other(nodes) -> None:
    first, second = nodes
    first.catalog.add(Account(key="nieuw", name="Nieuw B.V.", db_path=first.settings.accounts_dir / "nieuw.duckdb"),
                      actor="support")
    setup_repo.upsert_identity(first.services("nieuw").store, 7, "Nieuw")
    assert "nieuw" in set(second.keys())
    assert setup_repo.identity_name(second.services("nieuw").store, 7) == "Nieuw"


def test_a_node_with_an_empty_data_folder_serves_the_same_open_items(nodes, tmp_path: Path, sandbox: Sandbox,
                                                                     postgres_url: str) -> None:
    first, _ = nodes
    with first.holding(FIRST_ACCOUNT) as services:
        for link in setup_repo.links(services.store):
            run_identity(services, link.identity_id, trigger=Trigger.CLI, actor="support")
    expected = open_items(first, FIRST_ACCOUNT)
    assert expected
    empty = Deployment(node_settings(tmp_path / "empty", postgres_url), sandbox=sandbox, sleep=lambda s: None)
    try:
        assert open_items(empty, FIRST_ACCOUNT) == expected
    finally:
        empty.close()


def test_a_change_made_on_a_copy_another_node_has_changed_since_is_refused(nodes) -> None:
    first, second = nodes
    stale = first.services(FIRST_ACCOUNT).store  # what a person on the first node is looking at
    identity = setup_repo.links(stale)[0].identity_id
    setup_repo.put_ledger_mapping(second.services(FIRST_ACCOUNT).store, identity, 999002, "Elders", "8001", "b")
    with pytest.raises(ChangedElsewhere):
        setup_repo.put_ledger_mapping(stale, identity, 999002, "Hier", "8002", "a")
    fresh = first.services(FIRST_ACCOUNT).store  # read again: the other node's change, nothing of the refused one
    assert {(r["gripp_ledger_id"], r["snelstart_number"]) for r in setup_repo.ledger_mappings(fresh, identity)} \
        >= {(999002, "8001")}


def test_one_node_at_a_time_holds_an_account(nodes) -> None:
    first, second = nodes
    held, release = threading.Event(), threading.Event()

    def hold_on_first() -> None:
        with first.holding(FIRST_ACCOUNT):
            held.set()
            release.wait(10)

    worker = threading.Thread(target=hold_on_first)
    worker.start()
    try:
        assert held.wait(10)
        with pytest.raises(LeaseTimeout), second.lease(FIRST_ACCOUNT).hold(wait=0.3):
            pass
    finally:
        release.set()
        worker.join(10)
    with second.holding(FIRST_ACCOUNT):  # given back: the other node takes it at once
        pass


def test_a_node_that_lost_its_lease_checks_nothing_in(nodes, postgres_url: str) -> None:
    first, second = nodes
    identity = setup_repo.links(first.services(FIRST_ACCOUNT).store)[0].identity_id
    with pytest.raises(CheckInRefused), first.holding(FIRST_ACCOUNT) as services:
        setup_repo.put_ledger_mapping(services.store, identity, 999003, "Verloren", "8003", "a")
        # its session is cut (a network split): the lock is gone, another node takes over and checks in
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                          "AND pid <> pg_backend_pid()")
        with second.holding(FIRST_ACCOUNT) as other:
            setup_repo.put_ledger_mapping(other.store, identity, 999003, "Gewonnen", "8004", "b")
    found = {(r["gripp_ledger_id"], r["snelstart_number"])
             for r in setup_repo.ledger_mappings(second.services(FIRST_ACCOUNT).store, identity)}
    assert (999003, "8004") in found and (999003, "8003") not in found


def test_a_node_whose_secret_key_is_not_the_others_does_not_start(nodes, tmp_path: Path, sandbox: Sandbox,
                                                                   postgres_url: str) -> None:
    from dataclasses import replace

    from sync.core.words import say
    from sync.store.catalog import CatalogModeError

    other = replace(node_settings(tmp_path / "c", postgres_url), secret_key="another-key-for-one-node-98765")
    with pytest.raises(CatalogModeError) as refused:
        Deployment(other, sandbox=sandbox, sleep=lambda s: None)
    assert refused.value.code == "secret_key"
    assert "SYNC_SECRET_KEY" in say(refused.value.message, "nl") and "dezelfde" in say(refused.value.message, "nl")
