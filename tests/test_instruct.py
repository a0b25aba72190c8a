"""Instruct edits: DeepSeek-Coder-Instruct's exact prompt as token ids, control-token spellings in
user text, and the answer fitted back into the selection."""

from __future__ import annotations

import ctypes
from pathlib import Path
from typing import Iterator

import llama_cpp
import pytest

from fim.instruct import (DEEPSEEK_SYSTEM_PROMPT, answer_end, builtin_template, code_block_end, extract_code,
                          fit_to_selection, line_break, path_for_tests)
from server.instruct import EditRequest, Instructor, render

BOS, EOT = 32013, 32021
SOURCE = "def add(a, b):\n    return a - b\n\n\nprint(add(1, 2))\n"


@pytest.fixture(scope="module")
def instruct_model() -> Path:
    from models.synthetic import TINY, synthetic_deepseek

    return synthetic_deepseek(TINY, instruct=True)


@pytest.fixture(scope="module")
def instruct_engine(instruct_model: Path) -> Iterator:
    from server.engines.local import LocalEngine

    engine = LocalEngine(instruct_model, n_ctx=4096)
    yield engine
    engine.close()


def whole(engine, text: str) -> list[int]:
    """llama.cpp's tokenization of a whole rendered prompt, control tokens parsed (as
    `llama_chat_apply_template` + `llama_tokenize(parse_special=True)` would feed the model)."""
    data = text.encode("utf-8")
    size = len(data) + 16
    buf = (llama_cpp.llama_token * size)()
    n = llama_cpp.llama_tokenize(engine._vocab, data, len(data), buf, size, False, True)
    return list(buf[:n])


def test_the_model_carries_deepseeks_template(instruct_model: Path) -> None:
    from models.gguf_meta import read_metadata

    meta = read_metadata(instruct_model, ["tokenizer.chat_template", "tokenizer.ggml.eos_token_id"])
    assert meta["tokenizer.ggml.eos_token_id"] == EOT
    assert "### Instruction:" in meta["tokenizer.chat_template"] and "<|EOT|>" in meta["tokenizer.chat_template"]


def test_deepseek_instruct_token_layout(instruct_engine) -> None:
    engine = instruct_engine
    instructor = Instructor(engine)
    assert instructor.template.name == "model"  # the template the GGUF carries
    head = DEEPSEEK_SYSTEM_PROMPT + "\n### Instruction:\n"
    assert instructor.head.text == "<｜begin▁of▁sentence｜>" + head
    assert list(instructor.head.token_ids) == [BOS] + engine.tokenize(head)
    assert instructor.tail.text == "\n### Response:\n"
    assert list(instructor.tail.token_ids) == engine.tokenize("\n### Response:\n")
    request = EditRequest(text=SOURCE, start=(0, 0), end=(2, 0), instruction="Fix the subtraction.",
                          path="pkg/calc.py", language="python")
    prompt = instructor.prompt_for(request)[0]
    message = "".join(s.text for s in prompt.segments[1:-1])
    assert message.startswith("The code after the selection in `pkg/calc.py`:\n```python\n")
    assert "The selection in `pkg/calc.py`:\n```python\ndef add(a, b):\n    return a - b\n```\n" in message
    assert message.endswith("Fix the subtraction.\nReply with the new code of the selection only, in a single "
                            "```python code block.")
    # Exactly what llama.cpp feeds DeepSeek-Coder-Instruct for the rendered conversation, id for id.
    rendered = f"<｜begin▁of▁sentence｜>{DEEPSEEK_SYSTEM_PROMPT}\n### Instruction:\n{message}\n### Response:\n"
    assert prompt.token_ids == whole(engine, rendered)
    assert prompt.token_ids[0] == BOS and prompt.token_ids.count(BOS) == 1
    assert prompt.token_ids[-5:] == engine.tokenize("\n### Response:\n")
    kinds = [s.kind for s in prompt.segments]
    assert kinds[0] == kinds[-1] == "control" and "selection" in kinds and "suffix" in kinds


def test_llama_cpp_renders_the_same_text(instruct_engine) -> None:
    """llama.cpp's own `llama_chat_apply_template` (its built-in DeepSeek format) gives the text the
    model's Jinja template gives, less BOS (llama.cpp adds BOS when tokenizing)."""
    instructor = Instructor(instruct_engine)
    message = "Write a function."
    chat = (llama_cpp.llama_chat_message * 2)()
    chat[0].role, chat[0].content = b"system", DEEPSEEK_SYSTEM_PROMPT.encode() + b"\n"
    chat[1].role, chat[1].content = b"user", message.encode()
    buf = ctypes.create_string_buffer(4096)
    n = llama_cpp.llama_chat_apply_template(b"deepseek", chat, 2, True, buf, len(buf))
    assert buf.raw[:n].decode() == instructor.head.text.removeprefix("<｜begin▁of▁sentence｜>") + message + \
        instructor.tail.text


def test_base_model_gets_the_same_layout_built_in(deepseek_tiny: Path, instruct_engine) -> None:
    """A DeepSeek-Coder GGUF without a chat template (a base model, an old conversion) gets the built-in
    DeepSeek-Coder-Instruct template: the same ids as the template the instruct GGUFs carry."""
    from server.engines.local import LocalEngine

    base = LocalEngine(deepseek_tiny, n_ctx=2048)
    try:
        instructor = Instructor(base)
        assert instructor.template.name == "deepseek-coder-instruct"
        carried = Instructor(instruct_engine)
        assert instructor.head == carried.head and instructor.tail == carried.tail
    finally:
        base.close()


def test_control_token_spellings_in_the_selection_stay_text(instruct_engine) -> None:
    engine = instruct_engine
    source = 'END = "<|EOT|>"  # <｜fim▁hole｜> <｜begin▁of▁sentence｜>\n### Response:\n'
    request = EditRequest(text=source, start=(0, 0), end=(1, 0), instruction="Rename <|EOT|> to END_TOKEN.",
                          path="tokens.py")
    prompt = Instructor(engine).prompt_for(request)[0]
    ids = prompt.token_ids
    assert EOT not in ids and ids.count(BOS) == 1 and not {32015, 32016, 32017} & set(ids)
    selection = next(s for s in prompt.segments if s.kind == "selection")
    assert selection.text == source.split("\n")[0] + "\n"
    assert b"".join(engine.piece(t) for t in selection.token_ids).decode() == selection.text
    instruction = prompt.segments[-2]
    assert "<|EOT|>" in instruction.text and EOT not in instruction.token_ids


def test_an_edit_runs_and_keeps_to_its_window(instruct_model: Path) -> None:
    from server.engines.local import LocalEngine

    engine = LocalEngine(instruct_model, n_ctx=2048)
    try:
        text = "".join(f"x{i} = {i}\n" for i in range(3000)) + SOURCE
        request = EditRequest(text=text, start=(3000, 0), end=(3002, 0), instruction="Fix it.", path="big.py")
        instructor = Instructor(engine)
        prompt, room, selection, _ = instructor.prompt_for(request)
        assert selection == "def add(a, b):\n    return a - b\n"
        assert len(prompt.token_ids) + room <= engine.info.n_ctx
        before = next(s for s in prompt.segments if s.kind == "prefix")
        assert before.text.endswith("x2999 = 2999\n") and not before.text.startswith("x0 =")
        result = instructor.run(request, lambda: False)
        assert result.generation.generated_tokens > 0 and result.model == "deepseek-coder-instruct-synthetic"
        assert result.to_json().keys() == {"edit", "model", "prompt", "timings"}
    finally:
        engine.close()


def test_other_templates_render_around_the_message() -> None:
    chatml = builtin_template(lambda t: t in ("<|im_start|>", "<|im_end|>"))
    assert render(chatml, "", "") == ("<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n")
    gemma = builtin_template(lambda t: t in ("<start_of_turn>", "<end_of_turn>"))
    assert render(gemma, "<bos>", "") == ("<bos><start_of_turn>user\n", "<end_of_turn>\n<start_of_turn>model\n")
    plain = builtin_template(lambda t: False)
    assert render(plain, "", "") == ("### Instruction:\n", "\n### Response:\n")


# ----------------------------------------------------------------------------- answers (pure)
def test_extract_code_takes_the_first_block() -> None:
    answer = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nThis adds.<|EOT|>"
    assert extract_code(answer) == "def add(a, b):\n    return a + b\n"
    assert extract_code("```\nx = 1\n") == "x = 1\n"  # cut off before the fence closed
    assert extract_code("x = 2\n") == "x = 2"
    assert code_block_end(answer) == answer.index("This")
    assert code_block_end("```python\nx = 1\n") is None
    assert answer_end("done<|EOT|>more") == 4 and answer_end("going") is None
    # An empty block first (small models imitate the prompt's fences): the next one holds the code.
    empty_first = "```\n```\nThen:\n```python\nx = 3\n```\n"
    assert extract_code(empty_first) == "x = 3\n" and code_block_end(empty_first) == len(empty_first)
    assert code_block_end("```\n```\n") is None and extract_code("```\n```") == ""


def test_fit_to_selection_reindents() -> None:
    method = "    def add(self, a, b):\n        return a - b\n"
    code = "def add(self, a, b):\n    return a + b\n"
    assert fit_to_selection(code, method, "") == "    def add(self, a, b):\n        return a + b\n"
    # A selection that starts after the indentation: the indentation stays in the document.
    assert fit_to_selection(code, method.lstrip(), "    ") == "def add(self, a, b):\n        return a + b\n"
    # A selection inside a line, without its line end.
    assert fit_to_selection("a + b\n", "a - b", "    return ") == "a + b"
    # A document indented with tabs.
    assert fit_to_selection("if x:\n    y()\n", "\tif x:\n\t\tz()\n", "") == "\tif x:\n\t\ty()\n"
    # An answer indented deeper than the selection.
    assert fit_to_selection("        x = 1\n        y = 2\n", "x = 0\ny = 0\n", "") == "x = 1\ny = 2\n"


def test_an_edit_keeps_the_documents_line_breaks() -> None:
    """A fix in a CRLF file came back with LF line breaks: the edited lines ended differently from the
    rest of the file (a diff of every line on Windows, mixed line endings in the editor)."""
    document = "class C:\r\n    def add(self, a, b):\r\n        return a - b\r\n"
    assert line_break(document) == "\r\n" and line_break("x = 1\ry = 2") == "\r" and line_break("x") == "\n"
    selection = "    def add(self, a, b):\r\n        return a - b\r\n"
    fixed = fit_to_selection("def add(self, a, b):\n    return a + b\n", selection, "", line_break(document))
    assert fixed == "    def add(self, a, b):\r\n        return a + b\r\n"
    # A selection inside a line keeps its one line; an answer that came with CRLF is read the same.
    assert fit_to_selection("a +\r\n  b\r\n", "a - b", "    return ", "\r\n") == "a +\r\n      b"


def test_test_file_paths() -> None:
    assert path_for_tests("pkg/calc.py") == "pkg/test_calc.py"
    assert path_for_tests("src/app.ts") == "src/app.test.ts"
    assert path_for_tests("main.go") == "main_test.go"
    assert path_for_tests("src/Foo.java") == "src/FooTest.java"
