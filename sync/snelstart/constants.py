"""SnelStart B2B API v2: the fixed facts and tuning numbers, in one place."""

from __future__ import annotations

from dataclasses import dataclass

# Paths below the configured base URLs.
TOKEN_PATH = "/b2b/token"  # below SNELSTART_AUTH_URL (https://auth.snelstart.nl)

# Headers.
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"

# Token lifetime as SnelStart answers it; used when `expires_in` is missing or unreadable.
DEFAULT_TOKEN_LIFETIME_SECONDS = 3599
# There is no refresh token: mint a new one this long before the old one expires, so a token never dies
# between our check and SnelStart's.
TOKEN_RENEW_MARGIN_SECONDS = 60

# OData paging: `$top` is 1..500 and there is no nextLink; ask again only while a page comes back full.
PAGE_SIZE = 500
# A server that keeps answering full pages forever is a bug; 1000 pages is 500,000 rows.
MAX_PAGES = 1000

# Document uploads (`POST /documenten/{type}`).
DOCUMENT_TYPES = ("Verkoopboekingen", "Inkoopboekingen", "Relaties")
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # BLG-0006 above this

# Error codes the engine branches on.
DUPLICATE_INVOICE_CODE = "BOE-0021"  # "Het factuurnummer bestaat al": the booking is already there
BOOKING_HAS_PAYMENTS_CODE = "BOE-0083"

# The scopes this integration needs (the token's `scopes` claim is checked against them).
REQUIRED_SCOPES = (
    "boekhouden:read", "boekhouden:write", "documenten:read", "documenten:write", "relaties:read", "relaties:write",
    "orders:read", "bankieren:read", "settings:read",
)


# Rate limits per administration, by the subscription's tier (P-CERT table, transcribed from a screenshot, so
# "(?)"). The client paces itself to these: a call a minute too many is a 429 for every thread of the run.
@dataclass(frozen=True)
class Tier:
    name: str
    per_minute: int  # calls per minute per administration
    concurrent: int  # calls in flight per administration


TIERS = {
    "test": Tier("test", per_minute=100, concurrent=5),  # "Ontwikkeling & Test" keys
    "production": Tier("production", per_minute=500, concurrent=50),  # "Productie" and "Maatwerk"
    # The built-in sandbox enforces no limits unless a test or benchmark switches them on (and picks a tier).
    "sandbox": Tier("sandbox", per_minute=1_000_000, concurrent=5),
}
TIER_ALIASES = {"ontwikkeling": "test", "development": "test", "productie": "production", "maatwerk": "production"}
DEFAULT_TIER = "test"  # the cautious one: a production key paced as a test key is slow, never throttled
# The push works on this many invoices at once at most (each holds one SnelStart call at a time): enough to keep a
# production budget busy at a few hundred milliseconds a call, without fifty threads on one DuckDB file.
MAX_PUSH_WORKERS = 8


def tier(name: str | None) -> Tier:
    """The tier called `name` (case-insensitive, Dutch names too); empty is the default, unknown a ValueError."""
    key = (name or DEFAULT_TIER).strip().lower()
    found = TIERS.get(TIER_ALIASES.get(key, key))
    if found is None:
        raise ValueError(f"unknown SnelStart tier {name!r}: use one of {', '.join(TIERS)}")
    return found
