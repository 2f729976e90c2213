"""Saving a customer mapping checks the relatie (exists in SnelStart, is a Klant) and is audited; the mappings
CSV carries customer rows both ways, all or nothing."""

from __future__ import annotations

from datetime import date

import pytest

from sync.auth.access import Actor, NotAllowed
from sync.core.events import render
from sync.core.words import said, say
from sync.jobs import customer_mapping, mappings_io
from sync.jobs.suggestions import MappingError
from sync.store import history
from sync.store import setup as setup_repo
from tests.records_world import IDENTITY, LEDGER_HIGH, VAT_21, tiny_world


@pytest.fixture
def world_and_copy(tmp_path):
    tiny = tiny_world()
    tiny.relatie(1001, "Bakkerij Jansen B.V.")
    tiny.relatie(3003, "Jansen Beheer B.V.", vat="NL001234567B01")
    tiny.relatie(50001, "Kantoorvakhandel Noord B.V.", kinds=("Leverancier",))
    tiny.relatie(4004, "Jansen Holding B.V.", vat="NL005555555B01")
    tiny.company(101, 1001, "Bakkerij Jansen B.V.", vat="NL001234567B01")
    tiny.invoice(1, 20250001, 101, date(2025, 3, 14), [("1", "100.00", VAT_21, LEDGER_HIGH)])
    copy = tiny.copy(tmp_path)
    copy.run()  # blocked: number of one relatie, VAT number of another
    yield tiny, copy
    tiny.close()


def test_a_contradicting_customer_is_offered_with_both_relaties_to_choose_from(world_and_copy) -> None:
    _, copy = world_and_copy
    rows = customer_mapping.suggest_customer_mappings(copy.services, IDENTITY)
    assert [(r.company_id, r.snelstart) for r in rows] == [(101, "1001")]  # the one carrying Gripp's name
    assert {code for code, _ in rows[0].candidates} == {"1001", "3003"}
    assert "Voorstel: relatie 1001" in said(rows[0].reason, "nl")


def test_saving_refuses_a_relatie_snelstart_does_not_have_or_that_is_no_klant(world_and_copy) -> None:
    _, copy = world_and_copy
    for code, says in (("4242", "bestaat niet"), ("50001", "geen relatie van de soort Klant"), ("abc", "relatiecode")):
        with pytest.raises(MappingError) as refused:
            customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, code, actor="support")
        assert says in say(refused.value.message, "nl")
    assert setup_repo.customer_mappings(copy.services.store, IDENTITY) == []
    with pytest.raises(NotAllowed):
        customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, "3003", actor=Actor("Fenna", "finance"))


def test_a_pin_is_audited_warns_about_a_differing_vat_number_and_books_the_invoice(world_and_copy) -> None:
    tiny, copy = world_and_copy
    warned = customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, 4004, actor="support")
    assert warned[0].status == "warning" and "NL005555555B01" in said(warned[0].explanation, "nl")
    results = customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, 1001, actor=Actor("Sam", "support"))
    assert results[0].status == "pass"
    assert "De 1 factuur van ‘Bakkerij Jansen B.V.’ in de periode wordt geboekt op relatie 1001" in \
        said(results[0].explanation, "nl")
    assert "The 1 invoice of ‘Bakkerij Jansen B.V.’ in the period is booked on relatie 1001" in \
        said(results[0].explanation, "en")
    event = history.events(copy.services.store, identity_id=IDENTITY, kind="mapping")[0]
    assert event["actor"] == "Sam" and "relatie 1001" in render(event, "nl")
    copy.run()
    booking = tiny.booking_of("20250001")
    assert tiny.admin.relaties[booking.klant_id].relatiecode == 1001
    assert customer_mapping.remove_customer_mapping(copy.services, IDENTITY, 101, actor="support") is True


def test_the_mappings_csv_carries_customer_rows_all_or_nothing(world_and_copy, tmp_path) -> None:
    _, copy = world_and_copy
    store = copy.services.store
    customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, 3003, actor="support")
    exported = tmp_path / "mappings.csv"
    mappings_io.export_csv(store, exported)
    assert f"{IDENTITY};customer;101;Bakkerij Jansen B.V.;3003;" in exported.read_text(encoding="utf-8").splitlines()
    row = f"{IDENTITY},customer,101,Bakkerij Jansen B.V.,3003,"  # the files below: `,` as before, read as well
    lines = [",".join(mappings_io.HEADER), row]
    exported.write_text("\n".join(lines) + "\n", encoding="utf-8")
    setup_repo.delete_mapping(store, IDENTITY, "customer", 101)
    assert mappings_io.import_csv(store, exported, actor="support").count == 1
    assert [(p["company_id"], p["relatiecode"]) for p in setup_repo.customer_mappings(store, IDENTITY)] == [(101, 3003)]

    # A pin on a relatie that is no Klant (or not fetched yet) is kept and reported, as the console shows it.
    odd = tmp_path / "odd.csv"
    odd.write_text("\n".join([lines[0], f"{IDENTITY},customer,101,Bakkerij Jansen B.V.,50001,"]) + "\n",
                   encoding="utf-8")
    result = mappings_io.import_csv(store, odd, actor="support")
    assert result.count == 1 and [said(w.on_line, "nl") for w in result.warnings] == [
        "regel 2: relatie 50001 is geen Klant; de vastlegging is bewaard en de facturen van deze klant blijven "
        "geblokkeerd tot dat klopt"]
    assert "relatie 50001 is not a Klant" in said(result.warnings[0].on_line, "en")
    assert [p["relatiecode"] for p in setup_repo.customer_mappings(store, IDENTITY)] == [50001]

    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join([*lines, f"{IDENTITY},customer,101,Bakkerij Jansen B.V.,abc,"]) + "\n",
                      encoding="utf-8")
    setup_repo.delete_mapping(store, IDENTITY, "customer", 101)
    with pytest.raises(mappings_io.MappingImportError) as refused:
        mappings_io.import_csv(store, broken, actor="support")
    assert [said(p.on_line, "nl") for p in refused.value.problems] == [
        "regel 3: de SnelStart-relatiecode moet een getal zijn, maar is ‘abc’"]
    assert setup_repo.customer_mappings(store, IDENTITY) == []  # nothing applied


def test_a_restored_pin_on_a_relatie_not_fetched_yet_is_kept_and_found_by_its_code(world_and_copy, tmp_path) -> None:
    from sync.jobs.inputs import customer_inputs

    _, copy = world_and_copy
    store = copy.services.store
    admin = setup_repo.get_link(store, IDENTITY).administration_id
    backup = tmp_path / "backup.csv"
    backup.write_text(",".join(mappings_io.HEADER) + f"\n{IDENTITY},customer,101,whatever,4242,\n", encoding="utf-8")
    result = mappings_io.import_csv(store, backup, actor="support")
    assert result.count == 1 and "relatie 4242 is (nog) niet bekend" in said(result.warnings[0].on_line, "nl")
    assert customer_inputs(store, IDENTITY, admin).pins[101] == "relatiecode 4242"  # blocks, naming the code
    copy.run()  # the run blocks the customer's invoice instead of failing on the unresolved pin
    # Once SnelStart has the relatie (fetched), the same pin finds it by its code.
    store.execute("UPDATE customer_mappings SET relatiecode = 1001 WHERE company_id = 101")
    relatie_1001 = store.scalar("SELECT relatie_id FROM ss_relaties WHERE administration_id = ? AND relatiecode = 1001",
                                [admin])
    assert customer_inputs(store, IDENTITY, admin).pins[101] == relatie_1001


def test_after_a_pin_is_removed_a_booked_invoice_is_never_said_to_be_held_back(world_and_copy) -> None:
    tiny, copy = world_and_copy
    customer_mapping.save_customer_mapping(copy.services, IDENTITY, 101, 1001, actor="support")
    copy.run()
    assert tiny.bookings_numbered("20250001") == 1
    customer_mapping.remove_customer_mapping(copy.services, IDENTITY, 101, actor="support")
    [row] = customer_mapping.suggest_customer_mappings(copy.services, IDENTITY)
    for lang, held_back, booked in (("nl", "wordt niet geboekt, zodat", "zijn al geboekt"),
                                    ("en", "is not booked, so", "are booked already")):
        reason = said(row.reason, lang)
        assert "20250001" not in reason and held_back not in reason
        assert booked in reason and "1001" in reason and "3003" in reason

    # A new invoice of the customer is the one the problem is told of.
    tiny.invoice(2, 20250002, 101, date(2025, 4, 1), [("1", "50.00", VAT_21, LEDGER_HIGH)])
    copy.run()
    [row] = customer_mapping.suggest_customer_mappings(copy.services, IDENTITY)
    assert "factuur 20250002" in said(row.reason, "nl") and "20250001" not in said(row.reason, "nl")
