"""Notification targets as people write them: Apprise URLs, with the language the target reads.

A target is an Apprise URL (https://github.com/caronc/apprise/wiki): e-mail over SMTP (`mailto://`, `mailtos://`),
Microsoft Teams (`msteams://`), Slack (`slack://`) or a plain JSON webhook (`json://`, `jsons://`). Its language is
one more query parameter, `lang=nl` or `lang=en` (Dutch when absent), in Apprise's own notation
(`json://hooks.example.nl/link?lang=en`); it is taken off before the URL is handed to Apprise, so a webhook never
receives it. Such an address carries secrets (a password, a webhook token): it is shown only as its hint — the
scheme and, where the host is no secret, the host, and a short fingerprint (`json://hooks.example.nl [3fa2]`,
`slack://… [9c01]`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sync.core.words import DEFAULT, LANGUAGES, N_, Msg

SCHEMES = ("mailto", "mailtos", "msteams", "slack", "json", "jsons")
# Teams' and Slack's "host" is the first part of their token: never shown.
_HOST_SHOWN = ("mailto", "mailtos", "json", "jsons")
LANG_GIVEN = _LANG = re.compile(r"[?&]lang=([^&#]*)")  # the notation of a target's language


class BadTarget(ValueError):
    """A target that cannot be used; `why` says so (never repeating the address: it may hold a secret)."""

    def __init__(self, why: Msg) -> None:
        super().__init__(why.key)
        self.why = why


@dataclass(frozen=True)
class Written:
    """A target as written, split: the Apprise URL (a secret) and the language it reads."""

    url: str
    lang: str

    @property
    def hint(self) -> str:
        return hint(self.url)

    def __repr__(self) -> str:  # never the URL
        return f"Written({self.hint!r}, lang={self.lang!r})"


def split_targets(value: str) -> list[str]:
    """`SYNC_NOTIFY_URLS`: comma-separated (or one per line) targets."""
    return [item.strip() for item in re.split(r"[,\n]", value) if item.strip()]


def parse(text: str) -> Written:
    """The target written as `text`, its `lang=` taken off; `BadTarget` when it is not one of ours, its port is
    out of range, or Apprise cannot use it. The reasons never repeat the address: it may hold a secret."""
    text = (text or "").strip()
    url, lang = text, DEFAULT
    found = _LANG.search(text)
    if found is not None:
        lang = found.group(1).strip().lower()
        url = text[:found.start()] + text[found.end():]
        if found.group(0).startswith("?") and url[found.start():found.start() + 1] == "&":
            url = url[:found.start()] + "?" + url[found.start() + 1:]  # `?lang=en&to=…` keeps its `?`
    if lang not in LANGUAGES:
        raise BadTarget(Msg(N_("notify.target.bad_lang"), lang=lang, languages=", ".join(LANGUAGES)))
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise BadTarget(Msg(N_("notify.target.bad_scheme"), schemes=", ".join(f"{s}://" for s in SCHEMES)))
    if not rest.strip("/") or any(c.isspace() for c in url):
        raise BadTarget(Msg(N_("notify.target.incomplete"), scheme=scheme.lower()))
    try:
        port = urlsplit(url).port  # out of 0–65535: ValueError
    except ValueError:
        port = 0
    if port == 0:
        raise BadTarget(Msg(N_("notify.target.bad_port"), scheme=scheme.lower()))
    if not _apprise_takes(url):
        raise BadTarget(Msg(N_("notify.target.not_apprise"), scheme=scheme.lower()))
    return Written(url=url, lang=lang)


def _apprise_takes(url: str) -> bool:
    """Apprise's own reading of the address (what it would send with): False for what it cannot use, as a
    `mailto://` with a user and password but no host to send through. The same check for SYNC_NOTIFY_URLS at
    start-up and for an account's target on Klanten."""
    import apprise

    return bool(apprise.Apprise().add(url))


def hint(url: str) -> str:
    """How a target is shown: its scheme, and its host where that is no secret (never a user, password or path),
    then a short fingerprint of the whole address (`[3fa2]`), so two targets on one host (two webhooks, two
    mailboxes) can be told apart; four hex digits of a hash say nothing of a secret."""
    scheme = url.partition("://")[0].lower()
    mark = f"[{hashlib.sha256(url.encode()).hexdigest()[:4]}]"
    if scheme in _HOST_SHOWN:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            host = port = ""
        if host:
            return f"{scheme}://{host}{port} {mark}"
    return f"{scheme}://… {mark}"
