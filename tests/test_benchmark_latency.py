"""benchmarks/latency.py in a tiny configuration (tiny synthetic model, a few keystrokes), so that
the benchmark keeps working; its GPU section runs where llama.cpp has a GPU backend and says so
plainly where not. Its cold-open phase (benchmarks/cold_open.py) runs tiny too, with a first-answer
budget small enough that the tiny model answers first from a short prompt; only the consistency of
what it reports is checked, never its speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import cold_open, latency
from server.settings import Settings


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
    # The cold-open phase runs by default, with the server's own defaults (not --max-tokens).
    defaults = Settings()
    assert "Cold-open phase:" in printed
    assert results["cold_open"]["settings"] == {"contextSize": 1024, "firstAnswerMs": defaults.first_answer_ms,
                                                "timeBudgetMs": defaults.time_budget_ms,
                                                "maxTokens": defaults.max_tokens}
    assert results["cold_open"]["summary"]["first_answer_ms"] > 0


def test_the_cold_open_phase_reports_consistent_figures(deepseek_tiny: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cold_open.json"
    assert cold_open.main(["--model", str(deepseek_tiny), "--ctx", "1024", "--keystrokes", "3",
                           "--first-answer-ms", "1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    summary, keys = result["summary"], result["keystrokes"]
    assert result["settings"] == summary["settings"] == {
        "contextSize": 1024, "firstAnswerMs": 1, "timeBudgetMs": Settings().time_budget_ms,
        "maxTokens": Settings().max_tokens}
    # The cold read waits for the whole window; with 1 ms for a first answer the cold open does not
    # (unless the machine reads the whole window in 2 ms).
    assert summary["cold_read_window"] == "full" and summary["cold_read_ms"] > 0
    # The yardstick is the mean of the cold reads before and after the cold open.
    reads = summary["cold_reads_ms"]
    assert reads == [result["cold_read"]["at_ms"], result["cold_read_after"]["at_ms"]]
    assert result["cold_read_after"]["window"] == "full" and summary["cold_read_ms"] == pytest.approx(sum(reads) / 2)
    assert summary["first_answer_ms"] > 0 and summary["first_answer_window"] in ("quick", "full")
    quick = summary["first_answer_window"] == "quick"
    if quick:
        assert 0 < summary["first_answer_prompt_tokens"] < summary["cold_read_prompt_tokens"]
    assert keys[0]["phase"] == "first" and keys[0]["latency_ms"] == keys[0]["at_ms"] == summary["first_answer_ms"]
    # Every answer used one window or the other; they follow one another in time.
    assert all(k["window"] in ("quick", "full") for k in keys)
    assert [k["at_ms"] for k in keys] == sorted(k["at_ms"] for k in keys)
    assert all(k["latency_ms"] > 0 for k in keys)
    assert summary["answers"] == len(keys) == summary["quick_answers"] + summary["full_answers"]
    # The full window came into use (the typist pauses for it when typing does not bring it), then 3 keystrokes.
    full_at = summary["full_window_keystroke"]
    assert full_at is not None and keys[full_at]["window"] == "full" and (full_at > 0) == quick
    assert all(k["window"] == "quick" for k in keys[:full_at])
    assert summary["full_window_ms"] == keys[full_at]["at_ms"] >= summary["first_answer_ms"]
    assert summary["full_window_prompt_tokens"] >= summary["first_answer_prompt_tokens"]
    assert summary["full_while_typing"] == (summary["pauses_ms"] == [])
    # The first answer, the keystrokes while filling, the first full-window answer, the warm ones.
    assert 1 + summary["filling_keystrokes"] + (1 if quick else 0) + summary["warm_keystrokes"] == len(keys)
    assert summary["filling_quick"] == summary["filling_keystrokes"] == max(0, full_at - 1)
    assert summary["warm_keystrokes"] == 3 and all(k["phase"] == "warm" for k in keys[full_at + 1:])
    assert summary["warm_p95_ms"] >= summary["warm_p50_ms"] > 0
    if summary["filling_keystrokes"]:
        assert summary["filling_p95_ms"] >= summary["filling_p50_ms"] > 0
    # The targets: each judged, or "n/a" (no keystroke while filling), and printed.
    names = [t["name"] for t in summary["targets"]]
    assert names == ["first answer <= 3 s", "full window in use within 1.2 x cold read",
                     "keystroke p95 while filling <= 2 x warm p95"]
    assert summary["targets"][0]["pass"] == (summary["first_answer_ms"] <= 3000)
    assert summary["targets"][1]["value"] == pytest.approx(summary["full_window_ms"] / summary["cold_read_ms"])
    assert summary["targets"][2]["pass"] in ((None,) if not summary["filling_keystrokes"] else (True, False))
    printed = capsys.readouterr().out
    for target in summary["targets"]:
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[target["pass"]]
        assert f"  {verdict}  {target['name']}: " in printed
    assert "firstAnswerMs 1," in printed and "the server's defaults are firstAnswerMs 1000" in printed
