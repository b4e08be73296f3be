"""Response shaping: the compiled shaper agrees with the interpretive one, and hides what the API hides."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graphql import parse

from gateway.executor.merge import rename_keys
from gateway.executor.shape import Shaper
from gateway.executor.shape_codegen import CompiledShaper
from gateway.planner import normalize_operation
from gateway.supergraph import build_api_schema

FIXTURES = Path(__file__).parents[1] / "planner" / "fixtures"


def shape_both(fixture: str, query: str, data: dict[str, Any], variables: dict[str, Any] | None = None) -> tuple[Any, list[Any]]:
    schema = build_api_schema((FIXTURES / fixture / "supergraph.graphql").read_text(encoding="utf-8"))
    operation = normalize_operation(parse(query), None)
    results = []
    for shaper in (Shaper(schema), CompiledShaper(schema)):
        errors: list[dict[str, Any]] = []
        shaped = shaper.shape_root(operation.selections, "Query", data, variables or {}, errors)
        results.append((shaped, errors))
    assert results[0] == results[1], "compiled and interpretive shaping disagree"
    return results[0]


def test_enum_value_the_api_hides_becomes_null_with_an_error() -> None:
    data = {"users": [{"id": "u1", "type": "REGULAR"}, {"id": "u2", "type": "ANONYMOUS"}]}
    shaped, errors = shape_both("enum_inaccessible", "{ users { id type } }", data)
    assert shaped == {"users": [{"id": "u1", "type": "REGULAR"}, {"id": "u2", "type": None}]}
    assert errors == [
        {
            "message": 'Enum "UserType" cannot represent value: "ANONYMOUS"',
            "path": ["users", 1, "type"],
            "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
        }
    ]


def test_non_null_enum_bubbles_to_the_list_item() -> None:
    data = {"users": [{"id": "u1", "typeNN": "ANONYMOUS"}]}
    shaped, errors = shape_both("enum_inaccessible", "{ users { id typeNN } }", data)
    assert shaped == {"users": [None]}
    assert [e["path"] for e in errors] == [["users", 0, "typeNN"]]


def test_null_in_a_non_null_position_bubbles_with_a_coded_error() -> None:
    data = {"users": [{"id": "u1", "typeNN": None}]}
    shaped, errors = shape_both("enum_inaccessible", "{ users { id typeNN } }", data)
    assert shaped == {"users": [None]}
    assert errors == [
        {
            "message": "Cannot return null for non-nullable field User.typeNN.",
            "path": ["users", 0, "typeNN"],
            "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
        }
    ]


def test_request_order_typename_and_fragments_by_runtime_type() -> None:
    data = {
        "accounts": [
            {"__typename": "Admin", "name": "a1-name", "id": "a1", "extra": 1},
            {"__typename": "User", "id": "u1", "name": "u1-name"},
        ]
    }
    query = "{ accounts { __typename ... on User { name id } ... on Admin { id } } }"
    shaped, errors = shape_both("type_mismatch", query, data)
    assert errors == []
    assert shaped == {
        "accounts": [{"__typename": "Admin", "id": "a1"}, {"__typename": "User", "name": "u1-name", "id": "u1"}]
    }
    assert list(shaped["accounts"][1]) == ["__typename", "name", "id"]


def test_skip_and_include_are_evaluated_per_request() -> None:
    query = "query($a: Boolean!) { users { id @include(if: $a) type @skip(if: $a) } }"
    data = {"users": [{"id": "u1", "type": "REGULAR"}]}
    assert shape_both("enum_inaccessible", query, data, {"a": True})[0] == {"users": [{"id": "u1"}]}
    assert shape_both("enum_inaccessible", query, data, {"a": False})[0] == {"users": [{"type": "REGULAR"}]}


def test_response_key_order_follows_the_first_included_occurrence() -> None:
    # CollectFields runs after @skip/@include: a skipped first `name` leaves `id` first
    query = "query($s: Boolean!) { users { name @skip(if: $s) id name } }"
    data = {"users": [{"id": "u1", "name": "Ada"}]}
    skipped = shape_both("type_mismatch", query, data, {"s": True})[0]
    assert list(skipped["users"][0]) == ["id", "name"]
    kept = shape_both("type_mismatch", query, data, {"s": False})[0]
    assert list(kept["users"][0]) == ["name", "id"]


def test_response_key_order_through_conditional_fragments() -> None:
    query = """query($a: Boolean!, $b: Boolean!) {
      users { ... @include(if: $a) { id name } name ... @include(if: $b) { id } }
    }"""
    data = {"users": [{"id": "u1", "name": "Ada"}]}
    assert list(shape_both("type_mismatch", query, data, {"a": True, "b": True})[0]["users"][0]) == ["id", "name"]
    assert list(shape_both("type_mismatch", query, data, {"a": False, "b": True})[0]["users"][0]) == ["name", "id"]
    assert list(shape_both("type_mismatch", query, data, {"a": False, "b": False})[0]["users"][0]) == ["name"]


def test_reserved_aliases_are_renamed_back() -> None:
    data = {"accounts": [{"__typename": "User", "_tr1_id": "u1"}, {"__typename": "Admin", "id": "a1"}]}
    rename_keys(data, ((("accounts", "@"), "_tr1_id", "id"),))
    assert data == {"accounts": [{"__typename": "User", "id": "u1"}, {"__typename": "Admin", "id": "a1"}]}


def test_inaccessible_enum_value_becomes_null_silently_unknown_value_errors() -> None:
    from gateway.executor.engine import Engine

    sdl = (FIXTURES / "enum_inaccessible" / "supergraph.graphql").read_text(encoding="utf-8")
    engine = Engine(sdl, client=None)  # type: ignore[arg-type]
    operation = normalize_operation(parse("{ users { id type } }"), None)
    errors: list[dict[str, Any]] = []
    data = {"users": [{"id": "u1", "type": "ANONYMOUS"}, {"id": "u2", "type": "MARTIAN"}]}
    shaped = engine.shaper.shape_root(operation.selections, "Query", data, {}, errors)
    assert shaped == {"users": [{"id": "u1", "type": None}, {"id": "u2", "type": None}]}
    assert errors == [
        {
            "message": 'Enum "UserType" cannot represent value: "MARTIAN"',
            "path": ["users", 1, "type"],
            "extensions": {"code": "RESPONSE_VALIDATION_FAILED"},
        }
    ]
