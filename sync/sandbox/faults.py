"""Fault injection for the simulators: latency, throttles, 5xx, timeouts, lost answers, broken bodies,
reshaped bodies, and hooks that change the world mid-run.

A fault matches a service ("gripp", "snelstart-api", "snelstart-auth", "snelstart-web" or "pdf") and,
optionally, an HTTP method, a path fragment, a fragment of the body and (for Gripp) a JSON-RPC method name in
the batch. It lets the first `after` matching requests pass, then fires `times` times (None = until cleared).

Kinds:
  status         answer `status` (with `Retry-After: retry_after` and a JSON `body`) instead of the service
  timeout        the request hangs (in-process: `httpx.ReadTimeout`; over loopback the answer never comes)
  lose_response  the service does the work, then the answer is lost (a timeout)
  latency        wait `seconds` on the sandbox's sleep before serving
  malformed      serve the answer's status with `body` bytes (default: the first half of the real body) as
                 `content_type` (default application/json)
  reshape        serve the real answer with its JSON passed through `transform` (missing, extra, wrong-typed
                 fields)
  hook           call `action()` before the request is served (revoke a key, expire tokens, spend a quota)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import httpx

KINDS = ("status", "timeout", "lose_response", "latency", "malformed", "reshape", "hook")


@dataclass
class Fault:
    service: str
    kind: str  # one of KINDS
    method: str | None = None
    path_contains: str | None = None
    rpc_method: str | None = None
    body_contains: str | None = None  # e.g. one invoice number: the fault hits that invoice's request only
    status: int = 503
    retry_after: float | None = None
    body: object = None  # JSON body for kind="status"; bytes for kind="malformed"
    content_type: str = "application/json"  # for kind="malformed"
    transform: Callable[[Any], Any] | None = None  # for kind="reshape": parsed JSON in, JSON to serve out
    action: Callable[[], None] | None = None  # for kind="hook"
    seconds: float = 0.0  # for kind="latency"
    after: int = 0  # matching requests let through before the fault starts firing
    times: int | None = 1
    fired: int = field(default=0)
    seen: int = field(default=0)

    def matches(self, service: str, request: httpx.Request) -> bool:
        if self.service not in (service, "any"):
            return False
        if self.method and request.method != self.method.upper():
            return False
        if self.path_contains and self.path_contains not in request.url.path:
            return False
        if self.body_contains and self.body_contains not in (request.content or b"").decode("utf-8", "replace"):
            return False
        if self.rpc_method:
            try:
                calls = json.loads(request.content or b"[]")
            except ValueError:
                return False
            names = {c.get("method") for c in calls if isinstance(c, dict)}
            if self.rpc_method not in names:
                return False
        return self.times is None or self.fired < self.times


class FaultOptions(TypedDict, total=False):
    """`Fault`'s fields besides its service and kind."""

    method: str | None
    path_contains: str | None
    rpc_method: str | None
    body_contains: str | None
    status: int
    retry_after: float | None
    body: object
    content_type: str
    transform: Callable[[Any], Any] | None
    action: Callable[[], None] | None
    seconds: float
    after: int
    times: int | None


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, service: str, kind: str, **options: Unpack[FaultOptions]) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(service=service, kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, service: str, request: httpx.Request, kinds: tuple[str, ...] = KINDS) -> Fault | None:
        """The first matching armed fault of one of `kinds`, counted as fired (a fault still in its `after`
        window counts the request as seen and lets it pass)."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(service, request):
                    fault.seen += 1
                    if fault.seen <= fault.after:
                        continue
                    fault.fired += 1
                    return fault
        return None

    def answer_before(self, service: str, request: httpx.Request) -> httpx.Response | None:
        """A `status` fault's answer instead of the service's, or `httpx.ReadTimeout` for a `timeout`; None: serve."""
        fault = self.take(service, request, kinds=("status", "timeout"))
        if fault is not None and fault.kind == "timeout":
            raise httpx.ReadTimeout("sandbox: injected timeout", request=request)
        if fault is not None:
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
            body = fault.body if fault.body is not None else {"Message": f"Injected {fault.status}"}
            return httpx.Response(fault.status, json=body, headers=headers)
        return None

    def answer_after(self, service: str, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        """The service's answer once it did the work: lost (`httpx.ReadTimeout`), broken, reshaped, or as it is."""
        fault = self.take(service, request, kinds=("lose_response", "malformed", "reshape"))
        if fault is not None and fault.kind == "lose_response":
            raise httpx.ReadTimeout("sandbox: the server did the work but the answer was lost", request=request)
        if fault is not None and fault.kind == "reshape":
            return _reshaped(response, fault.transform)
        if fault is not None:
            broken = fault.body if isinstance(fault.body, bytes) else response.content[: len(response.content) // 2]
            return httpx.Response(response.status_code, content=broken, headers={"Content-Type": fault.content_type})
        return response


def _reshaped(response: httpx.Response, transform: Callable[[Any], Any] | None) -> httpx.Response:
    """The same answer with its JSON changed by `transform`."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        return response
    if transform is not None:
        payload = transform(payload)
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
    content = json.dumps(payload).encode("utf-8")
    return httpx.Response(response.status_code, content=content, headers=headers)
