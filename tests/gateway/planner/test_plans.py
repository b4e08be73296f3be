"""Plan snapshots: print_plan output for a handful of operations over the fixture supergraphs.

Each golden was reviewed by hand: no redundant fetches, @requires fetched before the field that needs
it, independent fetches in Parallel, mutation root fields in Sequence.
"""

from __future__ import annotations

import functools

from graphql import parse

from gateway.planner import QueryPlanner, print_plan
from gateway.supergraph import build_api_schema, parse_supergraph
from tests.gateway.fixtures.registry import read_supergraph


@functools.cache
def _planner(fixture: str) -> QueryPlanner:
    sdl = read_supergraph(fixture)
    return QueryPlanner(parse_supergraph(sdl), build_api_schema(sdl))


def plan(fixture: str, operation: str) -> str:
    return print_plan(_planner(fixture).plan(parse(operation), None))


def test_requires_runs_before_the_field_in_parallel_with_independent_fetches():
    # products gives price/weight for @requires and upc for reviews; inventory and reviews are independent, so they run
    # in parallel; username is provided and name overridden by reviews, so no accounts fetch
    assert plan("shop", '{ topProducts(first: 2) { name shippingEstimate reviews { body author { username name } } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "products") {
      {
        topProducts(first: 2) {
          name
          price
          weight
          sku
          package
          __typename
          upc
        }
      }
    },
    Parallel {
      Flatten(path: "topProducts.@") {
        Fetch(service: "inventory") {
          ... on Product {
            __typename
            sku
            package
            price
            weight
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Product {
                shippingEstimate
              }
            }
          }
        },
      },
      Flatten(path: "topProducts.@") {
        Fetch(service: "reviews") {
          ... on Product {
            __typename
            upc
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Product {
                reviews {
                  body
                  author {
                    username
                    name
                  }
                }
              }
            }
          }
        },
      },
    },
  },
}"""


def test_keys_bridged_through_the_owner():
    # reviews knows Product by upc, inventory by sku+package: products turns one key into the other
    assert plan("shop", '{ me { name reviews { product { inStock } } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "accounts") {
      {
        me {
          id
          __typename
        }
      }
    },
    Flatten(path: "me") {
      Fetch(service: "reviews") {
        ... on User {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on User {
              name
              reviews {
                product {
                  upc
                  __typename
                }
              }
            }
          }
        }
      },
    },
    Flatten(path: "me.reviews.@.product") {
      Fetch(service: "products") {
        ... on Product {
          __typename
          upc
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              sku
              package
              __typename
            }
          }
        }
      },
    },
    Flatten(path: "me.reviews.@.product") {
      Fetch(service: "inventory") {
        ... on Product {
          __typename
          sku
          package
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              inStock
            }
          }
        }
      },
    },
  },
}"""


def test_provides_saves_a_fetch():
    # username is provided under Review.author: one fetch
    assert plan("shop", '{ latestReviews { body author { username } } }') == """\
QueryPlan {
  Fetch(service: "reviews") {
    {
      latestReviews {
        body
        author {
          username
        }
      }
    }
  },
}"""


def test_mutation_fields_in_order():
    # b runs only after a and everything a needs
    assert plan("shop", 'mutation { a: addReview(productUpc: "1", body: "x") { id product { inStock } } b: renameUser(id: "1", username: "y") { username } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "reviews") {
      mutation {
        a: addReview(productUpc: "1", body: "x") {
          id
          product {
            upc
            __typename
          }
        }
      }
    },
    Flatten(path: "a.product") {
      Fetch(service: "products") {
        ... on Product {
          __typename
          upc
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              sku
              package
              __typename
            }
          }
        }
      },
    },
    Flatten(path: "a.product") {
      Fetch(service: "inventory") {
        ... on Product {
          __typename
          sku
          package
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              inStock
            }
          }
        }
      },
    },
    Fetch(service: "accounts") {
      mutation {
        b: renameUser(id: "1", username: "y") {
          username
        }
      }
    },
  },
}"""


def test_include_on_a_variable_wraps_the_entity_fetch():
    # the reviews fetch is skipped as a whole when $w is false
    assert plan("shop", 'query($w: Boolean!) { product(upc: "1") { name reviews @include(if: $w) { body } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "products") {
      {
        product(upc: "1") {
          name
          upc
          __typename
        }
      }
    },
    Include(if: $w) {
      Flatten(path: "product") {
        Fetch(service: "reviews") {
          ... on Product {
            __typename
            upc
          }
          =>
          query ($representations: [_Any!]!, $w: Boolean!) {
            _entities(representations: $representations) {
              ... on Product {
                ... @include(if: $w) {
                  reviews {
                    body
                  }
                }
              }
            }
          }
        },
      },
    },
  },
}"""


def test_interface_object_root_field_resolves_concrete_types():
    # ratings only knows Media; catalog answers the interface's own field at the interface, and
    # __typename plus the fields of each implementation
    assert plan("media", '{ topRated { stars title ... on Movie { genre } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "ratings") {
      {
        topRated {
          __typename
          stars
          id
        }
      }
    },
    Flatten(path: "topRated.@") {
      Fetch(service: "catalog") {
        ... on Media {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Media {
              title
              __typename
              ... on Movie {
                genre
              }
            }
          }
        }
      },
    },
  },
}"""


def test_union_member_fields_from_another_subgraph():
    # Movie.title lives in catalog, Song.title in music: only movies are sent to catalog
    assert plan("media", '{ musicSearch(term: "a") { ... on Movie { title durationSeconds } ... on Song { title } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "music") {
      {
        musicSearch(term: "a") {
          __typename
          ... on Movie {
            durationSeconds
            id
            __typename
          }
          ... on Song {
            title
          }
        }
      }
    },
    Flatten(path: "musicSearch.@") {
      Fetch(service: "catalog") {
        ... on Movie {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Movie {
              title
            }
          }
        }
      },
    },
  },
}"""
