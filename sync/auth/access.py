"""Who may do what. Two roles: *support* (everything) and *finance* (open items, exports, sync now, acknowledge
alerts, confirm that a booked invoice was deleted in Gripp on purpose; no linking, mappings, checks, schedule, keys
or adopting a conflicting booking). Enforced in the use cases; the console only hides what a role cannot use, it is
not the guard. `audit` (the event log by who did it) is only a view: it narrows a log whose export already names
who did what, so the console alone offers it.

Roles are granted per account: an `Actor` holds the account keys it may see (`*` for every account). An actor
without a grant for an account can neither see nor act on it (`require_account`); the console hides it too.

Callers inside the process that are not a signed-in person (the command line — whoever has a shell on the
machine already has the database and the keys —, the scheduler, tests) pass a plain string as the actor and
are trusted; the console always passes an `Actor` built from the signed-in user.
"""

from __future__ import annotations

from dataclasses import dataclass

from sync.core.explained import Explained
from sync.core.words import N_, Msg

PERMISSIONS = ("view", "export", "sync", "acknowledge", "confirm_gone", "checks", "link", "mappings", "schedule",
               "keys", "adopt", "audit")
ROLES: dict[str, frozenset[str]] = {
    "support": frozenset(PERMISSIONS),
    # confirm_gone: an invoice booked and then deleted in Gripp was deleted on purpose — a bookkeeper's call
    "finance": frozenset({"view", "export", "sync", "acknowledge", "confirm_gone"}),
}
# How every surface names a role, and what a permission lets one do (catalog keys).
ROLE_LABELS = {"support": N_("role.support"), "finance": N_("role.finance")}

_WHAT = {
    "sync": N_("permission.sync"),
    "acknowledge": N_("permission.acknowledge"),
    "confirm_gone": N_("permission.confirm_gone"),
    "checks": N_("permission.checks"),
    "link": N_("permission.link"),
    "mappings": N_("permission.mappings"),
    "adopt": N_("permission.adopt"),
    "schedule": N_("permission.schedule"),
    "keys": N_("permission.keys"),
    "export": N_("permission.export"),
    "view": N_("permission.view"),
    "audit": N_("permission.audit"),
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


class NotAllowed(Explained, PermissionError):
    """The actor's role does not allow this; `message` says who may not do what."""

    def __init__(self, actor: Actor, permission: str) -> None:
        self.permission = permission
        super().__init__(Msg(N_("error.not_allowed"), name=actor.name, role=Msg(ROLE_LABELS[actor.role]),
                             what=Msg(_WHAT[permission])), code="not_allowed")


class AccountNotAllowed(Explained, PermissionError):
    """The actor holds no grant for this account. Says the same whether or not the account exists."""

    def __init__(self, actor: Actor, account_key: str) -> None:
        self.account_key = account_key
        super().__init__(Msg(N_("error.account_not_allowed"), name=actor.name, account=account_key),
                         code="account_not_allowed")


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
