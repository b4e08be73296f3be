"""Prometheus metrics for the gateway, served at /metrics."""

from __future__ import annotations

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

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
