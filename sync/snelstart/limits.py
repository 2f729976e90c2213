"""SnelStart's text limits, counted as SnelStart counts them: in UTF-16 code units.

The B2B API is .NET: a `maxLength` in the OpenAPI spec is checked against `string.Length`, which counts UTF-16
code units, so an emoji (outside the Basic Multilingual Plane) takes two. Every text the link sends is measured
and cut here, and the simulator enforces the same limits the same way.

Sources: `maxLength` in the spec (`snelstart-b2b-api-v2.openapi.yaml`) for factuurnummer, boekstuk and
omschrijving (VerkoopBoekingModel and its regels) and for naam, kvkNummer, oin, websiteUrl, iban and bic
(RelatieWriteModel); email (250) and telefoon (25) from SnelStart's error-code page (P-ERR, see
`snelstart-api.md`). The document file-name limit (BLG-0017) is not documented: 100 is the simulator's guess.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

FACTUURNUMMER: Final = 25  # BOE-0058
BOEKSTUK: Final = 25
OMSCHRIJVING: Final = 250  # BOE-0071, booking and booking lines
RELATIE_NAAM: Final = 50
KVK_NUMMER: Final = 12
EMAIL: Final = 250
TELEFOON: Final = 25
WEBSITE_URL: Final = 100
IBAN: Final = 50
BIC: Final = 15
OIN: Final = 20
FILE_NAME: Final = 100  # BLG-0017, value unknown (?)
# The largest amount (factuurbedrag, a line's bedrag, a btwBedrag) sent to SnelStart, in euros either way. The spec
# says `decimal` (.NET: 28 digits); what SnelStart keeps is not documented. SQL Server's `money`, the usual type for
# amounts there, holds ±922 337 203 685 477,58 to the cent; past that a booking would be refused or cut (?).
AMOUNT_MAX: Final = Decimal("922337203685477.58")

ELLIPSIS: Final = "…"


def utf16_len(text: str) -> int:
    """The length .NET's `string.Length` gives: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int) -> bool:
    return utf16_len(text) <= limit


def cut(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """`text` itself when it fits, else as much of it as fits with `ellipsis` after it (never half a
    character: a surrogate pair is kept whole or dropped)."""
    if fits(text, limit):
        return text
    room = limit - utf16_len(ellipsis)
    out, used = [], 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > room:
            break
        out.append(ch)
        used += width
    return "".join(out).rstrip() + ellipsis
