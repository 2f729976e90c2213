"""`python -m sync …`: everything the console does, for cron users, support and the tests.

Sandbox by default, real services when configured — resolved exactly as the console does (environment, then
`.streamlit/secrets.toml`) and validated before anything is opened. Human-readable progress on stderr, results on
stdout, non-zero exit on failure. A wrong setting, a database held by another process, unreadable or of the other
mode: one line each, never a traceback. However a command ends (done, failed, Ctrl-C, SIGTERM) its database is
closed and the sandbox's state saved.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sync.core.config import ConfigError, Settings, resolve_settings
from sync.store.catalog import CatalogModeError, UnknownAccount
from sync.store.db import StoreLockedError, StoreUnreadableError
from sync.store.mode import StoreModeError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED = 0, 1, 2, 3
KEY_VARIABLE = "SNELSTART_KOPPELSLEUTEL"  # `link` reads the key here (or from standard input), not from argv
TOKEN_VARIABLE = "GRIPP_API_TOKEN"  # `accounts add` reads the new account's Gripp key here (or standard input)
ACCOUNT_HELP = "the account (its key, see `accounts list`); default: the only one"


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # the database, its WAL, the sandbox's state and exports: the user's only
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        if args.command != "hash-password":  # the one command that needs no settings
            env = dict(os.environ)
            if args.command == "accounts" and getattr(args, "action", None) == "add":
                env.pop("GRIPP_API_TOKEN", None)  # there it is the new account's key, not the deployment's
            args.settings = resolve_settings(env)
        return args.handler(args)
    except UnknownAccount as exc:
        if exc.key:
            _say(_t(args, f"fout: er is geen account ‘{exc.key}’.", f"error: there is no account ‘{exc.key}’."))
        elif exc.keys:
            _say(_t(args, "fout: er zijn meerdere accounts; kies er een met --account:",
                    "error: there are several accounts; choose one with --account:"))
        else:
            _say(_t(args, "fout: er zijn nog geen accounts; voeg er een toe met `python -m sync accounts add`.",
                    "error: there are no accounts yet; add one with `python -m sync accounts add`."))
        for key in exc.keys:
            _say(f"  {key}")
        return EXIT_USAGE
    except ConfigError as exc:
        _say(_t(args, "fout: de instellingen zijn niet bruikbaar:", "error: the settings cannot be used:"))
        for problem in exc.problems:
            _say(f"  {problem}")
        return EXIT_USAGE
    except StoreLockedError as exc:
        holder = f"proces {exc.pid}" if exc.pid else "een ander proces"
        _say(_t(args, f"fout: de database {exc.path} is in gebruik door {holder}; stop dat of gebruik een andere "
                "SYNC_DB_PATH.", f"error: {exc}"))
        return EXIT_LOCKED
    except StoreUnreadableError as exc:
        _say(_t(args, f"fout: de database {exc.path} is niet te lezen ({exc.reason}); zet een reservekopie terug of "
                "gebruik een andere SYNC_DB_PATH.", f"error: {exc}"))
        return EXIT_FAILED
    except (StoreModeError, CatalogModeError) as exc:
        _say(_t(args, f"fout: {exc.nl}", f"error: {exc.en}"))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: through every `finally`, so the database is closed and the sandbox's
    state saved (a run left half-way is closed as interrupted by the next start)."""
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync", description="Gripp → SnelStart link")
    parser.add_argument("--lang", choices=("nl", "en"), default="nl",
                        help="the language of everything the command says (default: nl)")
    parser.add_argument("--account", help=ACCOUNT_HELP)
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("run", help="refresh, book invoices, bring payments back, reconcile")
    p.add_argument("--identity", type=int, help="one Gripp identity id (default: every linked one)")
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("dry-run", help="what a run would do, per invoice; writes nothing to Gripp or SnelStart")
    p.add_argument("--identity", type=int)
    _lang_option(p)
    p.set_defaults(handler=_cmd_dry_run)

    p = sub.add_parser("status", help="links, last runs, outbox counts and open alerts")
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("check", help="the setup, VAT and ledger checks (exit 1 when one fails)")
    p.add_argument("--identity", type=int)
    _lang_option(p)
    p.set_defaults(handler=_cmd_check)

    p = sub.add_parser("identities", help="list the Gripp identities; discover them from Gripp or add one by id")
    _lang_option(p)
    isub = p.add_subparsers(dest="action")
    for name, text in (("list", "the identities this database knows (the default)"),
                       ("discover", "read the identities off Gripp's invoices and companies")):
        _lang_option(isub.add_parser(name, help=text))
    a = isub.add_parser("add", help="add one by its id (Instellingen › Identiteiten & Sjablonen), checked in Gripp")
    a.add_argument("identity", type=int)
    _lang_option(a)
    p.set_defaults(handler=_cmd_identities)

    p = sub.add_parser("link", help="link an identity with a koppelsleutel (the paste fallback)",
                       description=f"The koppelsleutel (SnelStart › Koppelingen › Maatwerk) is read from "
                                   f"{KEY_VARIABLE}, else from standard input (without echo on a terminal).")
    p.add_argument("--identity", type=int, required=True)
    p.add_argument("--key", help=f"the key itself (visible to other users in `ps` and kept in shell history: prefer "
                                 f"{KEY_VARIABLE} or standard input)")
    p.add_argument("--start-date", type=date.fromisoformat)
    p.add_argument("--yes", action="store_true", help="also when the administration is linked to another identity")
    p.set_defaults(handler=_cmd_link)

    p = sub.add_parser("unlink", help="remove an identity's link")
    p.add_argument("--identity", type=int, required=True)
    p.set_defaults(handler=_cmd_unlink)

    p = sub.add_parser("mappings", help="export or import the VAT, ledger and customer mappings (CSV)")
    msub = p.add_subparsers(dest="action", required=True)
    e = msub.add_parser("export")
    e.add_argument("file", type=Path)
    e.set_defaults(handler=_cmd_mappings_export)
    i = msub.add_parser("import")
    i.add_argument("file", type=Path)
    i.set_defaults(handler=_cmd_mappings_import)

    p = sub.add_parser("accounts", help="the Gripp accounts of this deployment: list, add, check, remove",
                       description=f"The Gripp API key of a new account is read from {TOKEN_VARIABLE}, else from "
                                   "standard input (without echo on a terminal); never from the command line.")
    _lang_option(p)
    asub = p.add_subparsers(dest="action")
    _lang_option(asub.add_parser("list", help="every account with its health (the default)"))
    a = asub.add_parser("add", help="add a Gripp account: its key is checked and its identities read first")
    a.add_argument("key", help="a short code: lower-case letters, digits, dashes (e.g. acme)")
    a.add_argument("--name", required=True, help="the customer's name as people know it")
    a.add_argument("--gripp-url", help="the account's Gripp API address (default: the deployment's GRIPP_API_URL)")
    _lang_option(a)
    a = asub.add_parser("check", help="does the account's Gripp key work, and which identities does Gripp show")
    a.add_argument("key")
    _lang_option(a)
    a = asub.add_parser("remove", help="take an account out (its database file stays on disk)")
    a.add_argument("key")
    a.add_argument("--yes", action="store_true", help="really remove it")
    _lang_option(a)
    p.set_defaults(handler=_cmd_accounts)

    p = sub.add_parser("hash-password", help="a bcrypt hash for a console user in .streamlit/secrets.toml")
    p.set_defaults(handler=_cmd_hash_password)

    p = sub.add_parser("reset-sandbox", help="reseed the sandbox and clear the local database")
    p.set_defaults(handler=_cmd_reset_sandbox)
    _account_option(sub)
    return parser


def _lang_option(p: argparse.ArgumentParser) -> None:
    """`--lang` after the command too (`python -m sync check --lang en`)."""
    p.add_argument("--lang", choices=("nl", "en"), default=argparse.SUPPRESS)


def _account_option(sub: argparse._SubParsersAction) -> None:
    """`--account` after every command that works on one account (`python -m sync run --account acme`)."""
    for name, p in sub.choices.items():
        if name in ("accounts", "hash-password", "reset-sandbox"):
            continue
        p.add_argument("--account", default=argparse.SUPPRESS, help=ACCOUNT_HELP)
        for action in p._actions:  # and after `mappings export`, `identities add`, ...
            if isinstance(action, argparse._SubParsersAction):
                for inner in action.choices.values():
                    inner.add_argument("--account", default=argparse.SUPPRESS, help=ACCOUNT_HELP)


def _t(args: argparse.Namespace, nl: str, en: str) -> str:
    """The command line speaks one language: the reader's (`--lang`, Dutch by default)."""
    return en if getattr(args, "lang", "nl") == "en" else nl


@contextmanager
def _deployment(args: argparse.Namespace) -> Iterator:  # -> Deployment
    """The deployment (its catalog of accounts), closed however the command ends."""
    from sync.wiring import Deployment

    deployment = Deployment(args.settings)
    try:
        yield deployment
    finally:
        deployment.close()


@contextmanager
def _services(args: argparse.Namespace) -> Iterator:  # -> Services
    """The chosen account's services (`--account`, else the only account), closed however the command ends (the
    sandbox's state is saved on close)."""
    from sync.jobs.accounts import choose

    with _deployment(args) as deployment:
        key = choose(deployment, getattr(args, "account", None))
        services = deployment.services(key)
        if len(deployment.keys()) > 1:
            account = deployment.account(key)
            _say(f"{_t(args, 'Account', 'Account')}: {account.key} ({account.name})")
        yield services


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from sync.core.events import run_label
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.runner import STEP_LABELS, run_all, run_identity
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        last: dict[int, str] = {}
        lang = args.lang

        def progress(identity_id: int, step: str, fraction: float) -> None:
            if last.get(identity_id) != step:
                last[identity_id] = step
                _say(f"  [{identity_id}] {STEP_LABELS[step][1 if lang == 'en' else 0]}…")

        try:
            if args.identity is not None:
                if setup_repo.get_link(services.store, args.identity) is None:
                    _say(_t(args, f"fout: identiteit {args.identity} is niet gekoppeld (zie `python -m sync status`).",
                            f"error: identity {args.identity} is not linked (see `python -m sync status`)."))
                    return EXIT_FAILED
                results = [run_identity(services, args.identity, trigger="cli",
                                        progress=lambda s, f: progress(args.identity, s, f))]
            else:
                results = run_all(services, trigger="cli", progress=progress)
        except AlreadyRunning:
            _say(_t(args, "fout: er loopt al een synchronisatie.", "error: a sync is already running."))
            return EXIT_FAILED
        if not results:
            _say(_t(args, "Geen gekoppelde identiteiten: koppel er eerst een (`python -m sync link …` of de console).",
                    "No linked identities: link one first (`python -m sync link …` or the console)."))
            return EXIT_FAILED
        for result in results:
            name = setup_repo.identity_name(services.store, result.identity_id)
            label = run_label(result.outcome, result.counts, lang)
            print(f"{name} ({_t(args, 'identiteit', 'identity')} {result.identity_id}): {label} — {result.words(lang)}")
        return EXIT_OK if all(r.outcome != "failed" for r in results) else EXIT_FAILED


def _cmd_dry_run(args: argparse.Namespace) -> int:
    from sync.core import fmt
    from sync.core.events import pick
    from sync.jobs import plan
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.preview import preview_identity
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        lang = args.lang
        ids = [args.identity] if args.identity is not None else [link.identity_id for link in
                                                                  setup_repo.links(services.store)]
        if not ids or any(setup_repo.get_link(services.store, i) is None for i in ids):
            _say(_t(args, "fout: niets gekoppeld om een proefrun van te maken (zie `python -m sync status`).",
                    "error: nothing linked to dry-run (see `python -m sync status`)."))
            return EXIT_FAILED
        failed = False
        for identity_id in ids:
            try:
                preview = preview_identity(services, identity_id, actor="cli")
            except AlreadyRunning:
                _say(_t(args, "fout: er loopt al een synchronisatie.", "error: a sync is already running."))
                return EXIT_FAILED
            name = setup_repo.identity_name(services.store, identity_id)
            print(f"== {name} ({_t(args, 'identiteit', 'identity')} {identity_id}) — "
                  f"{_t(args, 'proefrun, er is niets geschreven', 'dry run, nothing was written')}")
            if preview.outcome == "failed":
                print(f"  {pick(preview.reason, lang)}")
                failed = True
                continue
            for decision in plan.DECISIONS:
                lines = preview.of(decision)
                print(f"  {DECISION_WORDS[decision][1 if lang == 'en' else 0]}: {fmt.count(len(lines), lang)}")
                if decision in (plan.BLOCKED, plan.CONFLICT, plan.REFUSED):
                    for line in lines:
                        print(f"    {line.number} {line.customer}: {pick(line.reasons, lang)}")
            print(f"  {_t(args, 'Betalingen terug naar Gripp', 'Payments back to Gripp')}: "
                  f"{fmt.count(len(preview.payments), lang)}")
            for payment in preview.payments:
                print(f"    {payment.number} {payment.customer}: {fmt.money(payment.amount, lang)} "
                      f"({fmt.day(payment.pay_date, lang)})")
        return EXIT_FAILED if failed else EXIT_OK


DECISION_WORDS = {
    "book": ("Zou worden geboekt", "Would be booked"),
    "adopt": ("Staat al in SnelStart, zou worden overgenomen", "Already in SnelStart, would be adopted"),
    "blocked": ("Geblokkeerd", "Blocked"),
    "conflict": ("Conflict: SnelStart heeft onder dit nummer een boeking die niet past",
                 "Conflict: SnelStart holds a booking with this number that does not fit"),
    "refused": ("Eerder geweigerd door SnelStart, wacht op opnieuw proberen",
                "Refused by SnelStart before, waits for a retry"),
    "nothing_to_book": ("Niets te boeken (€ 0,00)", "Nothing to book (€0.00)"),
    "already_booked": ("Al geboekt door de koppeling", "Already booked by the link"),
    "before_start": ("Van vóór de startdatum", "Before the start date"),
}


def _cmd_status(args: argparse.Namespace) -> int:
    from sync.core import fmt
    from sync.core.events import run_label
    from sync.store import history, outbox
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        lang = args.lang
        for ident in setup_repo.identities(services.store):
            if ident["linked"]:
                linked = _t(args, f"→ {ident['administration_name']} (sleutel {ident['key_hint']}, {ident['health']})",
                            f"→ {ident['administration_name']} (key {ident['key_hint']}, {ident['health']})")
            else:
                linked = _t(args, "niet gekoppeld", "not linked")
            print(f"{ident['identity_id']:>4}  {ident['name']}  {linked}")
            if ident["linked"]:
                counts = outbox.counts(services.store, ident["identity_id"])
                shown = ", ".join(f"{STATE_WORDS.get(k, (k, k))[1 if lang == 'en' else 0]} {fmt.count(v, lang)}"
                                  for k, v in sorted(counts.items()))
                print(f"      {_t(args, 'boekingen', 'bookings')}: {shown or _t(args, 'nog geen', 'none yet')}")
                last = history.last_run(services.store, ident["identity_id"])
                if last:
                    import json

                    counts_of = json.loads(last["counts_json"]) if last.get("counts_json") else {}
                    when = fmt.moment(last["started_at"], lang)
                    why = ""
                    if last["outcome"] == "failed" and last.get("message"):  # e.g. interrupted by a kill
                        from sync.core.events import pick

                        try:
                            why = f" ({pick(json.loads(last['message']), lang)})"
                        except ValueError:
                            why = f" ({last['message']})"
                    print(f"      {_t(args, 'laatste synchronisatie', 'last sync')}: {when} "
                          f"{run_label(last['outcome'], counts_of, lang)}{why}")
                else:
                    print(f"      {_t(args, 'laatste synchronisatie: nog nooit', 'last sync: never')}")
        for alert in history.open_alerts(services.store):
            print(f"{_t(args, 'MELDING', 'ALERT')} {fmt.moment(alert['raised_at'], lang)}: "
                  f"{alert['message_en' if lang == 'en' else 'message_nl']}")
        return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from sync.jobs.checks import run_checks
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        identities = [args.identity] if args.identity is not None else [
            link.identity_id for link in setup_repo.links(services.store)]
        failed = False
        for identity_id in identities:
            print(f"== {setup_repo.identity_name(services.store, identity_id)} "
                  f"({_t(args, 'identiteit', 'identity')} {identity_id})")
            for result in run_checks(services, identity_id):
                status = CHECK_WORDS[result.status][1 if args.lang == "en" else 0]
                print(f"  [{status:12}] {result.title(args.lang)}: {result.explanation(args.lang)}")
                if result.status != "pass" and result.fix(args.lang):
                    print(f"            → {result.fix(args.lang)}")
                failed |= result.status == "fail"
        return EXIT_FAILED if failed else EXIT_OK


def _koppelsleutel(args: argparse.Namespace) -> str:
    """`--key`, else the environment variable, else standard input (without echo on a terminal)."""
    if args.key:
        _say(_t(args, f"let op: een sleutel achter --key is zichtbaar in `ps` en de shellgeschiedenis; gebruik "
                f"voortaan {KEY_VARIABLE} of standaardinvoer.",
                f"warning: a key given with --key is visible in `ps` and shell history; use {KEY_VARIABLE} or "
                "standard input next time."))
        return args.key
    if os.environ.get(KEY_VARIABLE, "").strip():
        return os.environ[KEY_VARIABLE]
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Koppelsleutel: ")
    return sys.stdin.read()


def _cmd_identities(args: argparse.Namespace) -> int:
    from sync.jobs.linking import LinkError, add_identity, discover_identities
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        try:
            if args.action == "discover":
                _say(_t(args, "De identiteiten worden uit de facturen en relaties in Gripp gelezen…",
                        "Reading the identities off Gripp's invoices and companies…"))
                discover_identities(services)
            elif args.action == "add":
                name = add_identity(services, args.identity, actor="cli")  # verified against Gripp first
                print(_t(args, f"Identiteit {args.identity} ‘{name}’ toegevoegd (gevonden in Gripp).",
                         f"Identity {args.identity} ‘{name}’ added (found in Gripp)."))
                return EXIT_OK
        except LinkError as exc:
            _say(_t(args, f"fout: {exc.nl}", f"error: {exc.en}"))
            return EXIT_FAILED
        identities = setup_repo.identities(services.store)
    if not identities:
        _say(_t(args, "Nog geen identiteiten: `python -m sync identities discover` leest ze uit Gripp, `python -m "
                "sync identities add ID` voegt er een toe op id.",
                "No identities known yet: `python -m sync identities discover` reads them from Gripp, `python -m "
                "sync identities add ID` adds one by its id."))
    for ident in identities:
        linked = f"→ {ident['administration_name']}" if ident["linked"] else _t(args, "niet gekoppeld", "not linked")
        print(f"{ident['identity_id']:>4}  {ident['name'] or '—'}  {linked}")
    return EXIT_OK


def _cmd_link(args: argparse.Namespace) -> int:
    from sync.jobs.linking import LinkError, link_with_key, verify_key

    key = _koppelsleutel(args)
    with _services(args) as services:
        _banner(services, args)
        try:
            verified = verify_key(services, key)
            admin = f"'{verified.administration_name}' ({verified.administration_id})"
            print(_t(args, f"De sleutel opent administratie {admin}.", f"The key opens administration {admin}."))
            if verified.other_identities and not args.yes:
                _say(_t(args, f"fout: die administratie is al gekoppeld aan identiteit {verified.other_identities}; "
                        "geef --yes om hem ook hier te koppelen.",
                        f"error: that administration is already linked to identity {verified.other_identities}; "
                        "pass --yes to link it here too."))
                return EXIT_FAILED
            link_with_key(services, args.identity, key, start_date=args.start_date, actor="cli",
                          confirm_shared=args.yes)
        except LinkError as exc:
            _say(_t(args, f"fout: {exc.nl}", f"error: {exc.en}"))
            return EXIT_FAILED
        print(_t(args, f"Identiteit {args.identity} gekoppeld (sleutel {verified.key_hint}).",
                 f"Identity {args.identity} linked (key {verified.key_hint})."))
        return EXIT_OK


def _cmd_unlink(args: argparse.Namespace) -> int:
    from sync.jobs.linking import unlink

    with _services(args) as services:
        if not unlink(services, args.identity, actor="cli"):
            _say(_t(args, f"fout: identiteit {args.identity} was niet gekoppeld.",
                    f"error: identity {args.identity} was not linked."))
            return EXIT_FAILED
        print(_t(args, f"Identiteit {args.identity} ontkoppeld.", f"Identity {args.identity} unlinked."))
        return EXIT_OK


def _cmd_mappings_export(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import export_csv

    with _services(args) as services:
        n = export_csv(services.store, args.file)
        print(_t(args, f"{n} koppelingen geschreven naar {args.file}", f"{n} mappings written to {args.file}"))
        return EXIT_OK


def _cmd_mappings_import(args: argparse.Namespace) -> int:
    from sync.jobs.mappings_io import MappingImportError, import_csv

    with _services(args) as services:
        try:
            n = import_csv(services.store, args.file, actor="cli")
        except MappingImportError as exc:
            _say(_t(args, "fout: niets ingelezen:", "error: nothing imported:"))
            for problem in exc.problems:
                _say(f"  {problem}")
            return EXIT_FAILED
        print(_t(args, f"{n} koppelingen ingelezen uit {args.file}", f"{n} mappings imported from {args.file}"))
        return EXIT_OK


def _gripp_token(args: argparse.Namespace) -> str:
    """The new account's Gripp API key: the environment variable, else standard input (no echo on a terminal)."""
    if os.environ.get(TOKEN_VARIABLE, "").strip():
        return os.environ[TOKEN_VARIABLE].strip()
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("Gripp API-sleutel: " if getattr(args, "lang", "nl") == "nl" else "Gripp API key: ")
    return sys.stdin.read().strip()


def _cmd_accounts(args: argparse.Namespace) -> int:
    from sync.jobs import accounts as use

    lang = args.lang
    with _deployment(args) as deployment:
        try:
            if args.action == "add":
                checked = use.add_account(deployment, args.key, args.name, _gripp_token(args), actor="cli",
                                          gripp_url=args.gripp_url)
                print(_t(args, f"Account {checked.account.key} ‘{checked.account.name}’ toegevoegd (sleutel "
                               f"{checked.account.key_hint}); {len(checked.identities)} identiteiten gevonden:",
                         f"Account {checked.account.key} ‘{checked.account.name}’ added (key "
                         f"{checked.account.key_hint}); {len(checked.identities)} identities found:"))
                for ident in checked.identities:
                    print(f"  {ident['identity_id']:>4}  {ident['name'] or '—'}")
                return EXIT_OK
            if args.action == "check":
                checked = use.check_account(deployment, args.key, actor="cli")
                if not checked.ok:
                    _say(_t(args, f"fout: {checked.problem.nl}", f"error: {checked.problem.en}"))  # type: ignore
                    return EXIT_FAILED
                print(_t(args, f"De Gripp-sleutel van {args.key} werkt; {len(checked.identities)} identiteiten:",
                         f"The Gripp key of {args.key} works; {len(checked.identities)} identities:"))
                for ident in checked.identities:
                    linked = f"→ {ident['administration_name']}" if ident["linked"] else _t(
                        args, "niet gekoppeld", "not linked")
                    print(f"  {ident['identity_id']:>4}  {ident['name'] or '—'}  {linked}")
                return EXIT_OK
            if args.action == "remove":
                if not args.yes:
                    _say(_t(args, f"fout: geef --yes om account {args.key} te verwijderen (zijn databasebestand blijft "
                                  "staan).", f"error: pass --yes to remove account {args.key} (its database file "
                                             "stays on disk)."))
                    return EXIT_USAGE
                use.remove_account(deployment, args.key, actor="cli")
                print(_t(args, f"Account {args.key} verwijderd; zijn database blijft bewaard.",
                         f"Account {args.key} removed; its database is kept."))
                return EXIT_OK
        except use.AccountError as exc:
            _say(_t(args, f"fout: {exc.nl}", f"error: {exc.en}"))
            return EXIT_FAILED
        rows = use.overview(deployment, "cli")
        if not rows:
            _say(_t(args, "Nog geen accounts: `python -m sync accounts add CODE --name NAAM` voegt er een toe.",
                    "No accounts yet: `python -m sync accounts add KEY --name NAME` adds one."))
        for row in rows:
            print(f"{row.key:<16} {row.name}  {overview_words(row, lang)}")
        return EXIT_OK


def overview_words(row, lang: str) -> str:  # row: sync.jobs.accounts.OverviewRow
    from sync.core import fmt

    h = row.health
    parts = []
    nl = lang != "en"
    if h.broken_links:
        parts.append(f"{h.broken_links} " + ("verbroken koppeling(en)" if nl else "broken link(s)"))
    if h.failed_runs:
        parts.append(f"{h.failed_runs} " + ("mislukte synchronisatie(s)" if nl else "failed run(s)"))
    if h.overdue_runs:
        parts.append(f"{h.overdue_runs} " + ("achterstallig" if nl else "overdue"))
    for count, words in ((h.blocked, ("geblokkeerd", "blocked")), (h.refused, ("geweigerd", "refused")),
                         (h.conflicts, ("in conflict", "in conflict")), (h.open_alerts, ("meldingen", "alerts"))):
        if count:
            parts.append(f"{count} {words[0 if nl else 1]}")
    if not h.linked:
        parts.append("nog niet gekoppeld" if nl else "not linked yet")
    last = fmt.moment(h.last_run_at, lang) if h.last_run_at else ("nog nooit" if nl else "never")
    parts.append(("laatste synchronisatie " if nl else "last sync ") + last)
    return "; ".join(parts) if parts else ("in orde" if nl else "fine")


def _cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from sync.auth.users import hash_password

    prompt = _t(args, "Wachtwoord: ", "Password: ")
    password = getpass.getpass(prompt) if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    if len(password) < 10:
        _say(_t(args, "fout: gebruik minstens 10 tekens.", "error: use at least 10 characters."))
        return EXIT_FAILED
    print(hash_password(password))
    return EXIT_OK


def _cmd_reset_sandbox(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not settings.sandbox:
        _say(_t(args, "fout: reset-sandbox werkt alleen in de sandbox (zonder Gripp/SnelStart-instellingen).",
                "error: reset-sandbox only works in sandbox mode (no Gripp/SnelStart settings)."))
        return EXIT_FAILED
    from sync.sandbox.seed import reset
    from sync.store import mode as store_mode
    from sync.store.db import Store
    from sync.wiring import opens_with_sandbox_key

    if settings.db_path.exists():
        store = Store(settings.db_path)  # raises when the console holds it or the file is unreadable
        try:  # only the sandbox's own file is wiped: a real one (or one that does not say) is refused
            store_mode.claim(store, store_mode.SANDBOX, legacy_sandbox=lambda: opens_with_sandbox_key(store, settings))
        finally:
            store.close()
    sandbox_files = [settings.db_path]
    if settings.catalog_file.exists():  # the sandbox's catalog and its demo accounts' files go too
        from sync.store.catalog import Catalog

        catalog = Catalog(settings.catalog_file)  # raises when the console holds it
        try:
            catalog.claim(store_mode.SANDBOX)  # never a real deployment's catalog
            sandbox_files += [account.db_path for account in catalog.accounts(include_removed=True)
                              if account.db_path.parent == settings.accounts_dir]
        finally:
            catalog.close()
        sandbox_files.append(settings.catalog_file)
    for file in sandbox_files:
        for path in (file, file.with_name(file.name + ".wal")):
            path.unlink(missing_ok=True)
    reset(settings.sandbox_state_path)
    with _services(args) as services:
        n = services.store.scalar("SELECT count(*) FROM links")
        print(_t(args, f"Sandbox opnieuw gevuld: {n} gekoppelde identiteiten, nieuwe database in {settings.db_path}.",
                 f"Sandbox reseeded: {n} linked identities, fresh database at {settings.db_path}."))
        return EXIT_OK


STATE_WORDS = {  # the outbox's states (sync.store.outbox) as people say them
    "pending": ("te boeken", "to book"), "posting": ("wordt geboekt", "being booked"), "booked": ("geboekt", "booked"),
    "pdf_uploading": ("PDF wordt bijgevoegd", "PDF being attached"), "pdf_pending": ("PDF volgt", "PDF to come"),
    "done": ("klaar", "done"), "blocked": ("geblokkeerd", "blocked"), "failed": ("geweigerd", "refused"),
    "conflict": ("in conflict", "in conflict"), "nothing_to_book": ("niets te boeken", "nothing to book"),
}
CHECK_WORDS = {"pass": ("IN ORDE", "PASS"), "warning": ("WAARSCHUWING", "WARNING"), "fail": ("FOUT", "FAIL")}


def _banner(services, args: argparse.Namespace | None = None) -> None:
    if services.settings.sandbox:
        _say(_t(args, "SANDBOX — ingebouwde simulatie van Gripp en SnelStart (geen echte gegevens).",
                "SANDBOX — built-in simulators of Gripp and SnelStart (no real data).") if args else
             "SANDBOX — ingebouwde simulatie van Gripp en SnelStart (geen echte gegevens).")
