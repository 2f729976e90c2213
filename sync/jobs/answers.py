"""What the engine requires of the services' rows before it trusts them.

A field the money depends on that is missing or unreadable makes the whole answer unreadable (a transient error:
nothing is written on the strength of it, the next run asks again). It is never read as zero: a missing
`openstaandSaldo` read as 0 would register every invoice as paid in Gripp, a missing `totalopeninclvat` would
make Gripp look paid and hide every payment to bring back. Extra fields are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sync.core.dates import parse_date, parse_local_datetime
from sync.core.money import to_decimal
from sync.gripp.errors import GrippResponseError
from sync.gripp.models import Company, Invoice
from sync.snelstart.errors import ResponseFormatError

T = TypeVar("T")
_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, InvalidOperation, OverflowError)

# Gripp invoice fields the cache and the money rules read.
GRIPP_INVOICE_REQUIRED = ("id", "number", "status", "date", "totalinclvat", "totalopeninclvat")
GRIPP_INVOICE_MONEY = ("totalinclvat", "totalopeninclvat", "totalpayed", "totalincldiscountexclvat")
# SnelStart open-item fields the payments and the reconciliation read.
OPEN_ITEM_REQUIRED = ("id", "factuurnummer", "factuurBedrag", "openstaandSaldo")
OPEN_ITEM_MONEY = ("factuurBedrag", "openstaandSaldo")
# Old hand-made bookings may lack these (schakl-app/schakl's sync.py reads both defensively and skips such rows):
# one such row is skipped, it does not make the whole list unreadable — unless it is a booking the link made.
OPEN_ITEM_SKIPPABLE = ("factuurnummer", "factuurBedrag", "openstaandSaldo")


def gripp_invoice(row: Any) -> Invoice:
    """A Gripp `invoice` row, parsed; `GrippResponseError` when it lacks what the money depends on."""
    _require_gripp(row, "invoice", GRIPP_INVOICE_REQUIRED)
    for name in GRIPP_INVOICE_MONEY:
        if name in row:
            _amount(row, name, lambda message: GrippResponseError(_gripp_text(row, "invoice", message)))
    return _parse(lambda: Invoice.from_row(row), lambda message: GrippResponseError(_gripp_text(row, "invoice",
                                                                                                message)))


def gripp_company(row: Any) -> Company:
    _require_gripp(row, "company", ("id",))
    return _parse(lambda: Company.from_row(row), lambda message: GrippResponseError(_gripp_text(row, "company",
                                                                                                message)))


def usable_open_items(items: Iterable[Any], claimed: Callable[[], tuple[set[str], set[str]]]
                      ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(usable rows, skipped rows). A row without a factuurnummer, factuurBedrag or openstaandSaldo is skipped with
    what is known of it — unless it is the link's own (its booking, or the number of one of its Gripp invoices:
    `claimed()`, asked only when a row lacks something), whose money must never be guessed: then the answer is
    unreadable (`ResponseFormatError`), as is any other broken row."""
    usable, skipped = [], []
    ours_known: tuple[set[str], set[str]] | None = None
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            missing = [name for name in OPEN_ITEM_SKIPPABLE if item.get(name) in (None, "")]
            if not missing:
                usable.append(open_item(item))
                continue
            if ours_known is None:
                ours_known = claimed()
            our_bookings, our_numbers = ours_known
            booking = item.get("verkoopBoeking")
            booking_id = booking.get("id") if isinstance(booking, dict) else None
            number = item.get("factuurnummer")
            ours = booking_id in our_bookings or (number not in (None, "") and str(number) in our_numbers)
            if not ours:
                skipped.append({"verkoopfactuur_id": item["id"], "booking_id": booking_id, "missing": missing,
                                "factuurnummer": item.get("factuurnummer"),
                                "factuur_datum": _date_text(item.get("factuurDatum")),
                                "factuur_bedrag": _text(item.get("factuurBedrag")),
                                "openstaand_saldo": _text(item.get("openstaandSaldo"))})
                continue
        usable.append(open_item(item))
    return usable, skipped


def _date_text(value: Any) -> str | None:
    try:
        parsed = parse_date(value)
    except _PARSE_ERRORS:
        return None
    return parsed.isoformat() if parsed else None


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def open_item(item: Any) -> dict[str, Any]:
    def error(message: str) -> ResponseFormatError:
        number = item.get("factuurnummer") if isinstance(item, dict) else None
        return ResponseFormatError(f"open item {number if number is not None else '?'}: {message}",
                                   body=item)

    if not isinstance(item, dict):
        raise error(f"a {type(item).__name__} instead of an object")
    missing = [name for name in OPEN_ITEM_REQUIRED if item.get(name) in (None, "")]
    if missing:
        raise error(f"missing {', '.join(missing)}")
    if not isinstance(item["id"], str):
        raise error(f"id is not a GUID ({item['id']!r})")
    if not isinstance(item["factuurnummer"], str | int) or isinstance(item["factuurnummer"], bool):
        raise error(f"factuurnummer is not text ({item['factuurnummer']!r})")
    for name in OPEN_ITEM_MONEY:
        _amount(item, name, error)
    booking = item.get("verkoopBoeking")
    if booking is not None and not isinstance(booking, dict):
        raise error(f"verkoopBoeking is not an object ({booking!r})")
    _parse(lambda: (parse_date(item.get("factuurDatum")), parse_date(item.get("vervalDatum")),
                    parse_local_datetime(item.get("modifiedOn"))), error)
    return item


# ------------------------------------------------------------------------------------------------ helpers


def _require_gripp(row: Any, what: str, names: tuple[str, ...]) -> None:
    if not isinstance(row, dict):
        raise GrippResponseError(f"{what} as a {type(row).__name__} instead of an object")
    missing = [name for name in names if name not in row]
    if missing:
        raise GrippResponseError(_gripp_text(row, what, f"missing {', '.join(missing)}"))


def _amount(row: dict, name: str, error: Callable[[str], Exception]) -> Decimal:
    value = row.get(name)
    if isinstance(value, bool):
        raise error(f"{name} is not an amount ({value!r})")
    try:
        amount = to_decimal(value)
    except _PARSE_ERRORS:
        raise error(f"{name} is not an amount ({str(value)[:40]!r})") from None
    if not amount.is_finite():
        raise error(f"{name} is not an amount ({value!r})")
    return amount


def _parse(parse: Callable[[], T], error: Callable[[str], Exception]) -> T:
    try:
        return parse()
    except _PARSE_ERRORS as exc:
        raise error(f"unreadable field ({type(exc).__name__}: {str(exc)[:120]})") from None


def _gripp_text(row: Any, what: str, message: str) -> str:
    ident = row.get("id") if isinstance(row, dict) else None
    return f"{what} {ident!r}: {message}" if ident is not None else f"{what}: {message}"
