"""Thread counts for llama.cpp on a busy machine (server/cpu.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from server import cpu
from server.cpu import Threads, busy_elsewhere


def test_threads_drop_while_other_processes_keep_the_cpus_busy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "CHECK_S", 0.0)
    busy = [0]
    threads = Threads(4, cpus=4, busy=lambda: busy[0])
    assert threads.now() == 4
    busy[0] = 3
    assert threads.now() == 4  # one look is a blip
    assert threads.now() == 1  # two agree: 4 CPUs, 3 kept busy elsewhere
    busy[0] = 2
    assert threads.now() == 2  # up again at once
    busy[0] = 9
    threads.now()
    assert threads.now() == 1  # never below one
    busy[0] = 0
    assert threads.now() == 4  # never above what was asked for


def test_a_chosen_count_or_an_unknown_load_keeps_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "CHECK_S", 0.0)
    fixed = Threads(2, fixed=True, cpus=2, busy=lambda: 5)
    assert [fixed.now() for _ in range(3)] == [2, 2, 2]
    unknown = Threads(2, cpus=2, busy=lambda: None)
    assert [unknown.now() for _ in range(3)] == [2, 2, 2]


def test_the_load_is_read_from_proc_less_this_processes_own_threads(tmp_path: Path) -> None:
    loadavg = tmp_path / "loadavg"
    loadavg.write_text("3.42 4.71 4.47 5/95 9135\n")
    tasks = tmp_path / "task"
    for tid, state in ((1, "R"), (2, "S"), (3, "R")):
        (tasks / str(tid)).mkdir(parents=True)
        (tasks / str(tid) / "stat").write_text(f"{tid} (python (x)) {state} 1 2 3\n")
    assert busy_elsewhere(loadavg, tasks) == 3
    assert busy_elsewhere(tmp_path / "missing", tasks) is None


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="Linux only")
def test_busy_processes_are_seen() -> None:
    before = busy_elsewhere()
    assert before is not None
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        time.sleep(0.5)
        seen = max(busy_elsewhere() or 0 for _ in range(5))
        assert seen >= 2, (before, seen, os.getloadavg())
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
