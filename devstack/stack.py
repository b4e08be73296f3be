"""`make run`: every subgraph (and the gateway, when present) on one uvloop event loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import uvicorn

from shared.auth import SigningKeys
from shared.service_auth import dev_key_path, public_key_text

__all__ = ["DEV_PORTS", "Service", "busy_port", "discover_subgraphs", "gateway_service", "main",
           "port_in_use_message", "prepare_environment", "run"]

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
    host: str = "127.0.0.1"
    health: str = "/health/live"  # answers 200 once the server serves requests
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    # Set for a subgraph's internal API, which listens beside its public port.
    variable: str | None = None

    @property
    def port_variable(self) -> str:
        return self.variable or f"{self.name.upper()}_PORT"


def internal_ports(services: list[Service], environ: dict[str, str] | Any = os.environ
                   ) -> list[Service]:
    """Each subgraph's internal API port (public + 1000 unless set), to check before starting."""
    found = []
    for service in services:
        variable = f"{service.name.upper()}_INTERNAL_PORT"
        port = int(environ.get(variable) or service.port + 1000)
        found.append(Service(name=f"{service.name} internal API", port=port, host=service.host,
                             variable=variable))
    return found


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
        services.append(Service(name=name, port=int(environ[f"{prefix}PORT"]),
                                host=environ[f"{prefix}HOST"]))
    if "identity" in names:
        # the dev gateway judges tokens as production does: against identity's JWKS
        environ.setdefault("GATEWAY_JWKS_URL", f"http://127.0.0.1:{identity_port}{JWKS_PATH}")
        # and API keys with identity, so @requiresScopes sees a key's scopes
        environ.setdefault("GATEWAY_IDENTITY_INTERNAL_URL", internal_urls["identity"])
    return services


def gateway_service(environ: dict[str, str] | Any = os.environ) -> Service | None:
    """The dev gateway's place, when this checkout has the gateway."""
    if importlib.util.find_spec("gateway.devstack_gateway") is None:
        return None
    return Service(name="gateway", port=int(environ.get("GATEWAY_PORT", "4000")),
                   host=environ.get("GATEWAY_HOST", "127.0.0.1"), health="/health")


def busy_port(services: list[Service]) -> Service | None:
    """The first service whose port something else already holds."""
    for service in services:
        with socket.socket(socket.AF_INET6 if ":" in service.host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            try:
                sock.bind((service.host, service.port))
            except OSError:
                return service
    return None


def port_in_use_message(service: Service) -> str:
    return (f"port {service.port} ({service.name}) is already in use: stop what holds it, or set "
            f"{service.port_variable} to another port (e.g. {service.port_variable}={service.port + 100} make run)")


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


async def _start_gateway(services: list[Service], gateway: Service) -> str:
    """Compose from the running subgraphs, then start serving; returns GraphiQL's URL."""
    module = importlib.import_module("gateway.devstack_gateway")
    url, config = await module.prepare({s.name: s.url for s in services})
    gateway.server = _Server(config)
    gateway.task = asyncio.create_task(gateway.server.serve(), name="serve-gateway")
    return str(url)


async def _wait_started(services: list[Service], stop: asyncio.Event) -> Service | None:
    """Wait until every server listens (or `stop` is set); return the first that died instead."""
    while not stop.is_set():
        for service in services:
            assert service.task is not None and service.server is not None
            if service.task.done():
                return service
        if all(s.server is not None and s.server.started for s in services):
            return None
        await asyncio.sleep(0.05)
    return None


async def _wait_answering(services: list[Service], stop: asyncio.Event) -> Service | None:
    """Wait until every server answers its health check; return the first that died instead."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        for service in services:
            while not stop.is_set():
                assert service.task is not None
                if service.task.done():
                    return service
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"http://127.0.0.1:{service.port}{service.health}") as answer:
                        if answer.status == 200:
                            break
                await asyncio.sleep(0.05)
    return None


async def run(*, data_dir: Path | None = None, stop: asyncio.Event | None = None,
              announce: bool = True) -> int:
    """Serve the dev stack until `stop` is set (or SIGINT/SIGTERM); 0 on a clean stop."""
    data_dir = (data_dir or Path(os.environ.get("TRIBUTARY_DATA_DIR", ROOT / ".data"))).resolve()
    names = discover_subgraphs()
    if not names:
        print("no subgraphs with app.py/create_app() under subgraphs/", file=sys.stderr)
        return 1
    services = prepare_environment(names, data_dir=data_dir)
    gateway = gateway_service()
    busy = busy_port([*services, *internal_ports(services), *([gateway] if gateway else [])])
    if busy is not None:
        print(port_in_use_message(busy), file=sys.stderr, flush=True)
        return 1
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    try:
        code = await _serve(services, gateway, stop, announce=announce)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(sig)
    if announce:
        print("Tributary dev stack stopped.", flush=True)
    return code


def _failed_to_start(service: Service) -> str:
    return (f"{service.name} failed to start on port {service.port} "
            f"(port in use? set {service.port_variable})")


async def _serve(services: list[Service], gateway: Service | None, stop: asyncio.Event, *,
                 announce: bool) -> int:
    # Build every app first: a bad setting (SystemExit naming the variable) stops the stack
    # before anything listens.
    for service in services:
        service.server = _build_server(service)
    for service in services:
        assert service.server is not None
        service.task = asyncio.create_task(service.server.serve(), name=f"serve-{service.name}")
    running = list(services)
    code = 0
    try:
        failed = await _wait_started(services, stop)
        gateway_url = None
        if failed is None and gateway is not None and not stop.is_set():
            try:
                gateway_url = await _start_gateway(services, gateway)
                running.append(gateway)
                failed = await _wait_started([gateway], stop)
            except Exception as error:  # noqa: BLE001 - the subgraphs stay useful without the gateway
                print(f"gateway failed to start: {error}", file=sys.stderr, flush=True)
        if failed is None:
            failed = await _wait_answering(running, stop)
        if failed is not None:
            print(_failed_to_start(failed), file=sys.stderr, flush=True)
            return 1
        if stop.is_set():
            return 0
        if announce:
            _announce(services, gateway_url)
        code = await _until_stopped(running, stop)
    finally:
        await _shutdown(running)
    return code


async def _until_stopped(running: list[Service], stop: asyncio.Event) -> int:
    waiter = asyncio.ensure_future(stop.wait())
    tasks = [s.task for s in running if s.task is not None]
    await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    ended = [s for s in running if s.task is not None and s.task.done()]
    if ended and not stop.is_set():
        print(f"{ended[0].name} stopped unexpectedly; stopping the dev stack", file=sys.stderr, flush=True)
        return 1
    return 0


async def _shutdown(running: list[Service]) -> None:
    for service in reversed(running):  # the gateway first, identity last
        if service.server is not None:
            service.server.should_exit = True
    tasks = [s.task for s in running if s.task is not None]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for service, result in zip([s for s in running if s.task is not None], results, strict=True):
        if isinstance(result, BaseException) and not isinstance(result, (SystemExit, asyncio.CancelledError)):
            log.error("%s stopped with %r", service.name, result)
    # Anything the apps left behind (pollers, relays) gets a moment to finish on its own
    # before the runner cancels whatever is left.
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
    """Entry point of `python -m devstack` / `make run`."""
    try:
        import uvloop

        loop_factory: Any = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a locked dependency
        loop_factory = None
    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(run())
    except KeyboardInterrupt:  # Ctrl-C before the stack's own handler was installed
        print("Tributary dev stack stopped.", flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
