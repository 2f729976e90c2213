"""Who may do what. Two roles: *support* (everything) and *finance* (open items, exports, sync now, acknowledge
alerts; no linking, mappings, checks, schedule, keys or adopting a conflicting booking). Enforced in the use
cases; the console only hides what a role cannot use, it is not the guard.

Roles are granted per account: an `Actor` holds the account keys it may see (`*` for every account). An actor
without a grant for an account can neither see nor act on it (`require_account`); the console hides it too.

Callers inside the process that are not a signed-in person (the command line — whoever has a shell on the
machine already has the database and the keys —, the scheduler, tests) pass a plain string as the actor and
are trusted; the console always passes an `Actor` built from the signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass

PERMISSIONS = ("view", "export", "sync", "acknowledge", "checks", "link", "mappings", "schedule", "keys", "adopt")
ROLES: dict[str, frozenset[str]] = {
    "support": frozenset(PERMISSIONS),
    "finance": frozenset({"view", "export", "sync", "acknowledge"}),
}
ROLE_LABELS = {"support": ("Support", "Support"), "finance": ("Financiële administratie", "Finance")}

_WHAT = {
    "sync": ("synchroniseren", "run a sync"),
    "acknowledge": ("meldingen afhandelen", "acknowledge alerts"),
    "checks": ("controles uitvoeren", "run checks"),
    "link": ("koppelingen beheren", "manage links"),
    "mappings": ("BTW-, grootboek- en klantkoppelingen wijzigen", "change VAT, ledger and customer mappings"),
    "adopt": ("een boeking in conflict toch overnemen", "adopt a booking in conflict anyway"),
    "schedule": ("het schema wijzigen", "change the schedule"),
    "keys": ("sleutels beheren", "manage keys"),
    "export": ("exporteren", "export"),
    "view": ("bekijken", "view"),
}


EVERY_ACCOUNT = "*"


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    accounts: frozenset[str] = frozenset({EVERY_ACCOUNT})  # the account keys granted; `*` is every account

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; use one of {sorted(ROLES)}")
        object.__setattr__(self, "accounts", frozenset(self.accounts))

    def can(self, permission: str) -> bool:
        return permission in ROLES[self.role]

    def may_open(self, account_key: str) -> bool:
        return EVERY_ACCOUNT in self.accounts or account_key in self.accounts

    def __str__(self) -> str:
        return self.name


class NotAllowed(PermissionError):
    def __init__(self, actor: Actor, permission: str) -> None:
        what_nl, what_en = _WHAT.get(permission, (permission, permission))
        role_nl, role_en = ROLE_LABELS[actor.role]
        self.nl = f"{actor.name} ({role_nl}) mag niet {what_nl}. Vraag iemand van support."
        self.en = f"{actor.name} ({role_en}) may not {what_en}. Ask someone from support."
        super().__init__(self.en)


class AccountNotAllowed(PermissionError):
    """The actor holds no grant for this account. Says the same whether or not the account exists."""

    def __init__(self, actor: Actor, account_key: str) -> None:
        self.account_key = account_key
        self.nl = f"{actor.name} heeft geen toegang tot account ‘{account_key}’."
        self.en = f"{actor.name} has no access to account ‘{account_key}’."
        super().__init__(self.en)


def may_open(actor: Actor | str, account_key: str) -> bool:
    return not isinstance(actor, Actor) or actor.may_open(account_key)


def require_account(actor: Actor | str, account_key: str) -> None:
    if not may_open(actor, account_key):
        assert isinstance(actor, Actor)
        raise AccountNotAllowed(actor, account_key)


def require(actor: Actor | str, permission: str) -> None:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    if isinstance(actor, Actor) and not actor.can(permission):
        raise NotAllowed(actor, permission)


def can(actor: Actor | str, permission: str) -> bool:
    return not isinstance(actor, Actor) or actor.can(permission)


def actor_name(actor: Actor | str) -> str:
    return actor.name if isinstance(actor, Actor) else str(actor)


def authorize(actor: Actor | str, permission: str) -> str:
    """`require`, then the name to record in the audit log."""
    require(actor, permission)
    return actor_name(actor)
