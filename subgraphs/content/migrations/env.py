"""Alembic environment of the content subgraph (version table alembic_version_content)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.content.models import metadata

run_env(metadata, version_table="alembic_version_content")
