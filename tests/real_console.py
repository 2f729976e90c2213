"""A console on real (non-sandbox) settings, as an operator runs it: `python -m console` in a folder whose
`.streamlit/secrets.toml` holds the settings and the users. The services' addresses lead nowhere (port 9 on
loopback refuses): nothing is linked, so nothing calls them; only sign-in and the pages are exercised.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import bcrypt

from tests import console_helpers as helpers

NOWHERE = "http://127.0.0.1:9"
REAL_SETTINGS = {
    "GRIPP_API_URL": f"{NOWHERE}/public/api3.php",
    "GRIPP_API_TOKEN": "real-gripp-token-never-sent",
    "SNELSTART_API_URL": f"{NOWHERE}/v2",
    "SNELSTART_AUTH_URL": NOWHERE,
    "SNELSTART_WEB_URL": NOWHERE,
    "SNELSTART_SUBSCRIPTION_KEY": "real-subscription-key-never-sent",
    "SYNC_SECRET_KEY": "a passphrase for the real test console",
}
PASSWORDS = {"sanne": "support-wachtwoord", "femke": "finance-wachtwoord"}
ROLES = {"sanne": "support", "femke": "finance"}


def plain_hash(password: str) -> str:
    """A plain bcrypt hash (the format every version reads), at the lowest cost to keep tests fast."""
    return bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()


def users_table(names: tuple[str, ...] = ("sanne", "femke")) -> dict[str, dict[str, str]]:
    return {name: {"password_hash": plain_hash(PASSWORDS[name]), "role": ROLES[name]} for name in names}


def secrets_toml(settings: Mapping[str, str] | None = None, users: Mapping[str, Mapping[str, str]] | None = None,
                 extra: str = "") -> str:
    lines = [f"{name} = {json.dumps(value)}" for name, value in (REAL_SETTINGS if settings is None
                                                                else settings).items()]
    for name, entry in (users or {}).items():
        lines += ["", f"[users.{name}]", *(f"{k} = {json.dumps(v)}" for k, v in entry.items())]
    return "\n".join(lines) + "\n" + extra


def deployment(folder: Path, secrets: str) -> Path:
    """`folder` as a deployment: the project's Streamlit config and the given secrets.toml. Its secrets file."""
    streamlit = folder / ".streamlit"
    streamlit.mkdir(parents=True, exist_ok=True)
    shutil.copy(helpers.ROOT / ".streamlit" / "config.toml", streamlit / "config.toml")
    path = streamlit / "secrets.toml"
    path.write_text(secrets, encoding="utf-8")
    return path


def start(folder: Path, secrets: str):  # -> context manager of a healthy helpers.Server
    """A real console serving from `folder` (its database there too)."""
    deployment(folder, secrets)
    return helpers.healthy_server(folder, cwd=folder)
