"""Request ids, structured JSON logs, Prometheus metrics and OpenTelemetry traces."""

from __future__ import annotations

import logging
import os
import re
import sys
import time
import traceback
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = [
    "JsonFormatter",
    "ServiceMetrics",
    "TextFormatter",
    "configure_logging",
    "create_tracer_provider",
    "current_request_id",
    "new_request_id",
    "request_id_var",
    "sanitize_request_id",
    "tracer_for",
]

request_id_var: ContextVar[str | None] = ContextVar("tributary_request_id", default=None)
service_var: ContextVar[str | None] = ContextVar("tributary_service", default=None)

# Request ids travel in logs and headers; accept only short, printable, unambiguous ones.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def new_request_id() -> str:
    return uuid.uuid4().hex


def sanitize_request_id(value: str | None) -> str:
    """The incoming id if it is well-formed, else a fresh one (no log injection via headers)."""
    if value and _REQUEST_ID.fullmatch(value):
        return value
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, service, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        service = getattr(record, "service", None) or service_var.get()
        if service:
            entry["service"] = service
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and key not in ("request_id", "service"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["stack"] = "".join(traceback.format_exception(*record.exc_info))
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One line a person reads in a terminal: time, level, logger, message, then key=value extras."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        message = record.getMessage()
        # extras the message already shows (an access line's status, path...) are not repeated
        extras = [f"{key}={value}" for key, value in record.__dict__.items()
                  if key not in _STANDARD and value is not None and key != "service"
                  and (key == "request_id" or str(value) not in message)]
        line = f"{stamp} {record.levelname:<7} {record.name}: {message}"
        if extras:
            line += "  " + " ".join(extras)
        if record.exc_info and record.exc_info[0] is not None:
            line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return line


def _formatter(stream: Any) -> logging.Formatter:
    """JSON unless stderr is a terminal; TRIBUTARY_LOG_FORMAT=json|text decides explicitly."""
    chosen = os.environ.get("TRIBUTARY_LOG_FORMAT", "").strip().lower()
    if chosen == "text" or (chosen != "json" and getattr(stream, "isatty", lambda: False)()):
        return TextFormatter()
    return JsonFormatter()


_HANDLER_NAME = "tributary-json"


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    # Stamp the request id when the record is created: formatting may happen elsewhere/later.
    record = _base_factory(*args, **kwargs)
    if not hasattr(record, "request_id"):
        record.request_id = request_id_var.get()
    if not hasattr(record, "service"):
        record.service = service_var.get()
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid and not hasattr(record, "trace_id"):
        record.trace_id = format(span_context.trace_id, "032x")
    return record


def configure_logging(level: str = "INFO", *, logger: str | None = None) -> None:
    """Route every logger through one handler on stderr (idempotent).

    The level applies to the root logger, or only to `logger` when given (the dev stack runs
    every service in one process, each at its own level).
    """
    logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger()
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(_formatter(sys.stderr))
        root.addHandler(handler)
    logging.getLogger(logger).setLevel(level)
    # Our error extension logs unexpected resolver errors once, with the request id;
    # strawberry would log every error (expected ones included) a second time.
    logging.getLogger("strawberry.execution").setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


@dataclass
class ServiceMetrics:
    """Per-app Prometheus registry (several services can share one process in dev)."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    graphql_errors: Counter
    events_published: Counter

    @classmethod
    def create(cls) -> ServiceMetrics:
        registry = CollectorRegistry(auto_describe=True)
        return cls(
            registry=registry,
            requests=Counter("tributary_http_requests_total", "HTTP requests served.",
                             ["service", "method", "route", "status"], registry=registry),
            latency=Histogram("tributary_http_request_duration_seconds", "HTTP request latency.",
                              ["service", "route"], registry=registry),
            graphql_errors=Counter("tributary_graphql_errors_total",
                                   "GraphQL errors returned, by code.", ["service", "code"],
                                   registry=registry),
            events_published=Counter("tributary_events_published_total",
                                     "Outbox events published.", ["service", "topic"],
                                     registry=registry),
        )


def create_tracer_provider(service: str, otlp_endpoint: str | None) -> TracerProvider:
    """A tracer provider for one service; spans are exported over OTLP/HTTP when configured."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    return provider


def tracer_for(provider: TracerProvider) -> Tracer:
    return provider.get_tracer("tributary")
