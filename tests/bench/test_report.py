"""The table: rendering, parsing it back, and the median row of repeated rounds."""

from __future__ import annotations

import pytest

from tests.bench._report import parse_table, render_table
from tests.bench.run import median_row


def _run(rps: float, p99: float, *, failures: int = 0, rss: float = 70.0, note: str = "") -> dict:
    return {"scenario": "heavy", "rps": rps, "p50_ms": p99 / 4, "p95_ms": p99 / 2, "p99_ms": p99,
            "failures": failures, "gateway_max_rss_mb": rss, "gateway_cpu_pct": 90.0, "gateway_cpu_ms_per_op": 4.5,
            "subgraph_req_per_op": 7.0, "fetches_per_op_idle": 13, **({"note": note} if note else {})}


def test_median_row_takes_medians_sums_failures_and_keeps_the_largest_rss() -> None:
    row = median_row([_run(100.0, 40.0), _run(300.0, 20.0, failures=2, note="noisy"), _run(200.0, 80.0, rss=90.0)])

    assert (row["rps"], row["p99_ms"], row["failures"], row["gateway_max_rss_mb"]) == (200.0, 40.0, 2, 90.0)
    assert row["note"] == "median of 3 rounds; round 2: noisy"
    assert len(row["rounds"]) == 3


def test_table_round_trips_and_marks_missing_cells() -> None:
    text = render_table([_run(123.45, 8.0), {"scenario": "ws | fan-out", "note": "its own table"}])

    rows = parse_table(text)

    assert rows[0] == {"scenario": "heavy", "RPS": "123.5", "p50 ms": "2.00", "p95 ms": "4.00",
                       "p99 ms": "8.00", "failures": "0", "gateway max RSS MB": "70.0",
                       "gateway CPU %": "90.0", "gateway CPU ms/op": "4.50",
                       "subgraph req/op": "7.00", "fetches/op idle": "13"}
    assert rows[1]["scenario"] == "ws | fan-out" and rows[1]["RPS"] == "–"
    assert text.endswith("- ws | fan-out: its own table\n")


def test_parse_table_rejects_text_without_a_table() -> None:
    with pytest.raises(ValueError, match="no markdown table"):
        parse_table("bench crashed\n")
