"""SnelStart B2B API v2: the client (`SnelStartClient`), its errors and `$filter` helpers."""

from sync.snelstart.client import SnelStartClient, encode_json
from sync.snelstart.errors import (
    KoppelsleutelError,
    MissingScopeError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    SnelStartAuthError,
    SnelStartBadRequest,
    SnelStartConnectionError,
    SnelStartError,
    SnelStartTimeoutError,
    SubscriptionKeyError,
    TokenRejectedError,
    UnreadableWriteAnswerError,
    is_duplicate_invoice,
)

__all__ = [
    "KoppelsleutelError",
    "MissingScopeError",
    "NotFoundError",
    "OutcomeUnknownError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "SnelStartAuthError",
    "SnelStartBadRequest",
    "SnelStartClient",
    "SnelStartConnectionError",
    "SnelStartError",
    "SnelStartTimeoutError",
    "SubscriptionKeyError",
    "TokenRejectedError",
    "UnreadableWriteAnswerError",
    "encode_json",
    "is_duplicate_invoice",
]
