"""The identity app end to end over ASGI: round trip, JWKS, token and API-key authentication."""

from __future__ import annotations

import time

import jwt
import pytest

from shared.auth import SigningKeys, TokenVerifier
from shared.testing import prod_trust

ME = "{ me { id handle email roles } }"


async def test_register_login_me_round_trip(api):
    registered = await api.register("alice", email="alice@example.com", displayName="Alice")
    assert registered["tokenType"] == "Bearer"
    assert registered["expiresIn"] == 900
    assert registered["user"]["handle"] == "alice"
    assert registered["user"]["email"] == "alice@example.com"  # the owner sees it
    login = await api(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken user { id } } }",
        {"i": {"login": "alice", "password": "Correct-Horse-42"}},
    )
    token = login["data"]["login"]["accessToken"]
    me = await api(ME, token=token)
    assert me == {
        "data": {"me": {"id": registered["user"]["id"], "handle": "alice", "email": "alice@example.com", "roles": ["USER"]}}
    }


async def test_me_without_credentials_is_unauthenticated(api):
    body = await api(ME)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Authentication required"
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer eyJhbGciOiJub25lIn0.e30.", "Basic dXNlcjpwYXNz", "Bearer"])
async def test_malformed_tokens_get_401_with_code(api, header):
    body = await api(ME, headers={"authorization": header}, status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_token_is_refused(api, signing_pem):
    user = (await api.register("alice"))["user"]
    keys = SigningKeys.from_pem(signing_pem)
    now = int(time.time())
    expired = jwt.encode(
        {"iss": "tributary-identity", "aud": "tributary", "sub": user["id"], "iat": now - 3600, "nbf": now - 3600, "exp": now - 600, "roles": ["USER"], "scope": ""},
        keys.private_key,
        algorithm="EdDSA",
        headers={"kid": keys.kid},
    )
    body = await api(ME, token=expired, status=401)
    assert body == {"errors": [{"message": "Token expired", "extensions": {"code": "UNAUTHENTICATED", "reason": "expired"}}]}


async def test_token_signed_by_another_key_is_refused(api):
    user = (await api.register("alice"))["user"]
    other = SigningKeys.generate()
    now = int(time.time())
    forged = jwt.encode(
        {"iss": "tributary-identity", "aud": "tributary", "sub": user["id"], "iat": now, "exp": now + 600, "roles": ["ADMIN"], "scope": ""},
        other.private_key,
        algorithm="EdDSA",
        headers={"kid": other.kid},
    )
    body = await api(ME, token=forged, status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_jwks_verifies_issued_tokens(api):
    registered = await api.register("alice")
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    document = response.json()
    assert [k["kty"] for k in document["keys"]] == ["OKP"]
    assert "d" not in document["keys"][0]  # never the private part
    verifier = TokenVerifier(issuer="tributary-identity", audience="tributary", jwks=document)
    caller = await verifier.verify(registered["accessToken"])
    assert (caller.user_id, caller.roles) == (registered["user"]["id"], frozenset({"USER"}))


async def test_health_ready_checks_database_and_kv(api):
    response = await api.client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "kv": "ok"}


CREATE_KEY = "mutation($n: String!, $s: [String!]!) { createApiKey(name: $n, scopes: $s) { secret apiKey { id prefix scopes } } }"


async def test_api_key_header_forms_scopes_and_revocation(api, count_rows):
    token = (await api.register("alice"))["accessToken"]
    created = (await api(CREATE_KEY, {"n": "ci", "s": ["identity:read"]}, token=token))["data"]["createApiKey"]
    secret = created["secret"]
    assert secret.startswith(created["apiKey"]["prefix"])
    for headers in ({"authorization": f"ApiKey {secret}"}, {"x-api-key": secret}):
        body = await api("{ me { handle } }", headers=headers)
        assert body == {"data": {"me": {"handle": "alice"}}}
    # A read-only key cannot write, and no key can mint keys.
    body = await api('mutation { updateProfile(input: {bio: "x"}) { bio } }', api_key=secret)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    before = await count_rows()
    body = await api(CREATE_KEY, {"n": "escalate", "s": ["*"]}, api_key=secret)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count_rows() == before
    listed = await api("{ apiKeys { id revokedAt } }", token=token)
    assert listed["data"]["apiKeys"] == [{"id": created["apiKey"]["id"], "revokedAt": None}]
    revoked = await api("mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", {"id": created["apiKey"]["id"]}, token=token)
    assert revoked["data"]["revokeApiKey"]["revokedAt"] is not None
    body = await api("{ me { handle } }", api_key=secret, status=401)
    assert body == {"errors": [{"message": "Invalid API key", "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_write_scoped_key_can_update_profile(api):
    token = (await api.register("alice"))["accessToken"]
    secret = (await api(CREATE_KEY, {"n": "bot", "s": ["identity:write"]}, token=token))["data"]["createApiKey"]["secret"]
    body = await api('mutation { updateProfile(input: {bio: "from a bot"}) { bio } }', api_key=secret)
    assert body == {"data": {"updateProfile": {"bio": "from a bot"}}}


async def test_served_over_http_verifier_fetches_jwks_by_url(make_settings, memory_kv, database):
    """What another subgraph does: verify identity's tokens with keys fetched from its JWKS URL."""
    import httpx

    from shared.testing import serve_app
    from subgraphs.identity.app import JWKS_PATH, create_app

    settings = make_settings()
    app = create_app(settings, kv=memory_kv)
    async with serve_app(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/graphql",
            json={"query": 'mutation { register(input: {handle: "alice", password: "Correct-Horse-42"}) { accessToken user { id } } }'},
        )
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        registered = response.json()["data"]["register"]
        verifier = TokenVerifier(issuer=settings.jwt_issuer, audience=settings.jwt_audience, jwks_url=base_url + JWKS_PATH)
        caller = await verifier.verify(registered["accessToken"])
        assert caller.user_id == registered["user"]["id"]
        assert verifier.fetch_count == 1


async def test_prod_never_bootstraps_an_admin(app_factory):
    async with app_factory(environment="prod", **prod_trust(), wallet_domain="app.tributary.io",
                           wallet_uri="https://app.tributary.io/", code_secret="c" * 32) as api:
        first = await api.register("root_admin")
        assert first["user"]["roles"] == ["USER"]
        # Introspection is off in prod by default; ordinary operations still work.
        body = await api("{ __schema { types { name } } }")
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
