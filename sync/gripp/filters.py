"""Filters and orderings for `get`/`getone`, checked before anything is sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sync.core.dates import AMSTERDAM
from sync.gripp.constants import DIRECTIONS, LIST_OPERATORS, NULL_OPERATORS, OPERATORS


def wire_value(value: Any) -> Any:
    """Dates go out as 'Y-m-d', datetimes as Amsterdam 'Y-m-d H:i:s' (the formats Gripp accepts)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [wire_value(v) for v in value]
    if isinstance(value, Mapping):
        return {k: wire_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Filter:
    """One `{"field","operator","value"[,"value2"]}`; filters in a list are ANDed (Gripp has no OR)."""

    field: str
    operator: str
    value: Any = ""
    value2: Any = None

    def __post_init__(self) -> None:
        entity, dot, name = self.field.partition(".")
        if not (entity and dot and name):
            raise ValueError(f"Gripp filter fields are qualified as entity.field, got {self.field!r}")
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown Gripp filter operator {self.operator!r}; use one of {sorted(OPERATORS)}")
        if self.operator == "between" and (self.value2 is None or self.value is None):
            raise ValueError("the 'between' operator needs both value and value2")
        if self.operator in LIST_OPERATORS and not isinstance(self.value, list | tuple | set | frozenset):
            raise ValueError(f"the {self.operator!r} operator needs a list of values")
        if self.operator in NULL_OPERATORS:
            # Gripp wants "value": "" here; anything else is noise.
            object.__setattr__(self, "value", "")

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, set | frozenset):
            value = sorted(value)
        out = {"field": self.field, "operator": self.operator, "value": wire_value(value)}
        if self.operator == "between":
            out["value2"] = wire_value(self.value2)
        return out


FilterLike = Filter | Mapping[str, Any]
OrderingLike = tuple[str, str] | Mapping[str, str]


def as_filter(item: FilterLike) -> Filter:
    if isinstance(item, Filter):
        return item
    return Filter(str(item["field"]), str(item["operator"]), item.get("value", ""), item.get("value2"))


def filters_json(filters: Iterable[FilterLike]) -> list[dict[str, Any]]:
    return [as_filter(f).to_json() for f in filters]


def orderings_json(orderings: Sequence[OrderingLike]) -> list[dict[str, str]]:
    out = []
    for item in orderings:
        field, direction = (item["field"], item["direction"]) if isinstance(item, Mapping) else item
        direction = direction.lower()
        if direction not in DIRECTIONS:
            raise ValueError(f"ordering direction must be 'asc' or 'desc', got {direction!r}")
        out.append({"field": field, "direction": direction})
    return out
