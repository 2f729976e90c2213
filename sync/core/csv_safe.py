"""CSV cells a spreadsheet would run as a formula. Text from Gripp or SnelStart (a company named
`=HYPERLINK("http://…"&A1,…)`, `@SUM(…)`) would be a formula in Excel or LibreOffice once the file is opened; a
leading apostrophe makes it text there — also when spaces (or other blanks) come first, which a spreadsheet skips
before it looks for a formula. Plain numbers (`-12,50`) stay numbers. A cell holds no bidirectional controls and no
control characters but line breaks (`sync.core.outside_text`): a spreadsheet shows its characters as they are.
Every CSV export goes through here, in one dialect: the reader's spreadsheet's (`BOM`, `SEPARATORS`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

import pandas as pd

from sync.core.outside_text import plain

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only with it: accents and ‘ ’ stay intact
# A Dutch spreadsheet splits on `;` (its decimal sign is the comma), an English one on `,`.
SEPARATORS = {"nl": ";", "en": ","}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _formula_like(text: str) -> bool:
    """Starts like a formula, blanks before it or not (a plain number is no formula)."""
    start = text.lstrip()
    return (text.startswith(_FORMULA_STARTS) or start.startswith(_FORMULA_STARTS)) \
        and not _PLAIN_NUMBER.fullmatch(start)


def safe_cell(value: object) -> object:
    """The value as a spreadsheet should show it: text that starts like a formula gets a leading `'`."""
    if not isinstance(value, str):
        return value
    text = plain(value, lines=True)
    return "'" + text if _formula_like(text) else text


def restore_cell(value: str) -> str:
    """What `safe_cell` wrote, back as it was (for files we read in again, such as the mappings)."""
    return value[1:] if value.startswith("'") and _formula_like(value[1:]) else value


def frame_csv(frame: pd.DataFrame, *, sep: str = ",") -> str:
    """A DataFrame as CSV text, every cell through `safe_cell`."""
    return frame.map(safe_cell).to_csv(index=False, sep=sep)


def write_rows(handle: io.TextIOBase, header: Sequence[str], rows: Iterable[Sequence[object]], *,
               sep: str = ",") -> None:
    """Rows to an open CSV file, every cell through `safe_cell`."""
    writer = csv.writer(handle, delimiter=sep)
    writer.writerow(header)
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
