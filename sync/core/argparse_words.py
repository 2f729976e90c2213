"""argparse's own words — `usage:`, the option headings, `-h`'s help, every argument error — in the reader's language.

argparse says these through the stdlib's gettext: it binds `gettext.gettext` as `_` and `gettext.ngettext` at import
and looks a message up at the moment it needs it. Its msgids are English sentences that belong to the Python version,
not keys of ours, so their translations live in a gettext domain of their own, `argparse`
(`sync/locale/nl/LC_MESSAGES/argparse.po`), which `make catalog` extracts from the running Python's `argparse.py` and
`tests/test_catalog.py` holds complete. English needs no file: the msgids are argparse's own English.

While a command line is parsed, argparse's two names are bound to that domain's catalog in the reader's language
(`speaking`), and bound back afterwards. The gettext way of choosing a domain (`bindtextdomain` + `textdomain`, the
language from `LANGUAGE`) would change the default domain of the whole process and read the language from the
environment, for every library that uses gettext; this touches argparse alone, and only for as long as it parses.

One message is said by the command line's parser itself: a value that is not one of the choices (argparse quotes
each choice with `repr()` before any catalog sees it; `sync.cli.parser.parser_class`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sync.core import words

DOMAIN = "argparse"


def lang_of(argv: Sequence[str]) -> str:
    """The language asked for on the line (`--lang en` / `--lang=en`; the last one, as argparse takes it), read
    before parsing so that argparse's own help and errors speak it too. Anything but a known language is the
    default (argparse then says that the value is not a choice, in the default language)."""
    found = words.DEFAULT
    for i, word in enumerate(argv):
        asked = argv[i + 1] if word == "--lang" and i + 1 < len(argv) else \
            word.removeprefix("--lang=") if word.startswith("--lang=") else None
        if asked is not None:
            found = asked if asked in words.LANGUAGES else words.DEFAULT
    return found


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """argparse says its messages in `lang` inside this block."""
    catalog = words.translations(lang, DOMAIN)
    names = vars(argparse)
    saved = names["_"], names["ngettext"]
    names.update(_=catalog.gettext, ngettext=catalog.ngettext)
    try:
        yield
    finally:
        names.update(_=saved[0], ngettext=saved[1])
