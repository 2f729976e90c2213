"""A plain Dutch invoice PDF for the sandbox's `directpdfurl`, drawn with fpdf2's core Helvetica."""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from datetime import date, datetime
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from sync.core.money import cents
from sync.sandbox.world import GrippAccount, GrippInvoice

# The core fonts only know Latin-1; these have a readable stand-in.
_REPLACEMENTS = {"€": "EUR", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "•": "-",
                 "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe"}
_COLUMNS = ((86, "Omschrijving", "L"), (18, "Aantal", "R"), (28, "Prijs", "R"), (18, "BTW", "R"), (30, "Bedrag", "R"))


def latin1(text: object) -> str:
    """Text the core font can draw: known stand-ins, accents stripped where needed, else '?'."""
    out = []
    for char in str(text):
        char = _REPLACEMENTS.get(char, char)
        try:
            char.encode("latin-1")
        except UnicodeEncodeError:
            plain = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            char = plain or "?"
        out.append(char)
    return "".join(out)


def euro(amount: Decimal) -> str:
    """1234.5 -> 'EUR 1.234,50' (Dutch separators)."""
    text = f"{cents(amount):,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return f"EUR {text}"


def dutch_date(value: date) -> str:
    return value.strftime("%d-%m-%Y")


# Rendered PDFs by what went into them, shared by every simulator in the process: a test suite builds the same
# demo world hundreds of times and asks for the same invoices' PDFs each time.
_RENDERED: OrderedDict[str, bytes] = OrderedDict()
_RENDERED_MAX = 4096
_RENDERED_LOCK = threading.Lock()


def render_invoice_pdf(account: GrippAccount, invoice: GrippInvoice) -> bytes:
    """The invoice's PDF: drawn once per content (its lines, customer, identity and the VAT rates it names)."""
    key = repr((account.identities.get(invoice.identity_id, ""), account.companies.get(invoice.company_id), invoice,
                sorted((rate_id, rate) for rate_id, rate in account.vat_rates.items()
                       if any(line.vat_id == rate_id for line in invoice.lines))))
    with _RENDERED_LOCK:
        content = _RENDERED.get(key)
        if content is not None:
            _RENDERED.move_to_end(key)
            return content
    content = _render(account, invoice)
    with _RENDERED_LOCK:
        _RENDERED[key] = content
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return content


def _render(account: GrippAccount, invoice: GrippInvoice) -> bytes:
    totals = account.invoice_totals(invoice)
    company = account.companies.get(invoice.company_id)
    identity = account.identities.get(invoice.identity_id, "")
    credit = totals["totalinclvat"] < 0

    pdf = FPDF(format="A4")
    pdf.set_title(latin1(f"Factuur {invoice.number}"))
    pdf.set_author(latin1(identity))
    # A fixed creation date keeps the bytes stable for the same invoice.
    pdf.set_creation_date(datetime.combine(invoice.date, datetime.min.time()))
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", height: float = 5, align: str = "L") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.cell(0, height, latin1(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    line(identity, size=16, style="B", height=9)
    line("CREDITFACTUUR" if credit else "FACTUUR", size=12, style="B", height=8)
    pdf.ln(4)
    if company is not None:
        line(company.companyname, style="B")
        street = f"{company.visitingaddress_street} {company.visitingaddress_streetnumber}".strip()
        place = f"{company.visitingaddress_zipcode} {company.visitingaddress_city}".strip()
        for text in (street, place, company.vatnumber and f"btw-nummer {company.vatnumber}"):
            if text:
                line(text)
    pdf.ln(4)
    line(f"Factuurnummer: {invoice.number}")
    line(f"Factuurdatum: {dutch_date(invoice.date)}")
    line(f"Vervaldatum: {dutch_date(invoice.expirydate)}")
    if invoice.clientreference:
        line(f"Uw referentie: {invoice.clientreference}")
    if invoice.subject:
        line(f"Betreft: {invoice.subject}")
    pdf.ln(4)

    pdf.set_font("Helvetica", "B", 9)
    for width, title, align in _COLUMNS:
        pdf.cell(width, 6, title, border="B", align=align)
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    for item in sorted(invoice.lines, key=lambda x: (x.ordering, x.id)):
        if item.rowtype == "GROUP":  # a heading: its text only
            pdf.set_font("Helvetica", "B", 9)
            pdf.cell(180, 6, latin1(item.description)[:90], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.set_font("Helvetica", "", 9)
            continue
        rate = account.vat_rates.get(item.vat_id) if item.vat_id is not None else None
        cells = (
            latin1(item.description)[:60],
            f"{item.amount.normalize():f}",
            euro(item.sellingprice),
            latin1(rate.label if rate else "-"),
            euro(item.net),
        )
        for (width, _, align), text in zip(_COLUMNS, cells, strict=True):
            pdf.cell(width, 6, text, align=align)
        pdf.ln(6)

    pdf.ln(2)
    vat = totals["totalinclvat"] - totals["totalincldiscountexclvat"]
    for label, amount, style in (
        ("Subtotaal excl. btw", totals["totalincldiscountexclvat"], ""),
        ("Btw", vat, ""),
        ("Totaal incl. btw", totals["totalinclvat"], "B"),
    ):
        pdf.set_font("Helvetica", style, 10)
        pdf.cell(150, 6, label, align="R")
        pdf.cell(30, 6, euro(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if any(rate.reverse_charge for rate in account.vat_rates.values()
           if any(x.vat_id == rate.id and x.rowtype != "GROUP" for x in invoice.lines)):
        pdf.ln(2)
        line("Btw verlegd", size=9)
    pdf.ln(6)
    line(f"Gelieve te betalen voor {dutch_date(invoice.expirydate)} onder vermelding van {invoice.number}.", size=9)
    return bytes(pdf.output())
