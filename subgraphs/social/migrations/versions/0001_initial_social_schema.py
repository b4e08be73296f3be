"""initial social schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 13:14:36.027703
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('social_circles',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('owner_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('members_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('social_circles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_circles_owner_id'), ['owner_id'], unique=False)

    op.create_table('social_conversations',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('direct_key', sqlmodel.sql.sqltypes.AutoString(length=140), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_message_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('direct_key')
    )
    op.create_table('social_follows',
    sa.Column('follower_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('followee_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('follower_id', 'followee_id')
    )
    with op.batch_alter_table('social_follows', schema=None) as batch_op:
        batch_op.create_index('ix_social_follows_followee', ['followee_id', 'created_at', 'follower_id'], unique=False)
        batch_op.create_index('ix_social_follows_follower', ['follower_id', 'created_at', 'followee_id'], unique=False)

    op.create_table('social_notifications',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('subject_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('data', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key', name='uq_social_notifications_dedupe')
    )
    with op.batch_alter_table('social_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_social_notifications_user', ['user_id', 'created_at', 'id'], unique=False)

    op.create_table('social_user_stats',
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('followers_count', sa.Integer(), nullable=False),
    sa.Column('following_count', sa.Integer(), nullable=False),
    sa.Column('posts_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('social_circle_members',
    sa.Column('circle_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['social_circles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('circle_id', 'user_id')
    )
    with op.batch_alter_table('social_circle_members', schema=None) as batch_op:
        batch_op.create_index('ix_social_circle_members_order', ['circle_id', 'joined_at', 'user_id'], unique=False)
        batch_op.create_index('ix_social_circle_members_user', ['user_id', 'circle_id'], unique=False)

    op.create_table('social_conversation_members',
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('joined_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_read_message_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('last_read_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['social_conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('conversation_id', 'user_id')
    )
    with op.batch_alter_table('social_conversation_members', schema=None) as batch_op:
        batch_op.create_index('ix_social_conversation_members_user', ['user_id', 'conversation_id'], unique=False)

    op.create_table('social_messages',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('conversation_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['social_conversations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('social_messages', schema=None) as batch_op:
        batch_op.create_index('ix_social_messages_conversation', ['conversation_id', 'created_at', 'id'], unique=False)

    op.create_table('social_posts',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('author_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('visibility', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('circle_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reactions_count', sa.Integer(), nullable=False),
    sa.Column('comments_count', sa.Integer(), nullable=False),
    sa.Column('hot_score', sa.Float(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['social_circles.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.create_index('ix_social_posts_author', ['author_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_social_posts_circle', ['circle_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_social_posts_hot', ['visibility', 'hot_score', 'id'], unique=False)
        batch_op.create_index('ix_social_posts_recent', ['created_at', 'id'], unique=False)

    op.create_table('social_comments',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('post_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('author_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('replies_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['social_comments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('social_comments', schema=None) as batch_op:
        batch_op.create_index('ix_social_comments_thread', ['post_id', 'parent_id', 'created_at', 'id'], unique=False)

    op.create_table('social_post_media',
    sa.Column('post_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('media_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'position')
    )
    op.create_table('social_reactions',
    sa.Column('post_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'user_id')
    )


def downgrade() -> None:
    op.drop_table('social_reactions')
    op.drop_table('social_post_media')
    with op.batch_alter_table('social_comments', schema=None) as batch_op:
        batch_op.drop_index('ix_social_comments_thread')

    op.drop_table('social_comments')
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_social_posts_recent')
        batch_op.drop_index('ix_social_posts_hot')
        batch_op.drop_index('ix_social_posts_circle')
        batch_op.drop_index('ix_social_posts_author')

    op.drop_table('social_posts')
    with op.batch_alter_table('social_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_social_messages_conversation')

    op.drop_table('social_messages')
    with op.batch_alter_table('social_conversation_members', schema=None) as batch_op:
        batch_op.drop_index('ix_social_conversation_members_user')

    op.drop_table('social_conversation_members')
    with op.batch_alter_table('social_circle_members', schema=None) as batch_op:
        batch_op.drop_index('ix_social_circle_members_user')
        batch_op.drop_index('ix_social_circle_members_order')

    op.drop_table('social_circle_members')
    op.drop_table('social_user_stats')
    with op.batch_alter_table('social_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_social_notifications_user')

    op.drop_table('social_notifications')
    with op.batch_alter_table('social_follows', schema=None) as batch_op:
        batch_op.drop_index('ix_social_follows_follower')
        batch_op.drop_index('ix_social_follows_followee')

    op.drop_table('social_follows')
    op.drop_table('social_conversations')
    with op.batch_alter_table('social_circles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_social_circles_owner_id'))

    op.drop_table('social_circles')
