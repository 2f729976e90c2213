"""Serve a request→response handler (the simulators' shape) as a real ASGI app, for loopback HTTP.

The same handler runs in-process behind `httpx.MockTransport`; this adapter only converts the messages.
A handler that raises `httpx.TimeoutException` (fault injection) is served as a response that never comes:
the adapter holds the connection longer than any sane client timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx

Handler = Callable[[httpx.Request], httpx.Response]
HANG_SECONDS = 5.0


def asgi_app(handler: Handler, hang_seconds: float = HANG_SECONDS) -> Callable[..., Any]:
    async def app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        host = next((v.decode() for k, v in scope["headers"] if k == b"host"), "localhost")
        url = f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        request = httpx.Request(
            scope["method"], url, headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            content=body,
        )

        def run() -> httpx.Response | None:
            try:
                response = handler(request)
                response.read()
                return response
            except httpx.TimeoutException:
                time.sleep(hang_seconds)
                return None

        response = await anyio.to_thread.run_sync(run)
        if response is None:
            await send({"type": "http.response.start", "status": 504, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
        ]
        headers.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})

    return app
