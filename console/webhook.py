"""SnelStart's activation webhook as a route of the console server. All the deciding is `sync.linking`'s.

SnelStart delivers once and does not retry, so the answer is only 2xx once the key is stored; the body never
contains the key.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sync.linking import MAX_WEBHOOK_BYTES, WEBHOOK_PATH, handle_webhook
from sync.wiring import Services


def webhook_route(get_services: Callable[[], Services]) -> Route:
    """`POST /webhooks/snelstart`; `get_services` returns the process's Services (created once, elsewhere)."""

    async def snelstart_webhook(request: Request) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_WEBHOOK_BYTES:
            return JSONResponse({"error": "too_large", "message": "The body is too large."}, status_code=413)
        body = await request.body()
        services = get_services()
        # The use case talks to SnelStart and DuckDB (blocking): keep it off the event loop.
        result = await anyio.to_thread.run_sync(handle_webhook, services, body)
        return JSONResponse(result.body, status_code=result.status, headers={"Cache-Control": "no-store"})

    return Route(WEBHOOK_PATH, snelstart_webhook, methods=["POST"], name="snelstart_webhook")
