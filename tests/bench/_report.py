"""The printed markdown table of scenario rows, and its parser (the smoke test reads it back)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

# (header, row key): the row keys are also what scenario modules' `run(args)` return
COLUMNS: tuple[tuple[str, str], ...] = (
    ("scenario", "scenario"),
    ("RPS", "rps"),
    ("p50 ms", "p50_ms"),
    ("p95 ms", "p95_ms"),
    ("p99 ms", "p99_ms"),
    ("failures", "failures"),
    ("gateway max RSS MB", "gateway_max_rss_mb"),
    ("gateway CPU %", "gateway_cpu_pct"),
    ("gateway CPU ms/op", "gateway_cpu_ms_per_op"),
    ("subgraph req/op", "subgraph_req_per_op"),
    # one operation alone on an idle gateway: no in-flight deduplication can share its fetches
    ("fetches/op idle", "fetches_per_op_idle"),
)
MISSING = "–"


def _cell(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 10 or value == 0 else f"{value:.2f}"
    return str(value).replace("|", "\\|")


def render_table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table, one line per row, then a bullet per row that carries a note."""
    lines = [
        "| " + " | ".join(header for header, _ in COLUMNS) + " |",
        "|---|" + "---:|" * (len(COLUMNS) - 1),
    ]
    lines += ["| " + " | ".join(_cell(row.get(key)) for _, key in COLUMNS) + " |" for row in rows]
    notes = [f"- {row.get('scenario', '?')}: {row['note']}" for row in rows if row.get("note")]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def _cells(line: str) -> list[str]:
    inner = line.strip()[1:-1]  # drop the outer pipes
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", inner)]


def parse_table(text: str) -> list[dict[str, str]]:
    """The rows of the first markdown table in `text`, as {header: cell}; raises if there is none."""
    table = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
    if len(table) < 2 or not set(table[1]) <= set("|-: "):
        raise ValueError("no markdown table found")
    headers = _cells(table[0])
    rows = []
    for line in table[2:]:
        cells = _cells(line)
        if len(cells) != len(headers):
            raise ValueError(f"row has {len(cells)} cells, header has {len(headers)}: {line}")
        rows.append(dict(zip(headers, cells)))
    return rows
