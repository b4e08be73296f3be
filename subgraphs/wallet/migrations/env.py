"""Alembic environment of the wallet subgraph (version table alembic_version_wallet)."""

from __future__ import annotations

from shared.db import run_env
from subgraphs.wallet.models import metadata

run_env(metadata, version_table="alembic_version_wallet")
