"""`python -m console [--port 8501] [--host localhost]`: serve the console (`console.server:app`) with uvicorn.

`make run` calls this. With no settings it runs on the built-in sandbox. Unless CONSOLE_PUBLIC_URL is set, the
console's public address (used for the webhook and SnelStart's `successUrl`) follows the chosen port.
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

    from console.runtime import read_secrets

    secrets = read_secrets() or {}
    if not os.environ.get("CONSOLE_PUBLIC_URL") and not secrets.get("CONSOLE_PUBLIC_URL"):
        shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
        os.environ["CONSOLE_PUBLIC_URL"] = f"http://{shown_host}:{args.port}"

    from streamlit.web import bootstrap
    from streamlit.web.server.starlette.starlette_server import UvicornRunner

    bootstrap.load_config_options({
        "server.port": args.port,
        "server.address": args.host,
        "server.headless": True,
        "browser.gatherUsageStats": False,
    })
    print(f"Console on {os.environ.get('CONSOLE_PUBLIC_URL') or secrets.get('CONSOLE_PUBLIC_URL')} "
          f"(listening on {args.host}:{args.port})", file=sys.stderr, flush=True)
    UvicornRunner("console.server:app").run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
