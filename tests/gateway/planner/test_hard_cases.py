"""Hard planning cases (design note section f): each plan printed and compared with a reviewed golden.

Supergraphs under fixtures/ were composed with Apollo's composition from the subgraph SDLs beside them.
"""

from __future__ import annotations

from pathlib import Path

from graphql import parse

from gateway.planner import QueryPlanner, print_plan
from gateway.supergraph import build_api_schema, parse_supergraph

FIXTURES = Path(__file__).parent / "fixtures"


def plan_for(fixture: str, query: str) -> str:
    sdl = (FIXTURES / fixture / "supergraph.graphql").read_text(encoding="utf-8")
    planner = QueryPlanner(parse_supergraph(sdl), build_api_schema(sdl))
    return print_plan(planner.plan(parse(query)))



def test_interface_object_fields_and_requires() -> None:
    assert plan_for('mixed', '{ media { __typename id title reviews rating ... on Book { author discounted(pct: 10) } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        media {
          __typename
          ... on Book {
            __typename
            id
            title
            author
          }
          ... on Movie {
            __typename
            id
            title
          }
        }
      }
    },
    Parallel {
      Flatten(path: "media.@") {
        Fetch(service: "b") {
          ... on Book as Media {
            __typename
            id
          }
          ... on Movie as Media {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Media {
                reviews
                rating
              }
            }
          }
        },
      },
      Sequence {
        Flatten(path: "media.@") {
          Fetch(service: "e") {
            ... on Book {
              __typename
              id
            }
            =>
            query ($representations: [_Any!]!) {
              _entities(representations: $representations) {
                ... on Book {
                  price
                }
              }
            }
          },
        },
        Flatten(path: "media.@") {
          Fetch(service: "d") {
            ... on Book {
              __typename
              id
              price
            }
            =>
            query ($representations: [_Any!]!) {
              _entities(representations: $representations) {
                ... on Book {
                  discounted(pct: 10)
                }
              }
            }
          },
        },
      },
    },
  },
}"""


def test_key_bridging_and_override() -> None:
    assert plan_for('mixed', '{ account(handle: "x") { plan balance user { id score email name } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "c") {
      {
        account(handle: "x") {
          plan
          user {
            id
            score
            __typename
          }
          handle
          __typename
        }
      }
    },
    Parallel {
      Flatten(path: "account.user") {
        Fetch(service: "b") {
          ... on User {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on User {
                email
              }
            }
          }
        },
      },
      Flatten(path: "account.user") {
        Fetch(service: "a") {
          ... on User {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on User {
                name
              }
            }
          }
        },
      },
      Flatten(path: "account") {
        Fetch(service: "d") {
          ... on Account {
            __typename
            handle
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Account {
                balance
              }
            }
          }
        },
      },
    },
  },
}"""


def test_union_members_from_other_subgraphs() -> None:
    assert plan_for('mixed', '{ search { ... on User { score } ... on Book { rating } } node(id: "1") { id ... on User { email } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        search {
          __typename
          ... on Book {
            id
            __typename
          }
          ... on User {
            id
            __typename
          }
        }
        node(id: "1") {
          __typename
          ... on User {
            id
            __typename
          }
        }
      }
    },
    Parallel {
      Flatten(path: "search.@") {
        Fetch(service: "b") {
          ... on Book as Media {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Media {
                rating
              }
            }
          }
        },
      },
      Flatten(path: "search.@") {
        Fetch(service: "c") {
          ... on User {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on User {
                score
              }
            }
          }
        },
      },
      Flatten(path: "node") {
        Fetch(service: "b") {
          ... on User {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on User {
                email
              }
            }
          }
        },
      },
    },
  },
}"""


def test_include_lifts_a_whole_entity_fetch() -> None:
    assert plan_for('mixed', 'query($x: Boolean!) { topBook { price author @include(if: $x) } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "e") {
      {
        topBook {
          price
          id
          __typename
        }
      }
    },
    Include(if: $x) {
      Flatten(path: "topBook") {
        Fetch(service: "a") {
          ... on Book {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!, $x: Boolean!) {
            _entities(representations: $representations) {
              ... on Book {
                ... @include(if: $x) {
                  author
                }
              }
            }
          }
        },
      },
    },
  },
}"""


def test_requires_field_with_other_arguments_is_aliased() -> None:
    assert plan_for('requires_arguments', '{ products { upc name shippingEstimate price(currency: "EUR") } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "b") {
      {
        products {
          upc
          name
          price(currency: "EUR")
          _tr1_price: price(currency: "USD")
          weight
          __typename
        }
      }
    },
    Flatten(path: "products.@") {
      Fetch(service: "a") {
        ... on Product {
          __typename
          upc
          price <- _tr1_price
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
  },
}"""


def test_nested_requires_with_arguments_beside_client_arguments() -> None:
    assert plan_for('requires_arguments', '{ feed { author { name } comments(limit: 1) { body } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "c") {
      {
        feed {
          id
          __typename
        }
      }
    },
    Flatten(path: "feed.@") {
      Fetch(service: "d") {
        ... on Post {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Post {
              _tr1_comments: comments(limit: 3) {
                id
                __typename
              }
              comments(limit: 1) {
                id
                __typename
              }
            }
          }
        }
      },
    },
    Parallel {
      Sequence {
        Flatten(path: "feed.@._tr1_comments.@") {
          Fetch(service: "c") {
            ... on Comment {
              __typename
              id
            }
            =>
            query ($representations: [_Any!]!) {
              _entities(representations: $representations) {
                ... on Comment {
                  authorId
                }
              }
            }
          },
        },
        Flatten(path: "feed.@") {
          Fetch(service: "d") {
            ... on Post {
              __typename
              id
              comments <- _tr1_comments {
                authorId
              }
            }
            =>
            query ($representations: [_Any!]!) {
              _entities(representations: $representations) {
                ... on Post {
                  author {
                    name
                  }
                }
              }
            }
          },
        },
      },
      Flatten(path: "feed.@.comments.@") {
        Fetch(service: "c") {
          ... on Comment {
            __typename
            id
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Comment {
                body
              }
            }
          }
        },
      },
    },
  },
}"""


def test_subgraph_type_mismatch_is_aliased() -> None:
    assert plan_for('type_mismatch', '{ accounts { ... on User { id name } ... on Admin { id name } } }') == """\
QueryPlan {
  Fetch(service: "a") {
    {
      accounts {
        __typename
        ... on Admin {
          id
          name
        }
        ... on User {
          _tr1_id: id
          name
        }
      }
    }
  },
}"""


def test_provides_under_type_condition() -> None:
    assert plan_for('provides_interface', '{ media { id ... on Book { title } ... on Movie { title } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        media {
          __typename
          ... on Book {
            id
            title
          }
          ... on Movie {
            id
            __typename
          }
        }
      }
    },
    Flatten(path: "media.@") {
      Fetch(service: "b") {
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


def test_shared_root_value_type_split_over_subgraphs() -> None:
    assert plan_for('shared_root', '{ item { id title price } items { title price } }') == """\
QueryPlan {
  Parallel {
    Fetch(service: "name") {
      {
        item {
          id
          title
        }
        items {
          title
        }
      }
    },
    Fetch(service: "price") {
      {
        item {
          price
        }
        items {
          price
        }
      }
    },
  },
}"""

def test_value_type_field_fetched_through_its_parent_entity() -> None:
    assert plan_for('parent_entity', '{ products { id category { id name details } } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        products {
          id
          category {
            id
            name
          }
          __typename
        }
      }
    },
    Flatten(path: "products.@") {
      Fetch(service: "c") {
        ... on Product {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              category {
                details
              }
            }
          }
        }
      },
    },
  },
}"""

def test_requires_keeps_type_conditions() -> None:
    assert plan_for('requires_fragments', '{ entity { area } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        entity {
          data {
            __typename
            ... on Circle {
              __typename
              kind
              radius
            }
            ... on Square {
              __typename
              kind
              side
            }
          }
          id
          __typename
        }
      }
    },
    Flatten(path: "entity") {
      Fetch(service: "b") {
        ... on Entity {
          __typename
          id
          data {
            __typename
            kind
            ... on Circle {
              radius
            }
            ... on Square {
              side
            }
          }
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Entity {
              area
            }
          }
        }
      },
    },
  },
}"""

def test_subgraph_field_type_narrower_than_supergraph() -> None:
    assert plan_for('subgraph_types', '{ viewer { media { ... on Book { title } ... on Song { title } } book { ... on Book { title } ... on Song { title } } song { title } } }') == """\
QueryPlan {
  Parallel {
    Fetch(service: "a") {
      {
        viewer {
          media {
            __typename
            ... on Book {
              title
            }
            ... on Song {
              title
            }
          }
          _tr1_book: book {
            __typename
            title
          }
        }
      }
    },
    Fetch(service: "b") {
      {
        viewer {
          song {
            title
          }
        }
      }
    },
  },
}"""


def test_two_requires_of_one_field_with_different_arguments_fetch_separately() -> None:
    # one representation cannot hold `price` in USD and in EUR: two fetches, one per @requires
    assert plan_for('requires_conflict', '{ products { upc shippingUSD shippingEUR } }') == """\
QueryPlan {
  Sequence {
    Fetch(service: "b") {
      {
        products {
          upc
          price(currency: "USD")
          __typename
          _tr1_price: price(currency: "EUR")
        }
      }
    },
    Parallel {
      Flatten(path: "products.@") {
        Fetch(service: "a") {
          ... on Product {
            __typename
            upc
            price
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Product {
                shippingUSD
              }
            }
          }
        },
      },
      Flatten(path: "products.@") {
        Fetch(service: "a") {
          ... on Product {
            __typename
            upc
            price <- _tr1_price
          }
          =>
          query ($representations: [_Any!]!) {
            _entities(representations: $representations) {
              ... on Product {
                shippingEUR
              }
            }
          }
        },
      },
    },
  },
}"""


PARTIAL_UNION_SELECTION = "actions { __typename ... on Common { label } ... on OnlyA { a } ... on OnlyB { b } }"


def test_union_below_a_shareable_entity_field_keeps_only_members_every_candidate_knows() -> None:
    # Container.wrapper resolves in a and in b alike, so a member only a knows (OnlyA) must not be
    # selected: the answer would depend on which subgraph the planner chose (audit partial-union-complex)
    assert plan_for("partial_union", "{ rootA { wrapper { " + PARTIAL_UNION_SELECTION + " } } }") == """\
QueryPlan {
  Fetch(service: "a") {
    {
      rootA {
        wrapper {
          actions {
            __typename
            ... on Common {
              __typename
              label
            }
          }
        }
      }
    }
  },
}"""


def test_union_below_a_field_one_subgraph_owns_keeps_that_subgraphs_members() -> None:
    # only b resolves Container.bWrapper: after the key hop, b's members (Common, OnlyB) are safe
    assert plan_for("partial_union", "{ rootA { bWrapper { " + PARTIAL_UNION_SELECTION + " } } }") == """\
QueryPlan {
  Sequence {
    Fetch(service: "a") {
      {
        rootA {
          id
          __typename
        }
      }
    },
    Flatten(path: "rootA") {
      Fetch(service: "b") {
        ... on Container {
          __typename
          id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Container {
              bWrapper {
                actions {
                  __typename
                  ... on Common {
                    __typename
                    label
                  }
                  ... on OnlyB {
                    __typename
                    b
                  }
                }
              }
            }
          }
        }
      },
    },
  },
}"""
