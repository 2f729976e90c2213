"""Linking an identity to a SnelStart administration: the paste fallback, the activation request and SnelStart's
webhook (Create, Regenerate, Delete), driven in-process against the sandbox. The loopback HTTP version of the
whole flow is in test_linking_loopback.py."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from sync.core.events import render
from sync.core.words import say
from sync.jobs.activation import (
    CONSOLE_LINK_PAGE,
    WEBHOOK_PATH,
    confirm_activation,
    handle_webhook,
    pending_activation,
    start_activation,
    webhook_url,
)
from sync.jobs.identities import add_identity, discover_identities, remove_identity
from sync.jobs.linking import REQUIRED_SCOPES, LinkError, link_with_key, links_to, unlink, verify_key
from sync.sandbox.seed import ADMIN_ACADEMY, ADMIN_ADVIES, ADMIN_STUDIO, koppelsleutel_for
from sync.sandbox.world import ALL_SCOPES
from sync.store import history, link_requests
from sync.store import setup as setup_repo

ACADEMY = 3


def snapshot(services) -> tuple[list[dict], list[dict]]:
    """What a refused webhook must leave exactly as it was: the links and the link requests."""
    store = services.store
    links = store.rows("SELECT identity_id, administration_id, koppelsleutel_enc, key_hint, health FROM links "
                       "ORDER BY identity_id")
    requests = store.rows(
        """SELECT reference_key, identity_id, key_enc, administration_id, administration_name, action, outcome,
                  epoch_us(expires_at) AS expires, used_at IS NULL AS unused, received_at IS NULL AS unreceived
           FROM link_requests ORDER BY reference_key"""
    )
    return links, requests


def linked_key(services, identity_id: int) -> str | None:
    link = setup_repo.get_link(services.store, identity_id)
    return services.vault.decrypt(link.koppelsleutel_enc) if link else None


def deliver(services, key, action: str, reference: str):
    return handle_webhook(services, json.dumps({"KoppelSleutel": key, "ActionType": action,
                                                "ReferenceKey": reference}).encode())


# ------------------------------------------------------------------------------------------ paste fallback


def test_pasted_key_is_verified_and_stored_encrypted_with_an_audit_event(services, sandbox):
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    verified = link_with_key(services, ACADEMY, f"  {key[:40]}\n{key[40:]} ", start_date=date(2024, 1, 1),
                             actor="anna")
    assert verified.administration_id == ADMIN_ACADEMY
    assert verified.administration_name == "Noord Academy"
    assert verified.missing_scopes == () and verified.other_identities == ()
    assert verified.key_hint == "…" + key[-4:]
    link = setup_repo.get_link(services.store, ACADEMY)
    assert link.koppelsleutel_enc != key and key not in link.koppelsleutel_enc
    assert linked_key(services, ACADEMY) == key  # whitespace from copying is gone
    assert link.start_date == date(2024, 1, 1) and link.administration_name == "Noord Academy"
    event = history.events(services.store, identity_id=ACADEMY, kind="link")[0]
    assert event["actor"] == "anna" and "Noord Academy" in render(event, "nl")
    assert key not in json.dumps(history.events(services.store), default=str)


def test_revoked_or_unknown_key_is_refused_in_plain_words_and_nothing_is_stored(services, sandbox):
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    sandbox.snelstart.revoke_key(key)
    before = snapshot(services)
    for bad in (key, "not-a-key-at-all-1234"):
        with pytest.raises(LinkError) as caught:
            link_with_key(services, ACADEMY, bad, actor="anna")
        assert caught.value.code == "rejected"
        assert "koppelsleutel" in say(caught.value.message, "nl") and "koppelsleutel" in say(caught.value.message, "en")
        assert bad not in say(caught.value.message, "nl")
    with pytest.raises(LinkError):
        link_with_key(services, ACADEMY, "   ", actor="anna")
    assert snapshot(services) == before


def test_subscription_key_refusal_is_told_apart_from_a_bad_koppelsleutel(services, sandbox, world):
    world.snelstart.subscription_keys = ["another-partner-key"]
    with pytest.raises(LinkError) as caught:
        verify_key(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY))
    assert "abonnementssleutel" in say(caught.value.message, "nl")
    assert "subscription key" in say(caught.value.message, "en")


def test_verify_lists_the_scopes_the_subscription_does_not_allow(services, sandbox):
    scopes = [s for s in ALL_SCOPES if s not in ("bankieren:read", "orders:read")]
    verified = verify_key(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY, scopes))
    assert verified.missing_scopes == tuple(s for s in REQUIRED_SCOPES if s in ("bankieren:read", "orders:read"))
    assert not verified.allows_integration


def test_second_identity_on_an_administration_in_use_needs_confirmation(services, sandbox):
    key = sandbox.snelstart.issue_key(ADMIN_STUDIO)  # identity 1 is linked to Studio Noord already
    assert verify_key(services, key).other_identities == (1,)
    with pytest.raises(LinkError) as caught:
        link_with_key(services, ACADEMY, key, actor="anna")
    assert caught.value.code == "shared" and "1" in say(caught.value.message, "nl")
    assert setup_repo.get_link(services.store, ACADEMY) is None
    link_with_key(services, ACADEMY, key, actor="anna", confirm_shared=True)
    assert [link.identity_id for link in links_to(services, ADMIN_STUDIO)] == [1, ACADEMY]
    # Re-linking identity 1 itself with a new key for its own administration is no "second identity".
    assert verify_key(services, key, for_identity=1).other_identities == (ACADEMY,)


def test_unlink_removes_the_link_and_says_whether_there_was_one(services):
    assert unlink(services, 1, actor="anna") is True
    assert setup_repo.get_link(services.store, 1) is None
    assert unlink(services, 1, actor="anna") is False
    assert history.events(services.store, identity_id=1, kind="unlinked")[0]["actor"] == "anna"


def test_identities_are_discovered_from_gripp_and_can_be_added_by_id(services):
    found = {row["identity_id"]: row["name"] for row in discover_identities(services, actor="anna")}
    assert found == {1: "Studio Noord B.V.", 2: "Noord Advies B.V.", 3: "Noord Academy"}
    with pytest.raises(LinkError) as unknown:  # a mistyped id never becomes a ghost identity
        add_identity(services, 7, "Noord Events", actor="anna")
    assert unknown.value.code == "unknown_identity" and "7" in say(unknown.value.message, "nl")
    assert 7 not in {row["identity_id"] for row in setup_repo.identities(services.store)}
    for bad_id, name in ((0, "x"), (-3, "x")):
        with pytest.raises(LinkError):
            add_identity(services, bad_id, name, actor="anna")


def test_an_identity_is_verified_against_gripp_and_can_be_removed(services):
    discover_identities(services, actor="anna")
    assert remove_identity(services, 3, actor="anna") is True
    assert 3 not in {row["identity_id"] for row in setup_repo.identities(services.store)}
    assert add_identity(services, 3, "", actor="anna") == "Noord Academy"  # its name as Gripp has it
    with pytest.raises(LinkError) as linked:
        remove_identity(services, 1, actor="anna")  # linked: unlink first
    assert linked.value.code == "linked"
    kinds = [e["kind"] for e in history.events(services.store, identity_id=3)]
    assert "identity_removed" in kinds and "identity" in kinds


def test_the_start_date_can_be_changed_audited_with_a_suggestion_from_snelstart(services):
    from datetime import date

    from sync.jobs.linking import change_start_date, suggest_start_date

    discover_identities(services, actor="anna")
    suggestion = suggest_start_date(services, 1, default=date(2026, 1, 1))
    assert suggestion.last_number is not None and suggestion.start_date == suggestion.last_date + timedelta(days=1)
    change_start_date(services, 1, suggestion.start_date, actor="anna")
    assert setup_repo.get_link(services.store, 1).start_date == suggestion.start_date
    event = history.events(services.store, identity_id=1, kind="start_date")[0]
    assert event["actor"] == "anna" and "Startdatum van Studio Noord B.V. gewijzigd" in render(event, "nl")
    with pytest.raises(LinkError) as caught:
        start_activation(services, 99, actor="anna")
    assert caught.value.code == "unknown_identity"


def test_after_a_sync_the_suggested_start_date_leaves_no_invoice_the_link_booked_or_blocked_before_it(services):
    """The suggestion is the day after what was booked in SnelStart before the link: after a sync, the link's own
    latest booking would have put the invoices still blocked before it, and so out of the link for good."""
    from datetime import date

    from sync.jobs.linking import suggest_start_date
    from sync.jobs.runner import run_identity

    before = suggest_start_date(services, 1, default=date(2026, 1, 1))
    run_identity(services, 1)
    dates = {r["number"]: r["invoice_date"] for r in services.store.rows(
        "SELECT number, invoice_date FROM gripp_invoices WHERE identity_id = 1")}
    ours = services.store.rows("""SELECT number, state FROM bookings WHERE identity_id = 1
                                  AND ((state = 'done' AND NOT adopted) OR state = 'blocked')""")
    assert {r["state"] for r in ours} == {"done", "blocked"}  # the link booked some and blocked some
    after = suggest_start_date(services, 1, default=date(2026, 1, 1))
    assert after == before
    assert all(dates[r["number"]] >= after.start_date for r in ours)


# ------------------------------------------------------------------------------------------ activation


def test_activation_url_carries_a_fresh_unguessable_reference_and_the_console_return_address(services, settings):
    first = start_activation(services, ACADEMY, actor="anna")
    second = start_activation(services, ACADEMY, actor="anna")
    assert first.reference_key != second.reference_key and len(first.reference_key) >= 40
    parts = urlsplit(first.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{settings.snelstart_web_url}/couplings/activate/{settings.snelstart_app_short_name}")
    query = parse_qs(parts.query)
    assert query["referenceKey"] == [first.reference_key]
    success = urlsplit(query["successUrl"][0])
    assert f"{success.scheme}://{success.netloc}{success.path}" == "http://console.test" + CONSOLE_LINK_PAGE
    # The account too (the browser comes back in a new session; with several accounts it must land on this one).
    assert parse_qs(success.query) == {"identity": ["3"], "ref": [first.reference_key], "account": [services.account]}
    assert 29 <= (first.expires_at - link_requests.get(services.store, first.reference_key)
                  ["created_at"]).total_seconds() / 60 <= 30
    assert webhook_url(settings) == "http://console.test" + WEBHOOK_PATH


def test_webhook_create_waits_for_the_users_confirmation_then_becomes_the_link(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    answer = deliver(services, key, "Create", request.reference_key)
    assert answer.status == 200 and key not in json.dumps(answer.body)
    assert setup_repo.get_link(services.store, ACADEMY) is None  # not before the user says so
    pending = pending_activation(services, ACADEMY)
    assert pending["administration_name"] == "Noord Academy" and pending["key_hint"] == "…" + key[-4:]
    assert pending["reference_key"] == request.reference_key and pending["received_at"] is not None
    stored = services.store.scalar("SELECT key_enc FROM link_requests WHERE reference_key = ?",
                                   [request.reference_key])
    assert stored and key not in stored and services.vault.decrypt(stored) == key

    verified = confirm_activation(services, ACADEMY, request.reference_key, start_date=date(2024, 1, 1),
                                  actor="anna")
    assert verified.administration_name == "Noord Academy"
    assert linked_key(services, ACADEMY) == key
    assert pending_activation(services, ACADEMY) is None
    # The key now lives in the link only; the request is spent.
    assert services.store.scalar("SELECT key_enc FROM link_requests WHERE reference_key = ?",
                                 [request.reference_key]) is None
    with pytest.raises(LinkError) as caught:
        confirm_activation(services, ACADEMY, request.reference_key, actor="anna")
    assert caught.value.code == "not_pending"


def test_once_linked_the_other_waiting_keys_are_dropped(services, sandbox):
    first, second = (start_activation(services, ACADEMY, actor="anna") for _ in range(2))
    for request in (first, second):
        assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Create",
                       request.reference_key).status == 200
    assert pending_activation(services, ACADEMY)["reference_key"] == second.reference_key
    confirm_activation(services, ACADEMY, first.reference_key, actor="anna")
    assert pending_activation(services, ACADEMY) is None
    assert services.store.scalar("SELECT count(*) FROM link_requests WHERE key_enc IS NOT NULL") == 0


@pytest.mark.parametrize("when", ["received", "confirmed"])
def test_replayed_create_is_refused_and_changes_nothing(services, sandbox, when):
    request = start_activation(services, ACADEMY, actor="anna")
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Create", request.reference_key).status == 200
    if when == "confirmed":
        confirm_activation(services, ACADEMY, request.reference_key, actor="anna")
    before = snapshot(services)
    for key in (sandbox.snelstart.issue_key(ADMIN_ACADEMY), sandbox.snelstart.issue_key(ADMIN_ADVIES)):
        assert deliver(services, key, "Create", request.reference_key).status == 409
    assert snapshot(services) == before


def test_unknown_and_expired_references_are_refused_and_change_nothing(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    before = snapshot(services)
    assert deliver(services, key, "Create", "made-up-reference").status == 404
    assert deliver(services, key, "Create", request.reference_key[:-1]).status == 404
    assert snapshot(services) == before

    services.store.execute("UPDATE link_requests SET expires_at = expires_at - INTERVAL 31 MINUTE")
    before = snapshot(services)
    for action in ("Create", "Regenerate"):
        answer = deliver(services, key, action, request.reference_key)
        assert answer.status == 410 and answer.body["error"] == "expired"
    assert snapshot(services) == before
    assert pending_activation(services, ACADEMY) is None


@pytest.mark.parametrize("body", [
    b"not json",
    b"{\"KoppelSleutel\": ",
    b"[]",
    b"\"Create\"",
    json.dumps({"ActionType": "Create", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ActionType": "Create"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ActionType": "Update", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ActionType": "create ", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": 12345, "ActionType": "Create", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": None, "ActionType": "Create", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": ["KEY"], "ActionType": "Create", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ActionType": "Create", "ReferenceKey": 7}).encode(),
    json.dumps({"KoppelSleutel": "", "ActionType": "Create", "ReferenceKey": "REF"}).encode(),
    json.dumps({"KoppelSleutel": "KEY", "ActionType": "Create", "ReferenceKey": "x" * 501}).encode(),
])
def test_malformed_webhook_bodies_are_refused_with_400_and_change_nothing(services, sandbox, body):
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    body = body.replace(b"KEY", key.encode()).replace(b"REF", request.reference_key.encode())
    before = snapshot(services)
    answer = handle_webhook(services, body)
    assert answer.status == 400 and answer.body["error"] == "malformed"
    assert key not in json.dumps(answer.body)
    assert snapshot(services) == before
    # The request is still good for the real delivery.
    assert deliver(services, key, "Create", request.reference_key).status == 200


def test_field_names_match_case_insensitively_as_dotnet_sends_them(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    answer = handle_webhook(services, {"koppelSleutel": key, "actionType": "Create",
                                       "referenceKey": request.reference_key})
    assert answer.status == 200


def test_a_key_that_does_not_verify_is_refused_with_422_and_the_request_stays_usable(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    revoked = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    sandbox.snelstart.revoke_key(revoked)
    before = snapshot(services)
    answer = deliver(services, revoked, "Create", request.reference_key)
    assert answer.status == 422 and revoked not in json.dumps(answer.body)
    assert snapshot(services) == before
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Create", request.reference_key).status == 200


@pytest.mark.parametrize("outage", [
    dict(service="snelstart-api", kind="status", status=503, path_contains="companyInfo"),
    dict(service="snelstart-auth", kind="status", status=429, retry_after=1),
    dict(service="snelstart-api", kind="timeout"),
])
def test_webhook_key_is_kept_encrypted_when_snelstart_cannot_verify_it_now_and_verified_on_confirm(
        services, sandbox, outage):
    """SnelStart delivers once and never again: a key for a valid request is not lost because SnelStart was busy."""
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    sandbox.faults.add(**outage, times=None)
    answer = deliver(services, key, "Create", request.reference_key)
    assert answer.status == 200 and answer.body == {"status": "received_unverified"}
    assert key not in json.dumps(answer.body)
    stored = services.store.scalar("SELECT key_enc FROM link_requests WHERE reference_key = ?",
                                   [request.reference_key])
    assert key not in stored and services.vault.decrypt(stored) == key
    pending = pending_activation(services, ACADEMY)
    assert pending["verified"] is False and pending["administration_name"] is None
    assert pending["key_hint"] == "…" + key[-4:]
    [event] = history.events(services.store, identity_id=ACADEMY, level="warning")
    assert key not in render(event, "nl") + render(event, "en") + (event["detail_json"] or "")
    # Still refused while SnelStart is down: a replay, an unknown reference.
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Create", request.reference_key).status == 409
    assert deliver(services, key, "Create", "made-up-reference").status == 404
    with pytest.raises(LinkError) as caught:  # confirming needs SnelStart: the key waits
        confirm_activation(services, ACADEMY, request.reference_key, actor="anna")
    assert caught.value.code == "unavailable" and pending_activation(services, ACADEMY) is not None

    sandbox.faults.clear()
    verified = confirm_activation(services, ACADEMY, request.reference_key, start_date=date(2024, 1, 1),
                                  actor="anna")
    assert verified.administration_id == ADMIN_ACADEMY and linked_key(services, ACADEMY) == key
    assert pending_activation(services, ACADEMY) is None


def test_an_expired_request_is_refused_even_while_snelstart_is_down(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    services.store.execute("UPDATE link_requests SET expires_at = expires_at - INTERVAL 31 MINUTE")
    sandbox.faults.add("snelstart-api", "status", status=503, times=None)
    before = snapshot(services)
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Create", request.reference_key).status == 410
    assert snapshot(services) == before


def _linked_by_activation(services, sandbox) -> tuple[str, str]:
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    assert deliver(services, key, "Create", request.reference_key).status == 200
    confirm_activation(services, ACADEMY, request.reference_key, actor="anna")
    return request.reference_key, key


def test_regenerate_replaces_the_linked_key_directly(services, sandbox):
    reference, old = _linked_by_activation(services, sandbox)
    client_before = services.snelstart(ACADEMY)
    new = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    answer = deliver(services, new, "Regenerate", reference)  # SnelStart reuses the original referenceKey
    assert answer.status == 200 and answer.body["status"] == "regenerated"
    assert linked_key(services, ACADEMY) == new
    assert setup_repo.get_link(services.store, ACADEMY).key_hint == "…" + new[-4:]
    assert services.snelstart(ACADEMY) is not client_before  # the cached client with the old key is gone
    event = history.events(services.store, identity_id=ACADEMY, kind="key_replaced")[0]
    assert event["actor"] == "snelstart-webhook" and "…" + old[-4:] in render(event, "en")
    # The same delivery again, or a key for another administration, changes nothing.
    before = snapshot(services)
    assert deliver(services, new, "Regenerate", reference).status == 409
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ADVIES), "Regenerate", reference).status == 409
    assert snapshot(services) == before


def test_regenerate_on_a_fresh_request_for_a_linked_identity_replaces_the_key(services, sandbox):
    request = start_activation(services, 1, actor="anna")
    new = sandbox.snelstart.issue_key(ADMIN_STUDIO)
    assert deliver(services, new, "Regenerate", request.reference_key).status == 200
    assert linked_key(services, 1) == new
    assert pending_activation(services, 1) is None


def test_delete_unlinks_and_only_with_the_linked_key(services, sandbox):
    reference, key = _linked_by_activation(services, sandbox)
    before = snapshot(services)
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ACADEMY), "Delete", reference).status == 409
    assert deliver(services, key, "Delete", "made-up-reference").status == 404
    assert snapshot(services) == before
    answer = deliver(services, key, "Delete", reference)
    assert answer.status == 200 and answer.body["status"] == "deleted"
    assert setup_repo.get_link(services.store, ACADEMY) is None
    before = snapshot(services)
    assert deliver(services, key, "Delete", reference).status == 409  # replayed
    assert snapshot(services) == before


def test_delete_before_confirmation_drops_the_waiting_key(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    key = sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    assert deliver(services, key, "Create", request.reference_key).status == 200
    assert deliver(services, key, "Delete", request.reference_key).status == 200
    assert pending_activation(services, ACADEMY) is None
    with pytest.raises(LinkError):
        confirm_activation(services, ACADEMY, request.reference_key, actor="anna")


def test_confirming_a_key_for_an_administration_in_use_asks_first(services, sandbox):
    request = start_activation(services, ACADEMY, actor="anna")
    assert deliver(services, sandbox.snelstart.issue_key(ADMIN_ADVIES), "Create", request.reference_key).status == 200
    assert pending_activation(services, ACADEMY)["other_identities"] == (2,)
    with pytest.raises(LinkError) as caught:
        confirm_activation(services, ACADEMY, request.reference_key, actor="anna")
    assert caught.value.code == "shared"
    assert pending_activation(services, ACADEMY) is not None  # still waiting for the confirmation
    confirm_activation(services, ACADEMY, request.reference_key, actor="anna", confirm_shared=True)
    assert setup_repo.get_link(services.store, ACADEMY).administration_id == ADMIN_ADVIES


def test_demo_keys_are_the_seeded_ones(services):
    # Guards the fixtures the other tests lean on: the bootstrap stored the seed's keys, encrypted.
    assert linked_key(services, 1) == koppelsleutel_for(ADMIN_STUDIO)
    assert (setup_repo.get_link(services.store, 2).start_date, linked_key(services, 2)) == (
        date(2023, 1, 1), koppelsleutel_for(ADMIN_ADVIES))
