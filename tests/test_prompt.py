"""Unit tests of fim/templates.py and fim/prompt.py with a toy vocabulary (no model)."""

from __future__ import annotations

import pytest

from fim.positions import index_to_utf16, lsp_lines, utf16_to_index
from fim.prompt import (ANCHOR_LINES, LINE_CHARS, TAIL_LINES, Budget, Layout, PromptBuilder, Snippet, SpecialIds,
                        split_document)
from fim.templates import PREFIX_ONLY, TEMPLATES, select_template, template_for_name

BY_NAME = {t.name: t for t in TEMPLATES + (PREFIX_ONLY,)}

# Real special-token ids of each family (from the research notes); the toy tokenizer maps every
# ordinary character to its code point + 1_000_000 so ids never collide with these.
FAMILY_IDS = {
    "deepseek-coder": SpecialIds(bos=32013, prefix=32016, suffix=32015, middle=32017),
    "deepseek-coder-v2": SpecialIds(bos=100000, prefix=100003, suffix=100002, middle=100004),
    "qwen2.5-coder": SpecialIds(bos=None, prefix=151659, suffix=151661, middle=151660, file_separator=151664),
    "codegemma": SpecialIds(bos=2, prefix=67, suffix=69, middle=68),
    "starcoder2": SpecialIds(bos=None, prefix=1, suffix=3, middle=2, file_separator=5),
    "codellama": SpecialIds(bos=1, prefix=32007, suffix=32008, middle=32009),
    "codestral": SpecialIds(bos=1, prefix=22, suffix=21, middle=None),
    "prefix-only": SpecialIds(bos=2, prefix=None, suffix=None, middle=None),
}


def toy_tokenize(text: str) -> list[int]:
    return [1_000_000 + ord(c) for c in text]


def toy_text(token: int) -> str:
    return chr(token - 1_000_000) if token >= 1_000_000 else f"<{token}>"


def chars(text: str) -> list[int]:
    return toy_tokenize(text)


def builder(name: str) -> PromptBuilder:
    return PromptBuilder(BY_NAME[name], FAMILY_IDS[name], toy_tokenize, toy_text)


DOC = "import os\n\ndef f(x):\n    return x\n\nprint(f(1))\n"


def test_deepseek_psm_exact_ids() -> None:
    fim = split_document(DOC, 3, 4)
    prompt = builder("deepseek-coder").build(fim, Budget())
    expected = ([32013, 32016, 32015] + chars("return x\n\nprint(f(1))\n") + [32017]
                + chars("import os\n\ndef f(x):\n") + chars("    "))
    assert prompt.token_ids == expected
    kinds = [s.kind for s in prompt.segments]
    assert kinds == ["control", "control", "prefix", "control", "suffix", "control", "recent", "middle"]
    classic = builder("deepseek-coder").build(fim, Budget(), Layout(line_in_prefix=True))
    assert classic.token_ids == ([32013, 32016] + chars("import os\n\ndef f(x):\n    ") + [32015]
                                 + chars("return x\n\nprint(f(1))\n") + [32017])


def test_enter_adds_to_the_end_of_the_prompt_except_at_a_block_start() -> None:
    """The lines of the cursor's TAIL_LINES block go after the middle token: pressing Enter changes
    only the end of the prompt (the suffix stays read), except when the new line starts a block."""
    lines = [f"    total += item_{n}\n" for n in range(40)]
    for line in (5, TAIL_LINES + 3, 2 * TAIL_LINES - 1):
        before = "".join(lines[:line]) + "    total" + "".join(lines[line:])
        after = "".join(lines[:line]) + "    total\n    " + "".join(lines[line:])
        old = builder("deepseek-coder").build(split_document(before, line, 9), Budget()).token_ids
        new = builder("deepseek-coder").build(split_document(after, line + 1, 4), Budget()).token_ids
        common = next((i for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)))
        if (line + 1) % TAIL_LINES:
            assert len(old) - common <= len(chars("    total")), line
        else:  # the block is done: it joins the prefix, and the suffix is read again
            assert common <= old.index(32015), line


def test_typing_a_line_moves_only_the_typed_part_where_the_window_bounds_the_suffix() -> None:
    """A 4K window (the budget the server gives it): the suffix's limit is a share of the window,
    not of what typing leaves, so no suffix line comes and goes as the typed part's token count
    rises and falls; nor does the prefix's first block."""
    lines = [f"v{n:05d}\n" for n in range(900)]  # lines shorter than the typed part grows
    typed = "    result = combine(alpha, beta, gamma, delta) + total"  # under MIDDLE_STEP tokens
    budget = Budget(n_ctx=4096, max_tokens=128, max_prefix_tokens=3072, max_suffix_tokens=(4096 - 128) // 4)
    prompts = []
    for end in range(4, len(typed) + 1):
        doc = "".join(lines[:450]) + typed[:end] + "\n" + "".join(lines[450:])
        prompts.append(builder("deepseek-coder").build(split_document(doc, 450, end), budget))
    for prompt in prompts:
        assert len(prompt.token_ids) <= budget.prompt_tokens
        before_middle = [s.token_ids for s in prompt.segments if s.kind != "middle"]
        assert before_middle == [s.token_ids for s in prompts[0].segments if s.kind != "middle"]
    suffix = next(s for s in prompts[0].segments if s.kind == "suffix")
    assert len(suffix.token_ids) > 900  # the window bounds it, not max_suffix_tokens alone

@pytest.mark.parametrize("name", ["deepseek-coder-v2", "codegemma", "codellama"])
def test_psm_templates_with_bos(name: str) -> None:
    ids = FAMILY_IDS[name]
    prompt = builder(name).build(split_document("a\nbc\nd", 1, 1), Budget())
    assert prompt.token_ids == [ids.bos, ids.prefix, ids.suffix] + chars("c\nd") + [ids.middle] + chars("a\nb")


@pytest.mark.parametrize("name", ["qwen2.5-coder", "starcoder2"])
def test_psm_templates_without_bos_and_file_separator(name: str) -> None:
    ids = FAMILY_IDS[name]
    fim = split_document("a\nbc\nd", 1, 1, path="src/cur.py", snippets=[Snippet("lib/u.py", "def u(): pass")])
    prompt = builder(name).build(fim, Budget())
    # The files come before the prefix token, as in Qwen2.5-Coder's repository-level FIM format
    # (`<|file_sep|>path\ncode ... <|file_sep|>current path\n<|fim_prefix|>prefix<|fim_suffix|>...`).
    assert prompt.token_ids == ([ids.file_separator] + chars("lib/u.py\ndef u(): pass\n")
                                + [ids.file_separator] + chars("src/cur.py\n") + [ids.prefix, ids.suffix]
                                + chars("c\nd") + [ids.middle] + chars("a\nb"))
    classic = builder(name).build(fim, Budget(), Layout(line_in_prefix=True))
    assert classic.token_ids[:2] == [ids.file_separator] + chars("l")
    assert classic.token_ids.index(ids.prefix) == len(chars("lib/u.py\ndef u(): pass\nsrc/cur.py\n")) + 2


def test_qwen_prompt_has_no_bos_even_where_the_vocabulary_names_one() -> None:
    """Qwen2.5-Coder's tokenizer has no BOS (its GGUFs name <|endoftext|>); its FIM prompt starts with <|fim_prefix|>."""
    ids = SpecialIds(bos=151643, prefix=151659, suffix=151661, middle=151660, file_separator=151664)
    prompt = PromptBuilder(BY_NAME["qwen2.5-coder"], ids, toy_tokenize, toy_text).build(
        split_document("a\nbc\nd", 1, 1), Budget())
    assert prompt.token_ids == [ids.prefix, ids.suffix] + chars("c\nd") + [ids.middle] + chars("a\nb")


def test_codestral_spm_has_no_middle_token() -> None:
    ids = FAMILY_IDS["codestral"]
    prompt = builder("codestral").build(split_document("a\nbc\nd", 1, 1), Budget())
    assert prompt.token_ids == [ids.bos, ids.suffix] + chars("c\nd") + [ids.prefix] + chars("a\n") + chars("b")


def test_prefix_only_has_no_suffix() -> None:
    prompt = builder("prefix-only").build(split_document("a\nbc\nd", 1, 1), Budget())
    assert prompt.token_ids == [2] + chars("a\nb")
    assert "suffix" not in [s.kind for s in prompt.segments]


def test_deepseek_context_files_use_path_comments() -> None:
    fim = split_document("x = 1\n", 0, 5, path="main.py", snippets=[Snippet("utils.py", "def load(): ...")])
    prompt = builder("deepseek-coder").build(fim, Budget())
    context = [s for s in prompt.segments if s.kind == "context"]
    assert [(s.source, s.text) for s in context] == [("utils.py", "#utils.py\ndef load(): ...\n\n"),
                                                       ("main.py", "#main.py\n")]
    assert prompt.token_ids[:2] == [32013, 32016]


def test_the_most_important_snippet_left_out_comes_cut_at_a_line_end() -> None:
    names = "".join(f"def name{k}(): ...\n" for k in range(100))  # 1,800 tokens of the toy tokenizer
    fim = split_document("x = 1\n", 0, 5, path="main.py",
                         snippets=[Snippet("far.py", "z = 0\n" * 40), Snippet("names.py", names),
                                   Snippet("near.py", "def near(): ...\n")])
    budget = Budget(n_ctx=2048, max_tokens=64, max_context_tokens=1000)
    context = {s.source: s for s in builder("deepseek-coder").build(fim, budget).segments if s.kind == "context"}
    assert list(context) == ["far.py", "names.py", "near.py", "main.py"]  # in their given order
    cut = context["names.py"]
    assert cut.text.startswith("#names.py\ndef name0(): ...\n") and cut.text.endswith("): ...\n")
    assert "def name60()" not in cut.text and cut.token_ids == tuple(chars(cut.text))
    assert sum(len(s.token_ids) for s in context.values() if s.source != "main.py") <= 1000
    budget = Budget(n_ctx=2048, max_tokens=64, max_context_tokens=300)  # under CUT_MIN_TOKENS left: none cut
    context = [s.source for s in builder("deepseek-coder").build(fim, budget).segments if s.kind == "context"]
    assert context == ["far.py", "near.py", "main.py"]


def test_window_is_cut_by_tokens_at_anchored_lines() -> None:
    lines = [f"line {i}\n" for i in range(400)]
    doc = "".join(lines)
    fim = split_document(doc, 300, 0)
    budget = Budget(n_ctx=4096, max_tokens=64, max_prefix_tokens=1000, max_suffix_tokens=200)
    prompt = builder("deepseek-coder").build(fim, budget)
    prefix = next(s for s in prompt.segments if s.kind == "prefix")
    recent = next(s for s in prompt.segments if s.kind == "recent")
    suffix = next(s for s in prompt.segments if s.kind == "suffix")
    assert len(prefix.token_ids) + len(recent.token_ids) <= 1000 and len(suffix.token_ids) <= 200
    first = int(prefix.text.split("\n", 1)[0].split()[1])
    assert first % ANCHOR_LINES == 0  # the prefix starts on an anchor line
    assert prefix.text.endswith("line 287\n") and recent.text == "".join(lines[288:300])  # 288: a TAIL_LINES block
    assert suffix.text.startswith("line 300\n") and suffix.text.endswith("\n")
    assert len(prompt.token_ids) <= budget.prompt_tokens
    # One more line typed above the cursor does not move the start of the prefix.
    moved = builder("deepseek-coder").build(split_document(doc, 301, 0), budget)
    assert next(s for s in moved.segments if s.kind == "prefix").text.split("\n", 1)[0] == f"line {first}"


def test_total_budget_is_respected_for_tiny_windows() -> None:
    doc = "x" * 5000 + "\n" + "y" * 5000
    prompt = builder("deepseek-coder").build(split_document(doc, 1, 2500), Budget(n_ctx=600, max_tokens=100))
    assert len(prompt.token_ids) <= 500


def test_special_text_in_file_is_plain_text() -> None:
    doc = "s = '<｜fim▁hole｜>'\n"
    prompt = builder("deepseek-coder").build(split_document(doc, 1, 0), Budget())
    assert prompt.token_ids.count(32015) == 1  # only the real hole token


def test_select_template_from_vocabulary() -> None:
    deepseek = {"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"}
    assert select_template(deepseek.__contains__).name == "deepseek-coder"
    assert select_template(deepseek.__contains__, "deepseek2").name == "deepseek-coder-v2"
    qwen = {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_sep|>"}
    assert select_template(qwen.__contains__).name == "qwen2.5-coder"
    gemma = {"<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>"}
    assert select_template(gemma.__contains__).name == "codegemma"
    star = {"<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"}
    assert select_template(star.__contains__).name == "starcoder2"
    llama = {"▁<PRE>", "▁<SUF>", "▁<MID>"}
    assert select_template(llama.__contains__).name == "codellama"
    assert select_template({"[PREFIX]", "[SUFFIX]"}.__contains__).name == "codestral"
    assert select_template(lambda text: False) is PREFIX_ONLY
    assert len({t.name for t in TEMPLATES}) == len(TEMPLATES)


def test_lsp_lines_and_utf16() -> None:
    assert lsp_lines("a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"]
    assert lsp_lines("a\n") == ["a\n", ""]
    assert lsp_lines("a\x0bb\u2028c") == ["a\x0bb\u2028c"]  # only \n, \r\n and \r end lines
    line = "a😀b\n"
    assert utf16_to_index(line, 1) == 1 and utf16_to_index(line, 3) == 2 and utf16_to_index(line, 99) == 3
    assert index_to_utf16(line, 2) == 3
    assert utf16_to_index(line, -5) == 0


def test_line_in_prefix_layout() -> None:
    fim = split_document("a\nbc\nd", 1, 1)
    prompt = builder("deepseek-coder").build(fim, Budget(), Layout(line_in_prefix=True))
    assert prompt.token_ids == [32013, 32016] + chars("a\n") + chars("b") + [32015] + chars("c\nd") + [32017]


def test_context_before_bos_layout() -> None:
    fim = split_document("x\n", 0, 1, path="m.py", snippets=[Snippet("u.py", "y")])
    prompt = builder("deepseek-coder").build(fim, Budget(), Layout(context_before_bos=True))
    assert prompt.token_ids == chars("#u.py\ny\n\n") + chars("#m.py\n") + [32013, 32016, 32015] \
        + chars("\n") + [32017] + chars("x")


def test_token_cache_is_bounded_by_characters() -> None:
    calls: list[str] = []

    def counting(text: str) -> list[int]:
        calls.append(text)
        return toy_tokenize(text)

    builder = PromptBuilder(BY_NAME["deepseek-coder"], FAMILY_IDS["deepseek-coder"], counting, toy_text, cache_chars=100)
    for n in range(50):
        builder.tokens(f"line number {n:04d}\n")  # 17 characters each
    assert sum(len(text) for text in builder._cache) <= 100
    calls.clear()
    builder.tokens("line number 0049\n")  # recent: still cached
    builder.tokens("line number 0000\n")  # evicted long ago
    assert calls == ["line number 0000\n"]


def test_lines_are_tokenized_a_block_per_call_where_the_engine_can() -> None:
    """With `tokenize_many` (a remote engine: one request), the lines of a prefix block, the suffix
    and the snippets are tokenized a block per call, and the prompt is the same as line by line."""
    single: list[str] = []
    batches: list[list[str]] = []

    def one(text: str) -> list[int]:
        single.append(text)
        return toy_tokenize(text)

    def many(texts: list[str]) -> list[list[int]]:
        batches.append(texts)
        return [toy_tokenize(text) for text in texts]

    doc = "".join(f"line {n}\n" for n in range(300))
    fim = split_document(doc, 200, 2)
    fim = type(fim)(**{**fim.__dict__, "snippets": (Snippet("a.py", "def a(): pass"), Snippet("b.py", "def b(): pass"))})
    budget = Budget(n_ctx=4000, max_tokens=64, max_prefix_tokens=1500, max_suffix_tokens=600, max_context_tokens=500)
    plain = PromptBuilder(BY_NAME["deepseek-coder"], FAMILY_IDS["deepseek-coder"], one, toy_text).build(fim, budget)
    line_by_line = len(single)
    single.clear()
    batched = PromptBuilder(BY_NAME["deepseek-coder"], FAMILY_IDS["deepseek-coder"], one, toy_text,
                            tokenize_many=many)
    assert batched.build(fim, budget) == plain
    assert max(len(b) for b in batches) == ANCHOR_LINES
    assert len(batches) + len(single) <= line_by_line / 10, (len(batches), single, line_by_line)
    single.clear(), batches.clear()
    assert batched.build(fim, budget) == plain and not single and not batches  # all cached


def test_a_prefix_shorter_than_its_block_starts_at_a_line() -> None:
    """A prefix budget smaller than the cursor's block (a first answer's short prompt) takes the last
    whole lines that fit: the model never starts reading mid-line; a single line too long for it
    keeps its end."""
    doc = "".join(f"value_{n} = compute({n}, {n + 1})\n" for n in range(20)) + "x = "
    fim = split_document(doc, 20, 4)
    prompt = builder("deepseek-coder").build(fim, Budget(n_ctx=200, max_tokens=16, max_prefix_tokens=100,
                                                         max_suffix_tokens=10))
    assert "".join(s.text for s in prompt.segments if s.kind in ("prefix", "recent")) == \
        "".join(f"value_{n} = compute({n}, {n + 1})\n" for n in range(17, 20))
    long_line = split_document("y" * 300 + "\nx = ", 1, 4)
    prompt = builder("deepseek-coder").build(long_line, Budget(n_ctx=200, max_tokens=16, max_prefix_tokens=100,
                                                               max_suffix_tokens=10))
    assert next(s for s in prompt.segments if s.kind == "recent").text == "y" * 99 + "\n"


def test_huge_lines_are_cut_next_to_the_cursor() -> None:
    minified = "var a=1;" * 700_000  # 5.6 MB on one line
    doc = minified + "\n" + minified + "\nend\n"
    fim = split_document(doc, 1, 2_800_000)
    assert fim.prefix_lines == [(minified + "\n")[-LINE_CHARS:]]
    assert fim.middle == minified[2_800_000 - LINE_CHARS:2_800_000]
    assert fim.suffix_lines[:2] == [minified[2_800_000:2_800_000 + LINE_CHARS] + "\n", "end\n"]
    small = split_document("x = 1\ny = 2\n", 1, 3)
    assert (small.prefix_lines, small.middle, small.suffix_lines[0]) == (["x = 1\n"], "y =", " 2\n")


@pytest.mark.parametrize("name,template", [
    ("lmstudio-community/deepseek-coder-6.7b-base", "deepseek-coder"),
    ("DeepSeek-Coder-V2-Lite-Base-GGUF", "deepseek-coder-v2"),
    ("Qwen/Qwen2.5-Coder-7B", "qwen2.5-coder"),
    ("qwen3-coder-30b-a3b", "qwen2.5-coder"),
    ("codegemma-2b", "codegemma"),
    ("bigcode/starcoder2-3b", "starcoder2"),
    ("TheBloke/CodeLlama-7B-GGUF", "codellama"),
    ("codestral-22b-v0.1", "codestral"),
    ("gemma-3-270m", "prefix-only"),
    ("meta-llama-3.1-8b-instruct", "prefix-only"),
])
def test_template_for_a_models_name(name: str, template: str) -> None:
    assert template_for_name(name).name == template
