"""The SnelStart client against the simulator: auth, retries, error kinds, paging, filters, exactly-once writes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx
import pytest

from sync.core.retry import RetryPolicy
from sync.sandbox.world import SnelStartSalesBooking
from sync.snelstart import odata
from sync.snelstart.client import SnelStartClient, encode_json
from sync.snelstart.constants import SUBSCRIPTION_KEY_HEADER
from sync.snelstart.errors import (
    KoppelsleutelError,
    MissingScopeError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SnelStartBadRequest,
    SnelStartConnectionError,
    SnelStartTimeoutError,
    SubscriptionKeyError,
    TokenRejectedError,
    UnreadableWriteAnswerError,
    extract_errors,
    is_duplicate_invoice,
)
from tests.snelstart_fixtures import (
    ADM_ID,
    API_URL,
    AUTH_URL,
    BOOKING_1,
    KLANT_JANSEN,
    KLANT_OBRIEN,
    LEDGER_HOOG,
    SUBSCRIPTION_KEY,
    FakeSleep,
    Harness,
    booking_body,
)


def query(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode()))


def bookings_numbered(h: Harness, number: str) -> list[SnelStartSalesBooking]:
    return [b for b in h.world.snelstart.administrations[ADM_ID].bookings.values() if b.factuurnummer == number]


def add_bookings(h: Harness, count: int) -> None:
    adm = h.world.snelstart.administrations[ADM_ID]
    adm.bookings.clear()
    adm.bank_bookings.clear()
    for n in range(count):
        booking_id = str(uuid.UUID(int=n + 1))
        adm.bookings[booking_id] = SnelStartSalesBooking(
            id=booking_id, factuurnummer=f"F{n:05d}", factuurdatum=date(2025, 1, 1) + timedelta(days=n % 300),
            klant_id=KLANT_JANSEN, factuurbedrag=Decimal("12.10"), betalingstermijn=14, boekingsregels=[], btw=[],
        )


# ============================================================================================ tokens


def test_token_is_cached_across_calls() -> None:
    h = Harness()
    client = h.client()
    for _ in range(5):
        client.company_info()
    assert client.token_count == 1
    assert len(h.token_requests()) == 1
    assert client.request_count == 5


def test_token_is_renewed_about_a_minute_before_it_expires() -> None:
    h = Harness()
    client = h.client()
    client.company_info()
    h.clock.advance(3599 - 61)
    client.company_info()
    assert client.token_count == 1, "still more than 60 s left: the cached token is used"
    h.clock.advance(2)
    client.company_info()
    assert client.token_count == 2, "within 60 s of expiry: a new token is minted before the call"
    assert len(h.api_requests()) == 3, "no call was wasted on a 401"


def test_expired_token_is_renewed_once_on_401_and_the_call_resent() -> None:
    h = Harness()
    client = h.client()
    client.company_info()
    h.sim.expire_tokens()
    info = client.company_info()
    assert info["administratieIdentifier"] == ADM_ID
    assert client.token_count == 2
    assert len(h.api_requests()) == 3  # ok, 401, resent ok


def test_persistent_401_is_token_rejected_and_not_looped() -> None:
    h = Harness()
    token_calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/b2b/token"):
            token_calls.append(request)
            return h.handle(request)
        return httpx.Response(401, json={"statusCode": 401, "message": "Unauthorized. Access token is missing or "
                                                                        "invalid."})

    client = h.client(transport=httpx.MockTransport(handler))
    with pytest.raises(TokenRejectedError):
        client.company_info()
    assert len(token_calls) == 2, "one token, one renewal, then give up"
    assert client.request_count == 2


def test_bad_subscription_key_is_told_apart_and_no_token_is_wasted_on_it() -> None:
    h = Harness()
    client = h.client(subscription_key="wrong-key-9999")
    with pytest.raises(SubscriptionKeyError) as caught:
        client.company_info()
    assert caught.value.status == 401
    assert "subscription key" in caught.value.message
    assert client.token_count == 1, "a 401 naming the subscription key is not cured by a new token"


@pytest.mark.parametrize("revoke", [False, True])
def test_unknown_or_revoked_koppelsleutel_is_koppelsleutel_error(revoke: bool) -> None:
    h = Harness()
    key = h.key() if revoke else "bm90LWEta2V5"
    if revoke:
        h.sim.revoke_key(key)
    client = h.client(key)
    with pytest.raises(KoppelsleutelError) as caught:
        client.company_info()
    assert caught.value.status == 400
    assert caught.value.body == {"error": "invalid_grant"}
    assert h.api_requests() == [], "without a token no API call is made"


def test_credentials_go_where_they_belong() -> None:
    h = Harness()
    key = h.key()
    client = h.client(key)
    client.company_info()
    token_request, api_request = h.requests
    assert token_request.method == "POST" and str(token_request.url) == f"{AUTH_URL}/b2b/token"
    assert dict(parse_qsl(token_request.content.decode())) == {"grant_type": "clientkey", "clientkey": key}
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert SUBSCRIPTION_KEY_HEADER not in token_request.headers, "the subscription key never goes to auth"
    assert api_request.headers[SUBSCRIPTION_KEY_HEADER] == SUBSCRIPTION_KEY
    assert api_request.headers["Authorization"].startswith("Bearer ")
    assert api_request.headers["Accept"] == "application/json"
    assert key not in str(api_request.url) and key not in api_request.headers.get("Authorization", "")


def test_scopes_come_from_the_token() -> None:
    h = Harness()
    client = h.client(h.key(scopes=["relaties:read", "settings:read"]))
    assert client.scopes() == ["relaties:read", "settings:read"]
    assert client.administration_id() == ADM_ID
    assert client.request_count == 0, "reading the scopes costs a token call, no API call"


def test_repr_never_shows_a_secret() -> None:
    h = Harness()
    key = h.key()
    client = h.client(key)
    text = repr(client)
    assert key not in text and SUBSCRIPTION_KEY not in text
    assert key[-4:] in text


# ======================================================================================== error kinds


def test_missing_scope_is_403_missing_scope_error() -> None:
    h = Harness()
    client = h.client(h.key(scopes=["settings:read"]))
    with pytest.raises(MissingScopeError) as caught:
        list(client.verkoopfacturen())
    assert caught.value.status == 403
    assert "orders:read" in caught.value.message


def test_unknown_booking_is_not_found() -> None:
    client = Harness().client()
    with pytest.raises(NotFoundError):
        client.get_verkoopboeking(str(uuid.uuid4()))


def test_400_array_keeps_every_code() -> None:
    h = Harness()
    client = h.client()
    body = booking_body("2025-0001", factuurbedrag=Decimal("120.00"))  # a duplicate that is also out of balance
    with pytest.raises(SnelStartBadRequest) as caught:
        client.create_verkoopboeking(body)
    assert caught.value.status == 400
    assert set(caught.value.codes) == {"BOE-0021", "BOE-0039"}
    assert is_duplicate_invoice(caught.value)
    assert len(caught.value.messages) == 2


def test_model_state_shape_is_parsed() -> None:
    client = Harness().client()
    with pytest.raises(SnelStartBadRequest) as caught:
        client.create_relatie({"naam": "x" * 51, "relatiesoort": ["Klant"]})
    assert caught.value.codes == []
    assert any("maximum length of 50" in m for m in caught.value.messages)
    assert "modelState" in caught.value.body


def test_capital_message_shape_is_parsed() -> None:
    client = Harness().client()
    with pytest.raises(SnelStartBadRequest) as caught:
        client.get("/verkoopfacturen?$top=1000")
    assert "limit of '500'" in caught.value.message


def test_error_codes_are_found_in_text_too() -> None:
    codes, messages = extract_errors({"Message": "Validatie mislukt: REL-0088 Het btw-nummer is ongeldig"})
    assert codes == ["REL-0088"]
    assert messages == ["Validatie mislukt: REL-0088 Het btw-nummer is ongeldig"]
    codes, _ = extract_errors([{"errorCode": "BOE-0021", "message": "a"}, {"errorCode": "BOE-0039", "message": "b"}])
    assert codes == ["BOE-0021", "BOE-0039"]


def test_429_on_a_read_waits_retry_after_then_succeeds() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=429, retry_after=7,
                 body={"statusCode": 429, "message": "Rate limit is exceeded. Try again in 7 seconds."})
    sleep = FakeSleep()
    client = h.client(sleep=sleep)
    assert client.company_info()["administratieIdentifier"] == ADM_ID
    assert sleep.calls == [7.0]


def test_429_beyond_the_attempts_raises_rate_limit_error_with_retry_after() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=429, retry_after=3, times=None)
    client = h.client(policy=RetryPolicy(max_attempts=3, rng=lambda: 0.5))
    with pytest.raises(RateLimitError) as caught:
        client.company_info()
    assert caught.value.retry_after == 3
    assert client.request_count == 3


def test_429_asking_for_too_long_a_wait_is_not_slept_on() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=429, retry_after=3600)
    sleep = FakeSleep()
    client = h.client(sleep=sleep)
    with pytest.raises(RateLimitError) as caught:
        client.company_info()
    assert caught.value.retry_after == 3600
    assert sleep.calls == []


def test_5xx_on_a_read_is_retried_then_ok() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=503, times=2)
    sleep = FakeSleep()
    client = h.client(sleep=sleep)
    assert len(client.btwtarieven()) == 4
    assert len(sleep.calls) == 2
    assert client.request_count == 3


def test_5xx_on_a_read_that_persists_is_server_error() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=500, times=None)
    client = h.client(policy=RetryPolicy(max_attempts=2, rng=lambda: 0.5))
    with pytest.raises(ServerError):
        client.company_info()


def test_read_timeouts_are_retried_then_reported() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "timeout", times=None)
    client = h.client(policy=RetryPolicy(max_attempts=3, rng=lambda: 0.5))
    with pytest.raises(SnelStartTimeoutError):
        client.company_info()
    assert client.request_count == 3


def test_lost_booking_answer_is_outcome_unknown_and_booked_once() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "lose_response", method="POST", path_contains="verkoopboekingen")
    client = h.client()
    with pytest.raises(OutcomeUnknownError):
        client.create_verkoopboeking(booking_body("2025-0042"))
    posts = [r for r in h.api_requests() if r.method == "POST"]
    assert len(posts) == 1, "a write whose answer was lost is never resent blindly"
    assert len(bookings_numbered(h, "2025-0042")) == 1
    # The engine's next step: look it up, and adopt it.
    found = client.find_verkoopfactuur("2025-0042")
    assert found is not None and found["verkoopBoeking"]["id"] == bookings_numbered(h, "2025-0042")[0].id
    with pytest.raises(SnelStartBadRequest) as again:
        client.create_verkoopboeking(booking_body("2025-0042"))
    assert is_duplicate_invoice(again.value)
    assert len(bookings_numbered(h, "2025-0042")) == 1


def test_post_answered_503_is_outcome_unknown_and_not_retried() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=503, method="POST")
    client = h.client()
    with pytest.raises(OutcomeUnknownError) as caught:
        client.create_verkoopboeking(booking_body())
    assert caught.value.status == 503
    assert client.write_count == 1


def test_throttled_post_is_retried_because_it_was_never_processed() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "status", status=429, retry_after=1, method="POST")
    client = h.client()
    created = client.create_verkoopboeking(booking_body("2025-0050"))
    assert created["factuurnummer"] == "2025-0050"
    assert client.write_count == 2
    assert len(bookings_numbered(h, "2025-0050")) == 1


def test_post_whose_connection_never_opened_is_retried() -> None:
    h = Harness()
    refused = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "/api/v2/" in request.url.path and not refused:
            refused.append(request)
            raise httpx.ConnectError("connection refused", request=request)
        return h.handle(request)

    client = h.client(transport=httpx.MockTransport(handler))
    client.create_verkoopboeking(booking_body("2025-0051"))
    assert len(refused) == 1
    assert len(bookings_numbered(h, "2025-0051")) == 1


def test_post_whose_connection_dropped_after_sending_is_outcome_unknown() -> None:
    h = Harness()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "/api/v2/" in request.url.path:
            h.handle(request)
            raise httpx.RemoteProtocolError("peer closed connection", request=request)
        return h.handle(request)

    client = h.client(transport=httpx.MockTransport(handler))
    with pytest.raises(OutcomeUnknownError):
        client.create_verkoopboeking(booking_body("2025-0052"))
    assert client.write_count == 1


def test_token_endpoint_outage_before_a_post_is_retried_safely() -> None:
    h = Harness()
    h.faults.add("snelstart-auth", "status", status=503)
    client = h.client()
    client.create_verkoopboeking(booking_body("2025-0053"))
    assert client.token_count == 2
    assert client.write_count == 1


def test_token_endpoint_unreachable_is_connection_error() -> None:
    h = Harness()

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route to host", request=request)

    client = h.client(transport=httpx.MockTransport(handler), policy=RetryPolicy(max_attempts=2, rng=lambda: 0.5))
    with pytest.raises(SnelStartConnectionError) as caught:
        client.create_verkoopboeking(booking_body())
    assert caught.value.during_token


def test_malformed_json_is_response_format_error() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "malformed", method="GET", path_contains="companyInfo")
    client = h.client()
    with pytest.raises(ResponseFormatError):
        client.company_info()


def test_wrong_top_level_shape_is_response_format_error() -> None:
    h = Harness()

    def handler(request: httpx.Request) -> httpx.Response:
        if "/api/v2/verkoopfacturen" in request.url.path:
            return httpx.Response(200, json={"value": []})  # an OData v4 wrapper is not what SnelStart sends
        return h.handle(request)

    client = h.client(transport=httpx.MockTransport(handler))
    with pytest.raises(ResponseFormatError):
        list(client.verkoopfacturen())


def test_truncated_answer_to_a_write_is_both_format_error_and_outcome_unknown() -> None:
    h = Harness()
    h.faults.add("snelstart-api", "malformed", method="POST")
    client = h.client()
    with pytest.raises(UnreadableWriteAnswerError) as caught:
        client.create_verkoopboeking(booking_body("2025-0054"))
    assert isinstance(caught.value, OutcomeUnknownError) and isinstance(caught.value, ResponseFormatError)
    assert len(bookings_numbered(h, "2025-0054")) == 1


# ============================================================================================ paging


def test_paging_reads_1200_rows_in_three_requests() -> None:
    h = Harness()
    add_bookings(h, 1200)
    client = h.client()
    rows = list(client.verkoopfacturen())
    assert len(rows) == 1200
    assert len({r["factuurnummer"] for r in rows}) == 1200
    pages = [query(r) for r in h.api_requests()]
    assert [(p["$skip"], p["$top"]) for p in pages] == [("0", "500"), ("500", "500"), ("1000", "500")]


def test_a_full_last_page_costs_one_empty_request_more() -> None:
    h = Harness()
    add_bookings(h, 500)
    client = h.client()
    assert len(list(client.verkoopfacturen())) == 500
    assert [query(r)["$skip"] for r in h.api_requests()] == ["0", "500"]


def test_filter_is_sent_verbatim_on_every_page() -> None:
    h = Harness()
    add_bookings(h, 30)
    client = h.client()
    rows = list(client.list("verkoopfacturen", "FactuurBedrag eq 12.10M", page_size=10))
    assert len(rows) == 30
    assert {query(r)["$filter"] for r in h.api_requests()} == {"FactuurBedrag eq 12.10M"}
    assert len(h.api_requests()) == 4


# ============================================================================================ filters


def test_quoted_name_survives_the_filter() -> None:
    client = Harness().client()
    rows = client.relaties(odata.eq("Naam", "O'Brien & Zn"))
    assert [r["id"] for r in rows] == [KLANT_OBRIEN]


def test_url_special_characters_survive_encoding() -> None:
    h = Harness()
    client = h.client()
    name = "A&B #1 + C/D?=%"
    created = client.create_relatie({"naam": name, "relatiesoort": ["Klant"]})
    rows = client.relaties(odata.eq("Naam", name))
    assert [r["id"] for r in rows] == [created["id"]]
    raw = h.api_requests()[-1].url.raw_path.decode()
    assert "&B" not in raw and "#" not in raw and "+" not in raw.split("?", 1)[1]


def test_injection_attempt_matches_nothing() -> None:
    client = Harness().client()
    assert client.find_verkoopfactuur("x' or Factuurnummer ne 'y") is None
    assert client.relaties(odata.eq("Naam", "x' or Naam ne 'y")) == []


def test_guid_and_datetime_literals_filter() -> None:
    h = Harness()
    client = h.client()
    client.create_verkoopboeking(booking_body("2025-0060", factuurdatum="2025-06-01T00:00:00"))
    by_relatie = list(client.verkoopfacturen(odata.eq("Relatie/Id", odata.Guid(KLANT_JANSEN))))
    assert {r["factuurnummer"] for r in by_relatie} == {"2025-0001", "2025-0060"}
    recent = list(client.verkoopfacturen(odata.ge("FactuurDatum", date(2025, 5, 1))))
    assert [r["factuurnummer"] for r in recent] == ["2025-0060"]
    both = odata.and_(odata.eq("Relatie/Id", uuid.UUID(KLANT_JANSEN)), odata.lt("FactuurDatum", date(2025, 5, 1)))
    assert [r["factuurnummer"] for r in client.verkoopfacturen(both)] == ["2025-0001"]
    by_booking = list(client.verkoopfacturen(odata.eq("VerkoopBoeking/Id", odata.Guid(BOOKING_1))))
    assert [r["factuurnummer"] for r in by_booking] == ["2025-0001"]


def test_literals() -> None:
    assert odata.literal("O'Brien") == "'O''Brien'"
    assert odata.literal("''") == "''''''"
    guid = "5830CEC3-8929-4703-80B4-BD695402A7B0"
    assert odata.literal(odata.Guid(guid)) == f"guid'{guid.lower()}'"
    assert odata.literal(uuid.UUID(guid)) == f"guid'{guid.lower()}'"
    assert odata.literal(datetime(2017, 7, 16, 23, 59, 59)) == "datetime'2017-07-16T23:59:59'"
    aware = datetime(2017, 7, 16, 21, 59, 59, tzinfo=UTC)
    assert odata.literal(aware) == "datetime'2017-07-16T23:59:59'", "aware times become Amsterdam wall-clock"
    assert odata.literal(date(2025, 3, 14)) == "datetime'2025-03-14T00:00:00'"
    assert odata.literal(42) == "42"
    assert odata.literal(Decimal("121.50")) == "121.50M"
    assert odata.literal(True) == "true"
    assert odata.literal(None) == "null"
    assert odata.any_eq("Relatiesoort", "Klant") == "Relatiesoort/any(x:x eq 'Klant')"
    assert odata.and_(odata.eq("Naam", "a"), odata.eq("KvkNummer", "1")) == "(Naam eq 'a') and (KvkNummer eq '1')"


def test_literal_refuses_what_could_break_out() -> None:
    with pytest.raises(ValueError):
        odata.Guid("x' or 1 eq 1 or Id eq guid'")
    with pytest.raises(ValueError):
        odata.eq("Naam eq 'x' or Naam", "y")
    with pytest.raises(ValueError):
        odata.eq("naam", "y")  # properties are PascalCase
    with pytest.raises(TypeError):
        odata.literal(1.5)


# ======================================================================================== the wire


def test_decimal_is_sent_with_exactly_its_digits() -> None:
    assert encode_json({"a": Decimal("121.00"), "b": Decimal("0.10"), "c": Decimal("1E+2"), "d": -Decimal("5.5")}) \
        == b'{"a":121.00,"b":0.10,"c":100,"d":-5.5}'
    assert encode_json({"d": date(2025, 3, 14)}) == b'{"d":"2025-03-14T00:00:00"}'
    with pytest.raises(TypeError):
        encode_json({"x": 1.1})


def test_booking_body_on_the_wire_keeps_money_exact() -> None:
    h = Harness()
    client = h.client()
    client.create_verkoopboeking(booking_body("2025-0070"))
    post = next(r for r in h.api_requests() if r.method == "POST")
    assert post.headers["Content-Type"] == "application/json"
    assert b'"factuurbedrag":121.00' in post.content and b'"btwBedrag":21.00' in post.content
    assert json.loads(post.content, parse_float=Decimal)["boekingsregels"][0]["grootboek"] == {"id": LEDGER_HOOG}


def test_document_upload_is_base64_and_listed() -> None:
    h = Harness()
    client = h.client()
    booking = client.create_verkoopboeking(booking_body("2025-0071"))
    answer = client.upload_document("Verkoopboekingen", booking["id"], "2025-0071.pdf", b"%PDF-1.4 test")
    assert set(answer) == {"id", "uri"}
    post = h.api_requests()[-1]
    sent = json.loads(post.content)
    assert sent == {"content": "JVBERi0xLjQgdGVzdA==", "parentIdentifier": booking["id"], "fileName": "2025-0071.pdf",
                    "readOnly": False}
    listed = client.documents_of("Verkoopboekingen", booking["id"])
    assert [d["fileName"] for d in listed] == ["2025-0071.pdf"]
    assert client.get_verkoopboeking(booking["id"])["documents"][0]["id"] == answer["id"]


def test_context_manager_closes() -> None:
    h = Harness()
    with SnelStartClient(API_URL, AUTH_URL, SUBSCRIPTION_KEY, h.key(), transport=h.transport(),
                         sleep=FakeSleep(), clock=h.clock) as client:
        client.company_info()
    assert client._http.is_closed


def test_a_kostenplaats_refusal_is_recognised_by_a_guessed_code_or_by_its_words() -> None:
    """SnelStart's spec names no code for it: the sandbox's guess, or any code whose text names a kostenplaats."""
    from sync.snelstart.errors import SnelStartBadRequest, names_kostenplaats

    assert names_kostenplaats(SnelStartBadRequest("refused", status=400, codes=["BOE-0104"]))
    assert names_kostenplaats(SnelStartBadRequest("refused", status=400, codes=["BOE-0999"],
                                                  messages=["Kostenplaats is verplicht voor grootboek 8000."]))
    assert not names_kostenplaats(SnelStartBadRequest("refused", status=400, codes=["BOE-0039"],
                                                      messages=["De boeking is niet in balans."]))
