"""The Gripp API v3 client: wire format, paging, every error kind, retries, PDFs and row parsing."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from sync.core.dates import AMSTERDAM
from sync.gripp.client import GrippCall, GrippClient, encode_json, raise_for_errors
from sync.gripp.constants import OPERATORS
from sync.gripp.errors import (
    GrippAuthError,
    GrippBusyError,
    GrippCallError,
    GrippOutcomeUnknownError,
    GrippPagingError,
    GrippPdfError,
    GrippQuotaExceeded,
    GrippResponseError,
    GrippServerError,
    GrippUnknownMethodError,
)
from sync.gripp.filters import Filter
from sync.gripp.models import Company, Invoice, InvoiceLine, parse_date, parse_datetime, ref_id
from tests.gripp_fixtures import (
    API_URL,
    TOKEN,
    FakeClock,
    add_invoices,
    make_client,
    make_sim,
    make_world,
    route,
    sim_client,
)

HTML = {"Content-Type": "text/html; charset=utf-8"}


def ok(results: list[dict], status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(results).encode(), headers={**HTML, **(headers or {})})


def page(rows: list[dict], count: int, start: int = 0, limit: int = 250) -> dict:
    return {"rows": rows, "count": count, "start": start, "limit": limit, "next_start": start + limit,
            "more_items_in_collection": start + limit < count}


def answer_each(request: httpx.Request, result: object) -> httpx.Response:
    calls = json.loads(request.content)
    return ok([{"id": c["id"], "thread": "t==", "result": result, "error": None} for c in calls])


def never(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request was expected, got {request.method} {request.url}")


class Script:
    """A transport handler answering from a list; fails on any request it did not expect."""

    def __init__(self, *steps: object) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert self.steps, f"unexpected extra request #{len(self.requests)}"
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step(request)
        return step


# ------------------------------------------------------------------------------------------ wire format


def test_batch_is_one_post_of_a_json_array_with_bearer_token_and_json_content_type():
    script = Script(lambda r: answer_each(r, page([], 0)))
    client = make_client(script)
    results = client.batch([GrippCall("invoice.get", [[], {"paging": {"firstresult": 0, "maxresults": 10}}]),
                            GrippCall("company.getone", [[]])])
    assert len(script.requests) == 1 and client.request_count == 1
    request = script.requests[0]
    assert request.method == "POST" and str(request.url) == API_URL
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert [c["method"] for c in body] == ["invoice.get", "company.getone"]
    assert all(set(c) == {"method", "params", "id"} for c in body)
    assert len({c["id"] for c in body}) == 2
    assert [r.ok for r in results] == [True, True]


def test_results_out_of_order_are_matched_by_id():
    def reversed_answer(request: httpx.Request) -> httpx.Response:
        calls = json.loads(request.content)
        return ok([{"id": c["id"], "thread": "x", "result": c["method"], "error": None} for c in reversed(calls)])

    client = make_client(Script(reversed_answer))
    results = client.batch([GrippCall("invoice.get", []), GrippCall("company.get", []), GrippCall("ledger.get", [])])
    assert [r.result for r in results] == ["invoice.get", "company.get", "ledger.get"]


def test_money_is_sent_as_an_exact_json_number_and_dates_as_gripp_strings():
    assert encode_json({"amount": Decimal("1210.10"), "d": date(2025, 3, 20)}) == '{"amount":1210.10,"d":"2025-03-20"}'
    summer = datetime(2025, 7, 1, 10, 0, tzinfo=AMSTERDAM).astimezone(tz=None)
    assert Filter("invoice.updatedon", "greaterequals", summer).to_json()["value"] == "2025-07-01 10:00:00"
    script = Script(lambda r: answer_each(r, {"success": True, "recordid": 9}))
    assert make_client(script).create("payment", {"invoice": 1, "amount": Decimal("0.10")}) == 9
    sent = json.loads(script.requests[0].content, parse_float=Decimal)[0]["params"][0]
    assert sent["amount"] == Decimal("0.10") and not isinstance(sent["amount"], str)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**9, max_value=10**9))
def test_any_decimal_survives_the_trip_to_json_and_back_exactly(amount):
    sent = json.loads(encode_json([{"amount": amount}]), parse_float=Decimal)[0]["amount"]
    assert Decimal(sent) == amount and not isinstance(sent, str | float)


def test_filter_objects_inside_raw_calls_are_sent_as_filter_json():
    assert json.loads(encode_json([Filter("invoice.id", "in", (1, 2))])) == [
        {"field": "invoice.id", "operator": "in", "value": [1, 2]}]


def test_the_token_never_shows_in_repr_or_errors():
    client = make_client(Script(httpx.Response(401)))
    assert TOKEN not in repr(client) and TOKEN not in str(vars(client))
    with pytest.raises(GrippAuthError) as caught:
        client.call("invoice.get", [], {})
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


# ------------------------------------------------------------------------------------------ filters


def test_every_official_operator_is_accepted_and_others_rejected_before_sending():
    assert len(OPERATORS) == 12
    for operator in OPERATORS:
        value = [1, 2] if operator in ("in", "notin") else 1
        Filter("invoice.id", operator, value, value2=2 if operator == "between" else None)
    client = make_client(never)
    for bad in ("contains", "startswith", "greaterthan", "=", "EQUALS"):
        with pytest.raises(ValueError, match="operator"):
            client.get_page("invoice", [Filter("invoice.id", bad, 1)])
    with pytest.raises(ValueError, match="operator"):
        client.get_page("invoice", [{"field": "invoice.id", "operator": "lessthan", "value": 3}])
    assert client.request_count == 0


def test_between_needs_value2_list_operators_need_lists_and_null_operators_send_empty_value():
    with pytest.raises(ValueError, match="value2"):
        Filter("invoice.date", "between", "2025-01-01")
    with pytest.raises(ValueError, match="list"):
        Filter("invoice.id", "in", 5)
    with pytest.raises(ValueError, match="qualified"):
        Filter("updatedon", "isnull")
    assert Filter("invoice.updatedon", "isnull", None).to_json() == {
        "field": "invoice.updatedon", "operator": "isnull", "value": ""}
    assert Filter("invoice.date", "between", "2025-01-01", "2025-12-31").to_json()["value2"] == "2025-12-31"


def test_page_size_above_250_and_bad_directions_are_refused_before_sending():
    client = make_client(never)
    with pytest.raises(ValueError, match="250"):
        client.get_page("invoice", max_results=251)
    with pytest.raises(ValueError, match="direction"):
        client.get_page("invoice", orderings=[("invoice.id", "up")])


# ------------------------------------------------------------------------------------------ paging


def test_get_all_reads_600_invoices_over_three_pages_exactly_once():
    world = make_world()
    expected = set(world.gripp.invoices) | set(add_invoices(world, 596))
    assert len(expected) == 600
    client, sim, _ = sim_client(world)
    rows = list(client.get_all("invoice"))
    assert len(rows) == 600 and {r["id"] for r in rows} == expected
    assert sim.stats["calls"]["invoice.get"] == 3
    # The first page tells the count; the other two pages travel in one POST.
    assert client.request_count == 2


def test_get_all_one_page_per_post_follows_next_start():
    world = make_world()
    add_invoices(world, 596)
    script_sim = make_sim(world)
    seen_starts: list[int] = []

    def spy(request: httpx.Request) -> httpx.Response:
        for call in json.loads(request.content):
            seen_starts.append(call["params"][1]["paging"]["firstresult"])
        return route(script_sim)(request)

    client = make_client(spy)
    assert len(list(client.get_all("invoice", pages_per_post=1))) == 600
    assert seen_starts == [0, 250, 500] and client.request_count == 3


def test_get_all_does_not_yield_a_row_twice_when_a_page_shifts():
    first = page([{"id": 1}, {"id": 2}], count=4, limit=2)
    second = page([{"id": 2}, {"id": 3}], count=5, start=2, limit=2)  # an insert pushed id 2 down
    third = page([{"id": 4}], count=5, start=4, limit=2)
    client = make_client(Script(lambda r: answer_each(r, first), lambda r: answer_each(r, second),
                                lambda r: answer_each(r, third)))
    assert [r["id"] for r in client.get_all("invoice", page_size=2, pages_per_post=1)] == [1, 2, 3, 4]


def test_getone_returns_the_row_or_none():
    client, _, _ = sim_client()
    assert client.getone("company", [Filter("company.customernumber", "equals", 10002)])["id"] == 102
    assert client.getone("company", [Filter("company.customernumber", "equals", 99999)]) is None


# ------------------------------------------------------------------------------------------ call errors


def test_bad_key_global_error_applies_to_every_call_of_the_batch():
    client, _, _ = sim_client(token="not-a-real-key")
    results = client.batch([GrippCall("invoice.getone", [[]]), GrippCall("company.getone", [[]])])
    assert all(isinstance(r.error, GrippAuthError) for r in results)
    assert {r.error.code for r in results} == {1009}
    assert [r.error.method for r in results] == ["invoice.getone", "company.getone"]
    with pytest.raises(GrippAuthError):
        raise_for_errors(results)
    with pytest.raises(GrippAuthError, match="API-key"):
        client.getone("invoice", [])


def test_http_401_and_403_are_auth_errors():
    for status in (401, 403):
        with pytest.raises(GrippAuthError) as caught:
            make_client(Script(httpx.Response(status))).call("invoice.getone", [])
        assert caught.value.http_status == status


def test_paging_error_1007_is_typed():
    client, _, _ = sim_client()
    with pytest.raises(GrippPagingError) as caught:
        client.call("invoice.get", [], {})
    assert caught.value.code == 1007 and "maxresults" in caught.value.message


def test_unknown_methods_are_typed_and_do_not_spoil_the_rest_of_a_read_batch():
    client, _, _ = sim_client()
    results = client.batch([GrippCall("identity.get", [[], {"paging": {"firstresult": 0, "maxresults": 5}}]),
                            GrippCall("vat.getone", [[]]), GrippCall("ledger.getone", [[]])])
    assert isinstance(results[0].error, GrippUnknownMethodError)
    assert isinstance(results[1].error, GrippUnknownMethodError)
    assert results[2].ok and results[2].result["count"] == 2


def test_other_call_errors_are_call_errors_with_code_and_message():
    client, _, _ = sim_client()
    with pytest.raises(GrippCallError) as caught:
        client.create("payment", {"invoice": 1002, "date": "2025-08-01", "amount": "5.00"})
    assert caught.value.code is not None and "amount" in caught.value.message
    assert not isinstance(caught.value, GrippUnknownMethodError | GrippAuthError)


# ------------------------------------------------------------------------------------------ throttling


def test_503_retry_after_is_waited_and_the_batch_resent():
    clock = FakeClock()
    script = Script(httpx.Response(503, headers={"Retry-After": "3"}, json=[{"id": None, "error_code": 1004}]),
                    lambda r: answer_each(r, page([], 0)))
    client = make_client(script, clock)
    client.get_page("invoice")
    assert clock.sleeps == [3.0]
    assert len(script.requests) == 2 and script.requests[0].content == script.requests[1].content


def test_503_on_a_write_batch_is_resent_too_because_the_throttle_did_no_work():
    clock = FakeClock()
    script = Script(httpx.Response(503, headers={"Retry-After": "1"}),
                    lambda r: answer_each(r, {"success": True, "recordid": 77}))
    assert make_client(script, clock).create("payment", {"invoice": 1}) == 77
    assert clock.sleeps == [1.0]


def test_throttling_that_does_not_stop_ends_in_busy_error():
    clock = FakeClock()
    script = Script(*[httpx.Response(503, headers={"Retry-After": "2"}) for _ in range(5)])
    with pytest.raises(GrippBusyError):
        make_client(script, clock).get_page("invoice")
    assert len(script.requests) == 5 and clock.sleeps == [2.0] * 4


def test_a_client_recovers_from_the_simulators_burst_limit_by_honouring_retry_after():
    clock = FakeClock()
    sim = make_sim(clock=clock, rate_limits=True, burst_capacity=1)
    client = make_client(route(sim), clock, burst_capacity=None)  # no self-pacing: meet the 503
    client.get_page("ledger")
    client.get_page("ledger")
    assert clock.sleeps == [1.0] and sim.stats["throttled"] == 1 and client.request_count == 3


def test_the_client_paces_itself_to_the_burst_bucket():
    clock = FakeClock()
    client = make_client(Script(*[lambda r: answer_each(r, page([], 0))] * 4), clock, burst_capacity=2,
                         burst_refill_per_second=4.0)
    clock.sleeps.clear()
    for _ in range(4):
        client.get_page("ledger")
    assert clock.sleeps == [0.25, 0.25]


def test_429_quota_is_not_retried_and_says_when_to_come_back():
    clock = FakeClock()
    now = datetime(2025, 10, 26, 2, 17, 5, tzinfo=AMSTERDAM)
    script = Script(httpx.Response(429, json={"error": "Maximum number of request for this hour is reached"}))
    client = make_client(script, clock, wall_clock=lambda: now)
    with pytest.raises(GrippQuotaExceeded) as caught:
        client.get_page("invoice")
    assert len(script.requests) == 1 and clock.sleeps == []
    assert caught.value.resume_at == datetime(2025, 10, 26, 3, 0, tzinfo=AMSTERDAM)
    assert caught.value.resume_at.tzinfo is not None
    assert caught.value.retry_after == pytest.approx(42 * 60 + 55)


def test_429_with_retry_after_resumes_after_that_many_seconds():
    now = datetime(2025, 3, 1, 10, 0, tzinfo=AMSTERDAM)
    client = make_client(Script(httpx.Response(429, headers={"Retry-After": "600"})), wall_clock=lambda: now)
    with pytest.raises(GrippQuotaExceeded) as caught:
        client.call("invoice.getone", [])
    assert caught.value.resume_at == now + timedelta(seconds=600)


def test_quota_as_an_idless_jsonrpc_error_at_http_200_is_quota_exceeded_not_a_call_error():
    now = datetime(2025, 3, 1, 10, 20, tzinfo=AMSTERDAM)
    element = {"id": None, "result": {"success": False}, "error_code": 1005,
               "error": "Maximum number of request for this hour is reached"}
    script = Script(httpx.Response(200, json=[element], headers={"X-RateLimit-Remaining": "0"}))
    with pytest.raises(GrippQuotaExceeded) as caught:
        make_client(script, wall_clock=lambda: now).get_page("invoice")
    assert caught.value.resume_at == datetime(2025, 3, 1, 11, 0, tzinfo=AMSTERDAM) and len(script.requests) == 1


def test_x_ratelimit_remaining_zero_means_nothing_more_is_sent_until_the_next_hour():
    moments = [datetime(2025, 3, 1, 10, 59, tzinfo=AMSTERDAM)]
    def last_of_the_hour(request: httpx.Request) -> httpx.Response:
        answer = answer_each(request, page([], 0))
        return httpx.Response(200, content=answer.content, headers={"X-RateLimit-Remaining": "0"})

    script = Script(last_of_the_hour, lambda r: answer_each(r, page([], 0)))
    client = make_client(script, wall_clock=lambda: moments[-1])
    client.get_page("ledger")  # the last request this hour is answered normally
    with pytest.raises(GrippQuotaExceeded) as caught:
        client.get_page("ledger")
    assert len(script.requests) == 1 and caught.value.resume_at == datetime(2025, 3, 1, 11, 0, tzinfo=AMSTERDAM)
    moments.append(datetime(2025, 3, 1, 11, 0, 1, tzinfo=AMSTERDAM))
    client.get_page("ledger")
    assert len(script.requests) == 2


def test_simulator_quota_429_reaches_the_client_as_quota_exceeded():
    clock = FakeClock()
    sim = make_sim(clock=clock, rate_limits=True, hourly_quota=2)
    client = make_client(route(sim), clock)
    client.get_page("ledger")
    client.get_page("ledger")
    with pytest.raises(GrippQuotaExceeded):
        client.get_page("ledger")
    assert client.rate_limit_remaining == 0 and client.rate_limit_limit == 2


def test_rate_limit_headers_are_read_from_every_answer():
    def with_headers(request: httpx.Request) -> httpx.Response:
        answer = answer_each(request, page([], 0))
        return ok(json.loads(answer.content), headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "963"})

    client = make_client(Script(with_headers))
    client.get_page("invoice")
    assert (client.rate_limit_limit, client.rate_limit_remaining) == (1000, 963)


# ------------------------------------------------------------------------------------------ failures


def test_5xx_on_reads_is_retried_with_backoff_then_succeeds():
    clock = FakeClock()
    script = Script(httpx.Response(502), httpx.Response(500), lambda r: answer_each(r, page([{"id": 1}], 1)))
    assert make_client(script, clock).get_page("invoice").rows == [{"id": 1}]
    assert clock.sleeps == [0.5, 1.0]


def test_5xx_on_reads_gives_server_error_after_the_policy_attempts():
    script = Script(*[httpx.Response(500) for _ in range(5)])
    with pytest.raises(GrippServerError) as caught:
        make_client(script).get_page("invoice")
    assert caught.value.http_status == 500 and len(script.requests) == 5


def test_timeouts_on_reads_are_retried():
    script = Script(httpx.ReadTimeout("slow"), lambda r: answer_each(r, page([], 0)))
    make_client(script).get_page("invoice")
    assert len(script.requests) == 2


def test_a_write_whose_answer_is_lost_is_outcome_unknown_and_never_sent_twice():
    client_world = make_world()
    sim = make_sim(client_world)
    sent: list[httpx.Request] = []

    def lose_answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        route(sim)(request)  # Gripp does the work...
        raise httpx.ReadTimeout("...but the answer never arrives", request=request)

    client = make_client(lose_answer)
    with pytest.raises(GrippOutcomeUnknownError) as caught:
        client.create("payment", {"invoice": 1001, "date": "2025-04-01", "amount": Decimal("100.00")})
    assert len(sent) == 1
    assert caught.value.methods == ["payment.create"]
    assert [p.amount for p in client_world.gripp.payments.values() if p.invoice_id == 1001] == [Decimal("100.00")]


def test_a_5xx_answer_to_a_write_is_outcome_unknown_and_not_resent():
    script = Script(httpx.Response(502))
    with pytest.raises(GrippOutcomeUnknownError) as caught:
        make_client(script).update("invoice", 1001, {"extendedproperties": "x"})
    assert isinstance(caught.value.cause, GrippServerError) and len(script.requests) == 1


def test_a_write_that_could_not_connect_is_resent_because_nothing_was_sent():
    script = Script(httpx.ConnectError("refused"), lambda r: answer_each(r, True))
    make_client(script).delete("payment", 5)
    assert len(script.requests) == 2


def test_malformed_json_is_a_response_error():
    real = route(make_sim())

    def truncated(request: httpx.Request) -> httpx.Response:
        response = real(request)
        return httpx.Response(200, content=response.content[: len(response.content) // 2], headers=HTML)

    with pytest.raises(GrippResponseError):
        make_client(truncated).get_page("invoice")
    with pytest.raises(GrippResponseError):
        make_client(Script(httpx.Response(200, content=b'{"rows": []}'))).get_page("invoice")


def test_a_broken_answer_to_a_write_is_outcome_unknown():
    script = Script(httpx.Response(200, content=b'[{"id":1,"result":{"succ', headers=HTML))
    with pytest.raises(GrippOutcomeUnknownError) as caught:
        make_client(script).create("payment", {"invoice": 1})
    assert isinstance(caught.value.cause, GrippResponseError)


def test_an_answer_missing_a_call_id_is_a_response_error():
    def only_first(request: httpx.Request) -> httpx.Response:
        first = json.loads(request.content)[0]
        return ok([{"id": first["id"], "thread": "x", "result": page([], 0), "error": None}])

    with pytest.raises(GrippResponseError, match=r"lacks calls: company\.get"):
        make_client(Script(only_first)).batch([GrippCall("invoice.get", []), GrippCall("company.get", [])])


# ------------------------------------------------------------------------------------------ writes


def test_create_update_and_delete_round_trip_through_the_simulator():
    client, _, world = sim_client()
    payment_id = client.create("payment", {"invoice": 1001, "date": date(2025, 4, 2), "amount": Decimal("20.50"),
                                           "notes": "SnelStart", "extendedproperties": '{"ext":"SS-1"}'})
    assert world.gripp.payments[payment_id].amount == Decimal("20.50")
    client.update("invoice", 1001, {"extendedproperties": '{"ext_booking_id":"SS-2025-0042"}'})
    assert world.gripp.invoices[1001].extendedproperties == '{"ext_booking_id":"SS-2025-0042"}'
    client.delete("payment", payment_id)
    assert payment_id not in world.gripp.payments


def test_create_answered_with_plain_true_as_gripp_documents_it_is_a_success_without_an_id():
    assert make_client(Script(lambda r: answer_each(r, True))).create("ledger", {"name": "x"}) is None
    assert make_client(Script(lambda r: answer_each(r, {"success": True, "recordid": 5}))).create(
        "ledger", {"name": "x"}) == 5
    with pytest.raises(GrippCallError):
        make_client(Script(lambda r: answer_each(r, {"success": False}))).create("ledger", {"name": "x"})


# ------------------------------------------------------------------------------------------ PDFs


def test_download_pdf_returns_a_real_pdf_of_the_invoice():
    client, _, _ = sim_client()
    invoice = Invoice.from_row(client.getone("invoice", [Filter("invoice.id", "equals", 1001)]))
    content = client.download_pdf(invoice.directpdfurl)
    assert content.startswith(b"%PDF-")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "20250001" in text and "Bakkerij Jansen" in text


def test_download_pdf_refuses_what_is_not_a_pdf():
    login_page = httpx.Response(200, text="<html>log in</html>", headers=HTML)
    pdf_labelled_html = httpx.Response(200, content=b"<html>", headers={"Content-Type": "application/pdf"})
    for response in (login_page, pdf_labelled_html, httpx.Response(404), httpx.Response(401)):
        with pytest.raises(GrippPdfError):
            make_client(Script(response)).download_pdf("https://gripp.test/pdf/1")


def test_download_pdf_accepts_octet_stream_and_sends_the_token_only_to_gripp_hosts():
    body = b"%PDF-1.4\n...\n%%EOF\n"
    script = Script(httpx.Response(200, content=body, headers={"Content-Type": "application/octet-stream"}),
                    httpx.Response(200, content=body, headers={"Content-Type": "application/pdf"}))
    client = make_client(script)
    assert client.download_pdf("https://gripp.test/pdf/1") == body
    client.download_pdf("https://files.example.com/invoice.pdf")
    assert script.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in script.requests[1].headers
    assert client.request_count == 0 and client.pdf_request_count == 2


def test_real_gripp_subdomains_get_the_token():
    client = GrippClient("https://api.gripp.com/public/api3.php", TOKEN)
    try:
        assert client._token_allowed("https://acme.gripp.com/public/pdf/123")
        assert not client._token_allowed("http://acme.gripp.com/public/pdf/123")
        assert not client._token_allowed("https://gripp.com.evil.net/x")
        assert not client._token_allowed("https://evilgripp.com/x")
    finally:
        client.close()


# ------------------------------------------------------------------------------------------ row parsing


def test_gripp_datetimes_become_amsterdam_aware_in_summer_and_winter():
    summer = parse_datetime({"date": "2025-07-15 14:05:09.000000", "timezone_type": 3,
                             "timezone": "Europe/Amsterdam"})
    winter = parse_datetime({"date": "2024-12-12 16:56:26.000000", "timezone_type": 3,
                             "timezone": "Europe/Amsterdam"})
    assert summer.utcoffset() == timedelta(hours=2) and summer.hour == 14
    assert winter.utcoffset() == timedelta(hours=1) and winter.hour == 16
    assert str(summer.tzinfo) == "Europe/Amsterdam"
    utc = parse_datetime({"date": "2025-01-10 08:00:00.000000", "timezone_type": 3, "timezone": "UTC"})
    assert utc.hour == 9 and str(utc.tzinfo) == "Europe/Amsterdam"
    assert parse_datetime("2025-07-15 14:05:09").utcoffset() == timedelta(hours=2)
    assert parse_datetime(None) is None
    assert parse_date({"date": "2024-12-11 00:00:00.000000", "timezone_type": 3,
                       "timezone": "Europe/Amsterdam"}) == date(2024, 12, 11)
    assert parse_date("2025-03-02") == date(2025, 3, 2)


def test_money_parses_to_decimal_from_strings_and_from_json_numbers():
    row = json.loads('{"id": 1, "number": 20250012, "totalinclvat": 1210.10, "totalincldiscountexclvat": "1000.10",'
                     ' "totalopeninclvat": "0.00", "totalpayed": 1210, "status": "SENT", "invoicelines": '
                     '[{"id": 5, "amount": 1.5, "sellingprice": "12.10", "vat": 27, "ledger": null}]}',
                     parse_float=Decimal)
    invoice = Invoice.from_row(row)
    assert invoice.totalinclvat == Decimal("1210.10") and isinstance(invoice.totalinclvat, Decimal)
    assert invoice.totalexclvat == Decimal("1000.10") and invoice.totalpayed == Decimal("1210")
    assert invoice.status == "SENT" and invoice.number == "20250012"
    assert invoice.lines[0].amount == Decimal("1.5") and invoice.lines[0].vat_id == 27
    assert invoice.lines[0].ledger_id is None


def test_invoice_rows_from_the_simulator_parse_into_typed_invoices():
    client, _, _ = sim_client()
    rows = {r["id"]: Invoice.from_row(r) for r in client.get_all("invoice")}
    first, paid = rows[1001], rows[1002]
    assert first.status == "SENT" and first.identity_name == "Studio Noord B.V."
    assert first.company_id == 101 and first.company_name == "Bakkerij Jansen B.V."
    assert first.totalexclvat == Decimal("1050.00") and first.totalinclvat == Decimal("1264.50")
    assert first.updatedon is None and first.changed_on == first.createdon
    labels = [(x.vat_label, x.ledger_label) for x in first.lines]
    assert labels == [("21%", "8000 Omzet hoog"), ("9%", "8010 Omzet laag")]
    assert paid.totalpayed == Decimal("10.00") and paid.payments[0].invoice_id == 1002
    assert paid.payments[0].date == date(2025, 7, 20) and paid.children_complete
    assert rows[1004].totalinclvat == Decimal("-400.00")  # reverse-charged credit note: no VAT


def test_enums_are_read_by_id_never_by_label():
    assert ref_id({"id": 95489, "searchname": "Acme"}) == 95489 and ref_id(7) == 7 and ref_id(None) is None
    assert Invoice.from_row({"id": 1, "status": {"id": 2, "searchname": "Verzonden"}}).status == "SENT"
    assert Invoice.from_row({"id": 1, "status": {"id": 1, "searchname": "SENT"}}).status == "CONCEPT"  # id wins
    assert Invoice.from_row({"id": 1, "status": 2}).status == "SENT"  # a bare id or constant is accepted too
    assert Invoice.from_row({"id": 1, "status": "Verzonden"}).status == ""  # a label alone means nothing
    heading = InvoiceLine.from_row({"id": 5, "amount": 1, "sellingprice": "0.00",
                                    "rowtype": {"id": 2, "searchname": "GROEPLABEL"}})
    assert heading.is_heading and heading.rowtype == "GROUP"
    assert InvoiceLine.from_row({"id": 6, "rowtype": {"id": 1, "searchname": "NORMAAL"}}).rowtype == "NORMAL"
    assert InvoiceLine.from_row({"id": 7, "rowtype": {"id": 9, "searchname": "NIEUW"}}).rowtype is None  # unknown
    company = Company.from_row({"id": 3, "relationtype": {"id": 2, "searchname": "Particulier"},
                                "firstname": "Jan", "lastname": "Smit", "customernumber": "10042",
                                "invoicesendto": {"id": 3, "searchname": "Anders"}, "invoiceaddress_street": "Postbus",
                                "invoiceaddress_city": "Zwolle", "visitingaddress_street": "Hoofdweg"})
    assert company.relationtype == "PRIVATEPERSON" and company.companyname == "Jan Smit"
    assert company.customernumber == 10042 and (company.street, company.city) == ("Postbus", "Zwolle")


def test_invoice_rows_with_only_line_references_are_marked_incomplete():
    invoice = Invoice.from_row({"id": 1, "invoicelines": [{"id": 5, "searchname": "regel"}], "payments": []})
    assert invoice.lines == [] and not invoice.children_complete


def test_a_lines_kostenplaats_and_project_are_read_as_references_and_costheading_rows_with_their_number():
    from sync.gripp.models import Costheading, InvoiceLine, Project

    line = InvoiceLine.from_row({"id": 5, "amount": 1, "sellingprice": "10.00", "discount": 0,
                                 "costheading": {"id": 7, "searchname": "Drukwerk"},
                                 "project": {"id": 3, "searchname": "Website vernieuwing"}})
    assert (line.costheading_id, line.costheading_label, line.project_id, line.project_label) == (
        7, "Drukwerk", 3, "Website vernieuwing")
    bare = InvoiceLine.from_row({"id": 6, "amount": 1, "sellingprice": "1", "discount": 0, "costheading": None})
    assert bare.costheading_id is None and bare.project_id is None
    # The metadata types a costheading's number as a string and a project's as an int; read tolerantly.
    assert Costheading.from_row({"id": 7, "name": "Drukwerk", "number": "110"}) == Costheading(7, "Drukwerk", "110")
    assert Project.from_row({"id": 3, "name": "Website", "number": "1041"}).number == 1041
    assert Project.from_row({"id": 4, "searchname": "Zonder", "number": "n.v.t."}) == Project(4, "Zonder", None)
