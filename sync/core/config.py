"""Settings: one resolution for the console and the command line, decided and validated once at start.

Every setting is looked up in the environment first, then in `.streamlit/secrets.toml` (the working directory's,
else the project's); empty counts as unset. With no Gripp or SnelStart setting at all, everything runs in sandbox
mode against the built-in simulators. Wrong values are refused at start with one line per value (`ConfigError`),
never discovered later as an outage or a traceback. New settings (and, later, one set per account) belong here.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from sync.core.explained import RECORDED
from sync.core.pacing import TIER_ALIASES, TIERS
from sync.core.pacing import tier as snelstart_tier
from sync.core.targets import BadTarget, split_targets
from sync.core.targets import parse as parse_target
from sync.core.words import N_, Msg, say

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
SECRETS_FILE = Path(".streamlit") / "secrets.toml"

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
    "SYNC_CATALOG_PATH",
    "SYNC_MAX_CONCURRENT_RUNS",
    "SYNC_ACCOUNT",
    "SYNC_TRUSTED_PROXIES",
    "SYNC_MAX_INVOICE_TOTAL",
    "SYNC_NOTIFY_FAILURES_IN_ROW",
    "SYNC_NOTIFY_URLS",
    "SYNC_NOTIFY_DIGEST_HOUR",
    "SYNC_NOTIFY_DIGEST_ALWAYS",
    "SYNC_DATABASE_URL",
)
# Any of these set means "real services": sandbox mode is only for a machine with none of them.
_SERVICE_SETTINGS = SETTING_NAMES[:7]
_URL_SETTINGS = ("GRIPP_API_URL", "SNELSTART_API_URL", "SNELSTART_AUTH_URL", "SNELSTART_WEB_URL", "CONSOLE_PUBLIC_URL")
# Real services cannot work without these; saying so at start beats a failure on the first sync. (The Gripp API
# key is an account's: GRIPP_API_TOKEN only configures the account of a deployment set up the old way.)
_REQUIRED_FOR_REAL = ("SNELSTART_SUBSCRIPTION_KEY", "SYNC_SECRET_KEY")
DEFAULT_MAX_CONCURRENT_RUNS = 4
# Automatic runs failing in a row that are announced as a problem of their own (beside "the last one failed").
DEFAULT_NOTIFY_FAILURES_IN_ROW = 3
MAX_NOTIFY_FAILURES_IN_ROW = 100
MAX_CONCURRENT_RUNS = 64
MIN_SECRET_KEY_LENGTH = 16
# An invoice above this total is blocked until a person says it is meant (per identity; this is the default). High
# enough for any invoice of the firms Gripp serves, low enough to stop a typo's 10¹² × € 12,34.
DEFAULT_MAX_INVOICE_TOTAL = Decimal("1000000.00")
DEFAULT_DIGEST_HOUR = 8  # the daily digest goes out at this hour, Amsterdam time
_YES, _NO = ("1", "true", "yes", "ja", "on"), ("0", "false", "no", "nee", "off")
_AMOUNT = re.compile(r"^\d{1,15}(?:[.,]\d{1,2})?$")  # euros, a decimal point or comma, no grouping

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


class ConfigError(ValueError):
    """The settings cannot be used; `problems` has one message per wrong value, for the operator (`lines(lang)`
    says them; the exception's own text is them in English, for logs)."""

    def __init__(self, problems: Sequence[Msg]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.lines("en")))

    def lines(self, lang: str) -> list[str]:
        return [say(problem, lang) for problem in self.problems]


class _Wrong(ValueError):
    """A value a validator refuses, with why (pydantic hands the exception back in its error's context)."""

    def __init__(self, why: Msg) -> None:
        super().__init__(why.key)
        self.why = why


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
    catalog_path: Path | None = None  # None: catalog.duckdb beside the database
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS  # syncs at once in this process, over every account
    default_account: str | None = None  # the account commands and pages use when none is named (SYNC_ACCOUNT)
    # The proxies whose X-Forwarded-For is believed (addresses and networks, SYNC_TRUSTED_PROXIES); none by default:
    # then the address that connected is the client's.
    trusted_proxies: tuple[str, ...] = ()
    max_invoice_total: Decimal = DEFAULT_MAX_INVOICE_TOTAL  # for identities without a ceiling of their own
    notify_failures_in_row: int = DEFAULT_NOTIFY_FAILURES_IN_ROW  # SYNC_NOTIFY_FAILURES_IN_ROW (sync.jobs.watch)
    # The support team's notification targets (SYNC_NOTIFY_URLS, Apprise URLs with `lang=`): secrets, never shown.
    notify_urls: tuple[str, ...] = field(default=(), repr=False)
    notify_digest_hour: int = DEFAULT_DIGEST_HOUR  # the daily digest's hour, Amsterdam time
    notify_digest_always: bool = False  # also a digest on a day when all is well
    extra: Mapping[str, str] = field(default_factory=dict, repr=False)
    # The shared Postgres of a deployment on several nodes (SYNC_DATABASE_URL): the catalog lives there. It may
    # hold a password: never shown whole (`sync.store.pg.shown_url`).
    database_url: str | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.db_path.parent

    @property
    def sandbox_state_path(self) -> Path:
        return self.data_dir / "sandbox-state.json"

    @property
    def catalog_file(self) -> Path:
        """The deployment's catalog of accounts (`SYNC_CATALOG_PATH`, default beside the database)."""
        return self.catalog_path or self.data_dir / "catalog.duckdb"

    @property
    def accounts_dir(self) -> Path:
        """Where added accounts get their own database file (`<key>.duckdb`)."""
        return self.catalog_file.parent / "accounts"

    def __repr__(self) -> str:  # never print secrets
        return (
            f"Settings(sandbox={self.sandbox}, gripp_api_url={self.gripp_api_url!r}, "
            f"snelstart_api_url={self.snelstart_api_url!r}, db_path={str(self.db_path)!r})"
        )


def is_web_address(value: str) -> bool:
    """A full http(s) address with a host and no spaces: what a service's address setting must be."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(c.isspace() for c in value)


def is_postgres_url(value: str) -> bool:
    """A Postgres connection address (`postgresql://…`), as SYNC_DATABASE_URL must be."""
    return value.startswith(("postgresql://", "postgres://"))


class _Given(BaseModel):
    """The values as given (environment over secrets.toml), checked one by one; None is unset."""

    model_config = ConfigDict(frozen=True)

    GRIPP_API_URL: str | None = None
    GRIPP_API_TOKEN: str | None = None
    SNELSTART_API_URL: str | None = None
    SNELSTART_AUTH_URL: str | None = None
    SNELSTART_SUBSCRIPTION_KEY: str | None = None
    SNELSTART_WEB_URL: str | None = None
    SNELSTART_APP_SHORT_NAME: str | None = None
    CONSOLE_PUBLIC_URL: str | None = None
    SYNC_DB_PATH: str | None = None
    SYNC_SECRET_KEY: str | None = None
    SNELSTART_TIER: str | None = None
    SYNC_CATALOG_PATH: str | None = None
    SYNC_MAX_CONCURRENT_RUNS: str | None = None
    SYNC_ACCOUNT: str | None = None
    SYNC_TRUSTED_PROXIES: str | None = None
    SYNC_MAX_INVOICE_TOTAL: str | None = None
    SYNC_NOTIFY_FAILURES_IN_ROW: str | None = None
    SYNC_NOTIFY_URLS: str | None = None
    SYNC_NOTIFY_DIGEST_HOUR: str | None = None
    SYNC_NOTIFY_DIGEST_ALWAYS: str | None = None
    SYNC_DATABASE_URL: str | None = None

    @field_validator(*_URL_SETTINGS)
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not is_web_address(value):
            raise _Wrong(Msg(N_("config.not_a_web_address"), value=value))
        return value

    @field_validator("SNELSTART_TIER")
    @classmethod
    def _known_tier(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in {*TIERS, *TIER_ALIASES} - {"sandbox"}:
            raise _Wrong(Msg(N_("config.unknown_tier"), value=value))
        return value

    @field_validator("SYNC_MAX_CONCURRENT_RUNS")
    @classmethod
    def _a_small_number(cls, value: str | None) -> str | None:
        if value is not None and not (value.isdigit() and 1 <= int(value) <= MAX_CONCURRENT_RUNS):
            raise _Wrong(Msg(N_("config.runs_at_once"), value=value, most=MAX_CONCURRENT_RUNS))
        return value

    @field_validator("SYNC_NOTIFY_FAILURES_IN_ROW")
    @classmethod
    def _failures_in_row(cls, value: str | None) -> str | None:
        if value is not None and not (value.isdigit() and 2 <= int(value) <= MAX_NOTIFY_FAILURES_IN_ROW):
            raise _Wrong(Msg(N_("config.failures_in_row"), value=value, most=MAX_NOTIFY_FAILURES_IN_ROW))
        return value

    @field_validator("SYNC_DB_PATH", "SYNC_CATALOG_PATH")
    @classmethod
    def _database_file(cls, value: str | None) -> str | None:
        if value is not None and Path(value).expanduser().is_dir():
            raise _Wrong(Msg(N_("config.is_a_folder"), value=value))
        return value

    @field_validator("SYNC_TRUSTED_PROXIES")
    @classmethod
    def _proxy_addresses(cls, value: str | None) -> str | None:
        if value is not None:
            for item in proxy_items(value):
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise _Wrong(Msg(N_("config.not_a_proxy_address"), value=item)) from None
        return value

    @field_validator("SYNC_MAX_INVOICE_TOTAL")
    @classmethod
    def _an_amount(cls, value: str | None) -> str | None:
        if value is not None and (not _AMOUNT.match(value) or not amount_of(value) > 0):
            raise _Wrong(Msg(N_("config.not_an_amount"), value=value))
        return value

    @field_validator("SYNC_NOTIFY_URLS")
    @classmethod
    def _notify_targets(cls, value: str | None) -> str | None:
        if value is not None:
            for number, item in enumerate(split_targets(value), start=1):
                try:
                    parse_target(item)
                except BadTarget as wrong:  # the target is named by its place: the address may hold a password
                    raise _Wrong(Msg(N_("config.bad_notify_target"), number=number, why=wrong.why)) from None
        return value

    @field_validator("SYNC_NOTIFY_DIGEST_HOUR")
    @classmethod
    def _an_hour(cls, value: str | None) -> str | None:
        if value is not None and not (value.isdigit() and 0 <= int(value) <= 23):
            raise _Wrong(Msg(N_("config.not_an_hour"), value=value))
        return value

    @field_validator("SYNC_NOTIFY_DIGEST_ALWAYS")
    @classmethod
    def _yes_or_no(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in (*_YES, *_NO):
            raise _Wrong(Msg(N_("config.not_yes_or_no"), value=value))
        return value

    @field_validator("SYNC_DATABASE_URL")
    @classmethod
    def _postgres_address(cls, value: str | None) -> str | None:
        # The value is not repeated in the message: it may hold the password.
        if value is not None and not (is_postgres_url(value) and not any(c.isspace() for c in value)):
            raise _Wrong(Msg(N_("config.not_a_postgres_url")))
        return value

    @field_validator("SYNC_SECRET_KEY")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_KEY_LENGTH:
            raise _Wrong(Msg(N_("config.secret_key_too_short"), least=MIN_SECRET_KEY_LENGTH))
        return value



def proxy_items(value: str) -> list[str]:
    """`10.0.0.1, 192.168.0.0/16 ::1`: the addresses and networks of SYNC_TRUSTED_PROXIES."""
    return [item for item in re.split(r"[\s,]+", value) if item]


def amount_of(value: str) -> Decimal:
    """A checked amount setting (`250000`, `250000.50` or `250000,50`) as euros."""
    return Decimal(value.replace(",", "."))


def _problems(error: ValidationError) -> list[Msg]:
    found = []
    for item in error.errors():
        wrong = item.get("ctx", {}).get("error")
        why = wrong.why if isinstance(wrong, _Wrong) else Msg(RECORDED, text=str(item["msg"]))  # pydantic's own
        name = ".".join(str(part) for part in item["loc"])
        found.append(Msg(N_("config.problem"), name=name, why=why) if name else why)
    return found


def secrets_file() -> Path | None:
    """The `.streamlit/secrets.toml` in use: the working directory's, else the project's (where `make run` runs)."""
    for folder in (Path.cwd(), PROJECT_ROOT):
        path = folder / SECRETS_FILE
        if path.is_file():
            return path
    return None


def read_secrets(path: Path | None = None) -> dict[str, object]:
    """The secrets file's values ({} when there is none). A file that cannot be read or parsed is a
    `ConfigError` naming the file and the line, never a traceback."""
    path = path or secrets_file()
    if path is None:
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([Msg(N_("config.secrets_not_toml"), path=str(path), detail=str(exc))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Msg(N_("config.secrets_unreadable"), path=str(path),
                               detail=str(getattr(exc, "strerror", None) or exc))]) from None


def resolve_settings(env: Mapping[str, str] | None = None, secrets_path: Path | None = None) -> Settings:
    """The settings of this process: environment first, then secrets.toml. Raises `ConfigError`."""
    return load_settings(env, read_secrets(secrets_path))


def sandbox_services(public_url: str) -> dict[str, str]:
    """The service settings that reach the sandbox mounted below `public_url` (the console's address)."""
    base = public_url.rstrip("/") + SANDBOX_PREFIX
    return {
        "GRIPP_API_URL": f"{base}/gripp/public/api3.php",
        "GRIPP_API_TOKEN": SANDBOX_GRIPP_TOKEN,
        "SNELSTART_API_URL": f"{base}/snelstart/api/v2",
        "SNELSTART_AUTH_URL": f"{base}/snelstart/auth",
        "SNELSTART_SUBSCRIPTION_KEY": SANDBOX_SUBSCRIPTION_KEY,
        "SNELSTART_WEB_URL": f"{base}/snelstart/web",
    }


def load_settings(env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None) -> Settings:
    """Environment variables win over secrets.toml values; unset means default. Raises `ConfigError`."""
    env = dict(os.environ if env is None else env)
    merged: dict[str, str] = {}
    for name in SETTING_NAMES:
        value: object = env.get(name)
        if value in (None, "") and secrets is not None and secrets.get(name) not in (None, ""):
            value = secrets.get(name)
        if value not in (None, "") and str(value).strip():
            merged[name] = str(value).strip()
    sandbox = not any(name in merged for name in _SERVICE_SETTINGS)
    problems: list[Msg] = []
    try:
        _Given(**merged)
    except ValidationError as exc:
        problems += _problems(exc)
    if not sandbox:
        problems += [Msg(N_("config.problem"), name=name, why=Msg(N_("config.required_for_real")))
                     for name in _REQUIRED_FOR_REAL if name not in merged]
    if "SYNC_DATABASE_URL" in merged and "SYNC_SECRET_KEY" not in merged:
        # Every node must open every account's koppelsleutels: one key for all, not each node's sandbox key file.
        problems.append(Msg(N_("config.problem"), name="SYNC_SECRET_KEY", why=Msg(N_("config.required_for_nodes"))))
    if problems:
        raise ConfigError(problems)

    public = merged.get("CONSOLE_PUBLIC_URL", "http://localhost:8501").rstrip("/")
    db_path = Path(merged.get("SYNC_DB_PATH", str(DEFAULT_DATA_DIR / "sync.duckdb"))).expanduser()

    if sandbox:
        defaults = {**sandbox_services(public), "SNELSTART_APP_SHORT_NAME": SANDBOX_APP_SHORT_NAME}
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
        catalog_path=Path(merged["SYNC_CATALOG_PATH"]).expanduser() if "SYNC_CATALOG_PATH" in merged else None,
        max_concurrent_runs=int(merged.get("SYNC_MAX_CONCURRENT_RUNS", DEFAULT_MAX_CONCURRENT_RUNS)),
        default_account=merged.get("SYNC_ACCOUNT"),
        trusted_proxies=tuple(str(ipaddress.ip_network(item, strict=False))
                              for item in proxy_items(merged.get("SYNC_TRUSTED_PROXIES", ""))),
        max_invoice_total=(amount_of(merged["SYNC_MAX_INVOICE_TOTAL"]).quantize(Decimal("0.01"))
                           if "SYNC_MAX_INVOICE_TOTAL" in merged else DEFAULT_MAX_INVOICE_TOTAL),
        notify_failures_in_row=int(merged.get("SYNC_NOTIFY_FAILURES_IN_ROW", DEFAULT_NOTIFY_FAILURES_IN_ROW)),
        notify_urls=tuple(split_targets(merged.get("SYNC_NOTIFY_URLS", ""))),
        notify_digest_hour=int(merged.get("SYNC_NOTIFY_DIGEST_HOUR", DEFAULT_DIGEST_HOUR)),
        notify_digest_always=merged.get("SYNC_NOTIFY_DIGEST_ALWAYS", "no").lower() in _YES,
        database_url=merged.get("SYNC_DATABASE_URL"),
    )


def mask(secret: str | None) -> str:
    """Show a secret as its last four characters only (`…ab12`)."""
    if not secret:
        return "—"
    return "…" + secret[-4:] if len(secret) > 8 else "…"
