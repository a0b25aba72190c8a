"""Python: the installed class of the object whose member is being typed (``client.ge|`` after ``client =
httpx.Client()``), and that class's members. Pure.

`fim.member` brings what a module offers after its alias (``httpx.|``); an object's member is not a module's name.
`receiver_member_definitions` reads the receiver before the cursor (``name.``, ``self.name.``, with members, calls
and subscripts after it: ``completion.choices[0].message.``, ``httpx.get(url).``) and infers its class the way a
reader would, from the document's own lines: the nearest assignment above the cursor in the enclosing function
(``resp = client.get(url)``, ``with httpx.Client() as client:``, ``pool: ConnectionPool = ...``, ``for choice in
completion.choices:``, ``assert isinstance(item, Message)``) or an ``if isinstance(item, Message):`` (``elif``) whose
block holds the cursor, else the function's parameter annotation (``def send(self, request: httpcore.Request)``),
else a module-level assignment; for ``self.name`` an assignment anywhere in the enclosing class (``self._pool =
httpcore.ConnectionPool(...)`` in its ``__init__``, ``self.x = x`` taking the parameter's annotation) or the class's
own annotation. A value is a class's call (an imported name, ``Client(``, ``httpx.Client(``, through installed
submodules: `fim.pychains`), an installed function's or method's call (its return annotation: ``client.get(`` ->
``-> Response`` read in the file defining it), or another such name, at most MAX_HOPS steps, then its members, method
calls and subscripts in turn; an annotation's ``Optional[X]``, ``X | None`` and ``"X"`` are read as ``X``, its
``List[X]``, ``Sequence[X]``, ``Iterator[X]``, ``Tuple[X, ...]``... as a collection whose items (``xs[0]``, ``for x in
xs``, ``for k, x in enumerate(xs)``) are ``X``'s. Only installed classes count (a workspace class's members are the
workspace's context), found as `fim.dependencies` finds an imported name (re-exports followed). The members are those
of the class's body (methods, properties, fields, ``self.NAME =`` of its ``__init__``) then of its installed bases in
order, a name once (the nearest definition), the public ones unless the part typed starts with ``_``: those starting
with the part typed (else all), at most `limit`, `rank` choosing among more. Names come as ``Class.member`` of the
file defining them: `fim.languages.python` renders each with its class's signature.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, NamedTuple, Optional, Sequence, Union

from fim.pychains import _base, aliases, walk
from fim.popular import SHOWN
from fim.symbols import parsed

MAX_HOPS = 4  # assignments, calls and annotations followed to reach a class
MAX_BASES = 4  # base classes followed up from the receiver's class
MAX_SCAN = 600  # lines above the cursor searched for its scopes and assignments
MAX_STEPS = 8  # members, calls and subscripts of a receiver (``completion.choices[0].message``)
_PROPERTY = ("@property", "@cached_property", "@functools.cached_property")
_DEF = re.compile(r"([ \t]*)(?:async[ \t]+)?def[ \t]+\w+")
_CLASS = re.compile(r"([ \t]*)class[ \t]+\w+")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)*")
_WRAPPERS = re.compile(r"(?:typing\.|t\.)?(?:Optional|Annotated|Union|Final|ClassVar)\[(.*)\]\Z", re.S)
# collections whose items' class their first argument names (``List[Choice]``, ``Iterator[Chunk]``)
_COLLECTION = re.compile(r"(?:typing\.|t\.|collections\.abc\.|abc\.)?(List|list|Sequence|MutableSequence|Iterable|"
                         r"Iterator|AsyncIterable|AsyncIterator|Generator|AsyncGenerator|Collection|Set|set|FrozenSet|"
                         r"frozenset|AbstractSet|MutableSet|Deque|deque|Tuple|tuple)\[(.*)\]\Z", re.S)
_FOR = re.compile(r"[ \t]*(?:async[ \t]+)?for[ \t]+(?P<targets>[^=]+?)[ \t]+in[ \t]+(?P<value>.+?):?[ \t]*(?:#.*)?\Z")
_ENUMERATE = re.compile(r"enumerate[ \t]*\((?P<value>.*)\)\Z")
# ``if isinstance(item, Message):`` (``elif``, ``and ...``), ``assert isinstance(item, Message)``
_ISINSTANCE = r"isinstance\([ \t]*{name}[ \t]*,[ \t]*(?P<cls>[A-Za-z_][\w.]*)[ \t]*\)"
_IF_ISINSTANCE = r"[ \t]*(?:el)?if[ \t]+" + _ISINSTANCE + r"[ \t]*(?::|and\b)"
_ASSERT_ISINSTANCE = r"[ \t]*assert[ \t]+" + _ISINSTANCE + r"[ \t]*(?:[,#]|\Z)"
_NONE = frozenset({"None", "NoneType"})

ClassRef = tuple[str, str]  # (installed file, class name)


class Many(NamedTuple):
    """A collection of objects of the class `of` (``List[Choice]``): ``for`` gives one, so does ``[i]``."""
    of: ClassRef


Typed = Union[ClassRef, Many]


def receiver_member_definitions(document: str, lines: Sequence[str], cursor_line: int, column: int,
                                installed: Mapping[str, str],
                                rank: Optional[Callable[[Sequence[str], str, int], list[str]]] = None,
                                limit: int = SHOWN) -> Optional[tuple[str, dict[str, list[str]]]]:
    """(the part of the member typed, installed file -> its ``Class.member`` names offered) where the cursor is at a
    member of an object whose installed class the document shows; None elsewhere."""

    found_receiver = receiver_at(lines[cursor_line][:column][-200:])
    if found_receiver is None:
        return None
    receiver, typed = found_receiver
    found = _Inference(document, lines, installed).value(receiver, cursor_line, MAX_HOPS)
    if found is None or isinstance(found, Many):
        return None
    members = class_members(found, installed)
    public = [(path, owner, n) for path, owner, n in members if typed.startswith("_") or not n.startswith("_")]
    chosen = [entry for entry in public if entry[2].startswith(typed)] or public
    if not chosen:
        return None
    by_name = {n: (path, owner) for path, owner, n in chosen}
    names = [n for _, _, n in chosen]
    qualifier = receiver.rpartition(".")[2] if re.search(r"\w\Z", receiver) else ""  # (``f(x).``: none)
    names = rank(names, qualifier, limit) if rank is not None else names[:limit]
    out: dict[str, list[str]] = {}
    for n in names:
        path, owner = by_name[n]
        out.setdefault(path, []).append(f"{owner}.{n}")
    return typed, out


def receiver_at(text: str) -> Optional[tuple[str, str]]:
    """(the receiver, the part of the member typed) where `text` (a line up to the cursor) ends in a member being
    typed: ``client.ge`` -> ("client", "ge"); ``completion.choices[0].message.`` -> ("completion.choices[0].message",
    ""); ``self._client.get(url).js`` -> ("self._client.get(url)", "js"); None elsewhere."""
    m = re.search(r"\.[ \t]*([A-Za-z_]\w*)?\Z", text)
    if m is None:
        return None
    end = start = m.start()
    for _ in range(MAX_STEPS):
        while start and text[start - 1] in "])":  # a call's arguments, a subscript
            opened = _opening(text, start - 1)
            if opened is None:
                return None
            start = opened
        word = re.search(r"[A-Za-z_]\w*[ \t]*\Z", text[:start])
        if word is None:
            return None
        start = word.start()
        if start and text[start - 1] == ".":
            start -= 1
            continue
        if start and (text[start - 1].isalnum() or text[start - 1] in "_)]'\""):
            return None
        return text[start:end].strip(), m.group(1) or ""
    return None


def _opening(text: str, close: int) -> Optional[int]:
    """The index of the bracket `text[close]` closes, None where the line does not open it."""
    depth = 0
    for k in range(close, -1, -1):
        if text[k] in ")]}":
            depth += 1
        elif text[k] in "([{":
            depth -= 1
            if depth == 0:
                return k
    return None


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


def annotation_type(text: str) -> Optional[tuple[str, bool]]:
    """(the dotted class name an annotation stands for, whether it stands for a collection of its objects):
    ``Optional[X]``, ``X | None``, ``"X"``, ``X[int]``: (X, False); ``List[X]``, ``Iterator[X]``, ``Tuple[X, ...]``:
    (X, True); None for anything else (``Union[X, Y]``, ``List[List[X]]``, a literal)."""
    text = text.strip()
    many = False
    for _ in range(6):
        text = text.strip().strip("\"'").strip()
        m = _WRAPPERS.match(text)
        collection = _COLLECTION.match(text) if m is None else None
        if collection is not None and not many:
            parts = [p.strip() for p in _parts(collection.group(2))]
            if collection.group(1) in ("Tuple", "tuple") and parts[1:] != ["..."]:
                return None
            text, many = parts[0], True
            continue
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
    if len(united[0]) != len(text) and (_WRAPPERS.match(united[0]) or _COLLECTION.match(united[0])):
        return annotation_type(united[0]) if not many else None  # ``List[X] | None``
    m = _DOTTED.match(united[0].strip("\"'"))
    if m is None or many and _COLLECTION.match(united[0].strip("\"'")):
        return None
    return re.sub(r"[ \t]", "", m.group(0)), many


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

    def variable(self, name: str, line: int, hops: int) -> Optional[Typed]:
        """The class (or collection) of `name` (``x`` or ``self.x``) as the code reads at `line`."""
        if hops <= 0:
            return None
        function, cls = self._scopes(line)
        if name == "self":
            return self._base_class(cls) if cls is not None else None
        if name.startswith("self."):
            return self._field(name[5:], cls, hops) if cls is not None else None
        if function is not None:
            text = self.lines[line] if line < len(self.lines) else ""
            width = len(text) - len(text.lstrip()) if text.strip() else 10 ** 6
            narrowing = re.compile(_IF_ISINSTANCE.format(name=re.escape(name)))
            for k in range(line - 1, function, -1):
                text = self.lines[k]
                indent = len(text) - len(text.lstrip())
                if indent < width and text.strip() and not text.lstrip().startswith("#"):
                    width = indent  # a block around the cursor opens here
                    m = narrowing.match(text)
                    if m is not None:  # ``if isinstance(name, X):`` around the cursor
                        return self._annotated(m.group("cls"))
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

    def _assigned(self, name: str, k: int, hops: int) -> tuple[bool, Optional[Typed]]:
        """(whether line `k` assigns `name`, the class it gives: ``name = X(...)``, ``name: X = ...``, ``name: X``,
        ``with X(...) as name:``, ``for name in xs:`` an item of a collection, ``assert isinstance(name, X)``)."""
        text = self.lines[k]
        if name not in text or k and self.lines[k - 1].rstrip().endswith(("(", ",", "[", "{", "\\")):
            return False, None  # (a call's ``name=value,`` argument lines)
        word = re.escape(name)
        m = re.match(rf"[ \t]*{word}[ \t]*(?::(?P<ann>[^=\n]*))?(?:=(?!=)[ \t]*(?P<value>.*))?\Z", text)
        if m is not None and (m.group("ann") or m.group("value") is not None) \
                and not (m.group("value") or "").rstrip().endswith(","):
            if m.group("ann") and m.group("ann").strip():
                return True, self._annotated(m.group("ann"))
            return True, self.value(m.group("value") or "", k, hops)
        m = re.match(rf"[ \t]*(?:async[ \t]+)?with[ \t]+(?P<value>.+?)[ \t]+as[ \t]+{word}[ \t]*[:,)]", text)
        if m is not None:
            return True, self.value(m.group("value"), k, hops)
        m = re.match(_ASSERT_ISINSTANCE.format(name=word), text)
        if m is not None:
            return True, self._annotated(m.group("cls"))
        m = _FOR.match(text)
        targets = [t.strip() for t in _parts(m.group("targets").strip().strip("()"))] if m is not None else []
        if name not in targets:
            return False, None
        value = m.group("value")
        enumerated = _ENUMERATE.match(value.strip())
        if enumerated is not None and targets.index(name) == 1 and len(targets) == 2:
            value = enumerated.group("value")  # ``for k, x in enumerate(xs):``
        elif len(targets) != 1:
            return True, None
        found = self.value(value, k, hops)
        return True, found.of if isinstance(found, Many) else None

    def _field(self, name: str, cls: int, hops: int) -> Optional[Typed]:
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
                     else self.value(m.group("value"), k, hops))
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

    def _annotated(self, annotation: str) -> Optional[Typed]:
        """The installed class (or collection) an annotation names."""
        found = annotation_type(annotation)
        cls = self._imported(found[0]) if found is not None else None
        if cls is None or _kind(cls, self.installed) != "class":
            return None
        return Many(cls) if found[1] else cls

    def value(self, value: str, k: int, hops: int) -> Optional[Typed]:
        """The class (or collection) of the expression `value` (on line `k`): a name (``x``, ``self.x``), an
        installed class's call, an installed function's call (its return annotation), then members, method calls
        and subscripts in turn (``client.get(url).headers``, ``completion.choices[0]``)."""
        value = re.sub(r"^await[ \t]+", "", value.strip())
        m = _DOTTED.match(value)
        if m is None:
            return None
        words = re.sub(r"[ \t]", "", m.group(0)).split(".")
        steps = _steps(value[m.end():])
        if steps is None:
            return None  # ``x = a + b``: not read
        head = 2 if words[0] == "self" and len(words) > 1 else 1
        dotted = ".".join(words)
        imported = self._imported(dotted) if steps[:1] == ["()"] and (len(words) > head or len(words) == 1) else None
        if imported is not None:  # ``httpx.Client(...)``, ``Client(...)``, ``httpx.get(...)``
            kind = _kind(imported, self.installed)
            found = imported if kind == "class" else _returned(imported, self.installed) if kind == "def" else None
            steps = steps[1:]
        elif not steps and len(words) == head:  # ``x = y``, ``x = self.y``
            return self.variable(dotted, k, hops - 1)
        else:
            found = self.variable(".".join(words[:head]), k, hops - 1)
            steps = [f".{w}" for w in words[head:]] + steps
        for n, step in enumerate(steps):
            if found is None:
                return None
            if step in ("[]", "[:]"):  # an item of a collection, a slice of it
                found = (found.of if step == "[]" else found) if isinstance(found, Many) else None
            elif step.startswith(".") and not isinstance(found, Many):
                found = self.member_value(found, step[1:], steps[n + 1:n + 2] == ["()"])
            elif step != "()" or not steps[n - 1:n] or not steps[n - 1].startswith("."):
                return None  # ``x()()``, a collection's member
        return found

    def member_value(self, owner: ClassRef, member: str, call: bool) -> Optional[Typed]:
        """The class (or collection) of ``owner().member`` (a property's return or a field's annotation, else the
        class a field is assigned a call of: ``self.headers = Headers(headers)``) or of ``owner().member(...)`` (its
        return)."""
        for path, cls in _lineage(owner, self.installed):
            model = parsed(self.installed[path], "python")
            span = next(((s, e) for n, s, e in model.members(cls) if n == member), None) if model is not None else None
            if span is None:
                continue
            signature = model.signature(*span)
            if re.match(r"(?:async[ \t]+)?def\b", signature):
                decorated = any(model.lines[k].strip().startswith(_PROPERTY) for k in range(span[0], span[1])
                                if model.lines[k].lstrip().startswith("@"))
                found = annotation_type(_return_annotation(signature)) if call or decorated else None
            else:
                m = re.match(rf"(?:self\.)?{member}[ \t]*(?::([^=]*))?(?:=[ \t]*([A-Za-z_][\w.]*)[ \t]*\()?",
                             signature)
                found = annotation_type(m.group(1)) if m is not None and m.group(1) else \
                    (m.group(2), False) if m is not None and m.group(2) else None
            if found is None:
                return None
            dotted, many = found
            cls_found = (path, cls) if dotted in ("Self", "typing.Self", cls) else _class_in(path, dotted,
                                                                                              self.installed)
            return Many(cls_found) if many and cls_found is not None else cls_found
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


def _returned(found: ClassRef, installed: Mapping[str, str]) -> Optional[Typed]:
    """The installed class (or collection) the function `found` returns by its annotation."""
    path, name = found
    model = parsed(installed[path], "python")
    spans = model.find((name,)) if model is not None else []
    annotation = annotation_type(_return_annotation(model.signature(*spans[0]))) if spans else None
    cls = _class_in(path, annotation[0], installed) if annotation is not None else None
    return Many(cls) if cls is not None and annotation[1] else cls


def _steps(text: str) -> Optional[list[str]]:
    """The members, calls and subscripts after a name (``.get(url).headers['a'][1:]`` -> [".get", "()", ".headers",
    "[]", "[:]"]), None where `text` is anything else (a comment or a closing bracket may end it)."""
    steps: list[str] = []
    text = text.lstrip()
    while text and not text.startswith(("#", ")", ",", ":")):
        if text[0] in "([":
            inside = _closed(text[1:])
            if inside == text[1:]:  # ``await client.post(`` with its arguments on the lines after
                return steps + ["()"] if text[0] == "(" else None
            steps.append("()" if text[0] == "(" else "[:]" if len(_parts(inside, ":")) > 1 else "[]")
            text = text[len(inside) + 2:].lstrip()
            continue
        m = re.match(r"\.[ \t]*([A-Za-z_]\w*)", text)
        if m is None:
            return None
        steps.append("." + m.group(1))
        text = text[m.end():].lstrip()
    return steps


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
