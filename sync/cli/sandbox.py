"""`sandbox serve` (the simulators on their own, one world several nodes and tests share) and `sandbox register` (the
sandbox's demo accounts in a deployment on real services that points at a served world).

`serve` answers what the console mounts below `/sandbox` — Gripp's API and PDFs, SnelStart's token service, API and
web activation page — with uvicorn, no console and no scheduler. Its world is the data folder's sandbox world (as
the console's: loaded or seeded, refused in a folder of real data), on the sandbox's own calendar clock, saved every
few seconds after a change and when it stops (Ctrl-C, SIGTERM). Once it listens it prints on standard output the
settings a node needs (`NAME=value` lines, machine lines; comments start with `#`) and then a line `ready`.
"""

from __future__ import annotations

import argparse
import logging
import socket
import threading
from typing import Any

from sync.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, err, fail, lang_of, out, speaker
from sync.cli.session import deployment
from sync.core.clock import moment
from sync.core.config import SANDBOX_APP_SHORT_NAME, Settings, is_web_address, sandbox_services
from sync.core.words import Msg

DEFAULT_PORT = 8600
SAVE_EVERY_SECONDS = 5.0  # a changed world is written at most this long after the change (and when serve stops)
READY = "ready"  # the last line serve prints once it listens: a test or bench reads lines until this one
TIER_OF_LIMITS = "test"  # the limits the simulators enforce are SnelStart's test tier's (100/min, 5 at a time)
UNLIMITED_TIER = "production"  # with --no-limits: the highest tier a real node may name (500/min)

log = logging.getLogger(__name__)


def node_settings(base_url: str, *, limits: bool) -> dict[str, str]:
    """The settings a node (a deployment on real services) needs to reach the sandbox served at `base_url`. The
    subscription key is the sandbox's own demo key, no partner's secret; Gripp's keys are the accounts' (`sandbox
    register` keeps them encrypted in the catalog), so no GRIPP_API_TOKEN."""
    found = {name: value for name, value in sandbox_services(base_url).items() if name != "GRIPP_API_TOKEN"}
    found["SNELSTART_APP_SHORT_NAME"] = SANDBOX_APP_SHORT_NAME
    # The clients pace themselves to what the simulators enforce; without limits, to the most SnelStart ever allows.
    found["SNELSTART_TIER"] = TIER_OF_LIMITS if limits else UNLIMITED_TIER
    return found


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from sync.wiring import open_sandbox, sandbox_asgi_app

    t = speaker(lang_of(args))
    settings: Settings = args.settings
    if not settings.sandbox:
        fail(t, Msg("cli.sandbox.serve.not_sandbox"))
        return EXIT_FAILED
    if args.webhook_url is not None and not is_web_address(args.webhook_url):
        fail(t, Msg("cli.sandbox.not_a_url", url=args.webhook_url))
        return EXIT_USAGE
    try:
        listening = _bind(args.host, args.port)
    except OSError as exc:
        fail(t, Msg("cli.sandbox.serve.cannot_listen", host=args.host, port=args.port,
                    detail=exc.strerror or str(exc)))
        return EXIT_FAILED
    port = int(listening.getsockname()[1])
    base_url = f"http://{_in_url(args.host)}:{port}"
    limits = not args.no_limits
    sandbox = open_sandbox(settings, base_url=base_url, rate_limits=limits, record_calls=False)
    if args.webhook_url is not None:  # where the simulated SnelStart POSTs a new koppelsleutel
        with sandbox.world.lock:
            sandbox.world.snelstart.webhook_url = args.webhook_url
        sandbox.persist()
    stop = threading.Event()

    def save_every_few_seconds() -> None:
        while not stop.wait(SAVE_EVERY_SECONDS):
            try:
                sandbox.flush()
            except Exception:  # a full disk: said in the log, tried again; the world is kept in memory
                log.exception("could not save the sandbox's world")

    def announce() -> None:
        err(t("process.sandbox_banner", day=moment(sandbox.clock).date()))
        out("# " + t("cli.sandbox.serve.listening", url=base_url))
        for name, value in node_settings(base_url, limits=limits).items():
            out(f"{name}={value}")
        out("# " + t("cli.sandbox.serve.register_hint", url=base_url))
        out(READY)

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if not self.should_exit:
                announce()

    config = uvicorn.Config(sandbox_asgi_app(sandbox), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5)
    saver = threading.Thread(target=save_every_few_seconds, name="sandbox-save", daemon=True)
    saver.start()
    try:
        Server(config).run(sockets=[listening])
    except KeyboardInterrupt:  # uvicorn stopped on Ctrl-C / SIGTERM and passes the signal on: a clean stop
        pass
    finally:
        stop.set()
        saver.join()
        sandbox.persist()
        sandbox.flush()
        listening.close()
    err(t("cli.sandbox.serve.stopped", path=str(settings.sandbox_state_path)))
    return EXIT_OK


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on `host`:`port` (0: a free port), made before the world is opened: the invoices' PDF
    links name the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen(2048)
    except OSError:
        listening.close()
        raise
    return listening


def _in_url(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def register(args: argparse.Namespace) -> int:
    from sync.jobs.accounts import AccountError
    from sync.wiring import register_sandbox_accounts

    t = tn = speaker(lang_of(args))
    settings: Settings = args.settings
    if settings.sandbox:
        fail(t, Msg("cli.sandbox.register.in_sandbox"))
        return EXIT_USAGE
    if not is_web_address(args.url):
        fail(t, Msg("cli.sandbox.not_a_url", url=args.url))
        return EXIT_USAGE
    gripp_url = sandbox_services(args.url.rstrip("/"))["GRIPP_API_URL"]
    with deployment(args) as opened:
        try:
            done = register_sandbox_accounts(opened, gripp_url, actor="cli")
        except AccountError as exc:
            fail(t, exc.message)
            return EXIT_FAILED
    for account in done:
        if account.added:
            out(tn("cli.sandbox.register.added", n=account.links or 0, key=account.key, name=account.name))
        elif account.configured:
            out(tn("cli.sandbox.register.configured", n=account.links or 0, key=account.key, name=account.name))
        else:
            out(t("cli.sandbox.register.already", key=account.key, name=account.name))
    return EXIT_OK
