"""CPU threads for llama.cpp. Its threads meet at a barrier at every step of a decode, so one thread
that another process keeps off its core stalls all of them: on 2 cores with 2 busy processes,
Gemma 3 270M generated 1.4-3.3 tokens/s with 2 threads and 18-20 with 1. `Threads` gives the
engine fewer threads while other processes keep cores busy (Linux; elsewhere the count stays)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable, Optional

# How often the load is looked at again (a look costs well under a millisecond).
CHECK_S = 0.25


def physical_cores() -> int:
    """Physical core count (logical counts oversubscribe SMT cores and slow llama.cpp down)."""
    try:
        cores = set()
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            phys = core = None
            for line in info:
                if line.startswith("physical id"):
                    phys = line.split(":")[1].strip()
                elif line.startswith("core id"):
                    core = line.split(":")[1].strip()
                    cores.add((phys, core))
        if cores:
            return min(len(cores), len(os.sched_getaffinity(0)))
    except (OSError, AttributeError):
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def usable_cpus() -> int:
    """Logical CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def busy_elsewhere(loadavg: Path = Path("/proc/loadavg"), tasks: Path = Path("/proc/self/task")) -> Optional[int]:
    """Threads of other processes running or waiting for a CPU right now: the system's runnable
    count (/proc/loadavg) less this process's own running threads; None where it cannot tell."""
    try:
        running = int(loadavg.read_text().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    own = 0
    for stat in tasks.glob("*/stat"):
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # a thread that ended meanwhile
        own += state == "R"
    return max(0, running - own)


class Threads:
    """The thread count for the next decode: `most`, or fewer while other processes keep the CPUs
    busy (looked at every CHECK_S; lowered only when two looks in a row agree, so a passing blip
    does not halve a decode). `fixed` (the user chose a count): always `most`."""

    def __init__(self, most: int, fixed: bool = False, cpus: Optional[int] = None,
                 busy: Callable[[], Optional[int]] = busy_elsewhere) -> None:
        self.most = max(1, most)
        self.fixed = fixed
        self.cpus = cpus or usable_cpus()
        self._busy = busy
        self._checked = float("-inf")
        self._free: list[int] = [self.most, self.most]
        self.current = self.most

    def now(self) -> int:
        if self.fixed:
            return self.most
        clock = time.monotonic()
        if clock - self._checked >= CHECK_S:
            self._checked = clock
            busy = self._busy()
            free = self.most if busy is None else max(1, min(self.most, self.cpus - busy))
            self._free = [self._free[1], free]
            self.current = max(self._free)
        return self.current
