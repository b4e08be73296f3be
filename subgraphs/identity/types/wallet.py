"""Linked wallets and sign-in challenges."""

from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.identity import models
from subgraphs.identity.security.wallet_signatures import Chain as _Chain
from subgraphs.identity.services.users import as_utc
from subgraphs.identity.types.enums import Chain

__all__ = ["WalletChallengeType", "WalletType"]


@strawberry.type(name="LinkedWallet", description="A wallet linked to an account for sign-in.")
class WalletType:
    chain: Chain
    address: str
    created_at: datetime

    @classmethod
    def from_model(cls, wallet: models.Wallet) -> WalletType:
        return cls(chain=_Chain(wallet.chain), address=wallet.address, created_at=as_utc(wallet.created_at))


@strawberry.type(name="WalletChallenge")
class WalletChallengeType:
    nonce: str
    message: str = strawberry.field(
        description="Sign exactly this text (ed25519 for SOLANA, personal_sign for ETHEREUM)."
    )
    expires_at: datetime

    @classmethod
    def from_model(cls, challenge: models.WalletChallenge) -> WalletChallengeType:
        return cls(
            nonce=challenge.nonce,
            message=challenge.message,
            expires_at=as_utc(challenge.expires_at),
        )
