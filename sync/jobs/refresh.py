"""Refresh the cache: Gripp incrementally, SnelStart's open items in full pages, reference data when needed.

Gripp: rows changed since the cursor (`updatedon`), plus never-edited rows created since then (`createdon`
with `updatedon isnull`, because Gripp has no OR), with a small look-back window. The cursor is the run's start
time and moves only after the rows are committed. Pages of all queries go in one batched POST per round.

No invoice is missed for good:
- paging is by key, not by offset: each next page asks for `id greater` than the last id seen, ordered by id,
  so a row deleted, inserted or moved while the pages are read cannot shift another row past the reader (an
  offset would skip one for every row that left the pages already read);
- what paging cannot see — a row changed without its `updatedon` moving, a clock that runs behind — a sweep
  finds: every sent invoice (and every company) read again, by key. It runs when Gripp counts other than the
  cache holds as sent (one extra call in the first POST of every refresh: a page of 1 row, whose answer carries
  the count), and at least every `SWEEP_EVERY`.

No invoice deleted for nothing: a cached sent invoice that a complete read (the sweep, or a full read) did not find
is asked for by id; only one Gripp does not return then is marked deleted (`cache.DELETED`). A partial read — a page
that failed, Gripp's quota spent — raises before that, so it never concludes an invoice is gone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sync.core.dates import AMSTERDAM, parse_date, parse_local_datetime
from sync.core.events import EventKind
from sync.core.money import to_decimal
from sync.gripp.client import GrippCall, GrippClient, parse_page
from sync.gripp.enums import INVOICE_STATUS
from sync.gripp.errors import GrippResponseError
from sync.gripp.filters import Filter
from sync.gripp.models import Company, Costheading, Invoice, InvoiceLine, Payment, Project
from sync.jobs import answers
from sync.snelstart import odata
from sync.snelstart.client import SnelStartClient
from sync.store import cache, outbox
from sync.store import history as log
from sync.store import kostenplaatsen as kp_repo
from sync.store import setup as setup_repo
from sync.store.db import Store

LOOKBACK = timedelta(minutes=10)
SWEEP_EVERY = timedelta(hours=24)
# invoice.status SENT, filtered by its id (`sync.gripp.enums`): Gripp's docs say a filter takes an enum's integer or
# string form, and the id is what the link reads too.
SENT_STATUS_ID = INVOICE_STATUS.values.index("SENT") + 1  # id 1 is values[0]
PAGE = 250
# Page calls per POST: the hourly quota counts POSTs, memory and Gripp's answer time grow with the rows in one answer.
# Eight pages (2,000 invoices with their lines) is 6 POSTs per 10,000 invoices.
CALLS_PER_POST = 8
GRIPP_SCOPE = "gripp"


# ------------------------------------------------------------------------------------------------- Gripp
def refresh_gripp(store: Store, client: GrippClient, *, full: bool = False) -> dict[str, int]:
    started = store.now()
    cursor = None if full else cache.get_state(store, GRIPP_SCOPE, "cursor")
    queries: list[tuple[str, list[Filter]]]
    if cursor is None:
        queries = [("invoice", []), ("company", [])]
    else:
        since = (datetime.fromisoformat(cursor) - LOOKBACK).astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M:%S")
        queries = [
            ("invoice", [Filter("invoice.updatedon", "greaterequals", since)]),
            ("invoice", [Filter("invoice.createdon", "greaterequals", since),
                         Filter("invoice.updatedon", "isnull", "")]),
            ("company", [Filter("company.updatedon", "greaterequals", since)]),
            ("company", [Filter("company.createdon", "greaterequals", since),
                         Filter("company.updatedon", "isnull", "")]),
        ]
    probe: list[Any] = []
    seen: dict[str, set[int]] = {"invoice": set(), "company": set()}
    identities: dict[int, str] = {}
    refs: dict[str, set[int]] = {"costheading": set(), "project": set()}
    _read_into_cache(store, client, queries, started, seen, identities, refs,
                     probes=[] if cursor is None else [_sent_count_call(client)], probe_results=probe)
    swept = cursor is None
    gone = 0
    if not swept and _sweep_needed(store, probe, started):
        # Gripp counts other than the cache holds as sent (one missed, or one gone), or a day went by.
        swept_seen: dict[str, set[int]] = {"invoice": set(), "company": set()}
        _read_into_cache(store, client, [("invoice", [Filter("invoice.status", "equals", SENT_STATUS_ID)]),
                                         ("company", [])], started, swept_seen, identities, refs)
        seen["invoice"] |= swept_seen["invoice"]
        seen["company"] |= swept_seen["company"]
        swept = True
        gone = _gone_after_complete_read(store, client, swept_seen["invoice"], started)
    elif swept:
        gone = _gone_after_complete_read(store, client, seen["invoice"], started)
    refresh_lookups(store, client, refs, started, again=swept)
    with store.transaction():
        for identity_id, name in identities.items():
            setup_repo.upsert_identity(store, identity_id, name)
        cache.set_state(store, GRIPP_SCOPE, "cursor", started.isoformat())  # only once the rows are in
        if swept:
            cache.set_state(store, GRIPP_SCOPE, "swept_at", started.isoformat())
    counts = {"gripp_invoices": len(seen["invoice"]), "gripp_companies": len(seen["company"])}
    if swept and cursor is not None:
        counts["gripp_swept"] = 1
    if swept and gone:
        counts["gripp_deleted"] = gone
    return counts


def _gone_after_complete_read(store: Store, client: GrippClient, read: set[int], started: datetime) -> int:
    """After a complete read of every sent invoice (`read`: the ids it found): a cached sent invoice it did not find
    is asked for by id. Found, it is cached as Gripp shows it now (no longer sent, as a rule); not found, it was
    deleted in Gripp and is marked so. How many were deleted.

    Only a read that ran to its end comes here: a page that failed or Gripp's spent quota raises before, and then
    nothing is concluded. A read that found no sent invoice at all concludes nothing either: an empty answer (a
    filter Gripp reads otherwise, another account's key) is likelier than every invoice deleted at once."""
    missing = sorted(cache.sent_invoice_ids(store) - read)
    if not missing or not read:
        return 0
    queries: list[tuple[str, list[Filter]]] = [("invoice", [Filter("invoice.id", "in", missing[start:start + PAGE])])
                                               for start in range(0, len(missing), PAGE)]
    invoices = [answers.gripp_invoice(row) for rows in fetch_all(client, queries) for row in rows]
    _complete_children(client, invoices)
    deleted = set(missing) - {inv.id for inv in invoices}
    with store.transaction():
        cache.upsert(store, "gripp_invoices", [_invoice_row(inv, started) for inv in invoices], ["invoice_id"])
        cache.mark_deleted(store, deleted)
    return len(deleted)


def _read_into_cache(store: Store, client: GrippClient, queries: Sequence[tuple[str, list[Filter]]],
                     started: datetime, seen: dict[str, set[int]], identities: dict[int, str],
                     refs: dict[str, set[int]], *,
                     probes: Sequence[GrippCall] = (), probe_results: list[Any] | None = None) -> None:
    # Each POST's pages go into DuckDB as they come (in bulk), so memory holds one POST's rows, not all of them.
    # The upserts are idempotent: a run that stops halfway has refreshed some rows and not moved the cursor.
    for pages in fetch_pages(client, queries, probes=probes, probe_results=probe_results):
        # answers.*: a row missing what the money depends on is refused (unreadable answer), never read as 0.
        invoices = [answers.gripp_invoice(row) for i, rows in pages if queries[i][0] == "invoice" for row in rows]
        companies = [answers.gripp_company(row) for i, rows in pages if queries[i][0] == "company" for row in rows]
        _complete_children(client, invoices)
        with store.transaction():
            cache.upsert(store, "gripp_invoices", [_invoice_row(inv, started) for inv in invoices], ["invoice_id"])
            cache.upsert(store, "gripp_companies", [_company_row(c, started) for c in companies], ["company_id"])
        for line in (line for inv in invoices for line in inv.lines):
            if line.costheading_id is not None:
                refs["costheading"].add(line.costheading_id)
            if line.project_id is not None:
                refs["project"].add(line.project_id)
        seen["invoice"].update(inv.id for inv in invoices)
        seen["company"].update(c.id for c in companies)
        _note_identities(identities, invoices, companies)
        del pages, invoices, companies  # let go before the next POST is read


def refresh_lookups(store: Store, client: GrippClient, refs: dict[str, set[int]], fetched: datetime, *,
                    again: bool = False) -> None:
    """Gripp's kostenplaatsen (their names and numbers: `costheading.get`) and the projects the lines name
    (`project.get`), in one batched POST, only when a line names one the cache does not hold — an unchanged run
    asks nothing. `again` (a sweep): every kostenplaats once more, when the account uses them (a rename)."""
    missing = kp_repo.unknown(store, "gripp_costheadings", "costheading_id", refs["costheading"])
    projects = kp_repo.unknown(store, "gripp_projects", "project_id", refs["project"])
    all_costheadings = bool(missing) or (again and bool(refs["costheading"] or kp_repo.costheadings(store)))
    queries: list[tuple[str, list[Filter]]] = []
    if all_costheadings:
        queries.append(("costheading", []))  # a short list: all of it, one page or two
    if projects:
        queries.append(("project", [Filter("project.id", "in", projects)]))
    if not queries:
        return
    found = fetch_all(client, queries)
    rows = dict(zip([entity for entity, _ in queries], found, strict=True))
    with store.transaction():
        kp_repo.put_costheadings(store, [
            {"costheading_id": c.id, "name": c.name, "number": c.number, "fetched_at": fetched}
            for c in (Costheading.from_row(row) for row in rows.get("costheading", []))])
        kp_repo.put_projects(store, [
            {"project_id": p.id, "name": p.name, "number": p.number, "fetched_at": fetched}
            for p in (Project.from_row(row) for row in rows.get("project", []))])


def _sent_count_call(client: GrippClient) -> GrippCall:
    """A page of one sent invoice: its answer's `count` is how many sent invoices Gripp has."""
    return client.get_call("invoice", [Filter("invoice.status", "equals", SENT_STATUS_ID)],
                           orderings=[("invoice.id", "asc")], first=0, max_results=1)


def _sweep_needed(store: Store, probe: list[Any], now: datetime) -> bool:
    swept_at = cache.get_state(store, GRIPP_SCOPE, "swept_at")
    if swept_at is None or now - datetime.fromisoformat(swept_at) >= SWEEP_EVERY:
        return True
    if not probe:
        return False
    # more: the cursor missed one; fewer: one left without its `updatedon` moving, or was deleted (a delete moves
    # nothing a query by change date can see) — only a complete read can tell which
    cached = cache.sent_invoice_count(store)
    return parse_page(probe[0].unwrap()).count != cached


def fetch_pages(client: GrippClient, queries: Sequence[tuple[str, list[Filter]]], *,
                probes: Sequence[GrippCall] = (), probe_results: list[Any] | None = None
                ) -> Iterator[list[tuple[int, list[dict[str, Any]]]]]:
    """The pages of several `get` queries, one POST at a time as [(query index, rows)]. Keyset paging: ordered by
    id, each next page of a query asks for ids greater than the last it got, and the next pages of all queries go
    in one POST per round. `probes` ride along in the first POST; their results go to `probe_results`."""
    last: dict[int, int | None] = {i: None for i in range(len(queries))}
    active = list(range(len(queries)))
    extra = list(probes)
    while active:
        calls = []
        for i in active:
            entity, filters = queries[i]
            after = [Filter(f"{entity}.id", "greater", last[i])] if last[i] is not None else []
            calls.append((i, client.get_call(entity, [*filters, *after], orderings=[(f"{entity}.id", "asc")],
                                              first=0, max_results=PAGE)))
        finished: set[int] = set()
        for start in range(0, len(calls), CALLS_PER_POST):
            chunk = calls[start:start + CALLS_PER_POST]
            results = client.batch([call for _, call in chunk] + extra)
            if extra:
                if probe_results is not None:
                    probe_results.extend(results[len(chunk):])
                extra = []
            pages = []
            for (i, _), result in zip(chunk, results[:len(chunk)], strict=True):
                page = parse_page(result.unwrap())
                pages.append((i, page.rows))
                ids = [row.get("id") if isinstance(row, dict) else None for row in page.rows]
                numbers = [n for n in ids if isinstance(n, int) and not isinstance(n, bool)]
                if len(numbers) < len(ids):
                    raise GrippResponseError(f"{queries[i][0]}.get: a row without a numeric id, so the next page "
                                             "cannot be asked for")
                previous = last[i]
                if not page.more or len(page.rows) < PAGE or not numbers:
                    finished.add(i)
                elif previous is not None and max(numbers) <= previous:
                    raise GrippResponseError(f"{queries[i][0]}.get paging did not advance past id {previous}")
                else:
                    last[i] = max(numbers)
            del results
            yield pages
            del pages
        active = [i for i in active if i not in finished]


def fetch_all(client: GrippClient, queries: Sequence[tuple[str, list[Filter]]]) -> list[list[dict[str, Any]]]:
    """All rows of several `get` queries (each id once)."""
    found: list[dict[Any, dict[str, Any]]] = [{} for _ in queries]
    for pages in fetch_pages(client, queries):
        for i, rows in pages:
            found[i].update((row["id"], row) for row in rows)
    return [list(rows.values()) for rows in found]


def _complete_children(client: GrippClient, invoices: list[Invoice]) -> None:
    """Gripp's docs do not promise nested invoice lines/payments: fetch them where a row lacked them."""
    missing = [inv for inv in invoices if not inv.children_complete]
    if not missing:
        return
    ids = [inv.id for inv in missing]
    lines_rows, payment_rows = fetch_all(client, [
        ("invoiceline", [Filter("invoiceline.invoice", "in", ids)]),
        ("payment", [Filter("payment.invoice", "in", ids)]),
    ])
    by_id = {inv.id: inv for inv in missing}
    for inv in missing:
        inv.lines, inv.payments = [], []
    for row in lines_rows:
        owner_id = (row.get("invoice") or {}).get("id")
        owner = by_id.get(owner_id) if isinstance(owner_id, int) else None
        if owner is not None:
            owner.lines.append(InvoiceLine.from_row(row))
    for row in payment_rows:
        payment = Payment.from_row(row)
        if payment.invoice_id in by_id:
            by_id[payment.invoice_id].payments.append(payment)


def _invoice_row(inv: Invoice, fetched: datetime) -> dict[str, Any]:
    return {
        "invoice_id": inv.id, "identity_id": inv.identity_id, "number": inv.number, "company_id": inv.company_id,
        "company_name": inv.company_name, "invoice_date": inv.date, "due_date": inv.expirydate, "status": inv.status,
        "subject": inv.subject, "total_incl_vat": inv.totalinclvat, "total_excl_vat": inv.totalexclvat,
        "total_open": inv.totalopeninclvat, "total_paid": inv.totalpayed, "createdon": inv.createdon,
        "updatedon": inv.updatedon, "directpdfurl": inv.directpdfurl,
        # vars, not asdict: the lines and payments are flat, and asdict's deep copies cost more than the rest
        "lines_json": json.dumps([vars(line) for line in inv.lines], default=str),
        "payments_json": json.dumps([vars(p) for p in inv.payments], default=str),
        "fetched_at": fetched,
    }


def _company_row(c: Company, fetched: datetime) -> dict[str, Any]:
    return {
        "company_id": c.id, "identity_id": c.identity_id, "customernumber": c.customernumber, "name": c.companyname,
        "relationtype": c.relationtype, "vatnumber": c.vatnumber, "cocnumber": c.cocnumber,
        "email": c.invoiceemail or c.email, "street": f"{c.street} {c.housenumber}".strip(), "zipcode": c.zipcode,
        "city": c.city, "country": c.country, "vatshifted": c.vatshifted, "fetched_at": fetched,
    }


def _note_identities(found: dict[int, str], invoices: list[Invoice], companies: list[Company]) -> None:
    """Gripp has no identity entity: identities are discovered from the references on invoices."""
    for inv in invoices:
        if inv.identity_id is not None:
            found[inv.identity_id] = inv.identity_name or found.get(inv.identity_id, "")
    for company in companies:
        if company.identity_id is not None and company.identity_id not in found:
            found[company.identity_id] = ""


def invoice_lines(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The cached lines of an invoice row, amounts back as Decimal."""
    lines = json.loads(row["lines_json"] or "[]")
    for line in lines:
        for key in ("amount", "sellingprice", "discount"):
            line[key] = to_decimal(line[key])
    return lines


def invoice_payments(row: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(row.get("payments_json") or "[]")


# --------------------------------------------------------------------------------------------- SnelStart
def refresh_open_items(store: Store, client: SnelStartClient, administration_id: str, *,
                       identity_id: int | None = None, run_id: str | None = None) -> int:
    fetched = store.now()
    # answers.*: a row missing what the money depends on is refused, never read as 0 — one of the link's own
    # bookings makes the whole answer unreadable; anyone else's old hand-made row is skipped and told once.
    items, skipped = answers.usable_open_items(client.verkoopfacturen(),
                                               lambda: outbox.claimed_in_administration(store, administration_id))
    rows = [
        {
            "administration_id": administration_id, "verkoopfactuur_id": item["id"],
            "booking_id": (item.get("verkoopBoeking") or {}).get("id"),
            "factuurnummer": str(item.get("factuurnummer")),
            "relatie_id": (item.get("relatie") or {}).get("id"), "factuur_datum": parse_date(item.get("factuurDatum")),
            "verval_datum": parse_date(item.get("vervalDatum")),
            "factuur_bedrag": to_decimal(item.get("factuurBedrag")),
            "openstaand_saldo": to_decimal(item.get("openstaandSaldo")),
            "modified_on": _naive(item.get("modifiedOn")), "fetched_at": fetched,
        }
        for item in items
    ]
    count = cache.replace_if_changed(store, "ss_open_items", administration_id, rows, "verkoopfactuur_id")
    cache.set_state(store, administration_id, cache.OPEN_ITEMS_READ_AT, fetched.isoformat())
    _note_skipped(store, administration_id, skipped, identity_id, run_id)
    return count


def _note_skipped(store: Store, administration_id: str, skipped: list[dict[str, Any]], identity_id: int | None,
                  run_id: str | None) -> None:
    """One event per skipped open item, once (not every run)."""
    for item in skipped:
        key = f"skipped_open_item:{item['verkoopfactuur_id']}"
        if cache.get_state(store, administration_id, key) is not None:
            continue
        with store.transaction():
            cache.set_state(store, administration_id, key, ",".join(item["missing"]))
            log.log_event(store, EventKind.OPEN_ITEM_SKIPPED, run_id=run_id, identity_id=identity_id,
                          data={"administration_id": administration_id, **item})


def refresh_reference(store: Store, client: SnelStartClient, administration_id: str) -> dict[str, int]:
    """Ledgers, VAT history, relaties and kostenplaatsen: what validation and relatie matching read."""
    ledgers = [
        {
            "administration_id": administration_id, "ledger_id": g["id"], "number": int(g.get("nummer") or 0),
            "description": g.get("omschrijving") or "", "active": not g.get("nonactief", False),
            "function": g.get("grootboekfunctie") or "", "accepts": ",".join(g.get("btwSoort") or []),
            "balance_sheet": (g.get("rekeningCode") or "") == "Balans",
            "kostenplaats_required": g.get("kostenplaatsVerplicht") is True,
        }
        for g in client.grootboeken()
    ]
    rates = [
        {
            "administration_id": administration_id, "kind": r["btwSoort"], "percentage": to_decimal(r["btwPercentage"]),
            "valid_from": parse_date(r.get("datumVanaf")) or date(1900, 1, 1),
            "valid_to": parse_date(r.get("datumTotEnMet")) or date(2400, 12, 31),
        }
        for r in client.btwtarieven()
    ]
    relaties = [relatie_row(administration_id, r) for r in client.relaties()]
    kostenplaatsen = [kostenplaats_row(administration_id, k) for k in client.kostenplaatsen()]
    with store.transaction():
        kp_repo.replace_snelstart(store, administration_id, kostenplaatsen)
        cache.replace_for_administration(store, "ss_ledgers", administration_id, ledgers)
        cache.replace_for_administration(store, "ss_vat_rates", administration_id, rates)
        cache.replace_for_administration(store, "ss_relaties", administration_id, relaties)
        cache.set_state(store, administration_id, "reference_at", store.now().isoformat())
    return {"ledgers": len(ledgers), "vat_rates": len(rates), "relaties": len(relaties),
            "kostenplaatsen": len(kostenplaatsen)}


def kostenplaats_row(administration_id: str, k: dict[str, Any]) -> dict[str, Any]:
    """A `KostenplaatsModel` as cached. Tolerant: a number sent as text is read as a number."""
    return {"administration_id": administration_id, "kostenplaats_id": k["id"], "number": int(k.get("nummer") or 0),
            "description": k.get("omschrijving") or "", "active": not k.get("nonactief", False)}


def relatie_row(administration_id: str, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "administration_id": administration_id, "relatie_id": r["id"], "relatiecode": r.get("relatiecode"),
        "name": r.get("naam") or "", "kinds": ",".join(r.get("relatiesoort") or []),
        "vat_number": r.get("btwNummer") or "", "kvk_number": r.get("kvkNummer") or "",
    }


def reference_age(store: Store, administration_id: str) -> timedelta | None:
    value = cache.get_state(store, administration_id, "reference_at")
    return None if value is None else store.now() - datetime.fromisoformat(value)


def refresh_bank_lines(store: Store, client: SnelStartClient, administration_id: str) -> int:
    """Bank bookings that settle sales bookings, incrementally by `ModifiedOn`: they date the payments.

    SnelStart does not say whether `modifiedOn` is UTC or local time (schakl-app/schakl reads it as UTC, its
    fake stamps UTC and calls it local), so the cursor never mixes it with our clock: it is the largest `modifiedOn`
    SnelStart itself sent, compared in SnelStart's own terms, minus a small look-back for bookings committed
    out of order."""
    cursor = _bank_cursor(cache.get_state(store, administration_id, "bank_cursor"))
    flt = odata.ge("ModifiedOn", cursor - LOOKBACK) if cursor is not None else None
    latest = cursor
    rows = []
    for bank in client.bankboekingen(flt):
        modified = _snelstart_moment(bank.get("modifiedOn"))
        if modified is not None and (latest is None or modified > latest):
            latest = modified
        for n, line in enumerate(bank.get("verkoopboekingBoekingsRegels") or []):
            booking = (line.get("boekingId") or {}).get("id")
            if booking:
                rows.append({
                    "administration_id": administration_id, "bank_booking_id": bank["id"], "booking_id": booking,
                    "line_no": n, "datum": parse_date(bank.get("datum")),
                    "amount": to_decimal(line.get("credit")) - to_decimal(line.get("debet")),
                })
    with store.transaction():
        cache.upsert(store, "ss_bank_lines", rows, ["administration_id", "bank_booking_id", "booking_id", "line_no"])
        if latest is not None:
            cache.set_state(store, administration_id, "bank_cursor", latest.isoformat())
    return len(rows)


def _snelstart_moment(value: Any) -> datetime | None:
    """A SnelStart timestamp as SnelStart wrote it (zone-less); one with an offset is turned into Amsterdam time."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(AMSTERDAM).replace(tzinfo=None) if moment.tzinfo else moment


def _bank_cursor(stored: str | None) -> datetime | None:
    if stored is None:
        return None
    moment = _snelstart_moment(stored)
    if moment is not None and ("+" in stored[10:] or stored.endswith("Z")):
        # Written before this version: our own clock with an offset. Back off by the widest gap between Amsterdam
        # time and UTC, so it is early enough whichever SnelStart uses.
        moment -= timedelta(hours=2)
    return moment


def _naive(value: Any) -> datetime | None:
    parsed = parse_local_datetime(value)
    return parsed.replace(tzinfo=None) if parsed else None
