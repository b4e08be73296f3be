"""Media as a new user meets it, through the gateway: createUpload, a tus client sending the
bytes with an access token or a scoped API key, and a post that may carry only the author's own
READY media, read back across content, social and identity."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from tusclient.client import TusClient

from tests.e2e._stack import (
    Api,
    content_settings,
    memory_kv,
    register_and_login,
    social_settings,
    start_content,
    start_gateway,
    start_identity,
    start_social,
    stopping,
    supergraph_of,
)
from tests.subgraphs.content._files import png

CREATE_UPLOAD = """mutation($size: Int!) {
  createUpload(kind: IMAGE, filename: "me.png", size: $size) { uploadUrl media { id status } }
}"""
CREATE_KEY = 'mutation($s: [String!]!) { createApiKey(name: "uploader", scopes: $s) { secret } }'
POST = """mutation($m: [ID!]!) { createPost(input: {text: "look", mediaIds: $m}) {
  id media { id status kind contentType owner { id handle } } } }"""


async def _tus(url: str, path: Path, authorization: str) -> None:
    client = TusClient(url.rsplit("/", 1)[0], headers={"Authorization": authorization})

    def upload() -> None:
        client.uploader(str(path), url=url, chunk_size=50_000).upload()

    await asyncio.to_thread(upload)  # tuspy blocks; the servers run on this loop


async def _new_upload(api: Api, token: str, size: int) -> dict[str, Any]:
    return (await api.data(CREATE_UPLOAD, {"size": size}, token=token))["createUpload"]


async def test_upload_then_post_the_media_through_the_gateway(tmp_path: Path) -> None:
    data = png(128, 128)
    image = tmp_path / "me.png"
    image.write_bytes(data)
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        identity = await start_identity(servers, tmp_path)
        content = await start_content(servers, content_settings(tmp_path, identity=identity))
        social = await start_social(
            servers, social_settings(tmp_path, identity=identity, peers={
                "identity": identity.app.state.internal_url,
                "content": content.app.state.internal_url}),
            kv=memory_kv("tributary:test:e2e:media:social:"),
            routes_kv=memory_kv("tributary:test:e2e:media:routes:"))
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql,
                                          "content": content.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        api = Api(http, gateway.graphql)
        alice = await register_and_login(api, "alice_media", "Alice")
        bob = await register_and_login(api, "bob_media", "Bob")

        # Alice's access token sends the bytes of an upload she created through the gateway.
        mine = await _new_upload(api, alice.token, len(data))
        assert mine["media"]["status"] == "UPLOADING"
        assert mine["uploadUrl"].startswith(content.base + "/uploads/")
        await _tus(mine["uploadUrl"], image, f"Bearer {alice.token}")

        # An API key needs content:write to send bytes; a read key may only ask the offset.
        keys = {}
        for scopes in (["content:write"], ["read"]):
            created = await api.data(CREATE_KEY, {"s": scopes}, token=alice.token)
            keys[scopes[0]] = created["createApiKey"]["secret"]
        by_key = await _new_upload(api, alice.token, len(data))
        reader = {"Authorization": f"ApiKey {keys['read']}", "Tus-Resumable": "1.0.0"}
        refused = await http.patch(by_key["uploadUrl"], content=data, headers={
            **reader, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["reason"] == "INSUFFICIENT_SCOPE"
        offset = await http.head(by_key["uploadUrl"], headers=reader)
        assert offset.status_code == 200 and offset.headers["upload-offset"] == "0"
        await _tus(by_key["uploadUrl"], image, f"ApiKey {keys['content:write']}")

        # Bob's READY media and Alice's unfinished one cannot go on Alice's post.
        theirs = await _new_upload(api, bob.token, len(data))
        await _tus(theirs["uploadUrl"], image, f"Bearer {bob.token}")
        unfinished = await _new_upload(api, alice.token, len(data))
        for media_id in (theirs["media"]["id"], unfinished["media"]["id"]):
            result = await api(POST, {"m": [mine["media"]["id"], media_id]}, token=alice.token)
            assert [e["extensions"]["code"] for e in result["errors"]] == ["BAD_USER_INPUT"]
            assert result["errors"][0]["extensions"]["ids"] == [media_id]
        ghost = await api(POST, {"m": ["0" * 32]}, token=alice.token)
        assert [e["extensions"]["code"] for e in ghost["errors"]] == ["NOT_FOUND"]

        # Her own READY media goes on the post, and reads back through content and identity.
        post = await api.data(POST, {"m": [mine["media"]["id"], by_key["media"]["id"]]},
                              token=alice.token)
        expected = {"status": "READY", "kind": "IMAGE", "contentType": "image/png",
                    "owner": {"id": alice.id, "handle": "alice_media"}}
        assert post["createPost"]["media"] == [
            {"id": mine["media"]["id"], **expected}, {"id": by_key["media"]["id"], **expected}]
        # Anyone who sees the post gets a signed URL that serves the image itself.
        played = await api.data("query($id: ID!) { media(id: $id) { playbackUrl } }",
                                {"id": mine["media"]["id"]}, token=bob.token)
        url = played["media"]["playbackUrl"]
        assert url.startswith(content.base + "/media/")
        assert (await http.get(url)).content == data
        listed = await api.data("query($id: ID!) { user(id: $id) { media { id } } }",
                                {"id": alice.id}, token=bob.token)
        # Bob sees Alice's READY media only, newest first.
        assert [m["id"] for m in listed["user"]["media"]] == [by_key["media"]["id"],
                                                               mine["media"]["id"]]
