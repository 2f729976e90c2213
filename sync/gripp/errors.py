"""What can go wrong talking to Gripp, one class per kind.

Two families matter to the engine: `GrippTransientError` (Gripp was busy, out of quota or unreachable; try again
later) versus everything else (a person must fix a key, a request or a mapping). `GrippOutcomeUnknownError`
stands apart: a write may or may not have happened, so look before writing again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class GrippError(Exception):
    """Base class. `code` is Gripp's `error_code`, `http_status` the HTTP status, `method` the RPC method."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        method: str | None = None,
        call_id: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.method = method
        self.call_id = call_id

    def __str__(self) -> str:
        parts = [self.message]
        if self.code is not None:
            parts.append(f"error_code {self.code}")
        if self.http_status is not None:
            parts.append(f"HTTP {self.http_status}")
        if self.method:
            parts.append(self.method)
        return " | ".join(parts)


class GrippAuthError(GrippError):
    """The API key is wrong, revoked or lacks rights (error 1009, or HTTP 401/403)."""


class GrippPagingError(GrippError):
    """Error 1007: `get` without paging, or more than 250 rows asked."""


class GrippUnknownMethodError(GrippError):
    """The method or entity does not exist (e.g. `identity.get`)."""


class GrippCallError(GrippError):
    """Any other per-call error Gripp reported (validation, rights, not found...)."""


class GrippResponseError(GrippError):
    """The answer was not what the protocol promises: broken JSON, wrong shape, missing ids."""


class GrippPdfError(GrippError):
    """The invoice PDF could not be fetched, or what came back is not a PDF."""


class GrippTransientError(GrippError):
    """Not our fault and not permanent: try again later."""


class GrippThrottled(GrippTransientError):
    """HTTP 503 from the burst limiter. Internal: the client waits and resends."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class GrippBusyError(GrippTransientError):
    """Still throttled after the retry policy's attempts."""


class GrippQuotaExceeded(GrippTransientError):
    """HTTP 429: the hourly request quota is spent. Never retried in-process; resume at `resume_at`."""

    def __init__(self, message: str, *, resume_at: datetime, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.resume_at = resume_at
        self.retry_after = retry_after


class GrippConnectionError(GrippTransientError):
    """Could not reach Gripp (DNS, refused, reset)."""


class GrippTimeoutError(GrippTransientError):
    """Gripp did not answer in time."""


class GrippServerError(GrippTransientError):
    """HTTP 5xx other than the 503 throttle."""


class GrippOutcomeUnknownError(GrippError):
    """A batch with writes was sent but its answer was lost or broken: the writes may have happened.

    Never resent blindly; the caller looks the records up first. `cause` is the underlying error.
    """

    def __init__(self, message: str, *, cause: GrippError, methods: list[str], **kwargs: Any) -> None:
        super().__init__(message, http_status=cause.http_status, **kwargs)
        self.cause = cause
        self.methods = methods
