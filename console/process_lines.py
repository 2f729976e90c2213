"""What the console process says to the person who runs it — on its own output, not on a page: one language for the
whole process (`python -m console --lang en`; Dutch by default, like the command line), every sentence from the
catalog. The pages speak each reader's own language (`console.i18n`)."""

from __future__ import annotations

import sys
from typing import Any

from sync.core import words
from sync.core.words import Msg

_lang = words.DEFAULT


def speak(lang: str) -> None:
    """The process's language, chosen once at start (`console.__main__`)."""
    global _lang
    _lang = lang if lang in words.LANGUAGES else words.DEFAULT


def lang() -> str:
    return _lang


def t(what: str | Msg, /, **values: Any) -> str:
    """A catalog key (or message) in the process's language, as plain text."""
    return words.say(what, _lang, **values)


def announce(text: str) -> None:
    """One line for the operator on the console's own output (secrets never reach here)."""
    print(text, file=sys.stderr, flush=True)
