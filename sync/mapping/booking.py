"""How a Gripp invoice becomes a SnelStart verkoopboeking — or the list of reasons it cannot.

Pure: no I/O, no clock. Money is Decimal throughout; the body holds Decimals (never float) for the client to
serialise.

Money rules
-----------
1. **Line net** = cents(quantity × unit_price × (100 − discount_pct) / 100), half-up — as Gripp shows it.
   Sub-cent prices and quantities are fine; the arithmetic runs at 60 digits so nothing rounds before that.
2. Lines whose net is 0.00 are dropped before anything else (SnelStart rejects a zero line, BOE-0028), and
   are not validated either: Gripp's text-only lines often have no VAT rate or ledger, and need none.
3. **VAT per kind, as Gripp invoiced it** = Σ over the Gripp VAT rates mapped to that kind of
   cents(Σ net of that rate's lines × the rate's percentage / 100): Gripp rounds VAT per rate on the rate's
   summed net, so two Gripp rates of 21 % mapped to Hoog give Hoog the sum of two rounded amounts, never one
   rounding of the summed net. Geen and Verlegd have no VAT. The percentage used is the mapping's (the Gripp
   rate's own); VAT_PERCENTAGE_WRONG has already checked it is SnelStart's.
4. **Booking lines**: one per (SnelStart ledger, mapping kind, kostenplaats), bedrag = Σ line nets, ordered by
   ledger number, then Hoog, Laag, Overig, Geen, Verlegd, then kostenplaats (none first). A group that nets to 0
   is dropped (BOE-0028).
   **VAT rows**: one per kind that still has a booking line — VerkopenHoog/Laag/Overig with its VAT, or
   VerkopenVerlegd with 0 for reverse charge. Geen has no row.
5. **Balance**: the booking totals Gripp's invoice: Σ bedrag + Σ btwBedrag = Gripp's `total_incl_vat`
   (`factuurbedrag` as is), and the lines total Gripp's net (`total_excl_vat`, when Gripp sends it).
   - net difference = Gripp's net − Σ line nets: revenue, so it goes onto the booking line with the largest
     absolute bedrag (first in body order on a tie; the next largest if that one would become 0.00);
   - VAT difference = (Gripp's total − Gripp's net) − Σ VAT: a rounding difference of VAT is VAT, so it goes
     onto the largest VAT row (Hoog, Laag or Overig). Without Gripp's net, the whole difference is VAT when
     there is a VAT row, and revenue when there is none.
   Each is reported (`rounding_adjustment`, `vat_adjustment`) and may be at most 0.02; more is TOTAL_MISMATCH:
   almost always a VAT rate mapped with the wrong percentage.
6. **Credit notes** need nothing special: Gripp's negative prices give negative nets, VAT and total. Mixed
   signs (a discount line) are fine; only the totals matter.

Decisions
---------
- Amounts no one meant are blocked: a total above the identity's ceiling (`MappingContext.max_total`,
  SYNC_MAX_INVOICE_TOTAL) is TOTAL_ABOVE_CEILING, and a total, booking line or VAT row beyond what SnelStart's
  amount fields hold (`limits.AMOUNT_MAX`) is AMOUNT_TOO_LARGE.
- `betalingstermijn` = (due_date − invoice_date) in days, clamped to 0..999; with no due date it is 30 (Gripp's
  and SnelStart's usual term) and a non-blocking DUE_DATE_MISSING note says so.
- Ledgers: a balance-sheet account, or a journal/VAT/payment-technical function (Dagboek*, Btw*,
  Tussenrekening…, Kruisposten, …) blocks (LEDGER_NOT_SALES). Any other non-sales function (Diversen,
  Inkopen*, …) is a non-blocking note, because many administrations keep revenue on `Diversen` accounts.
- An empty `accepts` on a ledger means it accepts no kind: strict, because BOE-0082 is what we must avoid.
- Verlegd mixed with *any* other kind, Geen included, is VERLEGD_MIXED: in SnelStart the Geen and the reverse
  -charge lines would be indistinguishable on the VAT return.
- Kostenplaatsen: per identity from Gripp's kostenplaats on the line (mapped to a SnelStart number that must
  exist and be active), from the line's project (the SnelStart kostenplaats the link makes for it), or none
  (`MappingContext.kostenplaats_source`). A grootboek with `kostenplaatsVerplicht` meeting a line without one is
  KOSTENPLAATS_REQUIRED, named by the grootboek: SnelStart would refuse the booking.
- Texts are cut to SnelStart's limits in UTF-16 units (`sync.snelstart.limits`), with an ellipsis.
- The fingerprint ignores line order and Gripp line ids, and the customer name and subject: it changes only
  when something that would change the booking's amounts, dates, number or line texts changes. A kostenplaats
  changed in Gripp after booking does not count (the recipe is unchanged, so no booked invoice reads as changed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, localcontext
from typing import TypeVar

from sync.core.money import CENT, ZERO, cents, to_decimal
from sync.core.words import N_, Msg
from sync.mapping.problems import Problem, ProblemCode, make_problem
from sync.mapping.types import (
    BookingPlan,
    InvoiceIn,
    InvoiceLineIn,
    KostenplaatsSource,
    MappingContext,
    MappingResult,
    SnelStartLedgerInfo,
    VatMapping,
)
from sync.mapping.vat import (
    LINE_KIND,
    MAPPING_KINDS,
    SALES_VAT_ROW,
    VERLEGD,
    ZERO_KINDS,
    normalize_kind,
    vat_kind_on,
)
from sync.snelstart import limits

TERM_MAX = 999
DEFAULT_TERM_DAYS = 30
ROUNDING_TOLERANCE = Decimal("0.02")  # as BOEKBRUG: correct small rounding, refuse anything larger
_ADJUSTABLE_VAT = frozenset({"Hoog", "Laag", "Overig"})  # kinds with a VAT row that may carry a rounding cent
_PRECISION = 60

# Sales functions: revenue may go there without remark.
SALES_FUNCTIONS = frozenset(
    {
        "VerkopenOmzetLaag",
        "VerkopenOmzetHoog",
        "VerkopenOmzetOverig",
        "VerkopenOmzetOnbelastVerlegd",
        "VerkopenBtwVrij",
        "VerkopenExportBinnenEU",
        "VerkopenExportBuitenEU",
        "DienstverleningBinnenEU",
        "InstallatieTeleverkoopBinnenEUgeen",
        "VerkoopGlobalisatieLaag",
        "VerkoopGlobalisatieHoog",
        "VerkoopGlobalisatieOverig",
    }
)
# Functions that can never hold revenue: journals, VAT accounts, payment-technical accounts.
_BLOCKING_FUNCTION_PREFIXES = ("dagboek", "btw")
_BLOCKING_FUNCTIONS = frozenset(
    {
        "TussenrekeningBetalingen",
        "OnbekendeBetalingen",
        "Kruisposten",
        "ContanteBetaling",
        "ElectronischeBetaling",
        "Winstboeking",
    }
)


# ------------------------------------------------------------------------------------------------ helpers


def line_net(line: InvoiceLineIn) -> Decimal:
    """A line's amount excluding VAT, to the cent, as Gripp computes it."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return _c(line.quantity * line.unit_price * (Decimal(100) - line.discount_pct) / Decimal(100))


def _c(value: Decimal) -> Decimal:
    """cents(), without a negative zero (it would serialise as "-0.00")."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        rounded = cents(value)
    return ZERO if rounded == 0 else rounded


def _usable(value: object) -> bool:
    """A finite Decimal small enough to compute with exactly (Gripp amounts are far below 10^20)."""
    return isinstance(value, Decimal) and value.is_finite() and (value == 0 or value.adjusted() < 20)


def _has_sub_cents(value: Decimal) -> bool:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return value != value.quantize(CENT)


def _as_given(value: object) -> Decimal | str:
    """An unusable amount as a person reads it: a number as a number (NaN, Infinity as such), anything else as
    Gripp sent it."""
    return value if isinstance(value, Decimal) else str(value)


def _ledger_key(number: str) -> str:
    """Mapped SnelStart numbers are typed by people: " 08000" is account 8000."""
    text = number.strip()
    return str(int(text)) if text.isdigit() else text


def _invoice_label(invoice: InvoiceIn) -> str:
    return invoice.number.strip() or f"(Gripp id {invoice.invoice_id})"


def _line_label(line: InvoiceLineIn) -> str:
    return limits.cut(line.description.strip() or "—", 60)


# ------------------------------------------------------------------------------------------------ analysis


@dataclass
class _Live:
    line: InvoiceLineIn
    net: Decimal
    kind: str | None = None  # mapping kind, when the VAT rate resolves
    percentage: Decimal | None = None  # the mapping's, with the kind
    ledger: SnelStartLedgerInfo | None = None  # when the ledger resolves
    # The SnelStart kostenplaats id ("" for a project's not made yet), when the line has one; "?" when Gripp's is
    # not mapped (a problem already says so, not "one is missing" too).
    kostenplaats: str | None = None
    kostenplaats_order: tuple[int, str] = (0, "")  # its place among the booking lines: (number, id)


@dataclass
class _Analysis:
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    live: list[_Live] = field(default_factory=list)
    term: int = DEFAULT_TERM_DAYS
    # Set when the totals could be computed (every line's VAT resolved and the Gripp total usable):
    kind_net: dict[str, Decimal] | None = None
    kind_vat: dict[str, Decimal] | None = None
    net_difference: Decimal | None = None  # Gripp's net − Σ line nets: revenue
    vat_difference: Decimal | None = None  # Gripp's VAT − Σ VAT per rate: VAT

    def add(self, problem: Problem) -> None:
        (self.problems if problem.blocking else self.notes).append(problem)


def _check_header(invoice: InvoiceIn, ctx: MappingContext, a: _Analysis) -> bool:
    """Number, term and total (within SnelStart's amounts and the identity's ceiling). Returns whether the Gripp
    total is usable for the balance check."""
    subject = f"invoice:{invoice.invoice_id}"
    number = invoice.number
    if not number.strip():
        a.add(make_problem(ProblemCode.NUMBER_MISSING, subject, invoice_id=str(invoice.invoice_id)))
    elif not limits.fits(number, limits.FACTUURNUMMER):
        a.add(make_problem(ProblemCode.NUMBER_TOO_LONG, subject, number=number, length=limits.utf16_len(number)))

    if invoice.due_date is None:
        a.add(make_problem(ProblemCode.DUE_DATE_MISSING, subject, number=_invoice_label(invoice),
                           days=DEFAULT_TERM_DAYS))
    else:
        a.term = min(max((invoice.due_date - invoice.invoice_date).days, 0), TERM_MAX)

    total = invoice.total_incl_vat
    if not _usable(total):
        what = Msg("problem.amount_invalid.total")
        a.add(make_problem(ProblemCode.AMOUNT_INVALID, subject, number=_invoice_label(invoice), what=what,
                           value=_as_given(total)))
        return False
    if _has_sub_cents(total):
        a.add(make_problem(ProblemCode.AMOUNT_PRECISION, subject, number=_invoice_label(invoice), amount=total))
        return False
    if abs(total) > limits.AMOUNT_MAX:
        a.add(_too_large(invoice, Msg("problem.amount_invalid.total"), total))
        return False
    if ctx.max_total is not None and abs(total) > ctx.max_total:
        a.add(make_problem(ProblemCode.TOTAL_ABOVE_CEILING, subject, number=_invoice_label(invoice), amount=total,
                           ceiling=ctx.max_total))
    return True


def _too_large(invoice: InvoiceIn, what: Msg, amount: Decimal) -> Problem:
    return make_problem(ProblemCode.AMOUNT_TOO_LARGE, f"invoice:{invoice.invoice_id}", number=_invoice_label(invoice),
                        what=what, amount=amount, most=limits.AMOUNT_MAX)


def _check_lines(invoice: InvoiceIn, a: _Analysis) -> None:
    """Compute each line's net, keep the non-zero ones, and flag missing VAT rates and ledgers on those."""
    invalid = False
    for line in invoice.lines:
        bad = [v for v in (line.quantity, line.unit_price, line.discount_pct) if not _usable(v)]
        if bad:
            invalid = True
            what = Msg("problem.amount_invalid.line", line=_line_label(line))
            number = _invoice_label(invoice)
            a.add(make_problem(ProblemCode.AMOUNT_INVALID, f"line:{line.line_id}", number=number, what=what,
                               value=_as_given(bad[0])))
            continue
        net = line_net(line)
        if net == 0:
            continue
        a.live.append(_Live(line, net))
        values = {"line": _line_label(line), "line_id": str(line.line_id), "number": _invoice_label(invoice)}
        if line.vat_id is None:
            a.add(make_problem(ProblemCode.LINE_NO_VAT, f"line:{line.line_id}", **values))
        if line.ledger_id is None:
            a.add(make_problem(ProblemCode.LINE_NO_LEDGER, f"line:{line.line_id}", **values))
    if not a.live and not invalid:
        a.add(make_problem(ProblemCode.NO_LINES, f"invoice:{invoice.invoice_id}", number=_invoice_label(invoice)))


def _first_seen(values: Iterable[int | None]) -> list[int]:
    return list(dict.fromkeys(v for v in values if v is not None))


def _check_vat(invoice: InvoiceIn, ctx: MappingContext, a: _Analysis) -> None:
    """Each Gripp VAT rate on the invoice: mapped, to a real kind, at SnelStart's percentage on the date."""
    line_labels = {lv.line.vat_id: lv.line.vat_label for lv in a.live}

    def label(vat_id: int) -> str:
        mapping = ctx.vat.get(vat_id)
        return (mapping.gripp_label if mapping and mapping.gripp_label else line_labels.get(vat_id)) or "?"

    resolved: dict[int, VatMapping] = {}
    kinds: dict[int, str] = {}
    for vat_id in _first_seen(lv.line.vat_id for lv in a.live):
        subject = f"vat:{vat_id}"
        mapping = ctx.vat.get(vat_id)
        if mapping is None:
            a.add(make_problem(ProblemCode.VAT_UNMAPPED, subject, label=label(vat_id), vat_id=str(vat_id)))
            continue
        kind = normalize_kind(mapping.kind)
        if kind is None:
            a.add(make_problem(ProblemCode.VAT_KIND_INVALID, subject, label=label(vat_id), vat_id=str(vat_id),
                               kind=mapping.kind))
            continue
        mapping = replace(mapping, percentage=_coerce_amount(mapping.percentage))
        if not _usable(mapping.percentage):
            a.add(make_problem(ProblemCode.VAT_UNMAPPED, subject, label=label(vat_id), vat_id=str(vat_id)))
            continue
        resolved[vat_id], kinds[vat_id] = mapping, kind
        expected = vat_kind_on(ctx.vat_rates, kind, invoice.invoice_date)
        if expected is None or mapping.percentage != expected:
            a.add(
                make_problem(
                    ProblemCode.VAT_PERCENTAGE_WRONG,
                    subject,
                    label=label(vat_id),
                    vat_id=str(vat_id),
                    kind=kind,
                    mapped=mapping.percentage,
                    date=invoice.invoice_date,
                    expected=(Msg("problem.vat_percentage_wrong.rate", rate=expected) if expected is not None
                              else Msg("problem.vat_percentage_wrong.no_rate")),
                )
            )
    for live in a.live:
        if live.line.vat_id in resolved:
            live.kind = kinds[live.line.vat_id]
            live.percentage = resolved[live.line.vat_id].percentage

    if VERLEGD in kinds.values() and len(set(kinds.values())) > 1:
        a.add(
            make_problem(
                ProblemCode.VERLEGD_MIXED,
                f"invoice:{invoice.invoice_id}",
                number=_invoice_label(invoice),
                verlegd=", ".join(f"‘{label(i)}’" for i, k in kinds.items() if k == VERLEGD),
                others=", ".join(f"‘{label(i)}’" for i, k in kinds.items() if k != VERLEGD),
            )
        )


def _blocking_reason(info: SnelStartLedgerInfo) -> Msg | None:
    if info.balance_sheet:
        return Msg("ledger.balance_sheet")
    function = info.function or ""
    if function.lower().startswith(_BLOCKING_FUNCTION_PREFIXES) or function in _BLOCKING_FUNCTIONS:
        return Msg("ledger.with_function", function=function)
    return None


def ledger_misfit(info: SnelStartLedgerInfo, vat_kinds: Iterable[str]) -> Msg | None:
    """Why a SnelStart ledger cannot take revenue booked with these VAT mapping kinds, or None when it fits: it must
    be active, a sales (omzet) account, and accept each kind — the rules `_check_ledgers` blocks invoices on."""
    if not info.active:
        return Msg("ledger.misfit.inactive")
    reason = _blocking_reason(info)
    if reason is None and info.function not in SALES_FUNCTIONS:
        reason = Msg("ledger.with_function", function=info.function or "—")
    if reason is not None:
        return Msg("ledger.misfit.not_sales", reason=reason)
    accepts = {normalize_kind(k) for k in info.accepts}
    missing = sorted({LINE_KIND[k] for k in vat_kinds if k in LINE_KIND} - accepts)
    if missing:
        return Msg("ledger.misfit.kinds", kinds=", ".join(missing))
    return None


def _check_ledgers(ctx: MappingContext, a: _Analysis) -> None:
    """Each Gripp ledger on the invoice: mapped, existing, active, a sales account; then the VAT kinds on it."""
    labels = {lv.line.ledger_id: lv.line.ledger_label for lv in a.live}
    resolved: dict[int, SnelStartLedgerInfo] = {}
    for ledger_id in _first_seen(lv.line.ledger_id for lv in a.live):
        subject = f"ledger:{ledger_id}"
        mapping = ctx.ledgers.get(ledger_id)
        label = (mapping.gripp_label if mapping and mapping.gripp_label else labels.get(ledger_id)) or "?"
        if mapping is None:
            a.add(make_problem(ProblemCode.LEDGER_UNMAPPED, subject, label=label, ledger_id=str(ledger_id)))
            continue
        info = ctx.snelstart_ledgers.get(_ledger_key(mapping.snelstart_number))
        base = {"label": label, "ledger_id": str(ledger_id), "ss_number": mapping.snelstart_number.strip()}
        if info is None:
            a.add(make_problem(ProblemCode.LEDGER_MISSING, subject, **base))
            continue
        resolved[ledger_id] = info
        base |= {"ss_number": str(info.number), "ss_label": info.description}
        if not info.active:
            a.add(make_problem(ProblemCode.LEDGER_INACTIVE, subject, **base))
        reason = _blocking_reason(info)
        if reason is not None:
            a.add(make_problem(ProblemCode.LEDGER_NOT_SALES, subject, reason=reason, **base))
        elif info.function not in SALES_FUNCTIONS:
            a.add(make_problem(ProblemCode.LEDGER_NOT_SALES_NOTE, subject, function=info.function or "—", **base))

    seen: set[tuple[int, int]] = set()
    for live in a.live:
        if live.line.ledger_id is None or live.line.ledger_id not in resolved:
            continue
        ledger_id, vat_id = live.line.ledger_id, live.line.vat_id
        live.ledger = info = resolved[ledger_id]
        if live.kind is None or vat_id is None or (ledger_id, vat_id) in seen:
            continue
        seen.add((ledger_id, vat_id))
        line_kind = LINE_KIND[live.kind]
        accepts = {normalize_kind(k) for k in info.accepts}
        if line_kind not in accepts:
            mapping = ctx.ledgers[ledger_id]
            shown_kind = line_kind if live.kind != VERLEGD else f"{line_kind} ({VERLEGD.lower()})"
            a.add(
                make_problem(
                    ProblemCode.LEDGER_VAT_MISMATCH,
                    f"ledger:{ledger_id}/vat:{vat_id}",
                    label=mapping.gripp_label or live.line.ledger_label,
                    ledger_id=str(ledger_id),
                    ss_number=str(info.number),
                    ss_label=info.description,
                    kind=shown_kind,
                    vat_label=live.line.vat_label or (ctx.vat[vat_id].gripp_label if vat_id in ctx.vat else "?"),
                    vat_id=str(vat_id),
                    accepts=", ".join(info.accepts) or Msg("problem.ledger_vat_mismatch.none"),
                )
            )


def _check_kostenplaatsen(invoice: InvoiceIn, ctx: MappingContext, a: _Analysis) -> None:
    """Each line's kostenplaats as the identity says where it comes from, and the grootboeken that demand one."""
    source = ctx.kostenplaats_source
    for live in a.live:
        line = live.line
        if source == KostenplaatsSource.PROJECT and line.project_id is not None:
            made = ctx.project_kostenplaatsen.get(line.project_id, "")
            live.kostenplaats, live.kostenplaats_order = made, (0, f"project:{line.project_id}")
        elif source == KostenplaatsSource.LINE and line.costheading_id is not None:
            live.kostenplaats = "?"
            subject = f"kostenplaats:{line.costheading_id}"
            mapping = ctx.kostenplaatsen.get(line.costheading_id)
            label = (mapping.gripp_label if mapping and mapping.gripp_label else line.costheading_label) or "?"
            base = {"label": label, "costheading_id": str(line.costheading_id)}
            if mapping is None:
                a.add(make_problem(ProblemCode.KOSTENPLAATS_UNMAPPED, subject, **base))
                continue
            info = ctx.snelstart_kostenplaatsen.get(_ledger_key(mapping.snelstart_number))
            if info is None:
                a.add(make_problem(ProblemCode.KOSTENPLAATS_MISSING, subject,
                                   ss_number=mapping.snelstart_number.strip(), **base))
                continue
            if not info.active:
                a.add(make_problem(ProblemCode.KOSTENPLAATS_INACTIVE, subject, ss_number=str(info.number),
                                   ss_label=info.description, **base))
                continue
            live.kostenplaats, live.kostenplaats_order = info.id, (info.number, info.id)
    named: set[int] = set()
    for live in a.live:
        ledger, ledger_id = live.ledger, live.line.ledger_id
        if ledger is None or ledger_id is None or not ledger.kostenplaats_required or live.kostenplaats is not None \
                or ledger_id in named:
            continue
        named.add(ledger_id)
        ledger_mapping = ctx.ledgers.get(ledger_id)
        a.add(make_problem(
            ProblemCode.KOSTENPLAATS_REQUIRED, f"ledger:{ledger_id}/kostenplaats",
            label=(ledger_mapping.gripp_label if ledger_mapping and ledger_mapping.gripp_label
                   else live.line.ledger_label) or "?",
            ledger_id=str(ledger_id), ss_number=str(ledger.number), ss_label=ledger.description,
            number=_invoice_label(invoice), line=_line_label(live.line),
            source=Msg(KOSTENPLAATS_SOURCE_WORDS[source]),
        ))


# How the words name where a line's kostenplaats would have come from (problem.kostenplaats_required's {source}).
KOSTENPLAATS_SOURCE_WORDS = {
    KostenplaatsSource.LINE: N_("kostenplaats_source.line.missing"),
    KostenplaatsSource.PROJECT: N_("kostenplaats_source.project.missing"),
    KostenplaatsSource.NONE: N_("kostenplaats_source.none.missing"),
}


def _check_totals(invoice: InvoiceIn, a: _Analysis) -> None:
    """Rules 3 and 5: VAT per Gripp rate summed per kind, and the differences with Gripp's net and total."""
    if not a.live or any(lv.kind is None for lv in a.live):
        return
    kind_net: dict[str, Decimal] = {}
    rate_net: dict[int | None, tuple[str, Decimal, Decimal]] = {}  # Gripp VAT id -> (kind, percentage, net)
    for live in a.live:
        kind, pct = live.kind or "", live.percentage or ZERO
        kind_net[kind] = kind_net.get(kind, ZERO) + live.net
        _, _, net = rate_net.get(live.line.vat_id, (kind, pct, ZERO))
        rate_net[live.line.vat_id] = (kind, pct, net + live.net)
    kind_vat: dict[str, Decimal] = dict.fromkeys(kind_net, ZERO)
    for kind, pct, net in rate_net.values():
        if kind not in ZERO_KINDS:
            kind_vat[kind] += _c(net * pct / Decimal(100))
    a.kind_net, a.kind_vat = kind_net, kind_vat
    net_total, vat_total = sum(kind_net.values(), ZERO), sum(kind_vat.values(), ZERO)
    gripp_net = invoice.total_excl_vat if _usable(invoice.total_excl_vat) else None
    has_vat_row = any(kind in _ADJUSTABLE_VAT for kind in kind_net)
    if gripp_net is not None:
        a.net_difference = _c(gripp_net - net_total)
        a.vat_difference = _c(invoice.total_incl_vat - gripp_net - vat_total)
    elif has_vat_row:
        a.net_difference, a.vat_difference = ZERO, _c(invoice.total_incl_vat - net_total - vat_total)
    else:
        a.net_difference, a.vat_difference = _c(invoice.total_incl_vat - net_total - vat_total), ZERO
    too_large = max(abs(a.net_difference), abs(a.vat_difference)) > ROUNDING_TOLERANCE
    if too_large or (a.vat_difference and not has_vat_row):  # VAT Gripp charged that no VAT row can carry
        a.add(_total_mismatch(invoice, net_total + vat_total, a.net_difference + a.vat_difference))


def _total_mismatch(invoice: InvoiceIn, computed: Decimal, difference: Decimal) -> Problem:
    return make_problem(
        ProblemCode.TOTAL_MISMATCH,
        f"invoice:{invoice.invoice_id}",
        number=_invoice_label(invoice),
        gripp_total=invoice.total_incl_vat,
        computed_total=computed,
        difference=abs(difference),
    )


def _analyse(invoice: InvoiceIn, ctx: MappingContext) -> _Analysis:
    a = _Analysis()
    total_ok = _check_header(invoice, ctx, a)
    _check_lines(invoice, a)
    _check_vat(invoice, ctx, a)
    _check_ledgers(ctx, a)
    _check_kostenplaatsen(invoice, ctx, a)
    if total_ok:
        _check_totals(invoice, a)
    return a


# ------------------------------------------------------------------------------------------------ building


@dataclass
class _Group:
    ledger: SnelStartLedgerInfo
    kind: str
    kostenplaats: str | None = None
    bedrag: Decimal = ZERO
    descriptions: list[str] = field(default_factory=list)


def _group_text(group: _Group, invoice: InvoiceIn) -> str:
    """One line's own text; for several, their distinct texts joined (trimmed to 250)."""
    texts = list(dict.fromkeys(d for d in group.descriptions if d.strip()))
    if not texts:
        return limits.cut(invoice.subject or group.ledger.description, limits.OMSCHRIJVING)
    return limits.cut("; ".join(texts), limits.OMSCHRIJVING)


def _build(invoice: InvoiceIn, a: _Analysis, relatie_id: str) -> BookingPlan | Problem:
    """Rules 4 and 5; only called on an invoice without blocking problems. Returns NO_LINES/TOTAL_MISMATCH
    when the groups cancel out or no line can take the rounding difference, AMOUNT_TOO_LARGE when a booking line
    or VAT row is more than SnelStart holds."""
    assert a.kind_vat is not None and a.net_difference is not None and a.vat_difference is not None
    groups: dict[tuple[int, str, tuple[int, str]], _Group] = {}
    for live in a.live:
        assert live.ledger is not None and live.kind is not None
        key = (live.ledger.number, live.kind, live.kostenplaats_order if live.kostenplaats is not None else (-1, ""))
        group = groups.setdefault(key, _Group(live.ledger, live.kind, live.kostenplaats))
        group.bedrag += live.net
        group.descriptions.append(live.line.description)
    ordered = [
        groups[key]
        for key in sorted(groups, key=lambda k: (k[0], MAPPING_KINDS.index(k[1]), k[2]))
        if groups[key].bedrag != 0
    ]
    if not ordered:
        return make_problem(ProblemCode.NO_LINES, f"invoice:{invoice.invoice_id}", number=_invoice_label(invoice))

    adjustment = a.net_difference
    if adjustment != 0:
        # Largest |bedrag| first; sorted() is stable, so ties keep body order.
        candidates = sorted(ordered, key=lambda g: abs(g.bedrag), reverse=True)
        target = next((g for g in candidates if g.bedrag + adjustment != 0), None)
        if target is None:
            # Every line is exactly −difference (a few cents): any of them would become a zero line.
            return _total_mismatch(invoice, invoice.total_incl_vat - adjustment, adjustment)
        target.bedrag += adjustment

    kinds_present = {g.kind for g in ordered}
    vat = {kind: a.kind_vat[kind] for kind in MAPPING_KINDS if kind in kinds_present and kind in SALES_VAT_ROW}
    if a.vat_difference != 0:
        adjustable = [k for k in vat if k in _ADJUSTABLE_VAT]
        if not adjustable:
            return _total_mismatch(invoice, invoice.total_incl_vat - a.vat_difference, a.vat_difference)
        largest = max(adjustable, key=lambda k: abs(vat[k]))  # max() keeps the first of equals: body order
        vat[largest] += a.vat_difference
    # Lines within a total SnelStart holds can still sum past it per ledger (a huge line and its huge discount).
    huge = next((x for x in (*(g.bedrag for g in ordered), *vat.values()) if abs(x) > limits.AMOUNT_MAX), None)
    if huge is not None:
        return _too_large(invoice, Msg("problem.amount_too_large.booking_line"), huge)
    btw = [{"btwSoort": SALES_VAT_ROW[kind], "btwBedrag": _c(amount)} for kind, amount in vat.items()]
    regels = [
        {
            "omschrijving": _group_text(g, invoice),
            "grootboek": {"id": g.ledger.id},
            **({"kostenplaats": {"id": g.kostenplaats}} if g.kostenplaats is not None else {}),
            "bedrag": _c(g.bedrag),
            "btwSoort": LINE_KIND[g.kind],
        }
        for g in ordered
    ]
    customer = invoice.customer_name.strip()
    omschrijving = f"Factuur {invoice.number} — {customer}" if customer else f"Factuur {invoice.number}"
    body = {
        "factuurnummer": invoice.number,
        "factuurdatum": f"{invoice.invoice_date.isoformat()}T00:00:00",
        "klant": {"id": relatie_id},
        "omschrijving": limits.cut(omschrijving, limits.OMSCHRIJVING),
        "factuurbedrag": _c(invoice.total_incl_vat),
        "betalingstermijn": a.term,
        "boekingsregels": regels,
        "btw": btw,
    }
    net_total = sum((_c(g.bedrag) for g in ordered), ZERO)  # what the rows and the VAT rows above say
    vat_total = sum((_c(amount) for amount in vat.values()), ZERO)
    return BookingPlan(
        body=body,
        net_total=net_total,
        vat_total=vat_total,
        rounding_adjustment=adjustment,
        vat_adjustment=a.vat_difference,
        fingerprint=invoice_fingerprint(invoice),
    )


# ------------------------------------------------------------------------------------------------ public


def check_invoice(invoice: InvoiceIn, ctx: MappingContext, *, include_notes: bool = False) -> tuple[Problem, ...]:
    """Everything that would block `invoice`, all at once (empty: it can be booked). Used by checks and
    dry runs, which have no relatie yet. With `include_notes`, the non-blocking notes follow."""
    result = _map(invoice, ctx, relatie_id="")
    return result.problems + (result.notes if include_notes else ())


def map_invoice(invoice: InvoiceIn, ctx: MappingContext, *, relatie_id: str) -> MappingResult:
    """The verkoopboeking for `invoice` booked on relatie `relatie_id`, or every problem that blocks it."""
    if not relatie_id:
        raise ValueError("relatie_id is required: find or create the SnelStart relatie first")
    return _map(invoice, ctx, relatie_id=relatie_id)


_Given = TypeVar("_Given")


def _coerce_amount(value: _Given) -> Decimal | _Given:
    """Callers build inputs from JSON and database rows: accept int/str/float amounts as `to_decimal` reads
    them; anything unreadable stays as it is (whatever its declared type), for AMOUNT_INVALID to report rather
    than an exception."""
    if isinstance(value, Decimal):
        return value
    try:
        return to_decimal(value)
    except (ValueError, TypeError):
        return value


def _coerce(invoice: InvoiceIn) -> InvoiceIn:
    """The same invoice with None texts as "" and amounts as Decimal, so the rules can rely on the types."""
    lines = tuple(
        replace(
            line,
            description=line.description or "",
            vat_label=line.vat_label or "",
            ledger_label=line.ledger_label or "",
            quantity=_coerce_amount(line.quantity),
            unit_price=_coerce_amount(line.unit_price),
            discount_pct=_coerce_amount(line.discount_pct),
        )
        for line in invoice.lines
    )
    return replace(
        invoice,
        number="" if invoice.number is None else str(invoice.number),
        subject=invoice.subject or "",
        customer_name=invoice.customer_name or "",
        total_incl_vat=_coerce_amount(invoice.total_incl_vat),
        total_excl_vat=None if invoice.total_excl_vat is None else _coerce_amount(invoice.total_excl_vat),
        lines=lines,
    )


def _map(invoice: InvoiceIn, ctx: MappingContext, *, relatie_id: str) -> MappingResult:
    invoice = _coerce(invoice)
    a = _analyse(invoice, ctx)
    notes = tuple(a.notes)
    if a.problems:
        return MappingResult(plan=None, problems=tuple(a.problems), notes=notes)
    if relatie_id and any(live.kostenplaats == "" for live in a.live):
        raise ValueError("every project on the invoice needs its SnelStart kostenplaats first")
    built = _build(invoice, a, relatie_id)
    if isinstance(built, Problem):
        return MappingResult(plan=None, problems=(built,), notes=notes)
    return MappingResult(plan=built, problems=(), notes=notes)


def _canonical_amount(value: object) -> str:
    """1, 1.0 and 1.00 are the same amount; Decimal('-0') is 0."""
    if isinstance(value, Decimal) and value.is_finite():
        return "0" if value == 0 else format(value.normalize(), "f")
    return str(value)


def invoice_fingerprint(invoice: InvoiceIn) -> str:
    """A stable hash of what the booking depends on, to notice an invoice changed in Gripp after booking.

    Covers the number, invoice and due date, both totals and, per line, its text, quantity, price, discount,
    VAT rate and ledger. Line order and Gripp line ids do not count (Gripp renumbers lines on edit without
    changing the booking); neither do the customer's name and the subject. Prefixed with a version so a future
    change of recipe is not mistaken for a changed invoice.
    """
    invoice = _coerce(invoice)
    lines = sorted(
        [
            line.description,
            _canonical_amount(line.quantity),
            _canonical_amount(line.unit_price),
            _canonical_amount(line.discount_pct),
            line.vat_id if line.vat_id is not None else -1,
            line.ledger_id if line.ledger_id is not None else -1,
        ]
        for line in invoice.lines
    )
    payload = {
        "number": invoice.number,
        "date": invoice.invoice_date.isoformat(),
        "due": invoice.due_date.isoformat() if invoice.due_date else None,
        "total": _canonical_amount(invoice.total_incl_vat),
        "total_excl": _canonical_amount(invoice.total_excl_vat) if invoice.total_excl_vat is not None else None,
        "lines": lines,
    }
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return f"v1:{digest}"
