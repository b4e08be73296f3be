"""The declared consumers of each event topic: the code-side half of event routing.

A producer's relay consults this table (with the KV routes that services register when they
start) to know where an event must go, so an event is never dropped because its consumer has
not started yet. Each subgraph's `workers.py` implements the entries naming it as consumer;
`tests/shared/test_event_catalog.py` checks that every entry has its handler and every handler
its entry. Subgraphs never import each other: this table is where they meet.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONSUMERS", "Consumer", "declared_consumers", "declared_topics"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Consumer:
    topic: str
    service: str  # the consumer's dramatiq queue

    @property
    def actor_name(self) -> str:
        return f"{self.service}.{self.topic}"  # as shared.events.event_handler names it


CONSUMERS: tuple[Consumer, ...] = (
    Consumer(topic="wallet.tip_sent", service="social"),
    Consumer(topic="wallet.suspicious_activity", service="social"),
    Consumer(topic="wallet.cashout_updated", service="social"),
    Consumer(topic="wallet.reconciliation_break", service="social"),
    # social.post_created: moderation and search will consume it; until one is declared (or
    # registers a KV route) its events wait in social's outbox, then in its dead letters.
)


def declared_consumers(topic: str) -> tuple[Consumer, ...]:
    return tuple(c for c in CONSUMERS if c.topic == topic)


def declared_topics() -> frozenset[str]:
    return frozenset(c.topic for c in CONSUMERS)
