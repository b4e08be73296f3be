"""The exported federation SDL: golden copy, federation v2 @link, and it composes."""

from __future__ import annotations

from pathlib import Path

from gateway.compose import SubgraphSource, compose
from subgraphs.identity.schema import schema

# the checked-in contract (`make schema` writes it), shared with composition
GOLDEN = Path(__file__).parents[3] / "schema" / "identity.graphql"


def exported_sdl() -> str:
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None
    return str(result.data["_service"]["sdl"]).rstrip() + "\n"


def test_sdl_matches_golden_copy():
    # After an intended schema change, run `make schema` and commit schema/.
    assert exported_sdl() == GOLDEN.read_text()


def test_sdl_links_federation_v2_and_keys_user():
    sdl = exported_sdl()
    assert sdl.startswith('schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@authenticated", "@key", "@listSize"])')
    assert 'type User @key(fields: "id")' in sdl


def test_sdl_composes_into_a_supergraph():
    result = compose([SubgraphSource("identity", "http://127.0.0.1:4101/graphql", exported_sdl())])
    assert result.errors == ()
    assert result.supergraph_sdl is not None
    assert "join__Graph" in result.supergraph_sdl and "IDENTITY" in result.supergraph_sdl
