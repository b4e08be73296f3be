"""pytest helpers for real PostgreSQL/Redis, SQLite files and live HTTP servers."""

from shared.testing._keys import prod_trust, service_key_pem
from shared.testing._servers import Served, serve_app, start_server
from shared.testing._stores import (
    DATABASE_KINDS,
    database_url,
    drop_process_databases,
    ensure_postgres_database,
    postgres_url,
    redis_url,
    run_in_thread,
    sqlite_url,
)

__all__ = [
    "DATABASE_KINDS",
    "Served",
    "database_url",
    "drop_process_databases",
    "ensure_postgres_database",
    "postgres_url",
    "prod_trust",
    "redis_url",
    "run_in_thread",
    "serve_app",
    "service_key_pem",
    "sqlite_url",
    "start_server",
]
