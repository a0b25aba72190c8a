"""Run code that used to hang on a hostile input (catastrophic regex backtracking, a quadratic loop) in a
process of its own, so that a test fails instead of hanging: regular expressions cannot be interrupted."""

from __future__ import annotations

import multiprocessing
from typing import Any, Callable

GENEROUS_S = 20.0  # the fixed code takes a few seconds at most on these inputs, the old code a minute or more


def _child(pipe, fn: Callable[..., Any], args: tuple) -> None:
    try:
        pipe.send((True, fn(*args)))
    except BaseException as e:  # the test reports it rather than waiting out the limit
        pipe.send((False, f"{type(e).__name__}: {e}"))


def finishes(fn: Callable[..., Any], *args: Any, seconds: float = GENEROUS_S) -> Any:
    """`fn(*args)`'s result; fails the test if it raises or has not returned within `seconds`."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no lock held by another thread
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, fn, args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(seconds):
            raise AssertionError(f"{getattr(fn, '__name__', fn)} did not finish in {seconds} s")
        ok, value = receive.recv()
        assert ok, value
        return value
    finally:
        child.kill()
        child.join()
