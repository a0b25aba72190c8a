"""What a new user following README.md met on a machine without the model hub: the command line says
what happened where it used to stay silent (an empty completion, the small model writing an edit) and
names the instruct model's setting when it cannot download one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.lsp_client import REPO


def deepfim(*args: str, env: dict | None = None, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in dict(os.environ, **(env or {})).items() if key not in drop}
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, timeout=300)


def test_an_empty_completion_says_so_on_stderr(deepseek_tiny: Path, gemma_model: Path, tmp_path: Path) -> None:
    """`deepfim complete` printed nothing at all when the post-processed completion was empty (Gemma in a
    Go file after 75 s of reading): the user could not tell an empty answer from a failure."""
    source = tmp_path / "m.py"
    source.write_text("def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    \n", encoding="utf-8")
    position = ("--line", "5", "--character", "4", "--model", str(deepseek_tiny), "--max-tokens", "1")
    data = json.loads(deepfim("complete", str(source), *position, "--json").stdout)
    assert data["completion"] == ""  # the random-weight model's one token is cut away here
    out = deepfim("complete", str(source), *position)
    assert out.returncode == 0 and out.stdout == ""
    note = [line for line in out.stderr.splitlines() if "no completion at this position" in line]
    assert len(note) == 1 and "cut at --max-tokens" in note[0] and "--json" in note[0], out.stderr
    reader = tmp_path / "reader.py"  # a real model's completion: printed, and no note
    reader.write_text('def read_lines(path):\n    """Return the lines of the file at `path`."""\n    ',
                      encoding="utf-8")
    out = deepfim("complete", str(reader), "--line", "2", "--character", "4", "--model", str(gemma_model),
                  "--max-tokens", "16")
    assert out.returncode == 0 and out.stdout.strip(), out.stderr
    assert "no completion" not in out.stderr
