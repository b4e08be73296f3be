"""Access-token revocation: identity writes a per-user time, every verifier refuses older tokens."""

from __future__ import annotations

import asyncio

import pytest

from shared.auth import SigningKeys, TokenIssuer, TokenVerifier
from shared.errors import ServiceUnavailableError, UnauthenticatedError
from shared.redis import MemoryKeyValue, RedisKeyValue, create_kv
from shared.revocation import NAMESPACE, TokenRevocations, revocation_kv

ISS, AUD = "tributary-identity", "tributary"


def make_issuer() -> TokenIssuer:
    return TokenIssuer(SigningKeys.generate(), issuer=ISS, audience=AUD, access_ttl=300)


def verifier_on(kv, issuer, **options) -> TokenVerifier:
    return TokenVerifier(issuer=ISS, audience=AUD, jwks=issuer.jwks(),
                         revocations=TokenRevocations(revocation_kv(kv), **options))


async def wait_for(predicate) -> None:
    # Polls (no timed assertion): revocations reach other verifiers once their cache ages out.
    for _ in range(500):
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


async def refused(verifier: TokenVerifier, token: str) -> bool:
    try:
        await verifier.verify(token)
    except UnauthenticatedError as error:
        assert error.graphql_extensions()["reason"] == "revoked"
        return True
    return False


def test_the_namespace_is_shared_across_service_prefixes(kv) -> None:
    shared = revocation_kv(kv)
    assert shared.prefix == NAMESPACE
    assert type(shared) is type(kv)
    if isinstance(kv, RedisKeyValue):
        assert shared.client is kv.client  # type: ignore[attr-defined]
    else:
        assert isinstance(shared, MemoryKeyValue) and shared.store is kv.store


async def test_revoked_tokens_are_refused_by_every_verifier_newer_ones_accepted(kv) -> None:
    issuer = make_issuer()
    writer = verifier_on(kv, issuer)  # identity's own verifier: it writes the revocations
    other = verifier_on(kv, issuer)  # another service's, reading the same KV server
    old = issuer.issue_access_token(user_id="u1", roles=["USER"])
    bystander = issuer.issue_access_token(user_id="u2", roles=["USER"])
    assert (await other.verify(old)).user_id == "u1"  # now cached by `other`
    assert writer.revocations is not None
    await writer.revocations.revoke("u1", retain_seconds=600)
    assert await refused(writer, old)  # at once where it was written
    await wait_for(lambda: refused(other, old))  # within the other verifier's cache time
    fresh = issuer.issue_access_token(user_id="u1", roles=["USER"])
    assert (await writer.verify(fresh)).user_id == "u1"
    assert (await other.verify(fresh)).user_id == "u1"
    assert (await other.verify(bystander)).user_id == "u2"


async def test_reads_are_cached_per_user_for_about_a_second(kv) -> None:
    issuer = make_issuer()
    verifier = verifier_on(kv, issuer, cache_seconds=1.0)
    token = issuer.issue_access_token(user_id="u3", roles=[])
    for _ in range(50):
        await verifier.verify(token)
    assert verifier.revocations is not None and verifier.revocations.reads == 1


async def test_a_revocation_never_moves_back_in_time(kv) -> None:
    revocations = TokenRevocations(revocation_kv(kv))
    future = (await revocations.revoke("u4", retain_seconds=600)) + 60_000
    await revocation_kv(kv).set("revoked-before:u4", future, ttl=600)
    assert await revocations.revoke("u4", retain_seconds=600) == future
    assert 0 < (await revocation_kv(kv).ttl("revoked-before:u4") or 0) <= 600


async def test_unreachable_redis_fails_closed() -> None:
    kv = create_kv("redis://127.0.0.1:1/0", prefix="unreachable:")
    try:
        issuer = make_issuer()
        verifier = verifier_on(kv, issuer)
        token = issuer.issue_access_token(user_id="u5", roles=[])
        with pytest.raises(ServiceUnavailableError):
            await verifier.verify(token)
    finally:
        await kv.close()
