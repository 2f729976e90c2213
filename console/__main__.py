"""`python -m console [--port 8501] [--host localhost] [--lang nl|en]`: serve the console (`console.server:app`) with
uvicorn.

`make run` calls this. With no settings it runs on the built-in sandbox. Unless CONSOLE_PUBLIC_URL is set, the
console's public address (used for the webhook and SnelStart's `successUrl`) follows the chosen port. The
settings are checked before anything is served: a wrong value stops the start with one line per value. What the
process itself says to the operator (these lines, the server's `announce`) is in one language, like the command
line's: Dutch, or English with `--lang en`; the pages speak each reader's own.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from console import process_lines
from sync.core.words import Msg


def main(argv: Sequence[str] | None = None) -> int:
    from sync.core import argparse_words, words

    argv = list(sys.argv[1:] if argv is None else argv)
    lang = argparse_words.lang_of(argv)
    process_lines.speak(lang)  # the server's own lines (`console.server`'s announcements) too
    t = process_lines.t
    with argparse_words.speaking(lang):  # usage, help and argument errors in the operator's language too
        parser = argparse.ArgumentParser(prog="python -m console", description=t("console.process.help.description"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8501),
                            help=t("console.process.help.port"))
        parser.add_argument("--host", default="localhost", help=t("console.process.help.host"))
        parser.add_argument("--lang", choices=words.LANGUAGES, default=words.DEFAULT,
                            help=t("console.process.help.lang"))
        parser.add_argument("--no-worker", action="store_true", help=t("console.process.help.no_worker"))
        args = parser.parse_args(argv)
    if args.no_worker:  # read by the server process's runtime (`console.runtime.console_works`)
        from console.runtime import NO_WORKER_SETTING

        os.environ[NO_WORKER_SETTING] = "no"
    os.umask(0o077)  # the database, its WAL and the sandbox's files: the user's only

    from sync.core.config import ConfigError, read_secrets, resolve_settings

    try:
        secrets = read_secrets()
        if not os.environ.get("CONSOLE_PUBLIC_URL") and not secrets.get("CONSOLE_PUBLIC_URL"):
            shown_host = "localhost" if args.host in ("0.0.0.0", "::", "") else args.host
            os.environ["CONSOLE_PUBLIC_URL"] = f"http://{shown_host}:{args.port}"
        settings = resolve_settings()
    except ConfigError as exc:
        print(t("console.process.bad_settings"), file=sys.stderr)
        for line in exc.lines(lang):
            print(f"  {line}", file=sys.stderr)
        return 2

    # Who the client is, for the sign-in's per-address limit and the log: uvicorn believes X-Forwarded-For only from
    # the proxies the deployment names (none by default: the address that connected counts). Its own default would
    # believe anyone connecting over loopback.
    os.environ["FORWARDED_ALLOW_IPS"] = ",".join(settings.trusted_proxies)
    from streamlit.web import bootstrap
    from streamlit.web.server.starlette.starlette_server import UvicornRunner

    bootstrap.load_config_options({
        "server.port": args.port,
        "server.address": args.host,
        "server.headless": True,
        "browser.gatherUsageStats": False,
        "logger.hideWelcomeMessage": True,  # Streamlit's English "You can now view …": our own line names the URL
    })
    if _port_taken(args.host, args.port):
        print(t("console.process.port_taken", port=str(args.port), next=str(args.port + 1)), file=sys.stderr)
        return 2
    mode = Msg("console.process.mode_sandbox") if settings.sandbox else Msg("console.process.mode_real")
    print(t("console.process.listening", url=settings.console_public_url, address=f"{args.host}:{args.port}",
            mode=mode), file=sys.stderr, flush=True)
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
