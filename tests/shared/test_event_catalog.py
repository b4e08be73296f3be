"""The declared consumers and the subgraphs' event handlers agree, entry for entry."""

from __future__ import annotations

import importlib

from shared.event_catalog import CONSUMERS, declared_consumers, declared_topics
from shared.events import handlers_for

SUBGRAPHS = ("identity", "social", "wallet")


def _handlers() -> set[tuple[str, str, str]]:
    for name in SUBGRAPHS:
        try:
            importlib.import_module(f"subgraphs.{name}.workers")
        except ModuleNotFoundError as error:
            assert error.name == f"subgraphs.{name}.workers", error
    return {(h.topic, h.consumer, h.actor.actor_name)
            for name in SUBGRAPHS for h in handlers_for(name)}


def test_every_declared_consumer_has_its_handler_and_every_handler_is_declared() -> None:
    declared = {(c.topic, c.service, c.actor_name) for c in CONSUMERS}
    assert _handlers() == declared


def test_every_wallet_topic_has_a_declared_consumer() -> None:
    from subgraphs.wallet.services import outbox

    topics = {outbox.TOPIC_TIP_SENT, outbox.TOPIC_SUSPICIOUS, outbox.TOPIC_CASHOUT,
              outbox.TOPIC_RECONCILIATION_BREAK}
    assert topics <= declared_topics()
    assert [c.service for c in declared_consumers(outbox.TOPIC_CASHOUT)] == ["social"]
