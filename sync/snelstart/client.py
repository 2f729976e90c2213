"""The SnelStart B2B API v2 client: one administration, reached with one koppelsleutel.

What may be retried is decided where one attempt's answer is read (`_send_once`; `_mint_once` for a token asked
for on its own), and `retrying` (`sync.core.retry`) runs the attempts: reads on 429/5xx/timeouts/connection
trouble; writes only when SnelStart provably did nothing (a 429 throttle, or a connection that was never made). A
write that timed out or got a 5xx raises `OutcomeUnknownError`: there is no idempotency key, so the engine looks
the record up (`find_verkoopfactuur`) before writing again.
"""

from __future__ import annotations

import base64
import functools
import json
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx

from sync.core import exact_json
from sync.core.pacing import CallBudget
from sync.core.retry import DEFAULT_TIMEOUT, Again, RetryPolicy, retry_after_seconds, retrying
from sync.snelstart import odata
from sync.snelstart.auth import SnelStartAuth
from sync.snelstart.constants import MAX_PAGES, MAX_PUSH_WORKERS, PAGE_SIZE, Tier, tier
from sync.snelstart.errors import (
    OutcomeUnknownError,
    ResponseFormatError,
    SnelStartConnectionError,
    SnelStartError,
    SnelStartTimeoutError,
    TokenRejectedError,
    UnreadableWriteAnswerError,
    error_for_response,
)

# Transport failures that provably happened before a single byte of the request left: safe to resend a write.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def encode_json(value: Any) -> bytes:
    """JSON for SnelStart: Decimal as a number with exactly its digits (never through float), dates as
    zone-less `yyyy-MM-ddTHH:mm:ss`, text as UTF-8."""
    return exact_json.dumps(value, default=_wire, ensure_ascii=False).encode("utf-8")


def _wire(value: Any) -> Any:
    """What `encode_json` writes for a value JSON has no type for."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00"
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot send {type(value).__name__} to SnelStart")


def _token_busy(error: SnelStartError) -> Again:
    """The token endpoint was busy (a transient refusal): no API call was sent, so any method may go again, after
    the wait SnelStart asked for; a longer wait than a retry's gives up."""
    return Again(error, retry_after=getattr(error, "retry_after", None), strict=True)


def _segment(value: str) -> str:
    """One path segment, escaped so an id can never step into another route."""
    return quote(str(value), safe="")


def _query(params: list[tuple[str, str]]) -> str:
    # `%20` for spaces and literal `$` names, as OData clients send them; every value fully escaped.
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in params)


# Outside the client's body: its method `list` shadows the builtin there.
Rows = list[dict[str, Any]]  # JSON objects as SnelStart sent them
Scopes = list[str]


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context (the CA bundle loaded once) for every client of this process: loading it costs about 25 ms,
    and a node opens an account's clients on every run of an account it does not keep open."""
    return httpx.create_ssl_context()


class SnelStartClient:
    def __init__(
        self,
        api_url: str,
        auth_url: str,
        subscription_key: str,
        koppelsleutel: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        limits: Tier | str | None = None,
        budget: CallBudget | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._auth = SnelStartAuth(auth_url, subscription_key, koppelsleutel, clock=clock)
        self._sleep = sleep
        self._policy = policy or RetryPolicy()
        # One koppelsleutel opens one administration, so this client's budget is that administration's: every
        # API call waits for a place in flight and in the minute's budget of the subscription's tier.
        self.limits = limits if isinstance(limits, Tier) else tier(limits)
        pace_clock = time.monotonic if clock is time.time else clock  # a wall clock set back must not stall us
        self.budget = budget or CallBudget(self.limits.per_minute, self.limits.concurrent, clock=pace_clock,
                                           sleep=sleep)
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            verify=_tls(),
            auth=self._auth,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": "gripp-snelstart-link"},
            event_hooks={"request": [self._count]},
        )
        self.request_count = 0  # API requests sent (token requests are `token_count`)
        self.write_count = 0  # of which POST/PUT/DELETE

    def __repr__(self) -> str:
        return f"SnelStartClient(api_url={self.api_url!r}, auth={self._auth!r})"

    @property
    def token_count(self) -> int:
        return self._auth.token_count

    @property
    def parallel_calls(self) -> int:
        """How many invoices the push should work on at once for this administration."""
        return max(1, min(self.budget.concurrent, MAX_PUSH_WORKERS))

    def _count(self, request: httpx.Request) -> None:
        if self._auth.is_token_request(request):
            return
        self.request_count += 1
        if request.method != "GET":
            self.write_count += 1

    # ---------------------------------------------------------------------------------------- lifecycle

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SnelStartClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ sending

    def _send(self, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
              body: Any = None) -> httpx.Response:
        """One API call with the retry rules. Returns a 2xx response or raises a `SnelStartError`."""
        url = self.api_url + path + (("?" + _query(params)) if params else "")
        content = encode_json(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        return retrying(lambda: self._send_once(method, path, url, content, headers), policy=self._policy,
                        sleep=self._sleep)

    def _send_once(self, method: str, path: str, url: str, content: bytes | None,
                   headers: dict[str, str] | None) -> httpx.Response | Again:
        """One attempt and what its answer means: a 2xx response, `Again` when it may go again (see the module's
        docstring), or the error."""
        is_read = method == "GET"
        request = self._http.build_request(method, url, content=content, headers=headers)
        try:
            with self.budget.call():
                response = self._http.send(request)
        except httpx.RequestError as exc:  # transport trouble, or an answer that could not be decoded
            error, safe = self._transport_failure(exc, method, url, is_read)
            if not safe:
                raise error from exc
            return Again(error, cause=exc)
        except SnelStartError as exc:
            # The token endpoint failed: the API call was never sent, so any method may retry when busy.
            if not exc.transient:
                raise
            return _token_busy(exc)

        status = response.status_code
        if status < 300:
            return response
        if status < 400:  # the API never redirects; following one could send the credentials elsewhere
            raise ResponseFormatError(f"SnelStart stuurde een onverwachte doorverwijzing (HTTP {status})",
                                      status=status)
        if status == 429:
            # Throttled before any work was done, so any method may go again: after the wait SnelStart asked
            # for, which every call of this administration then waits out (the budget holds them back).
            return Again(error_for_response(response), retry_after=retry_after_seconds(response), strict=True,
                         wait=self.budget.hold)
        if status >= 500:
            if not is_read:
                raise OutcomeUnknownError(
                    f"SnelStart antwoordde HTTP {status} op {method} {path}: misschien wel, misschien niet "
                    "verwerkt", status=status, body=error_for_response(response).body,
                )
            return Again(error_for_response(response), retry_after=retry_after_seconds(response))
        error = error_for_response(response)
        if status == 401 and isinstance(error, TokenRejectedError):
            self._auth.invalidate()  # the next call starts with a new token
        raise error

    def _transport_failure(self, exc: httpx.RequestError, method: str, url: str,
                           is_read: bool) -> tuple[SnelStartError, bool]:
        """(the error to raise, whether a retry is safe)."""
        try:
            failed = exc.request
        except RuntimeError:  # httpx did not attach the request: assume it was the API call
            failed = None
        during_token = failed is not None and self._auth.is_token_request(failed)
        timeout = isinstance(exc, httpx.TimeoutException)
        where = "het token-endpoint" if during_token else f"{method} {url.split('?')[0]}"
        if is_read or during_token or isinstance(exc, _NOT_SENT):
            cls = SnelStartTimeoutError if timeout else SnelStartConnectionError
            error: SnelStartError = cls(f"SnelStart niet bereikbaar ({where}): {type(exc).__name__}")
            error.during_token = during_token
            return error, True
        return OutcomeUnknownError(
            f"Geen antwoord van SnelStart op {where} ({type(exc).__name__}): misschien wel, misschien niet "
            "verwerkt"
        ), False

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            # A write that was answered 2xx did happen, but without its answer we do not know the new id.
            cls = ResponseFormatError if response.request.method == "GET" else UnreadableWriteAnswerError
            raise cls(
                f"SnelStart stuurde onleesbare JSON (HTTP {response.status_code}, {len(response.content)} bytes)",
                status=response.status_code, body=response.text[:500],
            ) from exc

    @staticmethod
    def _expect(value: Any, kind: Any, what: str) -> Any:
        if not isinstance(value, kind):
            expected = getattr(kind, "__name__", str(kind))
            raise ResponseFormatError(f"SnelStart gaf voor {what} een {type(value).__name__}, verwacht {expected}",
                                      body=value)
        return value

    # ------------------------------------------------------------------------------------------- generic

    def get(self, path: str) -> dict | list:
        """GET a path below the API base, e.g. `/verkoopboekingen/{id}` (the caller escapes ids; see helpers)."""
        return self._expect(self._json(self._send("GET", "/" + path.lstrip("/"))), dict | list, path)

    def list(self, resource: str, filter: str | None = None, *, page_size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every row of an OData collection, paged with `$skip`/`$top`: SnelStart sends no paging metadata, so
        the next page is asked for only while the current one came back full. `$filter` is passed verbatim."""
        if not 1 <= page_size <= PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{PAGE_SIZE}")
        path = "/" + resource.strip("/")
        for page in range(MAX_PAGES):
            params = [("$skip", str(page * page_size)), ("$top", str(page_size))]
            if filter:
                params.insert(0, ("$filter", filter))
            rows = self._expect(self._json(self._send("GET", path, params=params)), list, resource)
            for row in rows:
                yield self._expect(row, dict, f"{resource} row")
            if len(rows) < page_size:
                return
        raise ResponseFormatError(f"SnelStart bleef volle pagina's sturen voor {resource} (meer dan "
                                  f"{MAX_PAGES * page_size} rijen); gestopt in plaats van half te lezen")

    # ------------------------------------------------------------------------------------------- probes

    def scopes(self) -> Scopes:
        """The scopes in the token's JWT (minting a token when there is none yet)."""
        if self._auth.needs_token():
            self._mint_token()
        return self._auth.scopes

    def administration_id(self) -> str | None:
        """The `administratieIdentifier` claim of the token, when SnelStart puts it there."""
        if self._auth.needs_token():
            self._mint_token()
        value = self._auth.claims.get("administratieIdentifier")
        return str(value) if value else None

    def _mint_token(self) -> None:
        retrying(self._mint_once, policy=self._policy, sleep=self._sleep)

    def _mint_once(self) -> Again | None:
        """One token request: done, or `Again` when the token endpoint was unreachable or busy."""
        try:
            self._auth.accept_token_response(self._http.send(self._auth.build_token_request(), auth=None))
        except httpx.RequestError as exc:
            error: SnelStartError = (SnelStartTimeoutError if isinstance(exc, httpx.TimeoutException)
                                     else SnelStartConnectionError)(
                f"SnelStart niet bereikbaar (het token-endpoint): {type(exc).__name__}")
            error.during_token = True
            return Again(error, cause=exc)
        except SnelStartError as exc:
            if not exc.transient:
                raise
            return _token_busy(exc)
        return None

    def company_info(self) -> dict:
        return self._expect(self._json(self._send("GET", "/companyInfo")), dict, "companyInfo")

    # ------------------------------------------------------------------------------------------- reads

    def btwtarieven(self) -> Rows:
        # Not an OData endpoint: one call returns the whole VAT history.
        return self._expect(self._json(self._send("GET", "/btwtarieven")), list, "btwtarieven")

    def grootboeken(self, filter: str | None = None) -> Rows:
        return list(self.list("grootboeken", filter))

    def relaties(self, filter: str | None = None) -> Rows:
        return list(self.list("relaties", filter))

    def kostenplaatsen(self) -> Rows:
        """Every kostenplaats of the administration. The spec offers no OData here ($filter, $skip, $top): one call
        returns the whole list, as /btwtarieven does."""
        return [self._expect(row, dict, "kostenplaatsen row")
                for row in self._expect(self._json(self._send("GET", "/kostenplaatsen")), list, "kostenplaatsen")]

    def verkoopfacturen(self, filter: str | None = None) -> Iterator[dict]:
        return self.list("verkoopfacturen", filter)

    def bankboekingen(self, filter: str | None = None) -> Iterator[dict]:
        return self.list("bankboekingen", filter)

    def find_verkoopfactuur(self, factuurnummer: str) -> dict | None:
        """The open item for an invoice number, or None. The match is re-checked locally: the filter is a
        bandwidth saving, not a guarantee."""
        wanted = factuurnummer.strip().casefold()  # SnelStart's uniqueness ignores case (?), so does this check
        for row in self.list("verkoopfacturen", odata.eq("Factuurnummer", factuurnummer)):
            if str(row.get("factuurnummer", "")).strip().casefold() == wanted:
                return row
        return None

    def get_verkoopboeking(self, booking_id: str) -> dict:
        return self._expect(self.get(f"/verkoopboekingen/{_segment(booking_id)}"), dict, "verkoopboeking")

    def documents_of(self, document_type: str, parent_id: str) -> Rows:
        return self._expect(self.get(f"/documenten/{_segment(document_type)}/{_segment(parent_id)}"), list,
                            "documenten")

    # ------------------------------------------------------------------------------------------- writes

    def create_verkoopboeking(self, body: dict) -> dict:
        """POST /verkoopboekingen → 201 with the stored model. BOE-0021 (`is_duplicate_invoice`) means it is
        already there; `OutcomeUnknownError` means look it up before trying again."""
        return self._expect(self._json(self._send("POST", "/verkoopboekingen", body=body)), dict,
                            "verkoopboeking")

    def create_relatie(self, body: dict) -> dict:
        return self._expect(self._json(self._send("POST", "/relaties", body=body)), dict, "relatie")

    def create_kostenplaats(self, body: dict) -> dict:
        """POST /kostenplaatsen → 201 with the stored `KostenplaatsModel` (scope settings:write). SnelStart has no
        idempotency key and nothing in the spec says it refuses a number that is taken: `OutcomeUnknownError`
        means look it up by number (`kostenplaatsen`) before trying again."""
        return self._expect(self._json(self._send("POST", "/kostenplaatsen", body=body)), dict, "kostenplaats")

    def upload_document(self, document_type: str, parent_id: str, file_name: str, content: bytes,
                        read_only: bool = False) -> dict:
        """Attach a file (≤10 MB) to a booking or relatie. The spec says 200, a live client saw 201: both are
        accepted."""
        body = {
            "content": base64.b64encode(content).decode("ascii"),
            "parentIdentifier": parent_id,
            "fileName": file_name,
            "readOnly": read_only,
        }
        return self._expect(self._json(self._send("POST", f"/documenten/{_segment(document_type)}", body=body)),
                            dict, "document")

