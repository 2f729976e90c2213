"""Dates keep their Dutch meaning: both services speak Europe/Amsterdam wall-clock time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def now_amsterdam() -> datetime:
    return datetime.now(tz=AMSTERDAM)


def parse_date(value: object) -> date | None:
    """Accept 'YYYY-MM-DD', 'YYYY-MM-DDTHH:MM:SS', 'YYYY-MM-DD HH:MM:SS(.ffffff)', date or datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def parse_local_datetime(value: object) -> datetime | None:
    """A zone-less wall-clock timestamp, read as Amsterdam time (aware result)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=AMSTERDAM)
    text = str(value).replace("T", " ")
    return datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)
