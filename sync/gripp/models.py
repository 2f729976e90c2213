"""Gripp rows into typed values: pure parsing, no I/O.

Gripp sends datetimes as PHP DateTime objects, references as `{id, searchname}`, enums as `{id, Dutch label}`
(read by id: `sync.gripp.enums`), money as decimal strings and quantities as JSON numbers (accepted either way).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sync.core.dates import AMSTERDAM, parse_local_datetime
from sync.core.money import to_decimal
from sync.gripp.enums import GROUP, INVOICE_STATUS, INVOICESENDTO, POSTADDRESS, RELATIONTYPE, ROWTYPE

# PHP's timezone_type 2 gives an abbreviation; these are the ones a Dutch account can produce.
_ABBREVIATIONS = {"CET": timedelta(hours=1), "CEST": timedelta(hours=2), "UTC": timedelta(0), "GMT": timedelta(0),
                  "Z": timedelta(0)}


def _zone(obj: dict[str, Any]) -> timezone | ZoneInfo:
    name = str(obj.get("timezone") or "Europe/Amsterdam")
    kind = obj.get("timezone_type", 3)
    if kind == 1:  # an offset like "+01:00"
        sign = -1 if name.startswith("-") else 1
        hours, _, minutes = name.lstrip("+-").partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    if kind == 2 and name.upper() in _ABBREVIATIONS:
        return timezone(_ABBREVIATIONS[name.upper()])
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return AMSTERDAM


def parse_datetime(obj: Any) -> datetime | None:
    """A Gripp DateTime object (or a plain string/datetime) as an aware datetime in Europe/Amsterdam."""
    if obj is None or obj == "":
        return None
    if isinstance(obj, dict):
        text = obj.get("date")
        if not text:
            return None
        local = datetime.fromisoformat(str(text).replace("T", " "))
        if local.tzinfo is None:
            local = local.replace(tzinfo=_zone(obj))
        return local.astimezone(AMSTERDAM)
    if isinstance(obj, datetime):
        return obj.astimezone(AMSTERDAM) if obj.tzinfo else obj.replace(tzinfo=AMSTERDAM)
    if isinstance(obj, date):
        return datetime(obj.year, obj.month, obj.day, tzinfo=AMSTERDAM)
    text = str(obj).strip().replace("T", " ")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        return parsed.astimezone(AMSTERDAM)
    return parse_local_datetime(parsed)


def parse_date(obj: Any) -> date | None:
    """A date field: Gripp sends it as a DateTime at midnight; the Amsterdam calendar day is the date."""
    if isinstance(obj, date) and not isinstance(obj, datetime):
        return obj
    if isinstance(obj, str) and len(obj.strip()) == 10:
        return date.fromisoformat(obj.strip())
    moment = parse_datetime(obj)
    return moment.date() if moment is not None else None


def ref_id(obj: Any) -> int | None:
    """The id of a ManyToOne reference `{id, searchname}` (or a bare id)."""
    if obj is None or obj == "":
        return None
    if isinstance(obj, dict):
        obj = obj.get("id")
        if obj is None or obj == "":
            return None
    if isinstance(obj, bool):
        raise ValueError(f"not a reference id: {obj!r}")
    return int(obj)


def ref_name(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("searchname") or "")
    return ""


def money(obj: Any) -> Decimal:
    return to_decimal(obj)


def text(obj: Any) -> str:
    return "" if obj is None else str(obj)


def opt_int(obj: Any) -> int | None:
    if obj is None or obj == "" or isinstance(obj, bool):
        return None
    return int(obj)


def as_bool(obj: Any) -> bool:
    if isinstance(obj, str):
        return obj.strip().lower() in ("1", "true", "yes")
    return bool(obj)


@dataclass
class InvoiceLine:
    id: int
    amount: Decimal
    sellingprice: Decimal
    discount: Decimal
    vat_id: int | None
    vat_label: str
    ledger_id: int | None
    ledger_label: str
    description: str
    # NORMAL or GROUP (a heading: amount 1, price 0.00, a vat but no ledger), by id; None when Gripp sent a
    # rowtype we do not know — such a line is checked like a normal one, never dropped.
    rowtype: str | None = "NORMAL"
    # The line's kostenplaats (`costheading`, Instellingen > Kostenplaatsen) and project, as references: the
    # kostenplaats's number and the project's come from `costheading.get` / `project.get` (sync.jobs.refresh).
    costheading_id: int | None = None
    costheading_label: str = ""
    project_id: int | None = None
    project_label: str = ""

    @property
    def is_heading(self) -> bool:
        return self.rowtype == GROUP

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> InvoiceLine:
        return cls(
            id=int(row["id"]),
            amount=money(row.get("amount")),
            sellingprice=money(row.get("sellingprice")),
            discount=money(row.get("discount")),
            vat_id=ref_id(row.get("vat")),
            vat_label=ref_name(row.get("vat")),
            ledger_id=ref_id(row.get("ledger")),
            ledger_label=ref_name(row.get("ledger")),
            description=line_text(row),
            rowtype=ROWTYPE.constant(row.get("rowtype")) if row.get("rowtype") is not None else "NORMAL",
            costheading_id=ref_id(row.get("costheading")),
            costheading_label=ref_name(row.get("costheading")),
            project_id=ref_id(row.get("project")),
            project_label=ref_name(row.get("project")),
        )


def line_text(row: dict[str, Any]) -> str:
    """What a line says. On a live account's lines `description` is mostly empty: the text is the product's
    name and `additionalsubject` (flipmoo/begripp's cached project lines, which share the invoice line's shape)."""
    own = text(row.get("description")).strip()
    if own:
        return own
    parts = [ref_name(row.get("product")) if not _is_dummy(row.get("product")) else "",
             text(row.get("additionalsubject")).strip()]
    return " ".join(p for p in parts if p) or text(row.get("searchname")).strip()


def _is_dummy(product: Any) -> bool:
    return isinstance(product, dict) and product.get("discr") == "dummyproduct"  # a heading's placeholder


@dataclass(frozen=True)
class Costheading:
    """A Gripp kostenplaats (`costheading`): `name`, and `number` typed as a string."""

    id: int
    name: str
    number: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Costheading:
        return cls(id=int(row["id"]), name=text(row.get("name") or row.get("searchname")).strip(),
                   number=text(row.get("number")).strip())


@dataclass(frozen=True)
class Project:
    """A Gripp project an invoice line names: `name`, and `number` (an int, read only)."""

    id: int
    name: str
    number: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Project:
        try:
            number = opt_int(row.get("number"))
        except ValueError:  # tolerant: a number Gripp sends as text that is not one is no number
            number = None
        return cls(id=int(row["id"]), name=text(row.get("name") or row.get("searchname")).strip(), number=number)


@dataclass
class Payment:
    id: int
    invoice_id: int | None
    date: date | None
    amount: Decimal
    notes: str
    extendedproperties: str | None
    createdon: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Payment:
        return cls(
            id=int(row["id"]),
            invoice_id=ref_id(row.get("invoice")),
            date=parse_date(row.get("date")),
            amount=money(row.get("amount")),
            notes=text(row.get("notes")),
            extendedproperties=row.get("extendedproperties"),
            createdon=parse_datetime(row.get("createdon")),
        )


def _is_full_row(item: Any) -> bool:
    return isinstance(item, dict) and ("amount" in item or "sellingprice" in item or "date" in item)


@dataclass
class Invoice:
    id: int
    number: str
    identity_id: int | None
    identity_name: str
    company_id: int | None
    company_name: str
    date: dt.date | None  # (the field shadows the type in this class body, hence dt.date)
    expirydate: dt.date | None
    status: str  # the constant (CONCEPT, SENT) found by the enum's id; "" when unknown
    subject: str
    clientreference: str
    totalinclvat: Decimal
    totalexclvat: Decimal  # Gripp's totalincldiscountexclvat: invoice has no plain totalexclvat
    totalopeninclvat: Decimal
    totalpayed: Decimal
    createdon: datetime | None
    updatedon: datetime | None
    directpdfurl: str
    extendedproperties: str | None
    lines: list[InvoiceLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    # False when the row carried only references to its lines/payments (nested full objects are not
    # guaranteed by Gripp's docs): fetch `invoiceline.get` / `payment.get` then.
    children_complete: bool = True

    @property
    def changed_on(self) -> datetime | None:
        """`updatedon` is null on never-edited records; then creation is the last change."""
        return self.updatedon or self.createdon

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Invoice:
        raw_lines = row.get("invoicelines") or []
        raw_payments = row.get("payments") or []
        complete = all(_is_full_row(x) for x in raw_lines) and all(_is_full_row(x) for x in raw_payments)
        net = row.get("totalincldiscountexclvat", row.get("totalexclvat"))
        number = row.get("number")
        return cls(
            id=int(row["id"]),
            number="" if number is None else str(number),
            identity_id=ref_id(row.get("identity")),
            identity_name=ref_name(row.get("identity")),
            company_id=ref_id(row.get("company")),
            company_name=ref_name(row.get("company")),
            date=parse_date(row.get("date")),
            expirydate=parse_date(row.get("expirydate")),
            status=INVOICE_STATUS.constant(row.get("status")) or "",
            subject=text(row.get("subject")),
            clientreference=text(row.get("clientreference")),
            totalinclvat=money(row.get("totalinclvat")),
            totalexclvat=money(net),
            totalopeninclvat=money(row.get("totalopeninclvat")),
            totalpayed=money(row.get("totalpayed")),
            createdon=parse_datetime(row.get("createdon")),
            updatedon=parse_datetime(row.get("updatedon")),
            directpdfurl=text(row.get("directpdfurl")),
            extendedproperties=row.get("extendedproperties"),
            lines=[InvoiceLine.from_row(x) for x in raw_lines if _is_full_row(x)],
            payments=[Payment.from_row(x) for x in raw_payments if _is_full_row(x)],
            children_complete=complete,
        )


@dataclass
class Company:
    id: int
    customernumber: int | None
    companyname: str
    relationtype: str
    vatnumber: str
    cocnumber: str
    email: str
    invoiceemail: str
    street: str
    housenumber: str
    zipcode: str
    city: str
    country: str
    identity_id: int | None
    vatshifted: bool
    createdon: datetime | None
    updatedon: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Company:
        prefix = _address_prefix(row)
        name = text(row.get("companyname")) or _person_name(row) or text(row.get("searchname"))
        return cls(
            id=int(row["id"]),
            customernumber=opt_int(row.get("customernumber")),
            companyname=name,
            relationtype=RELATIONTYPE.constant(row.get("relationtype")) or "COMPANY",
            vatnumber=text(row.get("vatnumber")),
            cocnumber=text(row.get("cocnumber")),
            email=text(row.get("email")),
            invoiceemail=text(row.get("invoiceemail")),
            street=text(row.get(f"{prefix}_street")),
            housenumber=text(row.get(f"{prefix}_streetnumber")),
            zipcode=text(row.get(f"{prefix}_zipcode")),
            city=text(row.get(f"{prefix}_city")),
            country=text(row.get(f"{prefix}_country")),
            identity_id=ref_id(row.get("identity")),
            vatshifted=as_bool(row.get("vatshifted")),
            createdon=parse_datetime(row.get("createdon")),
            updatedon=parse_datetime(row.get("updatedon")),
        )


def _address_prefix(row: dict[str, Any]) -> str:
    """The address the invoice goes to: Gripp's `invoicesendto` picks it."""
    send_to = INVOICESENDTO.constant(row.get("invoicesendto"))
    if send_to == "OTHER" and row.get("invoiceaddress_street"):
        return "invoiceaddress"
    if send_to == "POSTADDRESS" and POSTADDRESS.constant(row.get("postaddress")) == "OTHER" \
            and row.get("postaddress_street"):
        return "postaddress"
    return "visitingaddress"


def _person_name(row: dict[str, Any]) -> str:
    parts = [text(row.get(k)) for k in ("firstname", "infix", "lastname")]
    return " ".join(p for p in parts if p)
