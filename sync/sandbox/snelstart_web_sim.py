"""SnelStart Web's activation pages (`web.snelstart.nl/couplings/...`), as plain server-rendered HTML.

The steps follow the seed's help text: the user is (simulated as) logged in, clicks "Een enkele administratie
koppelen", picks the administration and clicks "Koppel". SnelStart then mints a koppelsleutel, POSTs
`{KoppelSleutel, ActionType, ReferenceKey}` to the partner's webhook (any 2xx counts, no retry) and sends the
browser to `successUrl`, which never carries the key. `couplings/manage/{app}` regenerates or deletes a link.

Every value echoed into a page is HTML-escaped; links are relative, so the pages work below any base URL.
"""

from __future__ import annotations

import html
from collections.abc import Collection
from typing import Protocol
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx

from sync.sandbox.world import ALL_SCOPES, World

TITLE = "SnelStart – Koppeling activeren"
LOGGED_IN_AS = "demo@snelstart.nl"
MAX_REFERENCE_KEY = 500
WEBHOOK_TIMEOUT_SECONDS = 10.0

_STYLE = """
body{font-family:system-ui,sans-serif;background:#f4f6f8;margin:0;color:#1d2b36}
header{background:#0a4f8f;color:#fff;padding:14px 24px;font-weight:600}
main{max-width:560px;margin:32px auto;background:#fff;padding:24px 32px;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.12)}
.step{border-top:1px solid #e2e6ea;padding-top:12px;margin-top:12px}
.button,button{display:inline-block;background:#0a4f8f;color:#fff;border:0;border-radius:4px;padding:10px 18px;
font-size:15px;text-decoration:none;cursor:pointer}
button.danger{background:#b3261e}
label{display:block;padding:6px 0}
.error{color:#b3261e;font-weight:600}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str, status: int = 200) -> httpx.Response:
    document = (
        "<!DOCTYPE html><html lang=\"nl\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<header>SnelStart</header><main>{body}</main></body></html>"
    )
    return httpx.Response(status, content=document.encode("utf-8"),
                          headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})


def _error_page(message: str, status: int, title: str = TITLE) -> httpx.Response:
    return _page(title, f"<h1>Er ging iets mis</h1><p class=\"error\">{_e(message)}</p>", status)


def _hidden(**fields: str) -> str:
    return "".join(f"<input type=\"hidden\" name=\"{_e(k)}\" value=\"{_e(v)}\">" for k, v in fields.items())


def _safe_success_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class KeyIssuer(Protocol):
    """What the pages need from SnelStart's back end (the simulator): its world, and minting/revoking keys."""

    world: World

    def issue_key(self, administration_id: str, scopes: list[str] | None = None) -> str: ...

    def revoke_key(self, koppelsleutel: str) -> None: ...


class SnelStartWeb:
    def __init__(self, sim: KeyIssuer, *, webhook_transport: httpx.BaseTransport | None = None,
                 app_short_names: Collection[str] = ()) -> None:
        self.sim = sim
        self.world = sim.world
        self.webhook_transport = webhook_transport
        self.app_short_names = set(app_short_names)
        # (appShortName, referenceKey) -> koppelsleutel: which link a reference key stands for.
        self.couplings: dict[tuple[str, str], str] = {}
        self.deliveries: list[dict[str, str]] = []  # webhook payloads SnelStart tried to deliver (for tests)

    # ------------------------------------------------------------------------------------------- routing

    def handle(self, request: httpx.Request, subpath: str) -> httpx.Response:
        parts = [p for p in subpath.strip("/").split("/") if p]
        if len(parts) < 3 or parts[0] != "couplings" or parts[1] not in ("activate", "manage"):
            return _error_page("Deze pagina bestaat niet.", 404, "SnelStart")
        section, app, action = parts[1], parts[2], "/".join(parts[3:])
        if app not in self.app_short_names:
            return _error_page(f"Onbekende koppeling '{app}'.", 404)
        query = dict(parse_qsl(request.url.query.decode("ascii", errors="replace"), keep_blank_values=True))
        form = (dict(parse_qsl(request.content.decode("utf-8", errors="replace"), keep_blank_values=True))
                if request.method == "POST" else {})
        fields = {**query, **form}
        routes = {
            ("activate", "", "GET"): self.start_page,
            ("activate", "administraties", "GET"): self.choose_page,
            ("activate", "koppel", "POST"): self.link,
            ("manage", "", "GET"): self.manage_page,
            ("manage", "regenerate", "POST"): self.regenerate,
            ("manage", "delete", "POST"): self.delete,
        }
        handler = routes.get((section, action, request.method))
        if handler is None:
            return _error_page("Deze pagina bestaat niet.", 404)
        return handler(app, fields)

    def _check_reference(self, fields: dict[str, str]) -> str | None:
        """An error message, or None when referenceKey/successUrl are acceptable."""
        reference = fields.get("referenceKey", "")
        if not reference:
            return "De referenceKey ontbreekt; deze is verplicht voor een koppeling met een webhook."
        if len(reference) > MAX_REFERENCE_KEY:
            return f"De referenceKey is langer dan {MAX_REFERENCE_KEY} tekens."
        success = fields.get("successUrl", "")
        if success and not _safe_success_url(success):
            return "De successUrl is geen geldige http(s)-URL."
        return None

    # ------------------------------------------------------------------------------------------ activate

    def start_page(self, app: str, fields: dict[str, str]) -> httpx.Response:
        problem = self._check_reference(fields)
        if problem:
            return _error_page(problem, 400)
        keep = {k: fields[k] for k in ("referenceKey", "successUrl") if fields.get(k)}
        next_url = f"{quote(app, safe='')}/administraties?{urlencode(keep)}"
        body = (
            f"<h1>Koppeling activeren</h1>"
            f"<p>De koppeling <strong>{_e(app)}</strong> vraagt toegang tot je SnelStart-administratie.</p>"
            f"<section class=\"step\"><h2>1. Inloggen</h2><p id=\"ingelogd\">Ingelogd als {_e(LOGGED_IN_AS)}</p>"
            f"</section>"
            f"<section class=\"step\"><h2>2. Administratie kiezen</h2>"
            f"<a class=\"button\" id=\"enkele-administratie\" href=\"{_e(next_url)}\">"
            f"Een enkele administratie koppelen</a></section>"
        )
        return _page(TITLE, body)

    def choose_page(self, app: str, fields: dict[str, str], error: str = "", status: int = 200) -> httpx.Response:
        problem = self._check_reference(fields)
        if problem:
            return _error_page(problem, 400)
        with self.world.lock:
            administrations = [(a.id, a.naam) for a in self.world.snelstart.administrations.values()]
        options = "".join(
            f"<label><input type=\"radio\" name=\"administratie\" value=\"{_e(adm_id)}\" id=\"adm-{n}\"> "
            f"{_e(naam)}</label>"
            for n, (adm_id, naam) in enumerate(administrations)
        ) or "<p>Er zijn geen administraties om te koppelen.</p>"
        body = (
            f"<h1>Koppeling activeren</h1><p id=\"ingelogd\">Ingelogd als {_e(LOGGED_IN_AS)}</p>"
            + (f"<p class=\"error\">{_e(error)}</p>" if error else "")
            + "<form method=\"post\" action=\"koppel\">"
            f"<fieldset><legend>Kies de administratie voor {_e(app)}</legend>{options}</fieldset>"
            + _hidden(app=app, referenceKey=fields.get("referenceKey", ""), successUrl=fields.get("successUrl", ""))
            + "<p><button type=\"submit\" id=\"koppel\">Koppel</button></p></form>"
        )
        return _page(TITLE, body, status)

    def link(self, app: str, fields: dict[str, str]) -> httpx.Response:
        problem = self._check_reference(fields)
        if problem:
            return _error_page(problem, 400)
        administration_id = fields.get("administratie", "")
        with self.world.lock:
            known = administration_id in self.world.snelstart.administrations
        if not known:
            return self.choose_page(app, fields, error="Kies een administratie.", status=400)
        reference = fields["referenceKey"]
        key = self.sim.issue_key(administration_id, list(ALL_SCOPES))
        if not self._deliver({"KoppelSleutel": key, "ActionType": "Create", "ReferenceKey": reference}):
            self.sim.revoke_key(key)  # the partner never received it: it must not linger as a working key
            return _error_page("De koppeling kon niet worden afgerond: de applicatie heeft de koppelsleutel niet "
                               "in ontvangst genomen. Probeer het later opnieuw.", 502)
        previous = self.couplings.get((app, reference))
        if previous is not None and previous != key:
            self.sim.revoke_key(previous)
        self.couplings[(app, reference)] = key
        return self._done(fields, "De koppeling is geactiveerd.")

    def _done(self, fields: dict[str, str], message: str) -> httpx.Response:
        success = fields.get("successUrl", "")
        if success:
            # The key is never put in the redirect: the partner got it through the webhook.
            return httpx.Response(303, headers={"Location": success, "Cache-Control": "no-store"})
        return _page(TITLE, f"<h1>Gelukt</h1><p>{_e(message)}</p>")

    # -------------------------------------------------------------------------------------------- manage

    def manage_page(self, app: str, fields: dict[str, str]) -> httpx.Response:
        reference = fields.get("referenceKey", "")
        key = self.couplings.get((app, reference))
        if key is None:
            return _error_page("Er is geen koppeling gevonden voor deze referentie.", 404, "SnelStart – Koppeling")
        with self.world.lock:
            record = self.world.snelstart.keys.get(key)
            adm = self.world.snelstart.administrations.get(record.administration_id) if record else None
        naam = adm.naam if adm else "(onbekend)"
        hidden = _hidden(referenceKey=reference, successUrl=fields.get("successUrl", ""))
        app_segment = quote(app, safe="")
        body = (
            f"<h1>Koppeling beheren</h1><p id=\"ingelogd\">Ingelogd als {_e(LOGGED_IN_AS)}</p>"
            f"<p>{_e(app)} is gekoppeld aan <strong>{_e(naam)}</strong>.</p>"
            f"<form method=\"post\" action=\"{_e(app_segment)}/regenerate\">{hidden}"
            "<button type=\"submit\" id=\"regenerate\">Nieuwe sleutel genereren</button></form>"
            f"<form method=\"post\" action=\"{_e(app_segment)}/delete\" class=\"step\">{hidden}"
            "<button type=\"submit\" class=\"danger\" id=\"delete\">Koppeling verwijderen</button></form>"
        )
        return _page("SnelStart – Koppeling beheren", body)

    def regenerate(self, app: str, fields: dict[str, str]) -> httpx.Response:
        reference = fields.get("referenceKey", "")
        old = self.couplings.get((app, reference))
        with self.world.lock:
            record = self.world.snelstart.keys.get(old) if old else None
            target = (record.administration_id, list(record.scopes)) if record and not record.revoked else None
        if target is None:
            return _error_page("Er is geen koppeling gevonden voor deze referentie.", 404)
        new = self.sim.issue_key(*target)
        if not self._deliver({"KoppelSleutel": new, "ActionType": "Regenerate", "ReferenceKey": reference}):
            self.sim.revoke_key(new)  # the old key keeps working
            return _error_page("De koppeling kon niet worden afgerond: de nieuwe sleutel is niet afgeleverd.", 502)
        self.sim.revoke_key(old or "")
        self.couplings[(app, reference)] = new
        return self._done(fields, "Er is een nieuwe koppelsleutel gegenereerd.")

    def delete(self, app: str, fields: dict[str, str]) -> httpx.Response:
        reference = fields.get("referenceKey", "")
        old = self.couplings.pop((app, reference), None)
        if old is None:
            return _error_page("Er is geen koppeling gevonden voor deze referentie.", 404)
        self.sim.revoke_key(old)
        if not self._deliver({"KoppelSleutel": old, "ActionType": "Delete", "ReferenceKey": reference}):
            return _error_page("De koppeling is verwijderd, maar de applicatie kon niet worden ingelicht.", 502)
        return self._done(fields, "De koppeling is verwijderd.")

    # ------------------------------------------------------------------------------------------- webhook

    def _deliver(self, payload: dict[str, str]) -> bool:
        """POST the payload to the registered webhook: any 2xx counts as delivered; there is no retry.
        Called outside `world.lock`: the receiver may well call back into this sandbox."""
        with self.world.lock:
            url = self.world.snelstart.webhook_url
        self.deliveries.append({"ActionType": payload["ActionType"], "ReferenceKey": payload["ReferenceKey"]})
        if not url:
            return False
        try:
            with httpx.Client(transport=self.webhook_transport, timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
                answer = client.post(url, json=payload)
        except httpx.HTTPError:
            return False
        return 200 <= answer.status_code < 300
