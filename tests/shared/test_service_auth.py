"""Service credentials: each service's own Ed25519 key, pinned by name, one audience per token."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from shared.auth import SigningKeys
from shared.config import ServiceSettings
from shared.errors import UnauthenticatedError
from shared.service_auth import (
    ServiceIdentity,
    ServiceKeyring,
    load_service_identity,
    public_key_text,
)

WALLET_KEYS, MARKETS_KEYS, SOCIAL_KEYS = (SigningKeys.generate() for _ in range(3))


def _wallet_keyring() -> ServiceKeyring:
    return ServiceKeyring(owner="wallet", public_keys={"markets": public_key_text(MARKETS_KEYS),
                                                       "social": public_key_text(SOCIAL_KEYS)})


def test_a_token_proves_the_service_whose_key_signed_it() -> None:
    token = ServiceIdentity(name="markets", keys=MARKETS_KEYS).issue(audience="wallet")
    assert _wallet_keyring().verify(token) == "markets"


def test_a_service_cannot_speak_as_another() -> None:
    # social's key, social's token, but the claim says markets: the pinned markets key refuses it.
    forged = ServiceIdentity(name="markets", keys=SOCIAL_KEYS).issue(audience="wallet")
    with pytest.raises(UnauthenticatedError, match="bad signature"):
        _wallet_keyring().verify(forged)


def test_a_token_for_one_service_is_refused_by_another() -> None:
    token = ServiceIdentity(name="markets", keys=MARKETS_KEYS).issue(audience="identity")
    with pytest.raises(UnauthenticatedError, match="meant for another service"):
        _wallet_keyring().verify(token)


def test_unknown_expired_and_malformed_tokens_are_refused() -> None:
    stranger = ServiceIdentity(name="content", keys=SigningKeys.generate()).issue(audience="wallet")
    with pytest.raises(UnauthenticatedError, match="unknown service"):
        _wallet_keyring().verify(stranger)
    now = int(time.time())
    stale = jwt.encode({"iss": "markets", "sub": "markets", "aud": "svc:wallet", "iat": now - 600,
                        "exp": now - 300}, MARKETS_KEYS.private_key, algorithm="EdDSA")
    with pytest.raises(UnauthenticatedError, match="expired"):
        _wallet_keyring().verify(stale)
    hs256 = jwt.encode({"iss": "markets", "aud": "svc:wallet", "iat": now, "exp": now + 60},
                       "a-shared-secret-of-enough-length", algorithm="HS256")
    with pytest.raises(UnauthenticatedError, match="bad signature"):
        _wallet_keyring().verify(hs256)
    with pytest.raises(UnauthenticatedError, match="malformed"):
        _wallet_keyring().verify("not-a-token")


def test_dev_keys_are_generated_once_and_prod_needs_its_own(tmp_path: Path) -> None:
    first = load_service_identity(name="wallet", pem=None, data_dir=tmp_path, production=False)
    again = load_service_identity(name="wallet", pem=None, data_dir=tmp_path, production=False)
    assert public_key_text(first.keys) == public_key_text(again.keys)
    with pytest.raises(ValueError, match="service_key"):
        load_service_identity(name="wallet", pem=None, data_dir=tmp_path, production=True)
    pem = WALLET_KEYS.to_pem().decode()
    configured = load_service_identity(name="wallet", pem=pem, data_dir=tmp_path, production=True)
    assert public_key_text(configured.keys) == public_key_text(WALLET_KEYS)


def test_prod_settings_need_their_own_key_and_the_gateways() -> None:
    gateway = {"gateway": public_key_text(SigningKeys.generate())}
    with pytest.raises(ValueError, match="service_key"):
        ServiceSettings(environment="prod", service_public_keys=gateway)
    with pytest.raises(ValueError, match="gateway's public key"):
        ServiceSettings(environment="prod", service_key=WALLET_KEYS.to_pem().decode())
    assert ServiceSettings(environment="prod", service_key=WALLET_KEYS.to_pem().decode(),
                           service_public_keys=gateway).service_key


def test_the_internal_port_defaults_beside_the_public_one() -> None:
    assert ServiceSettings(port=4103).internal_port == 5103
    assert ServiceSettings(port=0).internal_port == 0
    assert ServiceSettings(port=4103, internal_port=6000).internal_port == 6000
