"""The console server: Streamlit's `st.App` (an ASGI app) serving the pages plus our own routes.

- `GET /healthz`             JSON {status, sandbox, db, scheduler, jobs}
- `GET /metrics`             the deployment's figures in Prometheus' text format (`console.metrics`)
- `POST /webhooks/snelstart` SnelStart's activation webhook (`console.webhook`)
- `/sandbox/...`             in sandbox mode, the simulated Gripp and SnelStart (so the browser can reach the
                             simulated SnelStart activation page); 404 otherwise

The lifespan builds the process's services once and starts the one background scheduler; on shutdown it stops
the scheduler (letting a running sync finish) and closes the database. Run it with `python -m console`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import streamlit as st
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from console import process_lines, runtime
from console.process_lines import announce

t = tn = process_lines.t  # the operator's language (`python -m console --lang`); `tn` for a counted key

SCRIPT = Path(__file__).resolve().with_name("app.py")


async def healthz(request: Request) -> JSONResponse:
    body = await anyio.to_thread.run_sync(runtime.health)
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503,
                        headers={"Cache-Control": "no-store"})


async def metrics(request: Request) -> Response:
    """Read from the catalog at scrape time, in a worker thread (DuckDB blocks). A deployment that cannot open its
    catalog has no figures: 503, with no path or process id (those are in the server log)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from console.metrics import scrape

    try:
        catalog = (await anyio.to_thread.run_sync(runtime.deployment)).catalog
    except runtime.Unavailable as problem:
        return PlainTextResponse(f"# unavailable: {problem.code}\n", status_code=503,
                                 headers={"Cache-Control": "no-store"})
    body = await anyio.to_thread.run_sync(scrape, catalog)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


async def sandbox_app(scope: Scope, receive: Receive, send: Send) -> None:
    """The simulators, below `/sandbox`. `Sandbox.handle` routes on the full path (`/sandbox/gripp/...`), so the
    mount's prefix is given back before the request is handed over."""
    if scope["type"] != "http":
        return
    try:
        services = runtime.deployment()  # the sandbox is the deployment's (every account's)
    except runtime.Unavailable:
        services = None
    if services is None or services.sandbox is None:
        response = JSONResponse({"error": "not_found", "message": "The sandbox is off (real services configured)."},
                                status_code=404)
        await response(scope, receive, send)
        return
    from sync.wiring import sandbox_asgi_app

    full_path = scope.get("root_path", "") + scope["path"] if not scope["path"].startswith("/sandbox/") \
        else scope["path"]
    inner = {**scope, "root_path": "", "path": full_path}
    await sandbox_asgi_app(services.sandbox)(inner, receive, send)


def _webhook_routes() -> list[BaseRoute]:
    from console.webhook import webhook_route

    return [webhook_route(runtime.webhook_services)]


def _navigation_only() -> None:
    """The pages live in `console/pages/`, but the app navigates with `st.navigation`. Until a first session has
    called it, Streamlit guesses "a pages/ folder: old-style pages" and the very first visitor of a deep link
    (`/Koppelen?…`, where SnelStart sends people back) gets a "Page not found" dialog. Say so up front."""
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


@asynccontextmanager
async def lifespan(app: st.App) -> AsyncIterator[dict[str, Any]]:
    _navigation_only()
    services = await anyio.to_thread.run_sync(runtime.start)  # the Deployment
    if services is None:
        problem = runtime.problem()
        why = t(problem.message) if problem else t("console.process.unknown")
        announce(t("console.process.no_database", problem=why))
    else:
        if services.settings.sandbox:
            announce(t("process.sandbox_banner", day=services.today()))
        scheduler = runtime.scheduler()
        announce(tn("console.process.scheduler", n=len(scheduler.jobs()) if scheduler else 0))
    try:
        yield {}
    finally:
        await anyio.to_thread.run_sync(runtime.stop)
        announce(t("console.process.stopped"))


def build_app() -> st.App:
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/metrics", metrics, methods=["GET"], name="metrics"),
        *_webhook_routes(),
        Mount("/sandbox", app=sandbox_app, name="sandbox"),
    ]
    return st.App(str(SCRIPT), routes=routes, lifespan=lifespan)


app = build_app()
