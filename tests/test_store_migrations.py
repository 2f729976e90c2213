"""Numbered migrations: each applied once, and one that lands after a higher number was applied still runs (two
branches can add migrations in either order); what opening a file checks, and closing it."""

from __future__ import annotations

import os
from pathlib import Path

from sync.store import db, outbox
from sync.store.db import Store
from sync.store.outbox import BookingState


def test_a_migration_numbered_below_the_highest_applied_one_still_runs(tmp_path, monkeypatch) -> None:
    path = tmp_path / "s.duckdb"
    first = [(1, "CREATE TABLE one (x INT)"), (3, "CREATE TABLE three (x INT)")]
    monkeypatch.setattr(db, "_migrations", lambda package=None: first)
    Store(path).close()

    later = sorted([*first, (2, "CREATE TABLE two (x INT)")])  # another branch's migration lands afterwards
    monkeypatch.setattr(db, "_migrations", lambda package=None: later)
    store = Store(path)
    assert store.scalar("SELECT count(*) FROM two") == 0
    assert [r["version"] for r in store.rows("SELECT version FROM schema_version ORDER BY version")] == [1, 2, 3]
    assert store.migrate() == 3  # each applied once: nothing left to do
    store.close()


def test_a_booking_left_uploading_its_pdf_is_booked_after_migration_8(tmp_path, monkeypatch) -> None:
    """`pdf_uploading` is no state any more: an old row holding it becomes `booked` (its document is looked for
    before the next upload), every other row keeps its state."""
    path = tmp_path / "s.duckdb"
    every = db._migrations()
    monkeypatch.setattr(db, "_migrations", lambda package=None: [m for m in every if m[0] < 8])
    store = Store(path)
    for invoice_id, state in ((1, "pdf_uploading"), (2, "done"), (3, "pdf_pending")):
        store.execute("INSERT INTO bookings (identity_id, invoice_id, number, state, booking_id, updated_at) "
                      "VALUES (1, ?, ?, ?, 'b', now())", [invoice_id, str(invoice_id), state])
    store.close()

    monkeypatch.setattr(db, "_migrations", lambda package=None: every)
    store = Store(path)
    states = {invoice_id: row["state"] for invoice_id, row in outbox.all_for(store, 1).items()}
    store.close()
    assert states == {1: BookingState.BOOKED, 2: BookingState.DONE, 3: BookingState.PDF_PENDING}
    assert all(type(state) is BookingState for state in states.values())  # the store hands out the enum's members


def test_links_made_before_migration_9_keep_the_deployments_ceiling(tmp_path, monkeypatch) -> None:
    """The identity's own ceiling is a new column: every link already there has none (NULL: SYNC_MAX_INVOICE_TOTAL),
    and one set afterwards reads back to the cent."""
    from decimal import Decimal

    from sync.store import setup

    path = tmp_path / "s.duckdb"
    every = db._migrations()
    monkeypatch.setattr(db, "_migrations", lambda package=None: [m for m in every if m[0] < 9])
    store = Store(path)
    for identity_id in (1, 2):
        setup.upsert_identity(store, identity_id, f"Identiteit {identity_id}")
        setup.save_link(store, identity_id=identity_id, administration_id=f"a{identity_id}", administration_name="A",
                        koppelsleutel_enc="x", key_hint="…x", start_date=None, actor="test")
    store.close()

    monkeypatch.setattr(db, "_migrations", lambda package=None: every)
    store = Store(path)
    assert [link.max_invoice_total for link in setup.links(store)] == [None, None]
    setup.set_max_invoice_total(store, 2, Decimal("250000.50"))
    assert setup.get_link(store, 2).max_invoice_total == Decimal("250000.50")
    assert setup.get_link(store, 1).max_invoice_total is None
    store.close()


def test_every_migration_file_has_its_own_number() -> None:
    versions = [version for version, _ in db._migrations()]  # raises when two files share a number
    assert versions == sorted(set(versions))


def test_closing_waits_for_a_statement_another_thread_is_finishing(tmp_path) -> None:
    # Found by CI: a scheduled run wrote its last row while the test's services closed the store.
    import duckdb

    from sync.store.db import Store

    store = Store(tmp_path / "sync.duckdb")
    real_root = store._root
    attempts = []

    class StillBusy:
        def close(self) -> None:
            attempts.append(1)
            if len(attempts) < 3:
                raise duckdb.ResourceInUseException("connection is busy with another call")
            real_root.close()

    store._root = StillBusy()
    store.close()
    assert len(attempts) == 3


def test_a_file_this_process_closed_is_read_whole_again_only_once_something_touched_it(tmp_path, monkeypatch) -> None:
    path = tmp_path / "s.duckdb"
    store = Store(path)
    store.execute("CREATE TABLE t AS SELECT range AS n FROM range(1000)")
    store.close()
    checked: list[Path] = []
    real_check = Store.check_readable
    monkeypatch.setattr(Store, "check_readable", lambda self: (checked.append(self.path), real_check(self))[1])

    Store(path).close()  # closed by this process, unchanged since: its blocks were read and written here
    assert checked == []
    stamp = path.stat()
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))  # someone else wrote it
    reopened = Store(path)
    assert checked == [path] and reopened.scalar("SELECT count(*) FROM t") == 1000
    reopened.close()
    db._closed_intact.clear()  # a new process knows nothing of it
    Store(path).close()
    assert checked == [path, path]
