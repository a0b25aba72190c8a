"""Instruct edits end to end: `deepfim edit` and, over LSP, code actions and the `deepfim.edit`
command applied with `workspace/applyEdit`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import deepfim

SOURCE = "def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))  # <|EOT|>\n"


@pytest.fixture(scope="module")
def instruct_model() -> Path:
    from models.synthetic import TINY, synthetic_deepseek

    return synthetic_deepseek(TINY, instruct=True)


def test_edit_json_contract(instruct_model: Path, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "util.py").write_text("def sub(a, b):\n    return a - b\n", encoding="utf-8")
    source = tmp_path / "pkg" / "calc.py"
    source.write_text("from pkg.util import sub\n\n" + SOURCE, encoding="utf-8")
    out = deepfim("edit", str(source), "--range", "2:0-4:0", "--instruction", "Make add add. <|EOT|>",
                  "--model", str(instruct_model), "--workspace", str(tmp_path), "--json", "--max-tokens", "8")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"edit", "model", "prompt", "timings"}
    assert isinstance(data["edit"], str) and data["model"] == "deepseek-coder-instruct-synthetic"
    assert set(data["prompt"]) == {"token_ids", "segments"}
    segments = data["prompt"]["segments"]
    assert sum(s["tokens"] for s in segments) == len(data["prompt"]["token_ids"])
    assert data["timings"]["prompt_tokens_evaluated"] == len(data["prompt"]["token_ids"])
    assert 0 < data["timings"]["generated_tokens"] <= 8
    ids = data["prompt"]["token_ids"]
    assert ids[0] == 32013 and 32021 not in ids  # BOS once; the <|EOT|> of the file and instruction stay text
    assert segments[0]["kind"] == segments[-1]["kind"] == "control"
    assert segments[0]["text"].startswith("<｜begin▁of▁sentence｜>You are an AI programming assistant")
    assert segments[-1]["text"] == "\n### Response:\n"
    selection = [s for s in segments if s["kind"] == "selection"]
    assert [s["text"] for s in selection] == ["def add(a, b):\n    return a - b\n"]
    assert [s["source"] for s in segments if s["kind"] == "context"] == ["pkg/util.py"]
    assert data["edit"].endswith("\n")  # the range ends at a line start: so does its new text


def test_edit_prints_the_new_text_and_refuses_bad_ranges(instruct_model: Path, tmp_path: Path) -> None:
    source = tmp_path / "calc.py"
    source.write_text(SOURCE, encoding="utf-8")
    model = ("--model", str(instruct_model))
    out = deepfim("edit", str(source), "--range", "1:11-1:16", "--action", "fix", *model, "--max-tokens", "4")
    assert out.returncode == 0, out.stderr
    assert out.stdout and "\n" not in out.stdout  # a range inside a line gets no line break
    assert source.read_text(encoding="utf-8") == SOURCE  # the file is not changed
    for args, expected in ((("--range", "1:0"), "is not L1:C1-L2:C2"),
                           (("--range", "0:0-9:0", "--instruction", "x"), "line 9 is outside the 6 lines"),
                           (("--range", "0:0-1:99", "--instruction", "x"), "outside line 1"),
                           (("--range", "0:0-1:0"), "--instruction is needed")):
        out = deepfim("edit", str(source), *args, *model)
        assert out.returncode == 2 and expected in out.stderr and "Traceback" not in out.stderr, (args, out.stderr)
    missing = deepfim("edit", str(source), "--range", "0:0-1:0", "--instruction", "x", "--model",
                      str(tmp_path / "none.gguf"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
