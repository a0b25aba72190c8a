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


def test_edit_says_which_model_writes_it(stand_in_cache: Path, tmp_path: Path) -> None:
    """Without the hub, `deepfim edit` (no --model) ran 80 s on the small Gemma standing in for DeepSeek-Coder
    and printed its answer without a word about the stand-in; `deepfim complete` warned."""
    cache = stand_in_cache
    source = tmp_path / "a.py"
    source.write_text("def add(a, b):\n    return a + b\n", encoding="utf-8")
    out = deepfim("edit", str(source), "--range", "0:0-2:0", "--action", "docstring", "--max-tokens", "8",
                  env={"DEEPFIM_CACHE": str(cache)}, drop=("DEEPFIM_MODEL",))
    assert out.returncode == 0, out.stderr
    warning = [line for line in out.stderr.splitlines() if "gemma-3-270m" in line]
    assert len(warning) == 1 and warning[0].startswith("deepfim: warning: "), out.stderr
    assert "is not downloaded, so the small gemma-3-270m model serves instead" in warning[0]
    assert "pass --model" in warning[0]


def test_an_instruct_model_that_cannot_be_downloaded_names_instruct_model(tmp_path: Path) -> None:
    """`models pull deepseek-coder-1.3b-instruct` without the hub said "or set DEEPFIM_MODEL", which sets the
    completion model: the instruct model is the editor's instructModel, `deepfim edit --model`."""
    out = deepfim("models", "pull", "deepseek-coder-1.3b-instruct",
                  env={"DEEPFIM_CACHE": str(tmp_path), "DEEPFIM_HUB": "http://127.0.0.1:9"})
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot download" in lines[0], out.stderr
    assert "instructModel" in lines[0] and "deepfim edit --model" in lines[0] and "DEEPFIM_MODEL" not in lines[0]
    base = deepfim("models", "pull", "deepseek-coder-1.3b-base",
                   env={"DEEPFIM_CACHE": str(tmp_path), "DEEPFIM_HUB": "http://127.0.0.1:9"})
    assert "--model" in base.stderr and "instructModel" not in base.stderr


def test_edit_shows_its_progress_on_a_terminal(gemma_model: Path, tmp_path: Path) -> None:
    """`deepfim edit` was silent on a terminal while it loaded the model, read its prompt and wrote (61 s and
    20 s of 88 for 7,265 tokens and a 512-token answer with Gemma on 2 cores); `deepfim complete` shows both."""
    from tests.text_helpers import on_terminal

    source = tmp_path / "big.py"
    source.write_text("".join((REPO / "server" / "cli.py").read_text().splitlines(keepends=True)[:150]))
    done, printed = on_terminal([sys.executable, "-m", "server.cli", "edit", str(source), "--range", "30:0-31:0",
                                 "--action", "docstring", "--model", str(gemma_model), "--max-tokens", "20"],
                                "stderr", cwd=REPO, timeout=300)
    assert done.returncode == 0, printed
    assert b"deepfim: loading the model" in printed and b"deepfim: reading the window" in printed, printed
    assert b"tokens)" in printed and printed.rstrip().endswith(b"\x1b[K"), printed  # the line is cleared
    assert b"deepfim: writing the answer: 1 token\r" in printed, printed  # then the answer as it grows


def test_json_on_a_terminal_keeps_the_token_ids_on_one_line(deepseek_tiny: Path, tmp_path: Path) -> None:
    """`deepfim complete --json` on a terminal printed the prompt's token ids one a line: 622 of its 693
    lines for a 34-line TypeScript file, 10,443 for a Go file, before the timings."""
    from tests.text_helpers import on_terminal

    source = tmp_path / "m.py"
    source.write_text("".join(f"def f{k}(a, b):\n    return a + {k} * b\n\n\n" for k in range(20)), encoding="utf-8")
    args = ["complete", str(source), "--line", "79", "--character", "0", "--model", str(deepseek_tiny),
            "--max-tokens", "2"]
    compact = json.loads(deepfim(*args, "--json").stdout)
    done, printed = on_terminal([sys.executable, "-m", "server.cli", *args, "--json"], "stdout", cwd=REPO,
                                timeout=300)
    assert done.returncode == 0, done.stderr
    text = printed.decode().replace("\r\n", "\n")
    shown = json.loads(text)
    assert shown["prompt"]["token_ids"] == compact["prompt"]["token_ids"]  # the same prompt, all of it
    assert len(compact["prompt"]["token_ids"]) > 200
    lines = text.splitlines()
    ids = [line for line in lines if line.startswith('    "token_ids": [')]
    assert len(ids) == 1 and ids[0].endswith("],") and len(lines) < len(compact["prompt"]["token_ids"]) // 2
    assert '  "timings": {' in lines and '    "generated_tokens": 2,' in text  # still indented for reading


def test_models_list_says_the_small_model_serves_while_the_default_is_missing(tmp_path: Path) -> None:
    """After `models pull` without the hub, `models list` starred DeepSeek-Coder as the default and showed
    Gemma "downloaded": nothing said that `deepfim serve` and `complete` would run Gemma."""
    from models.catalog import default_name, fallback_name, find

    small = find(fallback_name())
    assert small is not None
    target = tmp_path / small.local_path.relative_to(small.local_path.parents[1])
    target.parent.mkdir(parents=True)
    target.write_bytes(b"GGUF")
    rows = deepfim("models", "list", env={"DEEPFIM_CACHE": str(tmp_path)}, drop=("DEEPFIM_MODEL",)).stdout
    serving = [row for row in rows.splitlines() if "serves" in row]
    assert len(serving) == 1 and serving[0].split()[0] == small.key, rows
    assert serving[0].endswith(f"serves until {default_name()} is pulled")
    chosen = deepfim("models", "list", env={"DEEPFIM_CACHE": str(tmp_path), "DEEPFIM_MODEL": "/m.gguf"}).stdout
    assert "serves" not in chosen  # $DEEPFIM_MODEL names the model: the small one stands in for nothing


def test_a_missing_command_is_named_as_the_help_names_it() -> None:
    """`deepfim models` alone said "the following arguments are required: models_command", the parser's
    internal name; `deepfim` alone "command"."""
    for args, wanted in ((), "{serve,complete,edit,models}"), (("models",), "{list,pull}"):
        out = deepfim(*args)
        assert out.returncode == 2
        assert out.stderr.strip().endswith(f"the following arguments are required: {wanted}"), out.stderr
