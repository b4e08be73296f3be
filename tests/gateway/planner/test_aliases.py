"""Client aliases beside the planner's internal fields: keys and @requires inputs never share a
response name with something else the client asked for."""

from __future__ import annotations

from tests.gateway.planner.test_plans import plan


def test_key_field_named_like_a_client_alias_travels_under_a_reserved_alias() -> None:
    # the client calls inStock `sku`; the key inventory needs (sku package) must not land there,
    # and both occurrences of topProducts share one reserved alias and one inventory fetch
    assert plan("shop", "{ topProducts(first: 3) { sku: inStock } topProducts(first: 3) { shippingEstimate } }") == """\
QueryPlan {
  Sequence {
    Fetch(service: "products") {
      {
        topProducts(first: 3) {
          _tr1_sku: sku
          package
          __typename
          price
          weight
        }
      }
    },
    Flatten(path: "topProducts.@") {
      Fetch(service: "inventory") {
        ... on Product {
          __typename
          sku <- _tr1_sku
          package
          price
          weight
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              sku: inStock
              shippingEstimate
            }
          }
        }
      },
    },
  },
}"""


def test_key_field_named_like_a_later_client_alias_on_another_field() -> None:
    # `id: __typename` comes after the reviews jump needed the key `id`: the key still avoids `id`
    assert plan("shop", "{ users { reviews { id } } users { id: __typename } }") == """\
QueryPlan {
  Sequence {
    Fetch(service: "accounts") {
      {
        users {
          _tr1_id: id
          __typename
          id: __typename
        }
      }
    },
    Flatten(path: "users.@") {
      Fetch(service: "reviews") {
        ... on User {
          __typename
          id <- _tr1_id
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on User {
              reviews {
                id
              }
            }
          }
        }
      },
    },
  },
}"""


def test_nested_requires_field_named_like_a_client_alias() -> None:
    # packaging requires `dimensions { size volume }`; the client calls volume `size` there
    assert plan("shop", "{ topProducts(first: 1) { packaging dimensions { size: volume } } }") == """\
QueryPlan {
  Sequence {
    Fetch(service: "products") {
      {
        topProducts(first: 1) {
          dimensions {
            size: volume
            _tr1_size: size
            volume
          }
          sku
          package
          __typename
        }
      }
    },
    Flatten(path: "topProducts.@") {
      Fetch(service: "inventory") {
        ... on Product {
          __typename
          sku
          package
          dimensions {
            size <- _tr1_size
            volume
          }
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              packaging
            }
          }
        }
      },
    },
  },
}"""


def test_reserved_alias_skips_a_name_the_client_chose() -> None:
    assert plan("shop", "{ topProducts(first: 3) { sku: inStock _tr1_sku: name } }") == """\
QueryPlan {
  Sequence {
    Fetch(service: "products") {
      {
        topProducts(first: 3) {
          _tr1_sku: name
          _tr2_sku: sku
          package
          __typename
        }
      }
    },
    Flatten(path: "topProducts.@") {
      Fetch(service: "inventory") {
        ... on Product {
          __typename
          sku <- _tr2_sku
          package
        }
        =>
        query ($representations: [_Any!]!) {
          _entities(representations: $representations) {
            ... on Product {
              sku: inStock
            }
          }
        }
      },
    },
  },
}"""
