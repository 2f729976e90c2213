"""Real receivers on loopback for the notification tests: a JSON webhook (an HTTP server that answers, fails or
hangs as told) and an SMTP server (aiosmtpd). Each keeps what it received, to be read and its words checked."""

from __future__ import annotations

import email
import email.policy
import html
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    title: str
    body: str


class JsonReceiver:
    """`json://127.0.0.1:PORT/hook`: answers 200 (`mode = "ok"`), 500 (`"fail"`) or nothing for `hang` seconds."""

    def __init__(self) -> None:
        self.got: list[Received] = []
        self.hits = 0
        self.mode = "ok"
        self.hang = 30.0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data: dict[str, Any] = json.loads(self.rfile.read(length) or b"{}")
                outer.hits += 1
                if outer.mode == "hang":
                    time.sleep(outer.hang)
                if outer.mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.got.append(Received(str(data.get("title", "")), str(data.get("message", ""))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, lang: str | None = None) -> str:
        return f"json://127.0.0.1:{self.port}/hook" + (f"?lang={lang}" if lang else "")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def json_receiver() -> Iterator[JsonReceiver]:
    receiver = JsonReceiver()
    try:
        yield receiver
    finally:
        receiver.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Mailbox:
    def __init__(self) -> None:
        self.got: list[Received] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
        text = part.get_content() if part is not None else ""
        if part is not None and part.get_content_type() == "text/html":
            text = html.unescape(text)
        self.got.append(Received(str(message["subject"]), text))
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[_Mailbox, int]]:
    """A plain SMTP server on 127.0.0.1 (no TLS, no login): `mailto://127.0.0.1:PORT?from=…&to=…`."""
    from aiosmtpd.controller import Controller

    box = _Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def mail_url(port: int, lang: str | None = None) -> str:
    return (f"mailto://127.0.0.1:{port}?from=koppeling@example.nl&to=support@example.nl"
            + (f"&lang={lang}" if lang else ""))


def wait_for(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not received in time")
        time.sleep(0.05)
