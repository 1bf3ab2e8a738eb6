"""Encryption of ID numbers at rest (Fernet, from ``cryptography``) and a keyed blind index
(HMAC-SHA256) so a duplicate ID number is found without decrypting every row."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet


class DataCipher:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        self._index_key = hashlib.sha256(b"kcbx-blind-index:" + key.encode()).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def blind_index(self, value: str) -> str:
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


API_KEY_PREFIX = "kcbx"


def new_api_key() -> tuple[str, str, str]:
    """Return (the key shown once, its lookup prefix, the hash to store)."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_prefix(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    return parts[1]
