"""The base of errors a person can act on: the reason (and what to do) in plain Dutch and English words."""

from __future__ import annotations


class Explained(Exception):
    """`nl`/`en` say why in plain words (the English one is also the exception's text); `code` says what kind,
    for callers that branch on it."""

    def __init__(self, nl: str, en: str, *, code: str = "invalid") -> None:
        super().__init__(en)
        self.nl, self.en, self.code = nl, en, code

    def text(self, lang: str = "nl") -> str:
        return self.en if lang == "en" else self.nl
