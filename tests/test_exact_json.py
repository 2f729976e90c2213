"""The one exact-Decimal JSON encoder (`sync.core.exact_json`) and the two clients' bodies made with it.

The two clients each had their own encoder; `_gripp_before` and `_snelstart_before` are those encoders as they were,
kept here so the bodies the clients send are shown to be byte for byte the same as before.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.core import exact_json
from sync.core.dates import AMSTERDAM
from sync.gripp import client as gripp
from sync.gripp.filters import Filter, wire_value
from sync.snelstart import client as snelstart


def _gripp_before(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value!r} to Gripp")
        return format(value, "f")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot send {value!r} to Gripp")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, date):
        return json.dumps(wire_value(value))
    if isinstance(value, Filter):
        return _gripp_before(value.to_json())
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_gripp_before(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_gripp_before(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} for Gripp")


def _snelstart_before(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        return f"{value:f}"
    if isinstance(value, float):
        raise TypeError("money is Decimal, never float")
    if isinstance(value, datetime):
        return json.dumps(value.replace(tzinfo=None).isoformat(timespec="seconds"))
    if isinstance(value, date):
        return json.dumps(f"{value.isoformat()}T00:00:00")
    if isinstance(value, uuid.UUID):
        return json.dumps(str(value))
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_snelstart_before(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_snelstart_before(v) for v in value) + "]"
    raise TypeError(f"cannot send {type(value).__name__} to SnelStart")


AMOUNTS = [Decimal("0.10"), Decimal("-1234.5"), Decimal("1E+2"), Decimal("121.00"), Decimal("0"), Decimal("-0.00"),
           Decimal("1E-7"), Decimal("12345678901234567890.123456789")]
TEXTS = ["Café Zoë — €1.234,50 ✓", 'quote " and \\ backslash', "tab\there\nnew line", "日本語", "\U0001f9fe", ""]


def _gripp_body() -> list[dict[str, Any]]:
    return [
        {"method": "invoice.create", "id": 1, "params": [{
            "company": 12, "date": date(2025, 3, 20), "reportdate": datetime(2025, 7, 1, 10, 0, tzinfo=AMSTERDAM),
            "naive": datetime(2025, 1, 2, 3, 4, 5), "utc": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
            "amounts": AMOUNTS, "texts": TEXTS, "sleutel_é": "ünïcode key", "flags": [True, False, None],
            "nested": {"lines": [{"amount": Decimal("0.10"), "qty": 3, "rate": 0.21}, ()], "empty": {}},
            "pair": (Decimal("-1234.5"), "x"),
        }]},
        {"method": "invoice.get", "id": 2, "params": [
            [Filter("invoice.id", "in", (1, 2)),
             Filter("invoice.date", "between", date(2025, 1, 1), date(2025, 12, 31))],
            {"paging": {"firstresult": 0, "maxresults": 250}},
        ]},
    ]


def _snelstart_body() -> dict[str, Any]:
    return {
        "factuurnummer": "F2025-0001", "factuurdatum": date(2025, 3, 14), "vervaldatum": date(2025, 4, 13),
        "modifiedOn": datetime(2025, 3, 14, 9, 30, 15, 123456, tzinfo=AMSTERDAM),
        "naive": datetime(2025, 3, 14, 9, 30, 15), "klant": {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
        "omschrijving": TEXTS[0], "texts": TEXTS, "sleutel_é": "ünïcode key", "factuurbedrag": Decimal("-1234.5"),
        "boekingsregels": [{"omschrijving": "Regel ☃", "bedrag": amount, "btwSoort": "Hoog", "extra": None}
                           for amount in AMOUNTS],
        "btw": [{"btwSoort": "Hoog", "btwBedrag": Decimal("0.10")}, ({"nested": [[], [Decimal("1E+2")]]},)],
        "readOnly": False, "count": 3,
    }


def test_the_gripp_body_is_byte_for_byte_what_its_old_encoder_wrote() -> None:
    body = _gripp_body()
    assert gripp.encode_json(body) == _gripp_before(body)
    assert '"sleutel_\\u00e9"' in gripp.encode_json(body) and "\\u20ac" in gripp.encode_json(body)  # ASCII, as before


def test_the_snelstart_body_is_byte_for_byte_what_its_old_encoder_wrote() -> None:
    body = _snelstart_body()
    assert snelstart.encode_json(body) == _snelstart_before(body).encode("utf-8")
    assert "€".encode() in snelstart.encode_json(body)  # text as UTF-8; keys still ASCII-escaped, as before


def _json_trees(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    leaves = (st.none() | st.booleans() | st.integers() | st.text()
              | st.decimals(allow_nan=False, allow_infinity=False) | st.dates())
    return st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                        | st.dictionaries(keys, inner, max_size=4), max_leaves=20)


@given(_json_trees(st.text()))
def test_any_tree_is_encoded_as_both_old_encoders_did(tree: Any) -> None:
    assert gripp.encode_json(tree) == _gripp_before(tree)
    assert snelstart.encode_json(tree) == _snelstart_before(tree).encode("utf-8")


def test_decimals_go_out_with_exactly_their_digits_and_never_through_float() -> None:
    assert exact_json.dumps(AMOUNTS) == "[0.10,-1234.5,100,121.00,0,-0.00,0.0000001,12345678901234567890.123456789]"
    with pytest.raises(ValueError):
        exact_json.dumps({"x": Decimal("NaN")})
    with pytest.raises(ValueError):
        exact_json.dumps([Decimal("Infinity")])
    with pytest.raises(TypeError, match="never float"):
        exact_json.dumps({"x": 1.1})
    assert exact_json.dumps([0.5], floats=True) == "[0.5]"
    with pytest.raises(ValueError):
        exact_json.dumps([math.inf], floats=True)


def test_text_is_escaped_unless_told_otherwise_and_keys_always_are() -> None:
    assert exact_json.dumps({"é": "é"}) == '{"\\u00e9":"\\u00e9"}'
    assert exact_json.dumps({"é": "é"}, ensure_ascii=False) == '{"\\u00e9":"é"}'


def test_values_json_has_no_type_for_go_through_default_or_are_refused() -> None:
    assert exact_json.dumps({"d": date(2025, 1, 2)}, default=lambda v: v.isoformat()) == '{"d":"2025-01-02"}'
    with pytest.raises(TypeError):
        exact_json.dumps({"d": date(2025, 1, 2)})
    with pytest.raises(TypeError):
        exact_json.dumps({1, 2}, default=lambda v: v)  # a default that gives the value back converts nothing
    with pytest.raises(TypeError, match="for Gripp"):
        gripp.encode_json({1, 2})
    with pytest.raises(TypeError, match="to SnelStart"):
        snelstart.encode_json({1, 2})
