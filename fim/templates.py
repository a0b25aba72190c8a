"""FIM prompt templates as data, and their automatic selection from a model's vocabulary.

A template names the special tokens by their text; the ids come from the model's vocabulary
at load time, so one template serves every conversion of a model family.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Literal, Optional

Order = Literal["psm", "spm", "prefix-only"]


@dataclass(frozen=True)
class FimTemplate:
    """How one model family lays out a fill-in-the-middle prompt."""

    name: str
    order: Order
    prefix_token: Optional[str] = None
    suffix_token: Optional[str] = None
    middle_token: Optional[str] = None
    # Special tokens that end a completion besides the model's own end-of-generation set.
    stop_tokens: tuple[str, ...] = ()
    # Token placed before each file of repository context, followed by "path\n"; when None,
    # each file is headed by a `#path` comment line (DeepSeek-Coder's repository format).
    file_separator: Optional[str] = None
    # Model architectures (GGUF `general.architecture`) this template is restricted to.
    architectures: tuple[str, ...] = ()
    # Whether the prompt starts with the model's BOS; a prefix-only prompt starts as the model's tokenizer
    # starts a text (its GGUF's `tokenizer.ggml.add_bos_token`), see `starts_with_bos`.
    add_bos: bool = True
    # Token texts that must all exist for the template to be chosen (beyond the FIM tokens).
    requires: tuple[str, ...] = field(default=())

    def starts_with_bos(self, tokenizer_adds_bos: Callable[[], bool]) -> bool:
        """Whether prompts start with the model's BOS: as the template says, and for a prefix-only prompt
        (plain text, as in training) where the model's tokenizer adds one to a text."""
        return self.add_bos and (self.order != "prefix-only" or tokenizer_adds_bos())

    def special_texts(self) -> tuple[str, ...]:
        """Every special token text the template needs from the vocabulary."""
        names = (self.prefix_token, self.suffix_token, self.middle_token, self.file_separator)
        return tuple(t for t in names if t) + self.requires


_DS_BEGIN, _DS_HOLE, _DS_END = "<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"

TEMPLATES: tuple[FimTemplate, ...] = (
    FimTemplate(
        name="deepseek-coder-v2",
        order="psm",
        prefix_token=_DS_BEGIN,
        suffix_token=_DS_HOLE,
        middle_token=_DS_END,
        stop_tokens=(_DS_BEGIN, _DS_HOLE, _DS_END, "<｜end▁of▁sentence｜>"),
        architectures=("deepseek2",),
    ),
    FimTemplate(
        name="deepseek-coder",
        order="psm",
        prefix_token=_DS_BEGIN,
        suffix_token=_DS_HOLE,
        middle_token=_DS_END,
        stop_tokens=(_DS_BEGIN, _DS_HOLE, _DS_END, "<｜end▁of▁sentence｜>", "<|EOT|>"),
    ),
    FimTemplate(
        name="qwen2.5-coder",
        order="psm",
        prefix_token="<|fim_prefix|>",
        suffix_token="<|fim_suffix|>",
        middle_token="<|fim_middle|>",
        stop_tokens=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>",
                     "<|repo_name|>", "<|file_sep|>", "<|endoftext|>", "<|im_end|>"),
        file_separator="<|file_sep|>",
        add_bos=False,  # its tokenizer has no BOS (GGUFs name <|endoftext|>): the prompt starts at <|fim_prefix|>
    ),
    FimTemplate(
        name="codegemma",
        order="psm",
        prefix_token="<|fim_prefix|>",
        suffix_token="<|fim_suffix|>",
        middle_token="<|fim_middle|>",
        stop_tokens=("<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|file_separator|>",
                     "<end_of_turn>", "<eos>"),
        requires=("<|file_separator|>",),
    ),
    FimTemplate(
        name="starcoder2",
        order="psm",
        prefix_token="<fim_prefix>",
        suffix_token="<fim_suffix>",
        middle_token="<fim_middle>",
        stop_tokens=("<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<fim_pad>", "<file_sep>",
                     "<repo_name>", "<|endoftext|>"),
        file_separator="<file_sep>",
        add_bos=False,
    ),
    FimTemplate(
        name="codellama",
        order="psm",
        prefix_token="▁<PRE>",
        suffix_token="▁<SUF>",
        middle_token="▁<MID>",
        stop_tokens=("▁<PRE>", "▁<SUF>", "▁<MID>", "▁<EOT>"),
    ),
    FimTemplate(
        name="codestral",
        order="spm",
        prefix_token="[PREFIX]",
        suffix_token="[SUFFIX]",
        middle_token=None,
        stop_tokens=("[PREFIX]", "[SUFFIX]", "[MIDDLE]"),
    ),
)

PREFIX_ONLY = FimTemplate(name="prefix-only", order="prefix-only")


def select_template(
    has_token: Callable[[str], bool], architecture: str = ""
) -> FimTemplate:
    """Pick the first template whose special tokens all exist in the vocabulary.

    `has_token(text)` tells whether `text` is a single token of the model's vocabulary.
    A model with none of the known FIM tokens gets prefix-only completion.
    """
    for template in TEMPLATES:
        if template.architectures and architecture not in template.architectures:
            continue
        if all(has_token(text) for text in template.special_texts()):
            return template
    return PREFIX_ONLY


# For servers that show no vocabulary: the family a model's name says, in the order of TEMPLATES
# (DeepSeek-Coder-V2 before DeepSeek-Coder). Qwen3-Coder uses Qwen2.5-Coder's FIM tokens.
_NAMED = {
    "deepseek-coder-v2": r"deepseek[-_ ]?coder[-_ ]?v2",
    "deepseek-coder": r"deepseek[-_ ]?coder",
    "qwen2.5-coder": r"qwen(2\.5|3)[-_ ]?coder",
    "codegemma": r"codegemma",
    "starcoder2": r"starcoder[-_ ]?2",
    "codellama": r"code[-_ ]?llama",
    "codestral": r"codestral",
}


def template_for_name(model_name: str) -> FimTemplate:
    """The template of the model family `model_name` names (`deepseek-coder-6.7b-base`,
    `Qwen/Qwen2.5-Coder-7B`); prefix-only when it names none of them."""
    for template in TEMPLATES:
        if re.search(_NAMED[template.name], model_name, re.IGNORECASE):
            return template
    return PREFIX_ONLY
