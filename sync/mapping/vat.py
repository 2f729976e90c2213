"""SnelStart VAT kinds: their vocabularies and their percentage on a date.

SnelStart speaks two VAT vocabularies and swapping them is BOE-0082:

- a booking *line* (`boekingsregels[].btwSoort`) and a ledger's accepted kinds use Geen | Laag | Hoog | Overig;
- the booking's *VAT rows* (`btw[].btwSoort`) use the sales names VerkopenHoog | VerkopenLaag | VerkopenOverig |
  VerkopenVerlegd (and Geen, which we never send: a Geen line has no VAT row).

A Gripp VAT rate is mapped to one of five *mapping kinds*: the four line kinds plus Verlegd (reverse charge).
Verlegd is not a SnelStart kind: it books as a Geen line plus a VerkopenVerlegd row of 0.

The percentage behind a kind changes over time (Laag was 6 % until 2018-12-31 and 9 % from 2019-01-01), and
`GET /btwtarieven` returns that history, so a kind is always looked up *on the invoice date*.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sync.core.money import to_decimal
from sync.mapping.types import SnelStartVatRateInfo

HOOG, LAAG, OVERIG, GEEN, VERLEGD = "Hoog", "Laag", "Overig", "Geen", "Verlegd"

# Also the order of booking lines and VAT rows in a body, so bodies are stable.
MAPPING_KINDS: tuple[str, ...] = (HOOG, LAAG, OVERIG, GEEN, VERLEGD)

# Kinds whose percentage is fixed at 0 by definition (SnelStart has no btwtarief row for Verlegd).
ZERO_KINDS = frozenset({GEEN, VERLEGD})

# Mapping kind → `boekingsregels[].btwSoort` (and what the ledger must accept).
LINE_KIND: dict[str, str] = {HOOG: HOOG, LAAG: LAAG, OVERIG: OVERIG, GEEN: GEEN, VERLEGD: GEEN}

# Mapping kind → `btw[].btwSoort`. Geen has no row: there is no VAT to declare on it.
SALES_VAT_ROW: dict[str, str] = {
    HOOG: "VerkopenHoog",
    LAAG: "VerkopenLaag",
    OVERIG: "VerkopenOverig",
    VERLEGD: "VerkopenVerlegd",
}

_BY_LOWER = {k.lower(): k for k in MAPPING_KINDS}


def normalize_kind(kind: str | None) -> str | None:
    """The canonical spelling of a mapping kind ("hoog " → "Hoog"), or None when it is not one.

    Mappings are typed by people and Gripp's own "code" column is lower-case (hoog/laag/overig), so accept any
    case; anything else is not a kind SnelStart knows (BOE-0069).
    """
    if not isinstance(kind, str):
        return None
    return _BY_LOWER.get(kind.strip().lower())


def vat_kind_on(rates: Iterable[SnelStartVatRateInfo], kind: str, on: date) -> Decimal | None:
    """SnelStart's percentage for `kind` on `on`, or None when SnelStart has no rate for it that day.

    Geen and Verlegd are 0 % by definition. If periods overlap (they should not), the one that started last
    wins: it is the more specific.
    """
    canonical = normalize_kind(kind)
    if canonical is None:
        return None
    if canonical in ZERO_KINDS:
        return Decimal(0)
    best: SnelStartVatRateInfo | None = None
    for rate in rates:
        if normalize_kind(rate.kind) != canonical or not rate.valid_from <= on <= rate.valid_to:
            continue
        if best is None or rate.valid_from > best.valid_from:
            best = rate
    # DuckDB rows and JSON may hand over a float or a string; the rest of the mapping compares Decimals.
    return None if best is None else to_decimal(best.percentage)


def suggest_vat_kind(
    rates: Iterable[SnelStartVatRateInfo], percentage: Decimal, on: date, reverse_charge: bool = False
) -> str | None:
    """The mapping kind a Gripp VAT rate of `percentage` most likely is, on `on`; None when nothing fits.

    Used to pre-fill the VAT mapping screen. Reverse charge is Verlegd (only at 0 %). 0 % is Geen even where
    Overig also happens to be 0 %, because Geen needs no VAT row. Otherwise the kind whose SnelStart
    percentage on that date equals it, preferring Hoog, then Laag, then Overig.
    """
    if reverse_charge:
        return VERLEGD if percentage == 0 else None
    if percentage == 0:
        return GEEN
    rates = tuple(rates)
    for kind in (HOOG, LAAG, OVERIG):
        found = vat_kind_on(rates, kind, on)
        if found is not None and found == percentage:
            return kind
    return None
