"""`python -m shared.migrate`: upgrade a subgraph's database, or autogenerate a revision."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
import tempfile
from pathlib import Path

from alembic import command

from shared.config import ServiceSettings, load_settings
from shared.db import alembic_config, create_database, upgrade

ROOT = Path(__file__).resolve().parent.parent


def settings_class(subgraph: str) -> type[ServiceSettings]:
    """The ServiceSettings subclass in `subgraphs/<subgraph>/config.py`."""
    module = importlib.import_module(f"subgraphs.{subgraph}.config")
    for _, value in inspect.getmembers(module, inspect.isclass):
        if issubclass(value, ServiceSettings) and value is not ServiceSettings \
                and value.__module__ == module.__name__:
            return value
    raise SystemExit(f"no ServiceSettings subclass in subgraphs/{subgraph}/config.py")


def migrations_dir(subgraph: str) -> Path:
    path = ROOT / "subgraphs" / subgraph / "migrations"
    if not (path / "env.py").is_file():
        raise SystemExit(f"{path} has no alembic env.py")
    return path


async def _upgrade(url: str, path: Path, revision: str) -> None:
    database = create_database(url, pool_size=1, max_overflow=0)
    try:
        await upgrade(database, path, revision=revision)
    finally:
        await database.dispose()


def cmd_upgrade(args: argparse.Namespace) -> None:
    url = args.url or load_settings(settings_class(args.subgraph)).database_url
    asyncio.run(_upgrade(url, migrations_dir(args.subgraph), args.revision))
    print(f"{args.subgraph}: upgraded to {args.revision}")


def cmd_revision(args: argparse.Namespace) -> None:
    path = migrations_dir(args.subgraph)
    with tempfile.TemporaryDirectory() as scratch:
        # Compare the models with a database at head: a scratch SQLite unless --url is given.
        url = args.url or f"sqlite+aiosqlite:///{scratch}/scratch.db"
        asyncio.run(_upgrade(url, path, "head"))
        config = alembic_config(path, url=url)
        command.revision(config, message=args.message, autogenerate=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.migrate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade", help="alembic upgrade for one subgraph (in place)")
    up.add_argument("subgraph")
    up.add_argument("--revision", default="head")
    up.add_argument("--url", help="database URL (default: the subgraph's settings)")
    up.set_defaults(run=cmd_upgrade)
    rev = sub.add_parser("revision", help="autogenerate a revision from the subgraph's models")
    rev.add_argument("subgraph")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--url", help="compare against this database instead of a scratch SQLite")
    rev.set_defaults(run=cmd_revision)
    args = parser.parse_args(argv)
    args.run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
