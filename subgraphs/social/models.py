"""SQLModel tables of the social subgraph (own MetaData; never returned from GraphQL directly)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from shared.events import include_event_tables

__all__ = [
    "Block",
    "Circle",
    "CircleMember",
    "Comment",
    "Conversation",
    "ConversationMember",
    "Follow",
    "FollowRequest",
    "Message",
    "Notification",
    "Post",
    "PostMedia",
    "PrivacySettings",
    "Reaction",
    "SocialBase",
    "UserStats",
    "new_id",
    "utcnow",
]


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class SocialBase(SQLModel, registry=registry()):
    """Base of every social table; its MetaData is the one the social migrations manage."""


# The kit's outbox_events/processed_events live in the social database too (migration 0002).
include_event_tables(SocialBase.metadata)


class UserStats(SocialBase, table=True):
    """Denormalised counters of one user, updated in the same transaction as the rows counted."""

    __tablename__ = "social_user_stats"

    user_id: str = Field(primary_key=True, max_length=64)
    followers_count: int = 0
    following_count: int = 0
    posts_count: int = 0


class Follow(SocialBase, table=True):
    __tablename__ = "social_follows"
    __table_args__ = (
        Index("ix_social_follows_followee", "followee_id", "created_at", "follower_id"),
        Index("ix_social_follows_follower", "follower_id", "created_at", "followee_id"),
    )

    follower_id: str = Field(primary_key=True, max_length=64)
    followee_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class PrivacySettings(SocialBase, table=True):
    """One user's privacy choices; a user without a row has the defaults below."""

    __tablename__ = "social_privacy_settings"

    user_id: str = Field(primary_key=True, max_length=64)
    # Private: a follow becomes a request the owner approves or declines.
    is_private: bool = False
    # People the user follows may add them to groups at once; anyone else sends an invitation.
    allow_group_adds_from_following: bool = True
    updated_at: datetime = Field(default_factory=utcnow)


class FollowRequest(SocialBase, table=True):
    """A pending follow of a private account, until its owner approves or declines it."""

    __tablename__ = "social_follow_requests"
    __table_args__ = (Index("ix_social_follow_requests_target", "target_id", "created_at", "requester_id"),)

    requester_id: str = Field(primary_key=True, max_length=64)
    target_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Block(SocialBase, table=True):
    """`blocker_id` blocked `blocked_id`; only the blocker ever reads these rows back."""

    __tablename__ = "social_blocks"
    __table_args__ = (
        Index("ix_social_blocks_blocker", "blocker_id", "created_at", "blocked_id"),
        Index("ix_social_blocks_blocked", "blocked_id", "blocker_id"),
    )

    blocker_id: str = Field(primary_key=True, max_length=64)
    blocked_id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class Circle(SocialBase, table=True):
    __tablename__ = "social_circles"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    owner_id: str = Field(max_length=64, index=True)
    members_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class CircleMember(SocialBase, table=True):
    __tablename__ = "social_circle_members"
    __table_args__ = (
        Index("ix_social_circle_members_user", "user_id", "circle_id"),
        Index("ix_social_circle_members_order", "circle_id", "joined_at", "user_id"),
    )

    circle_id: str = Field(
        foreign_key="social_circles.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)  # owner | admin | member
    joined_at: datetime = Field(default_factory=utcnow)


class Post(SocialBase, table=True):
    __tablename__ = "social_posts"
    __table_args__ = (
        Index("ix_social_posts_author", "author_id", "created_at", "id"),
        Index("ix_social_posts_circle", "circle_id", "created_at", "id"),
        Index("ix_social_posts_recent", "created_at", "id"),
        Index("ix_social_posts_hot", "visibility", "hot_score", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    author_id: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    visibility: str = Field(max_length=16)  # public | followers | circle
    circle_id: str | None = Field(
        default=None, foreign_key="social_circles.id", max_length=32, ondelete="CASCADE"
    )
    reactions_count: int = 0
    comments_count: int = 0
    # Time-decayed engagement rank, recomputed on every engagement write (see services/posts.py).
    hot_score: float = 0.0
    # "visible", or "held": moderation asked for a review, and only the author sees it meanwhile.
    moderation_state: str = Field(default="visible", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class PostMedia(SocialBase, table=True):
    """A reference to content's `Media` entity, by id only."""

    __tablename__ = "social_post_media"

    post_id: str = Field(
        foreign_key="social_posts.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    position: int = Field(primary_key=True)
    media_id: str = Field(max_length=64)


class Comment(SocialBase, table=True):
    __tablename__ = "social_comments"
    __table_args__ = (
        Index("ix_social_comments_thread", "post_id", "parent_id", "created_at", "id"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    post_id: str = Field(foreign_key="social_posts.id", max_length=32, ondelete="CASCADE")
    parent_id: str | None = Field(
        default=None, foreign_key="social_comments.id", max_length=32, ondelete="CASCADE"
    )
    author_id: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    replies_count: int = 0
    moderation_state: str = Field(default="visible", max_length=16)  # as Post.moderation_state
    created_at: datetime = Field(default_factory=utcnow)


class Reaction(SocialBase, table=True):
    __tablename__ = "social_reactions"

    post_id: str = Field(
        foreign_key="social_posts.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class Conversation(SocialBase, table=True):
    __tablename__ = "social_conversations"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    kind: str = Field(max_length=16)  # direct | group
    title: str | None = Field(default=None, max_length=200)
    # "a|b" for direct conversations (sorted ids): the unique key makes opening one idempotent.
    direct_key: str | None = Field(default=None, max_length=140, unique=True)
    created_by: str | None = Field(default=None, max_length=64)
    # Group members see messages from before they joined only when this is set.
    share_history: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_message_at: datetime = Field(default_factory=utcnow)


class ConversationMember(SocialBase, table=True):
    __tablename__ = "social_conversation_members"
    __table_args__ = (Index("ix_social_conversation_members_user", "user_id", "conversation_id"),)

    conversation_id: str = Field(
        foreign_key="social_conversations.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    user_id: str = Field(primary_key=True, max_length=64)
    # active | requested (the recipient of a message request) | invited (a group invitation)
    status: str = Field(default="active", max_length=16)
    invited_by: str | None = Field(default=None, max_length=64)
    joined_at: datetime = Field(default_factory=utcnow)
    last_read_message_id: str | None = Field(default=None, max_length=32)
    last_read_at: datetime | None = None


class Message(SocialBase, table=True):
    __tablename__ = "social_messages"
    __table_args__ = (Index("ix_social_messages_conversation", "conversation_id", "created_at", "id"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    conversation_id: str = Field(
        foreign_key="social_conversations.id", max_length=32, ondelete="CASCADE"
    )
    sender_id: str = Field(max_length=64)
    text: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Notification(SocialBase, table=True):
    __tablename__ = "social_notifications"
    __table_args__ = (
        Index("ix_social_notifications_user", "user_id", "created_at", "id"),
        Index("ix_social_notifications_subject", "subject_id", "kind", "user_id"),
        UniqueConstraint("dedupe_key", name="uq_social_notifications_dedupe"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: str = Field(max_length=64)
    kind: str = Field(max_length=32)  # services.notifications.NOTIFICATION_KINDS
    actor_id: str | None = Field(default=None, max_length=64)
    subject_id: str | None = Field(default=None, max_length=64)
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False))  # JSON object
    # Set for notifications born from an external event so a redelivery cannot duplicate them.
    dedupe_key: str | None = Field(default=None, max_length=200)
    read_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
