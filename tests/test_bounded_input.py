"""Bounded input (issue 12, findings 3 and 9), over real loopback HTTP: the webhook reads at most its limit
from the stream, chunked or not, and refuses deep nesting with a 400 rather than a 500."""

from __future__ import annotations

import select
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from console.webhook import webhook_route
from sync.jobs.activation import MAX_WEBHOOK_BYTES, handle_webhook
from tests.servers import serve_asgi

pytestmark = pytest.mark.loopback
CHUNK = 64 * 1024


@pytest.fixture
def webhook(services) -> Iterator[tuple[str, dict[str, int]]]:
    """The console's webhook route served over loopback; `read["bytes"]` counts the body bytes it took in."""
    read = {"bytes": 0}
    app = Starlette(routes=[webhook_route(lambda reference: services)])

    async def counting(scope, receive, send):
        async def counted():
            message = await receive()
            if message["type"] == "http.request":
                read["bytes"] += len(message.get("body", b""))
            return message

        await app(scope, counted, send)

    with serve_asgi(lambda url: counting) as url:
        yield url, read


def post_chunked(url: str, total: int) -> int | None:
    """POST `total` bytes with `Transfer-Encoding: chunked` and no length, the way a hostile client streams;
    stop sending once the server answers. The status, or None if the server only closed the connection."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(b"POST /webhooks/snelstart HTTP/1.1\r\nHost: console.test\r\nContent-Type: application/json"
                     b"\r\nTransfer-Encoding: chunked\r\n\r\n")
        frame = f"{CHUNK:x}\r\n".encode() + b"[" * CHUNK + b"\r\n"
        sent = 0
        try:
            while sent < total and not select.select([sock], [], [], 0)[0]:
                sock.sendall(frame)
                sent += CHUNK
            if sent >= total:
                sock.sendall(b"0\r\n\r\n")
            answer = sock.recv(4096)
        except (BrokenPipeError, ConnectionResetError):
            return None
    return int(answer.split()[1]) if answer.startswith(b"HTTP/1.1") else None


def test_a_chunked_body_far_over_the_limit_is_refused_after_reading_at_most_the_limit(webhook) -> None:
    url, read = webhook
    status = post_chunked(url, 32 * 1024 * 1024)
    assert status in (413, None)
    assert read["bytes"] <= MAX_WEBHOOK_BYTES + CHUNK, f"the webhook read {read['bytes']:,} bytes"


def test_json_nested_30000_deep_is_a_400_not_a_500(webhook) -> None:
    url, _ = webhook
    deep = b"[" * 30_000 + b"]" * 30_000
    assert len(deep) < MAX_WEBHOOK_BYTES
    answer = httpx.post(f"{url}/webhooks/snelstart", content=deep, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == "malformed", answer.text
    assert "Recursion" not in answer.text
    assert handle_webhook(None, b'{"a":' * 40 + b"1" + b"}" * 40).status == 400  # type: ignore[arg-type]


def test_the_refusals_log_is_bounded_per_minute_and_says_how_many_it_left_out(caplog) -> None:
    import logging

    from sync.core.log_limit import LimitedLog

    now = [0.0]
    limited = LimitedLog(logging.getLogger("test.limited"), per_minute=3, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="test.limited"):
        logged = [limited.warning("refused %s", n) for n in range(10)]
        now[0] += 61
        limited.warning("refused %s", "later")
    assert logged == [True] * 3 + [False] * 7
    assert [r.getMessage() for r in caplog.records] == [
        "refused 0", "refused 1", "refused 2",
        "more than 3 such lines this minute: the rest are counted, not logged",
        "7 more lines like the above were not logged in the last minute",
        "refused later",
    ]
