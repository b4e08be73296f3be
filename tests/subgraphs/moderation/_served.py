"""A real moderation app on loopback (its internal port), one of the peer stack's services."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.internal import InternalClient
from shared.redis import MemoryStore, create_kv
from shared.service_auth import ServiceIdentity
from shared.testing import Served, sqlite_url, start_server
from subgraphs.moderation.app import create_app
from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.services.classifier import TextClassifier
from tests._peers import peer_stack

__all__ = ["client_as", "serve_moderation"]


async def serve_moderation(tmp_path: Path, *, classifier: TextClassifier,
                           database_url: str | None = None, **overrides: Any) -> Served:
    """Moderation served on free ports, trusting the peer stack's service keys."""
    stack = peer_stack()
    settings = ModerationSettings(
        environment="test", port=0, data_dir=str(tmp_path), log_level="WARNING",
        database_url=database_url or sqlite_url(tmp_path, "moderation"),
        **stack.settings_for("moderation"), **overrides)
    app = create_app(settings, kv=create_kv(None, prefix="test:moderation:", store=MemoryStore()),
                     classifier=classifier)
    return await start_server(app, lifespan="on")


def client_as(service: str, served: Served) -> InternalClient:
    """An internal client signing as `service`, with moderation and the stack as its peers."""
    stack = peer_stack()
    return InternalClient(ServiceIdentity(name=service, keys=stack.keys[service]),
                          {**stack.urls, "moderation": served.app.state.internal_url})
