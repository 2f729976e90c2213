"""SnelStart B2B API v2: the fixed facts and tuning numbers, in one place."""

from __future__ import annotations

# Rate limits per administration by the subscription's tier live with the pacing (`sync.core.pacing`): the settings
# check a tier's name too, and the foundations import no client. Named here as well, for the client and its callers.
from sync.core.pacing import TIERS as TIERS
from sync.core.pacing import Tier as Tier
from sync.core.pacing import tier as tier

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

# The scopes this integration needs (the token's `scopes` claim is checked against them).
REQUIRED_SCOPES = (
    "boekhouden:read", "boekhouden:write", "documenten:read", "documenten:write", "relaties:read", "relaties:write",
    "orders:read", "bankieren:read", "settings:read",
)


# The push works on this many invoices at once at most (each holds one SnelStart call at a time): enough to keep a
# production budget busy at a few hundred milliseconds a call, without fifty threads on one DuckDB file.
MAX_PUSH_WORKERS = 8
