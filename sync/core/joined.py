"""Several messages said as one: sentences one after the other, clauses with a semicolon, lines, a markdown list.

Each is a message of two halves (`{first} {then}`), nested, so a joined message is stored and said like any other
(`words.jsonable`, `words.say`) and each part in it is said in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync.core.words import N_, Msg

SENTENCES = N_("joined.sentences")  # "{first} {then}"
CLAUSES = N_("joined.clauses")  # "{first}; {then}"
LINES = N_("joined.lines")  # one per line
ITEM = N_("joined.item")  # "- {item}": a line of a markdown list (plain text on the command line)


def _halves(key: str, items: list[Msg]) -> Msg:
    if len(items) == 1:
        return items[0]
    middle = len(items) // 2  # halves, so a long list nests shallowly
    return Msg(key, first=_halves(key, items[:middle]), then=_halves(key, items[middle:]))


def _joined(key: str, messages: Iterable[Msg]) -> Msg:
    items = list(messages)
    if not items:
        raise ValueError("nothing to join")
    return _halves(key, items)


def sentences(messages: Iterable[Msg]) -> Msg:
    return _joined(SENTENCES, messages)


def clauses(messages: Iterable[Msg]) -> Msg:
    return _joined(CLAUSES, messages)


def lines(messages: Iterable[Msg]) -> Msg:
    return _joined(LINES, messages)


def listed(messages: Iterable[Msg]) -> Msg:
    """One thing as it is; several as a list, one per line (markdown in the console, plain on the CLI)."""
    items = list(messages)
    if len(items) == 1:
        return items[0]
    return lines(Msg(ITEM, item=item) for item in items)
