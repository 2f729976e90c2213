"""`python -m console [--port 8501] [--host localhost]`: serve the console (`console.server:app`) with uvicorn.

`make run` calls this. With no settings it runs on the built-in sandbox. Unless CONSOLE_PUBLIC_URL is set, the
console's public address (used for the webhook and SnelStart's `successUrl`) follows the chosen port. The
settings are checked before anything is served: a wrong value stops the start with one line per value.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="Gripp ↔ SnelStart operations console")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8501))
    parser.add_argument("--host", default="localhost", help="address to listen on (0.0.0.0 for every interface)")
    args = parser.parse_args(argv)
    os.umask(0o077)  # the database, its WAL and the sandbox's files: the user's only

    from sync.core.config import ConfigError, read_secrets, resolve_settings

    try:
        secrets = read_secrets()
        if not os.environ.get("CONSOLE_PUBLIC_URL") and not secrets.get("CONSOLE_PUBLIC_URL"):
            shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
            os.environ["CONSOLE_PUBLIC_URL"] = f"http://{shown_host}:{args.port}"
        settings = resolve_settings()
    except ConfigError as exc:
        print("The console does not start: the settings cannot be used:", file=sys.stderr)
        for line in exc.lines("en"):
            print(f"  {line}", file=sys.stderr)
        return 2

    from streamlit.web import bootstrap
    from streamlit.web.server.starlette.starlette_server import UvicornRunner

    bootstrap.load_config_options({
        "server.port": args.port,
        "server.address": args.host,
        "server.headless": True,
        "browser.gatherUsageStats": False,
    })
    if _port_taken(args.host, args.port):
        print(f"The console does not start: port {args.port} is already in use — most likely another console runs "
              f"there (open it at http://localhost:{args.port}, or stop it). To run a second one, choose another "
              f"port: make run PORT={args.port + 1}", file=sys.stderr)
        return 2
    mode = "SANDBOX" if settings.sandbox else "real services"
    print(f"Console on {settings.console_public_url} (listening on {args.host}:{args.port}, {mode})",
          file=sys.stderr, flush=True)
    UvicornRunner("console.server:app").run()
    return 0


def _port_taken(host: str, port: int) -> bool:
    """Whether something already listens on `host:port`, asked before anything is served (Streamlit itself only
    says "Port … is not available" after announcing the console). Addresses the machine does not have are left to
    the server to report."""
    import errno
    import socket

    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is free
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


if __name__ == "__main__":
    sys.exit(main())
