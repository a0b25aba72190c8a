"""Cut the definitions of named symbols out of a source file, as context for the file importing them.

Pure and tolerant of broken code: Python is split into top-level blocks by indentation, brace
languages by brace depth after blanking strings and comments. Short definitions are kept whole;
long ones are reduced to their signatures (a class keeps its header, docstring, fields and method
signatures) with ``...`` where a body was left out. When none of the names is found the head of the
file is returned, or, for a file too long for that, its outline.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Iterable, Optional

from fim.similarity import split_lines

MAX_WHOLE_LINES = 40  # a definition up to this many lines is kept whole
MAX_DOCSTRING_LINES = 12


@dataclass(frozen=True)
class Extract:
    """Text cut from a file and the zero-based, end-exclusive line ranges it came from."""

    text: str
    spans: tuple[tuple[int, int], ...]
    found: bool  # False when this is the head/outline fallback


def extract(text: str, language: str, names: Iterable[str], max_chars: int = 4000) -> Extract:
    """The definitions (or signatures) of the named top-level symbols of `text`, in file order, and
    the lines of `text` they cover.

    Falls back to the head of the file (or its outline if the file is longer than `max_chars`)
    when no name is found. The result is at most `max_chars` long, cut at a line end.
    """
    return _extract(text, language, tuple(dict.fromkeys(n for n in names if n)), max_chars)


@lru_cache(maxsize=256)
def _extract(text: str, language: str, names: tuple[str, ...], max_chars: int) -> Extract:
    text = _normalize(text)
    model = _model(text, language)
    lines = model.lines if model is not None else _plain_lines(text)
    if not lines:
        return Extract("", (), False)
    if model is not None and names:
        blocks = model.find(names)
        if blocks:
            return _fit(model, blocks, max_chars)
    if len(text) <= max_chars:
        return Extract(text, ((0, len(lines)),), False)
    if model is not None:
        outline = model.outline()
        if outline:
            return Extract(_truncate(outline, max_chars), ((0, len(lines)),), False)
    head = _truncate(text, max_chars)
    return Extract(head, ((0, head.count("\n") + 1),), False)


def _normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


@lru_cache(maxsize=64)
def _plain_lines(text: str) -> list[str]:
    return split_lines(text)


# Parsed files by text (and language): one parse per version of a file, whatever names are asked.
@lru_cache(maxsize=192)
def _model(text: str, language: str):
    if language == "python":
        return _PythonFile(text, split_lines(text))
    if language in _BRACE_STYLE:
        return _BraceFile(text, split_lines(text), language)
    return None


def defines(text: str, language: str, name: str) -> bool:
    """True when `name` is a top-level definition (or one guarded by a module-level if/try) of `text`."""
    model = _model(_normalize(text), language)
    return model is not None and bool(model.find((name,)))


def _fit(model, blocks: list[tuple[int, int]], max_chars: int) -> Extract:
    """Every found definition within `max_chars`: first each one's head (signature), then its
    outline, then its whole text, in file order while the room lasts; a definition too long for
    what is left is cut at a line end rather than dropped."""
    wholes = [model.render(s, e) for s, e in blocks]
    if sum(len(t) + 2 for t in wholes) - 2 <= max_chars:
        return Extract("\n\n".join(wholes), tuple(blocks), True)
    tiers = [model.tiers(s, e) for s, e in blocks]
    level = [0] * len(blocks)
    texts = [t[0] for t in tiers]

    def used() -> int:
        return sum(len(t) + 2 for t in texts if t) - 2

    total = used()
    if total > max_chars:
        # Even the signatures do not all fit: keep those that do, in file order, at least the first.
        out: list[str] = []
        spans: list[tuple[int, int]] = []
        size = 0
        for (s, e), t in zip(blocks, texts):
            cost = len(t) + (2 if out else 0)
            if size + cost > max_chars:
                if not out:
                    out.append(_truncate(t, max_chars))
                    spans.append((s, e))
                break
            out.append(t)
            spans.append((s, e))
            size += cost
        return Extract("\n\n".join(out), tuple(spans), True)
    for step in (1, 2):
        for k, t in enumerate(tiers):
            if step < len(t) and level[k] < step:
                grow = len(t[step]) - len(texts[k])
                if total + grow <= max_chars:
                    texts[k], level[k] = t[step], step
                    total += grow
    # The room left goes to the start of the first definition still shortened.
    for k, t in enumerate(tiers):
        top = t[-1]
        if texts[k] != top and max_chars - total > 80:
            cut = _truncate(top, len(texts[k]) + max_chars - total)
            if len(cut) > len(texts[k]) + 40:
                total += len(cut) - len(texts[k])
                texts[k] = cut
    return Extract("\n\n".join(texts), tuple(blocks), True)


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text.rfind("\n", 0, max_chars + 1)
    return text[:cut] if cut > 0 else text[:max_chars]


def _strip_spans(text: str, pattern: re.Pattern) -> tuple[str, list[int], list[int]]:
    """Blank strings and comments (keeping newlines) and list their start/end offsets."""
    starts: list[int] = []
    ends: list[int] = []
    out: list[str] = []
    last = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        out.append(text[last:a])
        g = m.group(0)
        if "\n" in g:
            out.append("\n".join(" " * len(part) for part in g.split("\n")))
        else:
            out.append(" " * (b - a))
        starts.append(a)
        ends.append(b)
        last = b
    out.append(text[last:])
    return "".join(out), starts, ends


# ------------------------------------------------------------------------------------- Python

# A string prefix (r, b, f, u) is left as code: starting a match only at a quote or a hash lets the
# regular expression engine skip ahead to those characters, several times faster on a big file.
_PY_STRINGS = re.compile(
    r"#[^\n]*"
    r"|\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)"
    r"|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?")
_PY_DEF = re.compile(r"^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
_PY_ASSIGN = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)|^([A-Za-z_]\w*)[ \t]*:[ \t]*\S")
_PY_BODY_DEF = re.compile(r"^(?:async[ \t]+)?(?:def|class)\b")
_PY_GUARD = re.compile(r"^(?:if|elif|else|try|except|finally|with)\b")


class _PythonFile:
    def __init__(self, text: str, lines: list[str]) -> None:
        self.lines = lines
        self.text = text
        spans = [m.span() for m in _PY_STRINGS.finditer(text)]
        self._starts = starts = [a for a, _ in spans]
        self._ends = ends = [b for _, b in spans]
        self._offsets: Optional[list[int]] = None
        self._code: dict[int, str] = {}
        # Lines that begin inside a multi-line string do not start statements.
        in_string = [False] * len(lines)
        line = 0  # the line of offset `at`
        at = 0
        count = text.count
        for a, b in zip(starts, ends):
            inner = count("\n", a, b)
            if not inner:
                continue
            line += count("\n", at, a)
            # Lines line+1 .. line+inner start inside the span (the last one unless it ends there).
            last = line + inner if text[b - 1] != "\n" else line + inner - 1
            for i in range(line + 1, min(last, len(lines) - 1) + 1):
                in_string[i] = True
            line += inner
            at = b
        self.in_string = in_string
        self.tops = [i for i, line in enumerate(lines)
                     if line[:1] not in ("", " ", "\t", "#") and not in_string[i] and line.strip()
                     and not line.startswith((")", "]", "}"))]
        self._block_list: Optional[list[tuple[int, int, Optional[str]]]] = None
        self._top_list: list[tuple[int, int, Optional[str]]] = []
        self._by_name: Optional[dict[str, list[tuple[int, int]]]] = None

    def code(self, j: int) -> str:
        """Line `j` with its strings and comments blanked."""
        got = self._code.get(j)
        if got is not None:
            return got
        if self._offsets is None:
            self._offsets = [0, *accumulate(len(line) + 1 for line in self.lines)]
        line = self.lines[j]
        lo = self._offsets[j]
        hi = lo + len(line)
        k = bisect.bisect_right(self._ends, lo)
        starts, ends = self._starts, self._ends
        if k < len(starts) and starts[k] < hi:
            chars = list(line)
            while k < len(starts) and starts[k] < hi:
                for c in range(max(starts[k], lo) - lo, min(ends[k], hi) - lo):
                    chars[c] = " "
                k += 1
            line = "".join(chars)
        self._code[j] = line
        return line

    def _statements(self, tops: list[int], limit: int, indent: str) -> list[tuple[int, int, Optional[str]]]:
        """(start, end, name) for the statements starting at `tops` (lines at `indent`)."""
        blocks: list[tuple[int, int, Optional[str]]] = []
        pending: Optional[int] = None
        for k, i in enumerate(tops):
            end = tops[k + 1] if k + 1 < len(tops) else limit
            while end > i + 1 and not self.lines[end - 1].strip():
                end -= 1
            line = self.lines[i][len(indent):]
            if line.startswith("@"):
                if pending is None:
                    pending = i
                continue
            start = pending if pending is not None else i
            pending = None
            m = _PY_DEF.match(line)
            if m:
                name = m.group(2)
            else:
                a = _PY_ASSIGN.match(line)
                name = (a.group(1) or a.group(2)) if a else None
            blocks.append((start, end, name))
        return blocks

    def _blocks(self) -> list[tuple[int, int, Optional[str]]]:
        """(start, end, name) for each top-level statement, decorators joined to their def, and for
        the statements one level inside a module-level if/elif/else/try/except/finally/with."""
        if self._block_list is not None:
            return self._block_list
        blocks: list[tuple[int, int, Optional[str]]] = []
        self._top_list = self._statements(self.tops, len(self.lines), "")
        for start, end, name in self._top_list:
            blocks.append((start, end, name))
            if name is None and _PY_GUARD.match(self.lines[start]):
                blocks += self._guarded(start, end)
        self._block_list = blocks
        return blocks

    def _guarded(self, start: int, end: int) -> list[tuple[int, int, Optional[str]]]:
        body = [j for j in range(start + 1, end) if self.lines[j].strip() and not self.in_string[j]
                and not self.lines[j].lstrip().startswith("#")]
        if not body:
            return []
        indent = _indent(self.lines[body[0]])
        if not indent:
            return []
        tops = [j for j in body if _indent(self.lines[j]) == indent
                and not self.lines[j][len(indent):].startswith((")", "]", "}"))]
        return [b for b in self._statements(tops, end, indent) if b[2] is not None]

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        if self._by_name is None:
            by_name: dict[str, list[tuple[int, int]]] = {}
            for s, e, n in self._blocks():
                if n is not None:
                    by_name.setdefault(n, []).append((s, e))
            self._by_name = by_name
        found: set[tuple[int, int]] = set()
        for n in names:
            found.update(self._by_name.get(n, ()))
        return sorted(found)

    def tiers(self, start: int, end: int) -> tuple[str, ...]:
        """Ever longer renderings of a definition: its head, its outline, its whole text."""
        whole = self.render(start, end)
        if end - start <= 3:
            return (whole,)
        first = self.lines[start].lstrip()
        if not (_PY_DEF.match(first) or first.startswith("@")):
            head = "\n".join(self.lines[start:start + 1]) + "\n" + _indent(self.lines[start]) + "..."
            return (head, whole) if len(head) < len(whole) else (whole,)
        i = start
        while i < end and self.lines[i].lstrip().startswith("@"):
            i += 1
        head_end = self._header_end(i, end)
        j = head_end
        while j < end and not self.lines[j].strip():
            j += 1
        body_indent = _indent(self.lines[j]) if j < end else _indent(self.lines[i]) + "    "
        head = "\n".join(self.lines[start:head_end] + [body_indent + "..."])
        outline = self.render(start, end, summary=True)
        out = [head]
        for t in (outline, whole):
            if len(t) > len(out[-1]):
                out.append(t)
        return tuple(out)

    def _header_end(self, i: int, limit: int) -> int:
        """Index after the line ending the signature that starts at line `i`."""
        depth = 0
        for j in range(i, limit):
            code = self.code(j)
            depth += code.count("(") + code.count("[") - code.count(")") - code.count("]")
            if depth <= 0 and code.rstrip().endswith(":"):
                return j + 1
            if depth <= 0 and j > i and not code.strip() and not self.lines[j].strip():
                return j
        return min(limit, i + 1)

    def _docstring(self, i: int, limit: int) -> list[str]:
        """The docstring lines starting at line `i`, if the statement there is one."""
        while i < limit and not self.lines[i].strip():
            i += 1
        if i >= limit:
            return []
        body = self.lines[i].lstrip()
        m = re.match(r"[rRuU]?(\"\"\"|'''|\"|')", body)
        if not m:
            return []
        quote = m.group(1)
        rest = body[m.end():]
        if quote in rest or len(quote) == 1:
            return [self.lines[i]]
        out = [self.lines[i]]
        for j in range(i + 1, min(limit, i + 200)):
            out.append(self.lines[j])
            if quote in self.lines[j]:
                break
        if len(out) > MAX_DOCSTRING_LINES:
            indent = self.lines[i][: len(self.lines[i]) - len(body)]
            out = out[: MAX_DOCSTRING_LINES - 1] + [indent + quote]
        return out

    def render(self, start: int, end: int, summary: bool = False) -> str:
        if not summary and end - start <= MAX_WHOLE_LINES:
            return "\n".join(self.lines[start:end])
        return "\n".join(self._summary(start, end))

    def _summary(self, start: int, end: int) -> list[str]:
        i = start
        while i < end and self.lines[i].lstrip().startswith("@"):
            i += 1
        head_end = self._header_end(i, end)
        out = list(self.lines[start:head_end])
        is_class = bool(re.match(r"\s*class\b", self.lines[i]))
        doc = self._docstring(head_end, end)
        out += doc
        # First body line after the docstring.
        j = head_end
        while j < end and not self.lines[j].strip():
            j += 1
        body_indent = _indent(self.lines[j]) if j < end else "    "
        if not is_class:
            out.append(body_indent + "...")
            return out
        j += len(doc)
        while j < end:
            line = self.lines[j]
            if not line.strip() or self.in_string[j] or _indent(line) != body_indent:
                j += 1
                continue
            body = line[len(body_indent):]
            if body.startswith("#"):
                j += 1
                continue
            if body.startswith("@") or _PY_BODY_DEF.match(body):
                k = j
                while k < end and self.lines[k].strip().startswith("@"):
                    k += 1
                sig_end = self._header_end(k, end)
                out.append("")
                out += self.lines[j:sig_end]
                out.append(body_indent + "    ...")
                j = sig_end
                continue
            out.append(line)  # fields, class constants
            j += 1
        return out

    def outline(self) -> str:
        pieces: list[str] = []
        self._blocks()
        for start, end, name in self._top_list:
            first = self.lines[start]
            if _PY_DEF.match(first) or first.startswith("@"):
                pieces.append("\n" + self.render(start, end, summary=True))
            elif end - start <= 3:
                pieces.append("\n".join(self.lines[start:end]))
            else:
                pieces.append(first + "\n...")
        return "\n".join(pieces).lstrip("\n")


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


# ---------------------------------------------------------------------------------- brace style

_C_LIKE = (r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*\"?")
_STRIP_PATTERNS = {
    "js": re.compile(_C_LIKE + r"|'(?:[^'\\\n]|\\.)*'?|`(?:[^`\\]|\\[\s\S])*(?:`|\Z)"),
    "go": re.compile(_C_LIKE + r"|'(?:[^'\\\n]|\\.)*'|`[^`]*(?:`|\Z)"),
    "rust": re.compile(_C_LIKE + r"|'(?:\\.[^'\n]{0,8}|[^'\\\n])'|r#*\"[^\"]*\"#*"),
    "c": re.compile(_C_LIKE + r"|'(?:[^'\\\n]|\\.)*'"),
}
_BRACE_STYLE = {
    "javascript": "js", "typescript": "js", "vue": "js", "svelte": "js", "go": "go", "rust": "rust",
    "java": "c", "kotlin": "c", "scala": "c", "c": "c", "cpp": "c", "csharp": "c", "swift": "c",
    "dart": "c", "php": "c",
}
# Languages whose definitions live one level down, inside a class.
_CLASS_BODY_LANGUAGES = frozenset({"java", "kotlin", "scala", "csharp"})

_JS_DEF = re.compile(
    r"^(?:export[ \t]+)?(?:default[ \t]+)?(?:declare[ \t]+)?(?:abstract[ \t]+)?(?:async[ \t]+)?"
    r"(?:function\*?|class|const|let|var|interface|type|enum|namespace)[ \t]+([A-Za-z_$][\w$]*)")
_JS_DEFAULT = re.compile(r"^export[ \t]+default\b")
_JS_CJS = re.compile(r"^(?:module\.)?exports\.([A-Za-z_$][\w$]*)[ \t]*=")
_GO_DEF = re.compile(r"^(?:func[ \t]+(?:\([^)]*\)[ \t]*)?|type[ \t]+|var[ \t]+|const[ \t]+)([A-Za-z_]\w*)")
_RUST_DEF = re.compile(
    r"^[ \t]*(?:pub(?:\([^)]*\))?[ \t]+)?(?:(?:async|const|unsafe|default|extern(?:[ \t]+\"[^\"]*\")?)[ \t]+)*"
    r"(?:fn|struct|enum|trait|type|union|const|static|mod|macro_rules!)[ \t]+([A-Za-z_]\w*)")
_RUST_IMPL = re.compile(r"^[ \t]*impl\b(?:[ \t]*<[^{]*?>)?[ \t]+(?:[\w:<>, ]+?[ \t]+for[ \t]+)?([A-Za-z_]\w*)")
_DECL_KEYWORDS = re.compile(
    r"\b(?:class|interface|enum|record|struct|union|object|trait|typedef|namespace|fun|def|func|fn)[ \t]+"
    r"([A-Za-z_]\w*)")
_CALLABLE = re.compile(r"([A-Za-z_]\w*)[ \t]*\(")
_CONTROL = frozenset({"if", "for", "while", "switch", "return", "catch", "sizeof", "else", "do", "case", "new",
                      "throw", "elif", "defined"})


class _BraceFile:
    def __init__(self, text: str, lines: list[str], language: str) -> None:
        self.lines = lines
        self.language = language
        stripped, _, _ = _strip_spans(text, _STRIP_PATTERNS[_BRACE_STYLE[language]])
        self.code = stripped.split("\n")
        self.depth = [0] * (len(lines) + 1)  # depth before each line
        d = 0
        for i, code in enumerate(self.code[: len(lines)]):
            self.depth[i] = d
            d = max(0, d + code.count("{") - code.count("}"))
        self.depth[len(lines)] = d
        self.member_depth = 1 if language in _CLASS_BODY_LANGUAGES else 0
        self._start_list: Optional[list[tuple[int, list[str]]]] = None

    def _names_at(self, i: int) -> list[str]:
        line = self.lines[i]
        code = self.code[i]
        lang = self.language
        if lang in ("javascript", "typescript", "vue", "svelte"):
            m = _JS_DEF.match(line) or _JS_CJS.match(line)
            names = [m.group(1)] if m else []
            if _JS_DEFAULT.match(line):
                names.append("default")
            return names
        if lang == "go":
            m = _GO_DEF.match(line)
            return [m.group(1)] if m else []
        if lang == "rust":
            m = _RUST_DEF.match(line) or _RUST_IMPL.match(line)
            return [m.group(1)] if m else []
        if line[:1] in ("#",) and not line.startswith("#define"):
            return []
        names = [m.group(1) for m in _DECL_KEYWORDS.finditer(code)]
        if line.startswith("#define"):
            m = re.match(r"#define[ \t]+(\w+)", line)
            names += [m.group(1)] if m else []
        call = _CALLABLE.search(code)
        if call and call.group(1) not in _CONTROL and not code.lstrip().startswith(("return", "}", ".")) \
                and re.match(r"^[ \t]*[\w:<>*&, \[\]@.]*[ \t*&]" + re.escape(call.group(1)) + r"[ \t]*\(",
                             code):
            names.append(call.group(1))
        if code.lstrip().startswith("typedef"):
            last = self.code[self._end(i) - 1]
            m = re.search(r"(\w+)[ \t]*(?:\[[^\]]*\][ \t]*)?;[ \t]*$", last)
            if m:
                names.append(m.group(1))
        return names

    def _starts(self) -> list[tuple[int, list[str]]]:
        out = []
        for i, line in enumerate(self.lines):
            if self.depth[i] > self.member_depth or not line.strip():
                continue
            names = self._names_at(i)
            if names:
                out.append((i, names))
        return out

    def _end(self, i: int) -> int:
        """End (exclusive) of the definition starting on line `i`."""
        base = self.depth[i]
        opened = False
        n = len(self.lines)
        for j in range(i, min(n, i + 2000)):
            if j > i and not opened and self.depth[j] == base and self.lines[j][:1].strip() \
                    and not self.lines[j].lstrip().startswith(("{", ")", ".", "=", ":", "->", "where")):
                # A statement without braces ended on an earlier line.
                k = j
                while k > i + 1 and not self.lines[k - 1].strip():
                    k -= 1
                return k
            if self.depth[j + 1] > base:
                opened = True
            code = self.code[j].rstrip()
            if opened and self.depth[j + 1] <= base:
                return j + 1
            if not opened and (code.endswith(";") or code.endswith("}")) and self.depth[j + 1] <= base:
                return j + 1
        return min(n, i + 2000)

    def tiers(self, start: int, end: int) -> tuple[str, ...]:
        whole = self.render(start, end)
        outline = self.render(start, end, summary=True)
        return (outline, whole) if len(outline) < len(whole) else (whole,)

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        wanted = set(names)
        spans: list[tuple[int, int]] = []
        if self._start_list is None:
            self._start_list = self._starts()
        for i, found in self._start_list:
            if wanted.intersection(found):
                # Attach the comment / attribute / decorator lines just above.
                start = i
                while start > 0 and self.lines[start - 1].strip().startswith(("//", "/*", "*", "#[", "@", "///")) \
                        and self.depth[start - 1] == self.depth[i]:
                    start -= 1
                end = self._end(i)
                if spans and start < spans[-1][1]:
                    if end > spans[-1][1]:
                        spans[-1] = (spans[-1][0], end)
                    continue
                spans.append((start, end))
        return spans

    def render(self, start: int, end: int, summary: bool = False) -> str:
        if not summary and end - start <= MAX_WHOLE_LINES:
            return "\n".join(self.lines[start:end])
        # Keep the definition's own level and the level of its members; elide deeper bodies.
        base = min(self.depth[start:end]) if end > start else 0
        keep = base + 1
        if summary or not any(_DECL_KEYWORDS.search(self.code[k]) for k in range(start, min(end, start + 3))):
            keep = base  # a function: keep its signature only
        out: list[str] = []
        eliding = False
        for k in range(start, end):
            if self.depth[k] <= keep or self.depth[k + 1] <= keep and self.code[k].lstrip().startswith("}"):
                out.append(self.lines[k])
                eliding = False
            elif not eliding:
                out.append(_indent(self.lines[k]) + "...")
                eliding = True
        return "\n".join(out)

    def outline(self) -> str:
        out: list[str] = []
        eliding = False
        keep = self.member_depth
        for k, line in enumerate(self.lines):
            if self.depth[k] <= keep or self.depth[k + 1] <= keep and self.code[k].lstrip().startswith("}"):
                if line.strip() or (out and out[-1].strip()):
                    out.append(line)
                eliding = False
            elif not eliding:
                out.append(_indent(line) + "...")
                eliding = True
        return "\n".join(out)
