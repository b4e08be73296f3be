"""Serving: GraphQL over HTTP (and WebSocket/SSE for subscriptions) in front of the engine."""

from .app import Gateway, create_app

__all__ = ["Gateway", "create_app"]
