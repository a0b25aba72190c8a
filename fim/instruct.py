"""Instruct edits as text: the actions, the user message around a selection, chat templates for
models that carry none, and the answer's code block fitted back into the selection.

Text in, text out: token ids, engines and the editor live in `server/instruct.py` and
`server/edits.py`.

DeepSeek-Coder-Instruct's prompt is the chat template its GGUFs carry (`tokenizer.chat_template`,
from the model's `tokenizer_config.json`): BOS, the system prompt below, then one
`### Instruction:\n{message}\n` per user turn and `### Response:\n` to answer, each answer ending
with `<|EOT|>` (id 32021). The README of deepseek-ai/DeepSeek-Coder prints the system prompt with
"DeepSeek" and a final period; the template the models were released with spells it as here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from fim import languages
from fim.prompt import Snippet

DEEPSEEK_SYSTEM_PROMPT = (
    "You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek Company, "
    "and you only answer questions related to computer science. For politically sensitive questions, security "
    "and privacy issues, and other non-computer science questions, you will refuse to answer")
DEEPSEEK_EOT = "<|EOT|>"


@dataclass(frozen=True)
class ChatTemplate:
    """A chat template (Jinja, as in `tokenizer_config.json`) and where it came from."""

    name: str  # "model" when the model carries it, else the built-in's name
    source: str


# Built-in templates for models that carry no `tokenizer.chat_template`, chosen by vocabulary. Each
# renders one conversation the way the family's own template does.
DEEPSEEK_CODER = ChatTemplate("deepseek-coder-instruct", (
    "{{ bos_token }}{% set ns = namespace(system=false) %}"
    "{% for m in messages %}{% if m['role'] == 'system' %}{% set ns.system = true %}{% endif %}{% endfor %}"
    "{% if not ns.system %}" + DEEPSEEK_SYSTEM_PROMPT + "\n{% endif %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'system' %}{{ m['content'] }}"
    "{% elif m['role'] == 'user' %}### Instruction:\n{{ m['content'] }}\n"
    "{% else %}### Response:\n{{ m['content'] }}\n<|EOT|>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}### Response:\n{% endif %}"))
CHATML = ChatTemplate("chatml", (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"))
GEMMA = ChatTemplate("gemma", (
    "{{ bos_token }}{% for m in messages %}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n{{ m['content'] }}<end_of_turn>\n"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"))
PLAIN = ChatTemplate("instruction-response", (
    "{{ bos_token }}{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}### Response:\n{{ m['content'] }}\n"
    "{% else %}### Instruction:\n{{ m['content'] }}\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}### Response:\n{% endif %}"))

# Spellings that end an answer when a model writes them as text (engines that stream text).
END_TEXTS = (DEEPSEEK_EOT, "\n### Instruction:", "<|im_end|>", "<end_of_turn>", "<|endoftext|>")


def builtin_template(has_token: Callable[[str], bool]) -> ChatTemplate:
    """The built-in template for a model without one, from the control tokens its vocabulary has."""
    if has_token(DEEPSEEK_EOT):
        return DEEPSEEK_CODER
    if has_token("<|im_start|>") and has_token("<|im_end|>"):
        return CHATML
    if has_token("<start_of_turn>") and has_token("<end_of_turn>"):
        return GEMMA
    return PLAIN


# ------------------------------------------------------------------------------------ actions
@dataclass(frozen=True)
class Action:
    """One code action. `instruction` None: the editor asks the user for it."""

    name: str
    title: str
    instruction: Optional[str]
    result: str  # "rewrite": replaces the selection; "answer": shown; "file": a new test file


ACTIONS: tuple[Action, ...] = (
    Action("edit", "deepfim: Edit with instruction...", None, "rewrite"),
    Action("docstring", "deepfim: Add docstring",
           "Add a docstring (or the language's documentation comment) to the selection. Change nothing else.",
           "rewrite"),
    Action("fix", "deepfim: Fix", "Fix the bugs in the selection. Keep everything else as it is.", "rewrite"),
    Action("explain", "deepfim: Explain", "Explain briefly what the selection does and how.", "answer"),
    Action("tests", "deepfim: Write tests", "Write unit tests for the selection.", "file"),
)


def action(name: str) -> Optional[Action]:
    return next((a for a in ACTIONS if a.name == name), None)


# ------------------------------------------------------------------------------------ message
@dataclass(frozen=True)
class Part:
    """A run of the user message. Every part boundary is next to a line break, so tokenizing the
    parts one by one gives the tokens of the whole message (DeepSeek's pre-tokenizer splits at
    line breaks first)."""

    kind: str  # instruction | context | prefix | selection | suffix
    source: Optional[str]
    text: str


def fence_language(language: Optional[str], path: Optional[str]) -> str:
    """The info string of a Markdown code fence for the document ("python", "typescript", ...)."""
    if language:
        return language.lower()
    if path:
        name = languages.language_of(path)
        return "" if name == "text" else name
    return ""


def _fenced(intro: str, kind: str, source: Optional[str], code: str, fence: str) -> list[Part]:
    tail = "" if code.endswith("\n") else "\n"
    return [Part("instruction", None, f"{intro}\n```{fence}\n"), Part(kind, source, code),
            Part("instruction", None, f"{tail}```\n\n")]


def user_message(act: Action, instruction: str, before: str, selection: str, after: str,
                 path: Optional[str], fence: str, snippets: Sequence[Snippet] = (),
                 test_path: Optional[str] = None) -> list[Part]:
    """The user turn: the code around the selection, the selection, other files of the project for
    reference, then the instruction and how to answer. `before`/`after` are the document's text next
    to the selection (already cut to the window), `snippets` code of other files. (The reference
    files come after the selection: first, they made a small model repeat them instead of answering.)"""
    parts: list[Part] = []
    name = f"`{path}`" if path else "the file"
    if before.strip():
        parts.extend(_fenced(f"The code before the selection in {name}:", "prefix", path, before, fence))
    if after.strip():
        parts.extend(_fenced(f"The code after the selection in {name}:", "suffix", path, after, fence))
    parts.extend(_fenced(f"The selection in {name}:", "selection", path, selection, fence))
    for snippet in snippets:
        parts.extend(_fenced(f"The file `{snippet.source}`, for reference:", "context", snippet.source, snippet.text,
                             fence_language(None, snippet.source)))
    block = f"```{fence}" if fence else "```"
    if act.result == "rewrite":
        how = f"Reply with the new code of the selection only, in a single {block} code block."
    elif act.result == "file":
        target = f" `{test_path}`" if test_path else ""
        how = f"Reply with the complete test file{target} only, in a single {block} code block."
    else:
        how = "Answer in a few sentences."
    parts.append(Part("instruction", None, f"{instruction.strip()}\n{how}"))
    return parts


# ------------------------------------------------------------------------------------- answer
_OPEN = re.compile(r"^[ \t]*```[^`\n]*\n", re.MULTILINE)
_CLOSE = re.compile(r"^[ \t]*```[ \t]*(?:\n|\Z)", re.MULTILINE)


def answer_end(text: str) -> Optional[int]:
    """Where an answer is over: an end-of-turn spelled as text, or the end of its first code block
    (for answers that are a code block); None while it goes on."""
    ends = [i for i in (text.find(end) for end in END_TEXTS) if i >= 0]
    return min(ends) if ends else None


def _blocks(text: str) -> list[tuple[str, Optional[int]]]:
    """The fenced code blocks of `text` in order: (code, end of the closing fence, or None when the
    block is still open)."""
    out: list[tuple[str, Optional[int]]] = []
    start = 0
    while True:
        opening = _OPEN.search(text, start)
        if opening is None:
            return out
        closing = _CLOSE.search(text, opening.end())
        if closing is None:
            out.append((text[opening.end():], None))
            return out
        out.append((text[opening.end():closing.start()], closing.end()))
        start = closing.end()


def code_block_end(text: str) -> Optional[int]:
    """The end of the first complete fenced code block of `text` that holds code, or None."""
    return next((end for code, end in _blocks(text) if end is not None and code.strip()), None)


def extract_code(answer: str) -> str:
    """The code of an answer: its first fenced block that holds code (the rest of the answer when that
    block was cut off), else the whole answer when it has no fence. End-of-turn spellings and the
    text after them are dropped."""
    end = answer_end(answer)
    if end is not None:
        answer = answer[:end]
    blocks = _blocks(answer)
    if not blocks:
        return answer.strip("\n")
    code = next((code for code, _ in blocks if code.strip()), "")
    return code.rstrip("\n") + "\n" if code.strip() else ""


_INDENT = re.compile(r"[ \t]*")


def _indent(line: str) -> str:
    return _INDENT.match(line).group(0)  # type: ignore[union-attr]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def line_break(text: str) -> str:
    """The line break `text` uses (that of its first line; "\\n" when it has none)."""
    found = _LINE_BREAK.search(text)
    return found.group(0) if found else "\n"


def fit_to_selection(code: str, selection: str, line_prefix: str, newline: str = "\n") -> str:
    """`code` re-indented to stand where `selection` stands. `line_prefix` is the document's text on
    the selection's first line before the selection. The first non-blank line of the code takes
    the indentation of the selection's first non-blank line, the others keep their indentation
    relative to it; tabs replace spaces where the document indents with tabs. Lines end with
    `newline` (the document's line break), and the result ends with one exactly when the selection does."""
    lines = _LINE_BREAK.split(code)
    if lines and lines[-1] == "":
        lines.pop()
    sel_lines = _LINE_BREAK.split(line_prefix + selection)
    first_index = next((i for i, line in enumerate(sel_lines) if line.strip()), 0)
    target = _indent(sel_lines[first_index])
    code_first = next((line for line in lines if line.strip()), "")
    source = _indent(code_first)
    tabs = "\t" in target or any(line.startswith("\t") for line in sel_lines)
    unit = _space_unit(lines)
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
            continue
        lead = _indent(line)
        relative = lead[len(source):] if lead.startswith(source) else lead[min(len(lead), len(source)):]
        if tabs and unit:
            relative = relative.replace(" " * unit, "\t")
        out.append(target + relative + line[len(lead):])
    if out:
        first = out[0]
        if line_prefix.strip():  # the selection starts after code on its line
            out[0] = first.lstrip(" \t")
        elif first.startswith(line_prefix):
            out[0] = first[len(line_prefix):]
    text = newline.join(out)
    return text + newline if selection.endswith(("\n", "\r")) and text else text


def _space_unit(lines: Sequence[str]) -> int:
    """The smallest indentation step of space-indented lines (0 when there is none)."""
    widths = sorted({len(_indent(line)) for line in lines if line.strip() and "\t" not in _indent(line)})
    steps = [b - a for a, b in zip(widths, widths[1:]) if b > a]
    return min(steps + [w for w in widths if w > 0], default=0)


def path_for_tests(path: str) -> str:
    """Where tests for the file at `path` (workspace-relative, `/`-separated) conventionally go."""
    folder, _, name = path.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    suffix = f".{ext}" if ext else ""
    if ext == "py":
        test = f"test_{stem}.py"
    elif ext in ("js", "jsx", "ts", "tsx", "mjs", "cjs"):
        test = f"{stem}.test{suffix}"
    elif ext in ("java", "kt", "scala", "cs", "swift"):
        test = f"{stem}Test{suffix}"
    else:
        test = f"{stem}_test{suffix}"
    return f"{folder}/{test}" if folder else test
