"""Builds the pure mapping's inputs from the cache and the user's mappings (shared by push, checks, dry run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sync.core.config import Settings
from sync.gripp.enums import GROUP
from sync.jobs.refresh import invoice_lines
from sync.mapping.customers import (
    CREATED,
    CompanyIn,
    CustomerMatch,
    RelatieIn,
    company_from_row,
    match_customer,
    relaties_from_rows,
)
from sync.mapping.types import (
    DEFAULT_KOSTENPLAATS_SOURCE,
    InvoiceIn,
    InvoiceLineIn,
    KostenplaatsMapping,
    KostenplaatsSource,
    LedgerMapping,
    MappingContext,
    SnelStartKostenplaatsInfo,
    SnelStartLedgerInfo,
    SnelStartVatRateInfo,
    VatMapping,
)
from sync.store import cache, outbox
from sync.store import kostenplaatsen as kp_repo
from sync.store import setup as setup_repo
from sync.store.db import Store


def invoice_ceiling(link: setup_repo.Link, settings: Settings) -> Decimal:
    """The largest invoice total (either sign) booked for the link's identity: its own ceiling, else the
    deployment's (SYNC_MAX_INVOICE_TOTAL). Every booking, dry run and check asks here."""
    return link.max_invoice_total if link.max_invoice_total is not None else settings.max_invoice_total


def kostenplaats_source(link: setup_repo.Link | None) -> KostenplaatsSource:
    """Where the identity's booking lines take their kostenplaats from (the default when never chosen)."""
    stored = link.kostenplaats_source if link is not None else None
    return KostenplaatsSource(stored) if stored in set(KostenplaatsSource) else DEFAULT_KOSTENPLAATS_SOURCE


def mapping_context(store: Store, identity_id: int, administration_id: str, *,
                    max_total: Decimal | None) -> MappingContext:
    """The identity's mappings and SnelStart's ledgers, rates and kostenplaatsen; `max_total` the identity's ceiling
    on an invoice's total (`invoice_ceiling`)."""
    vat = {
        row["gripp_vat_id"]: VatMapping(row["gripp_vat_id"], row["gripp_label"], row["kind"], row["percentage"])
        for row in setup_repo.vat_mappings(store, identity_id)
    }
    ledgers = {
        row["gripp_ledger_id"]: LedgerMapping(row["gripp_ledger_id"], row["gripp_label"], row["snelstart_number"])
        for row in setup_repo.ledger_mappings(store, identity_id)
    }
    snelstart_ledgers = {
        str(row["number"]): SnelStartLedgerInfo(
            id=row["ledger_id"], number=row["number"], description=row["description"], active=row["active"],
            function=row["function"], accepts=tuple(k for k in row["accepts"].split(",") if k),
            balance_sheet=row["balance_sheet"], kostenplaats_required=bool(row.get("kostenplaats_required")),
        )
        for row in cache.snelstart_ledgers(store, administration_id)
    }
    kostenplaatsen = {
        row["gripp_costheading_id"]: KostenplaatsMapping(row["gripp_costheading_id"], row["gripp_label"],
                                                         row["snelstart_number"])
        for row in kp_repo.mappings(store, identity_id)
    }
    snelstart_kostenplaatsen = {
        str(row["number"]): SnelStartKostenplaatsInfo(row["kostenplaats_id"], row["number"], row["description"] or "",
                                                      row["active"])
        for row in kp_repo.snelstart(store, administration_id)
    }
    projects = {pid: row["kostenplaats_id"] for pid, row in kp_repo.project_rows(store, administration_id).items()
                if row["state"] == kp_repo.CREATED and row["kostenplaats_id"]}
    rates = tuple(
        SnelStartVatRateInfo(row["kind"], row["percentage"], row["valid_from"], row["valid_to"])
        for row in cache.snelstart_vat_rates(store, administration_id)
    )
    return MappingContext(vat=vat, ledgers=ledgers, snelstart_ledgers=snelstart_ledgers, vat_rates=rates,
                          max_total=max_total, kostenplaats_source=kostenplaats_source(
                              setup_repo.get_link(store, identity_id)),
                          kostenplaatsen=kostenplaatsen, snelstart_kostenplaatsen=snelstart_kostenplaatsen,
                          project_kostenplaatsen=projects)


def invoice_input(row: dict[str, Any]) -> InvoiceIn:
    """A cached `gripp_invoices` row as the mapping's input."""
    lines = tuple(
        InvoiceLineIn(
            line_id=int(line["id"]), description=line.get("description") or "", quantity=line["amount"],
            unit_price=line["sellingprice"], discount_pct=line["discount"], vat_id=line.get("vat_id"),
            vat_label=line.get("vat_label") or "", ledger_id=line.get("ledger_id"),
            ledger_label=line.get("ledger_label") or "", costheading_id=line.get("costheading_id"),
            costheading_label=line.get("costheading_label") or "", project_id=line.get("project_id"),
            project_label=line.get("project_label") or "",
        )
        for line in invoice_lines(row)
        if line.get("rowtype") != GROUP  # a group heading carries no money: never a booking line, never a block
    )
    return InvoiceIn(
        invoice_id=row["invoice_id"], number=row["number"], invoice_date=row["invoice_date"] or date.min,
        due_date=row["due_date"], subject=row.get("subject") or "", customer_name=row.get("company_name") or "",
        total_incl_vat=row["total_incl_vat"], total_excl_vat=row.get("total_excl_vat"), lines=lines,
    )


def invoices_in_scope(store: Store, identity_id: int, start_date: date | None) -> list[dict[str, Any]]:
    """Sent invoices of the identity, dated on or after the link's start date: what should reach SnelStart."""
    return cache.sent_invoices(store, identity_id, start_date)


@dataclass
class CustomerInputs:
    """What customer matching reads: the administration's relaties, the pins a person made, the relaties this
    link created, and the Gripp companies."""

    relaties: list[RelatieIn]  # grows (appended to) as a run creates relaties
    pins: dict[int, str]  # company id -> relatie id
    created: dict[int, str]  # company id -> relatie id
    companies: dict[int, dict[str, Any]]
    booked: dict[int, str] = field(default_factory=dict)  # company id -> the relatie the link last booked it on
    # A company's match, worked out once for all its invoices: it weighs every relatie, so per invoice it would
    # cost invoices × relaties. Keyed by everything it depends on; a match with a problem (which names the invoice)
    # is worked out each time.
    _matched: dict[tuple, CustomerMatch] = field(default_factory=dict, repr=False, compare=False)

    def names(self) -> dict[str, str]:
        """Relatie id -> name, for the words of a conflict."""
        return {r.relatie_id: r.name for r in self.relaties}

    def company(self, company_id: int, fallback_name: str = "") -> CompanyIn:
        return company_from_row(self.companies.get(company_id), company_id, fallback_name)

    def match(self, row: dict[str, Any]) -> CustomerMatch:
        """The relatie an invoice row (`gripp_invoices`) goes to, or why none can be trusted with it."""
        company_id, name = row["company_id"], row.get("company_name") or ""
        key = (company_id, name, self.pins.get(company_id), self.created.get(company_id),
               self.booked.get(company_id), len(self.relaties))
        found = self._matched.get(key)
        if found is None:
            found = match_customer(self.company(company_id, name), self.relaties, number=row["number"],
                                   pinned=self.pins.get(company_id), created=self.created.get(company_id),
                                   booked=self.booked.get(company_id))
            if found.problem is None:
                self._matched[key] = found
        return found


def customer_inputs(store: Store, identity_id: int, administration_id: str) -> CustomerInputs:
    relaties = relaties_from_rows(cache.snelstart_relaties(store, administration_id))
    by_code = {r.relatiecode: r.relatie_id for r in relaties if r.relatiecode is not None}
    # A pin restored from a mappings file before its relatie was fetched holds only the relatiecode: it is looked
    # up by code, and until found it names the code (the invoice is blocked as "bestaat niet meer in SnelStart").
    pins = {r["company_id"]: r["relatie_id"] or by_code.get(r["relatiecode"], f"relatiecode {r['relatiecode']}")
            for r in setup_repo.customer_mappings(store, identity_id)}
    # The relaties this link created are remembered, and where its own bookings went; every other match is weighed
    # afresh each run.
    created = setup_repo.created_relaties(store, identity_id, CREATED)
    return CustomerInputs(relaties, pins, created, cache.gripp_companies(store),
                          outbox.booked_relaties(store, identity_id))
