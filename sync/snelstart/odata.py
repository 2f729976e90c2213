"""Building SnelStart `$filter` expressions safely.

SnelStart's OData layer speaks the v3 literal syntax (`guid'…'`, `datetime'…'`), with case-sensitive
PascalCase property names (`Factuurnummer`, `Relatiecode`, `Relatie/Id`). Every value goes through `literal`,
so a name like `O'Brien & Zn` can never end the string early and change the filter.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal

from sync.core.dates import AMSTERDAM

_PROPERTY_RE = re.compile(r"[A-Z][A-Za-z0-9_]*(/[A-Z][A-Za-z0-9_]*)*")
_OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le")


class Guid(str):
    """A string that is a GUID: rendered as `guid'…'` rather than as a string literal."""

    def __new__(cls, value: str | uuid.UUID) -> Guid:
        return super().__new__(cls, str(uuid.UUID(str(value))))  # raises ValueError when it is not a GUID


def literal(value: object) -> str:
    """An OData v3 literal for `value`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Guid | uuid.UUID):
        return f"guid'{uuid.UUID(str(value))}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        # Both services speak Amsterdam wall-clock time; SnelStart's timestamps carry no zone.
        moment = value.astimezone(AMSTERDAM).replace(tzinfo=None) if value.tzinfo else value
        text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
        return f"datetime'{text}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite amount: {value!r}")
        # v3 decimal literal: a bare `1.50` is an Edm.Double, which the OData layer refuses to compare with the
        # Edm.Decimal money properties.
        return f"{value:f}M"
    raise TypeError(f"no OData literal for {type(value).__name__} (money is Decimal, never float)")


def _property(name: str) -> str:
    if not _PROPERTY_RE.fullmatch(name):
        raise ValueError(f"not a SnelStart property path (PascalCase, '/'-separated): {name!r}")
    return name


def compare(prop: str, operator: str, value: object) -> str:
    if operator not in _OPERATORS:
        raise ValueError(f"unknown OData operator {operator!r}")
    return f"{_property(prop)} {operator} {literal(value)}"


def eq(prop: str, value: object) -> str:
    return compare(prop, "eq", value)


def ne(prop: str, value: object) -> str:
    return compare(prop, "ne", value)


def gt(prop: str, value: object) -> str:
    return compare(prop, "gt", value)


def ge(prop: str, value: object) -> str:
    return compare(prop, "ge", value)


def lt(prop: str, value: object) -> str:
    return compare(prop, "lt", value)


def le(prop: str, value: object) -> str:
    return compare(prop, "le", value)


def _join(operator: str, clauses: tuple[str, ...]) -> str:
    parts = [c for c in clauses if c]
    if not parts:
        raise ValueError(f"{operator}: no clauses")
    if len(parts) == 1:
        return parts[0]
    return f" {operator} ".join(f"({c})" for c in parts)


def and_(*clauses: str) -> str:
    return _join("and", clauses)


def or_(*clauses: str) -> str:
    return _join("or", clauses)


def any_eq(collection: str, value: object) -> str:
    """`Relatiesoort/any(x:x eq 'Klant')`: a collection property containing `value`."""
    return f"{_property(collection)}/any(x:x eq {literal(value)})"
