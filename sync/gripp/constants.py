"""Gripp API v3 facts and tuning numbers, in one place (see ../shared/reference/gripp-api.md)."""

from __future__ import annotations

from typing import Final

# Paging: `get` needs {"paging": {...}} and the server refuses more than 250 rows a page (error 1007).
MAX_PAGE_SIZE: Final = 250
# get_all asks for this many further pages in one POST once the first page told it the count: the hourly
# quota counts POSTs, not calls.
PAGES_PER_POST: Final = 4

# The complete official list of filter operators.
OPERATORS: Final = frozenset({
    "in", "notin", "equals", "notequals", "between", "greaterequals", "greater",
    "lessequals", "less", "like", "isnull", "isnotnull",
})
LIST_OPERATORS: Final = frozenset({"in", "notin"})
NULL_OPERATORS: Final = frozenset({"isnull", "isnotnull"})
DIRECTIONS: Final = frozenset({"asc", "desc"})

# Actions that change nothing; anything else (create, update, delete, markAsSent, ...) counts as a write,
# so an unknown action is treated with the care a write needs.
READ_ACTIONS: Final = frozenset({"get", "getone", "getViewonlineUrl", "getCompanyByCOC", "getContent"})

# Error codes. Only 1004, 1007 and 1009 have been seen; the others are the simulator's guesses.
ERROR_THROTTLED: Final = 1004  # [3P] the burst limit's 503 body
ERROR_PAGING: Final = 1007  # [OBS]
ERROR_AUTH: Final = 1009  # [OBS fixture]
ERROR_UNKNOWN_METHOD: Final = 1001  # [UNCERTAIN] the real code for an unknown method was never found
ERROR_QUOTA: Final = 1005  # [UNCERTAIN] the simulator's code for the hourly quota; the client reads the words
PAGING_MESSAGE: Final = (
    '"Paging" option is required and "maxresults" must be set lower or equal to 250. '
    "See the API-documentation."
)
AUTH_MESSAGE: Final = "Invalid or non-existing API-key (1)"
# [UNCERTAIN] the hourly quota's 429 body; only the sentence is known (CONN's comment).
QUOTA_MESSAGE: Final = "Maximum number of request for this hour is reached"

# Rate limits (GEN; "can change").
HOURLY_QUOTA: Final = 1000
BURST_CAPACITY: Final = 20
BURST_REFILL_PER_SECOND: Final = 4.0
# The client paces itself to a bucket this much smaller than Gripp's: Gripp counts a request when it arrives, we
# when we send it, and one spare token absorbs a quarter second of difference in latency between two requests.
PACING_SPARE_TOKENS: Final = 1

TIMEZONE: Final = "Europe/Amsterdam"
PDF_MAGIC: Final = b"%PDF-"
PDF_CONTENT_TYPES: Final = frozenset({"application/pdf", "application/octet-stream"})
