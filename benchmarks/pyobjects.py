"""Python tasks of `benchmarks.dependency_context`: members of objects of installed classes (``resp.status_code``
after ``resp = conn.urlopen(...)``), their ground truth read with Python's `ast`.

`object_member_tasks` walks each function of the project's library files in order: an object's class is an
installed class called (``x = httpcore.ConnectionPool(...)``, ``with X(...) as x``), an installed function's or
method's return annotation (``resp = self._pool.handle_request(req)``: ``-> Response``), a parameter's annotation
(``Optional[X]``, ``"X"``), or for ``self.x`` the value of a ``self.x = ...`` in any method of the class (a parameter
given there counts by its annotation), or an item of a collection of a class's objects: ``for x in xs``, ``for k, x
in enumerate(xs)``, ``xs[0]``, where an annotation says ``List[X]``, ``Sequence[X]``, ``Iterator[X]``, ``Tuple[X,
...]``..., or an installed class by ``isinstance``: in the body of an ``if isinstance(x, X):`` (``elif``) until ``x``
is assigned, after an ``assert isinstance(x, X)``. Installed names are followed through the modules that import them
(``httpcore.Response`` -> ``httpcore/_models.py``, ``from ._models import *``), the standard library never. A use
``x.member`` (``self.x.member``; ``x.a.member``, ``x.a(...).member``, ``x.a[0].member`` through the members' classes:
a property's or a method's return annotation, a field's annotation or the class it is assigned a call of) on one line
whose member the class defines in its body (a method, a property, a field, a ``self.member =`` of its ``__init__``)
or one of its installed bases does is a task, the cursor at the member, the definition that statement's line (a
decorated one's ``def`` line); one a line.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Union

MAX_FOLLOW = 4  # modules a re-exported name is followed through, bases a class is followed up
ClassInfo = tuple[str, ast.ClassDef, str]  # (site-packages key, the class, its module)
# collections whose items' class their annotation's first argument names (``List[Choice]``, ``Iterator[Chunk]``)
COLLECTIONS = frozenset({"List", "list", "Sequence", "MutableSequence", "Iterable", "Iterator", "AsyncIterable",
                         "AsyncIterator", "Generator", "AsyncGenerator", "Collection", "Set", "set", "FrozenSet",
                         "frozenset", "AbstractSet", "MutableSet", "Deque", "deque", "Tuple", "tuple"})


@dataclass(frozen=True)
class Many:
    """A collection of objects of the class `of` (iterated by ``for``, indexed by ``[i]``)."""
    of: ClassInfo


Typed = Union[ClassInfo, Many]


class Installed:
    """The classes of a site-packages folder, read with `ast` (each file once)."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.stdlib = frozenset(getattr(sys, "stdlib_module_names", ()))
        self._trees: dict[Path, Optional[tuple[ast.Module, list[str]]]] = {}

    def module_file(self, module: str) -> Optional[Path]:
        """The file of the installed `module` (a package's ``__init__``), its ``.pyi`` before its ``.py``."""
        parts = module.split(".")
        if not all(p.isidentifier() for p in parts) or parts[0] in self.stdlib:
            return None
        base = self.site.joinpath(*parts)
        for candidate in (base.with_name(base.name + ".pyi"), base / "__init__.pyi", base.with_name(base.name + ".py"),
                          base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def parsed(self, path: Path) -> Optional[tuple[ast.Module, list[str]]]:
        if path not in self._trees:
            try:
                text = path.read_text(encoding="utf-8")
                self._trees[path] = (ast.parse(text), text.split("\n"))
            except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
                self._trees[path] = None
        return self._trees[path]

    def key(self, path: Path) -> str:
        return "site-packages/" + path.relative_to(self.site).as_posix()

    def namespace(self, path: Path, module: str) -> dict[str, str]:
        """Name -> the absolute dotted name it stands for in the installed module `module` (file `path`): its
        imports and its own top-level classes."""
        got = self.parsed(path)
        if got is None:
            return {}
        package = module if path.stem == "__init__" else module.rpartition(".")[0]
        out = {}
        for node in got[0].body:
            if isinstance(node, ast.ClassDef):
                out[node.name] = f"{module}.{node.name}"
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(max(0, node.level - 1)):
                    base = base.rpartition(".")[0]
                source = ".".join(p for p in ((base if node.level else ""), node.module or "") if p)
                for a in node.names:
                    if a.name == "*":  # ``from ._models import *``: "*0", "*1"... -> the module
                        out[f"*{len(out)}"] = source
                    else:
                        out[a.asname or a.name] = f"{source}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    out[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        return out

    def find_class(self, dotted: str) -> Optional[ClassInfo]:
        """The installed class the absolute `dotted` name is, its re-exports followed."""
        found = self.definition(dotted)
        return found if found is not None and isinstance(found[1], ast.ClassDef) else None

    def definition(self, dotted: str, depth: int = MAX_FOLLOW) -> Optional[tuple[str, ast.AST, str]]:
        """(key, the top-level class or def, its module) the absolute `dotted` name is, its re-exports followed
        (``from ._models import Response``, ``from ._models import *``)."""
        parts = dotted.split(".")
        for k in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:k])
            path = self.module_file(module)
            if path is None:
                continue
            got = self.parsed(path)
            if got is None or k != len(parts) - 1:
                return None
            name = parts[-1]
            found = next((n for n in got[0].body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                          and n.name == name), None)
            if found is not None:
                return self.key(path), found, module
            if depth <= 0:
                return None
            names = self.namespace(path, module)
            target = names.get(name)
            if target:
                return self.definition(target, depth - 1) if target != dotted else None
            for key, star in names.items():
                found = self.definition(f"{star}.{name}", depth - 1) if key.startswith("*") else None
                if found is not None:
                    return found
            return None
        return None

    def lineage(self, info: ClassInfo) -> list[ClassInfo]:
        """The class, then its installed bases, breadth first."""
        order, level = [info], [info]
        for _ in range(MAX_FOLLOW):
            nxt = []
            for key, node, module in level:
                names = self.namespace(self.site / key.removeprefix("site-packages/"), module)
                for base in node.bases:
                    dotted = _dotted(base)
                    head, _, rest = dotted.partition(".") if dotted else ("", "", "")
                    target = names.get(head)
                    found = self.find_class(f"{target}.{rest}" if rest else target) if target else None
                    if found is not None and all(found[1] is not o[1] for o in order):
                        order.append(found)
                        nxt.append(found)
            level = nxt
        return order

    def member(self, info: ClassInfo, name: str) -> Optional[tuple[str, int, ast.AST, ClassInfo]]:
        """(key, zero-based line, the statement, the class defining it) of member `name` of the class `info`."""
        for owner in self.lineage(info):
            key, node, _ = owner
            for statement in node.body:
                if _defines(statement, name):
                    return key, _line(statement), statement, owner
            init = next((s for s in node.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"), None)
            for statement in ast.walk(init) if init is not None else ():
                if isinstance(statement, (ast.Assign, ast.AnnAssign)) and any(
                        isinstance(t, ast.Attribute) and t.attr == name and isinstance(t.value, ast.Name)
                        and t.value.id == "self" for t in _targets(statement)):
                    return key, statement.lineno - 1, statement, owner
        return None

    def annotated(self, annotation: Optional[ast.AST], names: dict[str, str]) -> Optional[Typed]:
        """The installed class an annotation names (``Optional[X]``, ``X | None``, ``"X"``), or a collection of its
        objects (``List[X]``), `names` the module's."""
        dotted, many = _annotation(annotation)
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        target = names.get(head)
        found = self.find_class(f"{target}.{rest}" if rest else target) if target else None
        return Many(found) if many and found is not None else found

    def returned(self, info: ClassInfo, method: str) -> Optional[Typed]:
        """The installed class (or collection) the method `method` of the class `info` returns by its annotation."""
        found = self.member(info, method)
        if found is None or not isinstance(found[2], (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        key, _, statement, owner = found
        return self._own(statement.returns, key, owner)

    def member_type(self, info: ClassInfo, name: str) -> Optional[Typed]:
        """The installed class (or collection) of ``obj.name`` for an object of the class `info`: a property's return
        annotation, a field's annotation, else the class a field is assigned a call of (``self.headers =
        Headers(headers)``)."""
        found = self.member(info, name)
        if found is None:
            return None
        key, _, statement, owner = found
        names = self.namespace(self.site / key.removeprefix("site-packages/"), owner[2])
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            properties = ("property", "cached_property", "functools.cached_property")
            if not any(_dotted(d) in properties for d in statement.decorator_list):
                return None
            return self._own(statement.returns, key, owner)
        if isinstance(statement, ast.AnnAssign):
            return self._own(statement.annotation, key, owner)
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            dotted = _dotted(statement.value.func)
            head, _, rest = dotted.partition(".")
            target = names.get(head) if dotted else None
            return self.find_class(f"{target}.{rest}" if rest else target) if target else None
        return None

    def _own(self, annotation: Optional[ast.AST], key: str, owner: ClassInfo) -> Optional[Typed]:
        """What an annotation in the class `owner` (of the file `key`) names: ``Self`` and the class's own name
        the class itself."""
        dotted, many = _annotation(annotation)
        if dotted in ("Self", owner[1].name):
            return Many(owner) if many else owner
        return self.annotated(annotation, self.namespace(self.site / key.removeprefix("site-packages/"), owner[2]))

    def function_returns(self, dotted: str) -> Optional[Typed]:
        """The installed class (or collection) an installed module-level function returns by its annotation."""
        found = self.definition(dotted)
        if found is None or isinstance(found[1], ast.ClassDef):
            return None
        key, function, module = found
        return self.annotated(function.returns, self.namespace(self.site / key.removeprefix("site-packages/"), module))


def object_member_tasks(name: str, project, site: Path) -> list:
    """The uses of members of installed classes' objects in the project's Python library files (the module's
    docstring), package ``NAME (objects)``, style ``object-member``."""
    from benchmarks.dependency_context import hole_task
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    installed = Installed(site)
    tasks = []
    for path, text, tree in library_trees(project):
        bound = bound_names(tree)
        lines = lsp_lines(text)
        seen: set[int] = set()
        reader = _Reader(installed, bound)
        for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]:
            reader.fields_of(cls)
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            for node, info in reader.uses(function):
                line = node.lineno - 1
                if line in seen or node.lineno != node.end_lineno:
                    continue
                found = installed.member(info, node.attr)
                if found is None:
                    continue
                key, target_line, _, owner = found
                target_text = installed.parsed(site / key.removeprefix("site-packages/"))[1][target_line].rstrip("\r")
                body = lines[line].encode("utf-8")
                column = len(body[:node.end_col_offset].decode("utf-8", "replace")) - len(node.attr)
                definition = Definition(key, target_line, target_text, node.attr, owner[2])
                tasks.append(hole_task(f"{name} (objects)", path, lines, line, column, node.attr, definition,
                                       "object-member", "python"))
                seen.add(line)
    return tasks


class _Reader:
    """The installed classes of a project file's objects: its classes' ``self.`` fields, each function's names."""

    def __init__(self, installed: Installed, bound: dict[str, str]) -> None:
        self.installed = installed
        self.bound = bound
        self.fields: dict[int, dict[str, Typed]] = {}  # id(the function) -> self.x -> class, for its class's

    def fields_of(self, cls: ast.ClassDef) -> None:
        fields: dict[str, Typed] = {}
        methods = [n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for method in methods:
            scope = _Scope(self._parameters(method), {}, [])
            for statement in ast.walk(method):
                for target in _targets(statement) if isinstance(statement, (ast.Assign, ast.AnnAssign)) else ():
                    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                            and target.value.id == "self" and target.attr not in fields:
                        found = (self.installed.annotated(statement.annotation, self.bound)
                                 if isinstance(statement, ast.AnnAssign) else None)
                        found = found or self._type(statement.value, 1 << 30, scope)
                        if found is not None:
                            fields[target.attr] = found
        for method in methods:
            self.fields[id(method)] = fields

    def _parameters(self, function) -> dict[str, Typed]:
        out = {}
        arguments = function.args
        for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs:
            found = self.installed.annotated(a.annotation, self.bound)
            if found is not None:
                out[a.arg] = found
        return out

    def uses(self, function) -> list[tuple[ast.Attribute, ClassInfo]]:
        """(``x.member`` node, x's class) of each member use on an object of an installed class in `function`'s
        own body (not its nested functions'), each name's class as the last assignment before the use gives it: an
        object ``x``, ``self.x``, ``x.a``, ``x.a(...)``, ``x.items[0]`` or a ``for`` target over a collection."""
        scope = _Scope(self._parameters(function), self.fields.get(id(function), {}), [])
        nodes = list(_own_nodes(function))
        for node in nodes:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                for target in _targets(node):
                    if isinstance(target, ast.Name):
                        found = (self.installed.annotated(node.annotation, self.bound)
                                 if isinstance(node, ast.AnnAssign) else None)
                        at = node.end_lineno or node.lineno
                        scope.assigned.append((at, target.id, found or self._type(node.value, at, scope)))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name):
                        at = item.context_expr.end_lineno or node.lineno
                        scope.assigned.append((at, item.optional_vars.id, self._type(item.context_expr, at, scope)))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                at = node.iter.end_lineno or node.lineno
                items = node.iter
                target = node.target
                if isinstance(items, ast.Call) and _dotted(items.func) == "enumerate" and len(items.args) == 1 \
                        and isinstance(target, ast.Tuple) and len(target.elts) == 2:
                    items, target = items.args[0], target.elts[1]  # ``for k, x in enumerate(xs):``
                collection = self._type(items, at, scope)
                element = collection.of if isinstance(collection, Many) else None
                scope.assigned.append((at, target.id, element) if isinstance(target, ast.Name) else (at, "", None))
                for name in [n.id for n in ast.walk(node.target) if isinstance(n, ast.Name) and n is not target]:
                    scope.assigned.append((at, name, None))
            elif isinstance(node, ast.NamedExpr):
                for name in [n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)]:
                    scope.assigned.append((node.lineno, name, None))
            elif isinstance(node, ast.If) and node.body:  # ``if isinstance(x, X):``: x is an X in its body
                checked = self._isinstance(node.test)
                if checked is not None:
                    body_end = node.body[-1].end_lineno or node.lineno
                    scope.narrowed.append((node.test.end_lineno or node.lineno, body_end, *checked))
            elif isinstance(node, ast.Assert):  # ``assert isinstance(x, X)``: from there on
                checked = self._isinstance(node.test)
                if checked is not None:
                    scope.assigned.append((node.end_lineno or node.lineno, *checked))
        scope.assigned.sort(key=lambda a: a[0])
        out = []
        for node in nodes:
            if not isinstance(node, ast.Attribute) or not isinstance(node.ctx, ast.Load):
                continue
            info = self._type(node.value, node.lineno, scope)
            if info is not None and not isinstance(info, Many):
                out.append((node, info))
        return out

    def _isinstance(self, test: ast.AST) -> Optional[tuple[str, ClassInfo]]:
        """(name, class) of an ``isinstance(name, X)`` test whose X is an installed class the module imports."""
        if not (isinstance(test, ast.Call) and _dotted(test.func) == "isinstance" and len(test.args) == 2
                and isinstance(test.args[0], ast.Name)):
            return None
        dotted = _dotted(test.args[1])
        head, _, rest = dotted.partition(".")
        target = self.bound.get(head) if dotted else None
        found = self.installed.find_class(f"{target}.{rest}" if rest else target) if target else None
        return (test.args[0].id, found) if found is not None else None

    def _type(self, value: Optional[ast.AST], line: int, scope: "_Scope") -> Optional[Typed]:
        """The class (or collection) of an expression at `line`: a name (a parameter, the last assignment before
        `line`), ``self.x`` (a field), ``x.a`` (a member's class), an installed class's call, an installed
        function's or method's call (its return annotation), ``x[i]`` of a collection."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Name):
            before = [(at, c) for at, n, c in scope.assigned if n == value.id and at < line]
            narrowed = [(at, c) for at, end, n, c in scope.narrowed if n == value.id and at < line <= end]
            inner = max(narrowed, key=lambda a: a[0]) if narrowed else None
            if inner is not None and (not before or inner[0] >= before[-1][0]):
                return inner[1]  # the innermost ``if isinstance``, no assignment since
            return before[-1][1] if before else scope.params.get(value.id)
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
            return scope.fields.get(value.attr)
        if isinstance(value, ast.Attribute):  # ``resp.headers``: the member's class
            owner = self._type(value.value, line, scope)
            return self.installed.member_type(owner, value.attr) if _one(owner) else None
        if isinstance(value, ast.Subscript) and not isinstance(value.slice, ast.Slice):  # ``resp.choices[0]``
            collection = self._type(value.value, line, scope)
            return collection.of if isinstance(collection, Many) else None
        if isinstance(value, ast.Call):
            dotted = _dotted(value.func)
            head, _, rest = dotted.partition(".")
            if dotted and head in self.bound:
                target = f"{self.bound[head]}.{rest}" if rest else self.bound[head]
                found = self.installed.definition(target)
                if found is None or isinstance(found[1], ast.ClassDef):
                    return found
                return self.installed.function_returns(target)
            if isinstance(value.func, ast.Attribute):
                owner = self._type(value.func.value, line, scope)
                return self.installed.returned(owner, value.func.attr) if _one(owner) else None
        return None


@dataclass
class _Scope:
    """What a function's names are: its parameters', its class's fields', (line, name, class) of each assignment,
    and (first line, last line, name, class) of each ``if isinstance(name, X):`` block."""
    params: dict[str, Typed]
    fields: dict[str, Typed]
    assigned: list[tuple[int, str, Optional[Typed]]]
    narrowed: list[tuple[int, int, str, ClassInfo]] = field(default_factory=list)


def _one(found: Optional[Typed]) -> bool:
    """Whether `found` is an object's class (not None, not a collection)."""
    return found is not None and not isinstance(found, Many)


def _own_nodes(function) -> list[ast.AST]:
    """The nodes of `function`'s body, its nested functions' and classes' left out, in source order."""
    out = []
    stack = list(reversed(function.body))
    while stack:
        node = stack.pop()
        out.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return sorted(out, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))


def library_trees(project) -> Iterator[tuple[str, str, ast.Module]]:
    """(path, text, its `ast`) of each Python library file of the project that parses."""
    from benchmarks import languages

    files = project.index.snapshot()
    for path in sorted(files):
        if path.endswith(".py") and languages.is_library(path):
            try:
                yield path, files[path], ast.parse(files[path])
            except (SyntaxError, ValueError):
                continue


def bound_names(tree: ast.Module) -> dict[str, str]:
    """Name -> absolute dotted name of a project file's absolute imports (``import numpy as np``: numpy, ``from torch
    import nn``: torch.nn)."""
    bound = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                bound[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                bound[a.asname or a.name] = f"{node.module}.{a.name}"
    return bound


def _targets(statement) -> list[ast.AST]:
    return list(statement.targets) if isinstance(statement, ast.Assign) else [statement.target]


def _defines(statement: ast.AST, name: str) -> bool:
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return statement.name == name
    if isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return any(isinstance(t, ast.Name) and t.id == name for t in _targets(statement))
    return False


def _line(statement: ast.AST) -> int:
    return statement.lineno - 1  # a decorated def's ``def`` line


def _dotted(node: Optional[ast.AST]) -> str:
    """``a.b.c`` of a Name or an Attribute chain over one, else ""."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    return ".".join([node.id, *parts]) if isinstance(node, ast.Name) else ""


def _annotation(node: Optional[ast.AST]) -> tuple[str, bool]:
    """(the dotted class name of an annotation, whether it annotates a collection of its objects): ``Optional[X]``,
    ``Union[X, None]``, ``X | None``, ``"X"``: X; ``List[X]``, ``Sequence[X]``, ``Tuple[X, ...]``: X, True."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return "", False
    if isinstance(node, ast.Subscript) and _dotted(node.value).rpartition(".")[2] in ("Optional", "Union"):
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        kept = [e for e in inner if not (isinstance(e, ast.Constant) and e.value is None)]
        return _annotation(kept[0]) if len(kept) == 1 else ("", False)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        kept = [e for e in (node.left, node.right) if not (isinstance(e, ast.Constant) and e.value is None)]
        return _annotation(kept[0]) if len(kept) == 1 else ("", False)
    if isinstance(node, ast.Subscript) and _dotted(node.value).rpartition(".")[2] in COLLECTIONS:
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        tuple_ = _dotted(node.value).rpartition(".")[2] in ("Tuple", "tuple")
        if tuple_ and not (len(inner) == 2 and isinstance(inner[1], ast.Constant) and inner[1].value is Ellipsis):
            return "", False
        dotted, many = _annotation(inner[0]) if inner else ("", False)
        return (dotted, True) if dotted and not many else ("", False)
    return _dotted(node), False
