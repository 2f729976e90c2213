"""SnelStart authentication as an `httpx.Auth`: both credentials on every API call, the token minted from the
koppelsleutel, cached, renewed shortly before it expires and once when the API answers 401.

The subscription key (the partner's) goes on every API call and never to the token endpoint; the koppelsleutel
(the end user's, one administration) goes only in the token request's form body.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Generator
from decimal import Decimal
from typing import Any

import httpx

from sync.snelstart.constants import (
    DEFAULT_TOKEN_LIFETIME_SECONDS,
    SUBSCRIPTION_KEY_HEADER,
    TOKEN_PATH,
    TOKEN_RENEW_MARGIN_SECONDS,
)
from sync.snelstart.errors import (
    ResponseFormatError,
    error_for_response,
    mentions_subscription_key,
    parse_body,
)


def _mask(secret: str) -> str:
    return "…" + secret[-4:] if len(secret) > 8 else "…"


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying: SnelStart verifies it on every call; we only read
    what it says (the scopes, the administration). An unreadable token has no claims."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def scopes_of(claims: dict[str, Any]) -> list[str]:
    """The `scopes` claim, whether a list or a space-separated string."""
    raw = claims.get("scopes", claims.get("scope"))
    if isinstance(raw, str):
        return sorted(part for part in raw.split() if part)
    if isinstance(raw, list):
        return sorted(str(part) for part in raw if part)
    return []


class SnelStartAuth(httpx.Auth):
    requires_response_body = True  # the 401 body says which credential was refused

    def __init__(
        self,
        auth_url: str,
        subscription_key: str,
        koppelsleutel: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token_url = auth_url.rstrip("/") + TOKEN_PATH
        token = httpx.URL(self.token_url)
        self._token_target = (token.scheme, token.host, token.port, token.path)
        self._subscription_key = subscription_key.strip()
        self._koppelsleutel = koppelsleutel.strip()
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._claims: dict[str, Any] = {}
        self.token_count = 0  # token requests sent

    def __repr__(self) -> str:  # never show a credential
        return (
            f"SnelStartAuth(token_url={self.token_url!r}, subscription_key={_mask(self._subscription_key)!r}, "
            f"koppelsleutel={_mask(self._koppelsleutel)!r})"
        )

    # ------------------------------------------------------------------------------------------ token state

    def needs_token(self) -> bool:
        with self._lock:
            return self._token is None or self._clock() >= self._expires_at - TOKEN_RENEW_MARGIN_SECONDS

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

    @property
    def claims(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._claims)

    @property
    def scopes(self) -> list[str]:
        return scopes_of(self.claims)

    @property
    def expires_at(self) -> float:
        return self._expires_at

    def is_token_request(self, request: httpx.Request) -> bool:
        url = request.url  # compared by its parts: rebuilding the URL as text cost more than the rest of a call
        return (url.scheme, url.host, url.port, url.path) == self._token_target

    def build_token_request(self) -> httpx.Request:
        with self._lock:
            self.token_count += 1
        return httpx.Request(
            "POST",
            self.token_url,
            data={"grant_type": "clientkey", "clientkey": self._koppelsleutel},
            headers={"Accept": "application/json"},
        )

    def accept_token_response(self, response: httpx.Response) -> None:
        """Store the token, or raise what the token endpoint's refusal means."""
        if response.status_code >= 400:
            error = error_for_response(response, token_endpoint=True)
            error.during_token = True
            raise error
        body = parse_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            error = ResponseFormatError(
                "Het token-antwoord van SnelStart bevat geen access_token", status=response.status_code
            )
            error.during_token = True
            raise error
        lifetime = body.get("expires_in")
        try:
            seconds = float(lifetime) if isinstance(lifetime, int | Decimal | str) else 0.0
        except ValueError:
            seconds = 0.0
        if not seconds > 0:
            seconds = DEFAULT_TOKEN_LIFETIME_SECONDS
        with self._lock:
            self._token = token
            self._expires_at = self._clock() + seconds
            self._claims = jwt_claims(token)

    def _apply(self, request: httpx.Request) -> None:
        with self._lock:
            token = self._token
        request.headers["Authorization"] = f"Bearer {token}"
        request.headers[SUBSCRIPTION_KEY_HEADER] = self._subscription_key

    # ------------------------------------------------------------------------------------------- the flow

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.needs_token():
            self.accept_token_response((yield self.build_token_request()))
        self._apply(request)
        response = yield request
        # A 401 naming the subscription key is the gateway's: a new token would not help.
        if response.status_code == 401 and not mentions_subscription_key(parse_body(response)):
            # The token may have been revoked or the server restarted: renew once and resend. A second 401 is
            # returned to the client, which raises; never a loop.
            self.accept_token_response((yield self.build_token_request()))
            self._apply(request)
            yield request
