"""CSV cells a spreadsheet would run as a formula. Text from Gripp or SnelStart (a company named
`=HYPERLINK("http://…"&A1,…)`, `@SUM(…)`) would be a formula in Excel or LibreOffice once the file is opened; a
leading apostrophe makes it text there. Plain numbers (`-12,50`) stay numbers. Every CSV export goes through here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

import pandas as pd

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: text that starts like a formula gets a leading `'`."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_cell(value: str) -> str:
    """What `safe_cell` wrote, back as it was (for files we read in again, such as the mappings)."""
    return value[1:] if value.startswith("'") and value[1:2] and value[1:2] in "".join(_FORMULA_STARTS) else value


def frame_csv(frame: pd.DataFrame, *, sep: str = ",") -> str:
    """A DataFrame as CSV text, every cell through `safe_cell`."""
    return frame.map(safe_cell).to_csv(index=False, sep=sep)


def write_rows(handle: io.TextIOBase, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Rows to an open CSV file, every cell through `safe_cell`."""
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
