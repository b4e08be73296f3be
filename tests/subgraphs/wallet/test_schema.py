"""The wallet's federation SDL: golden file, entity keys, and nothing internal exposed."""

from __future__ import annotations

from pathlib import Path

from subgraphs.wallet.schema import schema
from tests.subgraphs._references import non_null_references

# the checked-in contract (`make schema` writes it), shared with composition
GOLDEN = Path(__file__).parents[3] / "schema" / "wallet.graphql"


def test_sdl_matches_the_golden_file() -> None:
    # After an intended schema change, run `make schema` and commit schema/.
    assert schema.as_str() + "\n" == GOLDEN.read_text()


def test_entities_and_no_internal_api() -> None:
    sdl = schema.as_str()
    assert 'type User @key(fields: "id")' in sdl
    assert 'type Post @key(fields: "id")' in sdl
    for internal in ("escrow", "Escrow", "holdId", "reconcil", "Account", "capture"):
        assert internal not in sdl, internal


def test_references_to_other_subgraphs_entities_are_nullable() -> None:
    # identity owns User, social owns Post: a ghost id must null one field, not a leaderboard
    assert non_null_references(schema._schema, {"User", "Post"}) == []


def test_service_sdl_is_served() -> None:
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None
    assert "sendTip(" in result.data["_service"]["sdl"]
