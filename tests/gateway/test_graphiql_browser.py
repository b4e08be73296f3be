"""GraphiQL in a real browser (Debian's headless Chromium) against the dev stack, with no CDN:
the page renders, a query runs and shows its result, the Authorization header survives a reload,
and a subscription receives an event."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from devstack.stack import discover_subgraphs, run
from tests.gateway._webdriver import Browser, available, chromium

pytestmark = pytest.mark.skipif(not available(), reason="needs /usr/bin/chromium and chromedriver "
                                "(make test installs the Debian packages chromium and chromium-driver)")

EDITORS = "Array.from(document.querySelectorAll('.CodeMirror')).map(e => e.CodeMirror)"
# GraphiQL's CodeMirror editors, in page order: query, variables, headers, response
QUERY, HEADERS, RESPONSE = 0, 2, 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def gateway_url(tmp_path: Path) -> AsyncIterator[str]:
    saved = dict(os.environ)
    for name in discover_subgraphs():
        os.environ[f"{name.upper()}_PORT"] = str(_free_port())
    port = _free_port()
    os.environ["GATEWAY_PORT"] = str(port)
    stop = asyncio.Event()
    task = asyncio.create_task(run(data_dir=tmp_path, stop=stop, announce=False))
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(1200):
                assert not task.done(), task.result()
                try:
                    if (await client.get(f"{base}/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        yield f"{base}/graphql"
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
        os.environ.clear()
        os.environ.update(saved)


async def _register(client: httpx.AsyncClient, url: str, handle: str) -> tuple[str, str]:
    answer = await client.post(url, json={"query": "mutation($h: String!) { register(input: {handle: $h, "
                                          "password: \"correct horse battery\"}) { accessToken user { id } } }",
                                          "variables": {"h": handle}})
    payload = answer.json()["data"]["register"]
    return payload["accessToken"], payload["user"]["id"]


async def _loaded(browser: Browser) -> None:
    """The editors exist and the schema has been fetched (GraphiQL resets the tabs until then)."""
    await browser.wait_for(f"return {EDITORS}.length === 4 && performance.getEntriesByType('resource')"
                           ".some(r => r.initiatorType === 'fetch' && r.responseEnd > 0)")


async def _edit(browser: Browser, editor: int, text: str) -> None:
    """Type into an editor, then wait until GraphiQL has taken it into its (debounced) tab state."""
    await browser.run(f"{EDITORS}[arguments[0]].setValue(arguments[1])", editor, text)
    field = {QUERY: "query", HEADERS: "headers"}[editor]
    await browser.wait_for("const state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');"
                           "return state !== null && state.tabs[state.activeTabIndex][arguments[0]] === arguments[1]",
                           field, text)


async def _execute(browser: Browser) -> None:
    await browser.run("document.querySelector('.graphiql-execute-button').click()")


async def _response_containing(browser: Browser, text: str) -> str:
    return str(await browser.wait_for(
        f"const value = {EDITORS}[3].getValue(); return value.includes(arguments[0]) ? value : null", text))


async def test_graphiql_queries_persists_headers_and_subscribes(gateway_url):
    async with httpx.AsyncClient() as client:
        token, ada = await _register(client, gateway_url, "ada")
        bob_token, _ = await _register(client, gateway_url, "bob")
        async with chromium() as browser:
            await browser.open(gateway_url)
            await _loaded(browser)
            guide = await browser.run(f"return {EDITORS}[0].getValue()")
            assert guide.startswith("# Welcome to Tributary!")
            # every script and style came from the gateway itself
            hosts = await browser.run("return performance.getEntriesByType('resource')"
                                      ".map(r => new URL(r.name).host)")
            assert set(hosts) == {gateway_url.split("/")[2]}, hosts

            await _edit(browser, HEADERS, json.dumps({"Authorization": f"Bearer {token}"}))
            await _edit(browser, QUERY, "query Me { me { handle followersCount } }")
            await _execute(browser)
            shown = json.loads(await _response_containing(browser, '"handle"'))
            assert shown == {"data": {"me": {"handle": "ada", "followersCount": 0}}}

            await browser.open(gateway_url)  # a reload keeps the Authorization header
            await _loaded(browser)
            kept = await browser.run(f"return {EDITORS}[2].getValue()")
            assert json.loads(kept) == {"Authorization": f"Bearer {token}"}

            await _edit(browser, QUERY, "subscription Notifications { notificationAdded { kind actor { handle } } }")
            await _execute(browser)
            # the subscription is live once the gateway holds its upstream WebSocket; follow until it lands
            for _ in range(100):
                await client.post(gateway_url, json={"query": f'mutation {{ unfollow(userId: "{ada}") {{ id }} }}'},
                                  headers={"authorization": f"Bearer {bob_token}"})
                await client.post(gateway_url, json={"query": f'mutation {{ follow(userId: "{ada}") {{ id }} }}'},
                                  headers={"authorization": f"Bearer {bob_token}"})
                value = await browser.run(f"return {EDITORS}[3].getValue()")
                if "FOLLOW" in value:
                    break
                await asyncio.sleep(0.1)
            shown = json.loads(await _response_containing(browser, "FOLLOW"))
            assert shown == {"data": {"notificationAdded": {"kind": "FOLLOW", "actor": {"handle": "bob"}}}}
