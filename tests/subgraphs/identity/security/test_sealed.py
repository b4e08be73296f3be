"""Sealed TOTP seeds: AES-256-GCM that opens only with the same key and for the same owner."""

from __future__ import annotations

import pytest

from subgraphs.identity.security.sealed import open_sealed, seal

KEY = b"k" * 32


def test_round_trip_and_fresh_nonces():
    first = seal(KEY, owner="u1", secret="JBSWY3DPEHPK3PXP")
    second = seal(KEY, owner="u1", secret="JBSWY3DPEHPK3PXP")
    assert first != second and "JBSWY3DPEHPK3PXP" not in first
    assert len(first) <= 128
    assert open_sealed(KEY, owner="u1", sealed=first) == "JBSWY3DPEHPK3PXP"


@pytest.mark.parametrize(("key", "owner", "sealed_as"), [
    (b"x" * 32, "u1", None), (KEY, "u2", None), (KEY, "u1", "v9:abc"),
])
def test_another_key_owner_or_format_does_not_open(key, owner, sealed_as):
    sealed = sealed_as or seal(KEY, owner="u1", secret="JBSWY3DPEHPK3PXP")
    with pytest.raises(ValueError):
        open_sealed(key, owner=owner, sealed=sealed)
