"""tree-sitter for the brace languages: parsing (memoized by text, incremental after a keystroke),
and the definitions model `fim.symbols` cuts context from.

A grammar comes from its wheel (``tree-sitter-go`` and so on); a missing wheel makes its languages
parse nothing rather than fail. tree-sitter tolerates the half-typed code an editor holds: a
broken statement becomes an ERROR node and the definitions around it are still found.

Parse cost, measured on a 12,000-line Go file (237 KB) on a busy 2-core machine: 45 ms for a
full parse, 1 ms to re-parse after a one-character edit with the previous tree. The current
document is parsed on every keystroke, so each parse starts from the tree of the most similar
recent text of the same grammar (the edit is the span between their common prefix and suffix).
"""

from __future__ import annotations

import bisect
import importlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, Iterable, Optional, Sequence

from fim.languages import tsrepair
from fim.languages.base import MAX_WHOLE_LINES

# grammar name -> (module, function returning the language pointer)
GRAMMARS = {
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "javascript": ("tree_sitter_javascript", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
}
# Text the grammar cannot parse, rewritten to text of the same length and lines that it can.
REPAIRS = {"typescript": tsrepair.repair, "tsx": partial(tsrepair.repair, signatures=False)}
PARSED_MEMO = 32  # parsed texts kept (all grammars together); models keep what they read
RECENT_TREES = 4  # per grammar: the trees an edited text may be re-parsed from
MIN_SHARED = 0.5  # share of the text the old and new versions must have in common to re-parse incrementally


@lru_cache(maxsize=None)
def grammar(name: str):
    """The tree_sitter.Language for `name`, or None when its wheel (or tree-sitter) is missing."""
    try:
        import tree_sitter

        module, function = GRAMMARS[name]
        return tree_sitter.Language(getattr(importlib.import_module(module), function)())
    except (ImportError, KeyError, AttributeError, ValueError):
        return None


_lock = threading.Lock()  # a Parser is not thread-safe; parses are short
_parsers: dict[str, object] = {}
_memo: "OrderedDict[tuple[str, str], Parsed]" = OrderedDict()
_recent: dict[str, list[tuple[bytes, object]]] = {}


@dataclass(frozen=True)
class Parsed:
    data: bytes  # the text as UTF-8
    tree: object  # tree_sitter.Tree

    @property
    def root(self):
        return self.tree.root_node

    def text(self, node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _repaired(name: str, text: str) -> str:
    repair = REPAIRS.get(name)
    return repair(text) if repair is not None else text


def parse_once(name: str, text: str) -> Optional[Parsed]:
    """The syntax tree of `text` in grammar `name`, not remembered (a text derived from a file's, parsed once)."""
    language = grammar(name)
    if language is None:
        return None
    import tree_sitter

    data = _repaired(name, text).encode("utf-8", "surrogatepass")
    with _lock:
        parser = _parsers.get(name)
        if parser is None:
            parser = _parsers[name] = tree_sitter.Parser(language)
        return Parsed(data, parser.parse(data))


def parse(name: str, text: str) -> Optional[Parsed]:
    """The syntax tree of `text` in grammar `name` (None without the grammar), memoized by text."""
    key = (name, text)
    with _lock:
        got = _memo.get(key)
        if got is not None:
            _memo.move_to_end(key)
            return got
        language = grammar(name)
        if language is None:
            return None
        import tree_sitter

        parser = _parsers.get(name)
        if parser is None:
            parser = _parsers[name] = tree_sitter.Parser(language)
        data = _repaired(name, text).encode("utf-8", "surrogatepass")
        tree = _incremental(parser, name, data)
        parsed = Parsed(data, tree)
        _memo[key] = parsed
        if len(_memo) > PARSED_MEMO:
            _memo.popitem(last=False)
        recent = _recent.setdefault(name, [])
        recent.insert(0, (data, tree))
        del recent[RECENT_TREES:]
        return parsed


def _common_prefix(a: bytes, b: bytes) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # binary search on slice equality: memcmp speed
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid:] == b[len(b) - mid:]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _point(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset), offset - (data.rfind(b"\n", 0, offset) + 1)


def _incremental(parser, name: str, data: bytes):
    best = None
    for old, tree in _recent.get(name, ()):
        if abs(len(old) - len(data)) > len(data) * (1 - MIN_SHARED):
            continue
        prefix = _common_prefix(old, data)
        suffix = _common_suffix(old, data, min(len(old), len(data)) - prefix)
        if prefix + suffix >= MIN_SHARED * len(data) and (best is None or prefix + suffix > best[0]):
            best = (prefix + suffix, old, tree, prefix, suffix)
    if best is None:
        return parser.parse(data)
    _, old, tree, prefix, suffix = best
    tree = tree.copy()
    tree.edit(start_byte=prefix, old_end_byte=len(old) - suffix, new_end_byte=len(data) - suffix,
              start_point=_point(old, prefix), old_end_point=_point(old, len(old) - suffix),
              new_end_point=_point(data, len(data) - suffix))
    return parser.parse(data, tree)


def string_content(parsed: Parsed, node) -> str:
    """The text inside a string literal node (quotes and ``<>`` stripped)."""
    text = parsed.text(node)
    if len(text) >= 2 and text[0] in "\"'`<" and text[-1] in "\"'`>":
        return text[1:-1]
    return text


def find_all(node, types: frozenset, stop: frozenset = frozenset()) -> Iterable:
    """Nodes of `types` below `node` (not inside one found), not descending into `stop` types."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in types:
            yield n
            continue
        if n.type in stop:
            continue
        stack.extend(reversed(n.children))


# ---------------------------------------------------------------------------- definitions model

# (node, parsed) -> the names a top-level node defines ([] for none), or None to descend into the
# children the `descend` function gives.
NamesOf = Callable[[object, Parsed], Sequence[str]]
DescendInto = Callable[[object], Optional[Sequence[object]]]
_ATTACHED = ("//", "/*", "*", "#[", "#!", "@", "///")  # comment, attribute and decorator lines above a definition


@dataclass(frozen=True)
class Spec:
    """How one grammar's definitions are found and shortened."""

    grammar: str
    names: NamesOf
    descend: DescendInto
    bodies: frozenset  # node types elided ("...") when a definition is shortened to its signature
    members: Optional[DescendInto] = None  # a definition's own definitions (a Java class's methods)


class TreeFile:
    """Top-level definitions of one parsed file, cut and shortened by the syntax tree.

    Everything is read from the tree once, here: the model keeps rows and names only, not the
    tree (a tree takes about 35 times the memory of its text)."""

    def __init__(self, text: str, lines: list[str], spec: Spec) -> None:
        self.lines = lines
        self.spec = spec
        parsed = parse(spec.grammar, text)
        # (start, end, names, end of the head: the row after the one opening the body)
        self._defs: list[tuple[int, int, tuple[str, ...], int]] = []
        self._bodies: list[tuple[int, int]] = []  # rows [a, b) inside bodies, elided when shortened
        self._by_name: Optional[dict[str, list[int]]] = None
        self._parents: Optional[list[Optional[int]]] = None
        self._tiers: dict[tuple[int, int], tuple[str, ...]] = {}  # renderings, reused for every set of names
        if parsed is not None:
            self._read(parsed)

    def _end_row(self, node) -> int:
        row, col = node.end_point
        return min(len(self.lines), row + 1 if col else max(row, node.start_point[0] + 1))

    def _read(self, parsed: Parsed) -> None:
        defs = []
        containers: set[tuple[int, int]] = set()  # bodies whose definitions are members: their own bodies elide
        stack = list(reversed(parsed.root.children))
        while stack:
            node = stack.pop()
            inner = self.spec.descend(node)
            if inner is not None:
                stack.extend(reversed(list(inner)))
                continue
            names = tuple(n for n in self.spec.names(node, parsed) if n)
            if names:
                start, end = node.start_point[0], self._end_row(node)
                body = node.child_by_field_name("body")
                if body is None and node.named_child_count:  # ``template <...>`` over a class, ``export`` over one
                    body = node.named_children[-1].child_by_field_name("body")
                defs.append((start, end, names, min(end, body.start_point[0] + 1) if body is not None else start + 1))
                if self.spec.members is not None:
                    members = list(self.spec.members(node) or ())
                    containers.update((m.parent.start_byte, m.parent.end_byte) for m in members if m.parent)
                    stack.extend(reversed(members))
        defs.sort(key=lambda d: (d[0], d[1]))
        self._defs = defs
        end = -1
        for body in _bodies(self.spec, parsed.root):  # outermost bodies only (a module's: those inside it)
            if body.start_byte < end or (body.start_byte, body.end_byte) in containers:
                continue
            end = body.end_byte
            a, b = body.start_point[0] + 1, body.end_point[0]
            if b > a:
                self._bodies.append((a, b))

    def definitions(self) -> list[tuple[int, int, tuple[str, ...], int]]:
        """(start, end, names, end of the head) of every definition, in file order."""
        return self._defs

    def defined(self) -> frozenset:
        return frozenset(n for d in self.definitions() for n in d[2])

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        if self._by_name is None:
            by_name: dict[str, list[int]] = {}
            for k, (_, _, found, _) in enumerate(self._defs):
                for n in found:
                    by_name.setdefault(n, []).append(k)
            self._by_name = by_name
        picked = {k for n in names for k in self._by_name.get(n, ())}
        heads: dict[int, tuple[int, int]] = {}
        for k in list(picked):  # the heads of the classes around it, all the way out
            parent = self._parent(k)
            while parent is not None and parent not in heads:
                if parent not in picked:
                    heads[parent] = self._head(parent)
                parent = self._parent(parent)
        picked = sorted(picked | set(heads))
        spans: list[tuple[int, int]] = []
        for k in picked:
            start, end, _, _ = self._defs[k]
            if k in heads:
                start, end = heads[k]
            while start > 0 and self.lines[start - 1].strip().startswith(_ATTACHED) \
                    and (not spans or start - 1 >= spans[-1][1]):
                start -= 1
            if spans and start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
                continue
            spans.append((start, end))
        return spans

    def _parent(self, k: int) -> Optional[int]:
        """The definition enclosing definition `k` (a Java method's class), if any: the nearest one
        before it (in start order) that ends no earlier and is not the same span."""
        if self._parents is None:
            # One pass with a stack of definitions whose ends do not increase (searching back from
            # each one took 2 s for a 4,000-declaration header: its signatures come with an #include).
            parents: list[Optional[int]] = []
            stack: list[int] = []
            for j, (start, end, _, _) in enumerate(self._defs):
                if j and self._defs[j - 1][:2] == (start, end):
                    parents.append(parents[-1])  # the same span: the same parent
                else:
                    while stack and self._defs[stack[-1]][1] < end:
                        stack.pop()
                    parents.append(stack[-1] if stack else None)
                stack.append(j)
            self._parents = parents
        return self._parents[k]

    def _head(self, k: int) -> tuple[int, int]:
        """Lines of definition `k` up to the one opening its body."""
        return self._defs[k][0], self._defs[k][3]

    def _elided(self, start: int, end: int) -> list[tuple[int, int]]:
        """Row ranges [a, b) inside the bodies within lines [start, end)."""
        lo = bisect.bisect_left(self._bodies, (start, -1))
        out = []
        for a, b in self._bodies[lo:]:
            if a >= end:
                break
            out.append((a, b))
        return out

    def render(self, start: int, end: int, summary: bool = False) -> str:
        if not summary and end - start <= MAX_WHOLE_LINES:
            return "\n".join(self.lines[start:end])
        out: list[str] = []
        k = start
        for a, b in self._elided(start, end):
            if b <= k or a >= end:
                continue
            a = max(a, k)
            out += self.lines[k:a]
            inner = next((line for line in self.lines[a:b] if line.strip()), "")
            out.append(inner[:len(inner) - len(inner.lstrip())] + "...")
            k = b
        out += self.lines[k:end]
        return "\n".join(out)

    def tiers(self, start: int, end: int) -> tuple[str, ...]:
        """Ever longer renderings of lines [start, end): the head (``type Command struct {`` ...
        ``}``), the outline (bodies elided), the whole text."""
        got = self._tiers.get((start, end))
        if got is None:
            out = [self._head_text(start, end), self.render(start, end, summary=True), self.render(start, end)]
            got = tuple(t for k, t in enumerate(out) if t and all(len(t) < len(u) for u in out[k + 1:] if u))
            self._tiers[(start, end)] = got
        return got

    def _head_text(self, start: int, end: int) -> str:
        """The lines up to the one opening the first definition's body, ``...`` and its closing line."""
        k = bisect.bisect_left(self._defs, (start,))
        if k >= len(self._defs) or self._defs[k][0] >= end or len(self._defs[k][2]) > 1:
            return ""  # a group (``const ( ... )``, an enum) is its names: no head
        head_end = self._defs[k][3]
        if head_end >= end - 1:
            return ""
        inner = next((line for line in self.lines[head_end:end - 1] if line.strip()), "")
        closing = self.lines[end - 1] if self.lines[end - 1].strip()[:1] in ("}", ")", "]") else ""
        return "\n".join(self.lines[start:head_end] + [inner[:len(inner) - len(inner.lstrip())] + "..."]
                         + ([closing] if closing else []))

    def outline(self) -> str:
        return self.render(0, len(self.lines), summary=True)


def _bodies(spec: Spec, root) -> list:
    """Every node of the spec's body types, in file order (a query: the walk runs in C)."""
    import tree_sitter

    query = _body_query(spec.grammar, tuple(sorted(spec.bodies)))
    found = tree_sitter.QueryCursor(query).captures(root).get("b", [])
    return sorted(found, key=lambda n: (n.start_byte, -n.end_byte))


@lru_cache(maxsize=None)
def _body_query(name: str, types: tuple[str, ...]):
    import tree_sitter

    return tree_sitter.Query(grammar(name), "[" + " ".join(f"({t})" for t in types) + "] @b")


def field_text(parsed: Parsed, node, name: str = "name") -> str:
    child = node.child_by_field_name(name)
    return parsed.text(child) if child is not None else ""


class BriefTreeFile(TreeFile):
    """A `TreeFile` of a language with ``//`` comments (Rust, Go) whose installed files' API (`fim.symbols.brief`)
    comes without them: a crate or module documents every item at length, with examples."""

    brief_attached = ("//",)  # comment lines above the other definitions a brief shows, left out

    def brief_tiers(self, start: int, end: int) -> tuple[str, ...]:
        """`tiers` of lines [start, end) without their ``//`` comment lines (``///`` docs too), but for the
        first line of the leading one: ``/// An automaton for searching multiple strings in linear time.``."""
        return tuple(dict.fromkeys(without_line_comments(t) for t in self.tiers(start, end)))


def without_line_comments(text: str, mark: str = "//") -> str:
    """`text` without its comment lines (those starting with `mark`), the first line of its leading comment kept."""
    out: list[str] = []
    first = ""
    for line in text.split("\n"):
        if line.lstrip().startswith(mark):
            if not out and not first:
                first = line
            continue
        if not out and first:
            out.append(first)
        out.append(line)
    return "\n".join(out)
