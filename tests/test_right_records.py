"""Issue 11's ten inputs, each a small sandbox world (`tests/records_scenarios.py`), with the right outcome:
never adopt, match or pay the wrong thing; payments both ways; no sent invoice missed for good."""

from __future__ import annotations

from decimal import Decimal

from tests import records_scenarios as sc


def test_1_a_foreign_booking_with_our_number_is_a_conflict_never_adopted_attached_or_paid(tmp_path):
    f = sc.scenario_1_foreign_booking(tmp_path)
    assert f["state"] == "conflict"
    assert f["reasons"] == ["BOOKING_CONFLICT"]
    assert "Garage De Vries" in f["reason_text"] and "500,00" in f["reason_text"]
    assert f["pdfs_on_foreign_booking"] == 0
    assert f["payments_written"] == 0
    assert f["gripp_open"] == Decimal("121.00")


def test_2_boe0021_after_a_lost_answer_and_a_late_lookup_is_adopted_never_failed(tmp_path):
    f = sc.scenario_2_lost_answer_then_boe0021(tmp_path)
    assert f["state_after_run_1"] in ("booked", "done")
    assert f["state_after_run_3"] == "done"
    assert f["bookings"] == 1 and f["pdfs"] == 1
    assert f["payment_total"] == Decimal("121.00") and f["gripp_open"] == Decimal("0.00")


def test_3_a_customer_number_and_vat_number_of_two_relaties_block_the_invoice_naming_both(tmp_path):
    f = sc.scenario_3_number_and_vat_disagree(tmp_path)
    assert f["state"] == "blocked"
    assert f["reasons"] == ["CUSTOMER_CONTRADICTION"]
    assert "Bakkerij Jansen B.V." in f["reason_text"] and "Jansen Beheer B.V." in f["reason_text"]
    assert "1001" in f["reason_text"] and "3003" in f["reason_text"]
    assert f["booked_on"] == []


def test_4_a_unique_exact_name_match_is_reused_not_duplicated(tmp_path):
    f = sc.scenario_4_same_name_no_keys(tmp_path)
    assert f["relaties_named"] == 1
    assert f["booked_on_existing"] is True
    assert f["state"] == "done"


def test_5_names_are_cut_to_snelstarts_limit_in_utf16_units(tmp_path):
    f = sc.scenario_5_emoji_name(tmp_path)
    assert (f["gripp_code_points"], f["gripp_utf16_units"]) == (50, 51)
    assert f["created"] and f["naam_utf16_units"] <= 50
    assert f["state"] == "done"


def test_6_a_zero_invoice_has_nothing_to_book_not_blocked_not_open(tmp_path):
    f = sc.scenario_6_zero_invoice(tmp_path)
    assert f["state"] == "nothing_to_book"
    assert f["blocked_counts"] == (0, 0)
    assert f["outcomes"] == ("ok", "ok")
    assert f["open_items_class"] is None
    assert f["bookings"] == 0


def test_7_vat_is_booked_as_gripp_invoiced_it_per_rate_and_revenue_is_gripps_net(tmp_path):
    f = sc.scenario_7_two_rates_one_kind(tmp_path)
    assert (f["gripp_net"], f["gripp_vat"], f["gripp_total"]) == (Decimal("247.00"), Decimal("51.88"),
                                                                 Decimal("298.88"))
    assert f["booking_vat"] == Decimal("51.88")
    assert f["booking_revenue"] == Decimal("247.00")
    assert f["booking_total"] == Decimal("298.88")


def test_8_a_storno_in_snelstart_reverses_the_links_payment_in_gripp_once(tmp_path):
    f = sc.scenario_8_storno(tmp_path)
    assert f["gripp_open_after_payment"] == Decimal("0.00")
    assert f["snelstart_open_after_storno"] == Decimal("121.00")
    assert f["gripp_open_after_storno"] == Decimal("121.00")
    assert f["our_payments_left"] == 0
    assert f["reversal_events"] == 1


def test_9_when_totals_differ_payments_are_held_and_flagged_never_registered_beyond_the_truth(tmp_path):
    for delta in ("10.00", "-10.00"):
        f = sc.scenario_9_totals_differ(tmp_path / delta, delta)
        assert f["gripp_total"] == Decimal("2361.14")
        assert f["snelstart_total"] == Decimal("2361.14") + Decimal(delta)
        assert f["registered"] == Decimal("0.00")
        assert f["gripp_open"] == Decimal("2361.14")
        assert f["held"] == 1 and f["flag_events"] == 1
        assert f["listed_before_reminders"] is True


def test_10_two_databases_on_one_administration_never_pay_or_attach_twice(tmp_path):
    f = sc.scenario_10_two_databases(tmp_path)
    assert f["hook_fired"] == 1
    assert f["most_bookings_per_number"] == 1
    assert f["pdfs_attached_twice"] == 0
    assert f["bookings_without_pdf"] == 0
    assert f["invoices_paid_twice"] == 0


def test_no_sent_invoice_stays_missing_whatever_changes_while_gripp_is_paged(tmp_path):
    f = sc.scenario_paging(tmp_path)
    assert f["missing_after_next_sweep"] == 0
