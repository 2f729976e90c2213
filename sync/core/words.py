"""The one catalog: every sentence a person reads, in the reader's language, from gettext catalogs made with Babel.

Code never holds a sentence. It names what to say by a catalog key (`"event.booked"`) and the values to fill in
(amounts as `Decimal`, dates, counts, names, other messages); the words live in `sync/locale/<lang>/LC_MESSAGES/
messages.po`, one file per language (`nl`, the default, and `en`). `make catalog` runs Babel over the code (`pybabel
extract`, with the keywords in `pyproject.toml`), merges what it found into both catalogs (`pybabel update`) and
compiles them (`pybabel compile`); `tests/test_catalog.py` fails when a key used in code is missing or untranslated
in either language, and when the two languages fill in different values.

A template names its values by placeholder, and the placeholder's spec says how the value is shown, always through
the one formatter (`sync.core.fmt`): `{amount:money}` `€ 1.234,56`, `{amount:amount}` `1234,56` (a spreadsheet's
cell), `{date:date}` `28-11-2026`, `{at:moment}` `28-11-2026 14:05`, `{at:clock}` `14:05`, `{n:count}` `12.345`,
`{rate:percent}` `21%`, `{rate:number}` `21,5`, `{names:list}` `a, b en c`. Without a spec a value is shown by its
type: text as it is (passed through `escape`, e.g. the console's markdown escaping), a whole number as a count, a
`Decimal` as a number, a date as a day, a message in the reader's language. A counted message (plural forms) is
chosen by the value `n`.

Keys that are named in one place and said in another (a table of labels built before the language is known) are
marked `N_("…")`, counted ones `NN_("…")`, so that extraction sees them.
"""

from __future__ import annotations

import gettext
import io
import logging
import os
import string
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sync.core import fmt
from sync.core.outside_text import plain

log = logging.getLogger(__name__)

LANGUAGES = fmt.LANGUAGES
DEFAULT = fmt.DEFAULT_LANG
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"
# Tests set this so that a key missing from a catalog, a value a template needs and nobody gave, or a spec the
# formatter does not know is an error, never a silently degraded sentence.
STRICT_ENV = "SYNC_STRICT_WORDS"


class MissingWords(LookupError):
    """A key no catalog holds (only raised in strict mode; otherwise the other language's words are shown)."""


def N_(key: str) -> str:
    """A catalog key named here and said later."""
    return key


def NN_(key: str) -> str:
    """A counted catalog key (plural forms, chosen by the value `n`) named here and said later."""
    return key


class Msg:
    """Something to say, not said yet: a catalog key and the values to fill in. The engine hands these out and
    stores them (`to_json`); each surface says them in its reader's language (`say`)."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: Any) -> None:
        self.key = key
        self.values: dict[str, Any] = values

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.key, self.values) == (other.key, other.values)

    def __hash__(self) -> int:
        return hash(self.key)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data (amounts and dates as text, which the placeholders' specs read back) for `from_json`."""
        return {"msg": self.key, "values": jsonable(self.values)}

    @classmethod
    def from_json(cls, data: Any) -> Msg | None:
        if isinstance(data, dict) and isinstance(data.get("msg"), str):
            values = data.get("values")
            if not isinstance(values, dict):
                values = {}
            return cls(data["msg"], **{name: _from_jsonable(value) for name, value in values.items()})
        return None


def jsonable(value: Any) -> Any:
    """`value` with every message in it as its JSON form, amounts and dates as text: what the store keeps."""
    if isinstance(value, Msg):
        return value.to_json()
    if isinstance(value, dict):
        return {str(name): jsonable(item) for name, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return Msg.from_json(value) or value
    if isinstance(value, list):
        return [_from_jsonable(item) for item in value]
    return value


# ================================================================================================ the catalogs


class _Absent(gettext.NullTranslations):
    """The last fallback of a catalog: says that a key is not there instead of answering with the key."""

    def gettext(self, message: str) -> str:
        raise KeyError(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        raise KeyError(msgid1)


@cache
def translations(lang: str, domain: str = DOMAIN) -> gettext.NullTranslations:
    """The compiled catalog of `domain` in `lang`: the `.mo` that `pybabel compile` made, or — when there is none yet
    or the `.po` is newer (a fresh clone, a catalog just edited) — the `.po` compiled in memory, so words are never
    stale. Our own domain says that a key it lacks is missing (`template` then tries the other language); another
    domain — argparse's, whose msgids are that library's English sentences (`sync.core.argparse_words`) — answers a
    message it lacks with the msgid, and a language without a file for it (English) with every msgid as it is."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    po, mo = folder / f"{domain}.po", folder / f"{domain}.mo"
    if domain != DOMAIN and not po.exists():
        return gettext.NullTranslations()
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            found = gettext.GNUTranslations(compiled)
    else:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        with po.open("rb") as source:
            catalog = read_po(source, locale=lang, domain=domain)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        found = gettext.GNUTranslations(buffer)
    if domain == DOMAIN:
        found.add_fallback(_Absent())
    return found


@cache
def entries(lang: str) -> dict[str, str]:
    """Every key in `lang`'s catalog with its words (a counted key's forms together): what can be said, for finding
    which keys say a word (the event log's search)."""
    found: dict[str, str] = {}
    # gettext offers no public listing of its messages; GNUTranslations keeps them in `_catalog`.
    for msgid, text in translations(lang)._catalog.items():  # type: ignore[attr-defined]  # private, not in typeshed
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if key:
            found[key] = f"{found.get(key, '')} {text}".strip()
    return found


def strict() -> bool:
    return os.environ.get(STRICT_ENV) == "1"


def template(key: str, lang: str, n: int | None = None) -> str:
    """The words of `key` in `lang` (the plural form for `n` when the key is counted). A key one catalog lacks is
    said in the other language, visibly and logged; never shown as the key itself unless no catalog has it."""
    wanted = lang if lang in LANGUAGES else DEFAULT
    for language in (wanted, *(other for other in LANGUAGES if other != wanted)):
        catalog = translations(language)
        if n is not None:
            try:
                return catalog.ngettext(key, key, n)
            except KeyError:
                pass  # not a counted key: its one form
        try:
            return catalog.gettext(key)
        except KeyError:
            if strict():
                raise MissingWords(f"{key!r} is missing from the {language} catalog") from None
            log.warning("catalog key %r missing in %s", key, language)
    log.error("catalog key %r is in no catalog", key)
    return key


# ================================================================================================ saying it


def say(what: str | Msg, lang: str = DEFAULT, /, *, escape: Callable[[str], str] | None = None,
        **values: Any) -> str:
    """`what` (a key with `values`, or a message) in `lang`, every value shown by the formatter. `escape` is applied
    to text values (names from Gripp or SnelStart), never to the catalog's own words."""
    if isinstance(what, Msg):
        key, values = what.key, {**what.values, **values}
    else:
        key = what
    count = values.get("n")
    counted = count if isinstance(count, int) and not isinstance(count, bool) else None
    return _fill(template(key, lang, counted), values, lang, escape)


def said(value: Any, lang: str = DEFAULT, /, *, escape: Callable[[str], str] | None = None) -> str:
    """Any value a person reads, in `lang`: a message (or its stored JSON form), words recorded before the engine
    spoke in codes (`{"nl": …, "en": …}`, shown in the reader's language or else the one there is), text as it is."""
    message = value if isinstance(value, Msg) else Msg.from_json(value)
    if message is not None:
        return say(message, lang, escape=escape)
    if isinstance(value, dict):
        recorded = value.get(lang) or next((text for text in value.values() if isinstance(text, str) and text), "")
        return _escaped(str(recorded), escape)
    return _escaped(value if isinstance(value, str) else "" if value is None else str(value), escape)


def _escaped(text: str, escape: Callable[[str], str] | None) -> str:
    """A text value (a name from Gripp or SnelStart, a recorded message) as its characters, on the sentence's line:
    no bidirectional controls or control characters (`sync.core.outside_text`). An `escape` does that itself as it
    escapes for where the text goes (the console's `md`, which also passes its own markdown on as it is)."""
    return escape(text) if escape is not None else plain(text)


_PARSER = string.Formatter()


def _fill(words: str, values: Mapping[str, Any], lang: str, escape: Callable[[str], str] | None) -> str:
    """The template with its placeholders filled. A value that ends a sentence with its own full stop (a name like
    `Studio Noord B.V.`) takes the template's full stop after it."""
    out: list[str] = []
    swallow_stop = False
    for literal, name, spec, _conversion in _PARSER.parse(words):
        if swallow_stop and literal.startswith("."):
            literal = literal[1:]
        out.append(literal)
        swallow_stop = False
        if name is None:
            continue
        if name not in values:
            if strict():
                raise MissingWords(f"no value {name!r} for {words!r}")
            continue
        shown = show(values[name], spec or "", lang, escape)
        out.append(shown)
        swallow_stop = shown.endswith(".")
    return "".join(out)


def show(value: Any, spec: str, lang: str, escape: Callable[[str], str] | None = None) -> str:
    """One value as the reader sees it: by the placeholder's spec, else by its type."""
    shower = _SPECS.get(spec)
    if shower is not None:
        return shower(value, lang, escape)
    if spec:
        if strict():
            raise MissingWords(f"unknown spec {spec!r}")
        log.warning("unknown placeholder spec %r", spec)
    return _by_type(value, lang, escape)


def _by_type(value: Any, lang: str, escape: Callable[[str], str] | None) -> str:
    if isinstance(value, bool):
        return _escaped(str(value), escape)
    if isinstance(value, int):
        return fmt.count(value, lang)
    if isinstance(value, Decimal):
        return fmt.number(value, lang)
    if isinstance(value, datetime):
        return fmt.moment(value, lang)
    if isinstance(value, date):
        return fmt.day(value, lang)
    if isinstance(value, list | tuple):
        return _listed(value, lang, escape)
    return said(value, lang, escape=escape)


def _listed(value: Any, lang: str, escape: Callable[[str], str] | None) -> str:
    items: Iterable[Any] = value if isinstance(value, list | tuple) else [value]
    shown = [_by_type(item, lang, escape) for item in items]
    return fmt.listing(shown, lang)


def _clock(value: Any, lang: str, escape: Callable[[str], str] | None) -> str:
    if value is None or value == "":  # missing, as for every other spec
        return fmt.EMPTY
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return fmt.clock(moment, lang)


_SPECS: dict[str, Callable[[Any, str, Callable[[str], str] | None], str]] = {
    "money": lambda v, lang, _e: fmt.money(v, lang),
    "amount": lambda v, lang, _e: fmt.plain_amount(v, lang),
    "date": lambda v, lang, _e: fmt.day(v, lang),
    "moment": lambda v, lang, _e: fmt.moment(v, lang),
    "clock": _clock,
    "count": lambda v, lang, _e: fmt.count(v, lang),
    "percent": lambda v, lang, _e: fmt.percent(v, lang),
    "number": lambda v, lang, _e: fmt.number(v, lang),
    "list": _listed,
    "text": lambda v, lang, e: said(v, lang, escape=e),
}
SPECS = frozenset(_SPECS)


def language_name(lang: str) -> str:
    """A language's own name for itself (`Nederlands`, `English`), from Babel's CLDR data."""
    from babel import Locale

    return str(Locale.parse(fmt.locale(lang)).get_language_name(fmt.locale(lang))).capitalize()


# ================================================================================================ finding the keys


def extract_keys(fileobj: Any, keywords: Mapping[str, Any], comment_tags: Any, options: Any) -> Iterable[Any]:
    """Babel's extraction method for this code (`pyproject.toml` names it): every call of a keyword (`t`, `say`,
    `N_`, …) whose first argument is a key, read from the syntax tree. Unlike Babel's own reader it also sees the
    calls inside f-strings and both keys of `t("a" if x else "b")`."""
    import ast

    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in keywords:
            continue
        first = node.args[0]
        choices = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
        for choice in choices:
            if isinstance(choice, ast.Constant) and isinstance(choice.value, str):
                yield node.lineno, name, (choice.value,), []
