"""The sandbox: both simulators over one world, behind one request→response handler.

The world holds several Gripp accounts (each answers only its own API tokens, with its own quota) and one
SnelStart with every account's administrations, reached with the deployment's one subscription key.

Routes (below any base URL, normally the console's own `/sandbox`):
  /sandbox/gripp/public/api3.php        Gripp API v3 (JSON-RPC batches)
  /sandbox/gripp/pdf/{invoice_id}        the invoices' `directpdfurl`
  /sandbox/snelstart/auth/b2b/token      SnelStart's token endpoint
  /sandbox/snelstart/api/v2/...          SnelStart B2B API v2
  /sandbox/snelstart/web/couplings/...   SnelStart's web activation page (linking)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import datetime
from datetime import time as dtime
from pathlib import Path

import httpx

from sync.core.clock import Clock, ShiftedClock
from sync.core.dates import AMSTERDAM
from sync.sandbox.faults import Faults
from sync.sandbox.gripp_sim import GrippSimulator
from sync.sandbox.snelstart_sim import SnelStartSimulator
from sync.sandbox.world import World

SAVE_EVERY = 5.0  # seconds: the whole world is written, so not after every single request

_ROUTES = (
    ("/sandbox/gripp/pdf/", "pdf"),
    ("/sandbox/gripp/", "gripp"),
    ("/sandbox/snelstart/auth/", "snelstart-auth"),
    ("/sandbox/snelstart/api/v2/", "snelstart-api"),
    ("/sandbox/snelstart/web/", "snelstart-web"),
)


def world_noon(world: World) -> datetime:
    """Noon on the world's fixed 'today': where the tests' clocks start, so no test depends on the calendar."""
    return datetime.combine(world.today, dtime(12, 0), tzinfo=AMSTERDAM)


def calendar_clock(world: World, state_path: Path | None, system: Clock = time.time) -> ShiftedClock:
    """The clock of a sandbox a person uses (the console, the command line): its demo data is dated around its
    fixed `today`, so its time starts at noon on that day when the world is first opened (that moment is kept in
    the world, and saved) and runs at real speed from there, across restarts. Runs, the log, "Dagen te laat" and
    the start-date check then all read one calendar (issue 24, item 1) — on any real date, near midnight too."""
    opened_at = world.opened_at
    if opened_at is None:
        with world.lock:
            world.opened_at = opened_at = system()
        if state_path is not None:
            world.save(state_path)
    return ShiftedClock(world_noon(world).timestamp() - opened_at, system)


class VirtualClock:
    """Time for load runs and fault tests: sleeping advances it instead of waiting. Shared by the simulators
    (rate-limit windows, token expiry, the hourly quota) and the clients (their sleep, pacing and token clock),
    so a `Retry-After` of a minute is waited out in no time while every limit still bites.

    Threads that wait at the same moment wait *together*: `sleep(s)` moves the clock to s after the last time
    anyone read it (the simulator reads it when it answers 429), not s after what other threads already waited.
    """

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._read_at = self._now
        self._lock = threading.Lock()
        self.slept = 0.0  # total seconds asked for, over all threads

    def __call__(self) -> float:
        with self._lock:
            self._read_at = self._now
            return self._now

    def sleep(self, seconds: float) -> None:
        seconds = max(0.0, float(seconds))
        with self._lock:
            self._now = max(self._now, self._read_at + seconds)
            self.slept += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def next_hour(self) -> None:
        """Step past the top of the hour (Gripp's hourly quota starts again)."""
        with self._lock:
            self._now = (self._now // 3600 + 1) * 3600 + 1


class Sandbox:
    def __init__(
        self,
        world: World,
        *,
        base_url: str = "http://localhost:8501",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rate_limits: bool = False,
        state_path: Path | None = None,
        record_calls: bool = True,
    ) -> None:
        self.world = world
        self.clock = clock  # the simulators' "now"; the wiring gives the store and the clients the same one
        self.base_url = base_url.rstrip("/")
        self.faults = Faults()
        self.sleep = sleep
        self.state_path = state_path
        self._save_lock = threading.Lock()
        self._dirty = False
        self._saved_at = 0.0
        self.gripp = GrippSimulator(
            world, pdf_base_url=f"{self.base_url}/sandbox/gripp/pdf", clock=clock, rate_limits=rate_limits
        )
        self.snelstart = SnelStartSimulator(world, clock=clock, rate_limits=rate_limits)
        self.request_counts: dict[str, int] = {}
        # (service, method, path, Gripp JSON-RPC methods): what tests and benchmarks count. A long-running
        # `sandbox serve` keeps none (`record_calls=False`): the list would only grow.
        self.record_calls = record_calls
        self.calls: list[tuple[str, str, str, tuple[str, ...]]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for prefix, service in _ROUTES:
            index = path.find(prefix)
            if index >= 0:
                return self._dispatch(service, request, path[index + len(prefix):])
        return httpx.Response(404, json={"Message": f"No sandbox route for {path}"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _dispatch(self, service: str, request: httpx.Request, subpath: str) -> httpx.Response:
        self.request_counts[service] = self.request_counts.get(service, 0) + 1
        if self.record_calls:
            self.calls.append((service, request.method, subpath, _rpc_methods(request) if service == "gripp" else ()))
        hook = self.faults.take(service, request, kinds=("hook",))
        if hook is not None and hook.action is not None:
            hook.action()
        latency = self.faults.take(service, request, kinds=("latency",))
        if latency is not None:
            self.sleep(latency.seconds)
        injected = self.faults.answer_before(service, request)
        if injected is not None:
            return injected

        handler = {
            "gripp": self.gripp.handle,
            "pdf": self.gripp.handle_pdf,
            "snelstart-auth": self.snelstart.handle_auth,
            "snelstart-api": self.snelstart.handle_api,
            "snelstart-web": self.snelstart.handle_web,
        }[service]
        response = handler(request, subpath)
        if request.method != "GET":
            self.persist()

        return self.faults.answer_after(service, request, response)

    def persist(self) -> None:
        """Remember that the world changed; saved at most every SAVE_EVERY seconds and on `flush()`."""
        if self.state_path is None:
            return
        self._dirty = True
        if time.monotonic() - self._saved_at >= SAVE_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.state_path is None or not self._dirty:
            return
        with self._save_lock:
            self._dirty = False
            self._saved_at = time.monotonic()
            self.world.save(self.state_path)


    # ------------------------------------------------------------------------------------------- accounts

    def account_keys(self) -> list[str]:
        """The Gripp accounts this sandbox holds, the first one first (the one `world.gripp` means)."""
        with self.world.lock:
            return list(self.world.gripp_accounts)

    def gripp_token(self, account: str) -> str:
        """The API token that opens this Gripp account (each account answers its own tokens only)."""
        with self.world.lock:
            tokens = self.world.gripp_account(account).api_tokens
            if not tokens:
                raise LookupError(f"Gripp account {account!r} has no API token")
            return tokens[0]

    def spend_gripp_quota(self, answer: str = "http429", account: str | None = None) -> None:
        """Fault helper: one Gripp account's hourly request quota (default the first's) is used up from now until
        the next clock hour. `answer` is how Gripp says so: "http429", or "jsonrpc" (HTTP 200 with an id-less
        error element)."""
        self.gripp.spend_quota(account or self.account_keys()[0], answer)

    def writes(self) -> list[tuple[str, str, str, tuple[str, ...]]]:
        """Calls that changed something: SnelStart POST/PUT/DELETE and Gripp create/update/delete calls."""
        return [
            call for call in self.calls
            if (call[0] == "snelstart-api" and call[1] in ("POST", "PUT", "DELETE"))
            or any(m.split(".")[-1] in ("create", "update", "delete") for m in call[3])
        ]


def _rpc_methods(request: httpx.Request) -> tuple[str, ...]:
    try:
        body = json.loads(request.content or b"[]")
    except ValueError:
        return ()
    return tuple(str(c.get("method")) for c in body if isinstance(c, dict)) if isinstance(body, list) else ()
