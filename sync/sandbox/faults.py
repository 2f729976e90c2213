"""Fault injection for the simulators: latency, throttles, 5xx, timeouts, lost answers, broken bodies.

A fault matches a service ("gripp", "snelstart-api", "snelstart-auth", "snelstart-web" or "pdf") and,
optionally, an HTTP method, a path fragment and (for Gripp) a JSON-RPC method name in the batch. It fires
`times` times (None = until cleared).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import httpx

KINDS = ("status", "timeout", "lose_response", "latency", "malformed")


@dataclass
class Fault:
    service: str
    kind: str  # one of KINDS
    method: str | None = None
    path_contains: str | None = None
    rpc_method: str | None = None
    status: int = 503
    retry_after: float | None = None
    body: object = None  # JSON body for kind="status"; bytes for kind="malformed"
    seconds: float = 0.0  # for kind="latency"
    times: int | None = 1
    fired: int = field(default=0)

    def matches(self, service: str, request: httpx.Request) -> bool:
        if self.service not in (service, "any"):
            return False
        if self.method and request.method != self.method.upper():
            return False
        if self.path_contains and self.path_contains not in request.url.path:
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


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, service: str, kind: str, **options: object) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        fault = Fault(service=service, kind=kind, **options)  # type: ignore[arg-type]
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, service: str, request: httpx.Request, kinds: tuple[str, ...] = KINDS) -> Fault | None:
        """The first matching armed fault of one of `kinds`, counted as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(service, request):
                    fault.fired += 1
                    return fault
        return None
