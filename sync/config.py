"""Settings, read from environment variables (and, for the console, `.streamlit/secrets.toml`).

With no Gripp or SnelStart setting at all, everything runs in sandbox mode against the built-in simulators.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sync.snelstart.constants import tier as snelstart_tier

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"

# The names operators and scripts rely on (documented in README.md).
SETTING_NAMES = (
    "GRIPP_API_URL",
    "GRIPP_API_TOKEN",
    "SNELSTART_API_URL",
    "SNELSTART_AUTH_URL",
    "SNELSTART_SUBSCRIPTION_KEY",
    "SNELSTART_WEB_URL",
    "SNELSTART_APP_SHORT_NAME",
    "CONSOLE_PUBLIC_URL",
    "SYNC_DB_PATH",
    "SYNC_SECRET_KEY",
    "SNELSTART_TIER",
)
# Any of these set means "real services": sandbox mode is only for a machine with none of them.
_SERVICE_SETTINGS = SETTING_NAMES[:7]

REAL_DEFAULTS = {
    "GRIPP_API_URL": "https://api.gripp.com/public/api3.php",
    "SNELSTART_API_URL": "https://b2bapi.snelstart.nl/v2",
    "SNELSTART_AUTH_URL": "https://auth.snelstart.nl",
    "SNELSTART_WEB_URL": "https://web.snelstart.nl",
}

# In sandbox mode the simulators live under the console's own address (`/sandbox/...`), so the browser can
# reach the simulated SnelStart activation page; in-process callers reach the same handlers without a socket.
SANDBOX_PREFIX = "/sandbox"
SANDBOX_GRIPP_TOKEN = "sandbox-gripp-token-0001"
SANDBOX_SUBSCRIPTION_KEY = "sandbox-subscription-key-0001"
SANDBOX_APP_SHORT_NAME = "gripp-sandbox"


@dataclass(frozen=True)
class Settings:
    gripp_api_url: str
    gripp_api_token: str | None
    snelstart_api_url: str
    snelstart_auth_url: str
    snelstart_subscription_key: str | None
    snelstart_web_url: str
    snelstart_app_short_name: str
    console_public_url: str
    db_path: Path
    secret_key: str | None
    sandbox: bool
    snelstart_tier: str = "test"  # test | production: the per-administration rate limits the client paces to
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    @property
    def sandbox_state_path(self) -> Path:
        return self.data_dir / "sandbox-state.json"

    def __repr__(self) -> str:  # never print secrets
        return (
            f"Settings(sandbox={self.sandbox}, gripp_api_url={self.gripp_api_url!r}, "
            f"snelstart_api_url={self.snelstart_api_url!r}, db_path={str(self.db_path)!r})"
        )


def load_settings(env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None) -> Settings:
    """Environment variables win over secrets.toml values; unset means default."""
    env = dict(os.environ if env is None else env)
    merged: dict[str, str] = {}
    for name in SETTING_NAMES:
        value = env.get(name)
        if value in (None, "") and secrets is not None and secrets.get(name) not in (None, ""):
            value = str(secrets.get(name))
        if value not in (None, ""):
            merged[name] = str(value).strip()

    sandbox = not any(name in merged for name in _SERVICE_SETTINGS)
    public = merged.get("CONSOLE_PUBLIC_URL", "http://localhost:8501").rstrip("/")
    db_path = Path(merged.get("SYNC_DB_PATH", str(DEFAULT_DATA_DIR / "sync.duckdb"))).expanduser()

    if sandbox:
        base = public + SANDBOX_PREFIX
        defaults = {
            "GRIPP_API_URL": f"{base}/gripp/public/api3.php",
            "GRIPP_API_TOKEN": SANDBOX_GRIPP_TOKEN,
            "SNELSTART_API_URL": f"{base}/snelstart/api/v2",
            "SNELSTART_AUTH_URL": f"{base}/snelstart/auth",
            "SNELSTART_SUBSCRIPTION_KEY": SANDBOX_SUBSCRIPTION_KEY,
            "SNELSTART_WEB_URL": f"{base}/snelstart/web",
            "SNELSTART_APP_SHORT_NAME": SANDBOX_APP_SHORT_NAME,
        }
    else:
        defaults = dict(REAL_DEFAULTS)

    def pick(name: str, default: str | None = None) -> str | None:
        return merged.get(name, defaults.get(name, default))

    return Settings(
        gripp_api_url=str(pick("GRIPP_API_URL")),
        gripp_api_token=pick("GRIPP_API_TOKEN"),
        snelstart_api_url=str(pick("SNELSTART_API_URL")).rstrip("/"),
        snelstart_auth_url=str(pick("SNELSTART_AUTH_URL")).rstrip("/"),
        snelstart_subscription_key=pick("SNELSTART_SUBSCRIPTION_KEY"),
        snelstart_web_url=str(pick("SNELSTART_WEB_URL")).rstrip("/"),
        snelstart_app_short_name=str(pick("SNELSTART_APP_SHORT_NAME", "")),
        console_public_url=public,
        db_path=db_path,
        secret_key=merged.get("SYNC_SECRET_KEY"),
        sandbox=sandbox,
        snelstart_tier=snelstart_tier(merged.get("SNELSTART_TIER") or ("sandbox" if sandbox else None)).name,
    )


def mask(secret: str | None) -> str:
    """Show a secret as its last four characters only (`…ab12`)."""
    if not secret:
        return "—"
    return "…" + secret[-4:] if len(secret) > 8 else "…"
