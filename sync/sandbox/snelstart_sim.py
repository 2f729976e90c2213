"""The SnelStart simulator: token endpoint, the B2B API v2 behind its gateway, and the web activation page.

`handle_auth` is `auth.snelstart.nl`, `handle_api` is `b2bapi.snelstart.nl/v2` (Azure API Management in front:
subscription key, rate limits), `handle_web` is the `web.snelstart.nl/couplings/...` pages a user walks through
to link an administration. The endpoints themselves live in `snelstart_api_sim`, the pages in `snelstart_web_sim`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Collection
from urllib.parse import parse_qsl

import httpx

from sync.core.config import SANDBOX_APP_SHORT_NAME
from sync.sandbox.snelstart_api_sim import SnelStartApi, match_route, query_of, respond
from sync.sandbox.snelstart_web_sim import SnelStartWeb
from sync.sandbox.world import ALL_SCOPES, SnelStartKey, World

TOKEN_LIFETIME_SECONDS = 3599
SUBSCRIPTION_KEY_HEADER = "Ocp-Apim-Subscription-Key"
INVALID_SUBSCRIPTION_KEY = {
    "statusCode": 401,
    "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active "
               "subscription.",
}
MISSING_SUBSCRIPTION_KEY = {
    "statusCode": 401,
    "message": "Access denied due to missing subscription key. Make sure to include subscription key when making "
               "requests to an API.",
}
INVALID_TOKEN = {"statusCode": 401, "message": "Unauthorized. Access token is missing or invalid."}
APIM_NOT_FOUND = {"statusCode": 404, "message": "Resource not found"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SnelStartSimulator:
    def __init__(
        self,
        world: World,
        *,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = False,
        per_minute: int = 100,
        max_concurrent: int = 5,
        webhook_transport: httpx.BaseTransport | None = None,
        app_short_names: Collection[str] = (SANDBOX_APP_SHORT_NAME,),
    ) -> None:
        self.world = world
        self.clock = clock
        self.rate_limits = rate_limits
        self.per_minute = per_minute
        self.max_concurrent = max_concurrent
        self.api = SnelStartApi(world, clock)
        self.web = SnelStartWeb(self, webhook_transport=webhook_transport, app_short_names=app_short_names)
        self.stats: dict[str, int] = {}
        self._secret = secrets.token_bytes(32)  # signs this instance's tokens: a restart invalidates them
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}  # jti -> expiry (epoch seconds on the injected clock)
        self._calls: dict[str, deque[float]] = {}  # administration -> recent call times
        self._in_flight: dict[str, int] = {}

    def _count(self, name: str) -> None:
        with self._lock:
            self.stats[name] = self.stats.get(name, 0) + 1

    # =================================================================================== keys and tokens

    def issue_key(self, administration_id: str, scopes: list[str] | None = None) -> str:
        """Mint a koppelsleutel for one administration (what SnelStart Web does on "Koppel")."""
        with self.world.lock:
            if administration_id not in self.world.snelstart.administrations:
                raise KeyError(f"unknown administration {administration_id}")
            # Koppelsleutels are long opaque base64 strings.
            key = base64.b64encode(secrets.token_bytes(96)).decode("ascii")
            self.world.snelstart.keys[key] = SnelStartKey(
                koppelsleutel=key, administration_id=administration_id,
                scopes=list(ALL_SCOPES if scopes is None else scopes),
            )
        return key

    def revoke_key(self, koppelsleutel: str) -> None:
        with self.world.lock:
            key = self.world.snelstart.keys.get(koppelsleutel)
            if key is not None:
                key.revoked = True

    def expire_tokens(self) -> None:
        """Fault helper: every token issued so far is now expired (the next API call answers 401)."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, float("-inf"))

    def _mint_token(self, key: SnelStartKey) -> str:
        now = self.clock()
        jti = str(uuid.uuid4())
        header = {"alg": "HS256", "typ": "JWT"}
        payload = {
            "iss": "https://auth.snelstart.nl", "aud": "b2bapi", "jti": jti,
            "administratieIdentifier": key.administration_id, "scopes": list(key.scopes),
            "iat": int(now), "nbf": int(now), "exp": int(now + TOKEN_LIFETIME_SECONDS),
        }
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
        signature = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        with self._lock:
            self._tokens[jti] = now + TOKEN_LIFETIME_SECONDS
        return f"{signing_input}.{_b64url(signature)}"

    def _verify_token(self, token: str) -> dict | None:
        """The claims of a valid, unexpired token of ours; None otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        expected = hmac.new(self._secret, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64url(parts[2])):
                return None
            claims = json.loads(_unb64url(parts[1]))
        except ValueError:
            return None
        with self._lock:
            expires = self._tokens.get(str(claims.get("jti")))
        if expires is None or self.clock() >= expires:
            return None
        return claims

    # ====================================================================================== token endpoint

    def handle_auth(self, request: httpx.Request, subpath: str) -> httpx.Response:
        self._count(f"{request.method} auth/{subpath.strip('/')}")
        if subpath.strip("/") != "b2b/token":
            return respond(404, {"error": "not_found"})
        if request.method != "POST":
            return respond(405, {"error": "invalid_request", "error_description": "Use POST."})
        form = dict(parse_qsl(request.content.decode("utf-8", errors="replace"), keep_blank_values=True))
        if form.get("grant_type") != "clientkey":
            return respond(400, {"error": "unsupported_grant_type"})
        with self.world.lock:
            key = self.world.snelstart.keys.get(form.get("clientkey", ""))
            usable = (key is not None and not key.revoked
                      and key.administration_id in self.world.snelstart.administrations)
        if not usable or key is None:
            return respond(400, {"error": "invalid_grant"})
        return respond(200, {"access_token": self._mint_token(key), "token_type": "bearer",
                             "expires_in": TOKEN_LIFETIME_SECONDS})

    # ===================================================================================== the API gateway

    def handle_api(self, request: httpx.Request, subpath: str) -> httpx.Response:
        path = subpath.strip("/")
        self._count(f"{request.method} {path.split('/')[0]}")

        # 1. APIM: the partner's subscription key, in the header or the `subscription-key` query parameter.
        key = request.headers.get(SUBSCRIPTION_KEY_HEADER) or query_of(request).get("subscription-key")
        if not key:
            return respond(401, MISSING_SUBSCRIPTION_KEY)
        # Read without `world.lock`, like the gateway tier it plays: it must never queue behind a slow backend
        # call, or the concurrency limit below could never be reached (a snapshot of a list is atomic).
        if key not in tuple(self.world.snelstart.subscription_keys):
            return respond(401, INVALID_SUBSCRIPTION_KEY)

        if request.method == "GET" and (path == "echo" or path.startswith("echo/")):
            text = path[len("echo/"):] if path.startswith("echo/") else ""
            return respond(204) if not text else respond(200, text)

        # 2. The bearer token decides the administration and the scopes.
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        claims = self._verify_token(token.strip()) if scheme.lower() == "bearer" else None
        if claims is None:
            return respond(401, INVALID_TOKEN, {"WWW-Authenticate": "Bearer"})
        administration_id = str(claims.get("administratieIdentifier"))

        found = match_route(request.method, path)
        if found is None:
            return respond(404, APIM_NOT_FOUND)
        route, params = found

        # 3. APIM rate limits, per administration.
        throttled = self._admit(administration_id)
        if throttled is not None:
            return throttled
        try:
            granted = set(claims.get("scopes") or [])
            missing = [scope for scope in route.scopes if scope not in granted]
            if missing:
                return respond(403, {"Message": "Voor deze operatie zijn de volgende scopes benodigd: "
                                                + ", ".join(missing) + "."})
            with self.world.lock:
                adm = self.world.snelstart.administrations.get(administration_id)
                if adm is None:
                    return respond(401, INVALID_TOKEN)
                try:
                    return self.api.dispatch(adm, route, params, request)
                except Exception:  # the real API answers ASP.NET's generic 500; keep the sandbox serving
                    return respond(500, {"Message": "An error has occurred."})
        finally:
            with self._lock:
                self._in_flight[administration_id] -= 1

    def in_flight(self, administration_id: str) -> int:
        with self._lock:
            return self._in_flight.get(administration_id, 0)

    def _admit(self, administration_id: str) -> httpx.Response | None:
        """Count the call against the administration's minute and concurrency budget; a 429 when over."""
        with self._lock:
            if self.rate_limits:
                now = self.clock()
                calls = self._calls.setdefault(administration_id, deque())
                while calls and calls[0] <= now - 60:
                    calls.popleft()
                if len(calls) >= self.per_minute:
                    wait = max(1, math.ceil(calls[0] + 60 - now))
                    return self._throttled(wait)
                if self._in_flight.get(administration_id, 0) >= self.max_concurrent:
                    return self._throttled(1)
                calls.append(now)
            self._in_flight[administration_id] = self._in_flight.get(administration_id, 0) + 1
        return None

    def _throttled(self, seconds: int) -> httpx.Response:
        self.stats["throttled"] = self.stats.get("throttled", 0) + 1  # caller holds self._lock
        return respond(429, {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {seconds} seconds."},
                       {"Retry-After": str(seconds)})

    # ========================================================================================== web pages

    def handle_web(self, request: httpx.Request, subpath: str) -> httpx.Response:
        self._count(f"{request.method} web")
        return self.web.handle(request, subpath)
