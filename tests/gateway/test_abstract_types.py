"""Interfaces and unions whose implementations live in different subgraphs; subgraphs that know
only some members; type conditions resolved on __typename."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_interface_field_and_type_conditions(media, media_server):
    result = await post(media, "{ media { __typename id title ... on Book { pages } ... on Movie { genre } } }")
    assert result == {
        "data": {
            "media": [
                {"__typename": "Book", "id": "b1", "title": "Dune", "pages": 412},
                {"__typename": "Book", "id": "b2", "title": "Neuromancer", "pages": 271},
                {"__typename": "Movie", "id": "m1", "title": "Alien", "genre": "DRAMA"},
                {"__typename": "Movie", "id": "m2", "title": "Airplane!", "genre": "COMEDY"},
                {"__typename": "Movie", "id": "m3", "title": "Koyaanisqatsi", "genre": "DOCUMENTARY"},
            ]
        }
    }
    assert [c.subgraph for c in media_server.calls()] == ["catalog"]


async def test_interface_implemented_in_another_subgraph(media, media_server):
    # Playable lives in music; Movie's title and genre live in catalog
    result = await post(
        media,
        "{ playlist { __typename id durationSeconds ... on Song { title genre } ... on Movie { title genre } } }",
    )
    assert result == {
        "data": {
            "playlist": [
                {"__typename": "Song", "id": "s1", "durationSeconds": 545, "title": "So What", "genre": "JAZZ"},
                {"__typename": "Movie", "id": "m2", "durationSeconds": 5220, "title": "Airplane!", "genre": "COMEDY"},
                {"__typename": "Song", "id": "s2", "durationSeconds": 337, "title": "Blue in Green", "genre": "JAZZ"},
            ]
        }
    }
    assert [c.subgraph for c in media_server.calls()] == ["music", "catalog"]
    assert media_server.calls("catalog")[0].variables["representations"] == [{"__typename": "Movie", "id": "m2"}]


async def test_union_members_from_the_subgraph_that_knows_only_some(media, media_server):
    # catalog's SearchResult has no Song: the gateway must not send `... on Song` to it
    result = await post(
        media,
        '{ search(term: "a") { __typename ... on Book { title pages } ... on Movie { title } ... on Song { title } } }',
    )
    assert result == {
        "data": {
            "search": [
                {"__typename": "Book", "title": "Neuromancer", "pages": 271},
                {"__typename": "Movie", "title": "Alien"},
                {"__typename": "Movie", "title": "Airplane!"},
                {"__typename": "Movie", "title": "Koyaanisqatsi"},
            ]
        }
    }
    assert "Song" not in media_server.calls("catalog")[0].query


async def test_union_spanning_subgraphs_with_fields_from_both(media, media_server):
    result = await post(
        media,
        '{ musicSearch(term: "i") { ... on Song { id title } ... on Movie { id title durationSeconds stars } } }',
    )
    assert result == {
        "data": {
            "musicSearch": [
                {"id": "s2", "title": "Blue in Green"},
                {"id": "m1", "title": "Alien", "durationSeconds": 7020, "stars": 5},
                {"id": "m2", "title": "Airplane!", "durationSeconds": 5220, "stars": 3},
                {"id": "m3", "title": "Koyaanisqatsi", "durationSeconds": 5160, "stars": 4},
            ]
        }
    }
    assert sorted(c.subgraph for c in media_server.calls()) == ["catalog", "music", "ratings"]


async def test_fragment_on_interface_inside_union(media):
    result = await post(
        media,
        """
        { search(term: "dune") { ...Titled ... on Book { pages } } }
        fragment Titled on Media { id title }
        """,
    )
    assert result == {"data": {"search": [{"id": "b1", "title": "Dune", "pages": 412}]}}


async def test_nested_abstract_fragments_and_typename_only(media):
    result = await post(
        media,
        """
        { playlist { ... on Playable { __typename ...Movieish } } }
        fragment Movieish on Movie { ... on Media { title } }
        """,
    )
    assert result == {
        "data": {
            "playlist": [
                {"__typename": "Song"},
                {"__typename": "Movie", "title": "Airplane!"},
                {"__typename": "Song"},
            ]
        }
    }


async def test_abstract_root_field_returning_one_entity(media):
    result = await post(media, '{ mediaItem(id: "m3") { title ... on Movie { durationSeconds } } }')
    assert result == {"data": {"mediaItem": {"title": "Koyaanisqatsi", "durationSeconds": 5160}}}
