"""The whole activation flow over real loopback HTTP, as a browser and SnelStart would walk it.

A uvicorn server on 127.0.0.1 serves a small Starlette app: the console's webhook route (console/webhook.py)
and the sandbox (SnelStart's web pages among it) mounted under /sandbox. The sandbox's SnelStart page POSTs the
webhook over real HTTP to the console's address, as SnelStart does; the test plays the browser with httpx.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from console.webhook import webhook_route
from sync.core.words import said
from sync.jobs.activation import confirm_activation, pending_activation, start_activation, success_url, webhook_url
from sync.jobs.checks import run_checks
from sync.jobs.linking import LinkError, link_with_key
from sync.sandbox.asgi import asgi_app
from sync.sandbox.sandbox import Sandbox
from sync.sandbox.seed import ADMIN_ACADEMY, build_world
from sync.store import setup as setup_repo
from sync.wiring import Services, build_services
from tests.conftest import sandbox_settings

ACADEMY = 3


@dataclass
class Console:
    url: str
    services: Services
    sandbox: Sandbox


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = sandbox_settings(tmp_path, url)
    world = build_world()
    sandbox = Sandbox(world, base_url=url)
    services = build_services(settings, sandbox=sandbox, sleep=lambda seconds: None)
    world.snelstart.webhook_url = webhook_url(settings)  # the sandbox page calls our webhook over HTTP
    app = Starlette(routes=[webhook_route(lambda reference: services), Mount("/sandbox", app=asgi_app(sandbox.handle))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="loopback-console", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the loopback server did not start"
        time.sleep(0.01)
    try:
        yield Console(url, services, sandbox)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        services.close()


# ------------------------------------------------------------------------------------------- the "browser"


def _element(page: str, element_id: str) -> str:
    found = re.search(rf"<[^>]*\bid=\"{re.escape(element_id)}\"[^>]*>", page)
    assert found, f"no element #{element_id} on the page"
    return found.group(0)


def _attr(tag: str, name: str) -> str:
    found = re.search(rf"\b{name}=\"([^\"]*)\"", tag)
    assert found, f"no {name} on {tag}"
    return html.unescape(found.group(1))


def _form(page: str, submit_id: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the form holding the button `submit_id`."""
    for form in re.finditer(r"<form\b[^>]*>.*?</form>", page, re.S):
        if f'id="{submit_id}"' in form.group(0):
            fields = {_attr(tag, "name"): _attr(tag, "value")
                      for tag in re.findall(r"<input type=\"hidden\"[^>]*>", form.group(0))}
            return _attr(re.match(r"<form\b[^>]*>", form.group(0)).group(0), "action"), fields
    raise AssertionError(f"no form with #{submit_id}")


def _administration_choice(page: str, name: str) -> str:
    for value, label in re.findall(r"<input type=\"radio\" name=\"administratie\" value=\"([^\"]*)\"[^>]*>\s*"
                                   r"([^<]*)</label>", page):
        if html.unescape(label).strip() == name:
            return html.unescape(value)
    raise AssertionError(f"administration {name!r} is not offered")


def _key_in_database(services: Services, key: str) -> list[str]:
    """Every table.column whose text contains `key`, plus the raw database files."""
    store = services.store
    hits = []
    for table, column in store.cursor().execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'main'").fetchall():
        if store.scalar(f'SELECT count(*) FROM "{table}" WHERE position(? IN CAST("{column}" AS VARCHAR)) > 0',
                        [key]):
            hits.append(f"{table}.{column}")
    store.execute("CHECKPOINT")
    for path in (store.path, store.path.with_name(store.path.name + ".wal")):
        if path.exists() and key.encode() in path.read_bytes():
            hits.append(path.name)
    return hits


# ------------------------------------------------------------------------------------------------ tests


def test_activation_through_snelstarts_page_and_the_webhook_over_http(console: Console):
    services, sim = console.services, console.sandbox.snelstart
    request = start_activation(services, ACADEMY, actor="support", lang="en")  # an English reader
    assert request.url.startswith(f"{console.url}/sandbox/snelstart/web/couplings/activate/")

    with httpx.Client(timeout=20, follow_redirects=False) as browser:
        start = browser.get(request.url)
        assert start.status_code == 200
        link = _element(start.text, "enkele-administratie")
        assert "Een enkele administratie koppelen" in start.text
        choose = browser.get(start.url.join(_attr(link, "href")))
        assert choose.status_code == 200
        action, fields = _form(choose.text, "koppel")
        fields["administratie"] = _administration_choice(choose.text, "Noord Academy")
        done = browser.post(choose.url.join(action), data=fields)

    # SnelStart delivered the key to our webhook (over HTTP) before sending the browser back to the console.
    assert sim.web.deliveries == [{"ActionType": "Create", "ReferenceKey": request.reference_key}]
    assert done.status_code == 303
    back = done.headers["location"]
    assert back == success_url(services.settings, ACADEMY, request.reference_key, services.account, "en")
    assert back.startswith(f"{console.url}/Koppelen?") and "lang=en" in back and f"account={services.account}" in back
    key = sim.web.couplings[(services.settings.snelstart_app_short_name, request.reference_key)]
    assert key not in done.headers["location"]

    pending = pending_activation(services, ACADEMY)
    assert pending["administration_name"] == "Noord Academy" and pending["administration_id"] == ADMIN_ACADEMY
    assert pending["key_hint"] == "…" + key[-4:]
    assert setup_repo.get_link(services.store, ACADEMY) is None  # waits for "Opslaan"
    assert _key_in_database(services, key) == []

    confirm_activation(services, ACADEMY, request.reference_key, start_date=date(2024, 1, 1), actor="support")
    link_row = setup_repo.get_link(services.store, ACADEMY)
    assert link_row.administration_name == "Noord Academy"
    assert services.vault.decrypt(link_row.koppelsleutel_enc) == key
    assert _key_in_database(services, key) == []

    results = {r.check: r for r in run_checks(services, ACADEMY)}
    key = results["koppelsleutel"]
    assert key.status == "pass" and "Noord Academy" in said(key.explanation, "nl")
    assert results["integrations"].status == "pass" and results["start_date"].status == "pass"
    # Nothing is mapped yet for the new identity: the checks say so rather than passing it.
    assert results["vat"].status == "fail" and results["ledgers"].status == "fail"


def test_regenerate_and_delete_from_snelstarts_manage_page_reach_the_link(console: Console):
    services, sim = console.services, console.sandbox.snelstart
    app = services.settings.snelstart_app_short_name
    request = start_activation(services, ACADEMY, actor="support")
    manage = f"{services.settings.snelstart_web_url}/couplings/manage/{app}"
    with httpx.Client(timeout=20, follow_redirects=False) as browser:
        choose = browser.get(request.url.replace("/activate/" + app + "?", "/activate/" + app + "/administraties?"))
        action, fields = _form(choose.text, "koppel")
        fields["administratie"] = ADMIN_ACADEMY
        assert browser.post(choose.url.join(action), data=fields).status_code == 303
        confirm_activation(services, ACADEMY, request.reference_key, actor="support")
        first = sim.web.couplings[(app, request.reference_key)]

        page = browser.get(manage, params={"referenceKey": request.reference_key})
        action, fields = _form(page.text, "regenerate")
        assert browser.post(page.url.join(action), data=fields).status_code == 200  # no successUrl: a page
        second = sim.web.couplings[(app, request.reference_key)]
        assert second != first
        assert services.vault.decrypt(setup_repo.get_link(services.store, ACADEMY).koppelsleutel_enc) == second

        page = browser.get(manage, params={"referenceKey": request.reference_key})
        action, fields = _form(page.text, "delete")
        assert browser.post(page.url.join(action), data=fields).status_code == 200
    assert setup_repo.get_link(services.store, ACADEMY) is None
    assert [d["ActionType"] for d in sim.web.deliveries] == ["Create", "Regenerate", "Delete"]


def test_paste_fallback_with_a_key_from_the_maatwerk_tile(console: Console):
    services = console.services
    key = console.sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    verified = link_with_key(services, ACADEMY, key, start_date=date(2024, 1, 1), actor="support")
    assert verified.administration_name == "Noord Academy"
    assert _key_in_database(services, key) == []
    results = {r.check: r.status for r in run_checks(services, ACADEMY, include_dry_run=False)}
    assert results["koppelsleutel"] == "pass"


def test_a_delivered_key_expires_with_its_request_even_before_it_is_confirmed(console: Console, monkeypatch):
    services = console.services
    request = start_activation(services, ACADEMY, actor="support")
    key = console.sandbox.snelstart.issue_key(ADMIN_ACADEMY)
    delivered = httpx.post(webhook_url(services.settings), timeout=20, json={
        "KoppelSleutel": key, "ActionType": "Create", "ReferenceKey": request.reference_key})
    assert delivered.status_code == 200 and pending_activation(services, ACADEMY) is not None

    later = request.expires_at + timedelta(minutes=1)  # the clock, moved past the request's expiry
    monkeypatch.setattr(services.store, "clock", lambda: later.timestamp())
    assert pending_activation(services, ACADEMY) is None
    with pytest.raises(LinkError) as refused:
        confirm_activation(services, ACADEMY, request.reference_key, actor="support")
    assert refused.value.code == "expired"
    assert setup_repo.get_link(services.store, ACADEMY) is None
    assert _key_in_database(services, key) == []  # the waiting key is dropped, not kept
