"""The brace languages without a tree-sitter grammar here (Kotlin, Scala, C#, Swift, Dart, PHP):
definitions by brace depth after blanking strings and comments, Kotlin/Scala imports by a
regular expression (resolved as Java's are), PHP's ``use`` statements by `fim.languages.php`, C#'s
``using`` directives by `fim.languages.csharp`, Dart's imports by `fim.languages.dart`."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Optional

from fim.languages import csharp, dart, java, php, swift
from fim.languages.base import BRACE_RULES, MAX_WHOLE_LINES, TYPE_ARGUMENTS, ImportRef, Language, line_of



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


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


_C_LIKE = (r"//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*\"?")
_STRIP = re.compile(_C_LIKE + r"|'(?:[^'\\\n]|\\.)*'")
# Languages whose definitions live one level down, inside a class.
_CLASS_BODY_LANGUAGES = frozenset({"java", "kotlin", "scala", "csharp"})

# The name after a declaring keyword, not another keyword (``enum class Color``: Color), and Kotlin's
# ``fun <T> Receiver.name(`` (an extension function is named after the dot; ``fun interface Name``
# after the keyword); Swift's ``protocol`` and ``actor``.
_DECL_KEYWORDS = re.compile(
    r"\b(?:class|interface|enum|record|struct|union|object|trait|typedef|typealias|namespace|def|func|fn|protocol"
    r"|actor)[ \t]+(?!(?:class|interface|struct|object)\b)([A-Za-z_]\w*)"
    r"|\bfun[ \t]+(?!interface\b)(?:<[^>]*>[ \t]*)?(?:[A-Za-z_][\w.]*(?:<[^>]*>)?\??\.)?([A-Za-z_]\w*)")
_PHP_CONSTANT = re.compile(r"[ \t]*(?:const[ \t]+([A-Za-z_]\w*)[ \t]*=|define[ \t]*\([ \t]*['\"]([A-Za-z_]\w*)['\"])")
_CALLABLE = re.compile(r"\b([A-Za-z_]\w*)[ \t]*\(")  # \b: a word is tried once, not from each letter
# Where a function's name has no keyword before it, a generic one is ``name<K, List<V>>(`` (Dart's ``T
# identity<T>(``, C#'s ``T Parse<T>(``); Kotlin, Swift and Scala name theirs after ``fun``/``func``/``def``.
_GENERIC_CALLABLE = re.compile(r"\b([A-Za-z_]\w*)" + TYPE_ARGUMENTS + r"\(")
_GENERIC_LANGUAGES = frozenset({"dart", "csharp"})
# Dart's top-level variables and constants: ``const int frameHeaderSize = 9;``, ``final codec = Codec();``
# (`_dart_variable`: the type before the name is read without a regex that backtracks through its spaces)
_DART_VARIABLE = re.compile(r"(?:late[ \t]+)?(?:final|const|var)[ \t]+")
_DART_TYPE = re.compile(r"[A-Za-z_$][\w$<>?, .]*")
_WORD_END = re.compile(r"[\w$]*")  # (matched on the reversed text: the word a text ends with)
_CONTROL = frozenset({"if", "for", "while", "switch", "return", "catch", "sizeof", "else", "do", "case", "new",
                      "throw", "elif", "defined"})


def _dart_variable(code: str) -> Optional[str]:
    """The name a line of Dart code declares a variable or constant of (``final Map<K, V> table = {``), else None:
    ``final``/``const``/``var`` (after ``late``), maybe a type, the name, then the line's first ``=`` (not ``==``)."""
    m = _DART_VARIABLE.match(code)
    equals = code.find("=", m.end()) if m else -1
    if equals < 0 or code.startswith("=", equals + 1):
        return None
    head = code[m.end():equals].rstrip(" \t")
    name = head[len(head) - _WORD_END.match(head[::-1]).end():]
    kind = head[:len(head) - len(name)]
    if not name or not (name[0].isascii() and (name[0].isalpha() or name[0] in "_$")):
        return None
    if kind and (kind[-1] not in " \t" or not _DART_TYPE.fullmatch(kind.rstrip(" \t"))):
        return None
    return name


class BraceFile:
    """A file's definitions by block depth: braces here; a subclass may count other block marks
    (`fim.languages.keyword`'s ``def`` ... ``end``)."""

    closing = re.compile(r"[ \t]*\}")  # a line (of code) that closes a block
    container = _DECL_KEYWORDS  # a definition whose members an outline keeps (a class, not a function)
    attached = ("//", "/*", "*", "#[", "@", "///")  # lines above a definition that belong to it

    def __init__(self, text: str, lines: list[str], language: str) -> None:
        self.lines = lines
        self.language = language
        self.code = self._code(text)
        self.depth = [0] * (len(lines) + 1)  # depth before each line
        d = 0
        for i, code in enumerate(self.code[: len(lines)]):
            self.depth[i] = d
            d = max(0, d + self._opened(code))
        self.depth[len(lines)] = d
        self.member_depth = 1 if language in _CLASS_BODY_LANGUAGES else 0
        self._start_list: Optional[list[tuple[int, list[str]]]] = None

    def _code(self, text: str) -> list[str]:
        """The lines of `text` with strings and comments blanked."""
        return _strip_spans(text, _STRIP)[0].split("\n")

    def _opened(self, code: str) -> int:
        """Blocks a line of code opens, less those it closes."""
        return code.count("{") - code.count("}")

    def _names_at(self, i: int) -> list[str]:
        line = self.lines[i]
        code = self.code[i]
        if line[:1] in ("#",) and not line.startswith("#define"):
            return []
        names = [m.group(1) or m.group(2) for m in _DECL_KEYWORDS.finditer(code)]
        if line.startswith("#define"):
            m = re.match(r"#define[ \t]+(\w+)", line)
            names += [m.group(1)] if m else []
        if self.language == "php":  # ``const SCALE = 100;``, ``define('SCALE', 100);`` (``use const``)
            m = _PHP_CONSTANT.match(line)
            names += [m.group(1) or m.group(2)] if m else []
        elif self.language == "dart" and self.depth[i] == 0:
            name = _dart_variable(code)
            names += [name] if name else []
        generic = self.language in _GENERIC_LANGUAGES
        if generic and i and self.code[i - 1].rstrip().endswith(("(", ",")):
            return names  # a parameter list going on: ``    K Function(E element) keyOf) {``
        call = (_GENERIC_CALLABLE if generic else _CALLABLE).search(code)
        if call and call.group(1) not in _CONTROL and not code.lstrip().startswith(("return", "}", ".")) \
                and re.match(r"^[ \t]*[\w:<>*&, \[\]@." + ("?]*" if generic else "]*") + r"[ \t*&]"
                             + re.escape(call.group(1)) + (TYPE_ARGUMENTS if generic else r"[ \t]*") + r"\(", code):
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
        indent = len(self.lines[i]) - len(self.lines[i].lstrip())
        opened = False
        n = len(self.lines)
        for j in range(i, min(n, i + 2000)):
            if j > i and not opened and self.depth[j] == base and self.lines[j].strip() \
                    and len(self.lines[j]) - len(self.lines[j].lstrip()) <= indent \
                    and not self.lines[j].lstrip().startswith(("{", ")", "]", ".", "=", ":", "->", "where")):
                # A statement without braces ended on an earlier line (a line as little indented as its first:
                # Ruby's ``  RACK_ERRORS = 'rack.errors'`` inside ``module Rack`` is one line).
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

    def defined(self) -> frozenset:
        if self._start_list is None:
            self._start_list = self._starts()
        return frozenset(n for _, names in self._start_list for n in names)

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        """Line ranges of the named definitions, in file order; a member comes with the heads of the classes
        and modules around it (``class Foo(...) {``, Ruby's ``module Mime`` around ``class Type``) when they
        are not asked for themselves."""
        wanted = set(names)
        spans: list[tuple[int, int]] = []
        if self._start_list is None:
            self._start_list = self._starts()
        picked = [k for k, (_, found) in enumerate(self._start_list) if wanted.intersection(found)]
        heads: set[int] = set()
        for k in picked:
            j = self._enclosing(k)
            while j is not None and j not in heads:
                heads.add(j)
                j = self._enclosing(j)
        heads -= set(picked)
        for k in sorted(set(picked) | heads):
            i = self._start_list[k][0]
            start = i
            if k in heads:
                end = self._head_end(i)
            else:
                # Attach the comment / attribute / decorator lines just above.
                while start > 0 and self.lines[start - 1].strip().startswith(self.attached) \
                        and self.depth[start - 1] == self.depth[i]:
                    start -= 1
                end = self._end(i)
            if spans and start < spans[-1][1]:
                if end > spans[-1][1]:
                    spans[-1] = (spans[-1][0], end)
                continue
            spans.append((start, end))
        return spans

    def _enclosing(self, k: int) -> Optional[int]:
        """The index in the start list of the class holding member `k`, if it is a member."""
        i = self._start_list[k][0]
        if self.depth[i] == 0:
            return None
        for j in range(k - 1, -1, -1):
            start = self._start_list[j][0]
            if self.depth[start] < self.depth[i]:
                return j if self._end(start) > i else None
        return None

    def _head_end(self, i: int) -> int:
        """End (exclusive) of the head of the definition starting on line `i`: the line opening its body."""
        end = self._end(i)
        for j in range(i, end):
            if self.depth[j + 1] > self.depth[i]:
                return j + 1
        return end

    def render(self, start: int, end: int, summary: bool = False) -> str:
        if not summary and end - start <= MAX_WHOLE_LINES:
            return "\n".join(self.lines[start:end])
        # Keep the definition's own level and the level of its members; elide deeper bodies.
        base = min(self.depth[start:end]) if end > start else 0
        keep = base + 1
        if summary or not any(self.container.search(self.code[k]) for k in range(start, min(end, start + 3))):
            keep = base  # a function: keep its signature only
        out: list[str] = []
        eliding = False
        for k in range(start, end):
            if self.depth[k] <= keep or self.depth[k + 1] <= keep and self.closing.match(self.code[k]):
                out.append(self.lines[k])
                eliding = False
            elif not eliding:
                out.append(_indent(self.lines[k]) + "...")
                eliding = True
        return "\n".join(out)

    def outline_depth(self) -> int:
        """The deepest block whose lines an outline keeps."""
        return self.member_depth

    def outline(self) -> str:
        out: list[str] = []
        eliding = False
        keep = self.outline_depth()
        for k, line in enumerate(self.lines):
            if self.depth[k] <= keep or self.depth[k + 1] <= keep and self.closing.match(self.code[k]):
                if line.strip() or (out and out[-1].strip()):
                    out.append(line)
                eliding = False
            elif not eliding:
                out.append(_indent(line) + "...")
                eliding = True
        return "\n".join(out)


_PHP_CLASS = re.compile(r"^[ \t]*(?:(?:abstract|final|readonly)[ \t]+)*(?:class|interface|trait|enum)\b")
_PHP_PRIVATE = re.compile(r"^[ \t]*(?:[a-z]+[ \t]+)*private\b")
MAX_PHP_MEMBER_LINES = 3  # a longer statement (a property's array) keeps its first line


class PhpFile(BraceFile):
    """A PHP file: `brief` renders a class as an installed package's API."""

    def brief(self, start: int, end: int) -> str:
        """A definition as an installed package's API: its doc comment's first line and its declaration; a
        class, interface, trait or enum with its constants, properties, cases and the signatures of its
        methods but the private ones, each with its doc comment's first line."""
        i = start
        while i < end and not self.code[i].strip():
            i += 1
        doc = _php_doc(self.lines[start:i])
        if i >= end or not _PHP_CLASS.match(self.code[i]):
            rest = self.tiers(i, end)[0] if i < end else ""
            return "\n".join(doc + [rest])
        head = self._head_end(i)
        out = doc + self.lines[i:head]
        inner = self.depth[i] + 1
        j, comments = head, head
        while j < end:
            if self.depth[j] != inner or not self.code[j].strip() or self.closing.match(self.code[j]):
                if self.depth[j] != inner or self.closing.match(self.code[j]):
                    comments = j + 1
                j += 1
                continue
            k = j  # the member's statement: to its ``;`` or to the line opening its body
            while k < end - 1 and not self.code[k].rstrip().endswith(";") and self.depth[k + 1] <= inner:
                k += 1
            body = self.depth[k + 1] > inner
            if not _PHP_PRIVATE.match(self.code[j]):
                lines = self.lines[j:k + 1]
                if body:
                    lines[-1] = lines[-1].rstrip().removesuffix("{").rstrip()
                    lines = [line for line in lines if line.strip()]
                    lines[-1] += ";"
                elif len(lines) > MAX_PHP_MEMBER_LINES:
                    lines = [lines[0].rstrip() + " ..."]
                out += _php_doc(self.lines[comments:j]) + lines
            j = k + 1
            while body and j < end and self.depth[j] > inner:
                j += 1
            comments = j
        return "\n".join(out + [line for line in self.lines[max(head, end - 1):end] if self.closing.match(line)])


def _php_doc(lines: list[str]) -> list[str]:
    """The first line of text of the ``/** ... */`` comment in `lines` as a one-line doc comment, and the
    attributes (``#[...]``) there; nothing else of `lines` (other comments, blank lines)."""
    out: list[str] = []
    text = None
    indent = ""
    inside = False
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("/**"):
            inside, text, indent = True, None, line[: len(line) - len(line.lstrip())]
        if inside:
            words = stripped.removeprefix("/**").removesuffix("*/").strip().lstrip("*").strip()
            if text is None and words:
                text = words
            if stripped.endswith("*/"):
                inside = False
        elif stripped.startswith("#["):
            out.append(line)
    return ([f"{indent}/** {text} */"] if text else []) + out


_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+(\w+(?:\.\w+)*(?:\.\*)?)")


def jvm_imports(text: str) -> list[ImportRef]:
    """Kotlin and Scala ``import a.b.C`` / ``import a.b.*`` lines."""
    refs = []
    for m in _IMPORT.finditer(text):
        path = m.group(1)
        star = path.endswith(".*")
        refs.append(ImportRef(path, () if star else (path.rsplit(".", 1)[-1],), "java", line_of(text, m.start()),
                              star=star))
    return refs


def _language(name: str, ids: tuple[str, ...], extensions: tuple[str, ...], family: str, jvm: bool = False) -> Language:
    return Language(name, ids, extensions, family, imports=jvm_imports if jvm else None,
                    resolve=java.resolve if jvm else None, model=lambda text, lines: BraceFile(text, lines, name),
                    siblings=java.siblings if jvm else None, rules=BRACE_RULES)


LANGUAGES = (
    _language("kotlin", ("kotlin",), (".kt", ".kts"), "jvm", jvm=True),
    _language("scala", ("scala",), (".scala",), "jvm", jvm=True),
    replace(_language("csharp", ("csharp",), (".cs",), "csharp"), imports=csharp.imports, resolve=csharp.resolve,
            siblings=csharp.siblings, learn=csharp.learn, imports_packages=True),
    replace(_language("swift", ("swift",), (".swift",), "swift"), siblings=swift.siblings),
    replace(_language("dart", ("dart",), (".dart",), "dart"), imports=dart.imports, resolve=dart.resolve,
            learn=dart.learn),
    replace(_language("php", ("php",), (".php",), "php"), imports=php.imports, resolve=php.resolve,
            siblings=php.siblings, model=lambda text, lines: PhpFile(text, lines, "php")),
)
