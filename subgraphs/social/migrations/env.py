"""Alembic environment of the social subgraph (version table alembic_version_social)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.social.models import SocialBase

run_env(SocialBase.metadata, version_table="alembic_version_social")
