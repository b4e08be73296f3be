"""A served content app for the tests: real uvicorn on loopback, tokens from a test issuer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from shared.auth import TokenIssuer, TokenVerifier
from shared.db import Database
from shared.redis import MemoryStore, create_kv
from shared.testing import Served, start_server
from subgraphs.content.app import create_app
from subgraphs.content.config import ContentSettings
from subgraphs.content.runtime import ContentRuntime
from subgraphs.content.services.storage import ObjectStore

TUS = {"Tus-Resumable": "1.0.0"}


@dataclass
class Content:
    served: Served
    issuer: TokenIssuer
    settings: ContentSettings

    @property
    def runtime(self) -> ContentRuntime:
        return self.served.app.state.content  # type: ignore[no-any-return]

    @property
    def uploads_url(self) -> str:
        return f"{self.served.base}/uploads"

    def token(self, user_id: str) -> str:
        return self.issuer.issue_access_token(user_id=user_id, roles=["USER"])

    def auth(self, user_id: str) -> dict[str, str]:
        return {**TUS, "Authorization": f"Bearer {self.token(user_id)}"}

    async def graphql(self, query: str, variables: dict[str, Any] | None = None, *,
                      user: str | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token(user)}"} if user else {}
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(self.served.graphql, headers=headers,
                                       json={"query": query, "variables": variables or {}})
        return response.json()  # type: ignore[no-any-return]

    async def processed(self) -> None:
        """Until the embedded worker has run every job it was given (processing included)."""
        await self.served.app.state.content_events.worker.join(timeout=120)

    def staged(self) -> list[str]:
        root = self.runtime.uploads.staging.root
        return sorted(p.name for p in root.iterdir()) if root.exists() else []


@asynccontextmanager
async def serve_content(database: Database, tmp_path: Path, issuer: TokenIssuer, *,
                        store: ObjectStore | None = None, **overrides: Any
                        ) -> AsyncIterator[Content]:
    settings = ContentSettings(environment="test", port=0, data_dir=str(tmp_path),
                               storage_dir=str(tmp_path / "content"), log_level="WARNING",
                               database_url="sqlite+aiosqlite:///unused.db", **overrides)
    verifier = TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier, database=database, store=store,
                     kv=create_kv(None, prefix=f"test:content:{uuid.uuid4().hex}:",
                                  store=MemoryStore()),
                     routes_kv=create_kv(None, prefix="test:content:routes:",
                                         store=MemoryStore()))
    served = await start_server(app, lifespan="on", ws="websockets-sansio")
    try:
        yield Content(served=served, issuer=issuer, settings=settings)
    finally:
        await served.stop()
