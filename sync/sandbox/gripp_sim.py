"""A simulator of Gripp API v3 over the sandbox world, as close to the real service as the reference allows.

What it reproduces (../shared/reference/gripp-api.md): one POST endpoint taking a JSON array of calls and
answering an array matched by `id`, every element with `id`, `thread`, `result`, `error`; `text/html`
content type; the bad-key answer (HTTP 200, one id-less element, 1009); paging rules and error 1007; the 12
filter operators on qualified fields, ANDed; rows shaped like real ones (DateTime objects, `{id, searchname}`
references and enums, money as decimal strings, null `updatedon` on never-edited records, nested lines and
payments); strict input types; batches as one transaction; the hourly quota (429) and the burst bucket (503 +
Retry-After, 1004) on an injected clock; `X-RateLimit-*` headers on every answer. Things the reference marks
uncertain are marked [UNCERTAIN] where they are decided.

Not modelled: API roles and rights, custom fields, tags, products, writes to `costheading` and `project` (read only
here), other entities (offer, file, webhook, ...), extra methods (markAsSent, getViewonlineUrl, getCompanyByCOC,
file.getContent), a real online viewer.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, NamedTuple

import httpx

from sync.core.dates import AMSTERDAM
from sync.gripp.constants import (
    AUTH_MESSAGE,
    BURST_CAPACITY,
    BURST_REFILL_PER_SECOND,
    ERROR_AUTH,
    ERROR_PAGING,
    ERROR_QUOTA,
    ERROR_THROTTLED,
    ERROR_UNKNOWN_METHOD,
    HOURLY_QUOTA,
    LIST_OPERATORS,
    MAX_PAGE_SIZE,
    OPERATORS,
    PAGING_MESSAGE,
    QUOTA_MESSAGE,
    READ_ACTIONS,
    TIMEZONE,
)
from sync.sandbox.pdf import render_invoice_pdf
from sync.sandbox.world import (
    GrippAccount,
    GrippCompany,
    GrippCostheading,
    GrippInvoice,
    GrippInvoiceLine,
    GrippLedger,
    GrippPayment,
    GrippProject,
    World,
)

API_SUBPATH = "public/api3.php"
# [UNCERTAIN] codes other than 1004/1007/1009 were never observed; these are the simulator's own.
ERROR_BAD_REQUEST = 1002  # malformed call, params, filters or options
ERROR_VALIDATION = 1003  # a field has the wrong type, is read-only, unknown or missing; a record is not found
HTML = "text/html; charset=utf-8"

# Enums go out as {id, searchname} where searchname is the Dutch LABEL a user sees, never the constant; the id is
# the constant's place in the metadata's `values` list, from 1. Seen in rows of a live account (flipmoo/begripp
# src/db/database.sqlite): rowtype 1 "NORMAAL" / 2 "GROEPLABEL", hour status 1 "Concept" / 2 "Definitief" /
# 3 "Gefiatteerd"; Codebes-NL/gripp-sdk filters hour.status on ids 2 and 3. The labels below other than rowtype's
# are [UNCERTAIN]: the Dutch words Gripp's screens use, never seen in an API answer.
ENUM_LABELS: dict[str, tuple[tuple[str, str], ...]] = {
    "status": (("CONCEPT", "Concept"), ("SENT", "Verzonden")),
    "paymentmethod": (("MANUALTRANSFER", "Handmatige overboeking"), ("AUTOMATICTRANSFER", "Automatische incasso")),
    "relationtype": (("COMPANY", "Bedrijf"), ("PRIVATEPERSON", "Particulier")),
    "rowtype": (("NORMAL", "NORMAAL"), ("GROUP", "GROEPLABEL")),  # [OBS]
    "invoicesendto": (("VISITINGADDRESS", "Bezoekadres"), ("POSTADDRESS", "Postadres"), ("OTHER", "Anders")),
    "postaddress": (("VISITINGADDRESS", "Bezoekadres"), ("OTHER", "Anders")),
    "invoicesendby": (("POST", "Post"), ("EMAIL", "E-mail"), ("SIMPLERINVOICING", "Simplerinvoicing")),
    "companyroles": (("LEAD", "Lead"), ("CUSTOMER", "Klant"), ("SUPPLIER", "Leverancier"), ("PROSPECT", "Prospect")),
}
ENUMS: dict[str, dict[str, int]] = {
    kind: {constant: n for n, (constant, _) in enumerate(pairs, start=1)} for kind, pairs in ENUM_LABELS.items()
}


class CallError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ------------------------------------------------------------------------------------------ shapes of rows


def gripp_datetime(value: date | datetime | None) -> dict[str, Any] | None:
    """PHP's DateTime as JSON; plain dates come back as midnight."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(AMSTERDAM).replace(tzinfo=None)
    else:
        value = datetime.combine(value, dtime())
    return {"date": value.strftime("%Y-%m-%d %H:%M:%S.%f"), "timezone_type": 3, "timezone": TIMEZONE}


def gripp_money(value: Decimal) -> str:
    """Money as a decimal string with at least two decimals ("1210.00")."""
    return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else format(value, "f")


def gripp_number(value: Decimal) -> int | float:
    # Quantities go out as JSON numbers (the logged example shows "amount": 10); a float's shortest repr
    # keeps the decimal digits exact on the way out.
    return int(value) if value == value.to_integral_value() else float(value)


def ref(record_id: int | None, searchname: str) -> dict[str, Any] | None:
    return None if record_id is None else {"id": record_id, "searchname": searchname}


def _company_ref(company_id: int | None, name: str) -> dict[str, Any] | None:
    # A reference to a company carries its kind, `discr` (seen on a live account's project rows).
    found = ref(company_id, name)
    return None if found is None else {**found, "discr": "bedrijf"}


def enum(kind: str, name: str) -> dict[str, Any]:
    number = ENUMS[kind][name]
    return {"id": number, "searchname": ENUM_LABELS[kind][number - 1][1]}


class _LineRecord(NamedTuple):
    invoice: GrippInvoice
    line: GrippInvoiceLine


@dataclass
class _Context:
    """One request's view of the account, with caches dropped after every write."""

    account: GrippAccount
    now: datetime
    pdf_base_url: str
    _totals: dict[int, dict[str, Decimal]] = field(default_factory=dict)
    _payments: dict[int, list[GrippPayment]] | None = None

    def reset(self) -> None:
        self._totals.clear()
        self._payments = None

    def payments_of(self, invoice_id: int) -> list[GrippPayment]:
        if self._payments is None:
            index: dict[int, list[GrippPayment]] = {}
            for payment in self.account.payments.values():
                index.setdefault(payment.invoice_id, []).append(payment)
            self._payments = index
        return self._payments.get(invoice_id, [])

    def totals(self, invoice: GrippInvoice) -> dict[str, Decimal]:
        cached = self._totals.get(invoice.id)
        if cached is None:
            # The account's own rules, over just this invoice's payments: invoice_totals scans all payments,
            # which is too slow to do per row on a seeded account.
            scoped = GrippAccount(vat_rates=self.account.vat_rates,
                                  payments={p.id: p for p in self.payments_of(invoice.id)})
            cached = self._totals[invoice.id] = scoped.invoice_totals(invoice)
        return cached

    def company_name(self, company_id: int | None) -> str:
        company = self.account.companies.get(company_id) if company_id is not None else None
        return company.companyname if company else ""

    def ledger_ref(self, ledger_id: int | None) -> dict[str, Any] | None:
        if ledger_id is None:
            return None
        ledger = self.account.ledgers.get(ledger_id)
        return ref(ledger_id, f"{ledger.number} {ledger.name}" if ledger else "")

    def costheading_ref(self, costheading_id: int | None) -> dict[str, Any] | None:
        if costheading_id is None:
            return None
        found = self.account.costheadings.get(costheading_id)
        # [UNCERTAIN] a costheading reference's searchname is not documented: its name, as a ledger's shows its own.
        return ref(costheading_id, found.name if found else "")

    def project_ref(self, project_id: int | None) -> dict[str, Any] | None:
        if project_id is None:
            return None
        found = self.account.projects.get(project_id)
        return ref(project_id, found.name if found else "")

    def vat_ref(self, vat_id: int | None) -> dict[str, Any] | None:
        if vat_id is None:
            return None
        rate = self.account.vat_rates.get(vat_id)
        return ref(vat_id, rate.label if rate else "")


def invoice_row(inv: GrippInvoice, ctx: _Context) -> dict[str, Any]:
    totals = ctx.totals(inv)
    company = ctx.company_name(inv.company_id)
    return {
        "id": inv.id,
        "number": inv.number,
        "searchname": f"{inv.number} - {company}",
        "createdon": gripp_datetime(inv.createdon),
        "updatedon": gripp_datetime(inv.updatedon),
        "date": gripp_datetime(inv.date),
        "reportdate": gripp_datetime(inv.date),
        "expirydate": gripp_datetime(inv.expirydate),
        "status": enum("status", inv.status),
        "paymentmethod": enum("paymentmethod", inv.paymentmethod),
        "company": _company_ref(inv.company_id, company),
        "identity": ref(inv.identity_id, ctx.account.identities.get(inv.identity_id, "")),
        "templateset": {"id": 1, "searchname": "Standaard"},
        "client": None,
        "contact": None,
        "validfor": None,
        "subject": inv.subject,
        "description": "",
        "clientreference": inv.clientreference,
        "addhoursspecification": False,
        "filesavailableforclient": False,
        "isbasis": False,
        "totalincldiscountexclvat": gripp_money(totals["totalincldiscountexclvat"]),
        "totalinclvat": gripp_money(totals["totalinclvat"]),
        "totalincldiscountinclvat": gripp_money(totals["totalincldiscountinclvat"]),
        "totalbuyingincldiscountexclvat": gripp_money(
            sum((x.amount * x.buyingprice for x in inv.lines), Decimal("0.00"))),
        "totalopeninclvat": gripp_money(totals["totalopeninclvat"]),
        "totalpayed": gripp_money(totals["totalpayed"]),
        "extendedproperties": inv.extendedproperties,
        "tags": [],
        "files": [],
        "extrapdf1": None,
        "extrapdf2": None,
        # [UNCERTAIN] nested full objects, as seen for absencerequest lines.
        "invoicelines": [line_row(_LineRecord(inv, x), ctx) for x in sorted(inv.lines, key=_line_order)],
        "payments": [payment_row(p, ctx) for p in sorted(ctx.payments_of(inv.id), key=lambda p: p.id)],
        # The sandbox has no online viewer; the "view online" link shows the PDF too.
        "viewonlineurl": f"{ctx.pdf_base_url}/{inv.id}?view=online",
        "directpdfurl": f"{ctx.pdf_base_url}/{inv.id}",
    }


def _line_order(line: GrippInvoiceLine) -> tuple[int, int]:
    return line.ordering, line.id


# A heading's product is a dummy, its other lines' a sales product (seen in a live account's project lines).
HEADING_PRODUCT = {"id": 2, "searchname": "Groep", "discr": "dummyproduct"}
UNIT = {"id": 3, "searchname": "stuks"}


def line_row(rec: _LineRecord, ctx: _Context) -> dict[str, Any]:
    """Shaped like a live account's lines (flipmoo/begripp's cached `projectlines`, which share the invoice line's
    shape): `amount` and `discount` JSON numbers, prices decimal strings, enums and references `{id, searchname}`."""
    inv, line = rec
    heading = line.rowtype == "GROUP"
    return {
        "id": line.id,
        "createdon": gripp_datetime(inv.createdon),
        "updatedon": None,
        "_ordering": line.ordering,
        "searchname": line.description,
        "invoice": ref(inv.id, str(inv.number)),
        "groepscategorie": None,
        "ledger": ctx.ledger_ref(line.ledger_id),
        "costheading": ctx.costheading_ref(line.costheading_id),
        "product": HEADING_PRODUCT if heading else {"id": 40_000 + (line.ledger_id or 0), "searchname":
                                                    line.description, "discr": "verkoopproduct"},
        "amount": gripp_number(line.amount),
        "unit": UNIT,
        "sellingprice": gripp_money(line.sellingprice),
        "discount": gripp_number(line.discount),
        "buyingprice": gripp_money(line.buyingprice),
        "additionalsubject": "",
        "description": line.description,
        "vat": ctx.vat_ref(line.vat_id),
        "project": ctx.project_ref(line.project_id),
        "umbrellaproject": None,
        "part": None,
        "contractline": None,
        "contract": None,
        "rowtype": enum("rowtype", line.rowtype),
        "hidedetails": False,
        "extendedproperties": None,
    }


def payment_row(p: GrippPayment, ctx: _Context) -> dict[str, Any]:
    inv = ctx.account.invoices.get(p.invoice_id)
    return {
        "id": p.id,
        "createdon": gripp_datetime(p.createdon),
        "updatedon": None,
        "_ordering": 0,
        "searchname": f"{inv.number if inv else p.invoice_id} - {gripp_money(p.amount)}",
        "invoice": ref(p.invoice_id, str(inv.number) if inv else ""),
        "date": gripp_datetime(p.date),
        "amount": gripp_money(p.amount),
        "notes": p.notes,
        "extendedproperties": p.extendedproperties,
        "paymentprovider": None,
        "transactionid": "",
    }


def company_row(c: GrippCompany, ctx: _Context) -> dict[str, Any]:
    """Every field of META's company, the way live rows send references, enums and dates. The sandbox keeps only
    the visiting address: the invoice and post address fields go out empty, as for a company that has none."""
    person = c.relationtype == "PRIVATEPERSON"
    first, _, last = c.companyname.partition(" ") if person else ("", "", "")
    return {
        "id": c.id,
        "createdon": gripp_datetime(c.createdon),
        "updatedon": gripp_datetime(c.updatedon),
        "searchname": c.companyname,
        "identity": ref(c.identity_id, ctx.account.identities.get(c.identity_id, "")),
        "website": "",
        "notes": "",
        "invoicesendto": enum("invoicesendto", "VISITINGADDRESS"),
        **{f"invoiceaddress_{part}": "" for part in _ADDRESS_PARTS},
        "customernumber": c.customernumber,
        "bankaccount": "",
        "bankascription": "",
        "bankcity": "",
        "bic": "",
        "externalreference": "",
        "additionaltermofpayment": 0,
        "termofpayment": c.termofpayment,
        "termofpayment_purchaseinvoice": c.termofpayment,
        "invoicesendby": enum("invoicesendby", "EMAIL" if c.invoiceemail or c.email else "POST"),
        "invoiceemail": c.invoiceemail,
        "vatnumber": c.vatnumber,
        "vatshifted": c.vatshifted,
        "vat": None,
        "cocnumber": c.cocnumber,
        "dateofbirth": None,
        "foundationdate": None,
        "active": True,
        "postaddress": enum("postaddress", "VISITINGADDRESS"),
        **{f"postaddress_{part}": "" for part in _ADDRESS_PARTS if part not in ("companyname", "attn")},
        "visitingaddress_street": c.visitingaddress_street,
        "visitingaddress_addressline2": "",
        "visitingaddress_streetnumber": c.visitingaddress_streetnumber,
        "visitingaddress_zipcode": c.visitingaddress_zipcode,
        "visitingaddress_city": c.visitingaddress_city,
        "visitingaddress_country": c.visitingaddress_country,
        "visitingaddress_lng": "",
        "visitingaddress_lat": "",
        "email": c.email,
        "phone": c.phone,
        "mobile": "",
        "relationtype": enum("relationtype", c.relationtype),
        "accountmanager": None,
        "companyname": c.companyname,
        "legalname": "" if person else c.companyname,
        "salutation": None,
        "initials": "",
        "title": "",
        "firstname": first,
        "infix": "",
        "lastname": last,
        "screenname": "",
        "extendedproperties": c.extendedproperties,
        "paymentmethod": enum("paymentmethod", "MANUALTRANSFER"),
        "paymentmethod_purchaseinvoice": enum("paymentmethod", "MANUALTRANSFER"),
        "tags": [],
        # [UNCERTAIN] how Gripp sends this multi-valued enum: a list of {id, label}, like its single enums.
        "companyroles": [enum("companyroles", "CUSTOMER")],
        "files": [],
    }


_ADDRESS_PARTS = ("companyname", "attn", "street", "streetnumber", "addressline2", "zipcode", "city", "country")


def ledger_row(led: GrippLedger, ctx: _Context) -> dict[str, Any]:
    return {
        "id": led.id,
        "createdon": None,
        "updatedon": None,
        "searchname": f"{led.number} {led.name}",
        "name": led.name,
        "number": led.number,
        "type": None,
        "debitcredit": None,
        "categorie": None,
        "active": led.active,
    }


def costheading_row(c: GrippCostheading, ctx: _Context) -> dict[str, Any]:
    """Every field of the metadata's `costheading` class."""
    return {"id": c.id, "createdon": None, "updatedon": None, "searchname": c.name, "name": c.name,
            "number": c.number, "extendedproperties": None}


def project_row(p: GrippProject, ctx: _Context) -> dict[str, Any]:
    """The `project` fields the link reads (id, name, number) and the few around them; the rest of the metadata's
    long list (phases, budgets, employees …) is not modelled."""
    return {"id": p.id, "createdon": None, "updatedon": None, "searchname": p.name, "name": p.name,
            "number": p.number, "company": None, "identity": None, "extendedproperties": None}


# ------------------------------------------------------------------------------ fields for filters/orderings


class Field(NamedTuple):
    kind: str  # int | ref | str | money | num | date | datetime | bool | enum:<name>
    get: Callable[[Any, _Context], Any]


def _attr(name: str) -> Callable[[Any, _Context], Any]:
    return lambda obj, ctx: getattr(obj, name)


def _total(name: str) -> Callable[[GrippInvoice, _Context], Decimal]:
    return lambda inv, ctx: ctx.totals(inv)[name]


FIELDS: dict[str, dict[str, Field]] = {
    "invoice": {
        "id": Field("int", _attr("id")),
        "number": Field("int", _attr("number")),
        "searchname": Field("str", lambda i, c: f"{i.number} - {c.company_name(i.company_id)}"),
        "date": Field("date", _attr("date")),
        "reportdate": Field("date", _attr("date")),
        "expirydate": Field("date", _attr("expirydate")),
        "createdon": Field("datetime", _attr("createdon")),
        "updatedon": Field("datetime", _attr("updatedon")),
        "status": Field("enum:status", _attr("status")),
        "paymentmethod": Field("enum:paymentmethod", _attr("paymentmethod")),
        "company": Field("ref", _attr("company_id")),
        "identity": Field("ref", _attr("identity_id")),
        "subject": Field("str", _attr("subject")),
        "clientreference": Field("str", _attr("clientreference")),
        # [UNCERTAIN] whether extendedproperties can be filtered is undocumented.
        "extendedproperties": Field("str", _attr("extendedproperties")),
        "totalinclvat": Field("money", _total("totalinclvat")),
        "totalincldiscountinclvat": Field("money", _total("totalincldiscountinclvat")),
        "totalincldiscountexclvat": Field("money", _total("totalincldiscountexclvat")),
        "totalopeninclvat": Field("money", _total("totalopeninclvat")),
        "totalpayed": Field("money", _total("totalpayed")),
    },
    "invoiceline": {
        "id": Field("int", lambda r, c: r.line.id),
        "invoice": Field("ref", lambda r, c: r.invoice.id),
        "amount": Field("num", lambda r, c: r.line.amount),
        "sellingprice": Field("money", lambda r, c: r.line.sellingprice),
        "discount": Field("num", lambda r, c: r.line.discount),
        "buyingprice": Field("money", lambda r, c: r.line.buyingprice),
        "vat": Field("ref", lambda r, c: r.line.vat_id),
        "ledger": Field("ref", lambda r, c: r.line.ledger_id),
        "costheading": Field("ref", lambda r, c: r.line.costheading_id),
        "project": Field("ref", lambda r, c: r.line.project_id),
        "description": Field("str", lambda r, c: r.line.description),
        "searchname": Field("str", lambda r, c: r.line.description),
        "_ordering": Field("int", lambda r, c: r.line.ordering),
        "rowtype": Field("enum:rowtype", lambda r, c: r.line.rowtype),
        "createdon": Field("datetime", lambda r, c: r.invoice.createdon),
        "updatedon": Field("datetime", lambda r, c: None),
    },
    "company": {
        "id": Field("int", _attr("id")),
        "customernumber": Field("int", _attr("customernumber")),
        "companyname": Field("str", _attr("companyname")),
        "searchname": Field("str", _attr("companyname")),
        "relationtype": Field("enum:relationtype", _attr("relationtype")),
        "identity": Field("ref", _attr("identity_id")),
        "vatnumber": Field("str", _attr("vatnumber")),
        "cocnumber": Field("str", _attr("cocnumber")),
        "email": Field("str", _attr("email")),
        "invoiceemail": Field("str", _attr("invoiceemail")),
        "phone": Field("str", _attr("phone")),
        "visitingaddress_street": Field("str", _attr("visitingaddress_street")),
        "visitingaddress_streetnumber": Field("str", _attr("visitingaddress_streetnumber")),
        "visitingaddress_zipcode": Field("str", _attr("visitingaddress_zipcode")),
        "visitingaddress_city": Field("str", _attr("visitingaddress_city")),
        "visitingaddress_country": Field("str", _attr("visitingaddress_country")),
        "vatshifted": Field("bool", _attr("vatshifted")),
        "termofpayment": Field("int", _attr("termofpayment")),
        "extendedproperties": Field("str", _attr("extendedproperties")),
        "createdon": Field("datetime", _attr("createdon")),
        "updatedon": Field("datetime", _attr("updatedon")),
    },
    "payment": {
        "id": Field("int", _attr("id")),
        "invoice": Field("ref", _attr("invoice_id")),
        "date": Field("date", _attr("date")),
        "amount": Field("money", _attr("amount")),
        "notes": Field("str", _attr("notes")),
        "extendedproperties": Field("str", _attr("extendedproperties")),
        "createdon": Field("datetime", _attr("createdon")),
        "updatedon": Field("datetime", lambda p, c: None),
    },
    "ledger": {
        "id": Field("int", _attr("id")),
        "number": Field("str", _attr("number")),
        "name": Field("str", _attr("name")),
        "searchname": Field("str", lambda x, c: f"{x.number} {x.name}"),
        "active": Field("bool", _attr("active")),
        "createdon": Field("datetime", lambda x, c: None),
        "updatedon": Field("datetime", lambda x, c: None),
    },
    "costheading": {
        "id": Field("int", _attr("id")),
        "name": Field("str", _attr("name")),
        "number": Field("str", _attr("number")),
        "searchname": Field("str", _attr("name")),
        "createdon": Field("datetime", lambda x, c: None),
        "updatedon": Field("datetime", lambda x, c: None),
    },
    "project": {
        "id": Field("int", _attr("id")),
        "name": Field("str", _attr("name")),
        "number": Field("int", _attr("number")),
        "searchname": Field("str", _attr("name")),
        "createdon": Field("datetime", lambda x, c: None),
        "updatedon": Field("datetime", lambda x, c: None),
    },
}
READ_ONLY = frozenset({"costheading", "project"})  # the sandbox serves their rows, never writes them
# `invoice.get` may filter on `company.id` (Gripp's own example does): a reference followed one step.
JOINS: dict[str, dict[str, str]] = {
    "invoice": {"company": "company"},
    "invoiceline": {"invoice": "invoice", "ledger": "ledger"},
    "payment": {"invoice": "invoice"},
}
ROWS: dict[str, Callable[[Any, _Context], dict[str, Any]]] = {
    "invoice": invoice_row, "invoiceline": line_row, "company": company_row, "payment": payment_row,
    "ledger": ledger_row, "costheading": costheading_row, "project": project_row,
}


def records(entity: str, account: GrippAccount) -> list[Any]:
    if entity == "invoice":
        return list(account.invoices.values())
    if entity == "invoiceline":
        return [_LineRecord(inv, line) for inv in account.invoices.values() for line in inv.lines]
    if entity == "company":
        return list(account.companies.values())
    if entity == "payment":
        return list(account.payments.values())
    if entity == "costheading":
        return list(account.costheadings.values())
    if entity == "project":
        return list(account.projects.values())
    return list(account.ledgers.values())


def find_record(entity: str, account: GrippAccount, record_id: int) -> Any | None:
    if entity == "invoiceline":
        return next((r for r in records("invoiceline", account) if r.line.id == record_id), None)
    stores: dict[str, dict[int, Any]] = {"invoice": account.invoices, "company": account.companies,
                                         "payment": account.payments, "ledger": account.ledgers,
                                         "costheading": account.costheadings, "project": account.projects}
    return stores[entity].get(record_id)


def resolve(entity: str, qualified: Any) -> Callable[[Any, _Context], tuple[str, Any]]:
    """A getter for `entity.field` (or `ref.field` one step away) returning (kind, value)."""
    if not isinstance(qualified, str) or "." not in qualified:
        raise CallError(ERROR_BAD_REQUEST, f"Invalid field {qualified!r}: use entity.field")
    prefix, _, name = qualified.partition(".")
    if name.startswith("customfield"):
        raise CallError(ERROR_BAD_REQUEST, "Custom fields cannot be used in filters")
    if prefix == entity:
        spec = FIELDS[entity].get(name)
        if spec is None:
            raise CallError(ERROR_BAD_REQUEST, f"Unknown field {qualified}")
        return lambda obj, ctx: (spec.kind, spec.get(obj, ctx))
    target = JOINS.get(entity, {}).get(prefix)
    link = FIELDS[entity].get(prefix)
    inner = FIELDS.get(target or "", {}).get(name)
    if target is None or link is None or inner is None:
        raise CallError(ERROR_BAD_REQUEST, f"Unknown field {qualified}")

    def joined(obj: Any, ctx: _Context) -> tuple[str, Any]:
        linked_id = link.get(obj, ctx)
        other = find_record(target, ctx.account, linked_id) if linked_id is not None else None
        return inner.kind, (inner.get(other, ctx) if other is not None else None)

    return joined


# ------------------------------------------------------------------------------------------------- filters


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        text = value.strip().replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M"):
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
    raise CallError(ERROR_BAD_REQUEST, f"Invalid date value {value!r}: use 'Y-m-d' or 'Y-m-d H:i:s'")


def _normal(kind: str, value: Any) -> Any:
    """A field value in comparable form (None stays None)."""
    if value is None:
        return None
    if kind in ("date", "datetime"):
        return value if isinstance(value, datetime) else datetime.combine(value, dtime())
    if kind == "str" or kind.startswith("enum:"):
        return str(value).casefold()  # MySQL's default collation compares case-insensitively
    return value


def _coerce(kind: str, value: Any) -> Any:
    """A filter value in the field's comparable form, the way MySQL would compare it."""
    try:
        if kind in ("int", "ref"):
            if isinstance(value, bool):
                raise ValueError
            number = Decimal(str(value).strip())
            return int(number) if number == number.to_integral_value() else number
        if kind in ("money", "num"):
            if isinstance(value, bool):
                raise ValueError
            return Decimal(str(value).strip())
        if kind in ("date", "datetime"):
            return _as_datetime(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            return str(value).strip().lower() in ("1", "true")
        if kind.startswith("enum:"):
            names = ENUMS[kind[5:]]
            if isinstance(value, int) and not isinstance(value, bool):
                value = next((n for n, i in names.items() if i == value), str(value))
            return str(value).casefold()
        return str(value).casefold()
    except (ValueError, InvalidOperation, ArithmeticError):
        raise CallError(ERROR_BAD_REQUEST, f"Invalid filter value {value!r}") from None


def _like(pattern: str) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _as_text(kind: str, value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda a, b: a == b,
    "notequals": lambda a, b: a != b,
    "greater": lambda a, b: a > b,
    "greaterequals": lambda a, b: a >= b,
    "less": lambda a, b: a < b,
    "lessequals": lambda a, b: a <= b,
}


def compile_filter(entity: str, spec: Any) -> Callable[[Any, _Context], bool]:
    if not isinstance(spec, dict) or "field" not in spec or "operator" not in spec:
        raise CallError(ERROR_BAD_REQUEST, "A filter is an object with field, operator and value")
    operator = spec["operator"]
    if operator not in OPERATORS:
        raise CallError(ERROR_BAD_REQUEST, f"Unknown operator {operator!r}")
    getter = resolve(entity, spec["field"])
    value, value2 = spec.get("value"), spec.get("value2")
    if operator == "between" and (value is None or value2 is None):
        raise CallError(ERROR_BAD_REQUEST, "The between operator needs value and value2")
    if operator in LIST_OPERATORS and not isinstance(value, list):
        raise CallError(ERROR_BAD_REQUEST, f"The {operator} operator needs an array value")

    # The value in the field's form, once up front (not per row): a bad value is an error even when no row is
    # tested, and a filter over thousands of rows parses its date once.
    field_kind = _kind_of(entity, spec["field"])
    coerced: Any = None
    if operator in LIST_OPERATORS and isinstance(value, list):  # (anything else was refused above)
        coerced = [_coerce(field_kind, v) for v in value]
    elif operator == "between":
        coerced = (_coerce(field_kind, value), _coerce(field_kind, value2))
    elif operator not in ("isnull", "isnotnull", "like"):
        coerced = _coerce(field_kind, value)
    pattern = _like(str(value)) if operator == "like" else None

    def test(obj: Any, ctx: _Context) -> bool:
        kind, raw = getter(obj, ctx)
        if operator == "isnull":
            return raw is None  # an empty string is not null
        if operator == "isnotnull":
            return raw is not None
        if raw is None:
            return False  # SQL: NULL compares false, also for notequals and notin
        if pattern is not None:
            return pattern.fullmatch(_as_text(kind, raw)) is not None
        current = _normal(kind, raw)
        if operator in LIST_OPERATORS:
            found = any(current == v for v in coerced)
            return found if operator == "in" else not found
        if operator == "between":
            return coerced[0] <= current <= coerced[1]
        return _COMPARE[operator](current, coerced)

    return test


def _kind_of(entity: str, qualified: str) -> str:
    prefix, _, name = qualified.partition(".")
    table = FIELDS[entity] if prefix == entity else FIELDS.get(JOINS.get(entity, {}).get(prefix, ""), {})
    return table[name].kind


# ----------------------------------------------------------------------------------------------- writes


class W(NamedTuple):
    attr: str
    kind: str  # int | str | optstr | number | date | bool | enum:<name> | ref:<entity> | vat | identity


WRITABLE: dict[str, dict[str, W]] = {
    "payment": {
        "invoice": W("invoice_id", "ref:invoice"), "date": W("date", "date"), "amount": W("amount", "number"),
        "notes": W("notes", "str"), "extendedproperties": W("extendedproperties", "optstr"),
    },
    "invoice": {
        "number": W("number", "int"), "date": W("date", "date"), "status": W("status", "enum:status"),
        "paymentmethod": W("paymentmethod", "enum:paymentmethod"), "company": W("company_id", "ref:company"),
        "identity": W("identity_id", "identity"), "subject": W("subject", "str"),
        "clientreference": W("clientreference", "str"), "extendedproperties": W("extendedproperties", "optstr"),
    },
    "invoiceline": {
        "invoice": W("invoice", "ref:invoice"), "amount": W("amount", "number"),
        "sellingprice": W("sellingprice", "number"), "discount": W("discount", "number"),
        "buyingprice": W("buyingprice", "number"), "vat": W("vat_id", "vat"), "ledger": W("ledger_id", "ref:ledger"),
        "description": W("description", "str"), "_ordering": W("ordering", "int"),
        "rowtype": W("rowtype", "enum:rowtype"),
    },
    "company": {
        **{name: W(name, "str") for name in (
            "companyname", "vatnumber", "cocnumber", "email", "invoiceemail", "phone", "visitingaddress_street",
            "visitingaddress_streetnumber", "visitingaddress_zipcode", "visitingaddress_city",
            "visitingaddress_country")},
        "customernumber": W("customernumber", "int"), "relationtype": W("relationtype", "enum:relationtype"),
        "identity": W("identity_id", "identity"), "vatshifted": W("vatshifted", "bool"),
        "termofpayment": W("termofpayment", "int"), "extendedproperties": W("extendedproperties", "optstr"),
    },
    "ledger": {"name": W("name", "str"), "number": W("number", "str"), "active": W("active", "bool")},
}
# Real fields the sandbox accepts but does not keep.
IGNORED: dict[str, frozenset[str]] = {
    "payment": frozenset({"_ordering", "paymentprovider", "transactionid"}),
    "invoice": frozenset({"templateset", "client", "contact", "validfor", "reportdate", "description", "tags",
                          "files", "extrapdf1", "extrapdf2", "addhoursspecification", "filesavailableforclient",
                          "customfields"}),
    "invoiceline": frozenset({"product", "unit", "costheading", "groepscategorie", "additionalsubject", "project",
                              "umbrellaproject", "part", "contractline", "contract", "hidedetails",
                              "extendedproperties"}),
    "company": frozenset({"website", "notes", "invoicesendto", "invoicesendby", "legalname", "bankaccount", "bic",
                          "bankascription", "bankcity", "externalreference", "additionaltermofpayment",
                          "termofpayment_purchaseinvoice", "paymentmethod", "paymentmethod_purchaseinvoice",
                          "vat", "dateofbirth", "foundationdate", "active", "postaddress", "mobile", "salutation",
                          "initials", "title", "firstname", "infix", "lastname", "screenname", "accountmanager",
                          "tags", "companyroles", "customfields", "visitingaddress_addressline2",
                          "visitingaddress_lng", "visitingaddress_lat"}
                         | {f"{p}_{s}" for p in ("invoiceaddress", "postaddress")
                            for s in ("companyname", "attn", "street", "streetnumber", "addressline2", "zipcode",
                                      "city", "country")}),
    "ledger": frozenset({"categorie"}),
}
REQUIRED: dict[str, frozenset[str]] = {
    "payment": frozenset({"invoice", "date", "amount"}),
    "invoice": frozenset({"company", "status"}),
    "invoiceline": frozenset({"invoice", "amount", "sellingprice", "vat"}),
    "company": frozenset({"relationtype"}),
    "ledger": frozenset(),
}


def check_value(account: GrippAccount, name: str, kind: str, value: Any) -> Any:
    """Gripp's types are strict: the string "1" is not the number 1."""

    def wrong(expected: str) -> CallError:
        return CallError(ERROR_VALIDATION, f"Field {name} must be {expected}, got {json.dumps(value, default=str)}")

    if kind in ("int", "identity", "vat") or kind.startswith("ref:"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong("an integer")
        if kind == "identity" and value not in account.identities:
            raise CallError(ERROR_VALIDATION, f"Identity {value} does not exist")
        if kind == "vat" and value not in account.vat_rates:
            raise CallError(ERROR_VALIDATION, f"VAT rate {value} does not exist")
        if kind.startswith("ref:") and find_record(kind[4:], account, value) is None:
            raise CallError(ERROR_VALIDATION, f"{kind[4:].capitalize()} {value} does not exist")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | Decimal | float):
            raise wrong("a number")
        return Decimal(str(value))
    if kind in ("str", "optstr"):
        if value is None:
            return None if kind == "optstr" else ""
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if kind == "date":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise wrong("a date 'Y-m-d'")
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise wrong("a valid date") from None
    if kind == "bool":
        if not isinstance(value, bool):
            raise wrong("a boolean")
        return value
    names = ENUMS[kind[5:]]  # enum: its string or its integer form
    if isinstance(value, int) and not isinstance(value, bool):
        value = next((n for n, i in names.items() if i == value), None)
    if value not in names:
        raise wrong(f"one of {', '.join(names)}")
    return value


def check_fields(account: GrippAccount, entity: str, fields: Any, *, creating: bool) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise CallError(ERROR_BAD_REQUEST, "The fields parameter must be an object")
    writable, ignored = WRITABLE[entity], IGNORED[entity]
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in writable:
            values[name] = check_value(account, name, writable[name].kind, value)
        elif name in ignored or (entity == "invoice" and creating and name in ("invoicelines", "payments")):
            continue
        elif name in FIELDS.get(entity, {}):
            raise CallError(ERROR_VALIDATION, f"Field {name} is read-only")
        else:
            raise CallError(ERROR_VALIDATION, f"Unknown field {name} for {entity}")
    if creating:
        missing = sorted(REQUIRED[entity] - values.keys())
        if missing:
            raise CallError(ERROR_VALIDATION, f"Required field(s) missing: {', '.join(missing)}")
    return values


_MISSING = object()


class Journal:
    """Undo log for one batch: a failed call rolls back the batch's earlier writes (one transaction)."""

    def __init__(self, account: GrippAccount) -> None:
        self.account = account
        self.next_id = account.next_id
        self.entries: list[tuple[dict[Any, Any], Any, Any]] = []

    def keep(self, store: dict[Any, Any], key: Any) -> None:
        self.entries.append((store, key, copy.deepcopy(store[key]) if key in store else _MISSING))

    def rollback(self) -> None:
        for store, key, old in reversed(self.entries):
            if old is _MISSING:
                store.pop(key, None)
            else:
                store[key] = old
        self.entries.clear()
        self.account.next_id = self.next_id


# -------------------------------------------------------------------------------------------- the simulator


@dataclass
class _Allowance:
    """One Gripp account's request limits: the burst bucket and this clock hour's count.

    Per account, as Gripp counts its quota (request packs are bought per account). [UNCERTAIN] whether the burst
    bucket is per account, per key or per caller; per account here, so one customer's burst never throttles
    another's.
    """

    tokens: float
    tokens_at: float
    hour: int | None = None
    used: int = 0


class GrippSimulator:
    def __init__(
        self,
        world: World,
        *,
        pdf_base_url: str,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = False,
        hourly_quota: int = HOURLY_QUOTA,
        burst_capacity: int = BURST_CAPACITY,
        burst_refill_per_second: float = BURST_REFILL_PER_SECOND,
    ) -> None:
        self.world = world
        self.pdf_base_url = pdf_base_url.rstrip("/")
        self.clock = clock
        self.rate_limits = rate_limits
        self.hourly_quota = hourly_quota
        self.burst_capacity = burst_capacity
        self.burst_refill_per_second = burst_refill_per_second
        self.quota_answer = "http429"  # or "jsonrpc": HTTP 200 with an id-less error element
        # posts_by_account: POSTs that passed the key check, per account key.
        self.stats: dict[str, Any] = {"posts": 0, "calls": {}, "throttled": 0, "over_quota": 0,
                                      "bad_key": 0, "pdfs": 0, "posts_by_account": {}}
        self._rate_lock = threading.Lock()
        # Account key -> its limits; None: callers with a key no account has (they still fill a bucket).
        self._allowances: dict[str | None, _Allowance] = {}
        self._pdf_cache: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._versions: dict[tuple[str, int], int] = {}  # (account, invoice id) -> edits seen

    # ---------------------------------------------------------------------------------------------- HTTP

    def handle(self, request: httpx.Request, subpath: str) -> httpx.Response:
        if subpath.strip("/") != API_SUBPATH:
            return httpx.Response(404, text="Not found", headers={"Content-Type": HTML})
        if request.method != "POST":
            # [UNCERTAIN] what Gripp answers to a GET is unknown.
            return httpx.Response(405, text="Method not allowed", headers={"Content-Type": HTML, "Allow": "POST"})
        now = self.clock()
        key = self.world.account_of_token(_bearer(request))
        with self._rate_lock:
            self.stats["posts"] += 1
        wait = self._take_burst_token(key, now) if self.rate_limits else None
        if wait is not None:
            with self._rate_lock:
                self.stats["throttled"] += 1
            element = {"id": None, "thread": _thread(), "result": {"success": False},
                       "error_code": ERROR_THROTTLED, "error": "Too many requests"}  # [UNCERTAIN] message
            return self._answer(key, 503, [element], now, {"Retry-After": str(wait)})
        if key is None:
            with self._rate_lock:
                self.stats["bad_key"] += 1
            element = {"id": None, "thread": _thread(), "result": {"success": False},
                       "error_code": ERROR_AUTH, "error": AUTH_MESSAGE}
            return self._answer(key, 200, [element], now)
        with self._rate_lock:
            per_account = self.stats["posts_by_account"]
            per_account[key] = per_account.get(key, 0) + 1
        if not self._count_request(key, now):
            with self._rate_lock:
                self.stats["over_quota"] += 1
            # [UNCERTAIN] Gripp's docs say only "you will receive a JSON-RPC error message"; its connector's comment
            # speaks of HTTP 429. Both are simulated (`quota_answer`); the element's code and the absence of a
            # Retry-After are guesses.
            element = {"id": None, "thread": _thread(), "result": {"success": False}, "error_code": ERROR_QUOTA,
                       "error": QUOTA_MESSAGE}
            return self._answer(key, 429 if self.quota_answer == "http429" else 200, [element], now)
        thread = _thread()
        try:
            calls = json.loads(request.content or b"", parse_float=Decimal)
        except ValueError:
            calls = None
        if not isinstance(calls, list) or not calls:
            # [UNCERTAIN] Gripp's answer to a body that is not a JSON array of calls.
            element = {"id": None, "thread": thread, "result": {"success": False},
                       "error_code": ERROR_BAD_REQUEST, "error": "The request body must be a JSON array of calls"}
            return self._answer(key, 200, [element], now)
        return self._answer(key, 200, self._run_batch(key, calls, thread, now), now)

    def handle_pdf(self, request: httpx.Request, subpath: str) -> httpx.Response:
        """The invoices' `directpdfurl`: a real PDF of the token's own account (Bearer or `?token=`)."""
        if request.method not in ("GET", "HEAD"):
            return httpx.Response(405, text="Method not allowed", headers={"Content-Type": HTML})
        key = self.world.account_of_token(_bearer(request) or request.url.params.get("token"))
        if key is None:
            return httpx.Response(401, text="<html><body>Unauthorized</body></html>", headers={"Content-Type": HTML})
        try:
            invoice_id = int(subpath.strip("/").split("/")[0])
        except ValueError:
            return httpx.Response(404, text="Not found", headers={"Content-Type": HTML})
        with self.world.lock:
            account = self.world.gripp_account(key)
            invoice = account.invoices.get(invoice_id)
            if invoice is None:
                return httpx.Response(404, text="Not found", headers={"Content-Type": HTML})
            cache_key = (key, invoice_id, invoice.updatedon, self._versions.get((key, invoice_id), 0))
            content = self._pdf_cache.get(cache_key)
            if content is None:
                content = render_invoice_pdf(account, invoice)
                self._pdf_cache[cache_key] = content
                while len(self._pdf_cache) > 256:
                    self._pdf_cache.popitem(last=False)
            else:
                self._pdf_cache.move_to_end(cache_key)
            number = invoice.number
            self.stats["pdfs"] += 1
        headers = {"Content-Type": "application/pdf",
                   "Content-Disposition": f'inline; filename="factuur-{number}.pdf"'}
        return httpx.Response(200, content=b"" if request.method == "HEAD" else content, headers=headers)

    # ------------------------------------------------------------------------------------------- limits

    def _allowance(self, key: str | None, now: float) -> _Allowance:
        """Under `_rate_lock`: the account's limits, a full bucket the first time it calls."""
        allowance = self._allowances.get(key)
        if allowance is None:
            allowance = self._allowances[key] = _Allowance(float(self.burst_capacity), now)
        return allowance

    def _take_burst_token(self, key: str | None, now: float) -> int | None:
        """None when a token was taken, else the whole seconds until one is back (Retry-After)."""
        with self._rate_lock:
            bucket = self._allowance(key, now)
            elapsed = max(0.0, now - bucket.tokens_at)
            bucket.tokens = min(float(self.burst_capacity), bucket.tokens + elapsed * self.burst_refill_per_second)
            bucket.tokens_at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return None
            return max(1, math.ceil((1 - bucket.tokens) / self.burst_refill_per_second))

    def _count_request(self, key: str, now: float) -> bool:
        """Count one POST against the account's quota for this clock hour (a batch is one request); False when
        spent.

        [UNCERTAIN] whether the hour is a clock hour or a sliding window; refused requests do not count.
        Counted even with limits off, so X-RateLimit-Remaining always means something.
        """
        with self._rate_lock:
            allowance = self._allowance(key, now)
            hour = int(now // 3600)
            if hour != allowance.hour:
                allowance.hour, allowance.used = hour, 0
            if self.rate_limits and allowance.used >= self.hourly_quota:
                return False
            allowance.used += 1
            return True

    def used_this_hour(self, key: str) -> int:
        """Requests the account has made in the current clock hour."""
        with self._rate_lock:
            allowance = self._allowances.get(key)
            hour = int(self.clock() // 3600)
            return allowance.used if allowance is not None and allowance.hour == hour else 0

    def spend_quota(self, key: str, answer: str = "http429") -> None:
        """Fault helper: the account's hourly quota is used up from now until the next clock hour; the other
        accounts' quotas are untouched. `answer` is how Gripp says so: "http429", or "jsonrpc" (HTTP 200 with an
        id-less error element). Switches the limits on, with a bucket too big to matter."""
        with self._rate_lock:
            self.quota_answer = answer
            self.rate_limits = True
            self.burst_capacity = 10**6  # only the quota, not the burst bucket
            now = self.clock()
            for bucket in self._allowances.values():
                bucket.tokens = float(self.burst_capacity)
            allowance = self._allowance(key, now)
            allowance.hour, allowance.used = int(now // 3600), max(allowance.used, self.hourly_quota)

    def _answer(self, key: str | None, status: int, payload: Any, now: float,
                extra: dict[str, str] | None = None) -> httpx.Response:
        with self._rate_lock:
            allowance = self._allowances.get(key)
            hour = int(now // 3600)
            used = allowance.used if allowance is not None and allowance.hour == hour else 0
        headers = {
            "Content-Type": HTML,  # sic: Gripp labels its JSON as HTML
            "X-RateLimit-Limit": str(self.hourly_quota),
            # With the limits off the quota never runs out, so it never reads 0 (which tells a client to stop).
            "X-RateLimit-Remaining": str(max(0 if self.rate_limits else 1, self.hourly_quota - used)),
            **(extra or {}),
        }
        body = json.dumps(payload, separators=(",", ":"), default=_json_default).encode("utf-8")
        return httpx.Response(status, content=body, headers=headers)

    # -------------------------------------------------------------------------------------------- calls

    def _run_batch(self, key: str, calls: list[Any], thread: str, now_ts: float) -> list[dict[str, Any]]:
        """The calls against one account's data only: the token's account is all a batch can see or change."""
        now = datetime.fromtimestamp(now_ts, AMSTERDAM).replace(tzinfo=None, microsecond=0)
        out: list[dict[str, Any]] = []
        with self.world.lock:
            account = self.world.gripp_account(key)
            ctx = _Context(account, now, self.pdf_base_url)
            journal = Journal(account)
            touched: set[int] = set()
            has_writes = any(_is_write(c) for c in calls)
            failed: Any = _MISSING
            for call in calls:
                call_id = call.get("id") if isinstance(call, dict) else None
                method = call.get("method") if isinstance(call, dict) else None
                if failed is not _MISSING:
                    out.append(_error(call_id, thread, ERROR_VALIDATION,
                                      f"Not executed: call {failed} failed and the batch was rolled back"))
                    continue
                try:
                    self._count_call(method)
                    result = self._dispatch(call, ctx, journal, touched)
                    out.append({"id": call_id, "thread": thread, "result": result, "error": None})
                except CallError as exc:
                    out.append(_error(call_id, thread, exc.code, exc.message))
                    if has_writes:
                        # [UNCERTAIN] "one transaction": a failure undoes the batch's earlier writes.
                        journal.rollback()
                        touched.clear()
                        failed = call_id
            if failed is not _MISSING:
                for index, call in enumerate(calls):
                    if _is_write(call) and out[index].get("error") is None:
                        out[index] = _error(call.get("id"), thread, ERROR_VALIDATION,
                                            f"Rolled back: call {failed} in the same batch failed")
            for invoice_id in touched:
                self._versions[(key, invoice_id)] = self._versions.get((key, invoice_id), 0) + 1
        return out

    def _count_call(self, method: Any) -> None:
        name = method if isinstance(method, str) else "?"
        with self._rate_lock:
            self.stats["calls"][name] = self.stats["calls"].get(name, 0) + 1

    def _dispatch(self, call: Any, ctx: _Context, journal: Journal, touched: set[int]) -> Any:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            raise CallError(ERROR_BAD_REQUEST, "A call is an object with method, params and id")
        method = call["method"]
        params = call.get("params", [])
        if not isinstance(params, list):
            raise CallError(ERROR_BAD_REQUEST, "params must be an array")
        entity, _, action = method.partition(".")
        if entity not in FIELDS or action not in ("get", "getone", "create", "update", "delete"):
            # [UNCERTAIN] the real code and wording for an unknown method were never found.
            raise CallError(ERROR_UNKNOWN_METHOD, f"Unknown method {method}")
        if action in ("get", "getone"):
            return self._get(entity, params, ctx, one=action == "getone")
        if entity in READ_ONLY:
            raise CallError(ERROR_UNKNOWN_METHOD, f"The sandbox does not write {entity}: {method}")
        result = self._write(entity, action, params, ctx, journal, touched)
        ctx.reset()
        return result

    def _get(self, entity: str, params: list[Any], ctx: _Context, *, one: bool) -> dict[str, Any]:
        filters = params[0] if params else []
        options = params[1] if len(params) > 1 else {}
        if filters is None:
            filters = []
        if not isinstance(filters, list):
            raise CallError(ERROR_BAD_REQUEST, "Filters must be an array of filter objects")
        if options in (None, []):  # PHP's empty array() serialises as []
            options = {}
        if not isinstance(options, dict):
            raise CallError(ERROR_BAD_REQUEST, "Options must be an object")
        if one:
            start, limit = 0, 1
        else:
            start, limit = _paging(options.get("paging"))
        tests = [compile_filter(entity, f) for f in filters]
        orderings = _orderings(entity, options.get("orderings"))
        matches = [r for r in records(entity, ctx.account) if all(t(r, ctx) for t in tests)]
        for getter, descending in reversed(orderings):
            matches.sort(key=partial(_sort_key_of, getter, ctx), reverse=descending)
        rows = [ROWS[entity](r, ctx) for r in matches[start:start + limit]]
        return {
            "rows": rows,
            "count": len(matches),  # [UNCERTAIN] for getone: total matches, as for get
            "start": start,
            "limit": limit,
            "next_start": start + limit,  # start + limit even on the last page (observed)
            "more_items_in_collection": start + limit < len(matches),
        }

    # ------------------------------------------------------------------------------------------- writes

    def _write(self, entity: str, action: str, params: list[Any], ctx: _Context, journal: Journal,
               touched: set[int]) -> Any:
        account = ctx.account
        if action == "create":
            if len(params) != 1:
                raise CallError(ERROR_BAD_REQUEST, f"{entity}.create takes one parameter: the fields")
            values = check_fields(account, entity, params[0], creating=True)
            return {"success": True, "recordid": self._create(entity, values, params[0], ctx, journal, touched)}
        record_id = params[0] if params else None
        if not isinstance(record_id, int) or isinstance(record_id, bool):
            raise CallError(ERROR_VALIDATION, f"{entity}.{action} needs the record id (an integer) first")
        record = find_record(entity, account, record_id)
        if record is None:
            raise CallError(ERROR_VALIDATION, f"{entity.capitalize()} {record_id} does not exist")
        if action == "update":
            if len(params) != 2:
                raise CallError(ERROR_BAD_REQUEST, f"{entity}.update takes two parameters: id and fields")
            values = check_fields(account, entity, params[1], creating=False)
            self._update(entity, record, values, ctx, journal, touched)
        else:
            self._delete(entity, record, ctx, journal, touched)
        # [UNCERTAIN] the docs say "true on success"; the success object matches the error shape.
        return {"success": True}

    def _touch_invoice(self, invoice_id: int, ctx: _Context, journal: Journal, touched: set[int]) -> None:
        invoices = ctx.account.invoices
        if invoice_id in invoices:
            journal.keep(invoices, invoice_id)
            invoices[invoice_id].updatedon = ctx.now
            touched.add(invoice_id)

    def _create(self, entity: str, values: dict[str, Any], raw: dict[str, Any], ctx: _Context,
                journal: Journal, touched: set[int]) -> int:
        account, now = ctx.account, ctx.now
        new_id = account.new_id()
        if entity == "payment":
            journal.keep(account.payments, new_id)
            account.payments[new_id] = GrippPayment(
                id=new_id, invoice_id=values["invoice"], date=values["date"], amount=values["amount"],
                notes=values.get("notes") or "", extendedproperties=values.get("extendedproperties"), createdon=now)
            self._touch_invoice(values["invoice"], ctx, journal, touched)
        elif entity == "invoiceline":
            inv = account.invoices[values["invoice"]]
            journal.keep(account.invoices, inv.id)
            inv.lines.append(self._new_line(new_id, values))
            self._touch_invoice(inv.id, ctx, journal, touched)
        elif entity == "invoice":
            company = account.companies[values["company"]]
            on = values.get("date", now.date())
            journal.keep(account.invoices, new_id)
            inv = GrippInvoice(
                id=new_id,
                number=values.get("number") or max((i.number for i in account.invoices.values()), default=0) + 1,
                identity_id=values.get("identity", company.identity_id), company_id=company.id, date=on,
                expirydate=on + timedelta(days=company.termofpayment), status=values["status"],
                subject=values.get("subject", ""), lines=[], createdon=now,
                clientreference=values.get("clientreference", ""),
                paymentmethod=values.get("paymentmethod", "MANUALTRANSFER"),
                extendedproperties=values.get("extendedproperties"))
            account.invoices[new_id] = inv
            self._create_children(inv, raw, ctx, journal, touched)
        elif entity == "company":
            numbers = {c.customernumber for c in account.companies.values()}
            number = values.get("customernumber") or max(numbers, default=0) + 1
            if "customernumber" in values and number in numbers:
                raise CallError(ERROR_VALIDATION, f"Customernumber {number} is already in use")
            journal.keep(account.companies, new_id)
            company = GrippCompany(id=new_id, customernumber=number, companyname="",
                                   identity_id=values.get("identity", min(account.identities, default=0)),
                                   createdon=now)
            _assign(company, "company", {k: v for k, v in values.items() if k not in ("customernumber", "identity")})
            account.companies[new_id] = company
        else:
            journal.keep(account.ledgers, new_id)
            ledger = GrippLedger(id=new_id, number="", name="")
            _assign(ledger, "ledger", values)
            account.ledgers[new_id] = ledger
        return new_id

    def _create_children(self, inv: GrippInvoice, raw: dict[str, Any], ctx: _Context, journal: Journal,
                         touched: set[int]) -> None:
        """invoice.create may carry nested invoicelines and payments (META's example)."""
        for key, entity in (("invoicelines", "invoiceline"), ("payments", "payment")):
            children = raw.get(key) or []
            if not isinstance(children, list):
                raise CallError(ERROR_VALIDATION, f"Field {key} must be an array")
            for child in children:
                if not isinstance(child, dict):
                    raise CallError(ERROR_VALIDATION, f"Each of {key} must be an object")
                fields = {**{k: v for k, v in child.items() if k != "invoice"}, "invoice": inv.id}
                values = check_fields(ctx.account, entity, fields, creating=True)
                self._create(entity, values, fields, ctx, journal, touched)
        inv.updatedon = None  # a fresh invoice was never edited, whatever its children did

    def _new_line(self, line_id: int, values: dict[str, Any]) -> GrippInvoiceLine:
        return GrippInvoiceLine(
            id=line_id, amount=values["amount"], sellingprice=values["sellingprice"], vat_id=values["vat"],
            ledger_id=values.get("ledger"), description=values.get("description", ""),
            discount=values.get("discount", Decimal("0")), buyingprice=values.get("buyingprice", Decimal("0")),
            ordering=values.get("_ordering", 0), rowtype=values.get("rowtype", "NORMAL"))

    def _update(self, entity: str, record: Any, values: dict[str, Any], ctx: _Context, journal: Journal,
                touched: set[int]) -> None:
        account = ctx.account
        if entity == "invoiceline":
            if "invoice" in values and values["invoice"] != record.invoice.id:
                raise CallError(ERROR_VALIDATION, "An invoice line cannot move to another invoice")
            journal.keep(account.invoices, record.invoice.id)
            _assign(record.line, entity, {k: v for k, v in values.items() if k != "invoice"})
            self._touch_invoice(record.invoice.id, ctx, journal, touched)
            return
        if entity == "payment":
            journal.keep(account.payments, record.id)
            old_invoice = record.invoice_id
            _assign(record, entity, values)
            for invoice_id in {old_invoice, record.invoice_id}:
                self._touch_invoice(invoice_id, ctx, journal, touched)
            return
        if entity == "invoice":
            journal.keep(account.invoices, record.id)
            if "date" in values:  # expirydate is read-only: it follows the date
                record.expirydate = values["date"] + (record.expirydate - record.date)
            _assign(record, entity, values)
            self._touch_invoice(record.id, ctx, journal, touched)
            return
        if entity == "company":
            number = values.get("customernumber")
            if number is not None and any(c.customernumber == number and c.id != record.id
                                          for c in account.companies.values()):
                raise CallError(ERROR_VALIDATION, f"Customernumber {number} is already in use")
            journal.keep(account.companies, record.id)
            _assign(record, entity, values)
            record.updatedon = ctx.now
            return
        journal.keep(account.ledgers, record.id)
        _assign(record, entity, values)

    def _delete(self, entity: str, record: Any, ctx: _Context, journal: Journal, touched: set[int]) -> None:
        account = ctx.account
        if entity == "invoiceline":
            journal.keep(account.invoices, record.invoice.id)
            record.invoice.lines[:] = [x for x in record.invoice.lines if x.id != record.line.id]
            self._touch_invoice(record.invoice.id, ctx, journal, touched)
        elif entity == "payment":
            journal.keep(account.payments, record.id)
            del account.payments[record.id]
            self._touch_invoice(record.invoice_id, ctx, journal, touched)
        elif entity == "invoice":
            for payment in [p for p in account.payments.values() if p.invoice_id == record.id]:
                journal.keep(account.payments, payment.id)
                del account.payments[payment.id]
            journal.keep(account.invoices, record.id)
            del account.invoices[record.id]
            touched.add(record.id)
        elif entity == "company":
            if any(i.company_id == record.id for i in account.invoices.values()):
                raise CallError(ERROR_VALIDATION, f"Company {record.id} still has invoices")
            journal.keep(account.companies, record.id)
            del account.companies[record.id]
        else:
            if any(x.ledger_id == record.id for i in account.invoices.values() for x in i.lines):
                raise CallError(ERROR_VALIDATION, f"Ledger {record.id} is still used on invoice lines")
            journal.keep(account.ledgers, record.id)
            del account.ledgers[record.id]


# ------------------------------------------------------------------------------------------------ helpers


def _assign(record: Any, entity: str, values: dict[str, Any]) -> None:
    for name, value in values.items():
        setattr(record, WRITABLE[entity][name].attr, value)


def _paging(paging: Any) -> tuple[int, int]:
    if not isinstance(paging, dict):
        raise CallError(ERROR_PAGING, PAGING_MESSAGE)
    first, limit = paging.get("firstresult", 0), paging.get("maxresults")
    if not isinstance(first, int) or isinstance(first, bool) or not isinstance(limit, int) or isinstance(limit, bool):
        raise CallError(ERROR_PAGING, PAGING_MESSAGE)
    if not 1 <= limit <= MAX_PAGE_SIZE or first < 0:
        raise CallError(ERROR_PAGING, PAGING_MESSAGE)
    return first, limit


def _orderings(entity: str, orderings: Any) -> list[tuple[Callable[[Any, _Context], tuple[str, Any]], bool]]:
    if not orderings:
        return [(resolve(entity, f"{entity}.id"), False)]  # [UNCERTAIN] Gripp's default order
    if not isinstance(orderings, list):
        raise CallError(ERROR_BAD_REQUEST, "orderings must be an array")
    out = []
    for item in orderings:
        if not isinstance(item, dict) or str(item.get("direction", "asc")).lower() not in ("asc", "desc"):
            raise CallError(ERROR_BAD_REQUEST, "An ordering is {field, direction: asc|desc}")
        out.append((resolve(entity, item.get("field")), str(item.get("direction", "asc")).lower() == "desc"))
    return out


def _sort_key_of(getter: Callable[[Any, _Context], tuple[str, Any]], ctx: _Context, record: Any) -> tuple[int, Any]:
    return _sort_key(*getter(record, ctx))


def _sort_key(kind: str, value: Any) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, _normal(kind, value))  # NULLs first, as MySQL sorts them


def _is_write(call: Any) -> bool:
    method = call.get("method") if isinstance(call, dict) else None
    return isinstance(method, str) and method.partition(".")[2] not in READ_ACTIONS


def _error(call_id: Any, thread: str, code: int, message: str) -> dict[str, Any]:
    return {"id": call_id, "thread": thread, "result": {"success": False}, "error_code": code, "error": message}


def _thread() -> str:
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


def _bearer(request: httpx.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return gripp_money(value)
    if isinstance(value, datetime | date):
        return gripp_datetime(value)
    raise TypeError(f"cannot encode {type(value).__name__}")
