"""Secrets at rest (Gripp token, subscription key, koppelsleutels), encrypted with SYNC_SECRET_KEY.

SYNC_SECRET_KEY may be a Fernet key or any passphrase (stretched with scrypt). In sandbox mode without one, a
key is generated once and kept in a file readable by its owner only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from sync.core.config import Settings, mask

_SALT = b"gripp-snelstart-link/v1"


class VaultError(RuntimeError):
    pass


class Vault:
    def __init__(self, key: str) -> None:
        self._key = _fernet_key(key)
        self._fernet = Fernet(self._key)

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise VaultError("A stored secret cannot be decrypted: was SYNC_SECRET_KEY changed?") from exc

    def fingerprint(self, secret: str) -> str:
        """A stable name for a secret that does not reveal it (keyed with the deployment's key): the same address
        is the same target across restarts, and its name says nothing of its password or token."""
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()[:20]

    @staticmethod
    def hint(secret: str) -> str:
        return mask(secret)

    def __repr__(self) -> str:
        return "Vault(<key hidden>)"


def _fernet_key(key: str) -> bytes:
    raw = key.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (ValueError, TypeError):
        pass
    stretched = hashlib.scrypt(raw, salt=_SALT, n=2**14, r=8, p=1, dklen=32)
    return base64.urlsafe_b64encode(stretched)


def vault_for(settings: Settings) -> Vault:
    if settings.secret_key:
        return Vault(settings.secret_key)
    if not settings.sandbox:
        raise VaultError("SYNC_SECRET_KEY is not set: it is required to store keys when not in sandbox mode.")
    return Vault(_sandbox_key(sandbox_key_file(settings)))


def sandbox_key_file(settings: Settings) -> Path:
    return settings.data_dir / "sandbox-secret.key"


def _sandbox_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # owner-only from the first byte
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
