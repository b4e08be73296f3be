"""argon2id hashing and the strength policy."""

from __future__ import annotations

import pytest

from shared.errors import BadUserInputError
from subgraphs.identity.security.passwords import PasswordHasher, check_password_strength


async def test_default_costs_are_argon2id_rfc9106():
    hasher = PasswordHasher()
    digest = await hasher.hash("Correct-Horse-42")
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert await hasher.verify(digest, "Correct-Horse-42")
    assert not await hasher.verify(digest, "correct-horse-42")


async def test_verify_tolerates_garbage(hasher):
    assert not await hasher.verify(None, "anything-Goes-1")
    assert not await hasher.verify("not a hash", "anything-Goes-1")
    assert not await hasher.verify(await hasher.hash("Correct-Horse-42"), "x" * 1_000_000)


async def test_cheaper_hash_is_flagged_for_rehash(hasher):
    assert PasswordHasher().needs_rehash(await hasher.hash("Correct-Horse-42"))


@pytest.mark.parametrize("password", ["Tr0ub4dor&3x", "correct horse battery staple"])
def test_strong_passwords_pass(password):
    check_password_strength(password, handle="alice")


@pytest.mark.parametrize(
    ("password", "needle"),
    [("Ab1!", "at least"), ("Password123!", "common"), ("xxAlice-2024x", "handle"), ("abababababab", "distinct"), ("abcdefghij12", "mix")],
)
def test_weak_passwords_say_why(password, needle):
    with pytest.raises(BadUserInputError, match=needle):
        check_password_strength(password, handle="alice")
