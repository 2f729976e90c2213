"""Inputs and outputs of the invoice → booking mapping. Frozen, so a result can be cached and compared. A result's
problems are `sync.mapping.problems.Problem`s (a code and its values)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sync.mapping.problems import Problem

# ------------------------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class InvoiceLineIn:
    """One Gripp `invoiceline`. Gripp carries no VAT amount per line: `vat_id` is the id of a Gripp VAT rate."""

    line_id: int
    description: str
    quantity: Decimal
    unit_price: Decimal  # excluding VAT; negative on credit notes
    discount_pct: Decimal
    vat_id: int | None
    vat_label: str
    ledger_id: int | None
    ledger_label: str
    costheading_id: int | None = None  # Gripp's kostenplaats on the line
    costheading_label: str = ""
    project_id: int | None = None  # the line's project (a kostenplaats of its own when the identity says so)
    project_label: str = ""


@dataclass(frozen=True)
class InvoiceIn:
    invoice_id: int
    number: str
    invoice_date: date
    due_date: date | None
    subject: str
    customer_name: str
    total_incl_vat: Decimal  # Gripp's `totalinclvat`: the booking's `factuurbedrag` must equal it
    total_excl_vat: Decimal | None  # Gripp's `totalincldiscountexclvat`
    lines: tuple[InvoiceLineIn, ...]


@dataclass(frozen=True)
class VatMapping:
    """A Gripp VAT rate, as the user mapped it. `percentage` is the Gripp rate's own percentage."""

    gripp_vat_id: int
    gripp_label: str
    kind: str  # Hoog | Laag | Overig | Geen | Verlegd
    percentage: Decimal


@dataclass(frozen=True)
class LedgerMapping:
    gripp_ledger_id: int
    gripp_label: str
    snelstart_number: str


class KostenplaatsSource(StrEnum):
    """Where a booking line's kostenplaats comes from, per identity (`links.kostenplaats_source`)."""

    LINE = "line"  # Gripp's kostenplaats on the line, mapped to SnelStart's (the default)
    PROJECT = "project"  # the line's project: one SnelStart kostenplaats per project, made by the link
    NONE = "none"  # no kostenplaats on any booking line


DEFAULT_KOSTENPLAATS_SOURCE = KostenplaatsSource.LINE


@dataclass(frozen=True)
class KostenplaatsMapping:
    gripp_costheading_id: int
    gripp_label: str
    snelstart_number: str


@dataclass(frozen=True)
class SnelStartKostenplaatsInfo:
    """The parts of a SnelStart `kostenplaats` the mapping checks."""

    id: str
    number: int
    description: str
    active: bool


@dataclass(frozen=True)
class SnelStartLedgerInfo:
    """The parts of a SnelStart `grootboek` the mapping checks."""

    id: str
    number: int
    description: str
    active: bool
    function: str  # grootboekfunctie
    accepts: tuple[str, ...]  # btwSoort: the line kinds (Geen/Laag/Hoog/Overig) the account allows
    balance_sheet: bool  # rekeningCode == "Balans"
    kostenplaats_required: bool = False  # kostenplaatsVerplicht: every booking line on it needs a kostenplaats


@dataclass(frozen=True)
class SnelStartVatRateInfo:
    """One row of `GET /btwtarieven`; open bounds arrive as the sentinels 1900-01-01 and 2400-12-31."""

    kind: str
    percentage: Decimal
    valid_from: date
    valid_to: date  # inclusive (datumTotEnMet)


@dataclass(frozen=True)
class MappingContext:
    vat: Mapping[int, VatMapping]  # by Gripp VAT-rate id
    ledgers: Mapping[int, LedgerMapping]  # by Gripp ledger id
    snelstart_ledgers: Mapping[str, SnelStartLedgerInfo]  # by str(SnelStart number)
    vat_rates: tuple[SnelStartVatRateInfo, ...]
    # The largest invoice total (either sign) booked without a person raising it: the identity's ceiling
    # (SYNC_MAX_INVOICE_TOTAL). None: no ceiling but SnelStart's own (`sync.snelstart.limits.AMOUNT_MAX`).
    max_total: Decimal | None = None
    kostenplaats_source: KostenplaatsSource = DEFAULT_KOSTENPLAATS_SOURCE
    kostenplaatsen: Mapping[int, KostenplaatsMapping] = field(default_factory=dict)  # by Gripp costheading id
    snelstart_kostenplaatsen: Mapping[str, SnelStartKostenplaatsInfo] = field(default_factory=dict)  # by str(number)
    # Gripp project id -> the SnelStart kostenplaats the link made (or found) for it; a project not in here yet gets
    # one before its invoice is posted (sync.jobs.kostenplaatsen).
    project_kostenplaatsen: Mapping[int, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------------ outputs


@dataclass(frozen=True)
class BookingPlan:
    """A verkoopboeking ready to POST. `net_total` + `vat_total` == body["factuurbedrag"], to the cent."""

    body: dict
    net_total: Decimal  # Σ boekingsregels.bedrag, after the rounding adjustment
    vat_total: Decimal  # Σ btw.btwBedrag
    rounding_adjustment: Decimal  # Gripp's net − Σ line nets, put on the largest line (|x| ≤ 0.02)
    vat_adjustment: Decimal  # Gripp's VAT − Σ VAT per rate, put on the largest VAT row (|x| ≤ 0.02)
    fingerprint: str


@dataclass(frozen=True)
class MappingResult:
    """Either a plan or the blocking problems, never both; `notes` are non-blocking remarks for either."""

    plan: BookingPlan | None
    problems: tuple[Problem, ...]
    notes: tuple[Problem, ...] = field(default=())

    def __post_init__(self) -> None:
        if (self.plan is None) == (not self.problems):
            raise ValueError("a MappingResult has either a plan or problems")
        if any(not p.blocking for p in self.problems) or any(n.blocking for n in self.notes):
            raise ValueError("problems must be blocking and notes non-blocking")

    @property
    def ok(self) -> bool:
        return self.plan is not None
