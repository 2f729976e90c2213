"""One way to serve an ASGI app on a free 127.0.0.1 port in a background thread, for loopback tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


@contextmanager
def serve_asgi(make_app: Callable[[str], Any], *, graceful_seconds: int = 5) -> Iterator[str]:
    """`make_app(base_url)` builds the app (it may need its own address); yields that base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(make_app(base), log_level="warning", lifespan="off",
                                           timeout_graceful_shutdown=graceful_seconds))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="loopback", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:  # waiting for the server to listen, not a retry delay
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
