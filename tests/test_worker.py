"""server/worker.py: the model thread's queue, and when a request takes the model (no model needed)."""

from __future__ import annotations

import threading
import time

from server.worker import CancelToken, ModelWorker


def test_a_reload_makes_background_reading_give_way_for_good() -> None:
    """`cancel_background` (a reload) stops the background job at once and marks it closing, so a
    window fill for the old model neither holds the reload nor resumes its progress."""
    worker = ModelWorker(name="deepfim-test")
    started = threading.Event()

    def fill(token: CancelToken) -> bool:
        started.set()
        deadline = time.monotonic() + 10
        while not token() and time.monotonic() < deadline:
            time.sleep(0.01)
        return token.closing

    try:
        background = worker.submit_background(fill)
        assert started.wait(5)
        began = time.monotonic()
        worker.cancel_background()
        reload = worker.submit(lambda: "loaded")
        assert reload.result(5) == "loaded" and time.monotonic() - began < 1.0
        assert background.result(1) is True
    finally:
        worker.stop()


def test_a_request_waits_for_the_next_keystroke_only_when_decoding_steps_are_slow() -> None:
    from server.service import FAST_TYPING_GAP_S, debounces

    fast_typing = FAST_TYPING_GAP_S / 2
    assert debounces(fast_typing, float("inf"))  # no answer timed yet
    assert debounces(fast_typing, 0.07)  # a CPU: 70 ms a generated token and more
    assert not debounces(fast_typing, 0.0025)  # a GPU: a superseded answer gives way within 2.5 ms
    assert not debounces(FAST_TYPING_GAP_S * 2, 3.0)  # a pause between keystrokes (or a debouncing client)


def test_an_outage_tells_its_first_cause_and_those_to_fix_and_its_status_follows_the_cause(tmp_path) -> None:
    """Popups: the outage's first cause, then only causes the user must fix (each once, TOLD_CAUSES in
    all); the status shows every change of cause."""
    from server.service import TOLD_CAUSES, CompletionService, Listener
    from server.settings import Settings

    class Recorder(Listener):
        def __init__(self) -> None:
            self.told: list[str] = []
            self.statuses: list[str] = []

        def status(self, state: str, message: str, **extra: object) -> None:
            self.statuses.append(message)

        def outage(self, message) -> None:
            self.told.append(message)
            self.statuses.append(message)

    listener = Recorder()
    service = CompletionService(Settings(), listener)
    try:
        fixable = {"C", "D", "E"}  # a refused API key, a missing path...
        for cause in "AABACDAEE":
            service._engine_down(f"{cause} (trying again in 2 s)", cause, cause in fixable)
        assert listener.told == [f"{c} (trying again in 2 s)" for c in "ACD"][:TOLD_CAUSES]  # popups: news only
        assert listener.statuses == [f"{c} (trying again in 2 s)" for c in "ABACDAE"]  # each change of cause
    finally:
        service.close()
