"""Instruct edits on an engine: the prompt as token ids from the model's own chat template, fitted to
the window, generated, and the answer fitted back into the selection.

The chat template is the model's (`tokenizer.chat_template` in its GGUF, or llama-server's
`/props`), rendered with Jinja around a placeholder for the user's message; a model without one
gets the built-in template of its family (`fim.instruct.builtin_template`). The template's text
is tokenized with its control tokens (`<|EOT|>`, `<|im_start|>`, BOS) as ids; the user's code and
instruction only ever as plain text (`engine.tokenize`), so nothing in a file can become a
control token. `deepfim edit` and the server's code actions (`server/edits.py`) both run
`Instructor.run`.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Optional

from fim.context import CHARS_PER_TOKEN
from fim.instruct import (Action, ChatTemplate, Part, action, answer_end, builtin_template, code_block_end,
                          extract_code, fence_language, fit_to_selection, line_break, path_for_tests,
                          user_message)
from fim.positions import locate, lsp_lines
from fim.prompt import Prompt, Segment
from models.gguf_meta import GgufError, read_metadata
from server.completion import ContextProvider, timings_json
from server.engines.base import Engine, EngineUnavailable, Generation, Progress

# The user's message stands here while the template renders (private-use characters no template writes).
PLACEHOLDER = "\ue000deepfim-message\ue001"
# Spellings that may be control tokens in template text: `<|im_start|>`, `<｜begin▁of▁sentence｜>`,
# `<start_of_turn>`, `</s>`, `[INST]`. Each is a control token only if the vocabulary has it as one.
_CANDIDATE = re.compile(r"<[|｜][^<>\n]{1,64}?[|｜]>|</?[A-Za-z_][\w.:-]{0,40}>|\[/?[A-Z_]{2,24}\]")
ANSWER_TOKENS = 512  # room kept for an answer at least
ANSWER_CAP = 4096  # and at most
WINDOW_SHARE = 2 / 3  # of the room left after the selection, for the code around it (the rest: other files)


class EditTooLong(ValueError):
    """The selection does not fit the instruct model's window."""


@dataclass(frozen=True)
class EditRequest:
    """A selection of a document and what to do with it."""

    text: str
    start: tuple[int, int]  # LSP position (line, UTF-16 character)
    end: tuple[int, int]
    instruction: str
    action: str = "edit"  # a fim.instruct.ACTIONS name
    path: Optional[str] = None  # workspace-relative path of the document
    language: Optional[str] = None  # the editor's languageId
    context: Optional[ContextProvider] = None


@dataclass
class EditResult:
    edit: str  # the selection's new text, the explanation, or the test file
    answer: str  # what the model wrote
    action: Action
    model: str
    prompt: Prompt
    generation: Generation
    template: str
    test_path: Optional[str] = None
    total_ms: float = 0.0

    @property
    def cancelled(self) -> bool:
        return self.generation.stop_reason == "cancelled"

    def to_json(self) -> dict:
        """The `deepfim edit --json` object."""
        return {"edit": self.edit, "model": self.model, "prompt": self.prompt.to_json(),
                "timings": timings_json(self.generation, self.total_ms)}


# ------------------------------------------------------------------------------ the template
def model_chat_template(engine: Engine) -> Optional[str]:
    """The chat template the model carries: from its GGUF file in-process, from llama-server's
    `/props` remotely; None where it has none or the engine cannot tell (Ollama, vLLM)."""
    source = Path(engine.info.source)
    if source.suffix == ".gguf" and source.is_file():
        try:
            value = read_metadata(source, ["tokenizer.chat_template"]).get("tokenizer.chat_template")
        except (OSError, GgufError):
            return None
        return value if isinstance(value, str) and value.strip() else None
    client = getattr(engine, "client", None)
    if getattr(engine, "api", "") in ("llama.cpp", "openai") and client is not None:
        try:
            props = client.root().probe("/props")
        except EngineUnavailable:
            return None
        value = props.get("chat_template") if isinstance(props, dict) else None
        return value if isinstance(value, str) and value.strip() else None
    return None


def render(template: ChatTemplate, bos: str, eos: str) -> tuple[str, str]:
    """The template's text before and after the user's message, for one user turn and the start of
    the answer. Raises ValueError when the template fails or does not hold the message once."""
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise ValueError(f"the chat template refused the conversation: {message}")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.globals.update(raise_exception=raise_exception, strftime_now=lambda fmt: datetime.now().strftime(fmt))
    try:
        text = env.from_string(template.source).render(
            messages=[{"role": "user", "content": PLACEHOLDER}], add_generation_prompt=True, bos_token=bos,
            eos_token=eos, tools=None, documents=None)
    except TemplateError as error:
        raise ValueError(f"the chat template does not render: {error}") from None
    head, found, tail = text.partition(PLACEHOLDER)
    if not found or PLACEHOLDER in tail:
        raise ValueError("the chat template does not hold the user's message once")
    return head, tail


# ------------------------------------------------------------------------------ the instructor
class Instructor:
    """Instruct prompts for, and edits on, one engine. Call only on the engine's thread."""

    def __init__(self, engine: Engine, lookup: bool = True) -> None:
        self.engine = engine
        self.lookup = lookup
        self._ids: dict[str, Optional[int]] = {}
        self.warnings: list[str] = []
        carried = model_chat_template(engine)
        bos = engine.special.bos
        bos_text = engine.token_text(bos) if bos is not None else ""
        self.template = ChatTemplate("model", carried) if carried else builtin_template(self._has_token)
        try:
            head, tail = render(self.template, bos_text, "")
        except ValueError as error:
            self.warnings.append(f"{engine.info.name}: {error}; using the built-in {builtin_template(self._has_token).name} "
                                 f"template")
            self.template = builtin_template(self._has_token)
            head, tail = render(self.template, bos_text, "")
        self.head = Segment("control", None, tuple(self.template_tokens(head)), head)
        self.tail = Segment("control", None, tuple(self.template_tokens(tail)), tail)

    # -------------------------------------------------------------- tokens
    def _token_id(self, text: str) -> Optional[int]:
        if text not in self._ids:
            lookup = getattr(self.engine, "token_id", None)
            self._ids[text] = lookup(text) if lookup is not None else None
        return self._ids[text]

    def _has_token(self, text: str) -> bool:
        return self._token_id(text) is not None

    def template_tokens(self, text: str) -> list[int]:
        """Template text as ids: spellings of the vocabulary's control tokens as those tokens, the
        rest as plain text (as llama.cpp tokenizes with special tokens parsed)."""
        out: list[int] = []
        start = 0
        for match in _CANDIDATE.finditer(text):
            token = self._token_id(match.group(0))
            if token is None:
                continue
            if match.start() > start:
                out.extend(self.engine.tokenize(text[start:match.start()]))
            out.append(token)
            start = match.end()
        if start < len(text):
            out.extend(self.engine.tokenize(text[start:]))
        return out

    def _segments(self, parts: list[Part]) -> list[Segment]:
        return [Segment(p.kind, p.source, tuple(self.engine.tokenize(p.text)), p.text) for p in parts if p.text]

    def _prompt(self, parts: list[Part]) -> Prompt:
        return Prompt((self.head, *self._segments(parts), self.tail))

    # -------------------------------------------------------------- prompt
    def prompt_for(self, request: EditRequest) -> tuple[Prompt, int, str, Optional[str]]:
        """(the prompt, tokens kept for the answer, the selection, the test file's path): the
        selection with as much of the code around it as fits, then other files of the project in
        the room left. Raises EditTooLong when the selection alone does not fit."""
        act = action(request.action) or action("edit")
        assert act is not None
        text = request.text
        start_line, _, start = locate(text, *request.start)
        end_line, _, end = locate(text, *request.end)
        if end < start:
            start, end, start_line, end_line = end, start, end_line, start_line
        before, selection, after = text[:start], text[start:end], text[end:]
        fence = fence_language(request.language, request.path)
        test_path = path_for_tests(request.path or "code") if act.result == "file" else None
        n_ctx = self.engine.info.n_ctx

        def compose(before_text: str, after_text: str, snippets: tuple = ()) -> Prompt:
            return self._prompt(user_message(act, request.instruction, before_text, selection, after_text,
                                             request.path, fence, snippets, test_path))

        bare = compose("", "")
        selected = sum(len(s.token_ids) for s in bare.segments if s.kind == "selection")
        answer = min(ANSWER_CAP, max(ANSWER_TOKENS, 2 * selected + 128))
        room = n_ctx - answer - bare.n_tokens - 64  # 64: the framing of the code around it
        if room < 0:
            raise EditTooLong(f"the selection is {selected} tokens; with the prompt and {answer} tokens for the answer "
                              f"it does not fit the instruct model's {n_ctx}-token window: select less")
        window = int(room * WINDOW_SHARE)
        before_lines, used = self._fit_lines(lsp_lines(before)[::-1], window * 3 // 4)
        before_lines.reverse()
        after_lines, _ = self._fit_lines(lsp_lines(after), window - used)
        before_text, after_text = "".join(before_lines), "".join(after_lines)
        prompt = compose(before_text, after_text)
        left = n_ctx - answer - prompt.n_tokens
        if request.context is not None and left > 64:
            first = start_line - len(before_lines) + (0 if before.endswith(("\n", "\r")) or not before else 1)
            window_lines = (max(0, first), end_line + len(after_lines) + 1)
            snippets = tuple(request.context(window_lines, int((left - 64) * CHARS_PER_TOKEN)))
            while snippets:
                candidate = compose(before_text, after_text, snippets)
                if candidate.n_tokens + answer <= n_ctx:
                    prompt = candidate
                    break
                snippets = snippets[1:]  # the most important come last
        return prompt, min(answer, n_ctx - prompt.n_tokens - 1), selection, test_path

    def _fit_lines(self, lines: list[str], budget: int) -> tuple[list[str], int]:
        """The leading `lines` whose tokens fit `budget`, and their tokens."""
        kept: list[str] = []
        used = 0
        for line in lines:
            cost = len(self.engine.tokenize(line))
            if used + cost > budget:
                break
            kept.append(line)
            used += cost
        return kept, used

    # -------------------------------------------------------------- run
    def run(self, request: EditRequest, cancelled: Callable[[], bool],
            on_text: Optional[Callable[[str, int], None]] = None, progress: Optional[Progress] = None,
            max_tokens: Optional[int] = None) -> EditResult:
        """Build the prompt, generate greedily until the answer is over (its code block closed,
        the end-of-turn token, or the room for it spent), and fit the answer to the selection.
        `on_text(text, tokens)` hears the answer as it grows; `max_tokens` caps the answer. Raises
        EditTooLong, EngineUnavailable."""
        started = time.perf_counter()
        act = action(request.action) or action("edit")
        assert act is not None
        prompt, answer_tokens, selection, test_path = self.prompt_for(request)
        if max_tokens is not None:
            answer_tokens = max(1, min(answer_tokens, max_tokens))
        tokens = [0]

        def stop_at(text: str) -> Optional[int]:
            tokens[0] += 1
            if on_text is not None:
                on_text(text, tokens[0])
            end = answer_end(text)
            if end is None and act.result != "answer":
                end = code_block_end(text)
            return end

        generation = self.engine.generate(prompt.token_ids, answer_tokens, cancelled, stop_at=stop_at,
                                          lookup=self.lookup, progress=progress)
        answer = generation.text
        if act.result == "rewrite":
            text = request.text
            line, column, offset = locate(text, *min(request.start, request.end))
            line_prefix = lsp_lines(text)[line][:column] if text else ""
            edit = fit_to_selection(extract_code(answer), selection, line_prefix, line_break(text))
        elif act.result == "file":
            edit = extract_code(answer)
        else:
            end = answer_end(answer)
            edit = (answer if end is None else answer[:end]).strip()
        return EditResult(edit=edit, answer=answer, action=act, model=self.engine.info.name, prompt=prompt,
                          generation=generation, template=self.template.name, test_path=test_path,
                          total_ms=(time.perf_counter() - started) * 1000)
