"""Money and dates as the console shows them: Dutch by default, English on request, exact from Decimal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sync.core import fmt


@pytest.mark.parametrize(
    ("amount", "dutch", "english"),
    [
        (Decimal("1234.56"), "€ 1.234,56", "€1,234.56"),
        (Decimal("0"), "€ 0,00", "€0.00"),
        (Decimal("0.5"), "€ 0,50", "€0.50"),
        (Decimal("7"), "€ 7,00", "€7.00"),
        (Decimal("999.99"), "€ 999,99", "€999.99"),
        (Decimal("1000"), "€ 1.000,00", "€1,000.00"),
        (Decimal("1234567.8"), "€ 1.234.567,80", "€1,234,567.80"),
        (Decimal("-1234.56"), "€ -1.234,56", "-€1,234.56"),
        (Decimal("-0.01"), "€ -0,01", "-€0.01"),
        (Decimal("12345678901234.99"), "€ 12.345.678.901.234,99", "€12,345,678,901,234.99"),
    ],
)
def test_money_is_written_the_dutch_or_english_way(amount: Decimal, dutch: str, english: str) -> None:
    assert fmt.money(amount) == dutch
    assert fmt.money(amount, "nl") == dutch
    assert fmt.money(amount, "en") == english


def test_money_rounds_half_up_to_cents_exactly() -> None:
    assert fmt.money(Decimal("0.005")) == "€ 0,01"
    assert fmt.money(Decimal("2.675")) == "€ 2,68"  # a float would give 2.67
    assert fmt.money(Decimal("-2.675"), "en") == "-€2.68"
    assert fmt.money(Decimal("1E+3")) == "€ 1.000,00"


def test_money_from_other_types_keeps_the_exact_cents() -> None:
    assert fmt.money("1234.5") == "€ 1.234,50"
    assert fmt.money(42) == "€ 42,00"
    # DuckDB hands DECIMAL columns to pandas as doubles: read back through the shortest repr, cents stay exact.
    assert fmt.money(0.1 + 0.2) == "€ 0,30"
    assert fmt.money(1234.56) == "€ 1.234,56"
    assert fmt.money(np.float64(-1073.88)) == "€ -1.073,88"  # pandas hands out numpy scalars
    assert fmt.money(np.int64(5), "en") == "€5.00"
    assert fmt.money(np.float64("nan")) == "—"


@pytest.mark.parametrize("missing", [None, float("nan"), pd.NA, pd.NaT])
def test_missing_amounts_and_dates_show_a_dash(missing: object) -> None:
    assert fmt.money(missing) == "—"
    assert fmt.day(missing) == "—"
    assert fmt.plain_amount(missing) == ""


def test_dates_are_written_as_people_in_the_netherlands_write_them() -> None:
    assert fmt.day(date(2026, 11, 28)) == "28-11-2026"
    assert fmt.day(date(2026, 1, 5)) == "05-01-2026"
    assert fmt.day(date(2026, 11, 28), "en") == "28/11/2026"
    assert fmt.day(date(2026, 1, 5), "en") == "05/01/2026"
    assert fmt.day("2026-03-09") == "09-03-2026"
    assert fmt.day(pd.Timestamp("2026-03-09")) == "09-03-2026"


def test_moments_are_shown_in_amsterdam_time() -> None:
    winter = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)
    assert fmt.moment(winter) == "28-11-2026 14:05"
    assert fmt.moment(winter, "en") == "28/11/2026 14:05"
    summer = datetime(2026, 7, 1, 22, 30, tzinfo=UTC)  # already 2 July in Amsterdam
    assert fmt.moment(summer) == "02-07-2026 00:30"
    assert fmt.day(summer) == "02-07-2026"
    assert fmt.moment(date(2026, 7, 1)) == "01-07-2026"


def test_plain_amounts_for_csv_have_no_grouping() -> None:
    assert fmt.plain_amount(Decimal("1234.5")) == "1234,50"
    assert fmt.plain_amount(Decimal("-1234.5"), "en") == "-1234.50"


def test_counts_use_the_thousands_separator_of_the_language() -> None:
    assert fmt.count(12345) == "12.345"
    assert fmt.count(12345, "en") == "12,345"
    assert fmt.count(7) == "7"


def test_percentages_and_numbers_follow_the_reader() -> None:
    assert fmt.percent(Decimal("0")) == "0%"
    assert fmt.percent(Decimal("21.00")) == "21%"
    assert fmt.percent(Decimal("5.5")) == "5,5%"
    assert fmt.percent(Decimal("5.5"), "en") == "5.5%"
    assert fmt.number(Decimal("1234.50")) == "1.234,5"
    assert fmt.count(12345, "en") == "12,345"


def test_csv_moments_are_amsterdam_time_to_the_second() -> None:
    assert fmt.csv_moment(datetime(2026, 11, 28, 13, 5, 9, 123456, tzinfo=UTC)) == "2026-11-28 14:05:09"


def test_sentences_end_with_one_full_stop() -> None:
    assert fmt.sentence("Studio Noord B.V.") == "Studio Noord B.V."
    assert fmt.sentence("Noord Academy") == "Noord Academy."
    assert fmt.plural(1, "waarschuwing", "waarschuwingen") == "1 waarschuwing"
    assert fmt.plural(2, "fout", "fouten") == "2 fouten"


def test_an_amount_beyond_decimals_28_digits_still_reads_as_money() -> None:
    # Found by the property test: a nonsense line (a price of 15 digits, a discount of -15 digits %) made the
    # invoice's total mismatch problem crash while writing its amount.
    huge = Decimal("100000000000000611514713009.6")
    assert fmt.money(huge, "nl") == "€ 100.000.000.000.000.611.514.713.009,60"
    assert fmt.plain_amount(huge, "en") == "100000000000000611514713009.60"
