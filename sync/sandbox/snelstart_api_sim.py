"""The SnelStart B2B API v2 endpoints, as the simulator serves them: shapes, OData, business rules.

`SnelStartApi.dispatch` is called by `SnelStartSimulator.handle_api` after the gateway checks (subscription key,
token, rate limits) with the administration the token opens. Everything here runs under `world.lock`.

Output is the exact camelCase of the spec (`factuurdatum` on verkoopboekingen, `factuurDatum` on
verkoopfacturen), dates zone-less `yyyy-MM-ddTHH:mm:ss`, money as JSON numbers with their decimals. Input is bound
case-insensitively, as .NET does.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

import httpx

from sync.core.dates import AMSTERDAM
from sync.core.money import cents
from sync.sandbox.world import (
    SnelStartAdministration,
    SnelStartBankBooking,
    SnelStartBookingLine,
    SnelStartDocument,
    SnelStartKostenplaats,
    SnelStartLedger,
    SnelStartRelatie,
    SnelStartSalesBooking,
    World,
    new_guid,
)
from sync.snelstart import limits

MAX_TOP = 500
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_FILE_NAME = limits.FILE_NAME
DEFAULT_BETALINGSTERMIJN = 30  # (?) SnelStart's default when omitted is undocumented
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
NL_VAT_RE = re.compile(r"NL\d{9}B\d{2}")
FOREIGN_VAT_RE = re.compile(r"(?!NL)[A-Z]{2}[0-9A-Z+*.]{2,12}")
FORBIDDEN_FILE_CHARS = set('\\/:*?"<>|')

LINE_SOORTEN = ("Geen", "Laag", "Hoog", "Overig")
BTW_ROW_SOORTEN = ("Geen", "VerkopenLaag", "VerkopenHoog", "VerkopenOverig", "VerkopenVerlegd", "InkopenLaag",
                   "InkopenHoog", "InkopenOverig")
DOCUMENT_TYPES = ("Verkoopboekingen", "Inkoopboekingen", "Relaties")


# =============================================================================================== JSON out


_string = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (json.dumps(..., ensure_ascii=False))


def dumps(value: Any) -> bytes:
    """JSON with Decimal as a number keeping its digits and dates zone-less, as SnelStart's .NET emits them."""
    return _enc(value).encode("utf-8")


def _enc(value: Any) -> str:
    # Type by type, most frequent first: a list of thousands of open items is encoded on every call.
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        text = f"{value:f}"
        return text if "." in text else text + ".0"  # Json.NET always writes a decimal with a decimal point
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(k))}:{_enc(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_enc(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date):
        return _string(stamp(value))
    raise TypeError(f"cannot encode {type(value).__name__}")


def stamp(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0).isoformat()
    return f"{value.isoformat()}T00:00:00"


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    if status == 204:
        return httpx.Response(204, headers=headers)
    return httpx.Response(status, content=dumps(body), headers=all_headers)


def business_errors(errors: list[tuple[str, str]]) -> httpx.Response:
    """400 with SnelStart's error array; one entry per distinct (code, message)."""
    unique = list(dict.fromkeys(errors))
    return respond(400, [{"errorCode": code, "message": message, "details": None} for code, message in unique])


def model_state(problems: dict[str, list[str]]) -> httpx.Response:
    """400 from .NET model binding / data annotations, before any business rule runs."""
    return respond(400, {"message": "The request is invalid.", "modelState": problems})


def not_found(message: str) -> httpx.Response:
    return respond(404, {"Message": message})


def ref(kind: str, entity_id: str | None) -> dict[str, str] | None:
    return {"id": entity_id, "uri": f"/{kind}/{entity_id}"} if entity_id else None


# ===================================================================================== OData: $filter
#
# Enough of the OData v3 URI conventions for what clients send: comparisons, and/or/not, parentheses, string
# literals with '' escapes, guid'…', datetime'…', numbers (M = decimal), booleans, null, property paths
# (`Relatie/Id`), `any`/`all` lambdas and a few functions. Property names are case-sensitive PascalCase of the
# JSON names; `Uri` properties cannot be filtered.

GUID, STR, INT, LONG, DEC, DBL, BOOL, DT, URI, NULL = (
    "Edm.Guid", "Edm.String", "Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double", "Edm.Boolean",
    "Edm.DateTime", "Uri", "Null",
)
_NUMERIC = (INT, LONG, DEC, DBL)
REF_T: dict[str, Any] = {"id": GUID, "uri": URI}
ADRES_T = {"contactpersoon": STR, "straat": STR, "postcode": STR, "plaats": STR, "land": REF_T}
EMAIL_T = {"shouldSend": BOOL, "email": STR, "ccEmail": STR}
DOCUMENT_T = {"parentIdentifier": GUID, "fileName": STR, "readOnly": BOOL, "id": GUID, "uri": URI}

# (model type name for messages, property types) per filterable resource.
ENTITY_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "verkoopfacturen": ("SnelStart.B2B.Api.V2.Models.Verkoopfacturen.VerkoopfactuurModel", {
        "verkoopBoeking": REF_T, "modifiedOn": DT, "openstaandSaldo": DEC, "factuurnummer": STR,
        "vervalDatum": DT, "relatie": REF_T, "factuurDatum": DT, "factuurBedrag": DEC, "verkoopOrders": [REF_T],
        "id": GUID, "uri": URI,
    }),
    "grootboeken": ("SnelStart.B2B.Api.V2.Models.Grootboeken.GrootboekModel", {
        "modifiedOn": DT, "omschrijving": STR, "kostenplaatsVerplicht": BOOL, "rekeningCode": STR,
        "nonactief": BOOL, "nummer": INT, "grootboekfunctie": STR, "grootboekRubriek": STR,
        "rgsCode": [{"versie": STR, "rgsCode": STR}], "btwSoort": [STR], "vatRateCode": STR, "id": GUID,
        "uri": URI,
    }),
    "relaties": ("SnelStart.B2B.Api.V2.Models.Relaties.RelatieModel", {
        "relatiesoort": [STR], "modifiedOn": DT, "relatiecode": INT, "naam": STR, "vestigingsAdres": ADRES_T,
        "correspondentieAdres": ADRES_T, "telefoon": STR, "mobieleTelefoon": STR, "fax": STR, "email": STR,
        "btwNummer": STR, "factuurkorting": DBL, "krediettermijn": INT, "bankieren": BOOL, "nonactief": BOOL,
        "kredietLimiet": DBL, "memo": STR, "kvkNummer": STR, "oin": STR, "websiteUrl": STR,
        "aanmaningsoort": STR, "offerteEmailVersturen": EMAIL_T, "bevestigingsEmailVersturen": EMAIL_T,
        "factuurEmailVersturen": EMAIL_T, "aanmaningEmailVersturen": EMAIL_T,
        "offerteAanvraagEmailVersturen": EMAIL_T, "bestellingEmailVersturen": EMAIL_T,
        "ublBestandAlsBijlage": BOOL, "iban": STR, "bic": STR, "incassoSoort": STR, "factuurRelatie": REF_T,
        "inkoopBoekingenUri": URI, "verkoopBoekingenUri": URI, "documents": [DOCUMENT_T], "id": GUID,
        "uri": URI, "extraVeldenKlant": [{"naam": STR, "waarde": STR}],
    }),
    "bankboekingen": ("SnelStart.B2B.Api.V2.Models.Bankboekingen.BankboekingModel", {
        "modifiedOn": DT, "datum": DT, "markering": BOOL, "boekstuk": STR, "gewijzigdDoorAccountant": BOOL,
        "omschrijving": STR,
        "grootboekBoekingsRegels": [{"omschrijving": STR, "grootboek": REF_T, "kostenplaats": REF_T,
                                     "debet": DEC, "credit": DEC, "btwSoort": STR}],
        "inkoopboekingBoekingsRegels": [{"boekingId": REF_T, "omschrijving": STR, "debet": DEC, "credit": DEC}],
        "verkoopboekingBoekingsRegels": [{"boekingId": REF_T, "omschrijving": STR, "debet": DEC,
                                          "credit": DEC}],
        "btwBoekingsregels": [{"debet": DEC, "credit": DEC, "type": STR, "tarief": STR}],
        "bedragUitgegeven": DEC, "bedragOntvangen": DEC, "dagboek": REF_T, "id": GUID, "uri": URI,
    }),
}


class ODataError(Exception):
    """An invalid `$filter`: answered 400 ALG-0104."""


_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
      | (?P<guid>guid'(?P<guidv>[^']*)')
      | (?P<datetime>datetime(?:offset)?'(?P<dtv>[^']*)')
      | (?P<string>'(?P<sv>(?:[^']|'')*)')
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[MmDdLlFf]?)
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[(),:/])""",
    re.VERBOSE,
)
_DT_LITERAL_RE = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?)?")
_COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
_OPERATOR_NAMES = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
                   "lt": "LessThan", "le": "LessThanOrEqual"}


@dataclass(frozen=True)
class _Tok:
    kind: str  # guid, datetime, string, number, ident, punct, end
    value: str
    pos: int


def tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            if text[pos] == "'":
                raise ODataError(f"There is an unterminated string literal at position {pos} in '{text}'.")
            raise ODataError(f"Syntax error: character '{text[pos]}' is not valid at position {pos} in '{text}'.")
        kind = match.lastgroup or ""
        if kind in ("guidv", "dtv", "sv"):  # named inner groups; map to the outer kind
            kind = {"guidv": "guid", "dtv": "datetime", "sv": "string"}[kind]
        if kind != "ws":
            if kind == "guid":
                value = match["guidv"]
            elif kind == "datetime":
                value = match["dtv"]
            elif kind == "string":
                value = match["sv"].replace("''", "'")
            else:
                value = match.group(0)
            tokens.append(_Tok(kind, value, pos))
        pos = match.end()
    tokens.append(_Tok("end", "", len(text)))
    return tokens


class FilterParser:
    """Recursive descent over the tokens, resolving property paths against the entity type as it goes, so an
    unknown property is an error even when the collection is empty. Produces a typed tree for `evaluate`."""

    def __init__(self, text: str, type_name: str, properties: dict[str, Any]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.type_name = type_name
        self.properties = properties
        self.scopes: list[tuple[str, Any]] = []  # lambda variables: (name, element type)

    # -- token helpers
    def peek(self, offset: int = 0) -> _Tok:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def take(self) -> _Tok:
        token = self.peek()
        self.i += 1
        return token

    def expect(self, kind: str, value: str | None = None) -> _Tok:
        token = self.take()
        if token.kind != kind or (value is not None and token.value != value):
            wanted = value or kind
            raise ODataError(f"Syntax error at position {token.pos} in '{self.text}': expected '{wanted}'.")
        return token

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "ident" and token.value == word

    # -- grammar
    def parse(self) -> tuple:
        node = self.parse_or()
        if self.peek().kind != "end":
            token = self.peek()
            raise ODataError(f"Syntax error at position {token.pos} in '{self.text}'.")
        if node[1] != BOOL:
            raise ODataError("The $filter expression must evaluate to a single boolean value.")
        return node

    def parse_or(self) -> tuple:
        left = self.parse_and()
        while self.is_word("or"):
            self.take()
            right = self.parse_and()
            left = ("or", BOOL, self._boolean(left), self._boolean(right))
        return left

    def parse_and(self) -> tuple:
        left = self.parse_not()
        while self.is_word("and"):
            self.take()
            right = self.parse_not()
            left = ("and", BOOL, self._boolean(left), self._boolean(right))
        return left

    def parse_not(self) -> tuple:
        if self.is_word("not"):
            self.take()
            return ("not", BOOL, self._boolean(self.parse_not()))
        return self.parse_comparison()

    def parse_comparison(self) -> tuple:
        left = self.parse_primary()
        token = self.peek()
        if token.kind == "ident" and token.value in _COMPARISONS:
            self.take()
            right = self.parse_primary()
            self._check_comparable(left[1], right[1], token.value)
            return ("cmp", BOOL, token.value, left, right)
        return left

    def parse_primary(self) -> tuple:
        token = self.take()
        if token.kind == "punct" and token.value == "(":
            node = self.parse_or()
            self.expect("punct", ")")
            return node
        if token.kind == "string":
            return ("lit", STR, token.value)
        if token.kind == "guid":
            try:
                return ("lit", GUID, str(uuid.UUID(token.value)))
            except ValueError:
                raise ODataError(f"Unrecognized 'Edm.Guid' literal 'guid'{token.value}''.") from None
        if token.kind == "datetime":
            if not _DT_LITERAL_RE.fullmatch(token.value):
                raise ODataError(f"Unrecognized 'Edm.DateTime' literal 'datetime'{token.value}''.")
            return ("lit", DT, _parse_stamp(token.value))
        if token.kind == "number":
            return self._number(token.value)
        if token.kind == "ident":
            if token.value in ("true", "false"):
                return ("lit", BOOL, token.value == "true")
            if token.value == "null":
                return ("lit", NULL, None)
            if self.peek().kind == "punct" and self.peek().value == "(":
                return self.parse_call(token)
            return self.parse_path(token)
        raise ODataError(f"Syntax error at position {token.pos} in '{self.text}'.")

    @staticmethod
    def _number(text: str) -> tuple:
        suffix = text[-1].upper() if text[-1] in "MmDdLlFf" else ""
        digits = text[:-1] if suffix else text
        if suffix == "M":
            return ("lit", DEC, Decimal(digits))
        if suffix == "L" and "." not in digits:
            return ("lit", LONG, int(digits))
        if suffix or "." in digits or "e" in digits.lower():
            return ("lit", DBL, Decimal(digits))
        return ("lit", INT, int(digits))

    def parse_path(self, first: _Tok) -> tuple:
        """`A/B/C`, a lambda variable (`x`, `x/Id`), or a collection followed by `/any(...)` or `/all(...)`."""
        root: str | None = None
        path: list[str] = []
        current: Any = None
        for name, element_type in reversed(self.scopes):
            if first.value == name:
                root, current = name, element_type
                break
        else:
            current, key = self._member(self.properties, first.value, self.type_name)
            path.append(key)
        while self.peek().kind == "punct" and self.peek().value == "/":
            self.take()
            name = self.expect("ident").value
            if name in ("any", "all") and isinstance(current, list):
                return self.parse_lambda(name, root, path, current[0])
            current, key = self._member(current, name, "complex type")
            path.append(key)
        if isinstance(current, dict | list):
            raise ODataError(f"The property '{'/'.join(path)}' is not of a primitive type and cannot be compared.")
        return ("prop", current, root, path)

    @staticmethod
    def _member(current: Any, segment: str, owner: str) -> tuple[Any, str]:
        # JSON `factuurDatum` is the property `FactuurDatum`: case-sensitive; `Uri` cannot be filtered.
        if isinstance(current, dict):
            for key, key_type in current.items():
                if key_type != URI and key[:1].upper() + key[1:] == segment:
                    return key_type, key
        raise ODataError(f"Could not find a property named '{segment}' on type '{owner}'.")

    def parse_lambda(self, kind: str, root: str | None, path: list[str], element_type: Any) -> tuple:
        self.expect("punct", "(")
        variable = self.expect("ident").value
        self.expect("punct", ":")
        self.scopes.append((variable, element_type))
        body = self._boolean(self.parse_or())
        self.scopes.pop()
        self.expect("punct", ")")
        return (kind, BOOL, root, path, variable, body)

    def parse_call(self, name_token: _Tok) -> tuple:
        name = name_token.value
        self.expect("punct", "(")
        args = [self.parse_or()]
        while self.peek().kind == "punct" and self.peek().value == ",":
            self.take()
            args.append(self.parse_or())
        self.expect("punct", ")")
        signatures: dict[str, tuple[tuple[str, ...], str]] = {
            "startswith": ((STR, STR), BOOL), "endswith": ((STR, STR), BOOL), "substringof": ((STR, STR), BOOL),
            "tolower": ((STR,), STR), "toupper": ((STR,), STR), "trim": ((STR,), STR), "length": ((STR,), INT),
            "year": ((DT,), INT), "month": ((DT,), INT), "day": ((DT,), INT),
        }
        if name not in signatures:
            raise ODataError(f"An unknown function with name '{name}' was found.")
        wanted, result = signatures[name]
        if len(args) != len(wanted) or any(a[1] not in (w, NULL) for a, w in zip(args, wanted, strict=False)):
            raise ODataError(f"No function signature for the function with name '{name}' matches the arguments.")
        return ("call", result, name, args)

    def _boolean(self, node: tuple) -> tuple:
        if node[1] != BOOL:
            raise ODataError("The operands for a logical operator must be of type 'Edm.Boolean'.")
        return node

    def _check_comparable(self, left: str, right: str, operator: str) -> None:
        if NULL in (left, right) or left == right:
            return
        # Integers promote to decimal or double, but a bare `1.5` (Edm.Double) never meets an Edm.Decimal.
        if left in _NUMERIC and right in _NUMERIC and DBL not in (left, right):
            return
        if {left, right} <= {INT, LONG, DBL}:
            return
        raise ODataError(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{left}' and '{right}' for operator kind '{_OPERATOR_NAMES[operator]}'."
        )


def _parse_stamp(text: str) -> datetime:
    return datetime.fromisoformat(text[:26]) if "T" in text else datetime.fromisoformat(text + "T00:00:00")


def _value_at(row: Any, path: list[str]) -> Any:
    for key in path:
        if not isinstance(row, dict):
            return None
        row = row.get(key)
    return row


def _typed(value: Any, value_type: str) -> Any:
    """A JSON value as a comparable Python value for its EDM type."""
    if value is None:
        return None
    if value_type == DT:
        return _parse_stamp(value) if isinstance(value, str) else value
    if value_type == GUID:
        return str(value).lower()
    if value_type == STR:
        return str(value)
    return value


def evaluate(node: tuple, row: dict, env: dict[str, Any] | None = None) -> Any:
    env = env or {}
    kind = node[0]
    if kind == "lit":
        return node[2]
    if kind == "prop":
        base = env[node[2]] if node[2] is not None else row
        return _typed(_value_at(base, node[3]), node[1])
    if kind == "and":
        return bool(evaluate(node[2], row, env)) and bool(evaluate(node[3], row, env))
    if kind == "or":
        return bool(evaluate(node[2], row, env)) or bool(evaluate(node[3], row, env))
    if kind == "not":
        return not evaluate(node[2], row, env)
    if kind == "cmp":
        return _compare(node[2], evaluate(node[3], row, env), evaluate(node[4], row, env))
    if kind in ("any", "all"):
        base = env[node[2]] if node[2] is not None else row
        items = _value_at(base, node[3]) or []
        results = (bool(evaluate(node[5], row, {**env, node[4]: item})) for item in items)
        return any(results) if kind == "any" else all(results)
    if kind == "call":
        args = [evaluate(a, row, env) for a in node[3]]
        return _call(node[2], args)
    raise ODataError(f"cannot evaluate {kind}")


def _fold(value: Any) -> Any:
    # SQL Server's default collation compares strings case-insensitively (?), and so does this simulator.
    return value.casefold() if isinstance(value, str) else value


def _compare(operator: str, left: Any, right: Any) -> bool:
    left, right = _fold(left), _fold(right)
    if operator == "eq":
        return left == right
    if operator == "ne":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[operator]
    except TypeError:
        return False


def _call(name: str, args: list[Any]) -> Any:
    if any(a is None for a in args):
        return None if name not in ("startswith", "endswith", "substringof") else False
    if name == "startswith":
        return _fold(args[0]).startswith(_fold(args[1]))
    if name == "endswith":
        return _fold(args[0]).endswith(_fold(args[1]))
    if name == "substringof":
        return _fold(args[0]) in _fold(args[1])
    if name == "tolower":
        return args[0].lower()
    if name == "toupper":
        return args[0].upper()
    if name == "trim":
        return args[0].strip()
    if name == "length":
        return len(args[0])
    return getattr(args[0], name)  # year, month, day


def compile_filter(resource: str, text: str) -> Callable[[dict], bool]:
    type_name, properties = ENTITY_TYPES[resource]
    tree = FilterParser(text, type_name, properties).parse()
    return lambda row: bool(evaluate(tree, row))


def odata_page(resource: str, rows: list[dict], query: dict[str, str]) -> httpx.Response:
    """Apply `$filter`, `$skip`, `$top` (1..500, default 500) as SnelStart's OData layer does."""
    if "$expand" in query:
        return respond(400, {"Message": "Query option 'Expand' is not allowed. To allow it, set the "
                                        "'AllowedQueryOptions' property on EnableQueryAttribute or "
                                        "QueryValidationSettings."})
    top_text, skip_text = query.get("$top"), query.get("$skip")
    try:
        top = int(top_text) if top_text is not None else MAX_TOP
        skip = int(skip_text) if skip_text is not None else 0
    except ValueError:
        return respond(400, {"Message": "The query specified in the URI is not valid. $top and $skip must be "
                                        "integers."})
    if top > MAX_TOP:
        return respond(400, {"Message": f"The query specified in the URI is not valid. The limit of '{MAX_TOP}' "
                                        f"for Top query has been exceeded. The value from the incoming request "
                                        f"is '{top}'."})
    if top < 1 or skip < 0:
        return respond(400, {"Message": "The query specified in the URI is not valid. $top must be 1..500 and "
                                        "$skip not negative."})
    text = query.get("$filter")
    if text is not None and text.strip():
        try:
            keep = compile_filter(resource, text)
        except ODataError as exc:
            return business_errors([("ALG-0104", f"Ongeldig OData filter: {exc}")])
        rows = [row for row in rows if keep(row)]
    return respond(200, rows[skip:skip + top])


# ============================================================================================ serialisers


def json_grootboek(ledger: SnelStartLedger) -> dict[str, Any]:
    sales = ledger.grootboekfunctie.startswith("Verkopen") or ledger.grootboekfunctie == "DienstverleningBinnenEU"
    return {
        "modifiedOn": stamp(ledger.modified_on), "omschrijving": ledger.omschrijving,
        "kostenplaatsVerplicht": ledger.kostenplaats_verplicht, "rekeningCode": ledger.rekening_code,
        "nonactief": ledger.nonactief,
        "nummer": ledger.nummer, "grootboekfunctie": ledger.grootboekfunctie,
        "grootboekRubriek": "Omzet" if sales else ("Balans" if ledger.rekening_code == "Balans" else "Kosten"),
        "rgsCode": [], "btwSoort": list(ledger.btw_soorten), "vatRateCode": None,
        "id": ledger.id, "uri": f"/grootboeken/{ledger.id}",
    }


def json_kostenplaats(kostenplaats: SnelStartKostenplaats) -> dict[str, Any]:
    """`KostenplaatsModel`, every property the spec lists."""
    return {"omschrijving": kostenplaats.omschrijving, "nonactief": kostenplaats.nonactief,
            "nummer": kostenplaats.nummer, "id": kostenplaats.id, "uri": f"/kostenplaatsen/{kostenplaats.id}"}


NL_LAND_ID = "a1f3b6e2-1d5c-4d2b-9c7e-000000000528"  # the sandbox's `landen` id for Nederland


def _adres(relatie: SnelStartRelatie) -> dict[str, Any]:
    land = ref("landen", NL_LAND_ID) if (relatie.straat or relatie.plaats) else None
    return {"contactpersoon": "", "straat": relatie.straat, "postcode": relatie.postcode, "plaats": relatie.plaats,
            "land": land}


def json_relatie(relatie: SnelStartRelatie, *, write_model: bool = False) -> dict[str, Any]:
    def email() -> dict[str, Any]:
        return {"shouldSend": False, "email": "", "ccEmail": ""}

    body: dict[str, Any] = {
        "relatiesoort": list(relatie.relatiesoort), "modifiedOn": stamp(relatie.modified_on),
        "relatiecode": relatie.relatiecode, "naam": relatie.naam, "vestigingsAdres": _adres(relatie),
        "correspondentieAdres": _adres(relatie), "telefoon": "", "mobieleTelefoon": "", "fax": "",
        "email": relatie.email, "btwNummer": relatie.btw_nummer, "factuurkorting": Decimal("0.0"),
        "krediettermijn": 0, "bankieren": False, "nonactief": relatie.nonactief, "kredietLimiet": Decimal("0.0"),
        "memo": "", "kvkNummer": relatie.kvk_nummer, "oin": "", "websiteUrl": "", "aanmaningsoort": "Nee",
        "offerteEmailVersturen": email(), "bevestigingsEmailVersturen": email(),
        "factuurEmailVersturen": {"shouldSend": False, "email": relatie.email, "ccEmail": ""},
        "aanmaningEmailVersturen": email(), "offerteAanvraagEmailVersturen": email(),
        "bestellingEmailVersturen": email(), "ublBestandAlsBijlage": False, "iban": "", "bic": "",
        "incassoSoort": "Geen", "factuurRelatie": None,
        "inkoopBoekingenUri": f"/relaties/{relatie.id}/inkoopboekingen",
        "verkoopBoekingenUri": f"/relaties/{relatie.id}/verkoopboekingen",
        "documents": [], "id": relatie.id, "uri": f"/relaties/{relatie.id}", "extraVeldenKlant": [],
    }
    if write_model:
        del body["fax"]  # RelatieWriteModel has no fax
    return body


def _kostenplaats_errors(adm: SnelStartAdministration, ledger: SnelStartLedger | None,
                         kostenplaats_id: str | None) -> list[tuple[str, str]]:
    """A booking line's kostenplaats: one that exists and is active (the spec: "dan kan er niet geboekt worden op de
    kostenplaats"), and one at all when its grootboek says `kostenplaatsVerplicht`. [GUESS] The spec gives no code
    or wording for any of the three; the codes below are made up in SnelStart's style, and the link never branches
    on them (its own check finds these before anything is posted)."""
    if kostenplaats_id is not None:
        found = adm.kostenplaatsen.get(kostenplaats_id)
        if found is None:
            return [("BOE-0105", "De opgegeven kostenplaats bestaat niet.")]
        if found.nonactief:
            return [("BOE-0106", f"Kostenplaats {found.nummer} is niet actief.")]
        return []
    if ledger is not None and ledger.kostenplaats_verplicht:
        return [("BOE-0104", f"Voor grootboek {ledger.nummer} is een kostenplaats verplicht.")]
    return []


def _documents_of(adm: SnelStartAdministration, parent_id: str) -> list[SnelStartDocument]:
    return [d for d in adm.documents.values() if d.parent_id == parent_id]


def json_verkoopboeking(adm: SnelStartAdministration, booking: SnelStartSalesBooking) -> dict[str, Any]:
    return {
        "modifiedOn": stamp(booking.modified_on), "boekstuk": booking.boekstuk, "gewijzigdDoorAccountant": False,
        "markering": False, "factuurdatum": stamp(booking.factuurdatum), "factuurnummer": booking.factuurnummer,
        "klant": ref("relaties", booking.klant_id), "omschrijving": booking.omschrijving,
        "factuurbedrag": booking.factuurbedrag, "betalingstermijn": booking.betalingstermijn,
        "eenmaligeIncassoMachtiging": None, "doorlopendeIncassoMachtiging": None,
        "boekingsregels": [
            {"omschrijving": line.omschrijving, "grootboek": ref("grootboeken", line.grootboek_id),
             "kostenplaats": ref("kostenplaatsen", line.kostenplaats_id) if line.kostenplaats_id else None,
             "bedrag": line.bedrag, "btwSoort": line.btw_soort}
            for line in booking.boekingsregels
        ],
        "btw": [{"btwSoort": soort, "btwBedrag": amount} for soort, amount in booking.btw],
        "documents": [
            {"parentIdentifier": d.parent_id, "fileName": d.file_name, "readOnly": d.read_only, "id": d.id,
             "uri": f"/documenten/{d.id}"}
            for d in _documents_of(adm, booking.id)
        ],
        "id": booking.id, "uri": f"/verkoopboekingen/{booking.id}",
    }


def settlements(adm: SnelStartAdministration) -> dict[str, tuple[Decimal, datetime]]:
    """Per booking: what bank bookings settled (credit − debet) and when one last touched it. One pass, so a
    list of thousands of open items does not rescan every bank booking per row."""
    index: dict[str, tuple[Decimal, datetime]] = {}
    for bank in adm.bank_bookings.values():
        for line in bank.verkoop_regels:
            paid, touched = index.get(line.boeking_id, (Decimal("0.00"), bank.modified_on))
            index[line.boeking_id] = (paid + line.credit - line.debet, max(touched, bank.modified_on))
    return index


def json_verkoopfactuur(adm: SnelStartAdministration, booking: SnelStartSalesBooking,
                        index: dict[str, tuple[Decimal, datetime]] | None = None) -> dict[str, Any]:
    index = settlements(adm) if index is None else index
    paid, touched = index.get(booking.id, (Decimal("0.00"), booking.modified_on))
    return {
        # A payment touches the open item: its modifiedOn is the later of the booking and its bank bookings (?).
        "verkoopBoeking": ref("verkoopboekingen", booking.id), "modifiedOn": stamp(max(booking.modified_on, touched)),
        # The same sum as `SnelStartAdministration.open_balance`, from the index.
        "openstaandSaldo": cents(booking.factuurbedrag - paid), "factuurnummer": booking.factuurnummer,
        "vervalDatum": stamp(booking.factuurdatum + timedelta(days=booking.betalingstermijn)),
        "relatie": ref("relaties", booking.klant_id), "factuurDatum": stamp(booking.factuurdatum),
        "factuurBedrag": booking.factuurbedrag, "verkoopOrders": [],
        "id": booking.verkoopfactuur_id, "uri": f"/verkoopfacturen/{booking.verkoopfactuur_id}",
    }


def json_bankboeking(bank: SnelStartBankBooking) -> dict[str, Any]:
    return {
        "modifiedOn": stamp(bank.modified_on), "datum": stamp(bank.datum), "markering": False, "boekstuk": "",
        "gewijzigdDoorAccountant": False, "omschrijving": bank.omschrijving, "grootboekBoekingsRegels": [],
        "inkoopboekingBoekingsRegels": [],
        "verkoopboekingBoekingsRegels": [
            {"boekingId": ref("verkoopboekingen", line.boeking_id), "omschrijving": line.omschrijving,
             "debet": line.debet, "credit": line.credit}
            for line in bank.verkoop_regels
        ],
        "btwBoekingsregels": [], "bedragUitgegeven": bank.bedrag_uitgegeven,
        "bedragOntvangen": bank.bedrag_ontvangen, "dagboek": ref("dagboeken", bank.dagboek_id),
        "id": bank.id, "uri": f"/bankboekingen/{bank.id}",
    }


def json_company_info(adm: SnelStartAdministration, today: date) -> dict[str, Any]:
    return {
        "administratieIdentifier": adm.id, "administratieNaam": adm.naam, "bedrijfsnaam": adm.bedrijfsnaam,
        "contactpersoon": "", "adres": "", "postcode": "", "plaats": "", "telefoon": "", "mobieleTelefoon": "",
        "fax": "", "bankrekeningnummer": "", "iban": "", "bic": "", "rechtsvorm": "Bv",
        "btwNummer": adm.btw_nummer, "btwIdentificatieNummer": "", "kvKNummer": adm.kvk_nummer, "email": "",
        "website": "", "vrijeTekst1": "", "vrijeTekst2": "", "vrijeTekst3": "", "vrijeTekst4": "",
        "huidigBoekjaar": today.year, "beginmaandFiscaleBoekjaar": 1,
        "btwAangiftePeriodeSoort": "Kwartaal", "icpAangiftePeriodeSoort": "Kwartaal", "btwNummerFiscaleEenheid": "",
        "tussentijdseSuppletiesBerekenen": False, "mapUBLBestanden": "", "btwPercentageAangifteKredietbeperking": 0,
        "markeergedragInlezenBankafschriften": "AlleenBelangrijkste", "voorkeurenTijdensBoeken": True,
        "aantalVoorloopnullenGrootboekrekeningen": 0,
        "kleineOndernemersregeling": {
            "isKleineOndernemersRegelingActief": False, "maximaalBedragVolledigeVerrekening": Decimal("0.00"),
            "maximaalBedragKleineOndernemersRegeling": Decimal("0.00"),
        },
        "volgendFactuurnummer": len(adm.bookings) + 1, "volgendVerkoopordernummer": 1, "volgendContantbonnummer": 1,
        "volgendInkoopordernummer": 1, "voorraadcontroleOrderinvoer": False, "abonnementOvernemen": False,
        "kolomGeleverdAutomatischVullen": False, "voorraadkolommenTonenInInkoop": False, "backorderGebruiken": False,
        "deelleveringOrdersDefaultAan": False, "factuurAlsBijlageVerkoopboeking": False,
        "tekstregelsOvernemenNaarBackorder": "Geen", "regelkortingVerkooporder": "BerekenenOverRegelBedrag",
        "drempelbedragVerkooporderbeheer": 0, "drempelbedragVerkooporderbeheerMaxDagenUitstel": 0,
        "verkoopprijsArtikelbestandExclusiefBtw": True, "inkoopprijsArtikelbestandExclusiefBtw": True,
        "artikelcodeSoort": "Alfanumeriek", "artikelcodeMaxLengte": 20,
        "begindatumVoorraadtelling": stamp(date(today.year, 1, 1)), "voorraadTonenInZoekvenster": False,
        "aantalDecimalenArtikelprijzen": 2, "aantalDecimalenArtikelaantallen": 2,
        "verkooporderVoorraadVanafNiveau": "Alle", "voorraadSysteem": "Fifo",
        "momentVoorraadBijwerken": "BijBoekenOntvangst", "rekeningTeOntvangenInkoopfacturen": None,
        "dagboekVoorraadverschillen": None, "buitenlandseBtwGrootboek": None,
        "factureerBuitenlandsBtw": False, "factureerBuitenlandsBtwRanges": [],
    }


def json_btwtarieven(adm: SnelStartAdministration) -> list[dict[str, Any]]:
    return [
        {"btwSoort": rate.btw_soort, "btwPercentage": rate.percentage, "datumVanaf": stamp(rate.datum_vanaf),
         "datumTotEnMet": stamp(rate.datum_tot_en_met)}
        for rate in adm.vat_rates
    ]


# ============================================================================================ input binding


def ci(value: Any) -> Any:
    """Keys lower-cased, recursively: .NET binds JSON property names case-insensitively."""
    if isinstance(value, dict):
        return {str(k).lower(): ci(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ci(v) for v in value]
    return value


class Binder:
    """Reads one request body the way .NET model binding does, collecting modelState problems."""

    def __init__(self, prefix: str = "model") -> None:
        self.prefix = prefix
        self.problems: dict[str, list[str]] = {}

    def problem(self, field: str, message: str) -> None:
        self.problems.setdefault(f"{self.prefix}.{field}", []).append(message)

    def string(self, data: dict, field: str, max_length: int | None = None) -> str | None:
        value = data.get(field.lower())
        if value is None:
            return None
        if not isinstance(value, str):
            if isinstance(value, bool | dict | list):
                self.problem(field, f"Error converting value to type 'String'. Path '{field}'.")
                return None
            value = str(value)
        if max_length is not None and not limits.fits(value, max_length):  # .NET counts UTF-16 units
            self.problem(field, f"The field {field[:1].upper() + field[1:]} must be a string with a maximum "
                                f"length of {max_length}.")
        return value

    def money(self, data: dict, field: str) -> Decimal | None:
        value = data.get(field.lower())
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
            self.problem(field, f"Error converting value {json.dumps(str(value))} to type 'System.Decimal'.")
            return None
        try:
            amount = Decimal(str(value).strip())  # a JSON string "121.00" binds to decimal too
        except InvalidOperation:
            self.problem(field, f"Could not convert string to decimal: {value}. Path '{field}'.")
            return None
        if not amount.is_finite():
            self.problem(field, f"Could not convert string to decimal: {value}. Path '{field}'.")
            return None
        return amount

    def integer(self, data: dict, field: str, low: int, high: int) -> int | None:
        value = data.get(field.lower())
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            self.problem(field, f"Error converting value to type 'System.Int32'. Path '{field}'.")
            return None
        try:
            number = int(str(value))
        except ValueError:
            self.problem(field, f"Could not convert string to integer: {value}. Path '{field}'.")
            return None
        if not low <= number <= high:
            self.problem(field, f"The field {field[:1].upper() + field[1:]} must be between {low} and {high}.")
        return number

    def boolean(self, data: dict, field: str) -> bool | None:
        value = data.get(field.lower())
        if value is None or isinstance(value, bool):
            return value
        self.problem(field, f"Error converting value to type 'System.Boolean'. Path '{field}'.")
        return None

    def guid(self, value: Any, field: str) -> str | None:
        if value is None or value == "":
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            self.problem(field, f"Error converting value {json.dumps(str(value))} to type 'System.Guid'.")
            return None

    def ref_id(self, data: dict, field: str) -> str | None:
        value = data.get(field.lower())
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(field, f"Error converting value to type 'IdentifierModel'. Path '{field}'.")
            return None
        return self.guid(value.get("id"), f"{field}.id")

    def stamp(self, data: dict, field: str) -> date | None:
        value = data.get(field.lower())
        if value is None:
            return None
        text = str(value).strip()
        match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?", text)
        try:
            if match is None:
                raise ValueError(text)
            return date.fromisoformat(match[1])
        except ValueError:
            self.problem(field, f"Could not convert string to DateTime: {text}. Path '{field}'.")
            return None

    def enum(self, value: Any, field: str, allowed: tuple[str, ...], extra: tuple[str, ...] = ()) -> str | None:
        """Case-insensitive, as .NET's StringEnumConverter; `extra` values bind but belong to another
        vocabulary (a business rule rejects them)."""
        if value is None:
            return None
        for name in (*allowed, *extra):
            if isinstance(value, str) and value.lower() == name.lower():
                return name
        self.problem(field, f"Error converting value {json.dumps(str(value))} to type 'BtwSoort'.")
        return None


def _id_given(value: Any) -> bool:
    return value not in (None, "", EMPTY_GUID)


def _now(clock: Callable[[], float]) -> datetime:
    return datetime.fromtimestamp(clock(), tz=AMSTERDAM).replace(tzinfo=None, microsecond=0)


# ============================================================================================ the endpoints

_GUID_SEGMENT = r"(?P<id>[^/]+)"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    scopes: tuple[str, ...]
    name: str
    handler: str  # method name on SnelStartApi


def _route(method: str, path: str, scopes: tuple[str, ...], handler: str) -> Route:
    return Route(method, re.compile(path), scopes, path.split("/")[0], handler)


ROUTES = (
    _route("GET", r"companyInfo", ("settings:read",), "get_company_info"),
    _route("GET", r"btwtarieven", ("settings:read",), "get_btwtarieven"),
    _route("GET", r"grootboeken", ("boekhouden:read",), "list_grootboeken"),
    _route("GET", rf"grootboeken/{_GUID_SEGMENT}", ("boekhouden:read",), "get_grootboek"),
    # Not OData in the spec (no $filter/$skip/$top): the whole list in one answer, as /btwtarieven.
    _route("GET", r"kostenplaatsen", ("settings:read",), "list_kostenplaatsen"),
    _route("POST", r"kostenplaatsen", ("settings:write",), "post_kostenplaats"),
    _route("GET", rf"kostenplaatsen/{_GUID_SEGMENT}", ("settings:read",), "get_kostenplaats"),
    _route("GET", r"relaties", ("relaties:read",), "list_relaties"),
    _route("POST", r"relaties", ("relaties:write",), "post_relatie"),
    _route("GET", rf"relaties/{_GUID_SEGMENT}", ("relaties:read",), "get_relatie"),
    _route("PUT", rf"relaties/{_GUID_SEGMENT}", ("relaties:write",), "put_relatie"),
    _route("POST", r"verkoopboekingen", ("boekhouden:write",), "post_verkoopboeking"),
    _route("GET", rf"verkoopboekingen/{_GUID_SEGMENT}", ("boekhouden:read",), "get_verkoopboeking"),
    _route("PUT", rf"verkoopboekingen/{_GUID_SEGMENT}", ("boekhouden:write",), "put_verkoopboeking"),
    _route("DELETE", rf"verkoopboekingen/{_GUID_SEGMENT}", ("boekhouden:write",), "delete_verkoopboeking"),
    _route("GET", r"verkoopfacturen", ("orders:read",), "list_verkoopfacturen"),
    _route("GET", rf"verkoopfacturen/{_GUID_SEGMENT}", ("orders:read",), "get_verkoopfactuur"),
    _route("GET", r"bankboekingen", ("bankieren:read",), "list_bankboekingen"),
    _route("GET", rf"bankboekingen/{_GUID_SEGMENT}", ("bankieren:read",), "get_bankboeking"),
    _route("POST", r"documenten/(?P<doctype>[^/]+)", ("boekhouden:write", "documenten:write"), "post_document"),
    _route("GET", r"documenten/(?P<doctype>[^/]+)/(?P<pid>[^/]+)", ("documenten:read",), "list_documents"),
    _route("GET", rf"documenten/{_GUID_SEGMENT}", ("documenten:read",), "get_document"),
    _route("DELETE", rf"documenten/{_GUID_SEGMENT}", ("boekhouden:write", "documenten:write"), "delete_document"),
)


def match_route(method: str, subpath: str) -> tuple[Route, dict[str, str]] | None:
    path = subpath.strip("/")
    for route in ROUTES:
        found = route.pattern.fullmatch(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


def query_of(request: httpx.Request) -> dict[str, str]:
    # `+` and %20 both decode to a space, as ASP.NET reads a query string.
    return dict(parse_qsl(request.url.query.decode("ascii", errors="replace"), keep_blank_values=True))


class SnelStartApi:
    def __init__(self, world: World, clock: Callable[[], float]) -> None:
        self.world = world
        self.clock = clock

    def dispatch(self, adm: SnelStartAdministration, route: Route, params: dict[str, str],
                 request: httpx.Request) -> httpx.Response:
        for key in ("id", "pid"):
            if key in params:
                try:
                    params[key] = str(uuid.UUID(params[key]))
                except ValueError:
                    return not_found(f"No HTTP resource was found that matches the request URI "
                                     f"'{request.url.path}'.")
        handler = getattr(self, route.handler)
        return handler(adm, request, **params)

    # ------------------------------------------------------------------------------------------- reads

    def get_company_info(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        return respond(200, json_company_info(adm, _now(self.clock).date()))

    def get_btwtarieven(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        # Not an OData endpoint: $filter/$top are ignored and the whole history comes back.
        return respond(200, json_btwtarieven(adm))

    def list_grootboeken(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        rows = [json_grootboek(ledger) for ledger in sorted(adm.ledgers.values(), key=lambda g: g.nummer)]
        return odata_page("grootboeken", rows, query_of(request))

    def get_grootboek(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        ledger = adm.ledgers.get(id)
        return respond(200, json_grootboek(ledger)) if ledger else not_found(f"Grootboek {id} niet gevonden.")

    def list_kostenplaatsen(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        rows = [json_kostenplaats(k) for k in sorted(adm.kostenplaatsen.values(), key=lambda k: k.nummer)]
        return respond(200, rows)

    def get_kostenplaats(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        found = adm.kostenplaatsen.get(id)
        return respond(200, json_kostenplaats(found)) if found else not_found(f"Kostenplaats {id} niet gevonden.")

    def post_kostenplaats(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        """201 with the stored model. The spec names no rule beyond "400 when validation rules are broken": a
        number that is taken is accepted (nothing says SnelStart refuses it), so a client that posts twice makes
        two — the link must look before it creates."""
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        data = ci(body)
        bind = Binder("kostenplaats")
        if _id_given(data.get("id")):
            bind.guid(data.get("id"), "id")
        omschrijving = bind.string(data, "omschrijving") or ""
        nummer = bind.integer(data, "nummer", -2**31, 2**31 - 1)
        nonactief = bind.boolean(data, "nonactief") or False
        if bind.problems:
            return model_state(bind.problems)
        errors: list[tuple[str, str]] = []
        if _id_given(data.get("id")):
            errors.append(("ALG-0100", "Het id moet leeg zijn bij het aanmaken van een nieuw object."))
        # [GUESS] the spec gives no code or wording for a kostenplaats without description or number.
        if not omschrijving.strip():
            errors.append(("KPL-0001", "De omschrijving van de kostenplaats is verplicht."))
        if nummer is None:
            errors.append(("KPL-0002", "Het nummer van de kostenplaats is verplicht."))
        if errors:
            return business_errors(errors)
        assert nummer is not None
        made = SnelStartKostenplaats(id=new_guid(), nummer=nummer, omschrijving=omschrijving, nonactief=nonactief)
        adm.kostenplaatsen[made.id] = made
        return respond(201, json_kostenplaats(made), {"Location": f"/kostenplaatsen/{made.id}"})

    def list_relaties(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        rows = [json_relatie(r) for r in adm.relaties.values()]
        return odata_page("relaties", rows, query_of(request))

    def get_relatie(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        relatie = adm.relaties.get(id)
        return respond(200, json_relatie(relatie)) if relatie else not_found(f"Relatie {id} niet gevonden.")

    def list_verkoopfacturen(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        index = settlements(adm)
        rows = [json_verkoopfactuur(adm, b, index) for b in adm.bookings.values()]
        return odata_page("verkoopfacturen", rows, query_of(request))

    def get_verkoopfactuur(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        for booking in adm.bookings.values():
            if booking.verkoopfactuur_id == id:
                return respond(200, json_verkoopfactuur(adm, booking))
        return not_found(f"Verkoopfactuur {id} niet gevonden.")

    def list_bankboekingen(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        rows = [json_bankboeking(b) for b in adm.bank_bookings.values()]
        return odata_page("bankboekingen", rows, query_of(request))

    def get_bankboeking(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        bank = adm.bank_bookings.get(id)
        return respond(200, json_bankboeking(bank)) if bank else not_found(f"Bankboeking {id} niet gevonden.")

    def get_verkoopboeking(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        booking = adm.bookings.get(id)
        if booking is None:
            return not_found(f"Verkoopboeking {id} niet gevonden.")
        return respond(200, json_verkoopboeking(adm, booking))

    # -------------------------------------------------------------------------------------- verkoopboeking

    def post_verkoopboeking(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        result = self._bind_booking(adm, body, existing=None)
        if isinstance(result, httpx.Response):
            return result
        adm.bookings[result.id] = result
        return respond(201, json_verkoopboeking(adm, result), {"Location": f"/verkoopboekingen/{result.id}"})

    def put_verkoopboeking(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        existing = adm.bookings.get(id)
        if existing is None:
            return not_found(f"Verkoopboeking {id} niet gevonden.")
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        result = self._bind_booking(adm, body, existing=existing)
        if isinstance(result, httpx.Response):
            return result
        adm.bookings[id] = result
        return respond(200, json_verkoopboeking(adm, result))

    def delete_verkoopboeking(self, adm: SnelStartAdministration, request: httpx.Request,
                              id: str) -> httpx.Response:
        booking = adm.bookings.get(id)
        if booking is None:
            return not_found(f"Verkoopboeking {id} niet gevonden.")
        if any(line.boeking_id == id for bank in adm.bank_bookings.values() for line in bank.verkoop_regels):
            return business_errors([("BOE-0083", "De boeking kan niet worden verwijderd, omdat er betalingen aan "
                                                 "gekoppeld zijn.")])
        del adm.bookings[id]
        for doc in _documents_of(adm, id):
            del adm.documents[doc.id]
        return respond(200, {})

    def _bind_booking(self, adm: SnelStartAdministration, raw: dict,
                      existing: SnelStartSalesBooking | None) -> SnelStartSalesBooking | httpx.Response:
        data = ci(raw)
        bind = Binder("verkoopBoeking")
        body_id = bind.guid(data.get("id"), "id") if _id_given(data.get("id")) else None
        factuurnummer = bind.string(data, "factuurnummer")
        omschrijving = bind.string(data, "omschrijving") or ""
        boekstuk = bind.string(data, "boekstuk", max_length=limits.BOEKSTUK) or ""
        factuurdatum = bind.stamp(data, "factuurdatum")
        factuurbedrag = bind.money(data, "factuurbedrag")
        betalingstermijn = bind.integer(data, "betalingstermijn", 0, 999)
        klant_id = bind.ref_id(data, "klant")

        raw_lines = data.get("boekingsregels")
        lines: list[dict[str, Any]] = []
        if raw_lines is not None and not isinstance(raw_lines, list):
            bind.problem("boekingsregels", "Cannot deserialize the current JSON object into type 'List'.")
        for n, raw_line in enumerate(raw_lines if isinstance(raw_lines, list) else []):
            field = f"boekingsregels[{n}]"
            if not isinstance(raw_line, dict):
                bind.problem(field, "Error converting value to type 'VerkoopBoekingRegelModel'.")
                continue
            lines.append({
                "grootboek": bind.ref_id(raw_line, "grootboek"),
                "kostenplaats": bind.ref_id(raw_line, "kostenplaats"),
                "bedrag": bind.money(raw_line, "bedrag"),
                "omschrijving": bind.string(raw_line, "omschrijving") or "",
                "btwSoort": bind.enum(raw_line.get("btwsoort"), f"{field}.btwSoort", LINE_SOORTEN,
                                      extra=BTW_ROW_SOORTEN[1:]),
                "soort_given": raw_line.get("btwsoort") is not None,
            })
        raw_btw = data.get("btw")
        btw: list[tuple[str, Decimal]] = []
        if raw_btw is not None and not isinstance(raw_btw, list):
            bind.problem("btw", "Cannot deserialize the current JSON object into type 'List'.")
        for n, raw_row in enumerate(raw_btw if isinstance(raw_btw, list) else []):
            field = f"btw[{n}]"
            if not isinstance(raw_row, dict):
                bind.problem(field, "Error converting value to type 'VerkoopBoekingBtwRegelModel'.")
                continue
            soort = bind.enum(raw_row.get("btwsoort"), f"{field}.btwSoort", BTW_ROW_SOORTEN, extra=LINE_SOORTEN[1:])
            amount = bind.money(raw_row, "btwbedrag")
            if soort is not None:
                btw.append((soort, amount if amount is not None else Decimal("0")))
        if bind.problems:
            return model_state(bind.problems)

        errors: list[tuple[str, str]] = []
        if existing is None and body_id is not None:
            errors.append(("ALG-0100", "Het id moet leeg zijn bij het aanmaken van een nieuw object."))
        if existing is not None and body_id is not None and body_id != existing.id:
            errors.append(("ALG-0101", "Het id in de url komt niet overeen met het id in het object."))
        if not factuurnummer or not factuurnummer.strip():
            errors.append(("BOE-0058", "Het factuurnummer is verplicht."))
        elif not limits.fits(factuurnummer, limits.FACTUURNUMMER):
            errors.append(("BOE-0058", "Het factuurnummer mag maximaal 25 tekens lang zijn."))
        else:
            for other in adm.bookings.values():
                same = other.factuurnummer.strip().casefold() == factuurnummer.strip().casefold()
                if same and (existing is None or other.id != existing.id):
                    errors.append(("BOE-0021", "Het factuurnummer bestaat al."))
                    break
        if klant_id is None:
            errors.append(("BOE-0060", "Er is geen klant opgegeven."))
        else:
            relatie = adm.relaties.get(klant_id)
            if relatie is None:
                errors.append(("BOE-0060", "De opgegeven klant bestaat niet."))
            else:
                if "Klant" not in relatie.relatiesoort:
                    errors.append(("BOE-0060", "De opgegeven relatie is geen klant."))
                if relatie.nonactief:
                    errors.append(("BOE-0054", "De opgegeven relatie is niet actief."))
        if not limits.fits(omschrijving, limits.OMSCHRIJVING) or any(
                not limits.fits(line["omschrijving"], limits.OMSCHRIJVING) for line in lines):
            errors.append(("BOE-0071", "De omschrijving mag maximaal 250 tekens lang zijn."))
        if not lines:
            errors.append(("BOE-0023", "Een verkoopboeking moet minimaal één boekingsregel hebben."))

        line_soorten: list[str] = []
        for line in lines:
            ledger = adm.ledgers.get(line["grootboek"]) if line["grootboek"] else None
            if ledger is None:
                errors.append(("BOE-0089", "Het opgegeven grootboek bestaat niet."))
            elif ledger.nonactief:
                errors.append(("BOE-0008", f"Grootboek {ledger.nummer} is niet actief."))
            errors += _kostenplaats_errors(adm, ledger, line["kostenplaats"])
            if line["bedrag"] is None or line["bedrag"] == 0:
                errors.append(("BOE-0028", "Een boekingsregel mag geen bedrag van 0 hebben."))
            soort = line["btwSoort"]
            if soort is None and ledger is not None:
                # "Mag leeg worden gelaten": the ledger's own VAT kind is used.
                soort = ledger.btw_soorten[0] if ledger.btw_soorten else "Geen"
            line["btwSoort"] = soort or "Geen"
            if soort is not None and soort not in LINE_SOORTEN:
                errors.append(("BOE-0082", f"De btw-soort '{soort}' is niet geldig voor een boekingsregel."))
            elif ledger is not None and soort not in ledger.btw_soorten:
                errors.append(("BOE-0082", f"De btw-soort '{soort}' past niet bij grootboek {ledger.nummer}."))
            line_soorten.append(line["btwSoort"])

        row_soorten = [soort for soort, _ in btw]
        for soort in row_soorten:
            if soort.startswith("Inkopen"):
                errors.append(("BOE-0069", f"De btw-soort '{soort}' is niet geldig voor een verkoopboeking."))
            elif soort in LINE_SOORTEN[1:]:
                errors.append(("BOE-0082", f"De btw-soort '{soort}' is niet geldig voor een btw-regel."))
        for soort in dict.fromkeys(line_soorten):
            if soort in ("Laag", "Hoog", "Overig") and f"Verkopen{soort}" not in row_soorten:
                errors.append(("BOE-0069", f"Er ontbreekt een btw-regel Verkopen{soort}."))
        if "VerkopenVerlegd" in row_soorten and (
            any(s not in ("Geen", "VerkopenVerlegd") for s in row_soorten)
            or any(s != "Geen" for s in line_soorten)
        ):
            errors.append(("BOE-0062", "Verlegde btw kan niet gecombineerd worden met andere btw-soorten."))

        total = sum((line["bedrag"] or Decimal(0) for line in lines), Decimal(0)) + sum(
            (amount for _, amount in btw), Decimal(0))
        if lines and total != (factuurbedrag if factuurbedrag is not None else Decimal(0)):
            errors.append(("BOE-0039", f"De boeking is niet in balans (verschil "
                                       f"{cents(total - (factuurbedrag or Decimal(0)))})."))
        if errors:
            return business_errors(errors)

        return SnelStartSalesBooking(
            id=existing.id if existing else new_guid(),
            factuurnummer=(factuurnummer or "").strip(),
            factuurdatum=factuurdatum or _now(self.clock).date(),
            klant_id=klant_id or "",
            factuurbedrag=cents(factuurbedrag or Decimal(0)),
            betalingstermijn=betalingstermijn if betalingstermijn is not None else DEFAULT_BETALINGSTERMIJN,
            boekingsregels=[
                SnelStartBookingLine(grootboek_id=line["grootboek"], bedrag=cents(line["bedrag"]),
                                     btw_soort=line["btwSoort"], omschrijving=line["omschrijving"],
                                     kostenplaats_id=line["kostenplaats"])
                for line in lines
            ],
            btw=[(soort, cents(amount)) for soort, amount in btw],
            omschrijving=omschrijving,
            boekstuk=boekstuk,
            verkoopfactuur_id=existing.verkoopfactuur_id if existing else new_guid(),
            modified_on=_now(self.clock),
        )

    # ---------------------------------------------------------------------------------------------- relaties

    def post_relatie(self, adm: SnelStartAdministration, request: httpx.Request) -> httpx.Response:
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        result = self._bind_relatie(adm, body, existing=None)
        if isinstance(result, httpx.Response):
            return result
        adm.relaties[result.id] = result
        return respond(201, json_relatie(result, write_model=True), {"Location": f"/relaties/{result.id}"})

    def put_relatie(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        existing = adm.relaties.get(id)
        if existing is None:
            return not_found(f"Relatie {id} niet gevonden.")
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        result = self._bind_relatie(adm, body, existing=existing)
        if isinstance(result, httpx.Response):
            return result
        adm.relaties[id] = result
        return respond(200, json_relatie(result, write_model=True))

    def _bind_relatie(self, adm: SnelStartAdministration, raw: dict,
                      existing: SnelStartRelatie | None) -> SnelStartRelatie | httpx.Response:
        data = ci(raw)
        bind = Binder("relatie")
        body_id = bind.guid(data.get("id"), "id") if _id_given(data.get("id")) else None
        naam = bind.string(data, "naam", max_length=limits.RELATIE_NAAM)
        relatiecode = bind.integer(data, "relatiecode", -(2**31), 2**31 - 1)
        email = bind.string(data, "email", max_length=limits.EMAIL) or ""
        btw_nummer = (bind.string(data, "btwNummer") or "").replace(" ", "").replace(".", "").upper()
        kvk = bind.string(data, "kvkNummer", max_length=limits.KVK_NUMMER) or ""
        for field, limit in (("websiteUrl", limits.WEBSITE_URL), ("iban", limits.IBAN), ("bic", limits.BIC),
                             ("oin", limits.OIN), ("telefoon", limits.TELEFOON)):
            bind.string(data, field, max_length=limit)
        bind.integer(data, "krediettermijn", -365, 1000)
        nonactief = bind.boolean(data, "nonactief")
        raw_soort = data.get("relatiesoort")
        soorten: list[str] = []
        for value in raw_soort if isinstance(raw_soort, list) else ([] if raw_soort is None else [raw_soort]):
            for name in ("Klant", "Leverancier", "Eigen"):
                if isinstance(value, str) and value.lower() == name.lower():
                    soorten.append(name)
                    break
            else:
                bind.problem("relatiesoort", f"Error converting value {json.dumps(str(value))} to type "
                                             "'RelatiesoortModel'.")
        adres = data.get("vestigingsadres") if isinstance(data.get("vestigingsadres"), dict) else {}
        straat = bind.string(adres, "straat") or ""
        postcode = bind.string(adres, "postcode") or ""
        plaats = bind.string(adres, "plaats") or ""
        if bind.problems:
            return model_state(bind.problems)

        errors: list[tuple[str, str]] = []
        if existing is None and body_id is not None:
            errors.append(("ALG-0100", "Het id moet leeg zijn bij het aanmaken van een nieuw object."))
        if not naam or not naam.strip():
            errors.append(("REL-0007", "De naam van de relatie is verplicht."))
        if "Eigen" in soorten and (existing is None or "Eigen" not in existing.relatiesoort):
            errors.append(("REL-0048", "Relatiesoort 'Eigen' kan niet worden opgegeven."))
        if relatiecode is not None and any(
            r.relatiecode == relatiecode and (existing is None or r.id != existing.id) for r in adm.relaties.values()
        ):
            errors.append(("REL-0008", f"De relatiecode {relatiecode} is al in gebruik."))
        if btw_nummer and not (NL_VAT_RE.fullmatch(btw_nummer) or FOREIGN_VAT_RE.fullmatch(btw_nummer)):
            errors.append(("REL-0088", f"Het btw-nummer '{btw_nummer}' is ongeldig."))
        if any((straat, postcode, plaats)) and not all((straat, postcode, plaats)):
            errors.append(("REL-0060", "Een adres moet een straat, postcode en plaats hebben."))
        if errors:
            return business_errors(errors)

        if relatiecode is None:
            relatiecode = existing.relatiecode if existing else max(
                [r.relatiecode for r in adm.relaties.values()] + [0]) + 1
        return SnelStartRelatie(
            id=existing.id if existing else new_guid(),
            relatiecode=relatiecode,
            naam=(naam or "").strip(),
            relatiesoort=soorten,
            email=email,
            btw_nummer=btw_nummer,
            kvk_nummer=kvk,
            straat=straat,
            postcode=postcode,
            plaats=plaats,
            nonactief=bool(nonactief),
            modified_on=_now(self.clock),
        )

    # --------------------------------------------------------------------------------------------- documents

    def _document_type(self, value: str) -> str | None:
        return next((t for t in DOCUMENT_TYPES if t.lower() == value.lower()), None)

    def _parent_exists(self, adm: SnelStartAdministration, document_type: str, parent_id: str) -> bool:
        if document_type == "Verkoopboekingen":
            return parent_id in adm.bookings
        if document_type == "Relaties":
            return parent_id in adm.relaties
        return False  # the sandbox has no inkoopboekingen

    def post_document(self, adm: SnelStartAdministration, request: httpx.Request, doctype: str) -> httpx.Response:
        document_type = self._document_type(doctype)
        if document_type is None:
            return respond(400, {"Message": f"Het documenttype '{doctype}' is ongeldig."})
        body = _read_body(request)
        if isinstance(body, httpx.Response):
            return body
        data = ci(body)
        bind = Binder("document")
        parent_id = bind.guid(data.get("parentidentifier"), "parentIdentifier")
        file_name = bind.string(data, "fileName")
        read_only = bind.boolean(data, "readOnly")
        raw_content = data.get("content")
        content = b""
        if raw_content is not None:
            try:
                content = base64.b64decode(str(raw_content), validate=True)
            except (binascii.Error, ValueError):
                bind.problem("content", "The input is not a valid Base-64 string.")
        if bind.problems:
            return model_state(bind.problems)
        errors: list[tuple[str, str]] = []
        if not file_name or not file_name.strip():
            errors.append(("BLG-0007", "De bestandsnaam is verplicht."))
        else:
            if any(ch in FORBIDDEN_FILE_CHARS or ord(ch) < 32 for ch in file_name):
                errors.append(("BLG-0016", "De bestandsnaam bevat ongeldige tekens."))
            if not limits.fits(file_name, MAX_FILE_NAME):
                errors.append(("BLG-0017", f"De bestandsnaam mag maximaal {MAX_FILE_NAME} tekens lang zijn."))
        if not content:
            errors.append(("BLG-0008", "Het document is leeg."))
        elif len(content) > MAX_DOCUMENT_BYTES:
            errors.append(("BLG-0006", "Het document is groter dan 10 MB."))
        if errors:
            return business_errors(errors)
        if parent_id is None or not self._parent_exists(adm, document_type, parent_id):
            return not_found(f"Het object {parent_id} waaraan het document gekoppeld moet worden bestaat niet.")
        document = SnelStartDocument(id=new_guid(), parent_id=parent_id, file_name=(file_name or "").strip(),
                                     content=content, read_only=bool(read_only))
        adm.documents[document.id] = document
        if document_type == "Verkoopboekingen":
            adm.bookings[parent_id].modified_on = _now(self.clock)
        # The spec says 200 (a live client reported 201): the spec wins here.
        return respond(200, {"id": document.id, "uri": f"/documenten/{document.id}"})

    def list_documents(self, adm: SnelStartAdministration, request: httpx.Request, doctype: str,
                       pid: str) -> httpx.Response:
        document_type = self._document_type(doctype)
        if document_type is None:
            return respond(400, {"Message": f"Het documenttype '{doctype}' is ongeldig."})
        if not self._parent_exists(adm, document_type, pid):
            return not_found(f"{pid} bestaat niet.")
        parent_key = "verkoopBoekingId" if document_type == "Verkoopboekingen" else "relatieId"
        return respond(200, [
            {parent_key: d.parent_id, "fileName": d.file_name, "readOnly": d.read_only, "id": d.id,
             "uri": f"/documenten/{d.id}"}
            for d in _documents_of(adm, pid)
        ])

    def get_document(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        document = adm.documents.get(id)
        if document is None:
            return not_found(f"Document {id} niet gevonden.")
        return respond(200, {
            "content": base64.b64encode(document.content).decode("ascii"), "parentIdentifier": document.parent_id,
            "fileName": document.file_name, "readOnly": document.read_only, "id": document.id,
            "uri": f"/documenten/{document.id}",
        })

    def delete_document(self, adm: SnelStartAdministration, request: httpx.Request, id: str) -> httpx.Response:
        document = adm.documents.get(id)
        if document is None:
            return not_found(f"Document {id} niet gevonden.")
        del adm.documents[id]
        return respond(200, {})


def _read_body(request: httpx.Request) -> dict | httpx.Response:
    """The JSON object in a write, or the answer to give when there is none."""
    raw = request.content
    if not raw or not raw.strip():
        return business_errors([("ALG-0106", "Er is geen object meegegeven.")])
    try:
        body = json.loads(raw, parse_float=Decimal)
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError (which has no `msg`)
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return model_state({"model": [f"Unexpected character encountered while parsing value: {why}."]})
    if body is None:
        return business_errors([("ALG-0106", "Er is geen object meegegeven.")])
    if not isinstance(body, dict):
        return model_state({"model": ["Cannot deserialize the current JSON array into an object."]})
    return body
