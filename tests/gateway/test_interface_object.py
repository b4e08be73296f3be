"""@interfaceObject: a subgraph adds fields to every implementation of an interface it sees as one type."""

from __future__ import annotations

from tests.gateway.conftest import post


async def test_interface_object_field_on_every_implementation(media, media_server):
    result = await post(media, "{ media { id stars } }")
    assert result == {
        "data": {
            "media": [
                {"id": "b1", "stars": 5},
                {"id": "b2", "stars": 4},
                {"id": "m1", "stars": 5},
                {"id": "m2", "stars": 3},
                {"id": "m3", "stars": 4},
            ]
        }
    }
    assert [c.subgraph for c in media_server.calls()] == ["catalog", "ratings"]
    # ratings only knows the interface: representations are typed Media, not Book/Movie
    assert [r["__typename"] for r in media_server.calls("ratings")[0].variables["representations"]] == ["Media"] * 5


async def test_concrete_types_behind_an_interface_object_root_field(media, media_server):
    # ratings returns bare Media ids; catalog tells which are books and which movies
    result = await post(
        media, "{ topRated { __typename id stars title ... on Book { pages } ... on Movie { genre } } }"
    )
    assert result == {
        "data": {
            "topRated": [
                {"__typename": "Movie", "id": "m1", "stars": 5, "title": "Alien", "genre": "DRAMA"},
                {"__typename": "Book", "id": "b1", "stars": 5, "title": "Dune", "pages": 412},
                {"__typename": "Movie", "id": "m3", "stars": 4, "title": "Koyaanisqatsi", "genre": "DOCUMENTARY"},
            ]
        }
    }
    assert [c.subgraph for c in media_server.calls()] == ["ratings", "catalog"]


async def test_interface_object_typename_alone(media):
    result = await post(media, "{ topRated { __typename } }")
    assert result == {"data": {"topRated": [{"__typename": "Movie"}, {"__typename": "Book"}, {"__typename": "Movie"}]}}


async def test_interface_object_from_a_concrete_type(media, media_server):
    result = await post(media, "{ playlist { ... on Movie { stars } } }")
    assert result == {"data": {"playlist": [{}, {"stars": 3}, {}]}}
    assert media_server.calls("ratings")[0].variables["representations"] == [{"__typename": "Media", "id": "m2"}]
