"""An httpx client for Gripp API v3: JSON-RPC batches POSTed to /public/api3.php.

One POST carries many calls and counts once against the hourly quota, so everything here is built on
`batch()`. What is retried is decided in `_post_once` alone (and `retrying` in `sync.core.retry` runs the attempts):
- nothing reached Gripp (connect failures), or the burst limiter said 503: resend, writes included;
- reads (get/getone) after a timeout, a dropped connection or a 5xx: resend with backoff;
- writes whose answer was lost or broken: `GrippOutcomeUnknownError`, never resent;
- the hourly quota spent: `GrippQuotaExceeded` with the time to come back, never retried here. Gripp may say so
  as HTTP 429, as an id-less JSON-RPC error naming the hourly maximum at HTTP 200 (its docs: "you will receive a
  JSON-RPC error message"), or by `X-RateLimit-Remaining: 0`, after which nothing more is sent this hour.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from sync.core import exact_json
from sync.core.dates import now_amsterdam
from sync.core.pacing import TokenBucket
from sync.core.retry import DEFAULT_TIMEOUT, Again, RetryPolicy, retry_after_seconds, retrying
from sync.gripp.constants import (
    BURST_CAPACITY,
    BURST_REFILL_PER_SECOND,
    ERROR_AUTH,
    ERROR_PAGING,
    ERROR_THROTTLED,
    MAX_PAGE_SIZE,
    PACING_SPARE_TOKENS,
    PAGES_PER_POST,
    PDF_CONTENT_TYPES,
    PDF_MAGIC,
    READ_ACTIONS,
)
from sync.gripp.errors import (
    GrippAuthError,
    GrippBusyError,
    GrippCallError,
    GrippConnectionError,
    GrippError,
    GrippOutcomeUnknownError,
    GrippPagingError,
    GrippPdfError,
    GrippQuotaExceeded,
    GrippResponseError,
    GrippServerError,
    GrippThrottled,
    GrippTimeoutError,
    GrippUnknownMethodError,
)
from sync.gripp.filters import Filter, FilterLike, OrderingLike, filters_json, orderings_json, wire_value

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------------------ calls and results


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context (the CA bundle loaded once) for every client of this process: loading it costs about 25 ms,
    and a node opens an account's clients on every run of an account it does not keep open."""
    return httpx.create_ssl_context()


@dataclass
class GrippCall:
    method: str  # "<entity>.<action>", e.g. "invoice.get"
    params: Sequence[Any] = field(default_factory=list)  # a list on the wire; a tuple is made one
    id: int | None = None  # assigned by batch() when None; only maps answers to calls

    def __post_init__(self) -> None:
        entity, dot, action = self.method.partition(".")
        if not (entity and dot and action):
            raise ValueError(f"a Gripp method looks like entity.action, got {self.method!r}")
        if not isinstance(self.params, list):
            self.params = list(self.params)

    @property
    def action(self) -> str:
        return self.method.partition(".")[2]

    @property
    def is_write(self) -> bool:
        return self.action not in READ_ACTIONS


@dataclass
class GrippResult:
    call: GrippCall
    result: Any = None
    error: GrippError | None = None
    thread: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise self.error


def raise_for_errors(results: Sequence[GrippResult]) -> None:
    """Raise the first per-call error of a batch, if any."""
    for result in results:
        result.raise_for_error()


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    count: int  # total matches, not the page size
    start: int
    limit: int
    next_start: int  # start + limit, even on the last page
    more: bool  # more_items_in_collection


# ---------------------------------------------------------------------------------------------- the client


class GrippClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        wall_clock: Callable[[], datetime] = now_amsterdam,
        burst_capacity: int | None = BURST_CAPACITY - PACING_SPARE_TOKENS,
        burst_refill_per_second: float = BURST_REFILL_PER_SECOND,
    ) -> None:
        if not token:
            raise ValueError("a Gripp API token is required")
        self.api_url = api_url
        self._api_url = httpx.URL(api_url)
        self._token = _Secret(token)  # never shown or logged, not even by vars() or a traceback's locals
        self._sleep = sleep
        self._wall_clock = wall_clock
        self.policy = policy or RetryPolicy()
        self._http = httpx.Client(transport=transport, timeout=timeout, verify=_tls())
        self._lock = threading.Lock()
        self._next_id = 0
        # Pace ourselves to Gripp's burst bucket so the 503 throttle is the exception, not the rule.
        pace_clock = time.monotonic if clock is time.time else clock  # a wall clock set back must not stall us
        self.pacer = (TokenBucket(burst_capacity, burst_refill_per_second, clock=pace_clock, sleep=sleep)
                      if burst_capacity else None)
        self.request_count = 0
        self.pdf_request_count = 0
        self.rate_limit_remaining: int | None = None
        self.rate_limit_limit: int | None = None
        self._spent_until: datetime | None = None  # X-RateLimit-Remaining said 0: nothing is sent before then

    def __repr__(self) -> str:
        return f"GrippClient(api_url={self.api_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GrippClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ batches

    def batch(self, calls: Sequence[GrippCall]) -> list[GrippResult]:
        """Send all calls in ONE POST; results come back in the order of `calls`, matched by id.

        Per-call errors are returned in the results (see `raise_for_errors`); only failures of the whole
        request (HTTP, network, broken answers) are raised.
        """
        if not calls:
            return []
        ids: set[str] = set()
        with self._lock:
            for call in calls:
                if call.id is None:
                    self._next_id += 1
                    call.id = self._next_id
                if str(call.id) in ids:
                    raise ValueError(f"duplicate call id {call.id} in one batch")
                ids.add(str(call.id))
        body = encode_json([{"method": c.method, "params": c.params, "id": c.id} for c in calls])
        writes = [c.method for c in calls if c.is_write]
        elements, status = self._post(body.encode("utf-8"), writes)
        return self._match(calls, elements, status, writes)

    def call(self, method: str, *params: Any) -> Any:
        """One call; its error is raised as the typed GrippError."""
        return self.batch([GrippCall(method, list(params))])[0].unwrap()

    # ------------------------------------------------------------------------------------------ reads

    def get_page(
        self,
        entity: str,
        filters: Sequence[FilterLike] = (),
        *,
        orderings: Sequence[OrderingLike] = (),
        first: int = 0,
        max_results: int = MAX_PAGE_SIZE,
    ) -> Page:
        call = self.get_call(entity, filters, orderings=orderings, first=first, max_results=max_results)
        return parse_page(self.batch([call])[0].unwrap())

    def get_call(
        self,
        entity: str,
        filters: Sequence[FilterLike] = (),
        *,
        orderings: Sequence[OrderingLike] = (),
        first: int = 0,
        max_results: int = MAX_PAGE_SIZE,
    ) -> GrippCall:
        """The `get` call for one page, to put in a batch yourself."""
        if not 1 <= max_results <= MAX_PAGE_SIZE:
            raise ValueError(f"max_results must be 1..{MAX_PAGE_SIZE} (Gripp refuses more), got {max_results}")
        if first < 0:
            raise ValueError("first must be >= 0")
        options: dict[str, Any] = {"paging": {"firstresult": first, "maxresults": max_results}}
        if orderings:
            options["orderings"] = orderings_json(orderings)
        return GrippCall(f"{entity}.get", [filters_json(filters), options])

    def get_all(
        self,
        entity: str,
        filters: Sequence[FilterLike] = (),
        *,
        orderings: Sequence[OrderingLike] = (),
        page_size: int = MAX_PAGE_SIZE,
        pages_per_post: int = PAGES_PER_POST,
    ) -> Iterator[dict[str, Any]]:
        """Every matching row once, following more_items_in_collection / next_start.

        After the first page (which tells the count) further pages go several to a POST. Without an
        explicit ordering rows are ordered by id, so offsets stay stable between pages; rows seen on an
        earlier page (shifted by a concurrent insert) are not yielded twice.
        """
        orderings = list(orderings) or [(f"{entity}.id", "asc")]
        seen: set[Any] = set()
        page = self.get_page(entity, filters, orderings=orderings, first=0, max_results=page_size)
        yield from _unseen(page.rows, seen)
        while page.more:
            start = page.next_start
            if start <= page.start:
                raise GrippResponseError(f"{entity}.get paging did not advance (next_start {start})")
            left = max(1, math.ceil((page.count - start) / page_size))
            calls = [
                self.get_call(entity, filters, orderings=orderings, first=start + i * page_size,
                              max_results=page_size)
                for i in range(max(1, min(pages_per_post, left)))
            ]
            for result in self.batch(calls):
                page = parse_page(result.unwrap())
                yield from _unseen(page.rows, seen)
                if not page.more:
                    break

    def getone(self, entity: str, filters: Sequence[FilterLike]) -> dict[str, Any] | None:
        rows = getone_rows(self.call(f"{entity}.getone", filters_json(filters)), f"{entity}.getone")
        return rows[0] if rows else None

    # ------------------------------------------------------------------------------------------ writes

    def create(self, entity: str, fields: Mapping[str, Any]) -> int | None:
        """The new record's id when Gripp tells it, else None.

        Gripp documents only "true on success"; an object with a `recordid` is our reference's guess, which no
        public code confirms. Callers that must find the record again mark it (`extendedproperties`)."""
        method = f"{entity}.create"
        result = self.call(method, wire_value(dict(fields)))
        _check_success(result, method)
        return record_id_of(result)

    def update(self, entity: str, record_id: int, fields: Mapping[str, Any]) -> None:
        method = f"{entity}.update"
        _check_success(self.call(method, int(record_id), wire_value(dict(fields))), method)

    def delete(self, entity: str, record_id: int) -> None:
        method = f"{entity}.delete"
        _check_success(self.call(method, int(record_id)), method)

    # ------------------------------------------------------------------------------------------ the PDF

    def download_pdf(self, url: str) -> bytes:
        """GET an invoice's `directpdfurl` and make sure a PDF came back.

        The token goes along only to Gripp's own hosts (or the API's host), never to a stranger; redirects
        to another origin drop it (httpx does that).
        """
        headers = {"Accept": "application/pdf"}
        if self._token_allowed(url):
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return retrying(lambda: self._download_once(url, headers), policy=self.policy, sleep=self._sleep,
                        on_retry=_log_retry)

    def _download_once(self, url: str, headers: dict[str, str]) -> bytes | Again:
        """One GET of the PDF: its bytes, or `Again` after a 429, 503, 5xx or a transport failure (a read may
        always go again), or the error."""
        with self._lock:
            self.pdf_request_count += 1
        try:
            response = self._http.get(url, headers=headers, follow_redirects=True)
        except httpx.TransportError as exc:
            return Again(GrippPdfError(f"could not download the invoice PDF: {type(exc).__name__}"))
        if response.status_code == 200:
            return _check_pdf(response)
        failure = GrippPdfError("could not download the invoice PDF", http_status=response.status_code)
        if response.status_code in (429, 503) or response.status_code >= 500:
            return Again(failure, retry_after=retry_after_seconds(response))
        raise failure

    def _token_allowed(self, url: str) -> bool:
        target, api = httpx.URL(url), self._api_url  # the API's URL parsed once, not per PDF
        if target.host == api.host:
            return True
        def on_gripp(host: str) -> bool:
            return host == "gripp.com" or host.endswith(".gripp.com")

        return on_gripp(api.host) and on_gripp(target.host) and target.scheme == "https"

    # ------------------------------------------------------------------------------------------ transport

    def _post(self, body: bytes, writes: list[str]) -> tuple[list[Any], int]:
        """POST the batch; return its JSON elements and the HTTP status, retrying what may be retried."""
        return retrying(lambda: self._post_once(body, writes), policy=self.policy, sleep=self._sleep,
                        on_retry=_log_retry)

    def _post_once(self, body: bytes, writes: list[str]) -> tuple[list[Any], int] | Again:
        """One POST and what its answer means: the elements and the HTTP status, `Again` when it may be resent
        (see the module's docstring), or the error."""
        self._raise_if_quota_spent()
        if self.pacer is not None:
            self.pacer.acquire()
        with self._lock:
            self.request_count += 1
        try:
            response = self._http.post(self.api_url, content=body, headers=self._headers())
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing reached Gripp: resending cannot duplicate anything, writes included.
            return Again(_transport_error(exc), cause=exc)
        except httpx.TransportError as exc:
            error = _transport_error(exc)
            if writes:
                raise _outcome_unknown(error, writes) from exc
            return Again(error, cause=exc)

        self._note_rate_limits(response)
        status = response.status_code
        if status == 503:
            # The burst limiter rejects before any work is done, so resending is safe (Gripp's own
            # connector does the same).
            return _throttled(GrippThrottled("Gripp is throttling (503)", http_status=503,
                                             retry_after=retry_after_seconds(response)))
        if status == 429:
            raise self._quota_exceeded(response)
        if status in (401, 403):
            raise GrippAuthError("Gripp refused the API key", http_status=status)
        if status >= 500:
            error = GrippServerError(f"Gripp answered HTTP {status}", http_status=status)
            if writes:
                raise _outcome_unknown(error, writes)
            return Again(error, retry_after=retry_after_seconds(response))
        if not 200 <= status < 300:
            raise GrippResponseError(f"unexpected HTTP {status} from the Gripp API (is the URL right?)",
                                     http_status=status)
        try:
            elements = _parse_elements(response)
        except GrippResponseError as error:
            if writes:
                raise _outcome_unknown(error, writes) from error
            raise
        quota = next((e for e in elements if e.get("id") is None and _has_error(e) and _code(e) != ERROR_THROTTLED
                      and (_names_the_hourly_quota(_message(e)) or self.rate_limit_remaining == 0)), None)
        if quota is not None:
            raise self._quota_exceeded(response, _message(quota))
        throttle = next((e for e in elements if e.get("id") is None and _code(e) == ERROR_THROTTLED), None)
        if throttle is not None:
            return _throttled(GrippThrottled(_message(throttle), code=ERROR_THROTTLED, http_status=status,
                                             retry_after=retry_after_seconds(response)))
        return elements, status

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token.reveal()}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _quota_exceeded(self, response: httpx.Response | None, message: str | None = None) -> GrippQuotaExceeded:
        now = self._wall_clock()
        wait = retry_after_seconds(response, now=now) if response is not None else None
        if wait is not None:
            resume_at = now + timedelta(seconds=wait)
        else:
            resume_at = _next_hour(now)
            wait = (resume_at - now).total_seconds()
        if message is None and response is not None:
            message = _error_text(_safe_json(response))
        return GrippQuotaExceeded(message or "Gripp's hourly request quota is spent",
                                  http_status=response.status_code if response is not None else None,
                                  resume_at=resume_at, retry_after=wait)

    def _raise_if_quota_spent(self) -> None:
        """After an answer with `X-RateLimit-Remaining: 0` the next request would be refused: do not send it."""
        with self._lock:
            until = self._spent_until
        if until is None:
            return
        now = self._wall_clock()
        if now >= until:
            with self._lock:
                self._spent_until = None
            return
        raise GrippQuotaExceeded("Gripp's hourly request quota is spent (X-RateLimit-Remaining: 0)",
                                 resume_at=until, retry_after=(until - now).total_seconds())

    def _note_rate_limits(self, response: httpx.Response) -> None:
        remaining = _int_header(response, "X-RateLimit-Remaining")
        limit = _int_header(response, "X-RateLimit-Limit")
        spent_until = _next_hour(self._wall_clock()) if remaining == 0 else None
        with self._lock:
            if remaining is not None:
                self.rate_limit_remaining = remaining
            if limit is not None:
                self.rate_limit_limit = limit
            if spent_until is not None:
                self._spent_until = spent_until

    def _match(
        self, calls: Sequence[GrippCall], elements: list[Any], status: int, writes: list[str]
    ) -> list[GrippResult]:
        by_id: dict[str, dict[str, Any]] = {}
        global_element: dict[str, Any] | None = None
        for element in elements:
            if element.get("id") is None:
                if _has_error(element):
                    global_element = element
                continue
            by_id[str(element["id"])] = element
        results: list[GrippResult] = []
        missing: list[str] = []
        for call in calls:
            if global_element is not None:
                # An id-less error (e.g. a bad key) answers for the whole batch.
                results.append(GrippResult(call, error=classify_error(global_element, call, status),
                                           thread=global_element.get("thread")))
                continue
            element = by_id.get(str(call.id))
            if element is None:
                missing.append(call.method)
                continue
            if _has_error(element):
                results.append(GrippResult(call, error=classify_error(element, call, status),
                                           thread=element.get("thread")))
            else:
                results.append(GrippResult(call, result=element.get("result"), thread=element.get("thread")))
        if missing:
            error = GrippResponseError(f"Gripp's answer lacks calls: {', '.join(missing)}", http_status=status)
            if writes:
                raise _outcome_unknown(error, writes)
            raise error
        return results


# ------------------------------------------------------------------------------------------------ helpers


class _Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


def encode_json(value: Any) -> str:
    """JSON with Decimal written as an exact number literal (Gripp wants numbers, not strings, for money); dates
    and datetimes as Gripp's wire strings, filters as their JSON."""
    return exact_json.dumps(value, default=_wire, floats=True)


def _wire(value: Any) -> Any:
    """What `encode_json` writes for a value JSON has no type for."""
    if isinstance(value, date):  # a datetime too
        return wire_value(value)
    if isinstance(value, Filter):
        return value.to_json()
    raise TypeError(f"cannot encode {type(value).__name__} for Gripp")


def parse_page(result: Any) -> Page:
    if not isinstance(result, dict) or not isinstance(result.get("rows"), list):
        raise GrippResponseError("a get result without rows")
    try:
        start = int(result.get("start") or 0)
        limit = int(result.get("limit") or len(result["rows"]))
        count, next_start = result.get("count"), result.get("next_start")
        count = int(count if count is not None else len(result["rows"]))
        next_start = int(next_start if next_start is not None else start + limit)
    except (TypeError, ValueError) as exc:
        raise GrippResponseError(f"a get result with broken paging fields: {exc}") from None
    return Page(rows=result["rows"], count=count, start=start, limit=limit, next_start=next_start,
                more=bool(result.get("more_items_in_collection")))


def getone_rows(result: Any, method: str) -> list[dict[str, Any]]:
    """A getone result's rows. Seen: the `get` envelope; META says "array of found entity, limited by 1 result",
    so a bare array (or a bare row) is read too."""
    if isinstance(result, dict) and "rows" in result:
        return list(result.get("rows") or [])
    if isinstance(result, list):
        return result
    if isinstance(result, dict) and "id" in result:
        return [result]
    raise GrippResponseError(f"{method}: unexpected result shape", method=method)


def classify_error(element: Mapping[str, Any], call: GrippCall | None = None, status: int | None = None) -> GrippError:
    code, message = _code(element), _message(element)
    kwargs: dict[str, Any] = {"code": code, "http_status": status,
                              "method": call.method if call else None, "call_id": call.id if call else None}
    if code == ERROR_AUTH or "api-key" in message.lower():
        return GrippAuthError(message, **kwargs)
    if code == ERROR_PAGING:
        return GrippPagingError(message, **kwargs)
    if _looks_like_unknown_method(message):
        return GrippUnknownMethodError(message, **kwargs)
    return GrippCallError(message, **kwargs)


def _looks_like_unknown_method(message: str) -> bool:
    # [UNCERTAIN] Gripp's wording is unknown; match the usual phrasings rather than a guessed code.
    lower = message.lower()
    return ("method" in lower or "entity" in lower or "class" in lower) and any(
        word in lower for word in ("unknown", "not exist", "not found", "non-existing", "does not exist", "invalid")
    )


# [UNCERTAIN] the words of Gripp's over-quota error are unknown beyond its connector's comment ("Maximum number of
# request for this hour is reached"): any error about a maximum or limit per hour counts, in English or Dutch.
_HOURLY = re.compile(r"\bhour|hourly|\buur\b|per uur", re.IGNORECASE)
_LIMIT = re.compile(r"maxim|limit|exceed|quota|request|verzoek|aanvra", re.IGNORECASE)


def _names_the_hourly_quota(message: str) -> bool:
    return bool(_HOURLY.search(message) and _LIMIT.search(message))


def _next_hour(now: datetime) -> datetime:
    # [UNCERTAIN] "for this hour" reads as a clock hour; no Retry-After or reset header was ever seen.
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _error_text(body: Any) -> str | None:
    """The message of a 429 body: Gripp's error element array, or a bare {"error": "..."}."""
    if isinstance(body, list):
        body = next((e for e in body if isinstance(e, dict) and e.get("error")), None)
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body["error"]
    return None


def _has_error(element: Mapping[str, Any]) -> bool:
    return element.get("error") not in (None, "", False) or element.get("error_code") not in (None, "", 0)


def _code(element: Mapping[str, Any]) -> int | None:
    code = element.get("error_code")
    if isinstance(code, dict):
        code = code.get("code")
    try:
        return int(code) if code not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _message(element: Mapping[str, Any]) -> str:
    error = element.get("error")
    if isinstance(error, dict):  # a shape some third-party code assumes; Gripp sends a plain string
        error = error.get("message") or error.get("error")
    return str(error) if error not in (None, "") else "Gripp reported an error without a message"


def _parse_elements(response: httpx.Response) -> list[dict[str, Any]]:
    """The body as JSON whatever Content-Type says (Gripp sends text/html)."""
    try:
        payload = json.loads(response.content.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError) as exc:
        raise GrippResponseError(f"Gripp's answer is not valid JSON ({exc.__class__.__name__})",
                                 http_status=response.status_code) from None
    if isinstance(payload, dict) and ("error" in payload or "error_code" in payload):
        payload = [payload]
    if not isinstance(payload, list) or not all(isinstance(e, dict) for e in payload):
        raise GrippResponseError("Gripp's answer is not a JSON array of call results",
                                 http_status=response.status_code)
    return payload


def _safe_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content.decode("utf-8-sig"), parse_float=Decimal)
    except (UnicodeDecodeError, ValueError):
        return None


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _throttled(throttled: GrippThrottled) -> Again:
    """Resend after the wait the burst limiter asked for; a longer wait than a retry's, or running out of attempts,
    is `GrippBusyError`."""
    return Again(throttled, retry_after=throttled.retry_after, strict=True,
                 instead=GrippBusyError("Gripp is still throttling after retries", code=throttled.code,
                                        http_status=throttled.http_status))


def _log_retry(error: BaseException, retry: int, seconds: float) -> None:
    log.info("Gripp: %s; retry %d in %.1fs", error, retry, seconds)


def _transport_error(exc: httpx.TransportError) -> GrippError:
    if isinstance(exc, httpx.TimeoutException):
        return GrippTimeoutError(f"Gripp did not answer in time ({type(exc).__name__})")
    return GrippConnectionError(f"could not talk to Gripp ({type(exc).__name__})")


def _outcome_unknown(cause: GrippError, writes: list[str]) -> GrippOutcomeUnknownError:
    return GrippOutcomeUnknownError(
        f"the answer to a batch with writes ({', '.join(writes)}) was lost: {cause.message}; "
        "look the records up before writing again",
        cause=cause, methods=writes,
    )


def record_id_of(result: Any) -> int | None:
    """The id a create answered with: `{"recordid": N, ...}` or a bare N; None for a plain `true`."""
    value = result.get("recordid", result.get("id")) if isinstance(result, dict) else result
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _check_success(result: Any, method: str) -> None:
    """Writes answer "true on success" or {"success": true, ...}; anything saying false is an error."""
    if result is False or (isinstance(result, dict) and result.get("success") is False):
        raise GrippCallError("Gripp reported no success", method=method)


def _check_pdf(response: httpx.Response) -> bytes:
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    body = response.content
    if content_type not in PDF_CONTENT_TYPES:
        raise GrippPdfError(f"expected a PDF, got Content-Type {content_type or 'none'!r}", http_status=200)
    if not body.startswith(PDF_MAGIC):
        raise GrippPdfError("the download does not start with %PDF-", http_status=200)
    if b"%%EOF" not in body[-2048:]:
        raise GrippPdfError("the PDF is truncated (no %%EOF)", http_status=200)
    return body


def _unseen(rows: list[dict[str, Any]], seen: set[Any]) -> Iterator[dict[str, Any]]:
    for row in rows:
        key = row.get("id") if isinstance(row, dict) else None
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        yield row
