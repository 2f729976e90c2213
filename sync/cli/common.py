"""What every command shares: its exit codes and how it speaks — in one language, the reader's (`--lang`, Dutch by
default), every sentence from the catalog; results on standard output, progress, notes and errors on standard
error, an error one line starting with the catalog's word for it."""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sync.core import words
from sync.core.outside_text import plain
from sync.core.words import Msg

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM, as a shell reports a process ended by SIGINT

Speaker = Callable[..., str]


def lang_of(args: argparse.Namespace) -> str:
    return getattr(args, "lang", None) or words.DEFAULT


def speaker(lang: str) -> Speaker:
    """`t(key, **values)`: a catalog key (or a message) said in `lang` — the console's `t`, for plain text. A counted
    key (its form chosen by `n`) is said by the same function under the name `tn` (`t = tn = speaker(lang)`), the
    name by which `make catalog` knows the key has plural forms."""

    def t(what: str | Msg, /, **values: Any) -> str:
        return words.say(what, lang, **values)

    return t


def out(text: str) -> None:
    """A result: standard output. Every line the command line prints holds no bidirectional controls and no control
    characters but its line breaks (`sync.core.outside_text`): a name from Gripp or SnelStart cannot reorder a line
    or send the terminal an escape sequence."""
    print(plain(text, lines=True), flush=True)


def err(text: str) -> None:
    """Progress, a note or an error: standard error (as plain as `out`)."""
    print(plain(text, lines=True), file=sys.stderr, flush=True)


def fail(t: Speaker, problem: Msg | str) -> None:
    """One error line: the catalog's `fout: …` / `error: …` around the problem (a message, or words already said,
    such as an exception's text in the reader's language)."""
    err(t("cli.error", problem=problem))


def counted(t: Speaker, labels: Mapping[str, str], counts: Mapping[str, Any]) -> str:
    """`Geboekt: 339, Geblokkeerd: 5, …`: each count named in `labels` (count → catalog key) under its name."""
    return ", ".join(t("cli.field", label=Msg(key), value=int(counts.get(name) or 0)) for name, key in labels.items())


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A header row and its rows as lines, every column as wide as its widest cell (in terminal cells: a wide
    character counts two) and two spaces between columns, so that a long code or name moves no column of another
    row. The last column is not padded. Cells are shown plain (`sync.core.outside_text`) before they are measured."""
    lines = [[plain(cell) for cell in row] for row in (header, *rows)]
    widths = [max(_width(line[i]) for line in lines) for i in range(len(header))]

    def padded(line: list[str]) -> str:
        return "  ".join(cell + " " * (width - _width(cell)) for cell, width in zip(line, widths, strict=True))

    return [padded(line).rstrip() for line in lines]


def _width(text: str) -> int:
    """How many terminal cells `text` takes: East Asian wide and full-width characters two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
