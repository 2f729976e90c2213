"""Console users when no OIDC provider is configured: names with hashed passwords and a role, from
`.streamlit/secrets.toml` (`[users.NAME] password_hash = "…", role = "support"|"finance"`, and the accounts
granted: `accounts = ["acme"]` or `["*"]` for every account — see `grants`).

`python -m sync hash-password` prints a hash to paste there; passwords are never stored or logged in clear.
bcrypt reads at most 72 bytes, so a password is first reduced to its SHA-256 (base64, 44 bytes): every byte of a
long password counts, and nothing raises. Those hashes start with `bcrypt-sha256$`; plain bcrypt hashes (`$2b$…`,
made before) still work, as bcrypt always read them: the first 72 bytes.

An unknown name costs the same bcrypt work as a wrong password (a dummy hash of the same cost), and both get the
same answer: nobody learns which names exist.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import bcrypt

from sync.auth.access import EVERY_ACCOUNT, ROLES, Actor
from sync.store.catalog import DEFAULT_ACCOUNT

PREHASHED = "bcrypt-sha256$"
BCRYPT_MAX_BYTES = 72
DEFAULT_COST = 12


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: str
    accounts: frozenset[str] = frozenset()

    @property
    def cost(self) -> int:
        return _cost(self.password_hash)

    def actor(self) -> Actor:
        return Actor(self.name, self.role, self.accounts)


def grants(role: str, given: object) -> frozenset[str]:
    """The accounts a user may see: the list given (`["acme"]`, `["*"]` for all); without one, what a deployment
    from before accounts meant — support every account, finance the `default` one (the old deployment's)."""
    if isinstance(given, str):
        given = [given]
    if isinstance(given, list | tuple):
        return frozenset(str(key).strip() for key in given if str(key).strip())
    return frozenset({EVERY_ACCOUNT}) if role == "support" else frozenset({DEFAULT_ACCOUNT})


def users_from(secrets: Mapping[str, object]) -> dict[str, User]:
    table = secrets.get("users") or {}
    found: dict[str, User] = {}
    if not isinstance(table, Mapping):
        return found
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            continue
        role, password_hash = str(entry.get("role", "")), str(entry.get("password_hash", ""))
        if role in ROLES and _cost(password_hash):
            found[str(name)] = User(str(name), password_hash, role, grants(role, entry.get("accounts")))
    return found


def hash_password(password: str) -> str:
    return PREHASHED + bcrypt.hashpw(_prehash(password), bcrypt.gensalt(DEFAULT_COST)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    """Does `password` match the stored hash (either kind)? Never raises for any password."""
    if password_hash.startswith(PREHASHED):
        return bcrypt.checkpw(_prehash(password), password_hash[len(PREHASHED):].encode())
    return bcrypt.checkpw(password.encode()[:BCRYPT_MAX_BYTES], password_hash.encode())


def authenticate(users: Mapping[str, User], name: str, password: str) -> Actor | None:
    user = users.get(name)
    if user is None:
        cost = max((u.cost for u in users.values()), default=DEFAULT_COST)
        verify_password(password, _dummy_hash(cost))  # the same work whether or not the name exists
        return None
    if verify_password(password, user.password_hash):
        return user.actor()
    return None


def _prehash(password: str) -> bytes:
    # base64 because bcrypt stops at a NUL byte, which a raw digest may contain.
    return base64.b64encode(hashlib.sha256(password.encode()).digest())


def _cost(password_hash: str) -> int:
    """The bcrypt cost of a stored hash; 0 when it is not a bcrypt hash at all."""
    parts = password_hash.removeprefix(PREHASHED).split("$")
    if len(parts) == 4 and parts[0] == "" and parts[1] in ("2a", "2b", "2y") and parts[2].isdigit():
        return int(parts[2]) if 4 <= int(parts[2]) <= 31 else 0
    return 0


@functools.cache
def _dummy_hash(cost: int) -> str:
    return PREHASHED + bcrypt.hashpw(b"no such user", bcrypt.gensalt(cost)).decode()
