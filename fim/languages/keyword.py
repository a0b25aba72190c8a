"""Post-processing rules of the languages whose blocks end with a keyword (Ruby, Lua, shell): their
comments, the lines that open a block, and the words that open and close one, counted as braces; and
the heredocs Ruby and shell share."""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left
from typing import Optional

from fim.languages.base import Rules

_RUBY_STARTS = r"(?:def|class|module|if|unless|while|until|case|begin|for|else|elsif|when|in|rescue|ensure)\b"
RUBY_RULES = Rules(
    line_comments=("#",), comment="#", interpolation="#{", regex_literals=True, triple_quotes="",
    # `def f(x)`, `if x`, `else`, `items.each do |x|`, `{ |x|`; not a one-liner that ends with its `end`
    opens_block=re.compile(r"^[ \t]*" + _RUBY_STARTS + r"(?!.*\bend$).*$|(?:\bdo|\{)(?:[ \t]*\|[^|]*\|)?$|[(\[]$"),
    clause_words=frozenset({"else", "elsif", "when", "in", "rescue", "ensure"}), handler_words=frozenset(),
    closer_words=frozenset({"end"}),
    block_openers=frozenset({"def", "class", "module", "if", "unless", "while", "until", "case", "begin", "for",
                             "do"}),
    block_closers=frozenset({"end"}),
    statement_words=frozenset({"if", "unless", "while", "until", "for"}),  # else modifiers: `return x if y`
    statement_after=frozenset({";", "(", "=", "|", "&", "[", ",", "{", "then", "do", "else", "begin"}),
)
LUA_RULES = Rules(
    line_comments=("--",), comment="--", triple_quotes="", quotes="\"'", multiline_quotes="",
    opens_block=re.compile(r"(?:[{(\[]|\b(?:then|do|else|repeat)|\bfunction\b[^()]*\([^()]*\))$"),
    clause_words=frozenset({"else", "elseif"}), handler_words=frozenset(), closer_words=frozenset({"end", "until"}),
    block_openers=frozenset({"function", "if", "do", "repeat"}), block_closers=frozenset({"end", "until"}),
)
_SHELL_WORDS = frozenset({"if", "case", "do", "fi", "esac", "done"})
SHELL_RULES = Rules(
    line_comments=("#",), comment="#", comment_at_word=True, escapes_outside_strings=True, triple_quotes="",
    # `if x; then`, `do`, `else`, `f() {`, `case $x in`, a case item's `a|b)`
    opens_block=re.compile(r"(?:[{(\[]|\b(?:then|do|else|in)|^[ \t]*\(?[^()\s][^()]*\))$"),
    clause_words=frozenset({"else", "elif"}), handler_words=frozenset(),
    closer_words=frozenset({"fi", "done", "esac"}),
    block_openers=_SHELL_WORDS, block_closers=frozenset({"fi", "esac", "done"}),
    statement_words=_SHELL_WORDS,  # reserved words only where a command starts: `echo done` is no `done`
    statement_after=frozenset({";", "&", "|", "(", ")", "{", "then", "do", "else", "elif", "if", "while",
                               "until"}),
)

_BY_ID = {"ruby": RUBY_RULES, "lua": LUA_RULES, "shellscript": SHELL_RULES, "sh": SHELL_RULES, "bash": SHELL_RULES,
          "zsh": SHELL_RULES}
_BY_EXTENSION = {".rb": RUBY_RULES, ".lua": LUA_RULES, ".sh": SHELL_RULES, ".bash": SHELL_RULES, ".zsh": SHELL_RULES}


def rules_for(language_id: Optional[str], path: Optional[str]) -> Optional[Rules]:
    """The rules of a keyword language by LSP languageId ("ruby", "shellscript"), else by the path's
    extension (not fish's, whose blocks all end with `end`), or None."""
    found = _BY_ID.get((language_id or "").lower())
    if found is None and path:
        found = _BY_EXTENSION.get(posixpath.splitext(path.replace("\\", "/").lower())[1])
    return found


def blank_heredocs(lines: list[str], opener: re.Pattern) -> list[str]:
    """`lines` with the bodies of heredocs blanked (``cat <<EOF`` ... ``EOF``: text, no code). `opener`'s
    second group is the terminator; an opener whose terminator never comes is none (``1 << BITS``, or a
    heredoc still being typed), rather than a heredoc hiding the rest of the file."""
    out = list(lines)
    at: dict[str, list[int]] = {}  # stripped line -> where it stands, built at the first opener
    i = 0
    while i < len(out):
        ends = [m.group(2) for m in opener.finditer(out[i])]
        i += 1
        for end in ends:
            if not at:
                for k, line in enumerate(lines):
                    at.setdefault(line.strip(), []).append(k)
            found = at.get(end, [])
            j = bisect_left(found, i)
            if j == len(found):
                continue
            for k in range(i, found[j]):
                out[k] = " " * len(out[k])
            i = found[j] + 1
    return out
