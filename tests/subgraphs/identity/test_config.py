"""Identity settings: IDENTITY_ prefix, the prod signing-key requirement, the dev key file."""

from __future__ import annotations

import json
import re

import pytest

from shared.auth import SigningKeys
from shared.config import load_settings
from shared.testing import prod_trust, service_key_pem
from subgraphs.identity.config import IdentitySettings
from subgraphs.identity.runtime import build_runtime, load_signing_keys


def test_defaults_and_env_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("IDENTITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_LOGIN_LIMIT_PER_IP", "7")
    settings = load_settings(IdentitySettings)
    assert (settings.service_name, settings.port, settings.login_limit_per_ip) == ("identity", 4101, 7)
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path.as_posix()}/identity.db"


def test_prod_refuses_to_start_without_signing_key(monkeypatch, tmp_path):
    monkeypatch.setenv("IDENTITY_ENVIRONMENT", "prod")
    monkeypatch.setenv("IDENTITY_SERVICE_KEY", service_key_pem())
    monkeypatch.setenv("IDENTITY_SERVICE_PUBLIC_KEYS", json.dumps(prod_trust()["service_public_keys"]))
    monkeypatch.setenv("IDENTITY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("IDENTITY_SIGNING_KEY_PEM", raising=False)
    with pytest.raises(SystemExit) as info:
        load_settings(IdentitySettings)
    assert "IDENTITY_SIGNING_KEY_PEM" in str(info.value)
    assert not (tmp_path / "identity-signing-key.pem").exists()


def test_prod_uses_key_from_environment(monkeypatch, tmp_path, signing_pem):
    monkeypatch.setenv("IDENTITY_ENVIRONMENT", "prod")
    monkeypatch.setenv("IDENTITY_SERVICE_KEY", service_key_pem())
    monkeypatch.setenv("IDENTITY_SERVICE_PUBLIC_KEYS", json.dumps(prod_trust()["service_public_keys"]))
    monkeypatch.setenv("IDENTITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IDENTITY_SIGNING_KEY_PEM", signing_pem)
    monkeypatch.setenv("IDENTITY_WALLET_DOMAIN", "app.tributary.io")
    monkeypatch.setenv("IDENTITY_WALLET_URI", "https://app.tributary.io/")
    monkeypatch.setenv("IDENTITY_CODE_SECRET", "s" * 40)
    settings = load_settings(IdentitySettings)
    assert load_signing_keys(settings).kid == SigningKeys.from_pem(signing_pem).kid
    assert not settings.graphiql and not settings.introspection
    assert not (tmp_path / "identity-signing-key.pem").exists()


def test_bad_pem_names_the_variable(tmp_path):
    settings = IdentitySettings(data_dir=str(tmp_path), signing_key_pem="-----BEGIN NONSENSE-----")
    with pytest.raises(SystemExit, match="IDENTITY_SIGNING_KEY_PEM"):
        load_signing_keys(settings)


def test_dev_generates_key_once_and_reuses_it(tmp_path):
    settings = IdentitySettings(data_dir=str(tmp_path / "data"), environment="dev", argon2_memory_kib=8192)
    first = build_runtime(settings)
    path = tmp_path / "data" / "identity-signing-key.pem"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    second = build_runtime(settings)
    assert first.issuer.keys.kid == second.issuer.keys.kid
    token = first.issuer.issue_access_token(user_id="u1", roles=["USER"])
    assert token.count(".") == 2


def test_wallet_sign_in_site_defaults_in_dev_only(signing_pem):
    dev = IdentitySettings(environment="test")
    assert (dev.wallet_domain, dev.wallet_uri) == ("tributary.local", "http://tributary.local/")
    prod = {"environment": "prod", "signing_key_pem": signing_pem, **prod_trust(),
            "code_secret": "s" * 32}
    site = IdentitySettings(**prod, wallet_domain="app.tributary.io", wallet_uri="https://app.tributary.io/")
    assert (site.wallet_domain, site.wallet_uri) == ("app.tributary.io", "https://app.tributary.io/")


@pytest.mark.parametrize(("domain", "uri", "complaint"), [
    ("", "https://app.tributary.io/", "wallet_domain: required in prod"),
    ("app.tributary.io", "", "wallet_uri: required in prod"),
    ("tributary.local", "https://tributary.local/", "placeholder"),
    ("CHANGE-ME.example.com", "https://CHANGE-ME.example.com/", "placeholder"),  # deploy/k8s example
    ("app.tributary.io", "http://localhost:3000/", "placeholder"),
    ("https://app.tributary.io", "https://app.tributary.io/", "host[:port]"),
    ("app.tributary.io", "app.tributary.io/login", "absolute URI"),
])
def test_prod_refuses_missing_or_placeholder_wallet_site(signing_pem, domain, uri, complaint):
    with pytest.raises(ValueError, match=re.escape(complaint)):
        IdentitySettings(environment="prod", signing_key_pem=signing_pem, **prod_trust(),
                         wallet_domain=domain, wallet_uri=uri)


def test_code_senders_default_to_dev_outside_prod_and_none_in_prod(signing_pem):
    from subgraphs.identity.messaging import build_senders

    dev = IdentitySettings(environment="test")
    assert (dev.phone_sender, dev.email_sender) == ("dev", "dev")
    senders = build_senders(dev)
    assert senders.phone is senders.email is senders.dev is not None
    prod = IdentitySettings(environment="prod", signing_key_pem=signing_pem, **prod_trust(),
                            wallet_domain="app.tributary.io", wallet_uri="https://app.tributary.io/",
                            code_secret="s" * 32)
    assert (prod.phone_sender, prod.email_sender) == ("none", "none")
    assert build_senders(prod).phone is None and build_senders(prod).email is None


@pytest.mark.parametrize(("overrides", "complaint"), [
    ({"environment": "prod", "sms_provider": "dev", "code_secret": "s" * 32},
     "dev provider prints codes"),
    ({"environment": "prod"}, "code_secret: required in prod"),
    ({"code_secret": "short"}, "code_secret: at least 32 characters"),
    ({"sms_provider": "twilio"}, "twilio_account_sid/twilio_auth_token"),
    ({"sms_provider": "twilio", "twilio_account_sid": "AC1", "twilio_auth_token": "t"},
     "twilio_sms_from or twilio_whatsapp_from"),
    ({"email_provider": "smtp"}, "smtp_host/smtp_from"),
])
def test_code_sender_settings_are_checked(signing_pem, overrides, complaint):
    base = {"environment": "test", "signing_key_pem": signing_pem, **prod_trust(),
            "wallet_domain": "app.tributary.io", "wallet_uri": "https://app.tributary.io/"}
    with pytest.raises(ValueError, match=re.escape(complaint)):
        IdentitySettings(**{**base, **overrides})


def test_secrets_stay_secret(signing_pem):
    settings = IdentitySettings(environment="test", sms_provider="twilio", twilio_account_sid="AC1",
                                twilio_auth_token="tw-secret", twilio_sms_from="+15005550006",
                                email_provider="smtp", smtp_host="mail", smtp_from="a@b.org",
                                smtp_password="smtp-secret")
    assert "tw-secret" not in repr(settings) and "smtp-secret" not in repr(settings)


def test_dev_code_secret_is_generated_once_and_kept(tmp_path):
    from subgraphs.identity.runtime import load_code_secret

    settings = IdentitySettings(environment="dev", data_dir=str(tmp_path / "data"))
    first = load_code_secret(settings)
    path = tmp_path / "data" / "identity-code-secret"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert load_code_secret(settings) == first
    given = IdentitySettings(environment="dev", data_dir=str(tmp_path / "other"),
                             code_secret="g" * 32)
    assert load_code_secret(given) != first
    assert not (tmp_path / "other" / "identity-code-secret").exists()
