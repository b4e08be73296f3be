"""`make run`: every subgraph (and the gateway, when present) on one uvloop event loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from shared.auth import SigningKeys
from shared.service_auth import dev_key_path, public_key_text

__all__ = ["DEV_PORTS", "Service", "discover_subgraphs", "main", "prepare_environment", "run"]

log = logging.getLogger("tributary.devstack")

# The contract's dev ports; a subgraph not listed gets the next free number from 4107 up.
DEV_PORTS = {"identity": 4101, "social": 4102, "wallet": 4103, "content": 4104,
             "markets": 4105, "moderation": 4106}
JWKS_PATH = "/.well-known/jwks.json"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Service:
    name: str
    port: int
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the dev stack (one handler stops them all)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def discover_subgraphs(root: Path = ROOT) -> list[str]:
    """Packages under subgraphs/ whose app.py defines create_app(), identity first."""
    names = []
    for path in sorted((root / "subgraphs").iterdir()):
        app = path / "app.py"
        if app.is_file() and "def create_app" in app.read_text(encoding="utf-8"):
            names.append(path.name)
    return sorted(names, key=lambda n: (n != "identity", n))


def _public_keys(names: list[str], data_dir: Path) -> dict[str, str]:
    """Each service's dev key (created once under the data dir) by name, public halves only."""
    keys = {}
    for name in names:
        own = SigningKeys.load(path=dev_key_path(data_dir, name), create=True)
        keys[name] = public_key_text(own)
    return keys


def prepare_environment(names: list[str], *, data_dir: Path,
                        environ: dict[str, str] | Any = os.environ) -> list[Service]:
    """Ports and embedded defaults for each subgraph; variables already set win."""
    ports = dict(DEV_PORTS)
    extra = 4107
    for name in names:
        if name not in ports:
            ports[name] = extra
            extra += 1
    public_ports = {name: int(environ.get(f"{name.upper()}_PORT", ports[name])) for name in names}
    internal_urls = {
        name: f"http://127.0.0.1:{environ.get(f'{name.upper()}_INTERNAL_PORT', port + 1000)}"
        for name, port in public_ports.items()}
    # The gateway has a key of its own too: subgraphs believe its client address and answer
    # `_entities`/`_service` only beside its token.
    public_keys = json.dumps(_public_keys([*names, "gateway"], data_dir))
    environ.setdefault("GATEWAY_DATA_DIR", str(data_dir))
    services = []
    identity_port = public_ports.get("identity", ports["identity"])
    for name in names:
        prefix = f"{name.upper()}_"
        environ.setdefault(f"{prefix}PORT", str(public_ports[name]))
        environ.setdefault(f"{prefix}HOST", "127.0.0.1")
        environ.setdefault(f"{prefix}DATA_DIR", str(data_dir))
        environ.setdefault(f"{prefix}ENVIRONMENT", "dev")
        # The gateway polls every subgraph for its SDL; per-request lines would drown the rest.
        environ.setdefault(f"{prefix}LOG_LEVEL", "WARNING")
        # Every service trusts every other's dev key and can reach its internal port.
        environ.setdefault(f"{prefix}SERVICE_PUBLIC_KEYS", public_keys)
        environ.setdefault(f"{prefix}PEERS", json.dumps(
            {other: url for other, url in internal_urls.items() if other != name}))
        if name != "identity" and "identity" in names:
            environ.setdefault(f"{prefix}JWKS_URL", f"http://127.0.0.1:{identity_port}{JWKS_PATH}")
        services.append(Service(name=name, port=int(environ[f"{prefix}PORT"])))
    return services


def _build_server(service: Service) -> _Server:
    module = importlib.import_module(f"subgraphs.{service.name}.app")
    app = module.create_app()
    settings = getattr(getattr(app, "state", None), "settings", None)
    max_size = getattr(settings, "max_body_size", 1_048_576)
    config = uvicorn.Config(app, host=getattr(settings, "host", "127.0.0.1"), port=service.port,
                            lifespan="on", log_level="warning", access_log=False,
                            log_config=None,  # uvicorn's records go through our JSON handler
                            ws="websockets-sansio", ws_max_size=max_size,
                            timeout_graceful_shutdown=5)
    return _Server(config)


async def _start_gateway(services: list[Service]) -> tuple[str | None, Any]:
    if importlib.util.find_spec("gateway.devstack_gateway") is None:
        return None, None
    module = importlib.import_module("gateway.devstack_gateway")
    result = module.start({s.name: s.url for s in services}, asyncio.get_running_loop())
    if inspect.isawaitable(result):
        result = await result
    if isinstance(result, tuple):
        return result[0], result[1]
    return result, None


async def _wait_started(services: list[Service]) -> Service | None:
    """Wait until every server listens; return the first that died instead."""
    while True:
        for service in services:
            assert service.task is not None and service.server is not None
            if service.task.done():
                return service
        if all(s.server is not None and s.server.started for s in services):
            return None
        await asyncio.sleep(0.05)


async def run(*, data_dir: Path | None = None, stop: asyncio.Event | None = None,
              announce: bool = True) -> int:
    """Serve the dev stack until `stop` is set (or SIGINT/SIGTERM); 0 on a clean stop."""
    data_dir = (data_dir or Path(os.environ.get("TRIBUTARY_DATA_DIR", ROOT / ".data"))).resolve()
    names = discover_subgraphs()
    if not names:
        print("no subgraphs with app.py/create_app() under subgraphs/", file=sys.stderr)
        return 1
    services = prepare_environment(names, data_dir=data_dir)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        code = await _serve(services, stop, announce=announce)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    if announce:
        print("Tributary dev stack stopped.", flush=True)
    return code


async def _serve(services: list[Service], stop: asyncio.Event, *, announce: bool) -> int:
    # Build every app first: a bad setting (SystemExit naming the variable) stops the stack
    # before anything listens.
    for service in services:
        service.server = _build_server(service)
    for service in services:
        assert service.server is not None
        service.task = asyncio.create_task(service.server.serve(), name=f"serve-{service.name}")
    failed = await _wait_started(services)
    gateway_url, gateway_server = (None, None)
    code = 0
    if failed is not None:
        print(f"{failed.name} failed to start on port {failed.port} "
              f"(port in use? set {failed.name.upper()}_PORT)", file=sys.stderr)
        code = 1
    else:
        try:
            gateway_url, gateway_server = await _start_gateway(services)
        except Exception as error:  # the subgraphs stay useful without the gateway
            log.exception("gateway failed to start")
            print(f"gateway failed to start: {error}", file=sys.stderr)
        if announce:
            _announce(services, gateway_url)
        waiters = [asyncio.ensure_future(stop.wait()),
                   *[s.task for s in services if s.task is not None]]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        waiters[0].cancel()
    await _shutdown(services, gateway_server)
    return code


async def _shutdown(services: list[Service], gateway_server: Any) -> None:
    if gateway_server is not None:
        gateway_server.should_exit = True
    for service in reversed(services):
        if service.server is not None:
            service.server.should_exit = True
    tasks = [s.task for s in services if s.task is not None]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for service, result in zip(services, results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, SystemExit):
            log.error("%s stopped with %r", service.name, result)
    # The gateway's serve task (and its pollers) are not ours: give them a moment to finish
    # on their own before the runner cancels whatever is left.
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=3)


def _announce(services: list[Service], gateway_url: str | None) -> None:
    lines = ["", "Tributary dev stack is up (Ctrl-C stops everything)."]
    if gateway_url:
        lines.append(f"  GraphiQL (gateway):  {gateway_url}")
    for service in services:
        lines.append(f"  {service.name + ':':<12} {service.url}")
    if not gateway_url:
        identity = next((s for s in services if s.name == "identity"), services[0])
        lines.append(f"  GraphiQL:  {identity.url}")
    lines.append("")
    print("\n".join(lines), flush=True)


def main() -> int:
    """Entry point of `python -m gateway dev` / `make run`."""
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a locked dependency
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(run())


if __name__ == "__main__":
    sys.exit(main())
