"""Python: the installed class of the object whose member is being typed (``client.ge|`` after ``client =
httpx.Client()``), and that class's members. Pure.

`fim.member` brings what a module offers after its alias (``httpx.|``); an object's member is not a module's name.
`receiver_member_definitions` reads the receiver before the cursor (``name.`` or ``self.name.``) and infers its class
the way a reader would, from the document's own lines: the nearest assignment above the cursor in the enclosing
function (``resp = client.get(url)``, ``with httpx.Client() as client:``, ``pool: ConnectionPool = ...``), else the
function's parameter annotation (``def send(self, request: httpcore.Request)``), else a module-level assignment; for
``self.name`` an assignment anywhere in the enclosing class (``self._pool = httpcore.ConnectionPool(...)`` in its
``__init__``, ``self.x = x`` taking the parameter's annotation) or the class's own annotation. A value is a class's
call (an imported name, ``Client(``, ``httpx.Client(``, through installed submodules: `fim.pychains`), an installed
function's or method's call (its return annotation: ``client.get(`` -> ``-> Response`` read in the file defining
it), or another such name, at most MAX_HOPS steps; an annotation's ``Optional[X]``, ``X | None`` and ``"X"`` are
read as ``X``. Only installed classes count (a workspace class's members are the workspace's context), found as
`fim.dependencies` finds an imported name (re-exports followed). The members are those of the class's body
(methods, properties, fields, ``self.NAME =`` of its ``__init__``) then of its installed bases in order, a name
once (the nearest definition), the public ones unless the part typed starts with ``_``: those starting with the part
typed (else all), at most MAX_NAMES, `rank` choosing among more. Names come as ``Class.member`` of the file defining
them: `fim.languages.python` renders each with its class's signature.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Optional, Sequence

from fim.pychains import _base, aliases, walk
from fim.symbols import parsed

MAX_HOPS = 4  # assignments, calls and annotations followed to reach a class
MAX_BASES = 4  # base classes followed up from the receiver's class
MAX_SCAN = 600  # lines above the cursor searched for its scopes and assignments
# ``client.``, ``self._pool.``, ``resp.headers.`` then the part of the member typed
_RECEIVER = re.compile(r"(?<![\w.)\]'\"])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*){0,3})\.([A-Za-z_]\w*)?\Z")
_PROPERTY = ("@property", "@cached_property", "@functools.cached_property")
_DEF = re.compile(r"([ \t]*)(?:async[ \t]+)?def[ \t]+\w+")
_CLASS = re.compile(r"([ \t]*)class[ \t]+\w+")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*")
_WRAPPERS = re.compile(r"(?:typing\.|t\.)?(?:Optional|Annotated|Union|Final|ClassVar)\[(.*)\]\Z", re.S)
_NONE = frozenset({"None", "NoneType"})

ClassRef = tuple[str, str]  # (installed file, class name)


def receiver_member_definitions(document: str, lines: Sequence[str], cursor_line: int, column: int,
                                installed: Mapping[str, str],
                                rank: Optional[Callable[[Sequence[str], str, int], list[str]]] = None
                                ) -> Optional[tuple[str, dict[str, list[str]]]]:
    """(the part of the member typed, installed file -> its ``Class.member`` names offered) where the cursor is at a
    member of an object whose installed class the document shows; None elsewhere."""
    from fim.dependencies import MAX_NAMES

    m = _RECEIVER.search(lines[cursor_line][:column][-200:])
    if m is None:
        return None
    receiver, typed = m.group(1), m.group(2) or ""
    words = receiver.split(".")
    head = 2 if words[0] == "self" and len(words) > 1 else 1
    inference = _Inference(document, lines, installed)
    found = inference.variable(".".join(words[:head]), cursor_line, MAX_HOPS)
    for word in words[head:]:  # ``resp.headers.``: the class of each member in turn
        found = inference.member_value(found, word, False) if found is not None else None
    if found is None:
        return None
    members = class_members(found, installed)
    public = [(path, owner, n) for path, owner, n in members if typed.startswith("_") or not n.startswith("_")]
    chosen = [entry for entry in public if entry[2].startswith(typed)] or public
    if not chosen:
        return None
    by_name = {n: (path, owner) for path, owner, n in chosen}
    names = [n for _, _, n in chosen]
    names = rank(names, receiver.rpartition(".")[2], MAX_NAMES) if rank is not None else names[:MAX_NAMES]
    out: dict[str, list[str]] = {}
    for n in names:
        path, owner = by_name[n]
        out.setdefault(path, []).append(f"{owner}.{n}")
    return typed, out


def class_members(cls: ClassRef, installed: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(installed file, class, member) of each name the class `cls` and its installed bases define, the class's
    own first, a name once."""
    out: list[tuple[str, str, str]] = []
    seen: set[str] = set()
    for path, name in _lineage(cls, installed):
        model = parsed(installed[path], "python")
        for member, _, _ in model.members(name) if model is not None else ():
            if member not in seen:
                seen.add(member)
                out.append((path, name, member))
    return out


def _lineage(cls: ClassRef, installed: Mapping[str, str]) -> list[ClassRef]:
    """`cls` then its installed bases, breadth first, at most MAX_BASES levels up, each once."""
    order, level = [cls], [cls]
    for _ in range(MAX_BASES):
        nxt = []
        for path, name in level:
            model = parsed(installed[path], "python")
            for base in model.bases(name) if model is not None else ():
                found = _class_in(path, base, installed)
                if found is not None and found not in order:
                    order.append(found)
                    nxt.append(found)
        level = nxt
    return order


def _class_in(path: str, dotted: str, installed: Mapping[str, str]) -> Optional[ClassRef]:
    """The installed class the name `dotted` names in the installed file `path` (defined there or imported)."""
    found = _name_in(path, dotted, installed)
    return found if found is not None and _kind(found, installed) == "class" else None


def _name_in(path: str, dotted: str, installed: Mapping[str, str]) -> Optional[ClassRef]:
    """(installed file, name) defining what `dotted` names in the installed file `path`: a name it defines or
    imports (re-exports followed), ``module.Name`` through one of its imports."""
    from fim.dependencies import FOLLOW_DEPTH, _defining, _python_target
    from fim.imports import ImportRef
    from fim.pychains import _module_of

    words = dotted.split(".")
    if len(words) == 1:
        hits = _defining(path, dotted, "", installed, FOLLOW_DEPTH)
        return hits[0] if hits else None
    for alias, source, imported in aliases(installed[path]):
        if alias != words[0]:
            continue
        module = (source + imported if source.endswith(".") else f"{source}.{imported}") if imported else source
        target = _python_target(ImportRef(module, (), "python"), path, installed)
        reached, taken = walk(_module_of(target), tuple(words[1:-1]), installed) if target else ("", 0)
        return _module_name(reached, words[-1], installed) if target and taken == len(words) - 2 else None
    return None


def _module_name(module: str, name: str, installed: Mapping[str, str]) -> Optional[ClassRef]:
    """(installed file, name) defining `name` of the installed `module`."""
    from fim.dependencies import FOLLOW_DEPTH, _defining, _python_module

    entry = _python_module(module, installed)
    hits = _defining(entry, name, "", installed, FOLLOW_DEPTH) if entry is not None else []
    return hits[0] if hits else None


def _kind(found: ClassRef, installed: Mapping[str, str]) -> Optional[str]:
    """"class" or "def" for what the installed file defines as the name, else None (an assignment)."""
    path, name = found
    model = parsed(installed[path], "python")
    spans = model.find((name,)) if model is not None else []
    if not spans:
        return None
    m = re.match(r"(?:async[ \t]+)?(def|class)\b", model.signature(*spans[0]))
    return m.group(1) if m is not None else None


def annotation_name(text: str) -> Optional[str]:
    """The dotted class name an annotation stands for: ``Optional[X]``, ``X | None``, ``"X"``, ``X[int]``: X;
    None for anything else (``Union[X, Y]``, a literal)."""
    text = text.strip()
    for _ in range(4):
        text = text.strip().strip("\"'").strip()
        m = _WRAPPERS.match(text)
        if m is None:
            break
        parts = [p.strip() for p in _parts(m.group(1))]
        kept = [p for p in parts if p not in _NONE]
        if text.lstrip("t.yping").startswith(("Annotated", "Final", "ClassVar")):
            kept = parts[:1]
        if len(kept) != 1:
            return None
        text = kept[0]
    united = [p.strip() for p in _parts(text, "|") if p.strip() not in _NONE]
    if len(united) != 1:
        return None
    m = _DOTTED.match(united[0].strip("\"'"))
    return re.sub(r"[ \t]", "", m.group(0)) if m is not None else None


def _parts(text: str, separator: str = ",") -> list[str]:
    """`text` split at `separator` outside brackets."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return parts


class _Inference:
    """The document's names' installed classes, read from its lines (`receiver_member_definitions`)."""

    def __init__(self, document: str, lines: Sequence[str], installed: Mapping[str, str]) -> None:
        self.document = document
        self.lines = lines
        self.installed = installed

    def variable(self, name: str, line: int, hops: int) -> Optional[ClassRef]:
        """The class of `name` (``x`` or ``self.x``) as the code reads at `line`."""
        if hops <= 0:
            return None
        function, cls = self._scopes(line)
        if name == "self":
            return self._base_class(cls) if cls is not None else None
        if name.startswith("self."):
            return self._field(name[5:], cls, hops) if cls is not None else None
        if function is not None:
            for k in range(line - 1, function, -1):
                assigned, found = self._assigned(name, k, hops)
                if assigned:  # the nearest assignment, whatever it gives
                    return found
            annotation = self._parameters(function).get(name)
            if annotation:
                return self._annotated(annotation)
        for k in range(min(line, len(self.lines)) - 1, max(-1, line - 4 * MAX_SCAN), -1):
            if not self.lines[k][:1].isspace():
                assigned, found = self._assigned(name, k, hops)
                if assigned:
                    return found
        return None

    def _base_class(self, cls: int) -> Optional[ClassRef]:
        """The first installed class among the bases of the document's class at line `cls` (``class
        Net(nn.Module):``): what ``self.`` offers beside the class's own methods, which the document shows."""
        head = " ".join(self.lines[cls:cls + 8])
        m = re.match(r"[ \t]*class[ \t]+\w+[ \t]*(?:\[[^\]]*\][ \t]*)?\(", head)
        for part in _parts(_closed(head[m.end():])) if m is not None else ():
            word = _DOTTED.match(part.strip())
            if word is None or "=" in part:
                continue
            found = self._imported(re.sub(r"[ \t]", "", word.group(0)))
            if found is not None and _kind(found, self.installed) == "class":
                return found
        return None

    def _scopes(self, line: int) -> tuple[Optional[int], Optional[int]]:
        """(the line of the innermost def around `line`, the line of the class around that def)."""
        text = self.lines[line] if line < len(self.lines) else ""
        width = len(text) - len(text.lstrip()) if text.strip() else 10 ** 6
        function = cls = None
        for k in range(line - 1, max(-1, line - MAX_SCAN), -1):
            text = self.lines[k]
            stripped = text.lstrip()
            if not stripped or stripped.startswith(("#", ")", "]", "}")):  # (``) -> Response:`` ends a signature)
                continue
            indent = len(text) - len(stripped)
            if indent >= width:
                continue
            width = indent
            if _DEF.match(text):
                if cls is not None:
                    break
                function = k if function is None else function
            elif _CLASS.match(text):
                cls = k if function is not None else None
                break
            if indent == 0:
                break
        return function, cls

    def _assigned(self, name: str, k: int, hops: int) -> tuple[bool, Optional[ClassRef]]:
        """(whether line `k` assigns `name`, the class it gives: ``name = X(...)``, ``name: X = ...``, ``name: X``,
        ``with X(...) as name:``)."""
        text = self.lines[k]
        if name not in text or k and self.lines[k - 1].rstrip().endswith(("(", ",", "[", "{", "\\")):
            return False, None  # (a call's ``name=value,`` argument lines)
        word = re.escape(name)
        m = re.match(rf"[ \t]*{word}[ \t]*(?::(?P<ann>[^=\n]*))?(?:=(?!=)[ \t]*(?P<value>.*))?\Z", text)
        if m is not None and (m.group("ann") or m.group("value") is not None) \
                and not (m.group("value") or "").rstrip().endswith(","):
            if m.group("ann") and m.group("ann").strip():
                return True, self._annotated(m.group("ann"))
            return True, self._value(m.group("value") or "", k, hops)
        m = re.match(rf"[ \t]*(?:async[ \t]+)?with[ \t]+(?P<value>.+?)[ \t]+as[ \t]+{word}[ \t]*[:,)]", text)
        return (True, self._value(m.group("value"), k, hops)) if m is not None else (False, None)

    def _field(self, name: str, cls: int, hops: int) -> Optional[ClassRef]:
        """The class of ``self.name`` in the class at line `cls`: its first ``self.name = `` whose value reads as
        one, else the class body's ``name: X``."""
        head = self.lines[cls]
        indent = len(head) - len(head.lstrip())
        end = cls + 1
        while end < len(self.lines):
            text = self.lines[end]
            if text.strip() and not text.lstrip().startswith("#") and len(text) - len(text.lstrip()) <= indent:
                break
            end += 1
        word = re.escape(name)
        assigned = re.compile(rf"[ \t]*self\.{word}[ \t]*(?::(?P<ann>[^=\n]*))?=(?!=)[ \t]*(?P<value>.*)\Z")
        annotated = re.compile(rf"[ \t]*{word}[ \t]*:(?P<ann>[^=\n]+)(?P<value>)\Z")
        for k in range(cls + 1, min(end, cls + 4 * MAX_SCAN)):
            text = self.lines[k]
            if name not in text:
                continue
            m = assigned.match(text)
            if m is None:
                m = annotated.match(text)
                if m is None or len(text) - len(text.lstrip()) <= indent:
                    continue
            found = (self._annotated(m.group("ann")) if m.group("ann") and m.group("ann").strip()
                     else self._value(m.group("value"), k, hops))
            if found is not None:
                return found
        return None

    def _parameters(self, function: int) -> dict[str, str]:
        """Parameter -> its annotation for the def at line `function`."""
        text = " ".join(self.lines[function:function + 40])
        opened = text.find("(")
        if opened < 0:
            return {}
        out = {}
        for part in _parts(_closed(text[opened + 1:])):
            name, colon, annotation = part.partition(":")
            name = name.strip().lstrip("*")
            if colon and name.isidentifier():
                out[name] = _parts(annotation, "=")[0]
        return out

    def _annotated(self, annotation: str) -> Optional[ClassRef]:
        """The installed class an annotation names."""
        dotted = annotation_name(annotation)
        found = self._imported(dotted) if dotted is not None else None
        return found if found is not None and _kind(found, self.installed) == "class" else None

    def _value(self, value: str, k: int, hops: int) -> Optional[ClassRef]:
        """The class of the value `value` (on line `k`): an installed class's call, an installed function's or method's
        call (its return annotation), another name."""
        value = re.sub(r"^await[ \t]+", "", value.strip())
        m = _DOTTED.match(value)
        if m is None:
            return None
        dotted = re.sub(r"[ \t]", "", m.group(0))
        rest = value[m.end():].lstrip()
        call = rest.startswith("(")
        if call:
            rest = rest[len(_closed(rest[1:])) + 2:].lstrip() if _closed(rest[1:]) != rest[1:] else ""
        if rest and not rest.startswith(("#", ")", ",", ":")):
            return None  # ``x = a.b(c).d``, ``x = a + b``: not read
        words = dotted.split(".")
        head = ".".join(words[:2]) if words[0] == "self" else words[0]
        if len(words) > 1 and head != dotted and self._imported(dotted) is None:
            owner = self.variable(head, k, hops - 1)
            member = words[len(head.split(".")):]
            if owner is None or len(member) != 1:
                return None
            return self.member_value(owner, member[0], call)
        if not call:  # ``x = y``, ``x = self.y``
            return self.variable(dotted, k, hops - 1) if head == dotted else None
        found = self._imported(dotted)
        if found is None:
            return None
        kind = _kind(found, self.installed)
        if kind == "class":
            return found
        return _returned(found, self.installed) if kind == "def" else None

    def member_value(self, owner: ClassRef, member: str, call: bool) -> Optional[ClassRef]:
        """The class of ``owner().member`` (a property's return or a field's annotation, else the class a field is
        assigned a call of: ``self.headers = Headers(headers)``) or of ``owner().member(...)`` (its return)."""
        for path, cls in _lineage(owner, self.installed):
            model = parsed(self.installed[path], "python")
            span = next(((s, e) for n, s, e in model.members(cls) if n == member), None) if model is not None else None
            if span is None:
                continue
            signature = model.signature(*span)
            if re.match(r"(?:async[ \t]+)?def\b", signature):
                decorated = any(model.lines[k].strip().startswith(_PROPERTY) for k in range(span[0], span[1])
                                if model.lines[k].lstrip().startswith("@"))
                dotted = annotation_name(_return_annotation(signature)) if call or decorated else None
            else:
                m = re.match(rf"(?:self\.)?{member}[ \t]*(?::([^=]*))?(?:=[ \t]*([A-Za-z_][\w.]*)[ \t]*\()?",
                             signature)
                dotted = annotation_name(m.group(1)) if m is not None and m.group(1) else m.group(2) if m else None
            if dotted in ("Self", "typing.Self", cls):
                return path, cls
            return _class_in(path, dotted, self.installed) if dotted else None
        return None

    def _imported(self, dotted: str) -> Optional[ClassRef]:
        """(installed file, name) defining the imported name `dotted` of the document (``Client``, ``httpx.Client``,
        ``urllib3.poolmanager.PoolManager``), else None."""
        words = tuple(dotted.split("."))
        for alias, module, imported in sorted(aliases(self.document), key=lambda a: -len(a[0])):
            head = tuple(alias.split("."))
            if words[:len(head)] != head:
                continue
            if module.startswith("."):
                return None
            rest = words[len(head):]
            base = _base(module, imported, self.installed)
            if base is None:
                return _module_name(module, imported, self.installed) if imported and not rest else None
            reached, taken = walk(base, rest[:-1], self.installed)
            return _module_name(reached, rest[-1], self.installed) if rest and taken == len(rest) - 1 else None
        return None


def _returned(found: ClassRef, installed: Mapping[str, str]) -> Optional[ClassRef]:
    """The installed class the function `found` returns by its annotation."""
    path, name = found
    model = parsed(installed[path], "python")
    spans = model.find((name,)) if model is not None else []
    dotted = annotation_name(_return_annotation(model.signature(*spans[0]))) if spans else None
    return _class_in(path, dotted, installed) if dotted else None


def _return_annotation(signature: str) -> str:
    """The text after ``->`` of a def's one-line signature, "" without one."""
    opened = signature.find("(")
    if opened < 0:
        return ""
    after = signature[opened + 1 + len(_closed(signature[opened + 1:])) + 1:]
    m = re.match(r"\s*->(.*):[^:]*\Z", after, re.S)
    return m.group(1) if m is not None else ""


def _closed(text: str) -> str:
    """`text` up to the ``)`` closing the bracket opened before it (all of it where none does)."""
    depth = 0
    for k, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            if depth == 0:
                return text[:k]
            depth -= 1
    return text
