"""The wallet's federation SDL: golden file, entity keys, and nothing internal exposed."""

from __future__ import annotations

from pathlib import Path

from subgraphs.wallet.schema import schema

GOLDEN = Path(__file__).with_name("wallet.graphql")


def test_sdl_matches_the_golden_file() -> None:
    # Regenerate after an intended change: write schema.as_str() + "\n" to wallet.graphql.
    assert schema.as_str() + "\n" == GOLDEN.read_text()


def test_entities_and_no_internal_api() -> None:
    sdl = schema.as_str()
    assert 'type User @key(fields: "id")' in sdl
    assert 'type Post @key(fields: "id")' in sdl
    for internal in ("escrow", "Escrow", "holdId", "reconcil", "Account", "capture"):
        assert internal not in sdl, internal


def test_service_sdl_is_served() -> None:
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None
    assert "sendTip(" in result.data["_service"]["sdl"]
