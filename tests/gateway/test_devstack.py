"""`make run`'s dev stack: every subgraph (and the gateway) up on one loop, stopped cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import httpx

from gateway.devstack import discover_subgraphs, prepare_environment, run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_discovery_and_environment(tmp_path: Path) -> None:
    names = discover_subgraphs()
    assert names[0] == "identity" and "identity" in names
    environ = {"SOCIAL_PORT": "5999"}
    services = prepare_environment(names, data_dir=tmp_path, environ=environ)
    by_name = {s.name: s for s in services}
    assert by_name["identity"].port == 4101
    if "social" in by_name:
        assert by_name["social"].port == 5999  # what the user set wins
        assert environ["SOCIAL_JWKS_URL"] == "http://127.0.0.1:4101/.well-known/jwks.json"
        # Every service trusts the others' own keys (never one shared secret) and reaches
        # their internal ports beside the public ones.
        keys = json.loads(environ["SOCIAL_SERVICE_PUBLIC_KEYS"])
        assert set(keys) == {*names, "gateway"} and len(set(keys.values())) == len(names) + 1
        peers = json.loads(environ["SOCIAL_PEERS"])
        assert peers["identity"] == "http://127.0.0.1:5101" and "social" not in peers
        assert json.loads(environ["IDENTITY_PEERS"])["social"] == "http://127.0.0.1:6999"
    assert "IDENTITY_JWKS_URL" not in environ
    key_file = tmp_path / "service-keys" / "identity.pem"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    again: dict[str, str] = {}
    prepare_environment(names, data_dir=tmp_path, environ=again)
    assert again["IDENTITY_SERVICE_PUBLIC_KEYS"] == environ["IDENTITY_SERVICE_PUBLIC_KEYS"]


async def test_stack_serves_and_stops(tmp_path: Path) -> None:
    saved = dict(os.environ)
    names = discover_subgraphs()
    ports = {name: free_port() for name in names}
    for name, port in ports.items():
        os.environ[f"{name.upper()}_PORT"] = str(port)
    os.environ["GATEWAY_PORT"] = str(free_port())
    stop = asyncio.Event()
    task = asyncio.create_task(run(data_dir=tmp_path, stop=stop, announce=False))
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for name, port in ports.items():
                # Ready may answer 503 while a service still migrates: poll until it is ready.
                for _ in range(600):
                    assert not task.done(), task.result()
                    try:
                        ready = await client.get(f"http://127.0.0.1:{port}/health/ready")
                        if ready.status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                assert ready.status_code == 200, (name, ready.text)
            jwks = await client.get(f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json")
            assert jwks.json()["keys"][0]["kty"] == "OKP"
        assert (tmp_path / "identity.db").exists()
    finally:
        stop.set()
        code = await asyncio.wait_for(task, 30)
        os.environ.clear()
        os.environ.update(saved)
    assert code == 0
    for port in ports.values():  # every port is released: a restarted stack can bind it
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            sock.bind(("127.0.0.1", port))
            sock.listen()


async def test_bad_setting_stops_the_stack_naming_the_variable(tmp_path: Path) -> None:
    import pytest

    saved = dict(os.environ)
    os.environ["IDENTITY_LOG_LEVEL"] = "LOUD"
    try:
        with pytest.raises(SystemExit) as exc:
            await run(data_dir=tmp_path, stop=asyncio.Event(), announce=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert "IDENTITY_LOG_LEVEL" in str(exc.value.code)
