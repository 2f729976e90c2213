"""Crash tests: a failure injected at each step of the push and payment flows — a lost answer, a 5xx, a timeout,
the process dying between a remote write and the local record — then a rerun. Every booking, document, relatie
and payment must end up present exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from sync.jobs.payments import MARKER_KEY
from sync.jobs.runner import run_identity
from sync.sandbox.seed import manifest
from sync.store import outbox
from sync.wiring import build_services

IDENTITY = 1


class ProcessDied(BaseException):
    """Not an Exception: nothing in the engine may catch it, like a kill -9 between two statements."""


def rerun(settings, sandbox):
    """A new process: new Services on the same database file and the same (simulated) services."""
    services = build_services(settings, sandbox=sandbox, sleep=lambda s: None)
    try:
        return run_identity(services, IDENTITY, trigger="cli")
    finally:
        services.close()


def assert_exactly_once(world, facts) -> None:
    admin = world.snelstart.administrations[facts.administration_by_identity[IDENTITY]]
    numbers = Counter(b.factuurnummer for b in admin.bookings.values())
    expected = facts.to_book_by_identity[IDENTITY] | facts.prebooked_by_identity[IDENTITY]
    assert {n: numbers[n] for n in expected} == dict.fromkeys(expected, 1)
    documents = Counter(d.parent_id for d in admin.documents.values())
    booking_ids = {b.id for b in admin.bookings.values()
                   if b.factuurnummer in expected - facts.conflicts_expected}
    assert {b: documents[b] for b in booking_ids} == dict.fromkeys(booking_ids, 1)
    relatie_names = Counter((r.naam, r.relatiecode) for r in admin.relaties.values())
    assert max(relatie_names.values()) == 1
    markers = Counter(p.extendedproperties for p in world.gripp.payments.values()
                      if p.extendedproperties and MARKER_KEY in p.extendedproperties)
    assert max(markers.values(), default=1) == 1
    registered = {}
    for p in world.gripp.payments.values():
        if p.extendedproperties and MARKER_KEY in p.extendedproperties:
            number = str(world.gripp.invoices[p.invoice_id].number)
            registered.setdefault(number, []).append((p.date, p.amount))
    expected_payments = {n: sorted(v) for n, v in facts.payments_expected.items() if n in expected}
    assert {n: sorted(v) for n, v in registered.items()} == expected_payments


FAULTS = {
    "booking answer lost": dict(service="snelstart-api", kind="lose_response", method="POST",
                                path_contains="verkoopboekingen", times=3),
    "booking 503 after sending": dict(service="snelstart-api", kind="status", status=503, method="POST",
                                      path_contains="verkoopboekingen", times=2),
    "booking 500": dict(service="snelstart-api", kind="status", status=500, method="POST",
                        path_contains="verkoopboekingen", times=2),
    "booking timeout": dict(service="snelstart-api", kind="timeout", method="POST", path_contains="verkoopboekingen",
                            times=2),
    "relatie answer lost": dict(service="snelstart-api", kind="lose_response", method="POST", path_contains="relaties",
                                times=2),
    "document answer lost": dict(service="snelstart-api", kind="lose_response", method="POST",
                                 path_contains="documenten", times=3),
    "document 503": dict(service="snelstart-api", kind="status", status=503, method="POST",
                         path_contains="documenten", times=30),
    "pdf download fails": dict(service="pdf", kind="status", status=500, times=40),
    "pdf is not a pdf": dict(service="pdf", kind="malformed", body=b"<html>not a pdf</html>", times=5),
    "payment answer lost": dict(service="gripp", kind="lose_response", rpc_method="payment.create", times=1),
    "payment 500": dict(service="gripp", kind="status", status=500, rpc_method="payment.create", times=1),
    "snelstart read 429 storm": dict(service="snelstart-api", kind="status", status=429, retry_after=1, method="GET",
                                     times=3),
    "gripp burst throttle": dict(service="gripp", kind="status", status=503, retry_after=1, times=3),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_then_rerun_ends_with_everything_exactly_once(name, services, sandbox, settings, world):
    facts = manifest(world)
    options = dict(FAULTS[name])
    fault = sandbox.faults.add(options.pop("service"), options.pop("kind"), **options)
    run_identity(services, IDENTITY, trigger="cli")
    services.close()
    assert fault.fired >= 1, "the fault must actually have been hit"
    sandbox.faults.clear()
    result = rerun(settings, sandbox)
    assert result.outcome in ("ok", "warnings")
    assert_exactly_once(world, facts)


@pytest.mark.parametrize("state", ["booked", "done"])
def test_process_dies_between_snelstart_write_and_local_record(state, services, sandbox, settings, world,
                                                               monkeypatch):
    """The booking (or its document) exists in SnelStart, but the process died before writing that down."""
    facts = manifest(world)
    real_put = outbox.put
    died = []

    def dying_put(store, identity_id, invoice_id, number, new_state, **fields):
        if new_state == state and not died:
            died.append(number)
            raise ProcessDied()
        return real_put(store, identity_id, invoice_id, number, new_state, **fields)

    monkeypatch.setattr(outbox, "put", dying_put)
    with pytest.raises(ProcessDied):
        run_identity(services, IDENTITY, trigger="cli")
    monkeypatch.setattr(outbox, "put", real_put)
    services.close()
    rerun(settings, sandbox)
    assert died
    assert_exactly_once(world, facts)


def test_process_dies_between_gripp_payment_and_local_record(services, sandbox, settings, world, monkeypatch):
    facts = manifest(world)
    real_done = outbox.payment_done

    def dying_done(store, marker, gripp_payment_id):
        raise ProcessDied()

    monkeypatch.setattr(outbox, "payment_done", dying_done)
    with pytest.raises(ProcessDied):
        run_identity(services, IDENTITY, trigger="cli")
    monkeypatch.setattr(outbox, "payment_done", real_done)
    services.close()
    rerun(settings, sandbox)
    assert_exactly_once(world, facts)
    store_services = build_services(settings, sandbox=sandbox, sleep=lambda s: None)
    try:
        states = {r["state"] for r in outbox.payments_for(store_services.store, IDENTITY)}
        assert states == {"done"}
    finally:
        store_services.close()


def test_three_crashes_in_a_row_still_converge(services, sandbox, settings, world):
    facts = manifest(world)
    sandbox.faults.add("snelstart-api", "lose_response", method="POST", times=5)
    sandbox.faults.add("gripp", "lose_response", rpc_method="payment.create", times=2)
    run_identity(services, IDENTITY, trigger="cli")
    services.close()
    for _ in range(2):
        rerun(settings, sandbox)
    sandbox.faults.clear()
    rerun(settings, sandbox)
    assert_exactly_once(world, facts)
