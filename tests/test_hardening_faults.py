"""Faults over real loopback HTTP: for each, the run ends in a defined state with a message a person can read,
nothing is lost or duplicated, and the next run completes.

The sandbox is served by uvicorn on 127.0.0.1 (tests/loopback.py) and the engine's clients reach it through real
sockets with short timeouts. Waiting (Retry-After, backoff, Gripp's pacing) happens on a virtual clock shared by
the simulators and the clients, so a minute of throttling costs nothing and every limit still bites.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from sync.core.config import SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY
from sync.core.events import render, render_alert
from sync.core.vault import Vault
from sync.jobs.runner import RunResult, run_all, run_identity
from sync.sandbox.seed import manifest
from sync.sandbox.seed_small import small_world
from sync.sandbox.world import SnelStartBankBooking, SnelStartBankLine
from sync.store import history as log
from sync.store import setup as setup_repo
from sync.store.db import Store
from tests.loopback import Loopback, assert_exactly_once, loopback

pytestmark = pytest.mark.loopback

IDENTITY, OTHER = 1, 2


@pytest.fixture
def lb(tmp_path: Path) -> Iterator[Loopback]:
    with loopback(tmp_path, small_world()) as served:
        yield served


def run(lb: Loopback, identity_id: int = IDENTITY) -> tuple[RunResult, list[dict]]:
    """One run in a fresh process; its result and the events it logged."""
    services = lb.services()
    try:
        result = run_identity(services, identity_id, trigger="schedule")
        return result, log.events(services.store, run_id=result.run_id)
    finally:
        services.close()


def completes(lb: Loopback, identity_id: int = IDENTITY, *, clear: bool = True) -> RunResult:
    """The next run (with the fault gone, unless `clear=False`) finishes with nothing left over (the seed's
    deliberate blocks aside)."""
    if clear:
        lb.sandbox.faults.clear()
    result, events = run(lb, identity_id)
    assert result.outcome in ("ok", "warnings"), result.words("en")
    left = {k: result.counts.get(k, 0) for k in ("failed", "retry_later", "pdf_pending", "payments_pending")}
    assert left == dict.fromkeys(left, 0), (left, [render(e, "en") for e in events if e["level"] != "info"])
    return result


def texts(events: list[dict], level: str | None = None) -> str:
    return "\n".join(f"{render(e, 'nl')} | {render(e, 'en')}" for e in events if level is None or e["level"] == level)


def no_secrets(*texts_: str) -> None:
    for text in texts_:
        for secret in (SANDBOX_GRIPP_TOKEN, SANDBOX_SUBSCRIPTION_KEY):
            assert secret not in text


# ------------------------------------------------------------------------------------------ SnelStart


def test_a_429_storm_on_reads_is_waited_out_within_the_run(lb: Loopback) -> None:
    facts = manifest(lb.world)
    before = lb.clock()
    fault = lb.sandbox.faults.add("snelstart-api", "status", status=429, retry_after=30, method="GET", times=4,
                                  body={"statusCode": 429, "message": "Rate limit is exceeded. Try again in 30 "
                                                                      "seconds."})
    result = completes(lb, clear=False)
    assert fault.fired == 4 and lb.clock() - before >= 4 * 30  # waited, on the shared clock
    assert result.counts.get("booked") == len(facts.to_book_by_identity[IDENTITY])
    assert_exactly_once(lb.world, facts)


def test_a_429_storm_longer_than_the_retries_fails_the_run_clearly_and_the_next_completes(lb: Loopback) -> None:
    facts = manifest(lb.world)
    admin = lb.world.snelstart.administrations[facts.administration_by_identity[IDENTITY]]
    bookings = len(admin.bookings)
    lb.sandbox.faults.add("snelstart-api", "status", status=429, retry_after=30, method="GET", times=None)
    result, events = run(lb)
    assert result.outcome == "failed"
    assert "SnelStart was busy" in result.words("en") and "te druk" in result.words("nl")
    assert "next run" in texts(events, "error")
    assert len(admin.bookings) == bookings  # stopped before booking anything
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_a_429_storm_on_bookings_stops_the_push_politely_and_the_next_run_books_the_rest(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "status", status=429, retry_after=20, method="POST",
                          path_contains="verkoopboekingen", after=3, times=None)
    result, events = run(lb)
    assert result.outcome == "warnings"
    assert result.counts["booked"] == 3 and result.counts["retry_later"] >= 1
    busy = [e for e in events if e["kind"] == "push_stopped"]
    assert len(busy) == 1, "one message for the stop, not one per invoice"
    assert "SnelStart" in render(busy[0], "en") and "next run" in render(busy[0], "en")
    completes(lb)
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("status", [503, 502])
def test_server_errors_on_reads_with_retry_after_are_retried(lb: Loopback, status: int) -> None:
    facts = manifest(lb.world)
    fault = lb.sandbox.faults.add("snelstart-api", "status", status=status, retry_after=5, method="GET", times=3)
    completes(lb, clear=False)
    assert fault.fired == 3
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("path", ["verkoopboekingen", "relaties", "documenten"])
def test_a_503_on_a_write_is_looked_up_before_writing_again(lb: Loopback, path: str) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "status", status=503, retry_after=5, method="POST", path_contains=path,
                          times=2)
    result, _ = run(lb)
    assert result.outcome in ("ok", "warnings")
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_timeouts_on_reads_are_retried_over_a_real_socket(lb: Loopback) -> None:
    facts = manifest(lb.world)
    fault = lb.sandbox.faults.add("snelstart-api", "timeout", method="GET", path_contains="verkoopfacturen", times=2)
    completes(lb, clear=False)
    assert fault.fired == 2
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("kind", ["timeout", "lose_response"])
def test_a_timed_out_booking_post_is_never_booked_twice(lb: Loopback, kind: str) -> None:
    """`timeout`: SnelStart never got it; `lose_response`: SnelStart booked it and the answer never came."""
    facts = manifest(lb.world)
    fault = lb.sandbox.faults.add("snelstart-api", kind, method="POST", path_contains="verkoopboekingen", times=2)
    result, events = run(lb)
    assert fault.fired == 2
    assert result.outcome in ("ok", "warnings")
    if kind == "lose_response":
        assert result.counts["adopted"] >= 1 and "no duplicate" in texts(events)
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_the_token_expiring_mid_run_is_renewed_without_a_trace(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "hook", action=lb.sandbox.snelstart.expire_tokens, after=25, times=1)
    tokens_before = lb.sandbox.request_counts.get("snelstart-auth", 0)
    result = completes(lb, clear=False)
    assert lb.sandbox.request_counts["snelstart-auth"] - tokens_before >= 2  # the first token and a renewal
    assert result.counts["booked"] == len(facts.to_book_by_identity[IDENTITY])
    assert_exactly_once(lb.world, facts)


def _relink(lb: Loopback, identity_id: int) -> None:
    """What the user does after a revoked key: link the administration again (a new koppelsleutel)."""
    facts = manifest(lb.world)
    admin = facts.administration_by_identity[identity_id]
    key = lb.sandbox.snelstart.issue_key(admin)
    services = lb.services()
    try:
        link = setup_repo.get_link(services.store, identity_id)
        setup_repo.save_link(services.store, identity_id=identity_id, administration_id=admin,
                             administration_name=link.administration_name,
                             koppelsleutel_enc=services.vault.encrypt(key), key_hint=Vault.hint(key),
                             start_date=link.start_date, actor="test")
    finally:
        services.close()


def test_a_koppelsleutel_revoked_mid_run_breaks_that_link_and_the_other_identity_carries_on(lb: Loopback) -> None:
    facts = manifest(lb.world)
    admin = facts.administration_by_identity[IDENTITY]
    key = next(k for k, v in lb.world.snelstart.keys.items() if v.administration_id == admin and not v.revoked)

    def revoke() -> None:
        lb.sandbox.snelstart.revoke_key(key)
        lb.sandbox.snelstart.expire_tokens()

    lb.sandbox.faults.add("snelstart-api", "hook", action=revoke, after=30, times=1)
    services = lb.services()
    results = {r.identity_id: r for r in run_all(services, trigger="schedule")}
    assert results[IDENTITY].outcome == "failed"
    assert "koppelsleutel" in results[IDENTITY].words("en") and "Link the administration again" in \
        results[IDENTITY].words("en")
    assert results[OTHER].outcome in ("ok", "warnings")
    link = setup_repo.get_link(services.store, IDENTITY)
    assert link.health == "broken" and "koppelsleutel" in link.health_detail
    assert setup_repo.get_link(services.store, OTHER).health == "ok"
    alerts = log.open_alerts(services.store, IDENTITY)
    assert alerts and "koppelsleutel" in render_alert(alerts[0], "nl")
    every = texts(log.events(services.store, limit=5000))
    no_secrets(every, link.health_detail)
    assert key not in every
    services.close()

    _relink(lb, IDENTITY)
    completes(lb)
    assert_exactly_once(lb.world, facts, (IDENTITY, OTHER))
    services = lb.services()
    assert setup_repo.get_link(services.store, IDENTITY).health == "ok"


def test_the_subscription_key_revoked_mid_run_breaks_every_link_with_one_clear_message(lb: Loopback) -> None:
    facts = manifest(lb.world)
    keys = lb.world.snelstart.subscription_keys
    lb.sandbox.faults.add("snelstart-api", "hook", action=keys.clear, after=30, times=1)
    services = lb.services()
    results = {r.identity_id: r for r in run_all(services, trigger="schedule")}
    for identity_id in (IDENTITY, OTHER):
        assert results[identity_id].outcome == "failed"
        assert "subscription key" in results[identity_id].words("en")
        assert setup_repo.get_link(services.store, identity_id).health == "broken"
    no_secrets(texts(log.events(services.store, limit=5000)))
    services.close()

    keys.append(SANDBOX_SUBSCRIPTION_KEY)  # a new key from the developer portal
    completes(lb, IDENTITY)
    completes(lb, OTHER)
    assert_exactly_once(lb.world, facts, (IDENTITY, OTHER))


def test_truncated_json_on_a_read_fails_the_run_clearly_and_the_next_completes(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "malformed", method="GET", path_contains="verkoopfacturen", times=1)
    result, events = run(lb)
    assert result.outcome == "failed"
    assert "could not be read" in result.words("en") and "next run" in result.words("en")
    assert "Traceback" not in texts(events)
    completes(lb)
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("path", ["verkoopboekingen", "relaties"])
def test_truncated_json_in_answer_to_a_write_is_settled_by_looking_it_up(lb: Loopback, path: str) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "malformed", method="POST", path_contains=path, times=2)
    run(lb)
    completes(lb)
    assert_exactly_once(lb.world, facts)


def _drop(field: str):
    def transform(rows):
        return [{k: v for k, v in row.items() if k != field} for row in rows] if isinstance(rows, list) else rows
    return transform


def _set(field: str, value: object):
    def transform(rows):
        return [{**row, field: value} for row in rows] if isinstance(rows, list) else rows
    return transform


@pytest.mark.parametrize("name, transform", [
    ("openstaandSaldo missing", _drop("openstaandSaldo")),
    ("openstaandSaldo a word", _set("openstaandSaldo", "nihil")),
    ("id a number", _set("id", 12)),
])
def test_open_items_of_an_unexpected_shape_are_refused_never_read_as_zero(lb: Loopback, name, transform) -> None:
    """A missing `openstaandSaldo` read as 0 would register every invoice as paid in Gripp."""
    facts = manifest(lb.world)
    lb.sandbox.faults.add("snelstart-api", "reshape", method="GET", path_contains="verkoopfacturen",
                          transform=transform, times=None)
    payments_before = len(lb.world.gripp.payments)
    result, _ = run(lb)
    assert result.outcome == "failed", name
    assert "could not be read" in result.words("en") and "next run" in result.words("en")
    assert len(lb.world.gripp.payments) == payments_before, "nothing written on the strength of a broken answer"
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_extra_fields_in_snelstart_answers_are_ignored(lb: Loopback) -> None:
    facts = manifest(lb.world)

    def extra(payload):
        if isinstance(payload, list):
            return [{**row, "nieuwVeld": {"x": [1, 2]}, "Extra": None} if isinstance(row, dict) else row
                    for row in payload]
        return {**payload, "nieuwVeld": True} if isinstance(payload, dict) else payload

    lb.sandbox.faults.add("snelstart-api", "reshape", transform=extra, times=None)
    completes(lb, clear=False)
    assert_exactly_once(lb.world, facts)


# ------------------------------------------------------------------------------------------ Gripp


def test_gripps_burst_throttle_is_waited_out(lb: Loopback, monkeypatch) -> None:
    """The simulator's real burst bucket, smaller than the client thinks: 503 + Retry-After, waited out. Small
    pages, one per POST, make the refresh a quick burst of POSTs."""
    from sync.jobs import refresh

    monkeypatch.setattr(refresh, "PAGE", 25)
    monkeypatch.setattr(refresh, "CALLS_PER_POST", 1)
    facts = manifest(lb.world)
    gripp = lb.sandbox.gripp
    gripp.rate_limits, gripp.burst_capacity, gripp.burst_refill_per_second = True, 2, 0.5
    completes(lb, clear=False)
    assert gripp.stats["throttled"] >= 1
    assert_exactly_once(lb.world, facts)


def test_a_burst_throttle_storm_fails_the_run_clearly_and_the_next_completes(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "status", status=503, retry_after=2, times=None,
                          body=[{"id": None, "error_code": 1004, "error": "Too many requests"}])
    result, _ = run(lb)
    assert result.outcome == "failed"
    assert "Gripp" in result.words("en") and "next run" in result.words("en")
    completes(lb)
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("answer", ["http429", "jsonrpc"])
def test_gripps_hourly_quota_running_out_mid_run_as_429_or_as_a_jsonrpc_error_stops_cleanly_and_the_next_hour_resumes(
        lb: Loopback, answer: str) -> None:
    """Gripp's docs: past the limit "you will receive a JSON-RPC error message" (HTTP 200); its connector: 429."""
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "hook", rpc_method="payment.create", times=1,
                          action=lambda: lb.sandbox.spend_gripp_quota(answer))
    result, events = run(lb)
    assert result.outcome == "warnings"
    assert "resumes at" in result.words("en") and "verder vanaf" in result.words("nl")
    assert result.counts["booked"] == len(facts.to_book_by_identity[IDENTITY])  # SnelStart's side went on
    assert result.counts["payments_registered"] == 0 and result.counts["payments_pending"] > 0
    assert "quota" in texts(events, "warning")
    assert not log.open_alerts(lb.services().store), "a spent quota resolves itself: no alert"

    # Still the same hour: the next run stops at the same point, again cleanly, and writes nothing to Gripp.
    payments = len(lb.world.gripp.payments)
    again, _ = run(lb)
    assert again.outcome == "warnings" and "resumes at" in again.words("en")
    assert len(lb.world.gripp.payments) == payments

    lb.clock.next_hour()
    lb.sandbox.gripp.hourly_quota = 1000
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_a_quota_spent_before_the_run_books_from_the_cache_and_leaves_gripp_for_later(lb: Loopback) -> None:
    facts = manifest(lb.world)
    first, _ = run(lb)  # a normal run fills the cache
    assert first.outcome == "warnings"
    # New money in SnelStart since: a bank booking settles an open invoice of identity 1.
    admin = lb.world.snelstart.administrations[facts.administration_by_identity[IDENTITY]]
    open_booking = next(b for b in admin.bookings.values()
                        if admin.open_balance(b) == b.factuurbedrag and b.factuurbedrag > 0)
    admin.bank_bookings["late"] = SnelStartBankBooking("late", lb.world.today, "late payment",
                                                       open_booking.factuurbedrag,
                                                       [SnelStartBankLine(open_booking.id, open_booking.factuurbedrag)])
    lb.sandbox.spend_gripp_quota()
    gripp_payments = len(lb.world.gripp.payments)
    result, events = run(lb)
    assert result.outcome == "warnings" and "resumes at" in result.words("en")
    assert result.counts["payments_pending"] == 1 and len(lb.world.gripp.payments) == gripp_payments
    assert [e["kind"] for e in events if e["level"] == "warning"] == ["paused"]

    lb.clock.next_hour()
    lb.sandbox.gripp.hourly_quota = 1000
    result = completes(lb)
    assert result.counts["payments_registered"] == 1
    late = [p for p in lb.world.gripp.payments.values() if p.amount == open_booking.factuurbedrag
            and str(lb.world.gripp.invoices[p.invoice_id].number) == open_booking.factuurnummer]
    assert len(late) == 1


def test_truncated_json_from_gripp_on_a_read_fails_the_run_clearly(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "malformed", rpc_method="invoice.get", times=1)
    result, _ = run(lb)
    assert result.outcome == "failed"
    assert "Gripp" in result.words("en") and "could not be read" in result.words("en")
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_truncated_json_in_answer_to_payment_create_is_read_back_not_sent_twice(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "malformed", rpc_method="payment.create", times=1)
    result, _ = run(lb)
    assert result.counts["payments_pending"] > 0
    completes(lb)
    assert_exactly_once(lb.world, facts)


def _rows(change):
    """Apply `change` to every row of every `get` result in a Gripp batch answer."""
    def transform(payload):
        for element in payload if isinstance(payload, list) else []:
            result = element.get("result") if isinstance(element, dict) else None
            if isinstance(result, dict) and isinstance(result.get("rows"), list):
                result["rows"] = [change(dict(row)) for row in result["rows"]]
        return payload
    return transform


def _without(*fields):
    return lambda row: {k: v for k, v in row.items() if k not in fields}


@pytest.mark.parametrize("name, change", [
    ("totalopeninclvat missing", _without("totalopeninclvat")),
    ("totalinclvat a word", lambda row: {**row, "totalinclvat": "veel"}),
    ("id a word", lambda row: {**row, "id": "abc"}),
])
def test_gripp_rows_of_an_unexpected_shape_are_refused_never_guessed(lb: Loopback, name, change) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "reshape", rpc_method="invoice.get", transform=_rows(change), times=None)
    result, _ = run(lb)
    assert result.outcome == "failed", name
    assert "Gripp" in result.words("en") and "could not be read" in result.words("en")
    completes(lb)
    assert_exactly_once(lb.world, facts)


@pytest.mark.parametrize("change", [
    lambda row: {**row, "brandnew": {"a": 1}, "extendedproperties": None},
    lambda row: {**row, "invoicelines": [{"id": line["id"]} for line in row.get("invoicelines", [])]},
], ids=["extra fields", "lines as references"])
def test_gripp_rows_with_extra_fields_or_without_nested_lines_still_sync(lb: Loopback, change) -> None:
    """Extra fields are ignored; lines not given in full are fetched with `invoiceline.get`."""
    facts = manifest(lb.world)
    lb.sandbox.faults.add("gripp", "reshape", rpc_method="invoice.get", transform=_rows(change), times=None)
    completes(lb, clear=False)
    assert_exactly_once(lb.world, facts)


def test_a_pdf_that_is_not_a_pdf_waits_with_a_reason_and_is_attached_next_run(lb: Loopback) -> None:
    facts = manifest(lb.world)
    lb.sandbox.faults.add("pdf", "malformed", body=b"<html><body>Inloggen</body></html>", content_type="text/html",
                          times=None)
    result, events = run(lb)
    assert result.outcome == "warnings" and result.counts["pdf_pending"] > 0
    assert result.counts["booked"] == len(facts.to_book_by_identity[IDENTITY])  # booked; only the PDF waits
    pdf = [e for e in events if e["kind"] == "pdf"]
    assert pdf and "not a PDF" in render(pdf[0], "en") and "geen PDF" in render(pdf[0], "nl")
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_a_pdf_over_10_mb_is_not_sent_and_says_what_to_do(lb: Loopback) -> None:
    facts = manifest(lb.world)
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1) + b"\n%%EOF\n"
    lb.sandbox.faults.add("pdf", "malformed", body=big, content_type="application/pdf", times=None)
    result, events = run(lb)
    assert result.outcome == "warnings" and result.counts["pdf_pending"] > 0
    documents = lb.world.snelstart.administrations[facts.administration_by_identity[IDENTITY]].documents
    assert all(len(d.content) <= 10 * 1024 * 1024 for d in documents.values())
    pdf = [e for e in events if e["kind"] == "pdf"]
    assert pdf and "10 MB" in render(pdf[0], "en") and "Gripp" in render(pdf[0], "en")
    # The same PDF next run: the same reason is not repeated as a new event.
    again, events = run(lb)
    assert again.counts["pdf_pending"] > 0 and not [e for e in events if e["kind"] == "pdf"]
    completes(lb)
    assert_exactly_once(lb.world, facts)


# ------------------------------------------------------------------------------------------ the database


def test_a_failing_disk_write_mid_run_fails_the_run_and_the_next_run_is_fine(lb: Loopback, monkeypatch) -> None:
    facts = manifest(lb.world)
    real_execute = Store.execute
    writes = {"n": 0}

    def failing(self, sql, params=None):
        if sql.lstrip().upper().startswith("INSERT INTO BOOKINGS"):
            writes["n"] += 1
            if writes["n"] > 12:
                raise duckdb.IOException("IO Error: Could not write file \"sync.duckdb.wal\": No space left on device")
        return real_execute(self, sql, params)

    monkeypatch.setattr(Store, "execute", failing)
    services = lb.services()
    result = run_identity(services, IDENTITY, trigger="schedule")
    monkeypatch.setattr(Store, "execute", real_execute)
    assert result.outcome == "failed"
    assert "database" in result.words("en") and "could not be written" in result.words("en")
    recorded = log.get_run(services.store, result.run_id)
    assert recorded["outcome"] == "failed"
    services.close()
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_a_commit_that_fails_leaves_nothing_half_written(lb: Loopback, monkeypatch) -> None:
    """The Gripp refresh writes rows and its cursor in one transaction: a failing COMMIT keeps neither."""
    facts = manifest(lb.world)
    real_execute = Store.execute
    original_cursor = Store.cursor

    class FailingCommit:
        def __init__(self, cursor):
            self._cursor = cursor

        def execute(self, sql, params=None):
            if sql.strip().upper() == "COMMIT":
                raise duckdb.IOException("IO Error: could not fsync")
            return self._cursor.execute(sql, params or [])

        def __getattr__(self, name):
            return getattr(self._cursor, name)

    state = {"on": True}

    def cursor(self):
        real = original_cursor(self)
        return FailingCommit(real) if state["on"] else real

    services = lb.services()
    monkeypatch.setattr(Store, "cursor", cursor)
    result = run_identity(services, IDENTITY, trigger="cli")
    state["on"] = False
    assert result.outcome == "failed" and "could not be written" in result.words("en")
    assert services.store.scalar("SELECT count(*) FROM gripp_invoices") == 0
    assert services.store.scalar("SELECT count(*) FROM sync_state WHERE scope = 'gripp'") == 0
    monkeypatch.setattr(Store, "execute", real_execute)
    services.close()
    monkeypatch.setattr(Store, "cursor", original_cursor)
    completes(lb)
    assert_exactly_once(lb.world, facts)


def test_a_run_cut_off_by_a_dead_disk_is_closed_as_failed_by_the_next_process(lb: Loopback, monkeypatch) -> None:
    services = lb.services()
    run_id = log.start_run(services.store, IDENTITY, "schedule")
    services.close()  # the process died with its run 'running'
    completes(lb)
    services = lb.services()
    stale = log.get_run(services.store, run_id)
    assert stale["outcome"] == "failed" and "interrupted" in stale["message"]


@pytest.fixture
def held_database(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen]]:
    db = tmp_path / "held" / "sync.duckdb"
    db.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; held = duckdb.connect({str(db)!r}); print('ready', flush=True); "
                               "time.sleep(120)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield db, holder
    finally:
        holder.kill()
        holder.wait()


def test_the_database_held_by_another_process_is_one_line_on_the_cli(held_database, monkeypatch, capsys) -> None:
    from sync.cli import EXIT_LOCKED, main

    db, holder = held_database
    for name in ("GRIPP_API_URL", "GRIPP_API_TOKEN", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                 "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_WEB_URL", "SYNC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(db))
    assert main(["run"]) == EXIT_LOCKED
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and str(holder.pid) in lines[0] and "Traceback" not in captured.err + captured.out


def test_the_database_held_by_another_process_is_one_line_in_the_console(held_database, monkeypatch) -> None:
    from console import runtime
    from tests.console_helpers import page

    db, holder = held_database
    for name in ("GRIPP_API_URL", "GRIPP_API_TOKEN", "SNELSTART_API_URL", "SNELSTART_AUTH_URL",
                 "SNELSTART_SUBSCRIPTION_KEY", "SNELSTART_WEB_URL", "SYNC_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SYNC_DB_PATH", str(db))
    runtime.stop()
    try:
        at = page("overzicht")
        assert not at.exception
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and "\n" not in errors[0]
        assert str(holder.pid) in errors[0] and "in gebruik" in errors[0]
        assert runtime.health()["status"] == "error"
    finally:
        runtime.stop()
