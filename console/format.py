"""Money and dates the way people read them: `€ 1.234,56` and `28-11-2026` in Dutch, `€1,234.56` and
`28 Nov 2026` in English.

Money is formatted from `Decimal` digit by digit, never through float formatting. A float that reaches the
console (DuckDB hands DECIMAL columns to pandas as doubles) is read through its shortest repr first, which gives
back the exact cents DuckDB stored.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

from sync.dates import AMSTERDAM
from sync.money import cents, to_decimal

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EMPTY = "—"


def decimal_of(value: object) -> Decimal | None:
    """A money value as Decimal, or None for missing values (None, NaN, pandas NA)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item") and not isinstance(value, Decimal):  # a numpy scalar: its Python value first
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return to_decimal(value)


def money(value: object, lang: str = "nl") -> str:
    """`€ 1.234,56` (nl) / `€1,234.56` (en); negative as `€ -1.234,56` / `-€1,234.56`; missing as `—`."""
    amount = decimal_of(value)
    if amount is None:
        return EMPTY
    amount = cents(amount)
    negative = amount < 0
    units, _, fraction = f"{abs(amount):f}".partition(".")
    fraction = (fraction + "00")[:2]
    groups = []
    while len(units) > 3:
        groups.insert(0, units[-3:])
        units = units[:-3]
    groups.insert(0, units)
    if lang == "en":
        text = f"€{','.join(groups)}.{fraction}"
        return f"-{text}" if negative else text
    number = f"{'.'.join(groups)},{fraction}"
    return f"€ -{number}" if negative else f"€ {number}"


def plain_amount(value: object, lang: str = "nl") -> str:
    """An amount for a CSV file: `1234,56` (nl) / `1234.56` (en), no currency sign or grouping."""
    amount = decimal_of(value)
    if amount is None:
        return ""
    text = f"{cents(amount):f}"
    return text.replace(".", ",") if lang != "en" else text


def _as_date(value: object) -> date | datetime | None:
    if value is None:
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    if not text:
        return None
    return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)


def day(value: object, lang: str = "nl") -> str:
    """`28-11-2026` (nl) / `28 Nov 2026` (en); missing as `—`."""
    found = _as_date(value)
    if found is None:
        return EMPTY
    if isinstance(found, datetime):
        found = _local(found).date()
    if lang == "en":
        return f"{found.day} {MONTHS_EN[found.month - 1]} {found.year}"
    return f"{found.day:02d}-{found.month:02d}-{found.year}"


def moment(value: object, lang: str = "nl") -> str:
    """A date with the time of day (Amsterdam): `28-11-2026 14:05` / `28 Nov 2026 14:05`."""
    found = _as_date(value)
    if found is None:
        return EMPTY
    if not isinstance(found, datetime):
        return day(found, lang)
    found = _local(found)
    return f"{day(found.date(), lang)} {found:%H:%M}"


def _local(value: datetime) -> datetime:
    return value.astimezone(AMSTERDAM) if value.tzinfo else value


def count(value: object, lang: str = "nl") -> str:
    """Whole numbers with a thousands separator: `12.345` (nl) / `12,345` (en)."""
    if value is None:
        return "0"
    text = f"{int(value):,}"
    return text.replace(",", ".") if lang != "en" else text
