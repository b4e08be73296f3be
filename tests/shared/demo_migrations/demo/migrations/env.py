"""Throwaway alembic env for the upgrade-in-place test."""

from shared.db import run_env

run_env(None)
