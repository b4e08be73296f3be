"""GraphQL enums shared by identity's types."""

from __future__ import annotations

import strawberry

from subgraphs.identity.security.wallet_signatures import Chain as _Chain
from subgraphs.identity.services.users import Role as _Role

__all__ = ["Chain", "Role"]

Role = strawberry.enum(_Role, name="UserRole", description="What an account may do on the platform.")
Chain = strawberry.enum(_Chain, name="WalletChain", description="Wallet families accepted for sign-in.")
