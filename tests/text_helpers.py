"""Helpers the tests share for what users read: README code blocks and a terminal's output."""

from __future__ import annotations

import os
import pty
import re
import subprocess
from pathlib import Path
from typing import Sequence


def readme_block(readme: Path, language: str, starts: str) -> str:
    """The code block of `readme` in `language` that starts with `starts`."""
    for block in re.findall(rf"```{language}\n(.*?)```", readme.read_text(), re.S):
        if block.startswith(starts):
            return block.strip()
    raise AssertionError(f"{readme} has no {language} block starting with {starts!r}")


def on_terminal(args: Sequence[str], stream: str, **options: object) -> tuple[subprocess.CompletedProcess, bytes]:
    """Run `args` with its `stream` ("stdout" or "stderr") on a pseudo-terminal; the finished process
    (the other stream captured) and what the terminal received."""
    leader, follower = pty.openpty()
    other = "stderr" if stream == "stdout" else "stdout"
    done = subprocess.run(list(args), **{stream: follower, other: subprocess.PIPE}, **options)  # type: ignore[call-overload]
    os.close(follower)
    received = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal's far end is closed: all read
            break
        if not chunk:
            break
        received += chunk
    os.close(leader)
    return done, received
