"""SnelStart's activation webhook as a route of the console server. All the deciding is `sync.jobs.linking`'s.

SnelStart delivers once and does not retry, so the answer is only 2xx once the key is stored; the body never
contains the key. The body is read from the stream up to its limit and no further — whatever Content-Length
says, chunked or not — so a huge upload costs nothing. What cannot be placed — a body that is not SnelStart's, too
large or too deeply nested, a referenceKey that names no account here — is a 4xx before anything is opened; a
database that cannot be used now is a 503. Every refusal is one line in the server log, never a traceback, and at
most so many a minute (`sync.jobs.activation.refusals_log`).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync.jobs.activation import (
    MAX_WEBHOOK_BYTES,
    WEBHOOK_PATH,
    WebhookResult,
    handle_webhook,
    log_refusal,
    read_webhook,
    refusals_log,
    unknown_reference,
)
from sync.wiring import Services

_NO_STORE = {"Cache-Control": "no-store"}


async def read_at_most(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it turns out longer than `limit` (the rest is never read)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def webhook_route(get_services: Callable[[str], Services]) -> Route:
    """`POST /webhooks/snelstart`; `get_services(reference)` returns the Services of the account the delivery's
    referenceKey is for (created once, elsewhere), raising `LookupError` when it names no account here."""

    async def snelstart_webhook(request: Request) -> JSONResponse:
        body = await read_at_most(request, MAX_WEBHOOK_BYTES)
        if body is None:
            log_refusal(413, "too_large")
            return JSONResponse({"error": "too_large", "message": "The body is too large."}, status_code=413,
                                headers={**_NO_STORE, "Connection": "close"})
        # What it is and whose it is, before anything is opened: what cannot be placed is a 4xx, never a 503.
        delivery = read_webhook(body)
        if isinstance(delivery, WebhookResult):
            return _answer(delivery)
        try:
            services = get_services(delivery.reference)
        except LookupError:  # no such account (or none at all): as unknown as any other reference
            return _answer(unknown_reference())
        except Exception as exc:  # the database cannot be used now: one line, no traceback
            refusals_log.warning("SnelStart webhook not handled (503 %s)", getattr(exc, "code", None) or
                                 type(exc).__name__)
            return _unavailable()
        try:
            # The use case talks to SnelStart and DuckDB (blocking): keep it off the event loop.
            result = await anyio.to_thread.run_sync(handle_webhook, services, delivery)
        except Exception:  # a fault of ours: its traceback for the operator, within the log's limit
            refusals_log.warning("SnelStart webhook failed", exc_info=True)
            return _unavailable()
        return _answer(result)

    return Route(WEBHOOK_PATH, snelstart_webhook, methods=["POST"], name="snelstart_webhook")


def _answer(result: WebhookResult) -> JSONResponse:
    return JSONResponse(result.body, status_code=result.status, headers=_NO_STORE)


def _unavailable() -> JSONResponse:
    return JSONResponse({"error": "unavailable", "message": "The webhook could not be handled; try again."},
                        status_code=503, headers=_NO_STORE)
