"""Prometheus metrics for the gateway, served at /metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response


class GatewayMetrics:
    def __init__(self) -> None:
        # a registry per app: tests and reloads build several apps in one process
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_requests", "GraphQL requests by operation kind and outcome",
            ["kind", "outcome"], registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_request_seconds", "GraphQL request latency", ["kind"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.cost = Histogram(
            "gateway_operation_cost", "Estimated cost of operations (demand control)", ["kind"],
            registry=self.registry,
            buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 100_000, 1_000_000),
        )
        self.refused_cost = Counter(
            "gateway_cost_refused", "Operations refused as too expensive (COST_ESTIMATED_TOO_EXPENSIVE)",
            registry=self.registry,
        )
        self._cost_children: dict[str, Any] = {}

        self._children: dict[tuple[str, bool], tuple[Any, Any]] = {}

    def observe(self, kind: str, seconds: float, *, ok: bool) -> None:
        children = self._children.get((kind, ok))
        if children is None:  # label lookups are slow; keep the labelled children
            children = (self.latency.labels(kind), self.requests.labels(kind, "ok" if ok else "error"))
            self._children[(kind, ok)] = children
        children[0].observe(seconds)
        children[1].inc()

    def observe_cost(self, kind: str, cost: int) -> None:
        child = self._cost_children.get(kind)
        if child is None:
            child = self._cost_children[kind] = self.cost.labels(kind)
        child.observe(cost)

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
