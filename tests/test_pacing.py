"""Pacing: the token bucket, the per-minute window and the concurrency cap on a fake clock, and the clients that
use them staying inside the simulators' limits (no 429, no 503) — behaviour only, no timing."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from sync.core.config import load_settings
from sync.core.pacing import CallBudget, ConcurrencyCap, TokenBucket, WindowBudget
from sync.snelstart.client import SnelStartClient
from sync.snelstart.constants import MAX_PUSH_WORKERS, TIERS, tier
from tests.gripp_fixtures import FakeClock, make_client, make_sim, route
from tests.snelstart_fixtures import API_URL, AUTH_URL, SUBSCRIPTION_KEY, Harness


class Clock:
    """Sleeping advances the clock; every sleep is remembered."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


# ------------------------------------------------------------------------------------------ token bucket


def test_a_full_bucket_lets_its_capacity_through_then_spaces_calls_by_the_refill_rate():
    clock = Clock()
    bucket = TokenBucket(3, 4.0, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        bucket.acquire()
    assert clock.sleeps == [0.25, 0.25, 0.25]


def test_an_idle_bucket_refills_to_its_capacity_and_no_further():
    clock = Clock()
    bucket = TokenBucket(2, 1.0, clock=clock, sleep=clock.sleep)
    bucket.acquire(), bucket.acquire()
    clock.now += 3600  # an hour idle: still only two tokens
    for _ in range(3):
        bucket.acquire()
    assert clock.sleeps == [1.0]


def test_waiting_callers_reserve_their_turn_in_order_without_holding_the_lock():
    clock = Clock()
    bucket = TokenBucket(1, 2.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve() for _ in range(4)]  # four threads arriving at once
    assert waits == [0.0, 0.5, 1.0, 1.5]


def test_a_sleep_that_does_not_move_the_clock_never_spins():
    clock = Clock()
    bucket = TokenBucket(1, 1.0, clock=clock, sleep=lambda seconds: None)
    for _ in range(100):
        bucket.acquire()  # returns at once: the reservation is honoured, not re-checked
    assert bucket.waited > 0


# ------------------------------------------------------------------------------------- per-minute window


def test_the_minute_budget_goes_at_once_then_each_call_waits_for_a_place_a_minute_after_its_answer():
    clock = Clock()
    window = WindowBudget(3, 60.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        window.acquire()
        clock.now += 2  # latency: the answer comes two seconds after sending
        window.release()
    assert clock.sleeps == []
    window.acquire()  # the first call was answered at 1002: its place is free at 1062
    assert clock.now == pytest.approx(1062.0)


def test_calls_in_flight_count_against_the_minute():
    clock = Clock()
    window = WindowBudget(2, 60.0, clock=clock, sleep=clock.sleep)
    window.acquire(), window.acquire()
    assert window.counted == 2
    done = threading.Event()

    def third() -> None:
        window.acquire()
        done.set()

    waiter = threading.Thread(target=third)
    waiter.start()
    assert not done.wait(0.05)  # the whole budget is in flight: nothing to wait *for* yet
    window.release()  # answered at 1000: that place is free again at 1060
    waiter.join(5)
    assert done.is_set() and clock.now == pytest.approx(1060.0)


def test_no_window_of_the_server_ever_sees_more_than_the_budget():
    clock = Clock()
    window = WindowBudget(5, 60.0, clock=clock, sleep=clock.sleep)
    arrivals = []
    for n in range(40):
        window.acquire()
        clock.now += 0.5 + (n % 3)  # varying latency; the server counts the call halfway
        arrivals.append(clock.now - (0.5 + n % 3) / 2)
        window.release()
    for start in arrivals:
        assert sum(1 for a in arrivals if start <= a < start + 60) <= 5


def test_a_retry_after_holds_every_call_back():
    clock = Clock()
    window = WindowBudget(100, 60.0, clock=clock, sleep=clock.sleep)
    window.hold(7)
    window.acquire()
    assert clock.sleeps == [7.0]


# ------------------------------------------------------------------------------------- concurrency cap


def test_the_cap_never_lets_more_calls_in_flight_than_allowed():
    cap = ConcurrencyCap(3)
    lock = threading.Lock()
    inside = [0]
    most = [0]

    def work() -> None:
        cap.acquire()
        try:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.002)  # hold the place a moment so others pile up
            with lock:
                inside[0] -= 1
        finally:
            cap.release()

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] <= 3 and cap.peak <= 3 and cap.in_flight == 0


def test_snelstart_client_keeps_its_administration_within_the_concurrency_cap():
    h = Harness()
    lock = threading.Lock()
    in_flight = [0]
    most = [0]

    def handler(request: httpx.Request) -> httpx.Response:
        api = "/api/v2/" in request.url.path
        if api:
            with lock:
                in_flight[0] += 1
                most[0] = max(most[0], in_flight[0])
            time.sleep(0.002)
        try:
            return h.handle(request)
        finally:
            if api:
                with lock:
                    in_flight[0] -= 1

    client = SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=httpx.MockTransport(handler),
                             budget=CallBudget(1000, 2, clock=time.monotonic, sleep=time.sleep))
    client.company_info()  # the token first, so the threads below only make API calls
    threads = [threading.Thread(target=client.btwtarieven) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] <= 2 and client.budget.cap.peak <= 2 and client.request_count == 11


# ------------------------------------------------------------------------------- clients against limits


def test_snelstart_client_paces_itself_to_the_simulators_minute_and_is_never_throttled():
    clock = Clock()
    h = Harness(clock=clock, rate_limits=True, per_minute=4)
    client = SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=h.transport(),
                             sleep=clock.sleep, clock=clock, budget=CallBudget(4, 5, clock=clock, sleep=clock.sleep))
    for _ in range(10):
        client.btwtarieven()
    assert h.sim.stats.get("throttled", 0) == 0
    assert client.request_count == 10
    assert clock.now - 1_000.0 >= 120  # ten calls at four a minute: two whole minutes of waiting


def test_a_429_is_waited_out_by_every_call_of_the_administration():
    clock = Clock()
    h = Harness(clock=clock)
    h.faults.add("snelstart-api", "status", status=429, retry_after=30, times=1,
                 body={"statusCode": 429, "message": "Rate limit is exceeded. Try again in 30 seconds."})
    client = SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=h.transport(),
                             sleep=clock.sleep, clock=clock)
    assert len(client.btwtarieven()) > 0  # waited, then answered: no error
    assert clock.sleeps == [30.0]


def test_gripp_client_stays_inside_the_burst_bucket_over_a_long_burst():
    clock = FakeClock()
    sim = make_sim(clock=clock, rate_limits=True)
    client = make_client(route(sim), clock)  # the default pacing: Gripp's bucket, one token spare
    for _ in range(60):
        client.get_page("ledger")
    assert sim.stats["throttled"] == 0 and client.request_count == 60
    assert sum(clock.sleeps) > 0


def test_gripp_pacing_can_be_switched_off_and_then_meets_the_503():
    clock = FakeClock()
    sim = make_sim(clock=clock, rate_limits=True, burst_capacity=2)
    client = make_client(route(sim), clock, burst_capacity=None)
    for _ in range(3):
        client.get_page("ledger")
    assert sim.stats["throttled"] == 1


# ---------------------------------------------------------------------------------------------- tiers


def test_tiers_set_the_per_administration_limits_and_the_push_workers():
    assert tier(None) == TIERS["test"] and tier("Productie") == TIERS["production"] == tier("maatwerk")
    with pytest.raises(ValueError):
        tier("enterprise")
    assert load_settings({}).snelstart_tier == "sandbox"  # the in-process sandbox enforces no limits by default
    real = {"GRIPP_API_TOKEN": "x", "SNELSTART_SUBSCRIPTION_KEY": "y", "SYNC_SECRET_KEY": "a long test passphrase"}
    assert load_settings(real).snelstart_tier == "test"  # real services: the cautious tier
    assert load_settings({"SNELSTART_TIER": "production"}).snelstart_tier == "production"
    h = Harness()
    test_client = SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=h.transport())
    prod_client = SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=h.transport(),
                                  limits="production")
    assert (test_client.budget.concurrent, test_client.budget.rate.calls) == (5, 100)
    assert (prod_client.budget.concurrent, prod_client.budget.rate.calls) == (50, 500)
    assert test_client.parallel_calls == 5 and prod_client.parallel_calls == MAX_PUSH_WORKERS <= 50
