"""A few W3C WebDriver commands over HTTP to Debian's chromedriver, driving headless Chromium."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def available() -> bool:
    return shutil.which(CHROMIUM) is not None and shutil.which(CHROMEDRIVER) is not None


class Browser:
    def __init__(self, client: httpx.AsyncClient, session: str) -> None:
        self.client = client
        self.session = session

    async def _command(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.client.request(method, f"/session/{self.session}{path}", json=body)
        value = response.json()["value"]
        if response.status_code != 200:
            raise RuntimeError(f"webdriver {path}: {value}")
        return value

    async def open(self, url: str) -> None:
        await self._command("POST", "/url", {"url": url})

    async def run(self, script: str, *args: Any) -> Any:
        """Run `script` (a function body; `arguments` are args) in the page, return its value."""
        return await self._command("POST", "/execute/sync", {"script": script, "args": list(args)})

    async def wait_for(self, script: str, *args: Any, rounds: int = 600) -> Any:
        """Re-run `script` until it returns something truthy (the page loads, a result arrives)."""
        for _ in range(rounds):
            value = await self.run(script, *args)
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"never became true: {script}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """chromedriver on a free port, one headless Chromium session with a fresh profile."""
    port = _free_port()
    driver = await asyncio.create_subprocess_exec(CHROMEDRIVER, f"--port={port}", stdout=subprocess.DEVNULL,
                                                  stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="tributary-chromium-")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(400):
                try:
                    if (await client.get("/status")).json()["value"]["ready"]:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            options = {"binary": CHROMIUM, "args": [*ARGS, f"--user-data-dir={profile}"]}
            created = await client.post("/session", json={"capabilities": {"alwaysMatch": {
                "browserName": "chrome", "goog:chromeOptions": options}}})
            assert created.status_code == 200, created.text
            browser = Browser(client, created.json()["value"]["sessionId"])
            try:
                yield browser
            finally:
                await client.delete(f"/session/{browser.session}")
    finally:
        driver.terminate()
        await driver.wait()
        shutil.rmtree(profile, ignore_errors=True)
