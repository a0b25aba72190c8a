"""PHP's imports and the files they name: ``use`` statements resolved by the PSR-4 autoload maps of
the workspace's composer.json files, else as PSR-4 lays classes out (``App\\Models\\User`` in
``.../Models/User.php`` under the folder a namespace prefix maps to), and the other files of a
class's namespace, which PHP sees without a ``use``. Definitions come from the brace model (`fim.languages.brace`)."""

from __future__ import annotations

import json
import posixpath
import re

from fim.languages.base import ImportRef, PathIndex, line_of

# ``use A\B\C;``, ``use A\B\C as D, E\F;``, ``use function A\b;``, ``use A\B\{C, D as E};``
_USE = re.compile(
    r"(?m)^[ \t]*use[ \t]+(?:(function|const)[ \t]+)?([\\\w]+\\?(?:\{[^}]*\})?(?:[ \t]+(?i:as)[ \t]+\w+)?"
    r"(?:[ \t]*,[^;]*)?)[ \t]*;")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\\[A-Za-z_]\w*)*")


def imports(text: str) -> list[ImportRef]:
    """The ``use`` statements at a file's top level (not a trait ``use`` inside a class body: those
    are indented under a brace), one reference per imported name; a function's or a constant's
    (``use function A\\b;``) module is marked ``function:A\\b`` / ``const:A\\B``."""
    refs: list[ImportRef] = []
    for m in _USE.finditer(text):
        if m.group(0)[:1] in " \t" and _inside_braces(text, m.start()):
            continue
        line = line_of(text, m.start())
        kind = m.group(1) + ":" if m.group(1) else ""
        body = m.group(2)
        group = re.match(r"([\\\w]*?)\\?\{([^}]*)\}", body)
        if group:
            prefix = group.group(1).strip("\\")
            parts = [f"{prefix}\\{p.strip()}" for p in group.group(2).split(",") if p.strip()]
        else:
            parts = [p.strip() for p in body.split(",") if p.strip()]
        for part in parts:
            name = _NAME.match(part.lstrip("\\"))
            if name is not None:
                module = name.group(0)
                refs.append(ImportRef(kind + module, (module.rpartition("\\")[2],), "php", line))
    return refs


def _inside_braces(text: str, offset: int) -> bool:
    """Whether `offset` is inside a ``{`` block (a class body) other than a braced namespace's
    (``namespace App { use ...; }``, the file's top level), counting braces outside strings and
    comments only roughly: enough for the top of a file, where ``use`` statements are."""
    code = re.sub(r"//[^\n]*|#[^\n]*|/\*[\s\S]*?\*/|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", "", text[:offset])
    blocks: list[bool] = []  # the open blocks: True for a namespace's
    for m in _BRACE.finditer(code):
        if m.group(0) == "}":
            if blocks:
                blocks.pop()
        else:
            blocks.append(m.group(0) != "{")
    return not all(blocks)


_BRACE = re.compile(r"(?m)^[ \t]*namespace\b[^;{}]*\{|[{}]")


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """The file of a class named by its namespace: where a composer.json's PSR-4 autoload puts it
    (``"Acme\\\\": "src/"``: ``Acme\\Cart`` in ``src/Cart.php``), else the longest tail of the name
    that is a path of the workspace (``App\\Models\\User``: ``App/Models/User.php``, else
    ``Models/User.php``). For a function or a constant (``use function Acme\\Util\\money;``), the files of its
    namespace's folder (those defining it are kept by the context), at most `MAX_NAMESPACE_FILES`."""
    kind, _, module = ref.module.rpartition(":")
    if kind:
        namespace = module.rpartition("\\")[0]
        folder = _folder(namespace, index) if namespace else None
        files = [p for p in index.by_dir.get(folder, ()) if p.endswith(".php")] if folder is not None else []
        return files[:MAX_NAMESPACE_FILES]
    for prefix, folder in _psr4(index):
        if ref.module.startswith(prefix + "\\") or not prefix:
            rest = ref.module[len(prefix):].strip("\\").replace("\\", "/")
            path = posixpath.join(folder, rest + ".php") if folder else rest + ".php"
            if path in index:
                return [path]
    parts = ref.module.split("\\")
    for start in range(len(parts) - 1 if len(parts) > 1 else 1):
        hits = index.with_suffix("/".join(parts[start:]) + ".php")
        if hits:
            return hits[:1]
    return []


MAX_NAMESPACE_FILES = 32


def _folder(namespace: str, index: PathIndex) -> str | None:
    """The folder of a namespace: where a PSR-4 map puts it, else the longest tail of its name that is a
    folder of the workspace."""
    for prefix, folder in _psr4(index):
        if namespace == prefix or namespace.startswith(prefix + "\\") or not prefix:
            rest = namespace[len(prefix):].strip("\\").replace("\\", "/")
            path = posixpath.normpath(posixpath.join(folder, rest)) if rest else folder
            if path in index.by_dir:
                return path
    parts = namespace.split("\\")
    for start in range(len(parts)):
        hits = index.dirs_with_suffix("/".join(parts[start:]))
        if hits:
            return hits[0]
    return None


def _psr4(index: PathIndex) -> list[tuple[str, str]]:
    """(namespace prefix, folder) of the ``autoload`` and ``autoload-dev`` PSR-4 maps of every
    composer.json in the workspace, longest prefix first."""
    key = ("php", "psr4")
    got = index.derived.get(key)
    if got is None:
        got = []
        for p in index.by_name.get("composer.json", ()):
            try:
                data = json.loads(index.config(p) or "null")
            except ValueError:
                continue
            for section in ("autoload", "autoload-dev"):
                table = data.get(section) if isinstance(data, dict) else None
                mapping = table.get("psr-4") if isinstance(table, dict) else None
                for prefix, dirs in mapping.items() if isinstance(mapping, dict) else ():
                    for d in [dirs] if isinstance(dirs, str) else dirs if isinstance(dirs, list) else ():
                        if isinstance(d, str):
                            folder = posixpath.normpath(posixpath.join(posixpath.dirname(p), d))
                            got.append((prefix.strip("\\"), "" if folder == "." else folder))
        got.sort(key=lambda t: -len(t[0]))
        index.derived[key] = got
    return got


def siblings(current: str, index: PathIndex) -> list[str]:
    """The other files of the folder: a PSR-4 namespace, whose classes need no ``use``."""
    return [p for p in index.by_dir.get(posixpath.dirname(current), ()) if p.endswith(".php") and p != current]
