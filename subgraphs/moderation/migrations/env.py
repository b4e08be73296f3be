"""Alembic environment of the moderation subgraph (version table alembic_version_moderation)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.moderation.models import metadata

run_env(metadata, version_table="alembic_version_moderation")
