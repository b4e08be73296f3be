"""GraphQL types of identity (one module per entity or payload)."""

from subgraphs.identity.types.api_key import ApiKeyType, CreatedApiKeyType
from subgraphs.identity.types.audit import AuditEventType, AuditEventTypeEnum
from subgraphs.identity.types.auth import AuthPayload
from subgraphs.identity.types.enums import Chain, Role
from subgraphs.identity.types.user import User
from subgraphs.identity.types.wallet import WalletChallengeType, WalletType

__all__ = [
    "ApiKeyType",
    "AuditEventType",
    "AuditEventTypeEnum",
    "AuthPayload",
    "Chain",
    "CreatedApiKeyType",
    "Role",
    "User",
    "WalletChallengeType",
    "WalletType",
]
