"""The one formatter for numbers people read: money, counts, percentages, dates and times, in the reader's language.

Built on Babel's CLDR data for `nl_NL` and `en_GB`, so `€ 1.234,56` / `€1,234.56`, `9%`, `28-11-2026` /
`28/11/2026` come out the same in tables, charts, messages, CSV files and the command line. Money is formatted
from `Decimal` (rounded half-up to cents first), never through float formatting; a float that reaches here
(DuckDB hands DECIMAL columns to pandas as doubles) is read through its shortest repr, which gives back the exact
cents DuckDB stored. Times are shown in Amsterdam time.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal, InvalidOperation, localcontext
from typing import SupportsInt

from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent

from sync.core.dates import AMSTERDAM
from sync.core.money import cents, to_decimal

LANGUAGES = ("nl", "en")
DEFAULT_LANG = "nl"
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
EMPTY = "—"
# Decimal's default context holds 28 digits: rounding a larger amount to cents would raise. Only nonsense input is
# that large, and it must still read as an amount (in a problem's text, say), so money is rounded in a wider one.
WIDE_DIGITS = 100


def locale(lang: str | None) -> str:
    return LOCALES.get(lang or DEFAULT_LANG, LOCALES[DEFAULT_LANG])


def _missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return type(value).__name__ in ("NAType", "NaTType")


def decimal_of(value: object) -> Decimal | None:
    """A money value as Decimal, or None for missing values (None, NaN, pandas NA)."""
    if _missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, Decimal):  # a numpy scalar: its Python value first
        value = value.item()
        if _missing(value):
            return None
    return to_decimal(value)


def money(value: object, lang: str = DEFAULT_LANG) -> str:
    """`€ 1.234,56` (nl) / `€1,234.56` (en); negative `€ -1.234,56` / `-€1,234.56`; missing `—`."""
    amount = decimal_of(value)
    if amount is None:
        return EMPTY
    with localcontext(prec=WIDE_DIGITS):
        return _spaces(format_currency(cents(amount), "EUR", locale=locale(lang)))


def grouped_amount(value: object, lang: str = DEFAULT_LANG) -> str:
    """An amount where the column says it is in euros: `1.234,56` (nl) / `1,234.56` (en); missing `—`."""
    amount = decimal_of(value)
    if amount is None:
        return EMPTY
    with localcontext(prec=WIDE_DIGITS):
        return format_decimal(cents(amount), format="#,##0.00", locale=locale(lang))


def plain_amount(value: object, lang: str = DEFAULT_LANG) -> str:
    """An amount for a spreadsheet cell: `1234,56` (nl) / `1234.56` (en), no currency sign or grouping."""
    amount = decimal_of(value)
    if amount is None:
        return ""
    with localcontext(prec=WIDE_DIGITS):
        return format_decimal(cents(amount), format="0.00", locale=locale(lang))


def count(value: SupportsInt | str | None, lang: str = DEFAULT_LANG) -> str:
    """Whole numbers with the reader's grouping: `12.345` (nl) / `12,345` (en); nothing (None, NaN, NA) is 0."""
    if value is None or _missing(value):
        return "0"
    return format_decimal(int(value), locale=locale(lang))


def number(value: object, lang: str = DEFAULT_LANG) -> str:
    """A decimal number as it is, trailing zeros dropped: `6` / `21,5` (nl), `21.5` (en)."""
    amount = decimal_of(value)
    if amount is None:
        return EMPTY
    if not amount.is_finite():
        return str(amount)
    try:
        return format_decimal(amount, format="#,##0.##########", locale=locale(lang))
    except InvalidOperation:  # beyond Babel's precision (only nonsense input gets here): the digits as they are
        return str(amount)


def percent(value: object, lang: str = DEFAULT_LANG) -> str:
    """A percentage given in percent (21 → `21%`, 5.5 → `5,5%` / `5.5%`)."""
    amount = decimal_of(value)
    if amount is None:
        return EMPTY
    if not amount.is_finite():
        return str(amount)
    try:
        return format_percent(amount / 100, format="#,##0.##%", locale=locale(lang))
    except InvalidOperation:  # beyond Babel's precision (only nonsense input gets here)
        return f"{amount}%"


def _spaces(text: str) -> str:
    """CLDR puts no-break spaces in some patterns; plain spaces read the same and search and compare simply."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def _as_date(value: object) -> date | datetime | None:
    if _missing(value):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    if not text:
        return None
    return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)


def local(value: datetime) -> datetime:
    """A moment in Amsterdam time (zone-less values are taken as Amsterdam time already)."""
    return value.astimezone(AMSTERDAM) if value.tzinfo else value


def day(value: object, lang: str = DEFAULT_LANG) -> str:
    """`28-11-2026` (nl) / `28/11/2026` (en); missing `—`. A moment is read in Amsterdam time first."""
    found = _as_date(value)
    if found is None:
        return EMPTY
    if isinstance(found, datetime):
        found = local(found).date()
    return format_date(found, "short", locale=locale(lang))


def moment(value: object, lang: str = DEFAULT_LANG) -> str:
    """A date with the time of day, in Amsterdam time: `28-11-2026 14:05` / `28/11/2026 14:05`."""
    found = _as_date(value)
    if found is None:
        return EMPTY
    if not isinstance(found, datetime):
        return day(found, lang)
    found = local(found)
    return f"{day(found.date(), lang)} {format_datetime(found, 'HH:mm', locale=locale(lang))}"


def clock(value: datetime, lang: str = DEFAULT_LANG) -> str:
    """The time of day only: `14:05`."""
    return format_datetime(local(value), "HH:mm", locale=locale(lang))


def csv_moment(value: object) -> str:
    """A moment for a CSV cell: Amsterdam time to the second, `2026-11-28 14:05:09` (sorts, and Excel reads it)."""
    found = _as_date(value)
    if found is None:
        return ""
    if not isinstance(found, datetime):
        return found.isoformat()
    return local(found).strftime("%Y-%m-%d %H:%M:%S")


def plural(n: int, one: str, many: str, lang: str = DEFAULT_LANG) -> str:
    """`1 factuur`, `2 facturen`, with the count in the reader's grouping."""
    return f"{count(n, lang)} {one if n == 1 else many}"


def listing(items: list[str], lang: str = DEFAULT_LANG) -> str:
    """`a, b en c` / `a, b and c` (CLDR's list patterns)."""
    return format_list(items, locale=locale(lang)) if items else ""


def sentence(text: str) -> str:
    """End a sentence with one full stop: a name that ends in one (`Studio Noord B.V.`) gets no second."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."
