"""Enum and input types that differ between subgraphs: output enums merge, input ones intersect."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_output_enum_values_from_each_subgraph(media):
    result = await post(media, "{ media { ... on Movie { genre } } playlist { ... on Song { genre } } }")
    assert result == {
        "data": {
            "media": [{}, {}, {"genre": "DRAMA"}, {"genre": "COMEDY"}, {"genre": "DOCUMENTARY"}],
            "playlist": [{"genre": "JAZZ"}, {}, {"genre": "JAZZ"}],
        }
    }


async def test_input_enum_and_input_object_accepted_by_both_subgraphs(media, media_server):
    query = """
    query($filter: SearchFilter) {
      search(term: "a", filter: $filter) { ... on Movie { id } ... on Book { id } }
      musicSearch(term: "a", filter: {format: DIGITAL, limit: 1}) { ... on Movie { id } ... on Song { id } }
    }
    """
    result = await post(media, query, {"filter": {"format": "DIGITAL", "limit": 2}})
    assert result == {"data": {"search": [{"id": "b2"}, {"id": "m1"}], "musicSearch": [{"id": "s1"}]}}
    assert media_server.calls("catalog")[0].variables == {"filter": {"format": "DIGITAL", "limit": 2}}


async def test_enum_value_known_to_one_subgraph_only_is_rejected(media, media_server):
    response = await media.post("/graphql", json={"query": '{ search(term: "a", filter: {format: VHS}) { __typename } }'})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "Value 'VHS' does not exist in 'Format' enum.", "locations": [{"line": 1, "column": 38}],
                    "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]
    }
    assert media_server.calls() == []


async def test_input_field_known_to_one_subgraph_only_is_rejected(media):
    response = await media.post(
        "/graphql",
        json={"query": "query($f: SearchFilter) { search(term: \"a\", filter: $f) { __typename } }",
              "variables": {"f": {"titlePrefix": "A"}}},
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": "Variable '$f' got invalid value {'titlePrefix': 'A'}; Field 'titlePrefix' is not "
                               "defined by type 'SearchFilter'.",
                    "locations": [{"line": 1, "column": 7}], "extensions": {"code": "BAD_USER_INPUT"}}]
    }


async def test_introspection_shows_the_merged_enums(media):
    result = await post(
        media,
        '{ genre: __type(name: "Genre") { enumValues { name } } format: __type(name: "Format") { enumValues { name } } '
        'filter: __type(name: "SearchFilter") { inputFields { name } } }',
    )
    assert result == {
        "data": {
            "genre": {"enumValues": [{"name": "DRAMA"}, {"name": "COMEDY"}, {"name": "DOCUMENTARY"}, {"name": "JAZZ"}]},
            "format": {"enumValues": [{"name": "DIGITAL"}]},
            "filter": {"inputFields": [{"name": "format"}, {"name": "limit"}]},
        }
    }
