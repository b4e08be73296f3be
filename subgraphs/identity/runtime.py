"""Long-lived objects of one identity process: password hasher, signing keys, token issuer."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta

from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from subgraphs.identity.config import IdentitySettings
from subgraphs.identity.messaging import Senders, build_senders
from subgraphs.identity.security.passwords import PasswordHasher
from subgraphs.identity.services.attempts import FailureLimits
from subgraphs.identity.services.one_time_codes import CodePolicy
from subgraphs.identity.services.rate_limits import Limit

__all__ = ["IdentityRuntime", "build_runtime", "load_code_secret", "load_signing_keys"]


@dataclass(frozen=True, kw_only=True, slots=True)
class IdentityRuntime:
    settings: IdentitySettings
    hasher: PasswordHasher
    issuer: TokenIssuer
    verifier: TokenVerifier
    senders: Senders
    # Key of the codes' HMAC (IDENTITY_CODE_SECRET; a dev file outside prod).
    code_pepper: bytes

    @property
    def refresh_ttl(self) -> timedelta:
        return timedelta(days=self.settings.refresh_token_ttl_days)

    def limit(self, name: str) -> Limit:
        s = self.settings
        windows = {
            "register_per_ip": (s.register_limit_per_ip, s.register_window_seconds),
            "register_per_account": (s.register_limit_per_ip, s.register_window_seconds),
            "challenge_per_ip": (s.challenge_limit_per_ip, s.challenge_window_seconds),
            "challenge_per_account": (s.challenge_limit_per_address, s.challenge_window_seconds),
            "code_per_ip": (s.code_send_limit_per_ip, s.code_send_window_seconds),
            "code_per_account": (s.code_send_limit_per_destination, s.code_send_window_seconds),
        }
        limit, window = windows[name]
        return Limit(limit=limit, window_seconds=window)

    @property
    def password_limits(self) -> FailureLimits:
        """Failed password checks: login and changePassword share them (the same secret)."""
        s = self.settings
        return FailureLimits(
            per_address=Limit(limit=s.login_limit_per_ip, window_seconds=s.login_window_seconds),
            per_account_address=Limit(
                limit=s.login_limit_per_account_ip, window_seconds=s.login_window_seconds),
            per_account=Limit(
                limit=s.login_limit_per_account, window_seconds=s.login_account_window_seconds),
        )

    @property
    def code_policy(self) -> CodePolicy:
        s = self.settings
        return CodePolicy(ttl=timedelta(seconds=s.code_ttl_seconds),
                          max_attempts=s.code_max_attempts, pepper=self.code_pepper)

    @property
    def code_limits(self) -> FailureLimits:
        """Wrong one-time, TOTP and recovery codes per client address (each code also counts
        its own attempts)."""
        s = self.settings
        return FailureLimits(per_address=Limit(
            limit=s.code_failure_limit_per_ip, window_seconds=s.login_window_seconds))

    @property
    def token_limits(self) -> FailureLimits:
        """Failed checks of high-entropy credentials (refresh tokens, wallet signatures)."""
        s = self.settings
        return FailureLimits(per_address=Limit(
            limit=s.token_failure_limit_per_ip, window_seconds=s.login_window_seconds))


def load_signing_keys(settings: IdentitySettings) -> SigningKeys:
    """The PEM from IDENTITY_SIGNING_KEY_PEM; in dev/test a key generated once under data_dir."""
    pem = settings.signing_key_pem.get_secret_value() if settings.signing_key_pem else None
    try:
        return SigningKeys.load(
            pem=pem,
            path=settings.signing_key_path,
            create=settings.environment != "prod",
        )
    except (ValueError, TypeError) as error:
        raise SystemExit(
            f"invalid IdentitySettings configuration:\n  IDENTITY_SIGNING_KEY_PEM: {error}"
        ) from None


def load_code_secret(settings: IdentitySettings) -> bytes:
    """IDENTITY_CODE_SECRET, else (dev/test; settings require it in prod) a secret generated once
    under data_dir, so recovery codes survive restarts."""
    if settings.code_secret is not None:
        secret = settings.code_secret.get_secret_value()
    else:
        path = settings.code_secret_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process of this checkout created it first
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(32))
        secret = path.read_text().strip()
    return hashlib.sha256(b"tributary-identity-codes\0" + secret.encode()).digest()


def build_runtime(
    settings: IdentitySettings, *, keys: SigningKeys | None = None, senders: Senders | None = None
) -> IdentityRuntime:
    keys = keys or load_signing_keys(settings)
    issuer = TokenIssuer(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_ttl=settings.access_token_ttl_seconds,
    )
    return IdentityRuntime(
        settings=settings,
        hasher=PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        ),
        issuer=issuer,
        verifier=TokenVerifier.for_issuer(issuer),
        senders=senders or build_senders(settings),
        code_pepper=load_code_secret(settings),
    )
