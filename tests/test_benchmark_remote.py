"""benchmarks/remote_latency.py (deepfim against llama.vim's requests through one llama-server) and
benchmarks/team.py (4 editors on one llama-server) in tiny configurations against a real
llama-server on loopback (tests/llama_server.py), and the pieces of llama.vim's client that the
comparison reproduces."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from benchmarks import remote_latency, team
from benchmarks.remote_latency import LlamaVim, buffer_lines, chunk_sim
from server.settings import Settings

LINES = [f"line_{i} = value_{i} * {i}" for i in range(400)]


def _vim() -> LlamaVim:
    return LlamaVim("http://127.0.0.1:1", n_predict=16, rng=random.Random(0))


def test_llama_vims_local_context_is_256_lines_above_and_64_below() -> None:
    lines = list(LINES)
    lines[300] = "    total = add"
    ctx = LlamaVim.ctx_local(lines, 300, 9)
    assert ctx["prefix"] == "\n".join(LINES[44:300]) + "\n"
    assert ctx["middle"] == "    total"
    assert ctx["suffix"] == " = add\n" + "\n".join(LINES[301:365]) + "\n"
    assert ctx["indent"] == 4
    lines[300] = "    "  # a line of whitespace: no line prefix or suffix, indent 0
    blank = LlamaVim.ctx_local(lines, 300, 4)
    assert (blank["middle"], blank["suffix"].split("\n")[0], blank["indent"]) == ("", "", 0)
    assert len(LlamaVim.hashes(ctx)) == 4


def test_llama_vims_ring_takes_33_line_windows_and_drops_near_duplicates() -> None:
    vim = _vim()
    vim.pick_chunk(LINES[:65], "a.py", do_evict=True)
    assert len(vim.queued) == 1 and len(vim.queued[0].data) == 33
    vim.pick_chunk(LINES[:20], "b.py", do_evict=True)  # shorter than the chunk size: taken whole
    assert vim.queued[-1].data == LINES[:20]
    vim.pick_chunk(LINES[:20], "b.py", do_evict=False)  # already there
    assert len(vim.queued) == 2
    assert chunk_sim(LINES[:20], LINES[:20]) == 1.0 and chunk_sim(["a b"], ["c d"]) == 0.0
    assert buffer_lines("a\nb\n") == ["a", "b"]


def test_llama_vims_hint_comes_from_the_cache_while_typing_through_it() -> None:
    vim = _vim()
    lines = list(LINES)
    lines[300] = "x = "
    for key in LlamaVim.hashes(LlamaVim.ctx_local(lines, 300, 4)):
        vim.cache_insert(key, "compute(1)")
    lines[300] = "x = com"
    assert vim.try_hint(lines, 300, 7) == "pute(1)"
    lines[300] = "x = cat"
    assert vim.try_hint(lines, 300, 7) is None


def test_the_remote_latency_benchmark_runs(deepseek_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "remote.json"
    assert remote_latency.main(["--model", str(deepseek_tiny), "--ctx", "2048", "--keystrokes", "3",
                                "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    ours, theirs = summary["deepfim"], summary["llama_vim"]
    assert summary["keystrokes"] == 3
    assert len(summary["per_keystroke"]["deepfim"]) == len(summary["per_keystroke"]["llama_vim"]) == 4
    assert theirs["ring_chunks"] == 16 and theirs["requests"] + theirs["hints_from_cache"] >= 1
    # llama.vim's /infill puts the typed text before the suffix: the suffix is read again each time.
    assert ours["server_tokens_per_keystroke"] <= 32 < theirs["server_tokens_per_keystroke"]


def test_the_team_benchmark_runs(deepseek_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "team.json"
    assert team.main(["--model", str(deepseek_tiny), "--ctx", "1024", "--keystrokes", "1", "--cold-together",
                      "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert summary["settings"]["editors"] == 4
    assert summary["alone"]["keystrokes"] == summary["team"]["keystrokes"] == 4
    assert summary["team"]["errors"] == 0
    # Each deepfim takes its own slot and asks for it by id: no editor reads another's window.
    alone = sorted(n for editor in summary["editors"] for n in editor["alone_server_tokens"][1:])
    assert alone[len(alone) // 2] <= 32
    assert 0 < summary["team"]["server_tokens_per_keystroke"] <= 32
    assert summary["settings"]["time_budget_ms"] == Settings().time_budget_ms  # what a user's deepfim runs with
    for phase in ("alone", "team"):
        assert summary[phase]["server_ms_per_generated_token"] > 0
        assert 0 < summary[phase]["generated_per_answer"] <= 16
        choices = summary[phase]["slot_choices"]
        assert choices["id"] >= 4 and choices["LCP similarity"] + choices["LRU"] == 0, (phase, choices)
    assert summary["alone"]["slot_choices"]["fresh"] == 4  # started at once, each took a slot of its own


def test_slot_choices_tell_a_fresh_slot_from_an_evicted_one() -> None:
    log = ("slot get_availabl: id  3 | task -1 | selected slot by LRU, t_last = -1\n"
           "slot get_availabl: id  1 | task -1 | selected slot by LRU, t_last = 1712000\n"
           "slot get_availabl: id  3 | task 7 | selected slot by id (3)\n"
           "slot get_availabl: id  0 | task -1 | selected slot by LCP similarity, f_sim_best = 0.9\n")
    assert remote_latency.slot_choices(log) == [(3, "fresh"), (1, "LRU"), (3, "id"), (0, "LCP similarity")]


def test_the_servers_decoding_step_is_read_from_its_log() -> None:
    log = ("slot print_timing: id  0 | task 5 | prompt eval time =     182.68 ms /     2 tokens\n"
           "slot print_timing: id  0 | task 5 |        eval time =    1354.39 ms /    16 tokens\n"
           "slot print_timing: id  1 | task 9 |        eval time =     445.61 ms /     4 tokens\n")
    assert team.decode_ms_per_token(log) == pytest.approx((1354.39 + 445.61) / 20)
    assert team.decode_ms_per_token("") == 0.0


def test_a_llama_server_built_elsewhere_is_used_when_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.llama_server import BINARY_VARIABLE, llama_server_binary

    built = tmp_path / "llama-server"
    built.write_bytes(b"")
    monkeypatch.setenv(BINARY_VARIABLE, str(built))
    assert llama_server_binary() == built
    monkeypatch.setenv(BINARY_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="unset it to build llama-server here"):
        llama_server_binary()
