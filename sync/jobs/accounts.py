"""Accounts: one Gripp customer each (its Gripp API key, its identities, links, mappings, runs and events, in its
own database). Add (the key is checked and identities found before anything is kept), check, remove, list, open,
and the support team's overview of every account's health sorted by what needs a person first.

Every use case checks the actor's grant for the account: an actor without one neither sees nor touches it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sync.auth.access import Actor, authorize, may_open, require_account
from sync.core.config import is_web_address
from sync.core.events import EventKind
from sync.core.explained import Explained
from sync.core.vault import Vault
from sync.core.words import N_, Msg
from sync.gripp.errors import GrippAuthError, GrippError
from sync.jobs.checks import CheckKey, CheckResult, run_checks
from sync.jobs.services import Deployment, Services
from sync.store import setup as setup_repo
from sync.store.catalog import Account, Health, UnknownAccount, valid_key

log = logging.getLogger(__name__)

MAX_NAME = 200  # characters of an account's name


class AccountError(Explained, ValueError):
    """A person can fix this; `message` says how, `code` says what kind."""


@dataclass(frozen=True)
class Checked:
    """What a check found: the key works (or why not), the identities Gripp shows for it and, per linked identity,
    whether SnelStart still accepts its koppelsleutel."""

    account: Account
    ok: bool
    identities: list[setup_repo.IdentityRow]
    problem: AccountError | None = None
    links: dict[int, CheckResult] = field(default_factory=dict)


# -- opening and listing ---------------------------------------------------------------------------------
def visible(deployment: Deployment, actor: Actor | str) -> list[Account]:
    """The accounts this actor may see."""
    return [account for account in deployment.accounts() if may_open(actor, account.key)]


def open_account(deployment: Deployment, key: str, actor: Actor | str) -> Services:
    """The account's services, for an actor granted it. The refusal is the same whether or not it exists."""
    require_account(actor, key)
    return deployment.services(key)


def choose(deployment: Deployment, key: str | None, actor: Actor | str = "cli") -> str:
    """The account a command means: the one named, else the only one the actor may see, else SYNC_ACCOUNT's
    when it is one of them (`UnknownAccount` lists the keys when there are several or none)."""
    if key:
        require_account(actor, key)
        deployment.account(key)
        return key
    keys = [account.key for account in visible(deployment, actor)]
    if len(keys) == 1:
        return keys[0]
    if deployment.settings.default_account in keys:
        return str(deployment.settings.default_account)
    raise UnknownAccount("", keys)


# -- add, check, remove ----------------------------------------------------------------------------------
def add_account(deployment: Deployment, key: str, name: str, gripp_token: str, *, actor: Actor | str,
                gripp_url: str | None = None) -> Checked:
    """Register a Gripp customer: the key is tried on Gripp and its identities read first; nothing is kept when
    Gripp refuses it."""
    who = authorize(actor, "keys")
    require_account(actor, key)
    key, name, gripp_token = (key or "").strip().lower(), (name or "").strip(), (gripp_token or "").strip()
    if not valid_key(key):
        raise AccountError(Msg(N_("error.account.bad_key")))
    if not name or len(name) > MAX_NAME:
        raise AccountError(Msg(N_("error.account.no_name"), most=MAX_NAME))
    if not gripp_token:
        raise AccountError(Msg(N_("error.account.no_gripp_key")), code="no_key")
    if gripp_url is not None and not is_web_address(gripp_url):
        raise AccountError(Msg(N_("error.account.bad_gripp_url"), url=gripp_url))
    if deployment.catalog.get(key, include_removed=True) is not None:
        raise AccountError(Msg(N_("error.account.key_taken"), key=key), code="taken")
    path = deployment.settings.accounts_dir / f"{key}.duckdb"
    if path.exists():
        raise AccountError(Msg(N_("error.account.file_exists"), key=key, path=str(path)), code="taken")
    _try_key(deployment, gripp_token, gripp_url)  # before anything is written
    account = deployment.catalog.add(
        Account(key=key, name=name, db_path=path, gripp_token_enc=deployment.vault.encrypt(gripp_token),
                key_hint=Vault.hint(gripp_token), gripp_url=gripp_url), actor=who)
    try:
        services = deployment.services(key)
        identities = _discover(services, actor)
    except BaseException:
        deployment.forget(key)
        deployment.catalog.remove(key, actor=who)
        _delete_files(path)
        raise
    from sync.store import history

    history.log_event(services.store, EventKind.ACCOUNT_ADDED, actor=who, data={"account": key, "name": name})
    deployment.record_health(services)
    return Checked(account, True, identities)


def check_account(deployment: Deployment, key: str, *, actor: Actor | str) -> Checked:
    """Does the account's Gripp key still work, which identities does Gripp show, does SnelStart still accept each
    link's koppelsleutel, and do the link's setup checks pass (so no link stays "not checked yet")? The dry run is
    left to Controles. Writes its health row."""
    authorize(actor, "checks")
    services = open_account(deployment, key, actor)
    account = deployment.account(key)
    links = {link.identity_id: next(r for r in run_checks(services, link.identity_id, include_dry_run=False,
                                                          actor=actor) if r.check == CheckKey.KOPPELSLEUTEL)
             for link in setup_repo.links(services.store)}
    try:
        identities = _discover(services, actor)
    except AccountError as problem:
        deployment.record_health(services)
        return Checked(account, False, [], problem, links)
    deployment.record_health(services)
    return Checked(account, True, identities, links=links)


def remove_account(deployment: Deployment, key: str, *, actor: Actor | str) -> bool:
    """Take the account out of the deployment: no more pages, runs or schedule. Its database file stays on disk
    (a restore is putting it back), and its key stays taken."""
    who = authorize(actor, "keys")
    require_account(actor, key)
    deployment.account(key)  # UnknownAccount when there is none
    from sync.jobs.locks import any_running

    if any_running(("identity", key)):
        raise AccountError(Msg(N_("error.account.busy")), code="busy")
    deployment.forget(key)
    return deployment.catalog.remove(key, actor=who)


# -- the support team's view -----------------------------------------------------------------------------
@dataclass(frozen=True)
class OverviewRow:
    key: str
    name: str
    health: Health
    need: int  # an index into NEEDS: broken links first, fine last

    @property
    def stuck(self) -> int:
        return self.health.blocked + self.health.refused + self.health.conflicts


# What needs a person, most urgent first. A link SnelStart was not asked about yet may be broken, so it never
# reads as fine; it comes after "not linked" because the next run (or "Controleren") settles it by itself. "In orde"
# only when every link was verified, the last runs did what they should and the setup checks pass: a failing check
# (an unmapped VAT rate, a missing ledger, a start date in the future) blocks what comes next, so it comes right
# after what is blocked already. An administration another link (of any account) links too books the same invoices
# twice or contradicts them, confirmed or not, so it is a warning until one side is unlinked: after the checks, as a
# warning (orange) before the alerts; notifications that do not arrive come before the things nobody is told about.
NEEDS = ("broken", "runs", "invoices", "checks", "shared", "alerts", "undelivered", "not_linked", "unchecked", "ok")
# How every surface names what an account needs (Klanten, `accounts list`): catalog keys.
NEED_LABELS = {"broken": N_("need_broken"), "runs": N_("need_runs"), "invoices": N_("need_invoices"),
               "checks": N_("need_checks"), "shared": N_("need_shared"), "alerts": N_("need_alerts"),
               "undelivered": N_("need_undelivered"), "not_linked": N_("need_not_linked"),
               "unchecked": N_("need_unchecked"), "ok": N_("need_ok")}


def need_of(health: Health) -> int:
    if health.broken_links:
        need = "broken"
    elif health.failed_runs or health.overdue_runs:
        need = "runs"
    elif health.blocked or health.refused or health.conflicts:
        need = "invoices"
    elif health.failing_checks:
        need = "checks"
    elif health.shared_links:
        need = "shared"
    elif health.open_alerts:
        need = "alerts"
    elif health.undelivered:
        need = "undelivered"
    elif not health.linked:
        need = "not_linked"
    elif health.unchecked_links:
        need = "unchecked"
    else:
        need = "ok"
    return NEEDS.index(need)


def overview(deployment: Deployment, actor: Actor | str, *, search: str = "") -> list[OverviewRow]:
    """Every account the actor may see with its health, what needs a person first (then the most of it, then by
    name). Read from the catalog only: no account's file is opened."""
    names = {account.key: account.name for account in visible(deployment, actor)}
    needle = search.strip().lower()
    rows = [OverviewRow(h.account_key, names[h.account_key], h, need_of(h))
            for h in deployment.catalog.health() if h.account_key in names]
    if needle:
        rows = [row for row in rows if needle in row.key.lower() or needle in row.name.lower()]
    return sorted(rows, key=lambda r: (r.need, -(r.health.broken_links + r.health.failed_runs
                                                 + r.health.overdue_runs + r.stuck + r.health.failing_checks
                                                 + r.health.shared_links + r.health.open_alerts + r.health.undelivered
                                                 + r.health.unchecked_links),
                                       r.name.lower(), r.key))


# -- helpers ---------------------------------------------------------------------------------------------
def _try_key(deployment: Deployment, gripp_token: str, gripp_url: str | None) -> None:
    """One cheap call with the key: refused or unreachable is said before the account exists."""
    client = deployment.gripp_for_key(gripp_token, gripp_url)
    try:
        answer = client.batch([client.get_call("invoice", [], first=0, max_results=1)])[0]
        answer.unwrap()
    except GrippAuthError as exc:
        raise _refused() from exc
    except GrippError as exc:
        if "auth" in type(exc).__name__.lower() or "key" in str(exc).lower():
            raise _refused() from exc
        raise AccountError(Msg(N_("error.account.gripp_unavailable")), code="unavailable") from exc
    finally:
        client.close()


def _refused() -> AccountError:
    return AccountError(Msg(N_("error.account.gripp_refused")), code="refused")


def _discover(services: Services, actor: Actor | str) -> list[setup_repo.IdentityRow]:
    from sync.jobs.identities import discover_identities
    from sync.jobs.linking import LinkError

    try:
        return discover_identities(services, actor=actor)
    except LinkError as exc:
        if isinstance(exc.__cause__, GrippAuthError):
            raise _refused() from exc
        raise AccountError(exc.message, code=exc.code) from exc


def _delete_files(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)

