"""Access tokens: issue/verify, expiry, tampering, audience, JWKS over HTTP, HS256 opt-in."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import jwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shared.auth import (
    ANONYMOUS,
    Caller,
    SigningKeys,
    TokenIssuer,
    TokenVerifier,
    authenticate_request,
)
from shared.errors import ForbiddenError, UnauthenticatedError
from shared.testing import serve_app

ISS, AUD = "tributary-identity", "tributary"


def make_issuer(keys: SigningKeys | None = None, *, ttl: int = 900, aud: str = AUD) -> TokenIssuer:
    return TokenIssuer(keys or SigningKeys.generate(), issuer=ISS, audience=aud, access_ttl=ttl)


async def test_issue_and_verify_round_trip() -> None:
    issuer = make_issuer()
    token = issuer.issue_access_token(user_id="u1", roles=["USER", "ADMIN"],
                                      scopes=["read", "write"], token_id="t1")
    caller = await TokenVerifier.for_issuer(issuer).verify(token)
    assert caller == Caller(user_id="u1", roles=frozenset({"USER", "ADMIN"}),
                            scopes=frozenset({"read", "write"}), token_id="t1")
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"


async def test_expired_token_is_rejected() -> None:
    issuer = make_issuer()
    token = issuer.issue_access_token(user_id="u1", roles=[])
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["exp"] = int(time.time()) - 3600
    claims["iat"] = claims["nbf"] = int(time.time()) - 7200
    expired = jwt.encode(claims, issuer.keys.private_key, algorithm="EdDSA",
                         headers={"kid": issuer.keys.kid})
    with pytest.raises(UnauthenticatedError, match="expired") as exc:
        await TokenVerifier.for_issuer(issuer).verify(expired)
    assert exc.value.code == "UNAUTHENTICATED"


async def test_tampered_token_is_rejected() -> None:
    issuer = make_issuer()
    token = issuer.issue_access_token(user_id="u1", roles=["USER"])
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["ADMIN"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(UnauthenticatedError, match="bad signature"):
        await TokenVerifier.for_issuer(issuer).verify(f"{head}.{forged}.{sig}")


async def test_token_from_another_key_is_rejected() -> None:
    issuer, other = make_issuer(), make_issuer()
    token = other.issue_access_token(user_id="u1", roles=[])
    with pytest.raises(UnauthenticatedError, match="unknown signing key"):
        await TokenVerifier.for_issuer(issuer).verify(token)


async def test_wrong_audience_is_rejected() -> None:
    keys = SigningKeys.generate()
    token = make_issuer(keys, aud="someone-else").issue_access_token(user_id="u1", roles=[])
    with pytest.raises(UnauthenticatedError, match="audience"):
        await TokenVerifier.for_issuer(make_issuer(keys)).verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "x" * 5000, "' OR 1=1 --"])
async def test_malformed_tokens_are_rejected(garbage: str) -> None:
    with pytest.raises(UnauthenticatedError):
        await TokenVerifier.for_issuer(make_issuer()).verify(garbage)


async def test_hs256_only_when_explicitly_enabled() -> None:
    secret = "dev-secret-" + "x" * 32
    now = int(time.time())
    token = jwt.encode({"sub": "u9", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 60,
                        "roles": ["USER"]}, secret, algorithm="HS256")
    strict = TokenVerifier.for_issuer(make_issuer())
    with pytest.raises(UnauthenticatedError, match="algorithm"):
        await strict.verify(token)
    dev = TokenVerifier(issuer=ISS, audience=AUD, hs256_secret=secret)
    assert (await dev.verify(token)).user_id == "u9"
    # alg=none never passes
    unsigned = jwt.encode({"sub": "u9", "iss": ISS, "aud": AUD, "iat": now, "exp": now + 60},
                          None, algorithm="none")
    with pytest.raises(UnauthenticatedError):
        await dev.verify(unsigned)


async def test_unknown_kid_refreshes_jwks_over_http() -> None:
    current = {"issuer": make_issuer()}

    async def jwks(_: Request) -> JSONResponse:
        return JSONResponse(current["issuer"].jwks())

    app = Starlette(routes=[Route("/.well-known/jwks.json", jwks)])
    async with serve_app(app) as base:
        verifier = TokenVerifier(issuer=ISS, audience=AUD,
                                 jwks_url=f"{base}/.well-known/jwks.json", min_refresh_seconds=0)
        first = current["issuer"].issue_access_token(user_id="u1", roles=[])
        assert (await verifier.verify(first)).user_id == "u1"
        assert (await verifier.verify(first)).user_id == "u1"
        assert verifier.fetch_count == 1  # cached
        current["issuer"] = make_issuer()  # identity rotated its key
        second = current["issuer"].issue_access_token(user_id="u2", roles=[])
        assert (await verifier.verify(second)).user_id == "u2"
        assert verifier.fetch_count == 2
        stranger = make_issuer().issue_access_token(user_id="u3", roles=[])
        with pytest.raises(UnauthenticatedError, match="unknown signing key"):
            await verifier.verify(stranger)


async def test_unreachable_jwks_is_unauthenticated_not_a_crash() -> None:
    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks_url="http://127.0.0.1:9/jwks.json",
                             timeout=2)
    token = make_issuer().issue_access_token(user_id="u1", roles=[])
    with pytest.raises(UnauthenticatedError, match="key set unavailable"):
        await verifier.verify(token)


def test_signing_keys_pem_round_trip_and_file(tmp_path: Path) -> None:
    keys = SigningKeys.generate()
    again = SigningKeys.from_pem(keys.to_pem())
    assert again.kid == keys.kid and again.public_jwk() == keys.public_jwk()
    path = tmp_path / "keys" / "signing.pem"
    created = SigningKeys.load(path=path, create=True)
    assert SigningKeys.load(path=path).kid == created.kid
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(ValueError):
        SigningKeys.load(path=tmp_path / "missing.pem")


async def test_authenticate_request_schemes() -> None:
    issuer = make_issuer()
    verifier = TokenVerifier.for_issuer(issuer)
    token = issuer.issue_access_token(user_id="u1", roles=["USER"])

    async def resolver(key: str) -> Caller | None:
        return Caller(user_id="u7", scopes=frozenset({"read"}), api_key_id="k1") \
            if key == "good-key" else None

    assert await authenticate_request({}, verifier) is ANONYMOUS
    assert (await authenticate_request({"authorization": f"Bearer {token}"}, verifier)).user_id == "u1"
    by_header = await authenticate_request({"authorization": "ApiKey good-key"}, verifier,
                                           api_key_resolver=resolver)
    assert by_header.api_key_id == "k1"
    by_x = await authenticate_request({"x-api-key": "good-key"}, verifier, api_key_resolver=resolver)
    assert by_x.user_id == "u7"
    for headers in ({"authorization": "ApiKey bad"}, {"x-api-key": "bad"},
                    {"authorization": "Basic dXNlcjpwdw=="}, {"authorization": "Bearer"},
                    {"authorization": "Bearer nope"}):
        with pytest.raises(UnauthenticatedError):
            await authenticate_request(headers, verifier, api_key_resolver=resolver)
    with pytest.raises(UnauthenticatedError, match="not accepted"):
        await authenticate_request({"x-api-key": "good-key"}, verifier)


async def test_service_token_header_is_not_a_credential_on_public_endpoints() -> None:
    # Services authenticate only on internal ports: on /graphql the header counts for nothing.
    caller = await authenticate_request({"x-service-token": "anything"}, None)
    assert caller is ANONYMOUS


def test_caller_requirements() -> None:
    with pytest.raises(UnauthenticatedError):
        ANONYMOUS.require_user()
    user = Caller(user_id="u1", roles=frozenset({"USER"}))
    assert user.require_user() == "u1" and user.is_authenticated
    with pytest.raises(ForbiddenError):
        user.require_role("ADMIN", "MODERATOR")
    Caller(user_id="u2", roles=frozenset({"MODERATOR"})).require_role("ADMIN", "MODERATOR")
    with pytest.raises(ForbiddenError):
        user.require_service()


async def test_verified_tokens_are_cached_only_until_they_expire() -> None:
    import asyncio

    issuer = make_issuer(ttl=1)
    verifier = TokenVerifier(issuer=ISS, audience=AUD, jwks=issuer.jwks(), leeway=0)
    token = issuer.issue_access_token(user_id="u1", roles=["USER"])
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first  # served from the cache
    await asyncio.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"]
                            - time.time()) + 0.2)
    with pytest.raises(UnauthenticatedError, match="expired"):
        await verifier.verify(token)
