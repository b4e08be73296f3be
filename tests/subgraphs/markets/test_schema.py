"""The markets schema: references to other subgraphs' entities are nullable."""

from __future__ import annotations

from subgraphs.markets.schema import schema
from tests.subgraphs._references import non_null_references


def test_references_to_other_subgraphs_are_nullable() -> None:
    assert non_null_references(schema._schema, {"User", "Media", "Post"}) == []


def test_money_is_shareable_with_the_wallets() -> None:
    assert "type Money @shareable" in schema.as_str()
