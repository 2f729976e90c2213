"""The base of errors a person can act on: what to say (a message from the catalog) and what kind of error it is."""

from __future__ import annotations

from sync.core.words import N_, Msg, say

RECORDED = N_("recorded")  # words written before the catalog: shown in the reader's language, or the one there is


class Explained(Exception):
    """`message` says why (and what to do) as a catalog key with its values; each surface says it in its reader's
    language (`words.say(exc.message, lang)`). `code` says what kind, for callers that branch on it. The exception's
    own text, for logs and tracebacks, is the message in English."""

    def __init__(self, message: Msg, /, *, code: str = "invalid") -> None:
        super().__init__(message.key)
        self.message, self.code = message, code

    def __str__(self) -> str:
        return say(self.message, "en")
