"""Alembic environment of the identity subgraph (version table alembic_version_identity)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.identity.models import metadata

run_env(metadata, version_table="alembic_version_identity")
