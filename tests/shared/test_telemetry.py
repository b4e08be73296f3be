"""Log lines: text a person reads on a terminal, JSON for machines."""

from __future__ import annotations

import io
import logging

from shared.telemetry import JsonFormatter, TextFormatter, _formatter


def test_text_lines_for_a_terminal_json_otherwise(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("TRIBUTARY_LOG_FORMAT", raising=False)
    assert isinstance(_formatter(Terminal()), TextFormatter)
    assert isinstance(_formatter(io.StringIO()), JsonFormatter)
    monkeypatch.setenv("TRIBUTARY_LOG_FORMAT", "json")
    assert isinstance(_formatter(Terminal()), JsonFormatter)
    monkeypatch.setenv("TRIBUTARY_LOG_FORMAT", "text")
    assert isinstance(_formatter(io.StringIO()), TextFormatter)
    record = logging.LogRecord("tributary.gateway.access", logging.INFO, "", 0, "POST /graphql Me %d", (200,), None)
    record.status = 200
    record.request_id = "r-1"
    record.operation = "Me"
    record.path = "/graphql"
    line = TextFormatter().format(record)
    assert line.endswith("INFO    tributary.gateway.access: POST /graphql Me 200  request_id=r-1")
