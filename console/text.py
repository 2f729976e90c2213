"""Outside text stays text. Names and messages from Gripp, SnelStart, the engine or the settings are plain text;
Streamlit draws most strings as markdown (titles, alerts, captions, labels, toasts). `md()` turns plain text into
markdown that shows exactly that text: no links, emphasis, headings, HTML, colours, icons or formulas from
somebody else's company name, and no bidirectional controls or control characters that would make it look like
other text (`sync.core.outside_text`). `i18n.t()` passes every value it fills in through `md()`; a page that puts
outside text into markdown itself does the same. `plain_frame()` does the bidi and control part for tables, which
Streamlit shows as plain text.
"""

from __future__ import annotations

import re

import pandas as pd

from sync.core.outside_text import plain

# CommonMark lets any ASCII punctuation be escaped with a backslash; escaping all of it also disarms Streamlit's
# own syntax (`:material/…:`, `:red[…]`, `$…$`).
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GFM turns bare addresses into links after parsing, escapes or not (`https://…`, `www.…`, `name@host`). An
# invisible word joiner inside each keeps them text; the reader sees the same characters.
_BARE_LINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=@)")
WORD_JOINER = "\u2060"


class Markdown(str):
    """Markdown the console wrote itself, passed on as is by `i18n.t()`."""


def md(value: object) -> str:
    """`value` as markdown that renders as exactly its text (one line)."""
    if isinstance(value, Markdown):
        return value
    # Without bidirectional controls and on one line (a line break would start a new block: a heading, a list).
    text = plain("" if value is None else str(value))
    return _PUNCTUATION.sub(r"\\\1", _BARE_LINK.sub(WORD_JOINER, text))


def md_lines(value: object) -> str:
    """Plain text that may be a list (lines starting with `- `, as the checks write them): each item escaped with
    `md()`, the list kept a list."""
    lines = ("" if value is None else str(value)).splitlines() or [""]
    return "\n".join(f"- {md(line[2:])}" if line.startswith("- ") else md(line) for line in lines)


def plain_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as it is shown (plain text, no markdown): every text cell without bidirectional controls or control
    characters."""
    return frame.map(lambda value: plain(value) if isinstance(value, str) else value)
