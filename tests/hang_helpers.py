"""Run code that used to hang on a hostile input (catastrophic regex backtracking, a quadratic loop) in a
forked process, so that a test fails instead of hanging: regular expressions cannot be interrupted."""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable

GENEROUS_S = 20.0  # the fixed code takes milliseconds on these inputs, the old code minutes


def _child(pipe, fn: Callable[..., Any], args: tuple) -> None:
    pipe.send(fn(*args))


def finishes(fn: Callable[..., Any], *args: Any, seconds: float = GENEROUS_S) -> Any:
    """`fn(*args)`'s result; fails the test if it has not returned within `seconds`."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    child.start()
    try:
        if not receive.poll(seconds):
            raise AssertionError(f"{getattr(fn, '__name__', fn)} did not finish in {seconds} s")
        return receive.recv()
    finally:
        child.kill()
        child.join()
