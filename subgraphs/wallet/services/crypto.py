"""AES-256-GCM encryption of tip messages, with key ids so keys can rotate."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KeyRing", "load_keyring"]

_NONCE = 12
_DEV_KEY_FILE = "wallet_encryption.key"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Keys by id; `active` encrypts, every key decrypts (old ciphertexts stay readable)."""

    keys: dict[str, bytes]
    active: str

    def __post_init__(self) -> None:
        assert self.active in self.keys, "the active key must be in the ring"
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise ValueError(f"encryption key {kid!r} must be 32 bytes (AES-256)")

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """`kid:base64key,kid2:base64key2` -> ring whose first key is active."""
        keys: dict[str, bytes] = {}
        for item in spec.split(","):
            kid, sep, b64 = item.strip().partition(":")
            if not sep or not kid or not b64:
                raise ValueError("WALLET_ENCRYPTION_KEYS must look like kid:base64key,...")
            try:
                keys[kid] = base64.b64decode(b64, validate=True)
            except ValueError:
                raise ValueError(f"encryption key {kid!r} is not valid base64") from None
        return cls(keys=keys, active=next(iter(keys)))

    def encrypt(self, plaintext: str, *, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.keys[self.active]).encrypt(nonce, plaintext.encode(), aad)
        return self.active, nonce + sealed

    def decrypt(self, kid: str, blob: bytes, *, aad: bytes) -> str | None:
        """The plaintext, or None if the key is gone or the ciphertext was tampered with."""
        key = self.keys.get(kid)
        if key is None:
            return None
        try:
            return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], aad).decode()
        except (InvalidTag, ValueError):
            return None


def load_keyring(spec: str | None, *, environment: str, data_dir: str) -> KeyRing:
    """Keys from the environment; outside prod, a generated key persisted under data_dir."""
    if spec:
        return KeyRing.parse(spec)
    if environment == "prod":
        raise SystemExit("WALLET_ENCRYPTION_KEYS is required in prod (kid:base64key,...)")
    path = Path(data_dir) / _DEV_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        # 0600: the dev key protects real-looking data on a developer's disk.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"dev-{secrets.token_hex(4)}:{key}\n")
    return KeyRing.parse(path.read_text().strip())
