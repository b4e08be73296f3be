"""Settings of the identity subgraph (environment prefix IDENTITY_)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings

__all__ = ["IdentitySettings"]

_DEV_WALLET_DOMAIN = "tributary.local"
_AUTHORITY = re.compile(r"[A-Za-z0-9.-]{1,100}(:[0-9]{1,5})?")
# Reserved or local names (RFC 2606, RFC 6761, mDNS) and the deploy files' CHANGE-ME examples.
_PLACEHOLDER_SUFFIXES = (".local", ".localhost", ".test", ".example", ".invalid", ".internal",
                         "example.com", "example.net", "example.org")


def _placeholder(host: str) -> bool:
    host = host.lower().split(":", 1)[0].rstrip(".")
    return (host in ("", "localhost", "127.0.0.1", "0.0.0.0", "::1") or "change-me" in host
            or host.endswith(_PLACEHOLDER_SUFFIXES))


class IdentitySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore")

    service_name: str = Field("identity", description="Name used in logs, metrics and traces.")
    port: int = Field(4101, description="TCP port the HTTP server binds.")

    signing_key_pem: SecretStr | None = Field(
        None,
        description="Ed25519 private key (PKCS#8 PEM) signing access tokens; required in prod. "
        "In dev/test it is generated once into <data_dir>/identity-signing-key.pem.",
    )
    code_secret: SecretStr | None = Field(
        None,
        description="Key (at least 32 characters) of the HMAC over one-time and recovery codes; "
        "required in prod. Changing it invalidates recovery codes. In dev/test it is generated "
        "once into <data_dir>/identity-code-secret.",
    )
    access_token_ttl_seconds: int = Field(900, ge=30, le=86400, description="Access token lifetime.")
    refresh_token_ttl_days: int = Field(30, ge=1, le=365, description="Refresh token lifetime.")
    bootstrap_admin_handle: str | None = Field(
        None,
        description="Dev/test only: the first account registered in an empty database with this "
        "handle becomes ADMIN.",
    )
    argon2_time_cost: int = Field(3, ge=1, le=20, description="argon2id iterations.")
    argon2_memory_kib: int = Field(65536, ge=1024, description="argon2id memory in KiB.")
    argon2_parallelism: int = Field(4, ge=1, le=16, description="argon2id lanes.")
    wallet_challenge_ttl_seconds: int = Field(
        300, ge=10, le=3600, description="How long a wallet sign-in challenge stays valid."
    )
    wallet_domain: str = Field(
        "",
        description="Domain (host[:port], RFC 3986 authority) named in wallet sign-in messages "
        "(EIP-4361 / SIWS); wallets warn when it is not the site asking. Required in prod; "
        "dev/test: tributary.local.",
    )
    wallet_uri: str = Field(
        "",
        description="URI (e.g. https://app.example/) named in wallet sign-in messages. "
        "Required in prod; dev/test: http://<wallet_domain>/.",
    )
    wallet_ethereum_chain_id: int = Field(
        1, ge=1, description="EIP-155 chain id named in Ethereum sign-in messages."
    )
    wallet_solana_cluster: Literal["mainnet", "devnet", "testnet", "localnet"] = Field(
        "mainnet", description="Solana cluster named (Chain ID) in Solana sign-in messages."
    )
    login_limit_per_ip: int = Field(
        20, ge=1,
        description="Failed password checks (login, changePassword) per client address per "
        "login window, across accounts.",
    )
    login_limit_per_account_ip: int = Field(
        5, ge=1,
        description="Failed password checks of one account from one client address per login "
        "window.",
    )
    login_window_seconds: int = Field(300, ge=1, description="Login rate-limit window.")
    login_limit_per_account: int = Field(
        50, ge=1,
        description="Failed password checks of one account from all addresses per account "
        "window; once exhausted only addresses without recent failures may still try.",
    )
    login_account_window_seconds: int = Field(
        3600, ge=1, description="Window of the account-wide failed-password budget."
    )
    token_failure_limit_per_ip: int = Field(
        30, ge=1,
        description="Failed refresh-token and wallet-signature checks per client address per "
        "login window.",
    )
    register_limit_per_ip: int = Field(10, ge=1, description="Registrations per IP per window.")
    register_window_seconds: int = Field(3600, ge=1, description="Registration window.")
    challenge_limit_per_ip: int = Field(30, ge=1, description="Wallet challenges per IP per window.")
    challenge_limit_per_address: int = Field(
        10, ge=1, description="Wallet challenges per address per window."
    )
    challenge_window_seconds: int = Field(300, ge=1, description="Wallet challenge window.")
    code_ttl_seconds: int = Field(
        600, ge=60, le=3600, description="How long a one-time code (SMS, WhatsApp, email) is valid."
    )
    code_max_attempts: int = Field(
        5, ge=1, le=10, description="Wrong answers a one-time code allows before it is spent."
    )
    code_send_limit_per_destination: int = Field(
        5, ge=1, description="One-time codes sent to one phone number or email per send window."
    )
    code_send_limit_per_ip: int = Field(
        20, ge=1, description="One-time codes requested by one client address per send window."
    )
    code_send_window_seconds: int = Field(900, ge=1, description="One-time code send window.")
    code_failure_limit_per_ip: int = Field(
        30, ge=1,
        description="Wrong one-time, TOTP and recovery codes per client address per login window.",
    )
    sms_provider: Literal["", "dev", "twilio"] = Field(
        "",
        description="Sender of SMS and WhatsApp codes: dev (prints the code to the log, keeps an "
        "outbox) or twilio. Empty: dev in dev/test, none in prod (phone codes refused).",
    )
    email_provider: Literal["", "dev", "smtp"] = Field(
        "",
        description="Sender of email codes: dev or smtp. Empty: dev in dev/test, none in prod.",
    )
    twilio_account_sid: str = Field("", description="Twilio Account SID (AC...).")
    twilio_auth_token: SecretStr | None = Field(
        None, description="Twilio auth token: API basic auth and status-callback signatures."
    )
    twilio_sms_from: str = Field("", description="E.164 sender number (or Messaging Service SID).")
    twilio_whatsapp_from: str = Field("", description="E.164 WhatsApp sender number.")
    twilio_api_url: str = Field("https://api.twilio.com", description="Twilio REST API base URL.")
    twilio_status_callback_url: str = Field(
        "",
        description="Public URL of POST /webhooks/twilio/status as Twilio calls it (signatures "
        "are computed over it); empty: no status callbacks requested.",
    )
    smtp_host: str = Field("", description="SMTP server host for email codes.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    smtp_username: str = Field("", description="SMTP login (empty: no AUTH).")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_from: str = Field("", description="From address of email codes.")
    smtp_timeout_seconds: float = Field(10.0, gt=0, le=120, description="SMTP timeout.")
    second_factor_ttl_seconds: int = Field(
        300, ge=30, le=1800,
        description="How long a sign-in waiting for its second factor (TOTP) may be completed.",
    )
    step_up_ttl_seconds: int = Field(
        600, ge=60, le=3600,
        description="How long a fresh second factor (stepUp) allows API key creation and email "
        "or phone changes in that session.",
    )
    totp_issuer: str = Field("Tributary", max_length=64, description="Issuer in otpauth:// URIs.")

    @field_validator("bootstrap_admin_handle", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip() == "" else value

    @model_validator(mode="after")
    def _require_prod_key(self) -> IdentitySettings:
        # A generated key in prod would silently invalidate every token on each restart/replica.
        if self.environment == "prod" and self.signing_key_pem is None:
            raise ValueError(
                "signing_key_pem: required in prod (set IDENTITY_SIGNING_KEY_PEM to an Ed25519 "
                "PKCS#8 PEM)"
            )
        return self

    @model_validator(mode="after")
    def _wallet_sign_in(self) -> IdentitySettings:
        prod = self.environment == "prod"
        domain, uri = self.wallet_domain.strip(), self.wallet_uri.strip()
        if not domain:
            if prod:
                raise ValueError("wallet_domain: required in prod (the site users sign in on)")
            domain = _DEV_WALLET_DOMAIN
        if not _AUTHORITY.fullmatch(domain):
            raise ValueError("wallet_domain: must be host[:port], without scheme or path")
        if not uri:
            if prod:
                raise ValueError("wallet_uri: required in prod (e.g. https://<domain>/)")
            uri = f"http://{domain}/"
        parts = urlsplit(uri)
        if not parts.scheme or not parts.netloc or len(uri) > 200 or any(c.isspace() for c in uri):
            raise ValueError("wallet_uri: must be an absolute URI of at most 200 characters")
        if prod and (_placeholder(domain) or _placeholder(parts.hostname or "")):
            raise ValueError("wallet_domain/wallet_uri: a placeholder or local name in prod; set "
                             "the public domain users sign in on")
        object.__setattr__(self, "wallet_domain", domain)
        object.__setattr__(self, "wallet_uri", uri)
        return self

    @model_validator(mode="after")
    def _code_providers(self) -> IdentitySettings:
        prod = self.environment == "prod"
        if prod and self.code_secret is None:
            raise ValueError("code_secret: required in prod (set IDENTITY_CODE_SECRET to 32+ "
                             "random characters)")
        if self.code_secret is not None and len(self.code_secret.get_secret_value()) < 32:
            raise ValueError("code_secret: at least 32 characters")
        if prod and "dev" in (self.sms_provider, self.email_provider):
            raise ValueError("sms_provider/email_provider: the dev provider prints codes to the "
                             "log; not in prod")
        if self.sms_provider == "twilio":
            if not self.twilio_account_sid or self.twilio_auth_token is None:
                raise ValueError("twilio_account_sid/twilio_auth_token: required by twilio")
            if not (self.twilio_sms_from or self.twilio_whatsapp_from):
                raise ValueError("twilio_sms_from or twilio_whatsapp_from: required by twilio")
        if self.email_provider == "smtp" and not (self.smtp_host and self.smtp_from):
            raise ValueError("smtp_host/smtp_from: required by the smtp email provider")
        return self

    @property
    def phone_sender(self) -> str:
        """The configured SMS/WhatsApp sender ("none": phone codes are refused)."""
        return self.sms_provider or ("none" if self.environment == "prod" else "dev")

    @property
    def email_sender(self) -> str:
        return self.email_provider or ("none" if self.environment == "prod" else "dev")

    @property
    def code_secret_path(self) -> Path:
        return Path(self.data_dir) / "identity-code-secret"

    @property
    def signing_key_path(self) -> Path:
        return Path(self.data_dir) / "identity-signing-key.pem"
