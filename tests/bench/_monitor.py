"""CPU time and memory of a process group, read from /proc (Linux)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (index 2 = pgrp, 11-14 = CPU, 21 = RSS)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[2]) == pgid:
                members.append(int(entry))
    return members


def group_cpu_seconds(pgid: int) -> float:
    """utime+stime of live members, plus what they reaped from exited children."""
    ticks = 0
    for pid in group_members(pgid):
        fields = _stat(pid)
        if fields is not None:
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / CLK_TCK


def _rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += int(fields[21]) * PAGE
    return total


def peak_rss_bytes(pid: int) -> int:
    """The process's own high-water mark (VmHWM), which catches peaks between samples."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class RssSampler:
    """Samples the group's summed RSS 4x a second in a thread and keeps the maximum."""

    pgid: int
    interval_s: float = 0.25
    max_bytes: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> RssSampler:
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        self.max_bytes = max(self.max_bytes, _rss_bytes(group_members(self.pgid)), peak_rss_bytes(self.pgid))

    def stop(self) -> int:
        """Stops sampling (call before the group exits) and returns the maximum in bytes."""
        self.sample()
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.max_bytes


def core_ticks() -> dict[str, list[int]]:
    """cpuN -> ticks since boot: user nice system idle iowait irq softirq steal."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3:4].isdigit():
            name, *values = line.split()
            ticks[name] = [int(value) for value in values[:8]]
    return ticks


@dataclass(frozen=True, kw_only=True, slots=True)
class MachineUsage:
    busy_pct: dict[str, float]  # per core: anything but idle and steal
    steal_pct: dict[str, float]  # per core: time the hypervisor gave to other machines
    all_process_cpu_s: float  # user+nice+system on all cores


def machine_usage(before: dict[str, list[int]], after: dict[str, list[int]]) -> MachineUsage:
    busy, steal, process_ticks = {}, {}, 0
    for name, now in after.items():
        delta = [n - b for n, b in zip(now, before.get(name, [0] * 8))]
        span = sum(delta) or 1
        busy[name] = round(100.0 * (span - delta[3] - delta[4] - delta[7]) / span, 1)
        steal[name] = round(100.0 * delta[7] / span, 1)
        process_ticks += delta[0] + delta[1] + delta[2]
    return MachineUsage(busy_pct=busy, steal_pct=steal, all_process_cpu_s=process_ticks / CLK_TCK)
