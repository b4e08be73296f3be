"""Child processes of the harness: start in their own process group, optionally pinned; stop them."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]


def listening_socket() -> socket.socket:
    """A bound, listening socket on an ephemeral port, to hand to a child (no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def free_port() -> int:
    """A port the OS just handed out, for children that only take a port number."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def pinned(argv: Sequence[str], cpu: int | None) -> list[str]:
    if cpu is None or shutil.which("taskset") is None:
        return list(argv)
    return ["taskset", "-c", str(cpu), *argv]


def start(
    argv: Sequence[str],
    *,
    log: Path,
    cpu: int | None = None,
    env: dict[str, str] | None = None,
    pass_fds: Sequence[int] = (),
) -> subprocess.Popen[bytes]:
    """Starts `argv` in the repository root, in a new session so its whole group can be stopped."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            pinned(argv, cpu),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
        )


def stop(process: subprocess.Popen[bytes], *, grace_s: float = 5.0) -> None:
    """SIGTERM to the process group, SIGKILL after `grace_s`."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def request(
    port: int, method: str, path: str, body: bytes | None = None, *, timeout_s: float = 30.0
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        headers = {"Content-Type": "application/json", "Accept": "application/json"} if body else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_ready(
    probe: Callable[[], bool], *, alive: Callable[[], bool], what: str, timeout_s: float, log: Path
) -> float:
    """Seconds until `probe()` is true; raises if the process dies or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if not alive():
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{what} exited before it was ready ({log}): " + " / ".join(tail))
        try:
            if probe():
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout_s:.0f}s (see {log})")
