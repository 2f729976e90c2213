"""`python -m sync …`: everything the console does, for cron users, support and the tests.

Sandbox by default, real services when configured. Human-readable progress on stderr, results on stdout,
non-zero exit on failure. A database held by another process is one line, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sync.config import load_settings, mask
from sync.store.db import StoreLockedError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except StoreLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_LOCKED
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync", description="Gripp → SnelStart link")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("run", help="refresh, book invoices, bring payments back, reconcile")
    p.add_argument("--identity", type=int, help="one Gripp identity id (default: every linked one)")
    p.set_defaults(handler=_cmd_run, dry_run=False)

    p = sub.add_parser("dry-run", help="what a run would do; writes nothing to Gripp or SnelStart")
    p.add_argument("--identity", type=int)
    p.set_defaults(handler=_cmd_run, dry_run=True)

    p = sub.add_parser("status", help="links, last runs, outbox counts and open alerts")
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("check", help="the setup, VAT and ledger checks (exit 1 when one fails)")
    p.add_argument("--identity", type=int)
    p.add_argument("--lang", choices=("nl", "en"), default="nl")
    p.set_defaults(handler=_cmd_check)

    p = sub.add_parser("link", help="link an identity with a koppelsleutel (the paste fallback)")
    p.add_argument("--identity", type=int, required=True)
    p.add_argument("--key", required=True, help="the koppelsleutel from SnelStart's Maatwerk tile")
    p.add_argument("--start-date", type=date.fromisoformat)
    p.add_argument("--yes", action="store_true", help="also when the administration is linked to another identity")
    p.set_defaults(handler=_cmd_link)

    p = sub.add_parser("unlink", help="remove an identity's link")
    p.add_argument("--identity", type=int, required=True)
    p.set_defaults(handler=_cmd_unlink)

    p = sub.add_parser("mappings", help="export or import the VAT and ledger mappings (CSV)")
    msub = p.add_subparsers(dest="action", required=True)
    e = msub.add_parser("export")
    e.add_argument("file", type=Path)
    e.set_defaults(handler=_cmd_mappings_export)
    i = msub.add_parser("import")
    i.add_argument("file", type=Path)
    i.set_defaults(handler=_cmd_mappings_import)

    p = sub.add_parser("hash-password", help="a bcrypt hash for a console user in .streamlit/secrets.toml")
    p.set_defaults(handler=_cmd_hash_password)

    p = sub.add_parser("reset-sandbox", help="reseed the sandbox and clear the local database")
    p.set_defaults(handler=_cmd_reset_sandbox)
    return parser


def _services():
    from sync.wiring import build_services

    return build_services(load_settings())


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.runner import STEP_LABELS, run_all, run_identity
    from sync.store import setup as setup_repo

    services = _services()
    _banner(services)
    last: dict[int, str] = {}

    def progress(identity_id: int, step: str, fraction: float) -> None:
        if last.get(identity_id) != step:
            last[identity_id] = step
            _say(f"  [{identity_id}] {STEP_LABELS[step][1]}…")

    trigger = "cli"
    try:
        if args.identity is not None:
            if setup_repo.get_link(services.store, args.identity) is None:
                _say(f"error: identity {args.identity} is not linked (see `python -m sync status`).")
                return EXIT_FAILED
            results = [run_identity(services, args.identity, trigger=trigger, dry_run=args.dry_run,
                                    progress=lambda s, f: progress(args.identity, s, f))]
        else:
            results = run_all(services, trigger=trigger, dry_run=args.dry_run, progress=progress)
    except AlreadyRunning as exc:
        _say(f"error: {exc}")
        return EXIT_FAILED
    if not results:
        _say("No linked identities: link one first (`python -m sync link …` or the console).")
        return EXIT_FAILED
    for result in results:
        name = setup_repo.identity_name(services.store, result.identity_id)
        print(f"{name} (identity {result.identity_id}): {result.outcome} — {result.message_en}")
        if args.dry_run and result.push is not None:
            print(f"  would book {len(result.push.would_book)} invoices, block {len(result.push.would_block)}, "
                  f"register {len(result.payments.would_register) if result.payments else 0} payments")
            for number, problems in sorted(result.push.would_block.items()):
                print(f"    blocked {number}: {problems[0].en} {problems[0].fix_en}")
    return EXIT_OK if all(r.outcome != "failed" for r in results) else EXIT_FAILED


def _cmd_status(args: argparse.Namespace) -> int:
    from sync.store import history, outbox
    from sync.store import setup as setup_repo

    services = _services()
    _banner(services)
    for ident in setup_repo.identities(services.store):
        linked = f"→ {ident['administration_name']} (key {ident['key_hint']}, health {ident['health']})" \
            if ident["linked"] else "not linked"
        print(f"{ident['identity_id']:>4}  {ident['name']}  {linked}")
        if ident["linked"]:
            counts = outbox.counts(services.store, ident["identity_id"])
            print(f"      outbox: {', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'empty'}")
            last = history.last_run(services.store, ident["identity_id"])
            if last:
                print(f"      last run: {last['started_at']:%Y-%m-%d %H:%M} {last['trigger']} {last['outcome']}")
    for alert in history.open_alerts(services.store):
        print(f"ALERT {alert['raised_at']:%Y-%m-%d %H:%M}: {alert['message_en']}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from sync.checks import run_checks
    from sync.store import setup as setup_repo

    services = _services()
    _banner(services)
    identities = [args.identity] if args.identity is not None else [
        link.identity_id for link in setup_repo.links(services.store)]
    failed = False
    for identity_id in identities:
        print(f"== {setup_repo.identity_name(services.store, identity_id)} (identity {identity_id})")
        for result in run_checks(services, identity_id):
            print(f"  [{result.status.upper():7}] {result.title(args.lang)}: {result.explanation(args.lang)}")
            if result.status != "pass" and result.fix(args.lang):
                print(f"            → {result.fix(args.lang)}")
            failed |= result.status == "fail"
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_link(args: argparse.Namespace) -> int:
    from sync.linking import LinkError, link_with_key, verify_key

    services = _services()
    _banner(services)
    try:
        verified = verify_key(services, args.key)
        print(f"The key opens administration '{verified.administration_name}' ({verified.administration_id}).")
        if verified.other_identities and not args.yes:
            _say(f"error: that administration is already linked to identity {verified.other_identities}; "
                 "pass --yes to link it here too.")
            return EXIT_FAILED
        link_with_key(services, args.identity, args.key, start_date=args.start_date, actor="cli",
                      confirm_shared=args.yes)
    except LinkError as exc:
        _say(f"error: {exc.en}")
        return EXIT_FAILED
    print(f"Identity {args.identity} linked (key {mask(args.key)}).")
    return EXIT_OK


def _cmd_unlink(args: argparse.Namespace) -> int:
    from sync.linking import unlink

    services = _services()
    if not unlink(services, args.identity, actor="cli"):
        _say(f"error: identity {args.identity} was not linked.")
        return EXIT_FAILED
    print(f"Identity {args.identity} unlinked.")
    return EXIT_OK


def _cmd_mappings_export(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import export_csv

    services = _services()
    n = export_csv(services.store, args.file)
    print(f"{n} mappings written to {args.file}")
    return EXIT_OK


def _cmd_mappings_import(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import MappingImportError, import_csv

    services = _services()
    try:
        n = import_csv(services.store, args.file, actor="cli")
    except MappingImportError as exc:
        _say("error: nothing imported:")
        for problem in exc.problems:
            _say(f"  {problem}")
        return EXIT_FAILED
    print(f"{n} mappings imported from {args.file}")
    return EXIT_OK


def _cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from sync.users import hash_password

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        _say("error: use at least 10 characters.")
        return EXIT_FAILED
    print(hash_password(password))
    return EXIT_OK


def _cmd_reset_sandbox(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not settings.sandbox:
        _say("error: reset-sandbox only works in sandbox mode (no Gripp/SnelStart settings).")
        return EXIT_FAILED
    from sync.sandbox.seed import reset

    for path in (settings.db_path, settings.db_path.with_suffix(settings.db_path.suffix + ".wal")):
        if path.exists():
            from sync.store.db import Store

            Store(settings.db_path).close()  # raises StoreLockedError when the console holds it
            path.unlink()
    reset(settings.sandbox_state_path)
    services = _services()
    n = services.store.scalar("SELECT count(*) FROM links")
    print(f"Sandbox reseeded: {n} linked identities, fresh database at {settings.db_path}.")
    return EXIT_OK


def _banner(services) -> None:
    if services.settings.sandbox:
        _say("SANDBOX — built-in simulators of Gripp and SnelStart (no real data).")
