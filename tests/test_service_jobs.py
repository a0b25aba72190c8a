"""The service's jobs on the model thread, with a stand-in completer (no model): reloads, cancelled
requests and the background reading scheduled by typing."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace
from typing import Callable, Optional

import pytest

from fim.prompt import Prompt
from server import service as service_module
from server.completion import CompletionResult
from server.engines.base import Cancelled, EngineReplaced, Generation
from server.service import CompletionService
from server.settings import Settings


def held_answer(text: str) -> tuple[Callable[..., str], threading.Event, threading.Event]:
    """A stand-in's answer `text`, held: (the answer, set when it is asked for, to set to let it return)."""
    asked, release = threading.Event(), threading.Event()

    def answer(request, cancel) -> str:
        asked.set()
        release.wait(10)
        return text

    return answer, asked, release


def close_while_answering(service: CompletionService, uri: str, position: tuple[int, int],
                          answering: threading.Event, closed: threading.Event) -> None:
    """Ask for a completion at `position` of `uri` and close the document while the stand-in answers
    (it sets `answering`, then waits for `closed`)."""

    async def scenario() -> None:
        running = asyncio.ensure_future(service.complete(uri, *position))
        while not answering.is_set():
            await asyncio.sleep(0.01)
        service.closed(uri)
        closed.set()
        await asyncio.wait_for(running, 10)

    asyncio.run(scenario())


class StandIn:
    """A completer that answers every request with `answer(request, cancel)`; counts how often it was opened."""

    opened = 0

    def __init__(self, settings: Settings, answer: Callable[..., str]) -> None:
        type(self).opened += 1
        self.settings = settings
        self.answer = answer
        self.prefills: list[tuple[int, int]] = []
        info = SimpleNamespace(name="stand-in", template=SimpleNamespace(name="none"), n_ctx=2048, warnings=[])
        self.engine = SimpleNamespace(info=info, close=lambda: None, cached_tokens=0)

    def complete(self, request, cancel, report=None, first_answer_s: float = 0.0) -> CompletionResult:
        text = self.answer(request, cancel)
        stop = "cancelled" if cancel() else "eog"
        return CompletionResult(completion=text if stop == "eog" else "", model="stand-in", prompt=Prompt(()),
                                generation=Generation(text=text, stop_reason=stop), line=request.line,
                                column=request.character)

    def prefill(self, request, cancelled, progress=None, batch: Optional[int] = None) -> None:
        self.prefills.append((request.line, request.character))


@pytest.fixture
def open_stand_ins(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[..., str]], list[StandIn]]:
    """Make the service open stand-ins answering with `answer`; the list holds every one opened."""
    def install(answer: Callable[..., str]) -> list[StandIn]:
        opened: list[StandIn] = []

        def open_completer(settings: Settings, progress=None, **options: object) -> StandIn:
            opened.append(StandIn(settings, answer))
            return opened[-1]

        monkeypatch.setattr(service_module, "open_completer", open_completer)
        return opened
    return install


class QuickStandIn(StandIn):
    """A stand-in that answers from a short prompt, so the service reads the window in the background
    afterwards: with `read(request, cancelled)`."""

    def __init__(self, settings: Settings, answer: Callable[..., str], read: Callable[..., None]) -> None:
        super().__init__(settings, answer)
        self.read = read

    def complete(self, request, cancel, report=None, first_answer_s: float = 0.0) -> CompletionResult:
        result = super().complete(request, cancel, report, first_answer_s)
        result.window = "quick"
        return result

    def prompt_for(self, request) -> None:
        pass  # a warm-up

    def prefill(self, request, cancelled, progress=None, batch: Optional[int] = None) -> None:
        self.read(request, cancelled)


def answer_quickly(monkeypatch: pytest.MonkeyPatch, read: Callable[..., None],
                   answer: Callable[..., str] = lambda request, cancel: "1") -> None:
    """The service's completers are QuickStandIns reading the window with `read`."""
    monkeypatch.setattr(service_module, "open_completer",
                        lambda settings, progress=None: QuickStandIn(settings, answer, read))


def test_a_request_cancelled_while_it_waits_for_a_reload_leaves_the_reload_alone(open_stand_ins) -> None:
    """A setting that reloads the model is queued behind a running job; a completion waits for it and
    is cancelled ($/cancelRequest, sent by VS Code at the next keystroke). The reload still runs and
    later requests are answered (they were refused as cancelled until deepfim restarted)."""
    opened = open_stand_ins(lambda request, cancel: "2")
    service = CompletionService(Settings(), text_of=lambda uri: "x = 1\ny = \n", background_index=False)
    try:
        service.load().result(5)
        running = threading.Event()
        service.worker.submit(lambda: running.wait(10))  # the model thread is busy
        service.configure({"contextSize": 2048})

        async def scenario() -> Optional[CompletionResult]:
            waiting = asyncio.ensure_future(service.complete("file:///a.py", 1, 4))
            await asyncio.sleep(0.1)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            running.set()
            return await asyncio.wait_for(service.complete("file:///a.py", 1, 4), 5)

        served = asyncio.run(scenario())
        assert len(opened) == 2 and served is not None and served.completion == "2"
    finally:
        service.close()


def test_a_prefill_scheduled_before_a_suggestion_is_accepted_does_not_cancel_the_prefetch(open_stand_ins) -> None:
    """`foo` typed (a prefill is scheduled for the pause after it), `bar()` suggested and accepted at
    once: the prefetch after the accepted text runs to its end and is cached; the pause's prefill, for
    a cursor the accept moved, never runs (it used to, and cancelled the prefetch)."""
    cancelled: list[int] = []

    def answer(request, cancel) -> str:
        if request.character == 7:
            return "bar()"
        until = time.monotonic() + 0.6  # a prefetch generating
        while time.monotonic() < until:
            if cancel():
                cancelled.append(request.character)
                return ""
            time.sleep(0.01)
        return "  # done"

    opened = open_stand_ins(answer)
    document = {"text": "x = foo\n"}
    service = CompletionService(Settings(), text_of=lambda uri: document["text"], background_index=False)
    uri = "file:///b.py"
    try:
        service.load().result(5)

        async def scenario() -> None:
            service.changed(uri, (0, 7))
            served = await service.complete(uri, 0, 7)
            assert served is not None and served.completion == "bar()"
            document["text"] = "x = foobar()\n"  # Tab
            service.changed(uri, (0, 12))
            await asyncio.sleep(service_module.PREFILL_PAUSE_S + 0.9)

        asyncio.run(scenario())
        assert (opened[0].prefills, cancelled) == ([], [])
        assert service.cache.get(uri, "x = foobar()", "\n") == "  # done"
    finally:
        service.close()


def test_a_replaced_engine_is_opened_again_once(open_stand_ins) -> None:
    """The remote server was restarted with another model: the keystroke being answered finds out,
    and so does the one queued behind it, on the same old engine. It is opened again once (a second
    open closed the first new engine and showed the user two loads)."""
    started = threading.Event()

    def answer(request, cancel) -> str:
        if StandIn.opened == 1:
            started.set()
            time.sleep(0.3)
            raise EngineReplaced("the engine at http://x was restarted with another model or window")
        return "2"

    opened = open_stand_ins(answer)
    StandIn.opened = 0
    service = CompletionService(Settings(), text_of=lambda uri: "x = 1\ny = \n", background_index=False)
    try:
        service.load().result(5)

        async def scenario() -> None:
            first = asyncio.ensure_future(service.complete("file:///c.py", 1, 4))
            while not started.is_set():
                await asyncio.sleep(0.01)
            second = asyncio.ensure_future(service.complete("file:///c.py", 1, 3))  # the next keystroke
            await asyncio.gather(first, second, return_exceptions=True)
            await asyncio.sleep(0.5)

        asyncio.run(scenario())
        assert (len(opened), service.stats["reloads"]) == (2, 1)
    finally:
        service.close()


def test_a_document_closed_while_its_completion_runs_leaves_no_result_behind(open_stand_ins) -> None:
    """Its result (prompt and token ids: 0.66 MB for a 3,000-token window) was kept for deepfim/explain
    after didClose, for good: one per document closed while a completion ran."""
    answer, closing, closed = held_answer("2")
    open_stand_ins(answer)
    service = CompletionService(Settings(), text_of=lambda uri: "x = 1\ny = \n", background_index=False)
    try:
        service.load().result(5)
        service.opened("file:///a.py", "python")

        close_while_answering(service, "file:///a.py", (1, 4), closing, closed)
        assert service.explain("file:///a.py") is None and service.last_results == {}
        service.opened("file:///a.py", "python")
        asyncio.run(service.complete("file:///a.py", 0, 0))
        assert service.explain("file:///a.py") is not None  # an open document's result is kept
    finally:
        service.close()


def test_an_answer_for_a_document_changed_while_it_ran_is_not_served(open_stand_ins) -> None:
    """`x = f` asked for, `o` typed while the model answers (a client that sends no $/cancelRequest): the
    answer `oo()` was for the old text, and served it showed at the new cursor as `x = fooo()`. It is
    kept for the old text (typing through it is still served from the cache) but not served."""
    answer, answering, typed = held_answer("oo()")
    open_stand_ins(answer)
    document = {"text": "x = f\n"}
    service = CompletionService(Settings(), text_of=lambda uri: document["text"], background_index=False)
    uri = "file:///d.py"
    try:
        service.load().result(5)

        async def scenario() -> None:
            running = asyncio.ensure_future(service.complete(uri, 0, 5))
            while not answering.is_set():
                await asyncio.sleep(0.01)
            document["text"] = "x = fo\n"
            service.changed(uri, (0, 6))
            typed.set()
            assert await asyncio.wait_for(running, 10) is None
            served = await service.complete(uri, 0, 6)
            assert served is not None and served.completion == "o()"

        asyncio.run(scenario())
    finally:
        service.close()


def test_a_request_whose_document_changed_while_it_waited_to_debounce_leaves_the_model_alone(
        open_stand_ins, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fast typing: `z` typed, asked for, and taken back within the debounce wait; the request back at
    `x = f` is answered from the cache. The one for `x = fz` used to take the model when its wait ended
    and hold it for an answer nobody could be shown (the document had changed)."""
    asked: list[str] = []

    def answer(request, cancel) -> str:
        asked.append(request.text)
        return "oo()"

    monkeypatch.setattr(service_module, "FAST_TYPING_GAP_S", 60.0)  # every request debounces...
    monkeypatch.setattr(service_module, "DEBOUNCE_S", 0.5)  # ...long enough for the keystrokes below

    open_stand_ins(answer)
    document = {"text": "x = f\n"}
    service = CompletionService(Settings(), text_of=lambda uri: document["text"], background_index=False)
    uri = "file:///e.py"
    try:
        service.load().result(5)

        async def scenario() -> None:
            assert (await service.complete(uri, 0, 5)).completion == "oo()"
            document["text"] = "x = fz\n"
            waiting = asyncio.ensure_future(service.complete(uri, 0, 6))
            while service.stats["requests"] < 2:  # it waits for the next keystroke
                await asyncio.sleep(0.01)
            document["text"] = "x = f\n"
            assert (await service.complete(uri, 0, 5)).completion == "oo()"
            assert await waiting is None

        asyncio.run(scenario())
        assert asked == ["x = f\n"]
    finally:
        service.close()


def test_the_window_of_a_closed_document_is_read_no_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """A large file answered from a short prompt while its window is read in the background, then
    closed: the reading went on, and opening the next file resumed it (minutes of a CPU's time for
    a window nobody would ask about, shown in the status bar as still being read)."""
    reading = threading.Event()
    read: list[str] = []

    def read_until_cancelled(request, cancelled) -> None:
        read.append(request.text)
        reading.set()
        while not cancelled():
            time.sleep(0.01)
        raise Cancelled()

    answer_quickly(monkeypatch, read_until_cancelled)
    texts = {"file:///big.py": "x = \n", "file:///next.py": "y = \n"}
    service = CompletionService(Settings(), text_of=texts.get, background_index=False)
    try:
        service.load().result(5)
        service.opened("file:///big.py", "python")
        asyncio.run(service.complete("file:///big.py", 0, 4))
        assert reading.wait(5)
        service.closed("file:///big.py")
        service.opened("file:///next.py", "python")
        service.worker.submit(lambda: None).result(5)  # the jobs queued so far have run
        assert read == ["x = \n"] and service._fill_request is None
    finally:
        service.close()


def test_a_file_closed_right_after_an_edit_is_not_read_after_the_pause(open_stand_ins) -> None:
    """Typed, then closed within the pause after which the edit's window is read: the reading still
    came, of the file on disk, and took the KV cache from the file the user went on to."""
    opened = open_stand_ins(lambda request, cancel: "1")
    service = CompletionService(Settings(), text_of=lambda uri: "x = 1\n", background_index=False)
    uri = "file:///f.py"
    try:
        service.load().result(5)

        async def scenario() -> None:
            service.opened(uri, "python")
            service.changed(uri, (0, 5))
            service.closed(uri)
            await asyncio.sleep(service_module.PREFILL_PAUSE_S + 0.3)

        asyncio.run(scenario())
        service.worker.submit(lambda: None).result(5)
        assert (opened[0].prefills, service.stats["prefills"]) == ([], 0)
    finally:
        service.close()


def test_a_file_closed_while_its_short_prompt_is_answered_is_not_read_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """Closed while the short prompt's answer ran: the window reading that answer schedules did not
    start (it came after the close, and read a window nobody would ask about)."""
    answer, answering, closed = held_answer("1")
    read: list[str] = []
    answer_quickly(monkeypatch, lambda request, cancelled: read.append(request.text), answer)
    service = CompletionService(Settings(), text_of=lambda uri: "x = \n", background_index=False)
    try:
        service.load().result(5)
        service.opened("file:///big.py", "python")

        close_while_answering(service, "file:///big.py", (0, 4), answering, closed)
        service.worker.submit(lambda: None).result(5)
        assert read == [] and service._fill_request is None
    finally:
        service.close()


def test_disabling_completions_stops_the_window_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """`enabled: false` while a large file's window was read in the background: the reading went on to
    its end (a CPU's minutes) though no completion would use it."""
    reading, stopped = threading.Event(), threading.Event()

    def read_until_cancelled(request, cancelled) -> None:
        reading.set()
        while not cancelled():
            time.sleep(0.01)
        stopped.set()
        raise Cancelled()

    answer_quickly(monkeypatch, read_until_cancelled)
    service = CompletionService(Settings(), text_of=lambda uri: "x = \n", background_index=False)
    try:
        service.load().result(5)
        asyncio.run(service.complete("file:///big.py", 0, 4))
        assert reading.wait(5)
        service.configure({"enabled": False})
        assert stopped.wait(5)
        service.worker.submit(lambda: None).result(5)
        assert service._fill_request is None
    finally:
        service.close()
