"""`python -m tests.bench.open_items_page [--invoices 100000]`: how long the open-items page takes to get its data.

"Data time" is what the page does before Streamlit draws: the reconcile query over DuckDB (`reconcile.open_items`),
the counts and totals per class, the reminder split and the formatted side-by-side table (capped at the grid's
rows). The CSV is built only when someone clicks download; it is timed separately.

Two cases: the seeded sandbox after a first sync of its linked identities (in-process, nothing sleeps), and a
database filled with N generated invoices on both sides (a mix of every class), without any API.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from console import tables, views
from sync.core.config import load_settings
from sync.jobs import reconcile
from sync.store import setup as setup_repo
from sync.store.db import Store

PAGE_ROWS = 2_000  # what the grid draws (console/pages/openstaande_posten.py)
TODAY = date(2026, 11, 28)


def page_data(store: Store, identity_id: int, administration_id: str, start: date | None, today: date,
              lang: str = "nl") -> int:
    frame = reconcile.open_items(store, identity_id, administration_id, start, today)
    classes = [c for c in reconcile.CLASSES if (frame["class"] == c).any()]
    tables.class_summary(frame, classes, lang)
    for bucket in reconcile.AGE_BUCKETS:
        tables.total(frame.loc[frame["age_bucket"] == bucket, "open_amount"])
    do_not, check_first, truly = views.reminder_lists(frame)
    tables.side_by_side(frame.head(PAGE_ROWS), lang)
    tables.side_by_side(do_not.head(PAGE_ROWS), lang)
    tables.side_by_side(check_first.head(PAGE_ROWS), lang)
    tables.side_by_side(truly.head(PAGE_ROWS), lang)
    return len(frame)


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def seeded_sandbox(folder: Path, repeat: int) -> None:
    from sync.jobs.runner import run_identity
    from sync.wiring import build_services

    settings = load_settings({"SYNC_DB_PATH": str(folder / "sync.duckdb"), "CONSOLE_PUBLIC_URL": "http://bench"})
    services = build_services(settings, sleep=lambda seconds: None)
    try:
        for link in setup_repo.links(services.store):
            run_identity(services, link.identity_id, trigger="cli", actor="bench")
            seconds, rows = timed(lambda link=link: page_data(services.store, link.identity_id,
                                                              link.administration_id, link.start_date,
                                                              services.today()), repeat)
            frame = reconcile.open_items(services.store, link.identity_id, link.administration_id, link.start_date,
                                         services.today())
            csv_seconds, _ = timed(lambda frame=frame: tables.open_items_csv(frame, "nl"), 1)
            print(f"seeded sandbox, identity {link.identity_id}: {rows} open items, page data "
                  f"{seconds * 1000:.0f} ms (median of {repeat}), CSV of all {csv_seconds * 1000:.0f} ms")
    finally:
        services.close()


def generated(folder: Path, invoices: int, repeat: int) -> None:
    store = Store(folder / "bulk.duckdb")
    admin = "b0000001-0000-4000-8000-000000000001"
    began = time.perf_counter()
    _fill(store, invoices, admin)
    print(f"generated {invoices:,} invoices on both sides in {time.perf_counter() - began:.1f} s")
    seconds, rows = timed(lambda: page_data(store, 1, admin, None, TODAY), repeat)
    query, _ = timed(lambda: reconcile.open_items(store, 1, admin, None, TODAY), repeat)
    frame = reconcile.open_items(store, 1, admin, None, TODAY)
    csv_seconds, _ = timed(lambda: tables.open_items_csv(frame, "nl"), 1)
    counts = frame["class"].value_counts().to_dict()
    print(f"{invoices:,} invoices: {rows:,} open items, page data {seconds * 1000:.0f} ms (reconcile query "
          f"{query * 1000:.0f} ms; median of {repeat}), CSV of all {csv_seconds:.1f} s; classes {counts}")
    store.close()


def _fill(store: Store, n: int, admin: str) -> None:
    """Both caches and the outbox for one identity: most invoices paid and in order, every class present."""
    setup_repo.upsert_identity(store, 1, "Bench B.V.")
    setup_repo.save_link(store, identity_id=1, administration_id=admin, administration_name="Bench",
                         koppelsleutel_enc="-", key_hint="…0000", start_date=None, actor="bench")
    cur = store.cursor()
    cur.execute(f"""
        CREATE TEMP TABLE g AS
        SELECT i,
               'B' || lpad(i::VARCHAR, 7, '0') AS number,
               DATE '2023-01-02' + CAST(i * 1400 // {n} AS INTEGER) AS invoice_date,
               CAST(round(50 + (i * 7919 % 500000) / 100.0, 2) AS DECIMAL(18, 2)) AS total,
               i % 100 AS kind
        FROM range(1, {n} + 1) t(i)""")
    # kind: 0-59 paid and in order, 60-79 open in order, 80-84 payment not in Gripp, 85-86 amount differs,
    # 87 paid in Gripp only, 88 due date differs, 89 not booked (blocked), 90 only in SnelStart (no Gripp row),
    # 91 deleted in SnelStart, 92-99 partly paid on both sides.
    cur.execute("""
        INSERT INTO gripp_invoices (invoice_id, identity_id, number, company_id, company_name, invoice_date, due_date,
                                    status, total_incl_vat, total_excl_vat, total_open, total_paid, fetched_at)
        SELECT i, 1, number, i % 997, 'Klant ' || (i % 997), invoice_date, invoice_date + 30, 'SENT', total,
               CAST(round(total / 1.21, 2) AS DECIMAL(18, 2)),
               CASE WHEN kind < 60 THEN 0 WHEN kind BETWEEN 92 AND 99 THEN CAST(round(total / 2, 2) AS DECIMAL(18, 2))
                    WHEN kind = 87 THEN 0 ELSE total END,
               0, now()
        FROM g WHERE kind <> 90""")
    cur.execute(f"""
        INSERT INTO ss_open_items (administration_id, verkoopfactuur_id, booking_id, factuurnummer, relatie_id,
                                   factuur_datum, verval_datum, factuur_bedrag, openstaand_saldo, fetched_at)
        SELECT '{admin}', 'v' || i, 'b' || i, number, 'r' || (i % 997), invoice_date,
               invoice_date + CASE WHEN kind = 88 THEN 14 ELSE 30 END,
               total + CASE WHEN kind IN (85, 86) THEN 1 ELSE 0 END,
               CASE WHEN kind < 60 THEN 0 WHEN kind BETWEEN 80 AND 84 THEN 0
                    WHEN kind BETWEEN 92 AND 99 THEN CAST(round(total / 2, 2) AS DECIMAL(18, 2))
                    WHEN kind IN (85, 86) THEN total + 1 ELSE total END,
               now()
        FROM g WHERE kind NOT IN (89, 91)""")
    cur.execute("""
        INSERT INTO bookings (identity_id, invoice_id, number, state, booking_id, amount, adopted, reasons_json,
                              updated_at)
        SELECT 1, i, number, CASE WHEN kind = 89 THEN 'blocked' ELSE 'done' END,
               CASE WHEN kind = 89 THEN NULL ELSE 'b' || i END, total, kind IN (85, 86),
               CASE WHEN kind = 89 THEN '[{"code": "VAT_UNMAPPED", "nl": "BTW-tarief niet gekoppeld.",
                                           "en": "VAT rate not mapped."}]' END,
               now()
        FROM g WHERE kind <> 90""")
    cur.execute("DROP TABLE g")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.open_items_page", description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-sandbox", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="console-bench-") as folder:
        if not args.skip_sandbox:
            seeded_sandbox(Path(folder), args.repeat)
        generated(Path(folder), args.invoices, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
