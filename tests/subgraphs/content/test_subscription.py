"""`mediaProcessed` over graphql-transport-ws: the owner hears PROCESSING, progress and READY;
others are refused before any event."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.subgraphs.content._app import Content, serve_content
from tests.subgraphs.social._client import WsClient

SUBSCRIBE = """subscription($id: ID!) { mediaProcessed(mediaId: $id) {
  mediaId status progress failureReason } }"""


@pytest.fixture
async def content(database, tmp_path, issuer):
    async with serve_content(database, tmp_path, issuer) as served:
        yield served


async def _events_until_complete(client: WsClient, op_id: str) -> list[dict[str, Any]]:
    events = []
    while True:
        message = await client.receive()
        assert message["id"] == op_id, message
        if message["type"] == "complete":
            return events
        assert message["type"] == "next", message
        events.append(message["payload"]["data"]["mediaProcessed"])


async def _subscribe(content: Content, user: str, media_id: str) -> WsClient:
    client = await WsClient.connect(content.served.base, token=content.token(user))
    await client.acknowledged()
    await client.subscribe("1", SUBSCRIBE, {"id": media_id})
    return client


async def test_the_owner_follows_processing_to_ready(content, videos):
    data = videos["landscape"]
    headers = {**content.auth("alice"), "Content-Type": "application/offset+octet-stream"}
    async with httpx.AsyncClient(timeout=10) as http:
        created = await http.post(content.uploads_url, headers={
            **content.auth("alice"), "Upload-Length": str(len(data)),
            "Upload-Metadata": "kind VklERU8="})  # base64("VIDEO")
        url = created.headers["location"]
        media_id = url.rsplit("/", 1)[1]
        first = await http.patch(url, content=data[:-1000],
                                 headers={**headers, "Upload-Offset": "0"})
        assert first.status_code == 204
        client = await _subscribe(content, "alice", media_id)
        try:
            now = await client.receive()
            assert now["payload"]["data"]["mediaProcessed"] == {
                "mediaId": media_id, "status": "UPLOADING", "progress": 0, "failureReason": None}
            last = await http.patch(url, content=data[-1000:], headers={
                **headers, "Upload-Offset": str(len(data) - 1000)})
            assert last.status_code == 204
            events = await _events_until_complete(client, "1")
        finally:
            await client.close()
    statuses = [e["status"] for e in events]
    assert statuses[0] == "PROCESSING" and statuses[-1] == "READY"
    assert set(statuses[1:-1]) <= {"PROCESSING"}
    percents = [e["progress"] for e in events]
    assert percents == sorted(percents) and percents[-1] == 100
    # Once READY, a new subscriber hears the final state and the stream ends.
    client = await _subscribe(content, "alice", media_id)
    try:
        assert await _events_until_complete(client, "1") == [
            {"mediaId": media_id, "status": "READY", "progress": 100, "failureReason": None}]
    finally:
        await client.close()
    media = await content.graphql("query($id: ID!) { media(id: $id) { progress } }",
                                  {"id": media_id}, user="alice")
    assert media["data"]["media"]["progress"] == 100


async def test_others_and_unknown_media_are_refused(content):
    created = await content.graphql('mutation { createUpload(kind: VIDEO, filename: "v.mp4", '
                                    'size: 1000) { media { id } } }', user="alice")
    media_id = created["data"]["createUpload"]["media"]["id"]
    for user, target, code in (("bob", media_id, "FORBIDDEN"), ("alice", "0" * 32, "NOT_FOUND")):
        client = await _subscribe(content, user, target)
        try:
            message = await client.receive()
        finally:
            await client.close()
        assert message["type"] == "error", message
        assert [e["extensions"]["code"] for e in message["payload"]] == [code]
