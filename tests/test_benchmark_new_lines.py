"""benchmarks/new_lines.py in a tiny configuration: typing lines with Enter between them, the block
layout against the line layout in one run. Checked: what the server reads after Enter (prompt
tokens, counted by the engine), never the speed."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import new_lines


def test_enter_reads_a_few_tokens_in_the_block_layout(deepseek_tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "new_lines.json"
    assert new_lines.main(["--model", str(deepseek_tiny), "--lines", "3", "--ctx", "2048", "--max-tokens", "2",
                           "--json", str(out)]) == 0
    summary = json.loads(out.read_text())["summary"]
    block, line = summary["block"]["after_enter"], summary["line"]["after_enter"]
    assert block["n"] == line["n"] == 3
    # line: the suffix after the new line's text, reused past it in-process (it was read again before kvplan)
    assert block["evaluated_mean"] <= min(16, line["evaluated_mean"])
