"""Ruby's literals and comments blanked, for the block counting of `fim.languages.ruby`: strings (over
lines, with ``#{...}`` holding strings of their own), ``%w[...]``/``%r{...}`` literals, regular
expressions where an operand starts (``=~ /"/``, ``split /,/``), ``?"`` character literals, comments,
``=begin`` ... ``=end`` and what follows ``__END__``. Newlines are kept, and a literal keeps its first
character (and a string its closing quote), so that ``x = "a" if y`` still shows the ``if`` as a modifier."""

from __future__ import annotations

import re

_NEXT = re.compile(r"(?m)^=begin\b|^__END__[ \t]*$|[#\"'`%/?]")
_PERCENT = re.compile(r"%([qQwWiIrsx]?)([^\w\s])")
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_INTERPOLATING = "QWIrx"  # %-literal kinds whose text may hold ``#{...}`` (and ``%(...)``)
_OPERAND_AFTER = frozenset("([{,;=!~|&<>+-*:?%^")  # an operator or an opening: a literal may follow
_OPERAND_WORDS = frozenset({"if", "unless", "elsif", "when", "while", "until", "and", "or", "not", "return",
                            "then", "else", "do", "in", "puts", "print", "p", "raise", "yield"})
MAX_NESTING = 16  # ``#{ "#{ ... }" }`` levels followed; deeper text is left as code


def blank(text: str) -> str:
    """`text` with its comments and literals blanked."""
    out: list[str] = []
    last = 0
    i = 0
    n = len(text)

    def cut(start: int, end: int, keep_head: int = 0, keep_tail: int = 0) -> None:
        nonlocal last
        out.append(text[last:start + keep_head])
        out.append(re.sub(r"[^\n]", " ", text[start + keep_head:end - keep_tail]))
        out.append(text[end - keep_tail:end])
        last = end

    unclosed: dict[str, int] = {}  # quote -> where a string of it ran to the text's end (none closes after)
    while True:
        m = _NEXT.search(text, i)
        if m is None:
            break
        s = m.start()
        token = m.group(0)
        c = token[0]
        end = -1
        if s and text[s - 1] == "$" and c != "#":  # ``$"``, ``$/``: global variables
            i = s + 1
            continue
        head, tail = 1, 0
        if token == "=begin":
            close = re.compile(r"(?m)^=end\b[^\n]*").search(text, m.end())
            end, head = (close.end() if close else n), 0
        elif token.startswith("__END__"):
            end, head = n, 0
        elif c == "#":
            line_end = text.find("\n", s)
            end, head = (n if line_end < 0 else line_end), 0
        elif c in "\"'`":
            end = -1 if unclosed.get(c, n) < s else _string_end(text, s + 1, c, "", c != "'", n, 0)
            if end < 0:  # unterminated (being typed): to the line's end only
                unclosed[c] = min(unclosed.get(c, n), s)
                line_end = text.find("\n", s)
                end = n if line_end < 0 else line_end
            else:
                tail = 1
        elif c == "%":
            p = _PERCENT.match(text, s)
            if p and _operand_at(text, s) and (p.group(1) or p.group(2) in _PAIRS or p.group(2) in "|!/^"):
                opening = p.group(2)
                end = _string_end(text, p.end(), _PAIRS.get(opening, opening), opening if opening in _PAIRS else "",
                                  p.group(1) in _INTERPOLATING or not p.group(1), n, 0)
        elif c == "/":
            line_end = text.find("\n", s)
            line_end = n if line_end < 0 else line_end
            if s + 1 < line_end and not text[s + 1].isspace() and _operand_at(text, s, spaced=True):
                end = _string_end(text, s + 1, "/", "", True, line_end, 0)
                tail = 1 if end >= 0 else 0
        elif c == "?" and s + 1 < n and text[s + 1] in "\"'`#%/({[" and _operand_at(text, s) \
                and (s + 2 >= n or not (text[s + 2].isalnum() or text[s + 2] == "_")):
            end = s + 2
        if end < 0:
            i = s + 1
            continue
        cut(s, end, head, tail)
        i = end
    out.append(text[last:])
    return "".join(out)


def _operand_at(text: str, s: int, spaced: bool = False) -> bool:
    """An operand (a literal) may start at `s`: at a line's start, after an operator, an opening bracket or
    a keyword; with `spaced`, also after a method's name and a space (``split /,/``)."""
    j = s
    while j and text[j - 1] in " \t":
        j -= 1
    if not j or text[j - 1] == "\n" or text[j - 1] in _OPERAND_AFTER:
        return True
    k = j
    while k and (text[k - 1].isalnum() or text[k - 1] == "_"):
        k -= 1
    if k == j:
        return False
    if text[k:j] in _OPERAND_WORDS:
        return True
    return j < s and (spaced or text[s] == "%") and not text[k].isdigit()


def _string_end(text: str, i: int, close: str, opening: str, interpolates: bool, limit: int, depth: int) -> int:
    """The offset after the literal's closing `close` from `i` (``#{...}`` skipped where it `interpolates`,
    `opening` ... `close` pairs nested), or -1 when it does not close before `limit`."""
    nested = 0
    while i < limit:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if interpolates and c == "#" and text.startswith("#{", i) and depth < MAX_NESTING:
            i = _code_end(text, i + 2, limit, depth + 1)
            if i < 0:
                return -1
            continue
        if opening and c == opening:
            nested += 1
        elif c == close:
            if not nested:
                return i + 1
            nested -= 1
        i += 1
    return -1


def _code_end(text: str, i: int, limit: int, depth: int) -> int:
    """The offset after the ``}`` that closes an interpolation's code from `i`, strings in it skipped; -1
    when there is none before `limit`."""
    braces = 0
    while i < limit:
        c = text[i]
        if c in "\"'`":
            i = _string_end(text, i + 1, c, "", c != "'", limit, depth)
            if i < 0:
                return -1
            continue
        if c == "{":
            braces += 1
        elif c == "}":
            if not braces:
                return i + 1
            braces -= 1
        i += 1
    return -1
