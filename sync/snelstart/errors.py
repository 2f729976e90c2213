"""What SnelStart's answers mean: one class per kind, and the one table that maps an answer to a class.

Two families matter to the engine (`transient`): SnelStart was busy or unreachable (try again later) versus a
person must fix something (a key, a scope, a mapping). `OutcomeUnknownError` stands apart: a write may or may
not have happened, so look it up before writing again. SnelStart has no idempotency key.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx

from sync.core.retry import retry_after_seconds
from sync.snelstart.constants import DUPLICATE_INVOICE_CODE

# `{RES}-{NNNN}` (ALG, BOE, REL, BLG, ...): the code is the fact a caller branches on, never the Dutch text.
ERROR_CODE_RE = re.compile(r"\b([A-Z]{3}-\d{4})\b")
_MAX_MESSAGE = 500


class SnelStartError(Exception):
    """Base class. `status` is the HTTP status (None when nothing answered), `codes` SnelStart's error codes,
    `messages` its texts, `body` the parsed answer (or its text)."""

    transient = False  # True: trying again later may help; False: a person must act

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        codes: list[str] | None = None,
        messages: list[str] | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.codes = list(codes or [])
        self.messages = list(messages or [])
        self.body = body
        # Set when the token endpoint failed: the API request itself was never sent, so any method may retry.
        self.during_token = False

    def __str__(self) -> str:
        parts = [self.message]
        if self.codes:
            parts.append(", ".join(self.codes))
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        return " | ".join(parts)


class SnelStartBadRequest(SnelStartError):
    """400: a validation or business rule (every `[{errorCode,message}]` entry is kept in `codes`)."""


class SnelStartAuthError(SnelStartError):
    """A credential was refused. The subclass says whose: the partner's or the end user's."""


class SubscriptionKeyError(SnelStartAuthError):
    """401 from the API gateway naming the subscription key: the partner's key is wrong or expired
    (the free test key lasts 90 days). Breaks every administration at once; not the end user's to fix."""


class KoppelsleutelError(SnelStartAuthError):
    """The token endpoint refused the koppelsleutel (400 invalid_grant, or 401): wrong or revoked.
    The end user must link the administration again."""


class TokenRejectedError(SnelStartAuthError):
    """401 on an API call even with a freshly minted token."""


class MissingScopeError(SnelStartError):
    """403: the token lacks a scope the operation needs (the subscription does not allow it)."""


class NotFoundError(SnelStartError):
    """404: unknown id or route."""


class RateLimitError(SnelStartError):
    """429 (or an APIM quota): throttled before processing. `retry_after` in seconds when SnelStart said."""

    transient = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(SnelStartError):
    """5xx on a read (retried first)."""

    transient = True


class SnelStartConnectionError(SnelStartError):
    """SnelStart could not be reached."""

    transient = True


class SnelStartTimeoutError(SnelStartError):
    """SnelStart did not answer in time (a read; a write that times out is `OutcomeUnknownError`)."""

    transient = True


class OutcomeUnknownError(SnelStartError):
    """A POST/PUT/DELETE may or may not have been carried out: a timeout after sending, a 5xx answer or a
    connection dropped mid-request. Never retried blindly: look the record up first."""

    transient = True


class ResponseFormatError(SnelStartError):
    """The answer is not what the API promises: broken or truncated JSON, or the wrong top-level shape."""

    transient = True


class UnreadableWriteAnswerError(ResponseFormatError, OutcomeUnknownError):
    """A write was answered 2xx but the body is unreadable: it happened, but its id is unknown. Look it up."""


def is_duplicate_invoice(err: BaseException) -> bool:
    """BOE-0021: a booking with this factuurnummer already exists; find it and adopt it."""
    return isinstance(err, SnelStartError) and DUPLICATE_INVOICE_CODE in err.codes


# [GUESS] SnelStart's spec names no code for a booking line without the kostenplaats its grootboek demands, nor for
# one that does not exist or is not active; these are the sandbox's. A refusal is recognised by them or by its text
# naming a kostenplaats, whatever the real code is.
KOSTENPLAATS_CODES = frozenset({"BOE-0104", "BOE-0105", "BOE-0106"})


def names_kostenplaats(err: BaseException) -> bool:
    """A 400 about a booking line's kostenplaats: the grootboek's demand changed since the link last read it, or the
    kostenplaats went. The link's own check finds these before posting, once it reads SnelStart again."""
    if not isinstance(err, SnelStartBadRequest):
        return False
    return bool(KOSTENPLAATS_CODES & set(err.codes)) or any("kostenplaats" in m.casefold() for m in err.messages)


# ------------------------------------------------------------------------------------------- parsing bodies


def parse_body(response: httpx.Response) -> Any:
    """The answer as JSON (money as Decimal), else its text (None when empty)."""
    if not response.content:
        return None
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        return response.text


def extract_errors(body: Any) -> tuple[list[str], list[str]]:
    """(codes, messages) from whichever error shape SnelStart used:
    `[{errorCode,message,details}]`, `{"message","modelState":{field:[...]}}`, `{"Message": ...}`,
    the gateway's `{"statusCode","message"}`, OAuth's `{"error","error_description"}`, or plain text."""
    codes: list[str] = []
    messages: list[str] = []

    def add_message(value: Any) -> None:
        if isinstance(value, str) and value.strip():
            messages.append(value.strip()[:_MAX_MESSAGE])

    def add_code(value: Any) -> None:
        if isinstance(value, str) and ERROR_CODE_RE.fullmatch(value.strip()) and value.strip() not in codes:
            codes.append(value.strip())

    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, dict):
            lowered = {str(k).lower(): v for k, v in item.items()}
            add_code(lowered.get("errorcode"))
            add_code(lowered.get("code"))
            for key in ("message", "error_description", "error"):
                add_message(lowered.get(key))
            model_state = lowered.get("modelstate")
            if isinstance(model_state, dict):
                for field, problems in model_state.items():
                    for problem in problems if isinstance(problems, list) else [problems]:
                        if isinstance(problem, str) and problem.strip():
                            add_message(f"{field}: {problem.strip()}" if field else problem)
        elif isinstance(item, str):
            add_message(item)
    # Codes hidden in the text (SCHAKL saw them there too).
    for message in messages:
        for found in ERROR_CODE_RE.findall(message):
            if found not in codes:
                codes.append(found)
    return codes, messages


def mentions_subscription_key(body: Any) -> bool:
    """Did the API gateway (Azure APIM) refuse the partner's subscription key rather than the token?"""
    _, messages = extract_errors(body)
    text = " ".join(messages).lower()
    return "subscription key" in text or "subscription-key" in text


_QUOTA_RE = re.compile(r"(\d+):(\d{2}):(\d{2})")


def error_for_response(response: httpx.Response, *, token_endpoint: bool = False) -> SnelStartError:
    """The table: an HTTP error answer → the error class the engine understands."""
    status = response.status_code
    body = parse_body(response)
    codes, messages = extract_errors(body)
    summary = messages[0] if messages else f"SnelStart answered HTTP {status}"
    kwargs: dict[str, Any] = {"status": status, "codes": codes, "messages": messages, "body": body}

    if status == 429:
        return RateLimitError(summary, retry_after=retry_after_seconds(response), **kwargs)
    if status >= 500:
        return ServerError(summary, **kwargs)
    if token_endpoint:
        if status in (400, 401):
            # invalid_grant: the koppelsleutel is unknown, mistyped or was revoked in SnelStart Web.
            return KoppelsleutelError(f"De koppelsleutel is geweigerd ({summary})", **kwargs)
        return SnelStartError(summary, **kwargs)
    if status == 400:
        return SnelStartBadRequest(summary, **kwargs)
    if status == 401:
        if mentions_subscription_key(body):
            return SubscriptionKeyError(summary, **kwargs)
        return TokenRejectedError(summary, **kwargs)
    if status == 403:
        # APIM answers 403 "Out of call volume quota. Quota will be replenished in HH:MM:SS." for a quota.
        if "quota" in summary.lower():
            found = _QUOTA_RE.search(summary)
            wait = int(found[1]) * 3600 + int(found[2]) * 60 + int(found[3]) if found else None
            return RateLimitError(summary, retry_after=wait, **kwargs)
        return MissingScopeError(summary, **kwargs)
    if status == 404:
        return NotFoundError(summary, **kwargs)
    return SnelStartError(summary, **kwargs)
