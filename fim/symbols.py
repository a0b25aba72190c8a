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


def definitions(text: str, language: str, names: Iterable[str], max_chars: int = 4000) -> str:
    """The definitions (or signatures) of the named top-level symbols of `text`, in file order.

    Falls back to the head of the file (or its outline if the file is longer than `max_chars`)
    when no name is found. The result is at most `max_chars` long, cut at a line end.
    """
    return extract(text, language, names, max_chars).text


def extract(text: str, language: str, names: Iterable[str], max_chars: int = 4000) -> Extract:
    """Like `definitions`, also saying which lines of `text` the result covers."""
    return _extract(text, language, tuple(dict.fromkeys(n for n in names if n)), max_chars)


@lru_cache(maxsize=512)
def _extract(text: str, language: str, names: tuple[str, ...], max_chars: int) -> Extract:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = split_lines(text)
    if not lines:
        return Extract("", (), False)
    if language == "python":
        model = _PythonFile(text, lines)
    elif language in _BRACE_STYLE:
        model = _BraceFile(text, lines, language)
    else:
        model = None
    if model is not None and names:
        blocks = model.find(names)
        if blocks:
            pieces: list[str] = []
            spans: list[tuple[int, int]] = []
            used = 0
            for start, end in blocks:
                piece = model.render(start, end)
                cost = len(piece) + 2
                if used + cost > max_chars:
                    if not pieces:  # the first definition alone is too long: keep its start
                        pieces.append(_truncate(piece, max_chars))
                        spans.append((start, end))
                    break
                pieces.append(piece)
                spans.append((start, end))
                used += cost
            return Extract("\n\n".join(pieces), tuple(spans), True)
    if len(text) <= max_chars:
        return Extract(text, ((0, len(lines)),), False)
    if model is not None:
        outline = model.outline()
        if outline:
            return Extract(_truncate(outline, max_chars), ((0, len(lines)),), False)
    head = _truncate(text, max_chars)
    return Extract(head, ((0, head.count("\n") + 1),), False)


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
        out.append(text[last:m.start()])
        out.append(re.sub(r"[^\n]", " ", m.group(0)))
        starts.append(m.start())
        ends.append(m.end())
        last = m.end()
    out.append(text[last:])
    return "".join(out), starts, ends


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    find = text.find
    at = find("\n")
    while at >= 0:
        offsets.append(at + 1)
        at = find("\n", at + 1)
    return offsets


def _inside(offset: int, starts: list[int], ends: list[int]) -> bool:
    i = bisect.bisect_right(starts, offset) - 1
    return i >= 0 and starts[i] < offset < ends[i]


# ------------------------------------------------------------------------------------- Python

_PY_STRINGS = re.compile(
    r"#[^\n]*"
    r"|(?:[rRbBuUfF]{0,2})(?:\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z))"
    r"|(?:[rRbBuUfF]{0,2})(?:\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?)")
_PY_DEF = re.compile(r"^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)")
_PY_ASSIGN = re.compile(r"^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?=(?!=)|^([A-Za-z_]\w*)[ \t]*:[ \t]*\S")
_PY_BODY_DEF = re.compile(r"^(?:async[ \t]+)?(?:def|class)\b")


class _PythonFile:
    def __init__(self, text: str, lines: list[str]) -> None:
        self.lines = lines
        stripped, starts, ends = _strip_spans(text, _PY_STRINGS)
        self.code = stripped.split("\n")
        offsets = _line_offsets(text)
        # Lines that begin inside a multi-line string do not start statements.
        self.in_string = [_inside(offsets[i], starts, ends) for i in range(len(lines))]
        self.tops = [i for i, line in enumerate(lines)
                     if line[:1] not in ("", " ", "\t", "#") and not self.in_string[i] and line.strip()
                     and not line.startswith((")", "]", "}"))]

    def _blocks(self) -> list[tuple[int, int, Optional[str]]]:
        """(start, end, name) for each top-level statement, decorators joined to their def."""
        blocks: list[tuple[int, int, Optional[str]]] = []
        tops = self.tops
        pending: Optional[int] = None
        for k, i in enumerate(tops):
            end = tops[k + 1] if k + 1 < len(tops) else len(self.lines)
            while end > i + 1 and not self.lines[end - 1].strip():
                end -= 1
            line = self.lines[i]
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

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        wanted = set(names)
        return [(s, e) for s, e, n in self._blocks() if n in wanted]

    def _header_end(self, i: int, limit: int) -> int:
        """Index after the line ending the signature that starts at line `i`."""
        depth = 0
        for j in range(i, limit):
            code = self.code[j]
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
        for start, end, name in self._blocks():
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

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        wanted = set(names)
        spans: list[tuple[int, int]] = []
        for i, found in self._starts():
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
