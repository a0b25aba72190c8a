"""benchmarks/latency.py in a tiny configuration (tiny synthetic model, a few keystrokes), so that
the benchmark keeps working; its GPU section runs where llama.cpp has a GPU backend and says so
plainly where not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import latency


def test_the_latency_benchmark_runs_and_reports_its_gpu_section(deepseek_tiny: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "latency.json"
    assert latency.main(["--model", str(deepseek_tiny), "--ctx", "1024", "--keystrokes", "2",
                         "--seek-suggestion", "0", "--skip-baseline", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    cpu = results["cpu"]
    assert cpu["summary"]["where"] == "CPU" and cpu["summary"]["keystrokes"] == 2
    assert len(cpu["keystrokes"]) == 3 and cpu["summary"]["p50_ms"] > 0
    printed = capsys.readouterr().out
    assert "GPU section:" in printed
    if latency.gpu_available():
        assert results["gpu"]["summary"]["where"].startswith("GPU")
    else:
        assert results["gpu"] is None
        assert "not run: the llama.cpp in this environment has no GPU backend" in printed
