"""Variable @skip/@include in plans: a Condition wraps a fetch only when all of it shares the condition."""

from __future__ import annotations

from tests.gateway.planner.test_plans import plan


def test_condition_on_the_first_root_field_stays_on_that_field() -> None:
    # `users` is unconditional: the accounts fetch must run whatever `$b` is
    assert plan("shop", "query($b: Boolean!) { me @include(if: $b) { id } users { id } }") == """\
QueryPlan {
  Fetch(service: "accounts") {
    query ($b: Boolean!) {
      ... @include(if: $b) {
        me {
          id
        }
      }
      users {
        id
      }
    }
  },
}"""


def test_condition_every_root_field_of_a_fetch_shares_wraps_the_fetch() -> None:
    assert plan("shop", "query($b: Boolean!) { me @include(if: $b) { id } users @include(if: $b) { id } }") == """\
QueryPlan {
  Include(if: $b) {
    Fetch(service: "accounts") {
      query ($b: Boolean!) {
        ... @include(if: $b) {
          me {
            id
          }
          users {
            id
          }
        }
      }
    },
  },
}"""
