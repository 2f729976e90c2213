"""Text from outside (Gripp's and SnelStart's names, what a visitor typed) shown as the characters it is.

Unicode's bidirectional controls make a reader see something else than what is there: U+202E (right-to-left
override) shows `Factuur‮fdp.exe` as `Factuurexe.pdf`, and an unclosed override or isolate reorders the rest of the
line it lands in — a table row, a log line, a CSV cell. The embeddings, overrides and isolates (U+202A–U+202E,
U+2066–U+2069) are removed, and so are the directional marks (U+200E, U+200F, U+061C): names of Dutch firms do not
need them, and a mark beside a digit or a bracket can still move what the reader sees. Control characters (C0, DEL,
C1: a terminal's escape sequences, a carriage return that rewrites the line) and Unicode's line and paragraph
separators become a space; a line break too, unless the text may have lines.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROLS_BUT_LINES = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def plain(text: str, *, lines: bool = False) -> str:
    """`text` without bidirectional controls and with every control character a space (with `lines`, `\\n` stays:
    a message of several lines)."""
    return (_CONTROLS_BUT_LINES if lines else _CONTROLS).sub(" ", _BIDI.sub("", text))
