"""Both open-items lists side by side, every difference classified (one SQL query over the cache, in
`sync.store.comparison`).

Classes (first that applies):
  conflict              SnelStart has a booking with this number that is not this invoice's: a person decides
  snelstart_unread      SnelStart's open items were never read (the link fails): whether it is there is unknown
  gone_from_gripp       we booked it, and Gripp no longer shows it as sent (deleted, or back to concept), while its
                        booking is open in SnelStart: credit it there, or a person confirms it was deleted on purpose
                        (then it is in order); the link never touches the booking (`sync.jobs.after_booking`)
  not_booked            in Gripp, not (yet) in SnelStart: pending, blocked or failed, with the reason
  drift_deleted         we booked it, but SnelStart no longer has it
  only_in_snelstart     open in SnelStart, no Gripp invoice with that number
  drift_changed         we booked it and SnelStart's amount is no longer what we booked
  amount_differs        both have it, the amounts differ (booked before this link, or adopted)
  payment_not_in_gripp  SnelStart shows less open than Gripp: a payment still to come back
  paid_in_gripp_only    Gripp shows less open than SnelStart: paid in Gripp only (nothing is written)
  due_date_differs      same amounts, different due dates
  in_sync               nothing to do
An invoice of 0,00 (nothing to book) is no open item on either side and is not listed; nor is a SnelStart item
without a Gripp invoice that is settled (nothing open is no open item).
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

import pandas as pd

from sync.store import comparison
from sync.store.comparison import Difference
from sync.store.db import Store

CLASSES = tuple(Difference)  # in the order the comparison tests them


class AgeBucket(StrEnum):
    """How long an open item is overdue (the frame's `age_bucket`)."""

    NOT_DUE = "not_due"
    DAYS_0_30 = "0-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = ">90"


AGE_BUCKETS = tuple(AgeBucket)


def open_items(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
               today: date, *, snelstart_read: bool = True) -> pd.DataFrame:
    """Every open item of both sides for one identity, with its class and ageing bucket, by invoice number."""
    frame = comparison.compared(store, identity_id, administration_id, start_date, today,
                                snelstart_read=snelstart_read)
    frame["age_bucket"] = age_buckets(frame["days_overdue"])
    order = sorted(range(len(frame)), key=lambda n: number_order(frame["number"].iloc[n]))
    return frame.iloc[order].reset_index(drop=True)


def number_order(number: object) -> tuple[tuple[int, int, str], ...]:
    """An invoice number's place in a list: its runs of digits compared as numbers ("X-9" before "X-10"), numbers
    before letters, a missing number last."""
    if not isinstance(number, str) or not number:
        return ((2, 0, ""),)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in re.findall(r"\d+|\D+", number))


def class_counts(store: Store, identity_id: int, administration_id: str | None, start_date: date | None,
                 today: date) -> dict[Difference, int]:
    """How many open items each class has: what a run reports, without building the frame the pages show."""
    return comparison.class_counts(store, identity_id, administration_id, start_date, today)


def age_buckets(days_overdue: pd.Series) -> pd.Series:
    bins = [-10**9, 0, 30, 60, 90, 10**9]
    return pd.cut(days_overdue.fillna(-1), bins=bins, labels=[str(bucket) for bucket in AgeBucket],
                  right=True).astype(str)


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Count and totals per class, in the order of CLASSES."""
    grouped = frame.groupby("class").agg(
        count=("number", "size"), gripp_open=("gripp_open", "sum"), snelstart_open=("snelstart_open", "sum")
    )
    return grouped.reindex([c for c in CLASSES if c in grouped.index])
