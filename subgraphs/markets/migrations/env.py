"""Alembic environment of the markets subgraph (version table alembic_version_markets)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.markets.models import metadata

run_env(metadata, version_table="alembic_version_markets")
