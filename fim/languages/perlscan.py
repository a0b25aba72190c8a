"""Perl's text that is no code, blanked for `fim.languages.perl`: comments (not ``$#array``), strings, the
quote-like operators (``q{}``, ``qq()``, ``qw//``, ``qr{}``, ``m{}``, ``s{..}{..}``, ``tr///``, ``y///``, any
delimiter, brackets nested), regular expressions where an operand starts (``=~ /x/``, ``split /,/``), POD
(``=head1`` ... ``=cut``), formats' pictures (``format STDOUT =`` ... ``.``), heredoc bodies (``<<"EOF"``,
``<<~EOF``, ``<<'EOF'``, ``<<'.'``) and what follows ``__END__``/``__DATA__``. Newlines are kept and nothing
moves: an offset of the blanked text is one of the text."""

from __future__ import annotations

import re
from functools import lru_cache

from fim.languages.keyword import blank_heredocs

# ``<<"EOF"``, ``<< 'EOF'``, ``<<~EOF``, ``<<EOF``, any quoted text (``<<'.'``, ``<<"END OF TEXT"``,
# ``<<"    ERR"`` stripped as the lines ending heredocs are); the terminator: group 2; not ``1 << 2``, ``$x<<EOF``
HEREDOC = re.compile(r"(?<![\w)\]}])<<~?(?:[ \t]*([\"'`])[ \t]*|)((?(1)(?:(?!\1)[^\n])*?|[A-Za-z_]\w*))(?(1)[ \t]*\1)")
_NEXT = re.compile(r"(?m)^=[A-Za-z]|^__(?:END|DATA)__\b|^[ \t]*format\b[ \t]*(?:[A-Za-z_][\w:]*)?[ \t]*=[ \t]*$"
                   r"|[#\"'`/]|(?<![\w$@%&*:>-])(?:qq|qw|qr|q|m|s|tr|y)\b")
_PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}
_TWO_PARTS = frozenset({"s", "tr", "y"})  # a pattern and a replacement
_NOT_DELIMITERS = frozenset(";)]}>=")  # ``$h{s}``, ``s => 1``: no quote-like operator
_OPERAND_AFTER = frozenset("=~(,|&!;{[?:+*<>.")  # an operator or an opening: a regular expression may follow
_OPENING = frozenset("(,={[;!?:|&")  # a regular expression follows, whatever its first character (``(/=/``)
_OPERAND_WORDS = frozenset({"split", "grep", "map", "if", "unless", "elsif", "and", "or", "not", "return", "when",
                            "while", "until", "push", "unshift", "join"})
_POD_END = re.compile(r"(?m)^=cut\b[^\n]*")
_NOT_NEWLINE = re.compile(r"[^\n]")
_FORMAT_END = re.compile(r"(?m)^\.[ \t]*$")


def blank(text: str) -> str:
    """`text` with its comments, literals, POD, heredoc bodies and ``__END__`` section blanked."""
    if "<<" in text:
        text = "\n".join(blank_heredocs(text.split("\n"), HEREDOC))
    out: list[str] = []
    last = 0
    i = 0
    n = len(text)
    unclosed: dict[str, int] = {}  # quote -> where a string of it ran to the text's end (none closes after)
    ends = _Ends(text)
    format_ends = n + 1  # where no format's ``.`` line follows

    def cut(start: int, end: int) -> None:
        nonlocal last
        out.append(text[last:start])
        lines = text.count("\n", start, end)
        out.append(_NOT_NEWLINE.sub(" ", text[start:end]) if lines else " " * (end - start))
        last = end

    while True:
        m = _NEXT.search(text, i)
        if m is None:
            break
        s = m.start()
        token = m.group(0)
        c = token[0]
        end = -1
        if token[0] == "=" and len(token) == 2:  # POD, to its ``=cut`` line
            close = _POD_END.search(text, s)
            end = close.end() if close else n
        elif token.startswith("__"):
            end = n
        elif token.endswith("="):  # a format's picture lines, to its ``.`` line (none: code, being typed)
            close = _FORMAT_END.search(text, m.end()) if m.end() < format_ends else None
            if close:
                s, end = m.end(), close.end()
            else:  # nor for a later format
                format_ends = m.end()
        elif c == "#":
            if not (s and text[s - 1] == "$"):  # ``$#array``, ``$#{$ref}``
                line_end = text.find("\n", s)
                end = n if line_end < 0 else line_end
        elif c in "\"'`":
            if not (s and text[s - 1] == "$"):  # ``$"``, ``$'``: punctuation variables
                end = -1 if unclosed.get(c, n) < s else _delimited_end(text, s + 1, c, "", n)
                if end < 0:  # unterminated (being typed): to the line's end only
                    unclosed[c] = min(unclosed.get(c, n), s)
                    line_end = text.find("\n", s)
                    end = n if line_end < 0 else line_end
        elif c == "/":
            bound = _regex_at(text, s)  # a regular expression after ``=~`` may span lines (``/x``)
            if bound:
                line_end = text.find("\n", s)
                end = ends(text, s + 1, "/", "", n if bound == 2 or line_end < 0 else line_end)
                while 0 < end < n and text[end].isalpha():  # modifiers: ``/m``, not ``m,...,`` (a match)
                    end += 1
        else:
            end = _quote_like_end(text, s, token, n, ends)
        if end < 0:
            i = m.end() if c.isalpha() else s + 1
            continue
        cut(s, end)
        i = end
    out.append(text[last:])
    return "".join(out)


_WORD = re.compile(r"(?:qq|qw|qr|q|m|s|tr|y)\b")


def literal_end(text: str, i: int) -> int:
    """The offset after the quote-like literal (``qw(a b)``, ``s{x}{y}g``) whose operator starts at `text[i]`,
    or -1 where none does (a word such as ``sort``, ``$s``, a hash key ``y => 1``, one not closed yet)."""
    if i and (text[i - 1].isalnum() or text[i - 1] in "_$@%&*:>-"):
        return -1
    word = _WORD.match(text, i)
    if not word:
        return -1
    ends = _LATEST[0]
    if ends is None or ends.text is not text:  # a text's literals are asked in turn: one `_Ends` for them
        ends = _LATEST[0] = _Ends(text)
    return _quote_like_end(text, i, word.group(0), len(text), ends)


_LATEST: list = [None]  # the `_Ends` of the text `literal_end` read last


def _regex_at(text: str, s: int) -> int:
    """The ``/`` at `s` opens a regular expression: 2 after ``=~``/``!~`` (it may span lines), 1 where an operand
    starts: after an opening bracket, a comma, ``=`` or a word such as ``split`` (``split /=/``, ``split / /``),
    or after another operator or at a line's start where no space or ``=`` follows it (not ``$i++ / 2``,
    ``/= 2``); else 0 (a division)."""
    j = s
    while j and text[j - 1] in " \t":
        j -= 1
    if j >= 2 and text[j - 2:j] in ("=~", "!~"):
        return 2
    after = text[s + 1:s + 2]
    if after in ("", "\n"):
        return 0
    if j and text[j - 1] in _OPENING:
        return 1
    k = j
    while k and (text[k - 1].isalnum() or text[k - 1] == "_"):
        k -= 1
    if k < j:
        return int(text[k:j] in _OPERAND_WORDS and not (k and text[k - 1] in "$@%&->:"))
    return int(after not in (" ", "\t", "=") and (not j or text[j - 1] == "\n" or text[j - 1] in _OPERAND_AFTER))


def _quote_like_end(text: str, s: int, word: str, n: int, ends=None) -> int:
    """The offset after a quote-like literal (``qw(a b)``, ``s{x}{y}``) whose operator is `word` at `s`, or -1
    where `word` is none (a hash key ``s => 1``, ``$h{y}``, a ``sub q``). `ends`: a text's `_Ends`."""
    ends = ends or _delimited_end
    i = s + len(word)
    while i < n and text[i] in " \t":
        i += 1
    if i >= n:
        return -1
    d = text[i]
    if d.isalnum() or d == "_" or d.isspace() or d in _NOT_DELIMITERS and not (d == "=" and text[i + 1:i + 2] != ">") \
            or (d == "#" and i > s + len(word)):
        return -1
    if re.search(r"\bsub[ \t]+$", text[max(0, s - 16):s]):
        return -1
    end = ends(text, i + 1, _PAIRS.get(d, d), d if d in _PAIRS else "", n)
    if end < 0:
        return -1
    if word in _TWO_PARTS:
        if d in _PAIRS:  # ``s{a}{b}``, ``s{a} [b]``: a second literal with its own delimiters
            j = end
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                return -1
            d2 = text[j]
            end = ends(text, j + 1, _PAIRS.get(d2, d2), d2 if d2 in _PAIRS else "", n)
        else:  # ``s/a/b/``: the replacement shares the middle delimiter
            end = ends(text, end, d, "", n)
        if end < 0:
            return -1
    while end < n and text[end].isalpha():  # modifiers: ``/gimsx``
        end += 1
    return end


def _delimited_end(text: str, i: int, close: str, opening: str, limit: int) -> int:
    """The offset after the `close` that ends a literal from `i` (escapes skipped, `opening` ... `close` pairs
    nested), or -1 when it does not close before `limit`. Only escapes and delimiters are visited."""
    find = _specials(close, opening).search
    nested = 0
    while True:
        m = find(text, i, limit)
        if m is None:
            return -1
        k = m.start()
        c = text[k]
        if c == "\\":
            i = k + 2
            continue
        if c == close:
            if not nested:
                return k + 1
            nested -= 1
        else:
            nested += 1
        i = k + 1


@lru_cache(maxsize=64)
def _specials(close: str, opening: str) -> re.Pattern:
    return re.compile("[" + re.escape("\\" + close + opening) + "]")


class _Ends:
    """`_delimited_end` over one text, each kind of literal that ran to the text's end remembered: a later one
    of its delimiter does not close either (``q/`` being typed), and one of a bracket pair takes its end from
    one matching of that pair's brackets over the text (20,000 unclosed ``q{ {`` lines took 246 s to blank,
    every one scanned to the end)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.failed: dict[str, int] = {}  # a delimiter -> the first offset from which none closed
        self.pairs: dict[str, dict[int, int]] = {}  # an opening bracket -> its offsets -> the offset after its close

    def __call__(self, text: str, i: int, close: str, opening: str, limit: int) -> int:
        n = len(self.text)
        if limit < n:
            return _delimited_end(text, i, close, opening, limit)
        if not opening:
            if self.failed.get(close, n) < i:
                return -1
            end = _delimited_end(text, i, close, opening, limit)
            if end < 0:
                self.failed[close] = i
            return end
        matched = self.pairs.get(opening)
        if matched is not None and i - 1 in matched:
            return matched[i - 1]
        end = _delimited_end(text, i, close, opening, limit)
        if end < 0 and matched is None:
            self.pairs[opening] = _match_pairs(text, opening, close)
        return end


def _match_pairs(text: str, opening: str, close: str) -> dict[int, int]:
    """Each unescaped `opening` of `text` -> the offset after its `close` (-1 where it has none)."""
    out: dict[int, int] = {}
    stack: list[int] = []
    for m in re.finditer(r"\\[\s\S]|" + re.escape(opening) + "|" + re.escape(close), text):
        token = m.group(0)
        if token == opening:
            stack.append(m.start())
        elif token == close and stack:
            out[stack.pop()] = m.end()
    out.update((k, -1) for k in stack)
    return out
