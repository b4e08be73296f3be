"""`Tip`: one tip between two users; its message is readable by those two only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.wallet import _context as ctx
from subgraphs.wallet.services.tips import TipView
from subgraphs.wallet.types.money import Money, money
from subgraphs.wallet.types.post import Post
from subgraphs.wallet.types.user import User

__all__ = ["Tip"]


@strawberry.type
class Tip:
    id: strawberry.ID
    # identity's entities: nullable, so a user identity cannot resolve nulls this field, not
    # the tip and every list holding it (docs/entity-references.md).
    from_user: User | None = strawberry.field(name="from")
    to: User | None
    post: Post | None
    amount: Money
    created_at: datetime
    _view: strawberry.Private[TipView]

    @classmethod
    def from_view(cls, view: TipView) -> Tip:
        return cls(
            id=strawberry.ID(view.id),
            from_user=User(id=strawberry.ID(view.sender_id)),
            to=User(id=strawberry.ID(view.recipient_id)),
            post=Post(id=strawberry.ID(view.post_id)) if view.post_id else None,
            amount=money(view.amount, view.currency),
            created_at=view.created_at,
            _view=view,
        )

    @strawberry.field(description="The message, for the sender and the recipient only.")
    def message(self, info: Info[Any, Any]) -> str | None:
        view = self._view
        viewer = ctx.viewer_id(info)
        if viewer not in (view.sender_id, view.recipient_id) or view.message_ciphertext is None:
            return None
        assert view.message_kid is not None
        return ctx.runtime(info).keyring.decrypt(view.message_kid, view.message_ciphertext, aad=view.id.encode())
