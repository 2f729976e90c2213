"""JSON that writes a `Decimal` with exactly its digits, never through float: the one encoder of request bodies.

`json.dumps` cannot do this (its `default` may return only what it already knows how to write, and a float loses
cents), so the few JSON types are written here by hand. What differs per service stays with its client, as the
`default` conversion of values JSON has no type for (dates, ids, filters): `default(value)` returns something this
encoder can write, or raises `TypeError`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any


def dumps(
    value: Any,
    *,
    default: Callable[[Any], Any] | None = None,
    ensure_ascii: bool = True,
    floats: bool = False,
) -> str:
    """`value` as compact JSON text (no spaces).

    - `Decimal` as a number literal with exactly its digits (`Decimal("0.10")` → `0.10`, `Decimal("1E+2")` →
      `100`); NaN and infinities are a `ValueError`.
    - `float` only with `floats=True` (written as `repr` gives it); otherwise a `TypeError`: money is Decimal.
    - strings through `json.dumps`, escaping non-ASCII characters unless `ensure_ascii=False`. Keys are always
      written ASCII-escaped: both services' field names are ASCII, and this is how both clients wrote them.
    - mappings (keys as `str(key)`) and lists or tuples recursively; anything else through `default`.
    """

    def encode(value: Any) -> str:
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=ensure_ascii)
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"not a finite number: {value!r}")
            return format(value, "f")
        if isinstance(value, int):
            return str(int(value))  # an IntEnum as its number
        if isinstance(value, float):
            if not floats:
                raise TypeError("money is Decimal, never float")
            if not math.isfinite(value):
                raise ValueError(f"not a finite number: {value!r}")
            return repr(value)
        if isinstance(value, Mapping):
            return "{" + ",".join(f"{json.dumps(str(k))}:{encode(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list | tuple):
            return "[" + ",".join(encode(v) for v in value) + "]"
        if default is not None:
            converted = default(value)
            if converted is not value:
                return encode(converted)
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    return encode(value)
