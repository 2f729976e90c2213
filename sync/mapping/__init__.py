"""Pure mapping: a Gripp invoice → a SnelStart verkoopboeking body, or the problems that block it."""

from sync.mapping.booking import check_invoice, invoice_fingerprint, line_net, map_invoice
from sync.mapping.problems import PREVENTS, PROBLEMS, Problem, ProblemCode, make_problem
from sync.mapping.types import (
    BookingPlan,
    InvoiceIn,
    InvoiceLineIn,
    LedgerMapping,
    MappingContext,
    MappingResult,
    SnelStartLedgerInfo,
    SnelStartVatRateInfo,
    VatMapping,
)
from sync.mapping.vat import MAPPING_KINDS, normalize_kind, suggest_vat_kind, vat_kind_on

__all__ = [
    "MAPPING_KINDS",
    "PREVENTS",
    "PROBLEMS",
    "BookingPlan",
    "InvoiceIn",
    "InvoiceLineIn",
    "LedgerMapping",
    "MappingContext",
    "MappingResult",
    "Problem",
    "ProblemCode",
    "SnelStartLedgerInfo",
    "SnelStartVatRateInfo",
    "VatMapping",
    "check_invoice",
    "invoice_fingerprint",
    "line_net",
    "make_problem",
    "map_invoice",
    "normalize_kind",
    "suggest_vat_kind",
    "vat_kind_on",
]
