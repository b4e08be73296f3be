"""Tried as new users would, through the gateway: social asks moderation before a post is
written, users report, and a moderator works the queue.

identity, moderation, social and a gateway run for real on loopback; social calls moderation's
internal check with its own service credential, and moderation checks reported ids with
identity and social.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from subgraphs.identity.app import create_app as create_identity
from subgraphs.moderation.app import create_app as create_moderation
from subgraphs.moderation.config import ModerationSettings
from subgraphs.moderation.services.classifier import TextClassifier
from tests.e2e._stack import (
    JWKS_PATH,
    Api,
    identity_settings,
    memory_kv,
    register_and_login,
    serve,
    service_keys,
    social_settings,
    start_gateway,
    start_social,
    stopping,
    supergraph_of,
)

POST = "mutation($t: String!) { createPost(input: {text: $t}) { id held } }"
READ = "query($id: ID!) { post(id: $id) { id text } }"
REPORT = """mutation($s: ID!) {
  reportContent(subjectType: POST, subjectId: $s, reason: HARASSMENT) { id status } }"""
QUEUE = "{ reviewQueue { id subjectId reportsCount verdict { action modelName modelVersion } } }"
DECIDE = """mutation($id: ID!) {
  decide(reportId: $id, action: REMOVE, note: "targeted abuse") { status action } }"""
AUDIT = "{ moderationAuditLog { action reportId subjectId note } }"


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


async def test_moderation_through_the_gateway(tmp_path: Path) -> None:
    async with stopping() as servers, httpx.AsyncClient(timeout=10) as http:
        kv = memory_kv("tributary:test:e2e:moderation:identity:")
        identity_app = create_identity(
            identity_settings(tmp_path, bootstrap_admin_handle="mod_admin"), kv=kv)
        servers.append(identity := await serve(identity_app))
        classifier = TextClassifier()
        moderation = await serve(create_moderation(ModerationSettings(
            **service_keys("moderation"), environment="test", port=0, data_dir=str(tmp_path),
            database_url=f"sqlite+aiosqlite:///{tmp_path}/moderation.db", log_level="WARNING",
            jwks_url=identity.base + JWKS_PATH,
            peers={"identity": identity.app.state.internal_url}),
            kv=memory_kv("tributary:test:e2e:moderation:"), classifier=classifier))
        servers.append(moderation)
        social = await start_social(
            servers, social_settings(tmp_path, identity=identity, peers={
                "identity": identity.app.state.internal_url,
                "moderation": moderation.app.state.internal_url}),
            kv=memory_kv("tributary:test:e2e:moderation:social:"),
            routes_kv=memory_kv("tributary:test:e2e:moderation:routes:"))
        # Each names the other as a peer: moderation learns social's internal URL once it runs.
        moderation.app.state.peers.client.peers["social"] = social.app.state.internal_url
        supergraph = await supergraph_of({"identity": identity.graphql, "social": social.graphql,
                                          "moderation": moderation.graphql})
        gateway = await start_gateway(servers, supergraph, identity=identity)
        api = Api(http, gateway.graphql)
        admin = await register_and_login(api, "mod_admin", "Admin")  # the first account: ADMIN
        alice = await register_and_login(api, "alice_mod", "Alice")
        bob = await register_and_login(api, "bob_mod", "Bob")
        carol = await register_and_login(api, "carol_mod", "Carol")

        # Abuse is refused, coded and named; nothing appears.
        blocked = await api(POST, {"t": "fuck you, you worthless piece of shit"}, token=alice.token)
        [error] = blocked["errors"]
        assert (error["extensions"]["code"], error["extensions"]["reason"]) == (
            "BAD_USER_INPUT", "CONTENT_BLOCKED")
        # Spam is held: its author sees it, nobody else does.
        spam = " ".join(f"cheap likes https://spam{i}.example.xyz" for i in range(6))
        held = (await api.data(POST, {"t": spam}, token=alice.token))["createPost"]
        assert held["held"] is True
        assert (await api.data(READ, {"id": held["id"]}, token=alice.token))["post"]["text"] == spam
        assert codes(await api(READ, {"id": held["id"]}, token=bob.token)) == ["NOT_FOUND"]
        # A clean post appears for everyone.
        clean = (await api.data(POST, {"t": "Coffee and a good book this morning"},
                                token=alice.token))["createPost"]
        assert clean["held"] is False
        assert (await api.data(READ, {"id": clean["id"]}, token=bob.token))["post"]["id"] == clean["id"]

        # Two users report the same post: one case.
        first = (await api.data(REPORT, {"s": clean["id"]}, token=bob.token))["reportContent"]
        second = (await api.data(REPORT, {"s": clean["id"]}, token=carol.token))["reportContent"]
        assert first["id"] == second["id"] and first["status"] == "OPEN"
        assert codes(await api(REPORT, {"s": "no-such-post"}, token=bob.token)) == ["NOT_FOUND"]

        # Only moderators and admins see the queue; the held post waits there with its verdict.
        assert codes(await api(QUEUE, token=bob.token)) == ["FORBIDDEN"]
        queue = {c["subjectId"]: c for c in (await api.data(QUEUE, token=admin.token))["reviewQueue"]}
        assert set(queue) == {clean["id"], held["id"]}
        assert queue[clean["id"]]["reportsCount"] == 2
        assert queue[held["id"]]["verdict"]["action"] == "HOLD"
        assert queue[held["id"]]["verdict"]["modelName"] == "alt-profanity-check"
        assert queue[held["id"]]["verdict"]["modelVersion"] == classifier.model_version

        decided = (await api.data(DECIDE, {"id": first["id"]}, token=admin.token))["decide"]
        assert decided == {"status": "DECIDED", "action": "REMOVE"}
        assert codes(await api(DECIDE, {"id": first["id"]}, token=admin.token)) == ["CONFLICT"]
        audit = (await api.data(AUDIT, token=admin.token))["moderationAuditLog"]
        assert audit == [{"action": "REMOVE", "reportId": first["id"], "subjectId": clean["id"],
                          "note": "targeted abuse"}]
