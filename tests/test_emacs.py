"""The Emacs package (editors/emacs/deepfim.el): its ERT suite, in batch Emacs, against the real server.

Needs Emacs 28+ with eglot (Debian: `apt-get install emacs-nox elpa-eglot`; eglot is built in from
Emacs 29). The suite starts `deepfim serve` with Gemma 3 270M, and a small pygls server
(tests/emacs/fake_lsp.py) as "another language server" for eglot.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EMACS = shutil.which("emacs")
SUITE = REPO / "tests" / "emacs" / "deepfim-tests.el"


@pytest.mark.skipif(EMACS is None, reason="emacs is not installed (Debian: apt-get install emacs-nox elpa-eglot)")
def test_emacs_ert_suite(gemma_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    deepfim = Path(sys.executable).with_name("deepfim")
    env = dict(os.environ,
               DEEPFIM_TEST_MODEL=str(gemma_model),
               DEEPFIM_TEST_PYTHON=sys.executable,
               DEEPFIM_TEST_DEEPFIM=str(deepfim) if deepfim.exists() else "",
               HOME=str(tmp_path))  # no user init files, no ~/.emacs.d writes
    env.pop("EMACSLOADPATH", None)
    # `--batch` loads no init file but does load site-start (Debian's elpa packages, eglot).
    command = [EMACS, "--batch", "-L", str(REPO / "editors" / "emacs"), "-l", "ert", "-l", str(SUITE),
               "-f", "ert-run-tests-batch-and-exit"]
    try:
        # SIGPIPE ignored, as an interactive Emacs has it: a batch Emacs dies of it when it writes `initialize` to
        # a server that exited a moment before (the tests of servers exiting at start; -13 once in CI)
        proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=480,
                              restore_signals=False)
    except subprocess.TimeoutExpired as error:
        out = (error.stdout or b"").decode() if isinstance(error.stdout, bytes) else (error.stdout or "")
        err = (error.stderr or b"").decode() if isinstance(error.stderr, bytes) else (error.stderr or "")
        pytest.fail(f"the ERT suite did not finish in {error.timeout} s\n{(out + err)[-6000:]}")
    output = proc.stdout + proc.stderr
    if "Cannot open load file" in output and "eglot" in output:
        pytest.fail("eglot is missing: install elpa-eglot (Emacs 28) or use Emacs 29+\n" + output[-3000:])
    summary = [line for line in output.splitlines()
               if re.match(r"\s*(Ran \d+ tests|\d+ unexpected results|FAILED\s|SKIPPED\s)", line)]
    with capsys.disabled():
        print("\nERT (" + Path(EMACS).name + "): " + ("\n".join(summary) or "no summary"))
    assert proc.returncode == 0, output[-12000:]
    match = re.search(r"Ran (\d+) tests, (\d+) results as expected, (\d+) unexpected(?:, (\d+) skipped)?",
                      output)
    assert match, output[-4000:]
    ran, expected, unexpected, skipped = (int(g or 0) for g in match.groups())
    assert unexpected == 0 and expected + skipped == ran, "\n".join(summary)
    # Only optional tests (company, when it is not installed) may be skipped.
    assert skipped <= 1, "\n".join(summary)
