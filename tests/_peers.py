"""Real identity, social and content services on loopback, for tests of services that reference them.

Wallet and social check every user or post id they are given with its owner over the owner's
internal API. Their tests therefore talk to the real owners: one identity and one social app
per test process, served by uvicorn in a child process of their own (`python -m
tests._peers`; in-process they would share the embedded job worker with the app under test),
on SQLite files. Tests add the users and posts they need with `add_users` / `add_posts`, rows
written straight into the owners' databases, and every service has its own generated key.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.auth import SigningKeys
from shared.service_auth import public_key_text

__all__ = ["PeerStack", "peer_stack"]

# Every service a test may build, and the tests' stand-in for markets (the escrow caller).
SERVICES = ("identity", "social", "content", "wallet", "markets", "moderation", "gateway")
ROOT = Path(__file__).resolve().parent.parent


class PeerStack:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tributary-peers-"))
        self.keys = {name: SigningKeys.generate() for name in SERVICES}
        self.public_keys = {name: public_key_text(k) for name, k in self.keys.items()}
        config = {"keys": {n: k.to_pem().decode() for n, k in self.keys.items()},
                  "public_keys": self.public_keys}
        (self.dir / "config.json").write_text(json.dumps(config))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests._peers", str(self.dir)], cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.urls = self._wait_for_urls()

    def _wait_for_urls(self) -> dict[str, str]:
        ready = self.dir / "urls.json"
        deadline = time.monotonic() + 60
        while not ready.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the identity/social peers did not start")
            time.sleep(0.05)
        return json.loads(ready.read_text())  # type: ignore[no-any-return]

    def settings_for(self, name: str) -> dict[str, Any]:
        """Settings overrides that make service `name` one of this stack's services."""
        return {"service_key": self.keys[name].to_pem().decode(),
                "service_public_keys": dict(self.public_keys),
                "peers": {n: u for n, u in self.urls.items() if n != name}}

    def _write(self, database: str, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with sqlite3.connect(self.dir / database, timeout=30) as connection:
            connection.executemany(sql, rows)

    def add_users(self, *ids: str) -> None:
        """Identity accounts with exactly these ids (handles derived from them)."""
        now = datetime.now(UTC).isoformat(sep=" ")
        rows = [(i, h, h.lower(), now, now) for i in ids
                for h in [("u" + i.replace("-", "_"))[:30]]]
        self._write("identity.db", "INSERT OR IGNORE INTO identity_users (id, handle, handle_key, "
                    "roles, verified, created_at, updated_at) VALUES (?, ?, ?, 'USER', 0, ?, ?)",
                    rows)

    def add_posts(self, *ids: str, author_id: str) -> None:
        """Public social posts with exactly these ids, written by `author_id`."""
        self._write("social.db", "INSERT OR IGNORE INTO social_posts (id, author_id, text, "
                    "visibility, created_at, reactions_count, comments_count, hot_score) "
                    "VALUES (?, ?, 'a post', 'public', ?, 0, 0, 0)",
                    [(i, author_id, datetime.now(UTC).isoformat(sep=" ")) for i in ids])

    def add_media(self, *ids: str, owner_id: str, status: str = "READY") -> None:
        """Content media with exactly these ids (32 alphanumerics at most), owned by `owner_id`."""
        now = datetime.now(UTC).isoformat(sep=" ")
        self._write("content.db", "INSERT OR IGNORE INTO content_media (id, owner_id, kind, "
                    "status, filename, size, received, upload_metadata, created_at, updated_at) "
                    "VALUES (?, ?, 'IMAGE', ?, 'a.png', 1, 1, '{}', ?, ?)",
                    [(i, owner_id, status, now, now) for i in ids])

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


_stack: PeerStack | None = None
_lock = threading.Lock()


def peer_stack() -> PeerStack:
    """The test process's one stack, started on first use and stopped at exit."""
    global _stack
    with _lock:
        if _stack is None:
            _stack = PeerStack()
            atexit.register(_stack.close)
        return _stack


async def _serve(directory: Path) -> None:
    from shared.redis import MemoryStore, create_kv
    from shared.testing import start_server
    from subgraphs.content.app import create_app as create_content
    from subgraphs.content.config import ContentSettings
    from subgraphs.identity.app import create_app as create_identity
    from subgraphs.identity.config import IdentitySettings
    from subgraphs.social.app import create_app as create_social
    from subgraphs.social.config import SocialSettings

    config = json.loads((directory / "config.json").read_text())

    def keys(name: str) -> dict[str, Any]:
        return {"service_key": config["keys"][name], "service_public_keys": config["public_keys"]}

    common = {"environment": "test", "port": 0, "data_dir": str(directory), "log_level": "WARNING"}
    identity = create_identity(
        IdentitySettings(**common, **keys("identity"),
                         database_url=f"sqlite+aiosqlite:///{directory}/identity.db",
                         argon2_time_cost=1, argon2_memory_kib=8192, argon2_parallelism=1),
        kv=create_kv(None, prefix="peers:identity:", store=MemoryStore()))
    served_identity = await start_server(identity, lifespan="on")
    urls = {"identity": identity.state.internal_url}
    social = create_social(
        SocialSettings(**common, **keys("social"), peers=dict(urls),
                       database_url=f"sqlite+aiosqlite:///{directory}/social.db",
                       jwks_url=f"{served_identity.base}/.well-known/jwks.json"),
        kv=create_kv(None, prefix="peers:social:", store=MemoryStore()))
    await start_server(social, lifespan="on")
    urls["social"] = social.state.internal_url
    content = create_content(
        ContentSettings(**common, **keys("content"), peers={"identity": urls["identity"]},
                        database_url=f"sqlite+aiosqlite:///{directory}/content.db",
                        storage_dir=str(directory / "content"),
                        jwks_url=f"{served_identity.base}/.well-known/jwks.json"),
        kv=create_kv(None, prefix="peers:content:", store=MemoryStore()))
    await start_server(content, lifespan="on")
    urls["content"] = content.state.internal_url
    partial = directory / "urls.json.tmp"
    partial.write_text(json.dumps(urls))
    partial.rename(directory / "urls.json")
    await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    asyncio.run(_serve(Path(sys.argv[1])))
