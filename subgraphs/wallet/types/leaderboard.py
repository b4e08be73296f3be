"""Leaderboard types."""

from __future__ import annotations

from enum import Enum

import strawberry

from subgraphs.wallet.types.money import Money
from subgraphs.wallet.types.user import User

__all__ = ["LeaderboardEntry", "LeaderboardKind", "LeaderboardPeriod"]


@strawberry.enum
class LeaderboardKind(Enum):
    TIPPERS = "tippers"
    CREATORS = "creators"


@strawberry.enum
class LeaderboardPeriod(Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    ALL_TIME = "all"


@strawberry.type
class LeaderboardEntry:
    rank: int
    # identity's entity: nullable, so a user identity cannot resolve nulls this field, not
    # the whole list (docs/entity-references.md).
    user: User | None
    total: Money
