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
ACCOUNT_HELP = ("het account (zijn code, zie `accounts list`); standaard: het enige",
                "the account (its key, see `accounts list`); default: the only one")


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # the database, its WAL, the sandbox's state and exports: the user's only
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_of(argv)
    with _argparse_speaks(lang):  # help, usage and argument errors in the reader's language too
        parser = _parser(lang)
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
        for line in exc.lines(args.lang):
            _say(f"  {line}")
        return EXIT_USAGE
    except StoreLockedError as exc:
        holder = f"proces {exc.pid}" if exc.pid else "een ander proces"
        _say(_t(args, f"fout: de database {exc.path} is in gebruik door {holder} (een console of opdracht op dezelfde "
                "gegevens); stop dat en probeer het opnieuw.", f"error: {exc}"))
        return EXIT_LOCKED
    except StoreUnreadableError as exc:
        _say(_t(args, f"fout: de database {exc.path} is niet te lezen ({exc.reason}); zet een reservekopie terug of "
                "gebruik een andere SYNC_DB_PATH.", f"error: {exc}"))
        return EXIT_FAILED
    except (StoreModeError, CatalogModeError) as exc:
        _say(_t(args, f"fout: {exc.nl}", f"error: {exc.en}"))
        return EXIT_FAILED
    except OSError as exc:  # a file named on the command line: missing, a folder, not ours — one line, no traceback
        _say(_file_problem(args, exc))
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _file_problem(args: argparse.Namespace, exc: OSError) -> str:
    name = exc.filename or ""
    if isinstance(exc, FileNotFoundError):
        return _t(args, f"fout: {name} bestaat niet (of de map waarin het moet staan niet).",
                  f"error: {name} does not exist (or the folder it should be in does not).")
    if isinstance(exc, IsADirectoryError):
        return _t(args, f"fout: {name} is een map; geef een bestand.", f"error: {name} is a folder; give a file.")
    if isinstance(exc, NotADirectoryError):
        return _t(args, f"fout: in {name} is een deel van het pad geen map.",
                  f"error: part of the path {name} is not a folder.")
    if isinstance(exc, PermissionError):
        return _t(args, f"fout: geen toegang tot {name}.", f"error: no permission for {name}.")
    return _t(args, f"fout: {name} lukt niet: {exc.strerror or exc}.", f"error: {name} failed: {exc.strerror or exc}.")


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM ends the command like Ctrl-C: through every `finally`, so the database is closed and the sandbox's
    state saved (a run left half-way is closed as interrupted by the next start)."""
    raise KeyboardInterrupt


def _lang_of(argv: Sequence[str]) -> str:
    """The language asked for anywhere on the line (`--lang en` / `--lang=en`), read before parsing so that
    argparse's own help and errors speak it too."""
    for i, word in enumerate(argv):
        if word == "--lang" and i + 1 < len(argv):
            return "en" if argv[i + 1] == "en" else "nl"
        if word.startswith("--lang="):
            return "en" if word == "--lang=en" else "nl"
    return "nl"


# argparse's own words (usage, option groups, errors). argparse looks them up through its module-level gettext
# `_` at the moment it needs them, and ships no Dutch catalogue; `_argparse_speaks` swaps that lookup while the
# command line is parsed.
_ARGPARSE_NL = {
    "usage: ": "gebruik: ",
    "positional arguments": "argumenten",
    "options": "opties",
    "show this help message and exit": "deze hulptekst tonen en stoppen",
    "%(prog)s: error: %(message)s\n": "%(prog)s: fout: %(message)s\n",
    "argument %(argument_name)s: %(message)s": "bij %(argument_name)s: %(message)s",
    "the following arguments are required: %s": "dit ontbreekt nog: %s",
    "unrecognized arguments: %s": "onbekend: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "‘%(value)s’ kan niet; kies uit %(choices)s",
    "invalid %(type)s value: %(value)r": "‘%(value)s’ is geen geldige waarde",
    "expected one argument": "hier hoort één waarde achter",
    "expected at most one argument": "hier hoort hoogstens één waarde achter",
    "expected at least one argument": "hier hoort minstens één waarde achter",
    "ambiguous option: %(option)s could match %(matches)s": "%(option)s is dubbelzinnig: %(matches)s",
    "not allowed with argument %s": "niet samen met %s",
    "ignored explicit argument %r": "waarde %r genegeerd",
    "one of the arguments %s is required": "één van %s is nodig",
    "unexpected option string: %s": "onverwachte optie: %s",
}


@contextmanager
def _argparse_speaks(lang: str) -> Iterator[None]:
    if lang == "en":
        yield
        return
    english, english_n = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = lambda text: _ARGPARSE_NL.get(text, english(text))  # type: ignore[attr-defined]
    argparse.ngettext = lambda one, many, n: english_n(one, many, n)  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = english, english_n  # type: ignore[attr-defined]


def _identity_id(lang: str):  # -> a type= callable for argparse
    def identity_id(text: str) -> int:
        if text.strip().isdigit() and int(text) > 0:
            return int(text)
        raise argparse.ArgumentTypeError(
            f"‘{text}’ is not an identity id (a positive whole number, as in Gripp)" if lang == "en" else
            f"‘{text}’ is geen identiteit-id (een positief geheel getal, zoals in Gripp)")
    return identity_id


def _iso_date(lang: str):  # -> a type= callable for argparse
    def iso_date(text: str) -> date:
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"‘{text}’ is not a date; write YYYY-MM-DD, e.g. 2026-01-31" if lang == "en" else
                f"‘{text}’ is geen datum; schrijf JJJJ-MM-DD, bijvoorbeeld 2026-01-31") from None
    return iso_date


def _parser(lang: str = "nl") -> argparse.ArgumentParser:
    def h(nl: str, en: str) -> str:
        return en if lang == "en" else nl

    identity = _identity_id(lang)
    parser = argparse.ArgumentParser(prog="python -m sync", description=h("Gripp → SnelStart-koppeling",
                                                                          "Gripp → SnelStart link"))
    parser.add_argument("--lang", choices=("nl", "en"), default="nl",
                        help=h("de taal van alles wat de opdracht zegt (standaard: nl)",
                               "the language of everything the command says (default: nl)"))
    parser.add_argument("--account", metavar=h("CODE", "KEY"), help=h(*ACCOUNT_HELP))
    sub = parser.add_subparsers(dest="command", title=h("opdrachten", "commands"), metavar=h("OPDRACHT", "COMMAND"))
    one_identity = h("één Gripp-identiteit (standaard: elke gekoppelde)", "one Gripp identity (default: every linked "
                     "one)")

    p = sub.add_parser("run", help=h("verversen, facturen boeken, betalingen terugzetten, afstemmen",
                                     "refresh, book invoices, bring payments back, reconcile"))
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser("dry-run", help=h("wat een synchronisatie per factuur zou doen; schrijft niets naar Gripp of "
                                         "SnelStart", "what a run would do, per invoice; writes nothing to Gripp or "
                                         "SnelStart"))
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_dry_run)

    p = sub.add_parser("status", help=h("koppelingen, laatste synchronisaties, boekingen en open meldingen",
                                        "links, last runs, outbox counts and open alerts"))
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_status)

    p = sub.add_parser("check", help=h("de controles van instellingen, BTW en grootboeken (exit 1 als er een faalt)",
                                       "the setup, VAT and ledger checks (exit 1 when one fails)"))
    p.add_argument("--identity", type=identity, metavar="ID", help=one_identity)
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_check)

    p = sub.add_parser("identities", help=h("de Gripp-identiteiten tonen, ophalen uit Gripp of er een toevoegen op id",
                                            "list the Gripp identities; discover them from Gripp or add one by id"))
    _lang_option(p, h)
    isub = p.add_subparsers(dest="action", title=h("handelingen", "actions"),
                              metavar=h("HANDELING", "ACTION"))
    for name, text in (("list", h("de identiteiten die deze database kent (standaard)",
                                  "the identities this database knows (the default)")),
                       ("discover", h("de identiteiten uit de facturen en relaties in Gripp lezen",
                                      "read the identities off Gripp's invoices and companies"))):
        _lang_option(isub.add_parser(name, help=text), h)
    a = isub.add_parser("add", help=h("er een toevoegen op id (Instellingen › Identiteiten & Sjablonen), gecontroleerd "
                                      "in Gripp", "add one by its id (Instellingen › Identiteiten & Sjablonen), "
                                      "checked in Gripp"))
    a.add_argument("identity", type=identity, metavar="ID", help=h("het id van de identiteit", "the identity's id"))
    _lang_option(a, h)
    p.set_defaults(handler=_cmd_identities)

    p = sub.add_parser("link", help=h("een identiteit koppelen met een koppelsleutel (plakken)",
                                      "link an identity with a koppelsleutel (the paste fallback)"),
                       description=h(f"De koppelsleutel (SnelStart › Koppelingen › Maatwerk) wordt gelezen uit "
                                     f"{KEY_VARIABLE}, anders van standaardinvoer (zonder echo op een terminal).",
                                     f"The koppelsleutel (SnelStart › Koppelingen › Maatwerk) is read from "
                                     f"{KEY_VARIABLE}, else from standard input (without echo on a terminal)."))
    p.add_argument("--identity", type=identity, required=True, metavar="ID",
                   help=h("de Gripp-identiteit", "the Gripp identity"))
    p.add_argument("--key", metavar=h("SLEUTEL", "KEY"),
                   help=h(f"de sleutel zelf (zichtbaar voor andere gebruikers in `ps` en bewaard in de "
                          f"shellgeschiedenis: liever {KEY_VARIABLE} of standaardinvoer)",
                          f"the key itself (visible to other users in `ps` and kept in shell history: prefer "
                          f"{KEY_VARIABLE} or standard input)"))
    p.add_argument("--start-date", type=_iso_date(lang), metavar=h("DATUM", "DATE"),
                   help=h("vanaf welke factuurdatum er geboekt wordt (JJJJ-MM-DD)",
                          "the first invoice date to book (YYYY-MM-DD)"))
    p.add_argument("--yes", action="store_true", help=h("ook als de administratie al aan een andere identiteit "
                                                        "gekoppeld is", "also when the administration is linked to "
                                                        "another identity"))
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_link)

    p = sub.add_parser("unlink", help=h("de koppeling van een identiteit weghalen", "remove an identity's link"))
    p.add_argument("--identity", type=identity, required=True, metavar="ID",
                   help=h("de Gripp-identiteit", "the Gripp identity"))
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_unlink)

    p = sub.add_parser("mappings", help=h("de BTW-, grootboek- en klantkoppelingen exporteren of inlezen (CSV)",
                                          "export or import the VAT, ledger and customer mappings (CSV)"))
    _lang_option(p, h)
    msub = p.add_subparsers(dest="action", required=True, title=h("handelingen", "actions"),
                              metavar=h("HANDELING", "ACTION"))
    e = msub.add_parser("export", help=h("alle koppelingen naar een CSV-bestand schrijven",
                                         "write every mapping to a CSV file"))
    e.add_argument("file", type=Path, metavar=h("BESTAND", "FILE"), help=h("het CSV-bestand", "the CSV file"))
    _lang_option(e, h)
    e.set_defaults(handler=_cmd_mappings_export)
    i = msub.add_parser("import", help=h("koppelingen uit een CSV-bestand inlezen (bijvoorbeeld een export)",
                                         "read mappings from a CSV file (an export, say)"))
    i.add_argument("file", type=Path, metavar=h("BESTAND", "FILE"), help=h("het CSV-bestand", "the CSV file"))
    _lang_option(i, h)
    i.set_defaults(handler=_cmd_mappings_import)

    p = sub.add_parser("accounts", help=h("de Gripp-accounts van deze installatie: tonen, toevoegen, controleren, "
                                          "weghalen", "the Gripp accounts of this deployment: list, add, check, "
                                          "remove"),
                       description=h(f"De Gripp-API-sleutel van een nieuw account wordt gelezen uit {TOKEN_VARIABLE}, "
                                     "anders van standaardinvoer (zonder echo op een terminal); nooit van de "
                                     "opdrachtregel.",
                                     f"The Gripp API key of a new account is read from {TOKEN_VARIABLE}, else from "
                                     "standard input (without echo on a terminal); never from the command line."))
    _lang_option(p, h)
    asub = p.add_subparsers(dest="action", title=h("handelingen", "actions"), metavar=h("HANDELING", "ACTION"))
    _lang_option(asub.add_parser("list", help=h("elk account met hoe het ervoor staat (standaard)",
                                                "every account with its health (the default)")), h)
    a = asub.add_parser("add", help=h("een Gripp-account toevoegen: eerst worden de sleutel gecontroleerd en de "
                                      "identiteiten gelezen", "add a Gripp account: its key is checked and its "
                                      "identities read first"))
    a.add_argument("key", metavar=h("CODE", "KEY"), help=h("een korte code: kleine letters, cijfers, streepjes "
                                                           "(bijv. acme)", "a short code: lower-case letters, digits, "
                                                           "dashes (e.g. acme)"))
    a.add_argument("--name", required=True, metavar=h("NAAM", "NAME"),
                   help=h("de naam van de klant zoals men hem kent", "the customer's name as people know it"))
    a.add_argument("--gripp-url", metavar="URL", help=h("het Gripp-API-adres van het account (standaard: "
                                                        "GRIPP_API_URL van de installatie)", "the account's Gripp API "
                                                        "address (default: the deployment's GRIPP_API_URL)"))
    _lang_option(a, h)
    a = asub.add_parser("check", help=h("werkt de Gripp-sleutel van het account, en welke identiteiten toont Gripp",
                                        "does the account's Gripp key work, and which identities does Gripp show"))
    a.add_argument("key", metavar=h("CODE", "KEY"))
    _lang_option(a, h)
    a = asub.add_parser("remove", help=h("een account weghalen (zijn databasebestand blijft staan)",
                                         "take an account out (its database file stays on disk)"))
    a.add_argument("key", metavar=h("CODE", "KEY"))
    a.add_argument("--yes", action="store_true", help=h("echt weghalen", "really remove it"))
    _lang_option(a, h)
    p.set_defaults(handler=_cmd_accounts)

    p = sub.add_parser("hash-password", help=h("een bcrypt-hash voor een consolegebruiker in .streamlit/secrets.toml",
                                               "a bcrypt hash for a console user in .streamlit/secrets.toml"))
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_hash_password)

    p = sub.add_parser("reset-sandbox", help=h("de sandbox opnieuw vullen en de lokale database wissen",
                                               "reseed the sandbox and clear the local database"))
    _lang_option(p, h)
    p.set_defaults(handler=_cmd_reset_sandbox)
    _account_option(sub, h)
    return parser


def _lang_option(p: argparse.ArgumentParser, h) -> None:
    """`--lang` after the command too (`python -m sync check --lang en`)."""
    p.add_argument("--lang", choices=("nl", "en"), default=argparse.SUPPRESS, help=h("de taal (nl of en)",
                                                                                     "the language (nl or en)"))


def _account_option(sub: argparse._SubParsersAction, h) -> None:
    """`--account` after every command that works on one account (`python -m sync run --account acme`)."""
    for name, p in sub.choices.items():
        if name in ("accounts", "hash-password", "reset-sandbox"):
            continue
        p.add_argument("--account", default=argparse.SUPPRESS, metavar=h("CODE", "KEY"), help=h(*ACCOUNT_HELP))
        for action in p._actions:  # and after `mappings export`, `identities add`, ...
            if isinstance(action, argparse._SubParsersAction):
                for inner in action.choices.values():
                    inner.add_argument("--account", default=argparse.SUPPRESS, metavar=h("CODE", "KEY"),
                                       help=h(*ACCOUNT_HELP))


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
        try:
            yield services
        finally:
            services.ran()  # the support overview's row follows what the command changed (a link, an unlink)


def _unknown_identity(services, args: argparse.Namespace) -> bool:
    """Says so, and True, when `--identity` names an identity this database does not know."""
    from sync.store import setup as setup_repo

    wanted = getattr(args, "identity", None)
    if wanted is None or any(i["identity_id"] == wanted for i in setup_repo.identities(services.store)):
        return False
    command = f"python -m sync --account {args.account}" if getattr(args, "account", None) else "python -m sync"
    _say(_t(args, f"fout: identiteit {wanted} bestaat niet in deze database (zie `{command} identities`; "
            f"`{command} identities add {wanted}` voegt hem toe als Gripp hem kent).",
            f"error: identity {wanted} does not exist in this database (see `{command} identities`; "
            f"`{command} identities add {wanted}` adds it when Gripp knows it)."))
    return True


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cmd_run(args: argparse.Namespace) -> int:
    from sync.core.events import run_label
    from sync.core.words import say
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
                _say(f"  [{identity_id}] {say(STEP_LABELS[step], lang)}…")

        if _unknown_identity(services, args):
            return EXIT_FAILED
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
        if _unknown_identity(services, args):
            return EXIT_FAILED
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
    from sync.core.events import render_alert, run_label
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
                  f"{render_alert(alert, lang)}")
        return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from sync.jobs.checks import run_checks
    from sync.store import setup as setup_repo

    with _services(args) as services:
        _banner(services, args)
        if _unknown_identity(services, args):
            return EXIT_FAILED
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
                discover_identities(services, actor="cli")
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
        if _unknown_identity(services, args):
            return EXIT_FAILED
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
        if _unknown_identity(services, args):
            return EXIT_FAILED
        if not unlink(services, args.identity, actor="cli"):
            _say(_t(args, f"fout: identiteit {args.identity} was niet gekoppeld.",
                    f"error: identity {args.identity} was not linked."))
            return EXIT_FAILED
        print(_t(args, f"Identiteit {args.identity} ontkoppeld.", f"Identity {args.identity} unlinked."))
        return EXIT_OK


def _cmd_mappings_export(args: argparse.Namespace) -> int:
    from sync.core import fmt
    from sync.jobs.mappings_io import export_csv

    with _services(args) as services:
        n = export_csv(services.store, args.file)
        print(_t(args, f"{fmt.plural(n, 'koppeling', 'koppelingen')} geschreven naar {args.file}",
                 f"{fmt.plural(n, 'mapping', 'mappings', 'en')} written to {args.file}"))
        return EXIT_OK


def _cmd_mappings_import(args: argparse.Namespace) -> int:
    from sync.core import fmt
    from sync.jobs.mappings_io import MappingImportError, import_csv

    with _services(args) as services:
        try:
            result = import_csv(services.store, args.file, actor="cli")
        except MappingImportError as exc:
            _say(_t(args, "fout: niets ingelezen, het bestand is niet te gebruiken:",
                    "error: nothing imported, the file cannot be used:"))
            for problem in exc.problems:
                _say(f"  {problem.text(args.lang)}")
            return EXIT_FAILED
        n = result.count
        print(_t(args, f"{fmt.plural(n, 'koppeling', 'koppelingen')} ingelezen uit {args.file}",
                 f"{fmt.plural(n, 'mapping', 'mappings', 'en')} imported from {args.file}"))
        if result.warnings:
            _say(_t(args, "let op — ingelezen, maar de controles melden dit tot het is opgelost:",
                    "note — imported, but the checks report this until it is solved:"))
            for warning in result.warnings:
                _say(f"  {warning.text(args.lang)}")
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
    from sync.core import fmt
    from sync.jobs import accounts as use

    lang = args.lang
    with _deployment(args) as deployment:
        try:
            if args.action == "add":
                checked = use.add_account(deployment, args.key, args.name, _gripp_token(args), actor="cli",
                                          gripp_url=args.gripp_url)
                found = len(checked.identities)
                print(_t(args, f"Account {checked.account.key} ‘{checked.account.name}’ toegevoegd (sleutel "
                               f"{checked.account.key_hint}); {fmt.plural(found, 'identiteit', 'identiteiten')} "
                               "gevonden:",
                         f"Account {checked.account.key} ‘{checked.account.name}’ added (key "
                         f"{checked.account.key_hint}); {fmt.plural(found, 'identity', 'identities', 'en')} found:"))
                for ident in checked.identities:
                    print(f"  {ident['identity_id']:>4}  {ident['name'] or '—'}")
                return EXIT_OK
            if args.action == "check":
                checked = use.check_account(deployment, args.key, actor="cli")
                if not checked.ok:
                    _say(_t(args, f"fout: {checked.problem.nl}", f"error: {checked.problem.en}"))  # type: ignore
                    return EXIT_FAILED
                found = len(checked.identities)
                print(_t(args, f"De Gripp-sleutel van {args.key} werkt; "
                               f"{fmt.plural(found, 'identiteit', 'identiteiten')}:",
                         f"The Gripp key of {args.key} works; {fmt.plural(found, 'identity', 'identities', 'en')}:"))
                for ident in checked.identities:
                    linked = f"→ {ident['administration_name']}" if ident["linked"] else _t(
                        args, "niet gekoppeld", "not linked")
                    print(f"  {ident['identity_id']:>4}  {ident['name'] or '—'}  {linked}")
                for identity_id, result in checked.links.items():  # does SnelStart still accept each link's key
                    status = CHECK_WORDS[result.status][1 if lang == "en" else 0]
                    print(f"  [{status:12}] {identity_id}: {result.explanation(lang)}")
                    if result.status != "pass" and result.fix(lang):
                        print(f"            → {result.fix(lang)}")
                return EXIT_OK if all(r.status != "fail" for r in checked.links.values()) else EXIT_FAILED
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
            # what was typed cannot be used: a usage error; Gripp refusing, unreachable or busy: failed
            return EXIT_USAGE if exc.code in ("invalid", "no_key", "taken") else EXIT_FAILED
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
    words = (  # (count, Dutch one/many, English one/many)
        (h.broken_links, ("verbroken koppeling", "verbroken koppelingen"), ("broken link", "broken links")),
        (h.unchecked_links, ("koppeling nog niet gecontroleerd", "koppelingen nog niet gecontroleerd"),
         ("link not checked yet", "links not checked yet")),
        (h.failed_runs, ("mislukte synchronisatie", "mislukte synchronisaties"), ("failed run", "failed runs")),
        (h.overdue_runs, ("achterstallig", "achterstallig"), ("overdue", "overdue")),
        (h.blocked, ("geblokkeerd", "geblokkeerd"), ("blocked", "blocked")),
        (h.refused, ("geweigerd", "geweigerd"), ("refused", "refused")),
        (h.conflicts, ("in conflict", "in conflict"), ("in conflict", "in conflict")),
        (h.open_alerts, ("melding", "meldingen"), ("alert", "alerts")),
    )
    for count, dutch, english in words:
        if count:
            parts.append(fmt.plural(count, *(dutch if nl else english), lang))
    if not h.linked:
        parts.append("nog niet gekoppeld" if nl else "not linked yet")
    if not parts:
        parts.append("in orde" if nl else "fine")
    last = fmt.moment(h.last_run_at, lang) if h.last_run_at else ("nog nooit" if nl else "never")
    parts.append(("laatste synchronisatie " if nl else "last sync ") + last)
    return "; ".join(parts)


def _cmd_hash_password(args: argparse.Namespace) -> int:
    import getpass

    from sync.auth.users import hash_password

    if sys.stdin.isatty():  # typed blind: asked twice, so a slip of the finger is caught here, not at sign-in
        password = getpass.getpass(_t(args, "Wachtwoord: ", "Password: "))
        if len(password) >= 10 and getpass.getpass(_t(args, "Nog een keer: ", "Once more: ")) != password:
            _say(_t(args, "fout: de twee wachtwoorden verschillen; er is niets gemaakt.",
                    "error: the two passwords differ; nothing was made."))
            return EXIT_FAILED
    else:
        password = sys.stdin.readline().rstrip("\n")
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
