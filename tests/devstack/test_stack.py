"""`make run`'s dev stack: every subgraph (and the gateway) up on one loop, stopped cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path

import httpx
import pytest

from devstack.stack import discover_subgraphs, prepare_environment, run


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


def _dev_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a `python -m devstack` child: its own data dir, free ports."""
    environ = {k: v for k, v in os.environ.items()
               if not k.endswith(("_PORT", "_JWKS_URL")) and k != "TRIBUTARY_LOG_FORMAT"}
    environ["TRIBUTARY_DATA_DIR"] = str(tmp_path / "data")
    for name in [*discover_subgraphs(), "gateway"]:
        environ[f"{name.upper()}_PORT"] = str(free_port())
    for name in discover_subgraphs():
        environ[f"{name.upper()}_INTERNAL_PORT"] = str(free_port())
    return environ


def _python() -> str:
    import sys

    return sys.executable


@pytest.mark.parametrize("taken", ["gateway", "identity", "wallet"])
def test_a_busy_port_ends_dev_with_one_line(tmp_path: Path, taken: str) -> None:
    import subprocess

    environ = _dev_environment(tmp_path)
    variable = f"{taken.upper()}_PORT"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        environ[variable] = str(port)
        done = subprocess.run([_python(), "-m", "devstack"], env=environ, capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == ""  # nothing said "up" (nor anything else)
    [line] = done.stderr.splitlines()
    assert f"port {port} ({taken}) is already in use" in line and variable in line
    assert not (tmp_path / "data" / "identity.db").exists()  # stopped before anything started


def test_a_busy_internal_port_ends_dev_with_one_line(tmp_path: Path) -> None:
    import subprocess

    environ = _dev_environment(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        environ["WALLET_INTERNAL_PORT"] = str(port)
        done = subprocess.run([_python(), "-m", "devstack"], env=environ, capture_output=True,
                              text=True, timeout=120, check=False)
    assert done.returncode == 1, (done.stdout, done.stderr)
    [line] = done.stderr.splitlines()
    assert f"port {port} (wallet internal API) is already in use" in line
    assert "WALLET_INTERNAL_PORT" in line


def test_make_run_reports_a_busy_port_in_one_line(tmp_path: Path) -> None:
    import subprocess

    environ = _dev_environment(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        environ["GATEWAY_PORT"] = str(port)
        done = subprocess.run(["make", "--no-print-directory", "-s", "run"], cwd=Path(__file__).parents[2],
                              env=environ, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "is up" not in done.stdout
    lines = [line for line in done.stderr.splitlines() if not line.startswith("make")]
    assert lines == [(f"port {port} (gateway) is already in use: stop what holds it, or set GATEWAY_PORT "
                      f"to another port (e.g. GATEWAY_PORT={port + 100} make run)")]


def test_banner_only_when_serving_and_ctrl_c_stops_quietly(tmp_path: Path) -> None:
    import signal
    import subprocess

    environ = _dev_environment(tmp_path)
    environ["TRIBUTARY_LOG_FORMAT"] = "json"
    child = subprocess.Popen([_python(), "-m", "devstack"], env=environ, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        seen = []
        for line in child.stdout:
            seen.append(line)
            if "is up" in line:
                break
        assert any("is up" in line for line in seen), (seen, child.poll())
        # the banner printed: every server answers now, not "soon"
        base = f"http://127.0.0.1:{environ['GATEWAY_PORT']}"
        assert httpx.get(f"{base}/health").status_code == 200
        answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"})
        assert answer.json() == {"data": {"__typename": "Query"}}
        for name in discover_subgraphs():
            live = httpx.get(f"http://127.0.0.1:{environ[name.upper() + '_PORT']}/health/live")
            assert live.status_code == 200, name
        _expired_tokens_are_refused(tmp_path / "data", base, environ["GATEWAY_PORT"])
        for name in ["gateway", *discover_subgraphs()]:
            _graphiql_is_served_locally(f"http://127.0.0.1:{environ[name.upper() + '_PORT']}")
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, err
    assert "Traceback" not in err and "CancelledError" not in err, err
    assert out.strip().endswith("Tributary dev stack stopped.")


def _expired_tokens_are_refused(data_dir: Path, base: str, port: str) -> None:
    """The dev gateway judges tokens against identity's JWKS: an expired one is 401 / close 4401."""
    import time

    import jwt

    from shared.auth import SigningKeys
    from tests.gateway.subscriptions._clients import WsClient

    keys = SigningKeys.load(path=data_dir / "identity-signing-key.pem")
    now = int(time.time())
    expired = jwt.encode({"iss": "tributary-identity", "aud": "tributary", "sub": "u1", "iat": now - 60,
                          "exp": now - 30, "roles": [], "scope": ""},
                         keys.private_key, algorithm="EdDSA", headers={"kid": keys.kid})
    answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"},
                        headers={"authorization": f"Bearer {expired}"})
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["message"] == "Token expired"
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    async def subscribe() -> tuple[int | None, str | None]:
        ws = await WsClient.open(f"ws://127.0.0.1:{port}/graphql")
        await ws.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {expired}"}})
        return await ws.closed()

    assert asyncio.run(subscribe()) == (4401, "Token expired")


def _graphiql_is_served_locally(base: str) -> None:
    """The page loads every script and style from the service itself: it works offline."""
    import re

    page = httpx.get(f"{base}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "<title>Tributary" in page.text, base
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(sources) == 4 and all(src.startswith("/_graphiql/") for src in sources), sources
    for src in sources:
        asset = httpx.get(f"{base}{src}")
        assert asset.status_code == 200 and len(asset.content) > 1000, (base, src)
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css")), src
