"""The simulator's answers and the client's requests, checked against SnelStart's own OpenAPI export.

The spec is read from beside the project (`../shared/reference/`), never copied into it. It is made stricter
before use, so a misspelt or wrongly cased field cannot slip through:
- objects allow no properties beyond the spec's (the export never says `additionalProperties: false`);
- on the models the engine reads, every property the spec lists must be present in an answer;
- reference-typed members (objects, plain strings) may be null, as .NET serialises them; value types
  (numbers, booleans, GUIDs, DateTimes) may not;
- `date-time` is SnelStart's zone-less `yyyy-MM-ddTHH:mm:ss`, `uuid` is checked, and money (`decimal`) must have
  been parsed as Decimal, never float.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from sync.sandbox.snelstart_api_sim import ROUTES
from tests.snelstart_fixtures import (
    API_URL,
    BOOKING_1,
    FACTUUR_1,
    KLANT_JANSEN,
    LEDGER_HOOG,
    SUBSCRIPTION_KEY,
    Harness,
    booking_body,
)

SPEC_PATH = Path(__file__).resolve().parents[1].parent / "shared/reference/snelstart-b2b-api-v2.openapi.yaml"
pytestmark = pytest.mark.skipif(
    not SPEC_PATH.exists(),
    reason=f"SnelStart's OpenAPI spec is not at {SPEC_PATH} (it lives beside the project, in shared/reference)",
)
SPEC_URI = "urn:snelstart-b2b-api-v2"
SCHEMA_PREFIX = "SnelStart.B2B.Api.V2.Models."
# The models the engine reads: an answer must carry every property of these.
COMPLETE_MODELS = {
    f"{SCHEMA_PREFIX}{name}" for name in (
        "VerkoopBoekingen.VerkoopBoekingModel", "VerkoopBoekingen.VerkoopBoekingRegelModel",
        "VerkoopBoekingen.VerkoopBoekingBtwRegelModel", "Verkoopfacturen.VerkoopfactuurModel",
        "Bankboekingen.BankboekingModel", "Kasboekingen.VerkoopBoekingVerantwoordingsRegelModel",
        "Grootboeken.GrootboekModel", "BtwTarieven.BtwTariefModel", "Documenten.DocumentIdentifierModel",
        "Documenten.DocumentContentModel", "Documenten.DocumentModel", "Bijlagen.VerkoopBoekingBijlageReferenceModel",
        "Relaties.RelatieModel", "Relaties.RelatieWriteModel", "Relaties.AdresModel",
        "Relaties.EmailVersturenModel", "Kostenplaatsen.KostenplaatsModel",
    )
}
_IDENTIFIER = re.compile(r".*IdentifierModel$")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
GATEWAY_STATUSES = {401, 429}  # answered by Azure APIM in front of the API; the spec does not list them


@cache
def spec() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with SPEC_PATH.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # a safe loader (the C one when available)


def _strict(document: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    document = copy.deepcopy(document)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                node.setdefault("additionalProperties", False)
            kind, fmt = node.get("type"), node.get("format")
            if kind == "object" or (kind == "string" and fmt not in ("uuid", "date-time")):
                node["nullable"] = True
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    schemas = document["components"]["schemas"]
    visit(schemas)
    if complete:
        for name, schema in schemas.items():
            if (name in COMPLETE_MODELS or _IDENTIFIER.match(name)) and "properties" in schema:
                schema["required"] = list(schema["properties"])
    return document


@cache
def registries() -> tuple[Registry, Registry]:
    """(for answers, for requests)"""
    answers = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(_strict(spec(), complete=True)))
    requests = Registry().with_resource(SPEC_URI, DRAFT4.create_resource(_strict(spec(), complete=False)))
    return answers, requests


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checkers.update(oas30_format_checker.checkers)

    @checker.checks("date-time")
    def zone_less(value: object) -> bool:
        return not isinstance(value, str) or bool(_STAMP.fullmatch(value))

    @checker.checks("uuid")
    def guid(value: object) -> bool:
        return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()

    @checker.checks("decimal")
    def decimal(value: object) -> bool:
        return not isinstance(value, float)  # money read from JSON is Decimal here; a float means it was lost

    @checker.checks("double")
    def double(value: object) -> bool:
        return True  # parsed as Decimal on purpose

    return checker


FORMATS = _format_checker()


def _pointer(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return {"$ref": f"{SPEC_URI}{ref}"} if ref else schema


def _template_re(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The spec's operation for a concrete path below /v2 (e.g. `/verkoopboekingen/9f1c…`). A literal segment
    wins over a template (`/documenten/{documenttype}` answers POST `/documenten/Verkoopboekingen`)."""
    paths = spec()["paths"]
    matches = [t for t in paths if method.lower() in paths[t] and _template_re(t).match(path)]
    assert matches, f"the spec has no {method} {path}"
    best = min(matches, key=lambda t: t.count("{"))
    return best, paths[best][method.lower()]


def check_exchange(request: httpx.Request, response: httpx.Response) -> list[str]:
    """Problems with one recorded request/answer pair, judged by the spec."""
    path = request.url.path.split("/api/v2", 1)[1]
    template, op = operation(request.method, path)
    where = f"{request.method} {template} → {response.status_code}"
    problems: list[str] = []

    body_schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if request.content and body_schema:
        sent = json.loads(request.content, parse_float=Decimal)
        validator = OAS30WriteValidator(_pointer(body_schema), registry=registries()[1], format_checker=FORMATS)
        problems += [f"{where} request: {e.json_path}: {e.message}" for e in validator.iter_errors(sent)]

    status = response.status_code
    if status in GATEWAY_STATUSES:
        body = response.json()
        if set(body) != {"statusCode", "message"} or body["statusCode"] != status:
            problems.append(f"{where}: not the gateway's error shape: {body}")
        return problems
    documented = op.get("responses", {})
    if status == 400 and "(OData)" in op.get("summary", "") and request.method == "GET":
        # An invalid $filter/$top is a 400 (seen live by SCHAKL); the export lists only 200 and 403 there.
        return problems
    if str(status) not in documented:
        return [*problems, f"{where}: status not documented (has {sorted(documented)})"]
    if not response.headers.get("Content-Type", "").startswith("application/json"):
        problems.append(f"{where}: not application/json")
    schema = (documented[str(status)].get("content") or {}).get("application/json", {}).get("schema")
    if schema and response.content:
        answer = json.loads(response.content, parse_float=Decimal)
        validator = OAS30ReadValidator(_pointer(schema), registry=registries()[0], format_checker=FORMATS)
        problems += [f"{where}: {e.json_path}: {e.message}" for e in validator.iter_errors(answer)]
    return problems


class Recorder(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if "/api/v2/" in request.url.path:
            self.exchanges.append((request, response))
        return response


def _raw(recorder: Recorder, client_headers: dict[str, str], method: str, path: str, body: Any = None) -> None:
    with httpx.Client(transport=recorder) as http:
        http.request(method, f"{API_URL}{path}", headers=client_headers, json=body)


def test_every_simulated_exchange_conforms_to_the_spec() -> None:
    h = Harness()
    recorder = Recorder(h.transport())
    client = h.client(transport=recorder)

    # Reads of every kind.
    client.company_info()
    client.btwtarieven()
    ledgers = client.grootboeken()
    client.get(f"/grootboeken/{LEDGER_HOOG}")
    client.relaties()
    client.get(f"/relaties/{KLANT_JANSEN}")
    list(client.verkoopfacturen())
    client.get(f"/verkoopfacturen/{FACTUUR_1}")
    banks = list(client.bankboekingen())
    client.get(f"/bankboekingen/{banks[0]['id']}")
    client.get_verkoopboeking(BOOKING_1)
    # Writes the client sends, and their answers.
    kostenplaats = client.create_kostenplaats({"omschrijving": "Website vernieuwing", "nummer": 1041,
                                               "nonactief": False})
    assert [k["nummer"] for k in client.kostenplaatsen()] == [1041]
    client.get(f"/kostenplaatsen/{kostenplaats['id']}")
    booking = client.create_verkoopboeking(booking_body("2025-0200"))
    line = {**booking_body()["boekingsregels"][0], "kostenplaats": {"id": kostenplaats["id"]}}
    with_kostenplaats = client.create_verkoopboeking(booking_body("2025-0201", boekingsregels=[line]))
    assert with_kostenplaats["boekingsregels"][0]["kostenplaats"]["id"] == kostenplaats["id"]
    relatie = client.create_relatie({
        "relatiesoort": ["Klant"], "naam": "Bakkerij Spec B.V.", "email": "factuur@spec.test",
        "btwNummer": "NL123456789B01", "kvkNummer": "12345678",
        "vestigingsAdres": {"contactpersoon": "P. Spec", "straat": "Dorpsstraat 1", "postcode": "1234 AB",
                            "plaats": "Alkmaar"},
        "factuurEmailVersturen": {"shouldSend": False, "email": "factuur@spec.test"},
    })
    document = client.upload_document("Verkoopboekingen", booking["id"], "2025-0200.pdf", b"%PDF-1.4")
    client.documents_of("Verkoopboekingen", booking["id"])
    client.get(f"/documenten/{document['id']}")
    # Errors the spec documents (400, 403, 404), and the gateway's (401, 429) in their own shape.
    for call in (lambda: client.create_verkoopboeking(booking_body("2025-0200")),
                 lambda: client.get("/verkoopboekingen/11111111-2222-3333-4444-555555555555"),
                 lambda: client.get("/grootboeken?$filter=Nonsense eq 1")):
        with pytest.raises(Exception):  # noqa: B017 - the kind is checked in the client tests
            call()
    limited = h.client(h.key(scopes=["settings:read"]), transport=recorder)
    with pytest.raises(Exception):  # noqa: B017
        list(limited.verkoopfacturen())
    token = limited._auth._token or ""
    headers = {"Authorization": f"Bearer {token}", "Ocp-Apim-Subscription-Key": "wrong", "Accept": "application/json"}
    _raw(recorder, headers, "GET", "/companyInfo")
    # PUT and DELETE answers.
    headers = {"Authorization": f"Bearer {client._auth._token}", "Ocp-Apim-Subscription-Key": SUBSCRIPTION_KEY}
    _raw(recorder, headers, "PUT", f"/relaties/{relatie['id']}", {"relatiesoort": ["Klant"], "naam": "Hernoemd B.V."})
    _raw(recorder, headers, "DELETE", f"/verkoopboekingen/{booking['id']}")

    assert ledgers and banks
    seen = {(r.method, operation(r.method, r.url.path.split("/api/v2", 1)[1])[0], a.status_code)
            for r, a in recorder.exchanges}
    assert ("POST", "/verkoopboekingen", 201) in seen and ("POST", "/documenten/{documenttype}", 200) in seen
    assert ("POST", "/kostenplaatsen", 201) in seen and ("GET", "/kostenplaatsen", 200) in seen
    assert {s for _, _, s in seen} >= {200, 201, 400, 401, 403, 404}
    problems = [p for request, response in recorder.exchanges for p in check_exchange(request, response)]
    assert problems == []


def test_the_strict_check_catches_a_miscased_field() -> None:
    """The check can fail: the booking's spelling on an open item is refused."""
    answer = {"verkoopBoeking": {"id": BOOKING_1, "uri": "/x"}, "modifiedOn": "2025-01-01T00:00:00",
              "openstaandSaldo": Decimal("1.00"), "factuurnummer": "1", "vervalDatum": "2025-01-01T00:00:00",
              "relatie": None, "factuurdatum": "2025-01-01T00:00:00", "factuurBedrag": Decimal("1.00"),
              "verkoopOrders": [], "id": FACTUUR_1, "uri": "/verkoopfacturen/x"}
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{SCHEMA_PREFIX}Verkoopfacturen.VerkoopfactuurModel"}
    messages = [e.message for e in OAS30ReadValidator(schema, registry=registries()[0],
                                                      format_checker=FORMATS).iter_errors(answer)]
    assert any("factuurdatum" in m for m in messages), messages
    assert any("factuurDatum" in m for m in messages), messages
    zoned = {("factuurDatum" if k == "factuurdatum" else k): v for k, v in answer.items()}
    zoned["factuurDatum"] = "2025-01-01T00:00:00+01:00"  # SnelStart's stamps carry no zone
    assert any("date-time" in e.message for e in OAS30ReadValidator(
        schema, registry=registries()[0], format_checker=FORMATS).iter_errors(zoned))


def test_routes_and_scopes_match_the_spec() -> None:
    """Every route the simulator serves exists in the spec, and asks exactly the scopes the spec lists."""
    for route in ROUTES:
        template = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{" + m[1] + "}", route.pattern.pattern)
        template = template.replace("{doctype}", "{documenttype}")
        item = spec()["paths"].get(template)
        assert item is not None and route.method.lower() in item, f"{route.method} {template} not in the spec"
        description = item[route.method.lower()].get("description", "")
        text = description.split("benodigd:")[-1] if "benodigd:" in description else ""
        listed = [line.strip()[2:].strip() for line in re.split(r"\r?\n", text) if line.strip().startswith("- ")]
        assert sorted(listed) == sorted(route.scopes), f"{route.method} {template}"
