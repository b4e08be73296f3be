"""The README's settings table is current; deploy files parse and agree with each other."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from shared.config import README_BEGIN, README_END, readme_settings_section

ROOT = Path(__file__).resolve().parents[2]


def test_readme_settings_table_is_current() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    assert text[start:end] == readme_settings_section(), (
        "README settings table is stale: run .venv/bin/python -m shared.config --write-readme")


def test_readme_gives_both_commands_near_the_top() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:15]
    assert any(line.startswith("make run") for line in head)
    assert any(line.startswith("make test") for line in head)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Gateway" in text and "## Composition" in text


def _k8s_documents() -> list[dict]:
    docs: list[dict] = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    return docs


def test_kubernetes_manifests_are_consistent() -> None:
    docs = _k8s_documents()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("ConfigMap", "tributary-config") in kinds and ("Secret", "tributary-secrets") in kinds
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    assert {"gateway", "identity", "social", "wallet"} <= set(services)
    for name, service in services.items():
        pod = deployments[name]["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        assert deployments[name]["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]
        (container,) = pod["spec"]["containers"]
        port_names = {p["name"] for p in container["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
        assert container["args"][0] == name
    for deployment in deployments.values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            refs = {next(iter(r.values()))["name"] for r in container.get("envFrom", [])}
            assert refs <= {"tributary-config", "tributary-secrets"}


def test_compose_services_use_known_commands() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "redis", "gateway", "identity"} <= set(services)
    subgraphs = {p.parent.name for p in (ROOT / "subgraphs").glob("*/app.py")}
    for name, service in services.items():
        if "build" not in service:
            continue
        command = service["command"]
        assert command[0] in {"gateway", "worker", "migrate"} | subgraphs, name
        if command[0] == "worker":
            assert (ROOT / "subgraphs" / command[1] / "workers.py").exists()


def test_dockerfile_entrypoint_exists_and_is_executable() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY deploy/run-service" in dockerfile
    script = ROOT / "deploy" / "run-service"
    assert os.access(script, os.X_OK)
    assert script.read_text(encoding="utf-8").startswith("#!/bin/sh")


def test_uvicorn_log_config_emits_json(capsys) -> None:
    import json
    import logging
    import logging.config

    config = json.loads((ROOT / "deploy" / "uvicorn-logging.json").read_text(encoding="utf-8"))
    assert "--log-config /app/deploy/uvicorn-logging.json" in (
        ROOT / "deploy" / "run-service").read_text(encoding="utf-8")
    logger = logging.getLogger("uvicorn.error")
    saved = (logging.getLogger("uvicorn").handlers[:], logging.getLogger("uvicorn").propagate)
    try:
        logging.config.dictConfig(config)
        logger.info("server started")
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        uvicorn_logger = logging.getLogger("uvicorn")
        uvicorn_logger.handlers[:], uvicorn_logger.propagate = saved
    assert json.loads(line)["message"] == "server started"


def test_deployments_publish_only_the_gateway_and_give_each_service_its_own_key() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"gateway", "wallet"}  # wallet: the payment providers' webhooks
    keys = set()
    for name in ("identity", "social", "wallet"):
        env = compose["services"][name]["environment"]
        keys.add(env[f"{name.upper()}_SERVICE_KEY"])
        assert env[f"{name.upper()}_INTERNAL_HOST"] == "0.0.0.0"
        assert not any("SECRET" in k and "SERVICE" in k for k in env)
    assert len(keys) == 3  # three credentials, not one shared secret
    config = next(d for d in _k8s_documents() if d["kind"] == "ConfigMap")["data"]
    assert json.loads(config["WALLET_PEERS"])["identity"] == "http://identity:5101"
    secret = next(d for d in _k8s_documents() if d["kind"] == "Secret")["stringData"]
    assert {"IDENTITY_SERVICE_KEY", "SOCIAL_SERVICE_KEY", "WALLET_SERVICE_KEY"} <= set(secret)
