"""Social settings: what moderation's absence does to a post, by environment."""

from __future__ import annotations

from shared.testing import prod_trust
from subgraphs.social.config import SocialSettings


def test_posts_fail_closed_in_prod_and_open_elsewhere() -> None:
    prod = SocialSettings(environment="prod", **prod_trust())
    assert (prod.moderation_post_policy, prod.moderation_comment_policy) == ("closed", "closed")
    dev = SocialSettings(environment="dev")
    assert (dev.moderation_post_policy, dev.moderation_comment_policy) == ("open", "open")


def test_an_operator_may_still_choose_open_in_prod() -> None:
    chosen = SocialSettings(environment="prod", moderation_post_policy="open", **prod_trust())
    assert (chosen.moderation_post_policy, chosen.moderation_comment_policy) == ("open", "closed")
