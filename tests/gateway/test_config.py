"""Gateway settings: validated from the environment, and documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import README_BEGIN, README_END, GatewaySettings, readme_table

ROOT = Path(__file__).resolve().parents[2]


def test_readme_table_is_current() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    assert text[start:end] == readme_table(), (
        "README gateway settings are stale: run .venv/bin/python -m gateway.config --write-readme"
    )


def test_environment_overrides_and_json_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "4999")
    monkeypatch.setenv("GATEWAY_SUBGRAPH_URLS", '{"identity": "http://10.0.0.1:4101/graphql"}')
    settings = GatewaySettings()
    assert settings.port == 4999
    assert settings.subgraph_urls == {"identity": "http://10.0.0.1:4101/graphql"}


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_MAX_DEPTH", "deep")
    with pytest.raises(ValidationError) as error:
        GatewaySettings()
    assert "max_depth" in str(error.value)


def test_the_cli_refuses_a_bad_value_naming_the_variable() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "GATEWAY_MAX_DEPTH": "deep"}
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "--supergraph", "missing.graphql"],
        check=False, env=env, capture_output=True, text=True, cwd=ROOT, timeout=60,
    )
    assert result.returncode == 2
    assert "GATEWAY_MAX_DEPTH" in result.stderr
