"""Money is Decimal, rounded half-up to cents at defined points; never float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Euros with a decimal point or comma and at most two decimals; no grouping, no sign. `250.000` is refused, not read
# as 250 euros: a Dutch reader writes a quarter million that way.
_TYPED = re.compile(r"\d{1,20}(?:[.,]\d{1,2})?")


def typed_amount(text: str) -> Decimal | None:
    """An amount a person typed (`250000`, `250000,50` or `250000.50`), or None when it is not one; how large it
    may be is the caller's to judge, in its own words."""
    raw = text.strip()
    return Decimal(raw.replace(",", ".")) if _TYPED.fullmatch(raw) else None


def to_decimal(value: object) -> Decimal:
    """Parse money given as a string, int or Decimal (Gripp sends both strings and numbers).

    A JSON float is converted through its shortest repr, so 12.1 becomes Decimal('12.1'), never
    12.0999999…; callers parse JSON with `parse_float=Decimal` where they can.
    """
    if value is None or value == "":
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(float(value)))  # float(): numpy scalars repr as "np.float64(…)"
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def cents(value: Decimal) -> Decimal:
    """Round half-up to whole cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def has_sub_cents(value: Decimal) -> bool:
    return value != value.quantize(CENT)
