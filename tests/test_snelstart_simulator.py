"""The SnelStart simulator on its own: gateway, tokens, OData, business rules, open balances, rate limits and
the web activation pages."""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from sync.sandbox.snelstart_api_sim import FilterParser, ODataError, compile_filter
from sync.sandbox.world import SnelStartBankBooking, SnelStartBankLine
from sync.snelstart.auth import jwt_claims
from sync.snelstart.client import encode_json
from sync.snelstart.errors import SnelStartBadRequest
from tests.snelstart_fixtures import (
    ADM2_ID,
    ADM_ID,
    API_URL,
    APP,
    AUTH_URL,
    BOOKING_1,
    FACTUUR_1,
    KLANT_INACTIVE,
    KLANT_JANSEN,
    LEDGER_HOOG,
    LEDGER_INACTIVE,
    LEDGER_LAAG,
    LEDGER_VERLEGD,
    LEVERANCIER,
    SUBSCRIPTION_KEY,
    WEB_URL,
    WEBHOOK_URL,
    Harness,
    booking_body,
)


def raw(h: Harness, method: str, path: str, *, token: str | None = None, body: Any = None,
        params: dict[str, str] | None = None, subscription_key: str | None = SUBSCRIPTION_KEY) -> httpx.Response:
    """One API call without the client's help (or its retries)."""
    headers = {"Accept": "application/json"}
    if subscription_key:
        headers["Ocp-Apim-Subscription-Key"] = subscription_key
    if token:
        headers["Authorization"] = f"Bearer {token}"
    content = encode_json(body) if body is not None and not isinstance(body, bytes) else body
    with httpx.Client(transport=h.transport()) as http:
        return http.request(method, f"{API_URL}/{path}", headers=headers, content=content, params=params)


def token_for(h: Harness, key: str | None = None) -> str:
    with httpx.Client(transport=h.transport()) as http:
        answer = http.post(f"{AUTH_URL}/b2b/token", data={"grant_type": "clientkey", "clientkey": key or h.key()})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def codes_of(response: httpx.Response) -> list[str]:
    assert response.status_code == 400, response.text
    return [e["errorCode"] for e in response.json()]


def post_booking(h: Harness, **changes: Any) -> httpx.Response:
    return raw(h, "POST", "verkoopboekingen", token=token_for(h), body=booking_body(**changes))


# ======================================================================================= token endpoint


def test_token_is_a_jwt_with_scopes_and_administration() -> None:
    h = Harness()
    with httpx.Client(transport=h.transport()) as http:
        answer = http.post(f"{AUTH_URL}/b2b/token", data={"grant_type": "clientkey", "clientkey": h.key()})
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599
    claims = jwt_claims(body["access_token"])
    assert claims["administratieIdentifier"] == ADM_ID
    assert "orders:read" in claims["scopes"]
    assert claims["exp"] == int(h.clock()) + 3599
    assert len(body["access_token"].split(".")) == 3


def test_token_endpoint_refuses_bad_grants() -> None:
    h = Harness()
    with httpx.Client(transport=h.transport()) as http:
        unknown = http.post(f"{AUTH_URL}/b2b/token", data={"grant_type": "clientkey", "clientkey": "nope"})
        password = http.post(f"{AUTH_URL}/b2b/token", data={"grant_type": "password", "username": "a"})
    assert (unknown.status_code, unknown.json()) == (400, {"error": "invalid_grant"})
    assert (password.status_code, password.json()) == (400, {"error": "unsupported_grant_type"})


def test_token_expires_after_3599_seconds_on_the_injected_clock() -> None:
    h = Harness()
    token = token_for(h)
    h.clock.advance(3598)
    assert raw(h, "GET", "companyInfo", token=token).status_code == 200
    h.clock.advance(1)
    expired = raw(h, "GET", "companyInfo", token=token)
    assert expired.status_code == 401
    assert expired.json() == {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}


def test_forged_token_is_refused() -> None:
    h = Harness()
    header, payload, signature = token_for(h, h.key(scopes=["settings:read"])).split(".")
    claims = jwt_claims(f"{header}.{payload}.{signature}")
    claims["scopes"] = ["orders:read"]
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert raw(h, "GET", "verkoopfacturen", token=f"{header}.{forged_payload}.{signature}").status_code == 401


# ============================================================================================= gateway


def test_subscription_key_is_required_on_every_call() -> None:
    h = Harness()
    token = token_for(h)
    missing = raw(h, "GET", "companyInfo", token=token, subscription_key=None)
    wrong = raw(h, "GET", "companyInfo", token=token, subscription_key="wrong")
    assert missing.status_code == wrong.status_code == 401
    assert wrong.json()["message"].startswith("Access denied due to invalid subscription key")
    via_query = raw(h, "GET", "companyInfo", token=token, subscription_key=None,
                    params={"subscription-key": SUBSCRIPTION_KEY})
    assert via_query.status_code == 200


def test_the_token_decides_the_administration() -> None:
    h = Harness()
    info = raw(h, "GET", "companyInfo", token=token_for(h, h.key(ADM2_ID))).json()
    assert info["administratieIdentifier"] == ADM2_ID
    assert info["administratieNaam"] == "Tweede Administratie"
    assert raw(h, "GET", "verkoopfacturen", token=token_for(h, h.key(ADM2_ID))).json() == []


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("GET", "verkoopfacturen", "orders:read"),
    ("GET", "grootboeken", "boekhouden:read"),
    ("GET", "btwtarieven", "settings:read"),
    ("GET", "bankboekingen", "bankieren:read"),
    ("POST", "verkoopboekingen", "boekhouden:write"),
    ("POST", "documenten/Verkoopboekingen", "documenten:write"),
    ("POST", "relaties", "relaties:write"),
])
def test_missing_scope_is_403(method: str, path: str, scope: str) -> None:
    h = Harness()
    scopes = [s for s in ("orders:read", "boekhouden:read", "boekhouden:write", "settings:read", "bankieren:read",
                          "documenten:write", "relaties:write") if s != scope]
    answer = raw(h, method, path, token=token_for(h, h.key(scopes=scopes)), body={})
    assert answer.status_code == 403
    assert scope in answer.json()["Message"]


def test_unknown_route_and_unknown_id() -> None:
    h = Harness()
    token = token_for(h)
    assert raw(h, "GET", "verkoopboekingen", token=token).status_code == 404  # there is no list of bookings
    assert raw(h, "GET", f"grootboeken/{LEDGER_HOOG[:-1]}9", token=token).status_code == 404
    assert raw(h, "GET", "relaties/not-a-guid", token=token).status_code == 404


def test_echo() -> None:
    h = Harness()
    assert raw(h, "GET", "echo/hallo").json() == "hallo"
    assert raw(h, "GET", "echo/").status_code == 204


# ================================================================================================ OData


def test_top_above_500_is_refused_and_default_is_500() -> None:
    h = Harness()
    token = token_for(h)
    assert raw(h, "GET", "relaties", token=token, params={"$top": "501"}).status_code == 400
    assert raw(h, "GET", "relaties", token=token, params={"$top": "0"}).status_code == 400
    assert len(raw(h, "GET", "relaties", token=token, params={"$top": "2", "$skip": "1"}).json()) == 2


def test_unknown_or_wrongly_cased_property_is_alg_0104() -> None:
    h = Harness()
    token = token_for(h)
    for text in ("factuurnummer eq 'x'", "FactuurNummer eq 'x'", "Uri eq 'x'", "Relatie/Naam eq 'x'"):
        answer = raw(h, "GET", "verkoopfacturen", token=token, params={"$filter": text})
        assert codes_of(answer) == ["ALG-0104"], text
        assert "Could not find a property named" in answer.json()[0]["message"]


def test_btwtarieven_ignores_odata() -> None:
    h = Harness()
    answer = raw(h, "GET", "btwtarieven", token=token_for(h), params={"$filter": "Nonsense eq 1", "$top": "1"})
    assert len(answer.json()) == 4


def _ids(resource: str, text: str, rows: list[dict]) -> list[str]:
    keep = compile_filter(resource, text)
    return [r["id"] for r in rows if keep(r)]


ROWS = [
    {"id": "a", "naam": "O'Brien", "relatiecode": 1, "relatiesoort": ["Klant"], "nonactief": False,
     "modifiedOn": "2024-01-01T10:00:00", "vestigingsAdres": {"plaats": "Alkmaar"}},
    {"id": "b", "naam": "Jansen", "relatiecode": 2, "relatiesoort": ["Klant", "Leverancier"], "nonactief": True,
     "modifiedOn": "2025-06-01T00:00:00", "vestigingsAdres": {"plaats": "Utrecht"}},
    {"id": "c", "naam": "Test BV", "relatiecode": 3, "relatiesoort": ["Leverancier"], "nonactief": False,
     "modifiedOn": "2025-07-01T00:00:00", "vestigingsAdres": None},
]


@pytest.mark.parametrize(("text", "expected"), [
    ("Naam eq 'O''Brien'", ["a"]),
    ("Naam eq 'x'' or Naam ne ''y'", []),
    ("Relatiecode gt 1 and Nonactief eq false", ["c"]),
    ("Relatiecode eq 1 or Relatiecode eq 3 and Nonactief eq true", ["a"]),  # and binds tighter than or
    ("(Relatiecode eq 1 or Relatiecode eq 3) and Nonactief eq false", ["a", "c"]),
    ("not (Nonactief eq true)", ["a", "c"]),
    ("Relatiesoort/any(x:x eq 'Klant')", ["a", "b"]),
    ("Relatiecode gt 0 and Relatiesoort/any(r: r eq 'Leverancier')", ["b", "c"]),
    ("ModifiedOn gt datetime'2025-06-01T00:00:00'", ["c"]),
    ("ModifiedOn ge datetime'2025-06-01'", ["b", "c"]),
    ("startswith(Naam,'Test') eq true", ["c"]),
    ("substringof('bri', Naam) eq true", ["a"]),
    ("VestigingsAdres/Plaats eq 'Utrecht'", ["b"]),
    ("VestigingsAdres/Plaats eq null", ["c"]),
    ("year(ModifiedOn) eq 2025", ["b", "c"]),
])
def test_filter_semantics(text: str, expected: list[str]) -> None:
    assert _ids("relaties", text, ROWS) == expected


@pytest.mark.parametrize(("text", "needle"), [
    ("Naam eq 'unterminated", "unterminated"),
    ("Naam eq", "Syntax error"),
    ("Naam eq 'x' Relatiecode", "Syntax error"),
    ("Id eq 'not a guid literal'", "incompatible types"),
    ("Id eq guid'nope'", "Edm.Guid"),
    ("Relatiecode eq 'x'", "incompatible types"),
    ("Naam", "boolean"),
    ("frobnicate(Naam) eq 1", "unknown function"),
    ("Naam eq 'x'; drop", "not valid"),
])
def test_filter_errors(text: str, needle: str) -> None:
    with pytest.raises(ODataError, match=f"(?i){needle}"):
        compile_filter("relaties", text)


def test_decimal_properties_need_a_decimal_literal() -> None:
    rows = [{"id": "x", "factuurBedrag": Decimal("12.10")}]
    assert _ids("verkoopfacturen", "FactuurBedrag eq 12.10M", rows) == ["x"]
    assert _ids("verkoopfacturen", "FactuurBedrag gt 12", rows) == ["x"]
    with pytest.raises(ODataError, match=r"Edm\.Double"):
        FilterParser("FactuurBedrag eq 12.10", "VerkoopfactuurModel",
                     {"factuurBedrag": "Edm.Decimal"}).parse()


# ================================================================================= verkoopboeking rules


def test_valid_booking_is_201_with_refs_and_appears_as_open_item() -> None:
    h = Harness()
    answer = post_booking(h, factuurnummer="2025-0100")
    assert answer.status_code == 201
    body = answer.json()
    assert body["klant"] == {"id": KLANT_JANSEN, "uri": f"/relaties/{KLANT_JANSEN}"}
    assert body["boekingsregels"][0]["grootboek"]["uri"] == f"/grootboeken/{LEDGER_HOOG}"
    assert body["uri"] == f"/verkoopboekingen/{body['id']}"
    assert body["factuurdatum"] == "2025-03-14T00:00:00" and "factuurDatum" not in body
    assert answer.headers["Location"] == body["uri"]
    facturen = raw(h, "GET", "verkoopfacturen", token=token_for(h),
                   params={"$filter": "Factuurnummer eq '2025-0100'"}).json()
    assert len(facturen) == 1
    factuur = facturen[0]
    assert factuur["verkoopBoeking"]["id"] == body["id"]
    assert factuur["vervalDatum"] == "2025-04-13T00:00:00"
    assert factuur["factuurBedrag"] == 121.00 and "factuurbedrag" not in factuur
    assert b'"openstaandSaldo":121.00' in raw(h, "GET", f"verkoopfacturen/{factuur['id']}", token=token_for(h)).content


def test_input_binding_is_case_insensitive_and_takes_string_amounts() -> None:
    h = Harness()
    body = {"Factuurnummer": "2025-0101", "FactuurDatum": "2025-03-14", "Klant": {"Id": KLANT_JANSEN},
            "Factuurbedrag": "121.00",
            "Boekingsregels": [{"Grootboek": {"ID": LEDGER_HOOG}, "Bedrag": "100.00", "BtwSoort": "hoog"}],
            "BTW": [{"BtwSoort": "verkopenhoog", "BtwBedrag": "21.00"}]}
    answer = raw(h, "POST", "verkoopboekingen", token=token_for(h), body=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["btw"] == [{"btwSoort": "VerkopenHoog", "btwBedrag": 21.00}]


@pytest.mark.parametrize(("changes", "code"), [
    ({"factuurnummer": "2025-0001"}, "BOE-0021"),
    ({"factuurnummer": ""}, "BOE-0058"),
    ({"factuurnummer": "x" * 26}, "BOE-0058"),
    ({"boekingsregels": [], "factuurbedrag": 21}, "BOE-0023"),
    ({"factuurbedrag": "120.99"}, "BOE-0039"),
    ({"klant": {"id": LEVERANCIER}}, "BOE-0060"),
    ({"klant": {"id": KLANT_INACTIVE}}, "BOE-0054"),
    ({"omschrijving": "x" * 251}, "BOE-0071"),
    ({"id": "5830cec3-8929-4703-80b4-bd695402a7b0"}, "ALG-0100"),
    ({"btw": [{"btwSoort": "InkopenHoog", "btwBedrag": 21}]}, "BOE-0069"),
    ({"btw": [{"btwSoort": "Geen", "btwBedrag": 21}]}, "BOE-0069"),  # a Hoog line without a VerkopenHoog row
    ({"btw": [{"btwSoort": "Hoog", "btwBedrag": 21}]}, "BOE-0082"),  # the line vocabulary in a btw row
])
def test_booking_rule(changes: dict[str, Any], code: str) -> None:
    assert code in codes_of(post_booking(Harness(), **changes))


def _line(ledger: str, bedrag: str, soort: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {"grootboek": {"id": ledger}, "bedrag": bedrag}
    if soort is not None:
        line["btwSoort"] = soort
    return line


@pytest.mark.parametrize(("line", "code"), [
    (_line(LEDGER_LAAG, "100.00", "Hoog"), "BOE-0082"),  # the ledger does not accept Hoog
    (_line(LEDGER_HOOG, "100.00", "VerkopenHoog"), "BOE-0082"),  # the sales vocabulary on a line
    (_line(LEDGER_INACTIVE, "100.00", "Hoog"), "BOE-0008"),
    (_line("11111111-2222-3333-4444-555555555555", "100.00", "Hoog"), "BOE-0089"),
    (_line(LEDGER_HOOG, "0.00", "Hoog"), "BOE-0028"),
])
def test_booking_line_rule(line: dict[str, Any], code: str) -> None:
    assert code in codes_of(post_booking(Harness(), boekingsregels=[line]))


def test_line_soort_may_be_left_out_and_the_ledger_decides() -> None:
    answer = post_booking(Harness(), boekingsregels=[_line(LEDGER_HOOG, "100.00", None)])
    assert answer.status_code == 201
    assert answer.json()["boekingsregels"][0]["btwSoort"] == "Hoog"


def test_reverse_charge_books_and_cannot_be_mixed() -> None:
    h = Harness()
    ok = post_booking(h, factuurnummer="2025-0110", factuurbedrag="100.00",
                      boekingsregels=[_line(LEDGER_VERLEGD, "100.00", "Geen")],
                      btw=[{"btwSoort": "VerkopenVerlegd", "btwBedrag": 0}])
    assert ok.status_code == 201, ok.text
    mixed = post_booking(h, factuurnummer="2025-0111", factuurbedrag="221.00",
                         boekingsregels=[_line(LEDGER_VERLEGD, "100.00", "Geen"), _line(LEDGER_HOOG, "100.00", "Hoog")],
                         btw=[{"btwSoort": "VerkopenVerlegd", "btwBedrag": 0},
                              {"btwSoort": "VerkopenHoog", "btwBedrag": 21}])
    assert "BOE-0062" in codes_of(mixed)


def test_credit_note_is_a_booking_with_negative_amounts() -> None:
    answer = post_booking(Harness(), factuurnummer="2025-0120C", factuurbedrag="-121.00",
                          boekingsregels=[_line(LEDGER_HOOG, "-100.00", "Hoog")],
                          btw=[{"btwSoort": "VerkopenHoog", "btwBedrag": "-21.00"}])
    assert answer.status_code == 201, answer.text


def test_empty_body_and_unknown_enum_and_bad_amount() -> None:
    h = Harness()
    token = token_for(h)
    assert codes_of(raw(h, "POST", "verkoopboekingen", token=token, body=b"")) == ["ALG-0106"]
    bad_enum = post_booking(h, btw=[{"btwSoort": "Superhoog", "btwBedrag": 21}])
    assert bad_enum.status_code == 400 and "modelState" in bad_enum.json()
    bad_amount = post_booking(h, factuurbedrag="twaalf")
    assert bad_amount.status_code == 400 and "verkoopBoeking.factuurbedrag" in bad_amount.json()["modelState"]


def test_get_put_delete_booking() -> None:
    h = Harness()
    token = token_for(h)
    created = post_booking(h, factuurnummer="2025-0130").json()
    assert raw(h, "GET", f"verkoopboekingen/{created['id']}", token=token).json()["factuurnummer"] == "2025-0130"
    changed = booking_body("2025-0130", omschrijving="Nieuw")
    put = raw(h, "PUT", f"verkoopboekingen/{created['id']}", token=token, body=changed)
    assert put.status_code == 200 and put.json()["omschrijving"] == "Nieuw"
    assert raw(h, "DELETE", f"verkoopboekingen/{created['id']}", token=token).json() == {}
    assert raw(h, "GET", f"verkoopboekingen/{created['id']}", token=token).status_code == 404


def test_booking_with_payments_cannot_be_deleted() -> None:
    h = Harness()
    assert codes_of(raw(h, "DELETE", f"verkoopboekingen/{BOOKING_1}", token=token_for(h))) == ["BOE-0083"]


# ======================================================================================= open balances


def _open_balance(h: Harness) -> Any:
    answer = raw(h, "GET", f"verkoopfacturen/{FACTUUR_1}", token=token_for(h))
    return json.loads(answer.content, parse_float=Decimal)["openstaandSaldo"]


def test_open_balance_drops_with_partial_and_full_payment() -> None:
    h = Harness()
    assert _open_balance(h) == Decimal("71.00")  # 121.00 less the 50.00 already paid
    adm = h.world.snelstart.administrations[ADM_ID]
    adm.bank_bookings["b2"] = SnelStartBankBooking(
        id="ba4c0000-0000-4000-8000-000000000002", datum=date(2025, 4, 20), omschrijving="Rest",
        bedrag_ontvangen=Decimal("71.00"), verkoop_regels=[SnelStartBankLine(BOOKING_1, Decimal("71.00"))])
    assert _open_balance(h) == Decimal("0.00") == adm.open_balance(adm.bookings[BOOKING_1])
    lines = [line for bank in raw(h, "GET", "bankboekingen", token=token_for(h)).json()
             for line in bank["verkoopboekingBoekingsRegels"]]
    assert {line["boekingId"]["id"] for line in lines} == {BOOKING_1}
    assert sorted(line["credit"] for line in lines) == [50.0, 71.0]


# ============================================================================================= relaties


def test_relatie_is_created_with_an_allocated_code() -> None:
    h = Harness()
    answer = raw(h, "POST", "relaties", token=token_for(h),
                 body={"relatiesoort": ["Klant"], "naam": "Nieuw BV", "btwNummer": "NL123456789B01"})
    assert answer.status_code == 201
    assert answer.json()["relatiecode"] == 5
    assert "fax" not in answer.json()  # the answer is a RelatieWriteModel


@pytest.mark.parametrize(("body", "code"), [
    ({"relatiesoort": ["Klant"]}, "REL-0007"),
    ({"relatiesoort": ["Klant"], "naam": "   "}, "REL-0007"),
    ({"relatiesoort": ["Klant"], "naam": "Dubbel", "relatiecode": 1}, "REL-0008"),
    ({"relatiesoort": ["Klant"], "naam": "Fout", "btwNummer": "NL12345678B01"}, "REL-0088"),
    ({"relatiesoort": ["Klant"], "naam": "Fout", "btwNummer": "NL123456789X01"}, "REL-0088"),
    ({"relatiesoort": ["Eigen"], "naam": "Ik"}, "REL-0048"),
])
def test_relatie_rule(body: dict[str, Any], code: str) -> None:
    h = Harness()
    assert code in codes_of(raw(h, "POST", "relaties", token=token_for(h), body=body))


def test_long_relatie_name_is_a_model_state_error() -> None:
    h = Harness()
    answer = raw(h, "POST", "relaties", token=token_for(h), body={"relatiesoort": ["Klant"], "naam": "x" * 51})
    assert answer.status_code == 400
    assert answer.json()["modelState"] == {"relatie.naam": ["The field Naam must be a string with a maximum length "
                                                            "of 50."]}


# ============================================================================================ documents


def _post_document(h: Harness, **changes: Any) -> httpx.Response:
    body = {"content": base64.b64encode(b"%PDF-1.4").decode(), "parentIdentifier": BOOKING_1,
            "fileName": "factuur.pdf", "readOnly": False, **changes}
    return raw(h, "POST", "documenten/Verkoopboekingen", token=token_for(h), body=body)


def test_document_upload_answers_200_with_id_and_uri() -> None:
    h = Harness()
    answer = _post_document(h)
    assert answer.status_code == 200  # the spec's 200; a live client reported 201
    assert answer.json()["uri"] == f"/documenten/{answer.json()['id']}"
    content = raw(h, "GET", f"documenten/{answer.json()['id']}", token=token_for(h)).json()["content"]
    assert base64.b64decode(content) == b"%PDF-1.4"


@pytest.mark.parametrize(("changes", "code"), [
    ({"content": base64.b64encode(b"x" * (10 * 1024 * 1024 + 1)).decode()}, "BLG-0006"),
    ({"fileName": ""}, "BLG-0007"),
    ({"fileName": "fac/tuur.pdf"}, "BLG-0016"),
    ({"fileName": "a" * 97 + ".pdf"}, "BLG-0017"),
    ({"content": ""}, "BLG-0008"),
])
def test_document_limit(changes: dict[str, Any], code: str) -> None:
    assert code in codes_of(_post_document(Harness(), **changes))


def test_document_for_unknown_parent_is_404() -> None:
    assert _post_document(Harness(), parentIdentifier="11111111-2222-3333-4444-555555555555").status_code == 404


# ========================================================================================== rate limits


def test_per_minute_limit_answers_429_with_retry_after() -> None:
    h = Harness(rate_limits=True, per_minute=3)
    token = token_for(h)
    for _ in range(3):
        assert raw(h, "GET", "companyInfo", token=token).status_code == 200
        h.clock.advance(10)
    throttled = raw(h, "GET", "companyInfo", token=token)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "30"
    assert throttled.json() == {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 30 seconds."}
    other = token_for(h, h.key(ADM2_ID))
    assert raw(h, "GET", "companyInfo", token=other).status_code == 200, "the budget is per administration"
    h.clock.advance(30)
    assert raw(h, "GET", "companyInfo", token=token).status_code == 200


def test_concurrent_requests_beyond_the_limit_are_throttled() -> None:
    h = Harness(rate_limits=True, max_concurrent=2)
    token = token_for(h)
    release = threading.Event()
    inner = h.sim.api.dispatch

    def slow_dispatch(*args: Any) -> httpx.Response:
        release.wait(5)
        return inner(*args)

    h.sim.api.dispatch = slow_dispatch  # type: ignore[method-assign]
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(raw(h, "GET", "companyInfo", token=token).status_code))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while h.sim.in_flight(ADM_ID) < 2 and time.monotonic() < deadline:
        threading.Event().wait(0.005)
    assert raw(h, "GET", "companyInfo", token=token).status_code == 429
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == [200, 200]
    assert h.sim.in_flight(ADM_ID) == 0


def test_stats_count_calls_per_endpoint() -> None:
    h = Harness()
    token = token_for(h)
    raw(h, "GET", "companyInfo", token=token)
    raw(h, "GET", "companyInfo", token=token)
    assert h.sim.stats["GET companyInfo"] == 2
    assert h.sim.stats["POST auth/b2b/token"] == 1


# ======================================================================================== web activation


def _browser(h: Harness) -> httpx.Client:
    return httpx.Client(transport=h.transport(), follow_redirects=False)


def _link(page: str, label: str) -> str:
    found = re.search(r'<a[^>]*href="([^"]+)"[^>]*>' + re.escape(label) + "</a>", page)
    assert found, f"no link {label!r}"
    return html.unescape(found[1])


def test_activation_walks_through_and_delivers_the_key_to_the_webhook() -> None:
    h = Harness()
    success = "https://console.test/koppelen/klaar?identity=3"
    with _browser(h) as browser:
        start_url = f"{WEB_URL}/couplings/activate/{APP}"
        start = browser.get(start_url, params={"referenceKey": "identity-3", "successUrl": success})
        assert start.status_code == 200
        assert "<title>SnelStart – Koppeling activeren</title>" in start.text
        assert "Ingelogd als demo@snelstart.nl" in start.text
        choose = browser.get(urljoin(str(start.url), _link(start.text, "Een enkele administratie koppelen")))
        assert "Demo Advies BV" in choose.text and "Tweede Administratie" in choose.text
        assert 'type="radio"' in choose.text and ">Koppel</button>" in choose.text
        done = browser.post(urljoin(str(choose.url), "koppel"),
                            data={"administratie": ADM2_ID, "referenceKey": "identity-3", "successUrl": success,
                                  "app": APP})
    assert done.status_code == 303
    assert done.headers["Location"] == success
    [call] = h.webhooks
    assert call["url"] == WEBHOOK_URL
    assert set(call["json"]) == {"KoppelSleutel", "ActionType", "ReferenceKey"}
    assert call["json"]["ActionType"] == "Create" and call["json"]["ReferenceKey"] == "identity-3"
    key = call["json"]["KoppelSleutel"]
    assert key not in done.headers["Location"]
    client = h.client(key)
    assert client.company_info()["administratieIdentifier"] == ADM2_ID


def test_failed_webhook_shows_an_error_and_the_key_does_not_work() -> None:
    h = Harness()
    h.webhook_status = 500
    with _browser(h) as browser:
        answer = browser.post(f"{WEB_URL}/couplings/activate/{APP}/koppel",
                              data={"administratie": ADM_ID, "referenceKey": "r1", "successUrl": "https://x.test/"})
    assert answer.status_code == 502
    assert "De koppeling kon niet worden afgerond" in answer.text
    key = h.webhooks[0]["json"]["KoppelSleutel"]
    assert h.world.snelstart.keys[key].revoked


def test_activation_page_escapes_what_it_echoes_and_refuses_unknown_apps() -> None:
    h = Harness()
    with _browser(h) as browser:
        page = browser.get(f"{WEB_URL}/couplings/activate/{APP}", params={"referenceKey": "<script>x</script>"})
        unknown = browser.get(f"{WEB_URL}/couplings/activate/iemand-anders", params={"referenceKey": "r"})
        no_reference = browser.get(f"{WEB_URL}/couplings/activate/{APP}")
        bad_success = browser.get(f"{WEB_URL}/couplings/activate/{APP}",
                                  params={"referenceKey": "r", "successUrl": "javascript:alert(1)"})
    assert "<script>x" not in page.text and "%3Cscript%3E" in page.text
    assert unknown.status_code == 404
    assert no_reference.status_code == 400
    assert bad_success.status_code == 400


def test_no_administration_chosen_asks_again() -> None:
    h = Harness()
    with _browser(h) as browser:
        answer = browser.post(f"{WEB_URL}/couplings/activate/{APP}/koppel", data={"referenceKey": "r1"})
    assert answer.status_code == 400 and "Kies een administratie" in answer.text
    assert h.webhooks == []


def test_manage_page_regenerates_and_deletes() -> None:
    h = Harness()
    with _browser(h) as browser:
        browser.post(f"{WEB_URL}/couplings/activate/{APP}/koppel", data={"administratie": ADM_ID, "referenceKey": "r9"})
        first = h.webhooks[-1]["json"]["KoppelSleutel"]
        page = browser.get(f"{WEB_URL}/couplings/manage/{APP}", params={"referenceKey": "r9"})
        assert "Nieuwe sleutel genereren" in page.text and "Koppeling verwijderen" in page.text
        assert "Demo Advies BV" in page.text
        regenerated = browser.post(f"{WEB_URL}/couplings/manage/{APP}/regenerate", data={"referenceKey": "r9"})
        assert regenerated.status_code == 200
        second = h.webhooks[-1]["json"]
        assert second["ActionType"] == "Regenerate" and second["KoppelSleutel"] != first
        assert h.world.snelstart.keys[first].revoked
        deleted = browser.post(f"{WEB_URL}/couplings/manage/{APP}/delete", data={"referenceKey": "r9"})
        assert deleted.status_code == 200
    assert h.webhooks[-1]["json"] == {"KoppelSleutel": second["KoppelSleutel"], "ActionType": "Delete",
                                      "ReferenceKey": "r9"}
    assert h.world.snelstart.keys[second["KoppelSleutel"]].revoked


def test_client_sees_a_revoked_key_as_koppelsleutel_error() -> None:
    from sync.snelstart.errors import KoppelsleutelError

    h = Harness()
    key = h.key()
    client = h.client(key)
    client.company_info()
    h.sim.revoke_key(key)
    h.sim.expire_tokens()
    with pytest.raises(KoppelsleutelError):
        client.company_info()


def test_bad_request_error_from_client_carries_dutch_message() -> None:
    h = Harness()
    with pytest.raises(SnelStartBadRequest) as caught:
        h.client().create_verkoopboeking(booking_body("2025-0001"))
    assert caught.value.messages == ["Het factuurnummer bestaat al."]


# ======================================================================================= kostenplaatsen


def test_kostenplaatsen_are_listed_whole_and_created_and_a_taken_number_is_not_refused() -> None:
    h = Harness()
    token = token_for(h)
    made = raw(h, "POST", "kostenplaatsen", token=token, body={"omschrijving": "Drukwerk", "nummer": 110})
    assert made.status_code == 201 and made.json()["nummer"] == 110 and made.json()["nonactief"] is False
    # Nothing in the spec says SnelStart refuses a number that is taken: a client that posts twice makes two.
    assert raw(h, "POST", "kostenplaatsen", token=token, body={"omschrijving": "Drukwerk", "nummer": 110}
               ).status_code == 201
    listed = raw(h, "GET", "kostenplaatsen", token=token)
    assert [k["nummer"] for k in listed.json()] == [110, 110]
    assert codes_of(raw(h, "POST", "kostenplaatsen", token=token, body={"nummer": 120})) == ["KPL-0001"]
    limited = token_for(h, h.key(scopes=["settings:read"]))
    assert raw(h, "POST", "kostenplaatsen", token=limited, body={"omschrijving": "X", "nummer": 1}).status_code == 403


def test_a_grootboek_that_demands_a_kostenplaats_refuses_a_line_without_one() -> None:
    from sync.sandbox.world import SnelStartKostenplaats

    h = Harness()
    adm = h.world.snelstart.administrations[ADM_ID]
    adm.ledgers[LEDGER_HOOG].kostenplaats_verplicht = True
    adm.kostenplaatsen["6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e10"] = SnelStartKostenplaats(
        "6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e10", 110, "Drukwerk")
    adm.kostenplaatsen["6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e99"] = SnelStartKostenplaats(
        "6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e99", 990, "Oud", nonactief=True)
    line = booking_body()["boekingsregels"][0]
    assert codes_of(post_booking(h, factuurnummer="K-1")) == ["BOE-0104"]  # [GUESS] the code
    inactive = {**line, "kostenplaats": {"id": "6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e99"}}
    assert codes_of(post_booking(h, factuurnummer="K-2", boekingsregels=[inactive])) == ["BOE-0106"]
    good = {**line, "kostenplaats": {"id": "6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e10"}}
    booked = post_booking(h, factuurnummer="K-3", boekingsregels=[good])
    assert booked.status_code == 201
    assert booked.json()["boekingsregels"][0]["kostenplaats"]["id"] == "6b0c2f7e-3d41-4f1a-9c55-0a1b2c3d4e10"
    grootboek = raw(h, "GET", f"grootboeken/{LEDGER_HOOG}", token=token_for(h)).json()
    assert grootboek["kostenplaatsVerplicht"] is True
