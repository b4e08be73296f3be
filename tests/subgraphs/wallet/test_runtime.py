"""Wallet runtime from settings: keys, payment providers, fail-fast configuration."""

from __future__ import annotations

import base64
import os

import pytest

from shared.testing import prod_trust
from subgraphs.wallet.config import WalletSettings
from subgraphs.wallet.runtime import build_runtime

KEY = f"k1:{base64.b64encode(os.urandom(32)).decode()}"


def test_dev_defaults_generate_keys_and_sandbox_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    runtime = build_runtime(WalletSettings(data_dir=str(tmp_path)))
    again = build_runtime(WalletSettings(data_dir=str(tmp_path)))
    assert runtime.deposit_provider.name == "sandbox"
    assert runtime.keyring == again.keyring  # persisted under data_dir, reused
    body, headers = runtime.sandbox.build_webhook(intent_ref="pi", amount=1, currency="USD")
    again.sandbox.verify_webhook(body=body, headers=headers, now=float(headers["sandbox-signature"][2:12]))


def test_prod_requires_keys_and_a_configured_provider(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit, match="WALLET_ENCRYPTION_KEYS"):
        build_runtime(WalletSettings(environment="prod", **prod_trust(), data_dir=str(tmp_path)))
    with pytest.raises(SystemExit, match="WALLET_PAYMENT_PROVIDER"):
        build_runtime(WalletSettings(environment="prod", **prod_trust(), data_dir=str(tmp_path), encryption_keys=KEY,
                                     payment_provider="stripe"))
    stripe = build_runtime(WalletSettings(environment="prod", **prod_trust(), data_dir=str(tmp_path), encryption_keys=KEY,
                                          payment_provider="stripe", stripe_webhook_secret="whsec_x"))
    assert stripe.deposit_provider.name == "stripe" and "sandbox" not in stripe.providers
    # Prod on the sandbox without a secret starts, but nobody can sign its webhooks.
    sandbox = build_runtime(WalletSettings(environment="prod", **prod_trust(), data_dir=str(tmp_path), encryption_keys=KEY))
    assert sandbox.deposit_provider.name == "sandbox"
    assert not (tmp_path / "wallet_sandbox_webhook.secret").exists()
