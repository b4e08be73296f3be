"""identity, wallet, markets and a gateway on loopback, for bounty tests through the gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import sqlalchemy as sa

from shared.db import Database, create_database
from subgraphs.wallet.models import JournalEntry
from subgraphs.wallet.services.ledger import SystemAccount, balance_of, system_account, user_account
from tests.e2e._stack import (
    Api,
    Served,
    markets_settings,
    start_gateway,
    start_identity,
    start_markets,
    start_wallet,
    stopping,
    supergraph_of,
    wallet_settings,
)


@dataclass
class Stack:
    api: Api
    wallet_db: Database
    markets_db: Database
    markets: Served

    async def balance(self, user_id: str) -> int:
        async with self.wallet_db.session() as session:
            return await balance_of(session, user_account(user_id, "USD"))

    async def account(self, which: SystemAccount) -> int:
        async with self.wallet_db.session() as session:
            return await balance_of(session, system_account(which, "USD"))

    async def entries(self, kind: str | None = None) -> int:
        query = sa.select(sa.func.count()).select_from(JournalEntry)
        if kind is not None:
            query = query.where(JournalEntry.kind == kind)  # type: ignore[arg-type]
        async with self.wallet_db.session() as session:
            return int((await session.execute(query)).scalar_one())


@asynccontextmanager
async def bounty_stack(tmp_path: Path, markets_db: Database, **markets: object
                       ) -> AsyncIterator[Stack]:
    """The stack on `markets_db` (SQLite or PostgreSQL) and a wallet on its own SQLite file."""
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        settings = wallet_settings(tmp_path, identity=identity,
                                   database_url=f"sqlite+aiosqlite:///{tmp_path}/wallet.db")
        wallet_db = create_database(settings.database_url)
        wallet = await start_wallet(servers, settings, database=wallet_db)
        served = await start_markets(servers, markets_settings(
            tmp_path, identity=identity, wallet=wallet, **markets), database=markets_db)
        supergraph = await supergraph_of({"identity": identity.graphql, "wallet": wallet.graphql,
                                          "markets": served.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        yield Stack(api=Api(http, gateway.graphql), wallet_db=wallet_db, markets_db=markets_db,
                    markets=served)
