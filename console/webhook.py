"""SnelStart's activation webhook as a route of the console server. All the deciding is `sync.jobs.linking`'s.

SnelStart delivers once and does not retry, so the answer is only 2xx once the key is stored; the body never
contains the key. The body is read from the stream up to its limit and no further — whatever Content-Length
says, chunked or not — so a huge upload costs nothing. Failures are answered with a short JSON error; the
details go to the server log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync.jobs.activation import MAX_WEBHOOK_BYTES, WEBHOOK_PATH, handle_webhook
from sync.wiring import Services

log = logging.getLogger("console.webhook")
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


def webhook_route(get_services: Callable[[bytes], Services]) -> Route:
    """`POST /webhooks/snelstart`; `get_services(body)` returns the Services of the account the body is for
    (created once, elsewhere)."""

    async def snelstart_webhook(request: Request) -> JSONResponse:
        body = await read_at_most(request, MAX_WEBHOOK_BYTES)
        if body is None:
            log.warning("SnelStart webhook refused (413 too_large)")
            return JSONResponse({"error": "too_large", "message": "The body is too large."}, status_code=413,
                                headers={**_NO_STORE, "Connection": "close"})
        try:
            services = get_services(body)
            # The use case talks to SnelStart and DuckDB (blocking): keep it off the event loop.
            result = await anyio.to_thread.run_sync(handle_webhook, services, body)
        except Exception:
            log.exception("SnelStart webhook failed")
            return JSONResponse({"error": "unavailable", "message": "The webhook could not be handled; try again."},
                                status_code=503, headers=_NO_STORE)
        return JSONResponse(result.body, status_code=result.status, headers=_NO_STORE)

    return Route(WEBHOOK_PATH, snelstart_webhook, methods=["POST"], name="snelstart_webhook")
