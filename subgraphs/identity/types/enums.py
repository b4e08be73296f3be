"""GraphQL enums shared by identity's types."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from subgraphs.identity.security.wallet_signatures import Chain as _Chain
from subgraphs.identity.services.users import Role as _Role

__all__ = ["Chain", "Role"]

if TYPE_CHECKING:  # strawberry.enum returns the class itself; mypy needs to see it as one
    Role = _Role
    Chain = _Chain
else:
    Role = strawberry.enum(
        _Role, name="UserRole", description="What an account may do on the platform."
    )
    Chain = strawberry.enum(
        _Chain, name="WalletChain", description="Wallet families accepted for sign-in."
    )
