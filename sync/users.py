"""Console users when no OIDC provider is configured: names with bcrypt-hashed passwords and a role, from
`.streamlit/secrets.toml` (`[users.NAME] password_hash = "…", role = "support"|"finance"`).

`python -m sync hash-password` prints a hash to paste there; passwords are never stored or logged in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import bcrypt

from sync.access import ROLES, Actor


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    role: str


def users_from(secrets: Mapping[str, object]) -> dict[str, User]:
    table = secrets.get("users") or {}
    found: dict[str, User] = {}
    if not isinstance(table, Mapping):
        return found
    for name, entry in table.items():
        if not isinstance(entry, Mapping):
            continue
        role, password_hash = str(entry.get("role", "")), str(entry.get("password_hash", ""))
        if role in ROLES and password_hash.startswith("$2"):
            found[str(name)] = User(str(name), password_hash, role)
    return found


_DUMMY_HASH = bcrypt.hashpw(b"equaliser", bcrypt.gensalt())


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def authenticate(users: Mapping[str, User], name: str, password: str) -> Actor | None:
    user = users.get(name)
    if user is None:
        bcrypt.checkpw(b"timing", _DUMMY_HASH)  # the same work whether or not the name exists
        return None
    if bcrypt.checkpw(password.encode(), user.password_hash.encode()):
        return Actor(user.name, user.role)
    return None
