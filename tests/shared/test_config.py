"""Settings validation: defaults, per-service prefixes, and errors naming the variable."""

from __future__ import annotations

import json

import pytest
from pydantic_settings import SettingsConfigDict

from shared.config import ServiceSettings, env_var_name, load_settings
from shared.testing import prod_trust, service_key_pem


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_", extra="ignore")
    service_name: str = "demo"
    port: int = 4199


def test_defaults_follow_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(DemoSettings)
    assert settings.database_url == "sqlite+aiosqlite:///.data/demo.db"
    assert settings.redis_url is None
    assert settings.graphiql is True and settings.introspection is True
    assert settings.port == 4199
    assert settings.max_body_size == 1_048_576


def test_prefix_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "5001")
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql://u@h:5432/db")
    monkeypatch.setenv("DEMO_REDIS_URL", "")
    monkeypatch.setenv("OTHER_PORT", "6000")
    settings = load_settings(DemoSettings)
    assert settings.port == 5001
    # Driver-less URLs map onto the async driver the kit uses.
    assert settings.database_url == "postgresql+asyncpg://u@h:5432/db"
    assert settings.redis_url is None


def test_prod_turns_graphiql_and_introspection_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "prod")
    monkeypatch.setenv("DEMO_SERVICE_KEY", service_key_pem())
    monkeypatch.setenv("DEMO_SERVICE_PUBLIC_KEYS", json.dumps(prod_trust()["service_public_keys"]))
    settings = load_settings(DemoSettings)
    assert settings.graphiql is False and settings.introspection is False
    monkeypatch.setenv("DEMO_GRAPHIQL", "true")
    assert load_settings(DemoSettings).graphiql is True


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEMO_PORT", "not-a-number"),
        ("DEMO_PORT", "70000"),
        ("DEMO_LOG_LEVEL", "LOUD"),
        ("DEMO_DATABASE_URL", "mysql://x"),
        ("DEMO_REDIS_URL", "http://localhost"),
        ("DEMO_ENVIRONMENT", "staging"),
        ("DEMO_DB_POOL_SIZE", "0"),
    ],
)
def test_bad_value_exits_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as exc:
        load_settings(DemoSettings)
    message = str(exc.value.code)
    assert variable in message
    assert "DemoSettings" in message


def test_hs256_refused_in_prod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_ENVIRONMENT", "prod")
    monkeypatch.setenv("DEMO_SERVICE_KEY", service_key_pem())
    monkeypatch.setenv("DEMO_SERVICE_PUBLIC_KEYS", json.dumps(prod_trust()["service_public_keys"]))
    monkeypatch.setenv("DEMO_JWT_DEV_HS256_SECRET", "s" * 32)
    with pytest.raises(SystemExit) as exc:
        load_settings(DemoSettings)
    assert "DEMO_JWT_DEV_HS256_SECRET" in str(exc.value.code)


def test_overrides_win_and_env_var_name() -> None:
    settings = load_settings(DemoSettings, port=0, data_dir="/tmp/x")
    assert settings.port == 0
    assert settings.database_url == "sqlite+aiosqlite:////tmp/x/demo.db"
    assert env_var_name(DemoSettings, "redis_url") == "DEMO_REDIS_URL"
