"""Find what a file imports and which workspace files those imports name. Pure: text in, paths out.

`imported_modules` reads import statements with regular expressions (and Python's `ast` when the
file parses), so it works on the half-typed code an editor holds. `resolve` maps one import to the
workspace-relative paths (POSIX separators) it refers to, looking only at `known_paths`, so
standard-library and third-party imports simply resolve to nothing.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Collection, Iterable, Optional

_EXTENSIONS = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".tsx": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".scala": "scala",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp", ".cu": "cpp", ".cuh": "cpp",
    ".cs": "csharp", ".rb": "ruby", ".php": "php", ".swift": "swift", ".lua": "lua", ".dart": "dart",
    ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".fish": "shell",
    ".json": "json", ".jsonc": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".properties": "properties", ".env": "env",
    ".md": "markdown", ".rst": "rst", ".txt": "text", ".html": "html", ".htm": "html", ".css": "css",
    ".scss": "css", ".sql": "sql", ".xml": "xml", ".vue": "vue", ".svelte": "svelte",
}
_NAMES = {"makefile": "make", "dockerfile": "dockerfile", "cmakelists.txt": "cmake", ".bashrc": "shell",
          ".zshrc": "shell", ".profile": "shell", ".env": "env"}

JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")


def language_of(path: str) -> str:
    """A language name from a file's path ("python", "typescript", "cpp", ...; "text" if unknown)."""
    name = posixpath.basename(path.replace("\\", "/")).lower()
    if name in _NAMES:
        return _NAMES[name]
    if name.startswith(".env"):
        return "env"
    dot = name.rfind(".")
    if dot < 0:
        return "text"
    return _EXTENSIONS.get(name[dot:], "text")


def same_family(a: str, b: str) -> bool:
    """Languages whose files make useful context for each other (JS and TS, C and C++)."""
    families = ({"javascript", "typescript"}, {"c", "cpp"}, {"java", "kotlin", "scala"})
    return a == b or any(a in f and b in f for f in families)


@dataclass(frozen=True)
class ImportRef:
    """One import statement's target.

    `module` is spelled as in the source: "pkg.mod", ".sibling" (Python, leading dots give the
    level), "./util" (JS/TS), "github.com/x/y/pkg" (Go), "crate::a::b" or "mod:name" for
    ``mod name;`` (Rust), "a.b.C" or "a.b.*" (Java), "dir/x.h" (C/C++). `names` are the symbols
    the statement (or, for module imports, the file's ``alias.name`` uses) brings in.
    """

    module: str
    names: tuple[str, ...] = ()
    language: str = ""
    line: int = 0  # zero-based line of the statement
    system: bool = False  # C/C++ ``#include <...>``


# ------------------------------------------------------------------------------------- parsing

def imported_modules(text: str, language: str) -> list[ImportRef]:
    """The imports of `text` in source order; duplicates merged (names united)."""
    parser = _PARSERS.get(language)
    if parser is None:
        return []
    refs = parser(text)
    merged: dict[tuple[str, bool], ImportRef] = {}
    for ref in refs:
        key = (ref.module, ref.system)
        old = merged.get(key)
        if old is None:
            merged[key] = ref
        else:
            names = old.names + tuple(n for n in ref.names if n not in old.names)
            merged[key] = ImportRef(old.module, names, old.language, old.line, old.system)
    return list(merged.values())


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset)


def _uses(text: str, aliases: Iterable[str], name: str = r"[A-Za-z_$][\w$]*") -> dict[str, tuple[str, ...]]:
    """For each alias, the names used as ``alias.name`` in `text`, in order of first use (one pass)."""
    aliases = sorted({a for a in aliases if a}, key=len, reverse=True)
    found: dict[str, dict[str, None]] = {a: {} for a in aliases}
    if aliases:
        # No look-behind in the pattern: a pattern starting with literal words lets the engine skip
        # ahead to them (ten times faster on a big file); the character before is checked here.
        pattern = re.compile(r"(" + "|".join(map(re.escape, aliases)) + r")\.(" + name + ")")
        for m in pattern.finditer(text):
            at = m.start()
            if at and (text[at - 1].isalnum() or text[at - 1] in "_.$"):
                continue
            seen = found[m.group(1)]
            if len(seen) < 32:
                seen.setdefault(m.group(2), None)
    return {a: tuple(v) for a, v in found.items()}


def _python(text: str) -> list[ImportRef]:
    """Python imports by regular expressions: fast, and fine with half-typed code."""
    pending: list[tuple[str, Optional[str], tuple[str, ...], int]] = []  # module, alias, names, offset
    for m in _PY_IMPORT.finditer(text):
        for part in m.group(1).split(","):
            words = part.split()
            if not words or not re.fullmatch(r"[A-Za-z_][\w.]*", words[0]):
                continue
            alias = words[2] if len(words) >= 3 and words[1] == "as" else words[0]
            pending.append((words[0], alias, (), m.start()))
    for m in _PY_FROM.finditer(text):
        module = m.group(1)
        if not module or module.strip(".") and not re.fullmatch(r"\.*[A-Za-z_][\w.]*", module):
            continue
        body = m.group(2)
        if "#" in body:  # comments inside a parenthesised list: ``import (  # noqa: F401``
            body = re.sub(r"#[^\n]*", "", body)
        body = body.replace("\\\n", " ").strip().strip("()")
        names = []
        for part in body.split(","):
            words = part.split()
            if words and re.fullmatch(r"[A-Za-z_]\w*", words[0]):
                names.append(words[0])
        pending.append((module, None, tuple(names), m.start()))
    uses = _uses(text, (alias for _, alias, _, _ in pending if alias), r"[A-Za-z_]\w*")
    refs = [ImportRef(module, uses[alias] if alias else names, "python", _line_of(text, offset))
            for module, alias, names, offset in pending]
    refs.sort(key=lambda r: r.line)
    return refs


_PY_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+([\w., \t]+)")
_PY_FROM = re.compile(r"(?m)^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|(?:[^\n#;\\]|\\\n)*)")


_JS_FROM = re.compile(
    r"(?m)^[ \t]*(?:import|export)\b(?P<clause>[^;'\"`]{0,2000}?)\bfrom[ \t\n]*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)")
_JS_BARE = re.compile(r"(?m)^[ \t]*import[ \t]*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)")
_JS_REQUIRE = re.compile(
    r"(?:(?:const|let|var)[ \t]+(?P<lhs>\{[^}]{0,500}\}|[A-Za-z_$][\w$]*)[ \t]*=[ \t]*)?"
    r"\b(?:require|import)[ \t]*\([ \t]*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)[ \t]*\)")


def _js_clause_names(clause: str, text: str) -> tuple[str, ...]:
    clause = clause.strip()
    if clause.startswith("type "):
        clause = clause[5:]
    names: list[str] = []
    brace = re.search(r"\{([^}]*)\}", clause)
    if brace:
        for part in brace.group(1).split(","):
            words = part.replace("type ", " ").split()
            if words and re.fullmatch(r"[A-Za-z_$][\w$]*", words[0]) and words[0] != "default":
                names.append(words[0])
        clause = clause[:brace.start()] + clause[brace.end():]
    star = re.search(r"\*\s*as\s+([A-Za-z_$][\w$]*)", clause)
    if star:
        names.extend(_uses(text, [star.group(1)])[star.group(1)])
        clause = clause[:star.start()] + clause[star.end():]
    default = re.match(r"\s*([A-Za-z_$][\w$]*)\s*(?:,|$)", clause)
    if default and default.group(1) not in ("type", "typeof"):
        names.append("default")
        names.append(default.group(1))
    return tuple(dict.fromkeys(names))


def _javascript(text: str) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for m in _JS_FROM.finditer(text):
        refs.append(ImportRef(m.group("spec"), _js_clause_names(m.group("clause"), text), "javascript",
                              _line_of(text, m.start())))
    for m in _JS_BARE.finditer(text):
        refs.append(ImportRef(m.group("spec"), (), "javascript", _line_of(text, m.start())))
    for m in _JS_REQUIRE.finditer(text):
        lhs = m.group("lhs") or ""
        if lhs.startswith("{"):
            names = tuple(w.split(":")[0].strip() for w in lhs.strip("{}").split(",") if w.strip())
        elif lhs:
            names = _uses(text, [lhs])[lhs]
        else:
            names = ()
        refs.append(ImportRef(m.group("spec"), names, "javascript", _line_of(text, m.start())))
    refs.sort(key=lambda r: r.line)
    return refs


_GO_SINGLE = re.compile(r"(?m)^[ \t]*import[ \t]+(?:(?P<alias>[\w.]+)[ \t]+)?\"(?P<path>[^\"\n]+)\"")
_GO_BLOCK = re.compile(r"(?m)^[ \t]*import[ \t]*\((?P<body>[^)]*)\)")
_GO_SPEC = re.compile(r"(?m)^[ \t]*(?:(?P<alias>[\w.]+)[ \t]+)?\"(?P<path>[^\"\n]+)\"")


def _go(text: str) -> list[ImportRef]:
    pending: list[tuple[str, str, int]] = []  # package name used in code, import path, offset

    def add(alias: Optional[str], path: str, offset: int) -> None:
        name = alias or path.rstrip("/").rsplit("/", 1)[-1]
        if re.fullmatch(r"v\d+", name) and "/" in path:  # major-version suffix: pkg/v2
            name = path.rstrip("/").rsplit("/", 2)[-2]
        pending.append((name.replace("-", "_").replace(".", "_") if name != "." else ".", path, offset))

    for m in _GO_SINGLE.finditer(text):
        add(m.group("alias"), m.group("path"), m.start())
    for block in _GO_BLOCK.finditer(text):
        for m in _GO_SPEC.finditer(block.group("body")):
            add(m.group("alias"), m.group("path"), block.start("body") + m.start())
    uses = _uses(text, (n for n, _, _ in pending if n not in ("_", ".")), r"[A-Z]\w*")
    refs = [ImportRef(path, uses.get(name, ()), "go", _line_of(text, offset)) for name, path, offset in pending]
    refs.sort(key=lambda r: r.line)
    return refs


_RUST_MOD = re.compile(r"(?m)^[ \t]*(?:pub(?:\([^)\n]*\))?[ \t]+)?mod[ \t]+([A-Za-z_]\w*)[ \t]*;")
_RUST_USE = re.compile(r"(?m)^[ \t]*(?:pub(?:\([^)\n]*\))?[ \t]+)?use[ \t]+([^;]{1,2000});")


def _rust_use_paths(tree: str, prefix: str = "") -> Iterable[tuple[str, tuple[str, ...]]]:
    """Expand ``a::{b, c::{d}}`` into (module path, names) pairs."""
    tree = " ".join(tree.split())
    brace = tree.find("{")
    if brace < 0:
        path = (prefix + tree).split(" as ")[0].strip()
        head, _, last = path.rpartition("::")
        if last == "*":
            yield head, ()
        elif last == "self":
            yield head, ()
        else:
            yield path, (last,) if last else ()
        return
    head = prefix + tree[:brace]
    depth, start, items = 0, brace + 1, []
    for i in range(brace, len(tree)):
        c = tree[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append(tree[start:i])
                break
        elif c == "," and depth == 1:
            items.append(tree[start:i])
            start = i + 1
    simple: list[str] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        if "{" in item or "::" in item:
            yield from _rust_use_paths(item, head)
        elif item == "self":
            continue
        elif item != "*":
            simple.append(item.split(" as ")[0].strip())
    if head.endswith("::"):
        yield head[:-2], tuple(simple)


def _rust(text: str) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for m in _RUST_MOD.finditer(text):
        refs.append(ImportRef("mod:" + m.group(1), (), "rust", _line_of(text, m.start())))
    for m in _RUST_USE.finditer(text):
        for path, names in _rust_use_paths(m.group(1)):
            if path:
                refs.append(ImportRef(path, names, "rust", _line_of(text, m.start())))
    refs.sort(key=lambda r: r.line)
    return refs


_JAVA_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+(static[ \t]+)?(\w+(?:\.\w+)*(?:\.\*)?)[ \t]*;?")


def _java(text: str) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for m in _JAVA_IMPORT.finditer(text):
        path = m.group(2)
        if m.group(1):  # import static a.b.C.member
            cls, _, member = path.rpartition(".")
            refs.append(ImportRef(cls, () if member == "*" else (member,), "java", _line_of(text, m.start())))
        elif path.endswith(".*"):
            refs.append(ImportRef(path, (), "java", _line_of(text, m.start())))
        else:
            refs.append(ImportRef(path, (path.rsplit(".", 1)[-1],), "java", _line_of(text, m.start())))
    return refs


_C_INCLUDE = re.compile(r"(?m)^[ \t]*#[ \t]*(?:include|import)[ \t]*(?:\"([^\"\n]+)\"|<([^>\n]+)>)")


def _c(text: str) -> list[ImportRef]:
    refs = []
    for m in _C_INCLUDE.finditer(text):
        if m.group(1):
            refs.append(ImportRef(m.group(1), (), "c", _line_of(text, m.start())))
        else:
            refs.append(ImportRef(m.group(2), (), "c", _line_of(text, m.start()), system=True))
    return refs


_PARSERS = {
    "python": _python, "javascript": _javascript, "typescript": _javascript, "vue": _javascript,
    "svelte": _javascript, "go": _go, "rust": _rust, "java": _java, "kotlin": _java, "scala": _java,
    "c": _c, "cpp": _c,
}


# ----------------------------------------------------------------------------------- resolution

class PathIndex:
    """Lookups over a set of workspace paths: by full path, by basename and by directory.

    Build one with `path_index` to share it across many `resolve` calls; it is a Collection.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = frozenset(paths)
        self.resolved: dict[tuple[ImportRef, str], list[str]] = {}  # memo of `resolve` over these paths
        self.by_name: dict[str, list[str]] = {}
        self.by_dir: dict[str, list[str]] = {}
        for p in sorted(self.paths):
            d, _, n = p.rpartition("/")
            self.by_name.setdefault(n, []).append(p)
            self.by_dir.setdefault(d, []).append(p)

    def __contains__(self, path: object) -> bool:
        return path in self.paths

    def __iter__(self):
        return iter(self.paths)

    def __len__(self) -> int:
        return len(self.paths)

    def with_suffix(self, suffix: str) -> list[str]:
        """Paths equal to `suffix` or ending with "/suffix", shortest first."""
        name = suffix.rpartition("/")[2]
        found = [p for p in self.by_name.get(name, ()) if p == suffix or p.endswith("/" + suffix)]
        return sorted(found, key=lambda p: (p.count("/"), p))

    def dirs_with_suffix(self, suffix: str) -> list[str]:
        return sorted((d for d in self.by_dir if d == suffix or d.endswith("/" + suffix)),
                      key=lambda d: (d.count("/"), d))


def path_index(known_paths: Iterable[str]) -> PathIndex:
    """Prebuild the lookup tables for many `resolve` calls over the same paths."""
    return known_paths if isinstance(known_paths, PathIndex) else PathIndex(known_paths)


RESOLVED_MEMO = 4096  # resolutions remembered per PathIndex


def _join(base: str, rel: str) -> Optional[str]:
    joined = posixpath.normpath(posixpath.join(base, rel)) if base else posixpath.normpath(rel)
    if joined.startswith("../") or joined == "..":
        return None
    return "" if joined == "." else joined


def _first(index: PathIndex, candidates: Iterable[Optional[str]]) -> list[str]:
    for c in candidates:
        if c and c in index.paths:
            return [c]
    return []


def resolve(ref: ImportRef, current_relpath: str, known_paths: Collection[str]) -> list[str]:
    """Workspace paths that `ref` (imported from `current_relpath`) names; [] when none is known."""
    index = path_index(known_paths)
    current = current_relpath.replace("\\", "/")
    known = index.resolved.get((ref, current))
    if known is not None:
        return list(known)
    resolver = _RESOLVERS.get(ref.language or language_of(current))
    found = [p for p in dict.fromkeys(resolver(ref, current, index)) if p != current] if resolver else []
    if len(index.resolved) >= RESOLVED_MEMO:
        index.resolved.clear()
    index.resolved[(ref, current)] = found
    return list(found)


def _resolve_python(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    module = ref.module
    level = len(module) - len(module.lstrip("."))
    parts = [p for p in module[level:].split(".") if p]
    here = posixpath.dirname(current)
    found: list[str] = []

    def module_files(base: str, parts: list[str]) -> list[str]:
        stem = "/".join([base] + parts if base else parts)
        if not parts:
            return _first(index, [stem + "/__init__.py" if stem else "__init__.py"])
        return _first(index, [stem + ".py", stem + ".pyi", stem + "/__init__.py", stem + "/__init__.pyi"])

    def with_submodules(base: str) -> list[str]:
        files = module_files(base, parts)
        for name in ref.names:  # from pkg import submodule
            files += module_files(base, parts + [name])
        return files

    if level:
        base: Optional[str] = here
        for _ in range(level - 1):
            base = posixpath.dirname(base) if base else None
            if base is None:
                return []
        return with_submodules(base or "")
    if not parts:
        return []
    # Absolute import: the current directory (scripts, implicit sibling imports), the workspace
    # root, then any source root (src/, lib/, a/b/...) where the dotted path matches a suffix.
    found = with_submodules(here) if here else []
    if not found:
        found = with_submodules("")
    if not found:
        for suffix in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py", "/".join(parts) + ".pyi"):
            hits = index.with_suffix(suffix)
            if hits:
                base = hits[0][: len(hits[0]) - len(suffix)].rstrip("/")
                found = with_submodules(base)
                break
    return found


def _resolve_js(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    spec = ref.module.split("?")[0]
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        bases = [_join(posixpath.dirname(current), spec)]
    elif spec.startswith(("@/", "~/")):
        bases = [_join("src", spec[2:]), _join("", spec[2:])]
    elif spec.startswith("/"):
        bases = [_join("", spec[1:])]
    else:
        return []
    for base in bases:
        if base is None:
            continue
        candidates = [base]
        stem, ext = posixpath.splitext(base)
        if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TS sources imported by their compiled name
            candidates += [stem + e for e in (".ts", ".tsx", ".mts", ".cts")]
        candidates += [base + e for e in JS_EXTENSIONS + (".d.ts", ".vue", ".svelte", ".json")]
        candidates += [posixpath.join(base, "index" + e) for e in JS_EXTENSIONS]
        hit = _first(index, candidates)
        if hit:
            return hit
    return []


_GO_STDLIB = frozenset(
    "archive bufio bytes cmp compress container context crypto database debug embed encoding errors "
    "expvar flag fmt go hash html image index internal io iter log maps math mime net os path plugin "
    "reflect regexp runtime slices sort strconv strings sync syscall testing text time unicode unique "
    "unsafe weak C".split())


def _resolve_go(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    parts = [p for p in ref.module.strip("/").split("/") if p]
    if not parts or "." not in parts[0] and parts[0] in _GO_STDLIB:
        return []
    # The longest suffix of the import path that is a workspace directory holding .go files.
    for start in range(len(parts)):
        for d in index.dirs_with_suffix("/".join(parts[start:])):
            files = [p for p in index.by_dir[d] if p.endswith(".go") and not p.endswith("_test.go")]
            if files:
                return files
    return []


def _rust_module_dir(current: str) -> str:
    """The directory holding the child modules of the module in `current`."""
    d, _, name = current.rpartition("/")
    if name in ("lib.rs", "main.rs", "mod.rs"):
        return d
    return posixpath.join(d, name[:-3]) if name.endswith(".rs") else d


def _rust_crate_root(current: str) -> str:
    parts = current.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "src":
            return "/".join(parts[: i + 1])
    return posixpath.dirname(current)


def _resolve_rust(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    if ref.module.startswith("mod:"):
        name = ref.module[4:]
        base = _rust_module_dir(current)
        return _first(index, [posixpath.join(base, name + ".rs"), posixpath.join(base, name, "mod.rs")])
    segments = [s for s in ref.module.split("::") if s]
    if not segments:
        return []
    head = segments[0]
    if head == "crate":
        base, rest = _rust_crate_root(current), segments[1:]
    elif head in ("self", "super"):
        base = _rust_module_dir(current)
        rest = segments[1:]
        if head == "super":
            base = posixpath.dirname(base)
        while rest and rest[0] == "super":
            base, rest = posixpath.dirname(base), rest[1:]
    else:  # 2018 paths: a sibling module or a crate-root module; external crates do not resolve
        for base in (_rust_module_dir(current), _rust_crate_root(current)):
            hit = _rust_walk(index, base, segments)
            if hit:
                return hit
        return []
    return _rust_walk(index, base, rest)


def _rust_walk(index: PathIndex, base: str, segments: list[str]) -> list[str]:
    # The longest prefix of the path that is a module file; later segments are items in it.
    for n in range(len(segments), 0, -1):
        stem = posixpath.join(base, *segments[:n])
        hit = _first(index, [stem + ".rs", stem + "/mod.rs"])
        if hit:
            return hit
    # Items of the module `base` itself (``use super::Thing``, ``use crate::Thing``).
    return _first(index, [base + ".rs", posixpath.join(base, "mod.rs"), posixpath.join(base, "lib.rs"),
                          posixpath.join(base, "main.rs")])


def _resolve_java(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    module = ref.module
    exts = (".java", ".kt", ".scala")
    if module.endswith(".*"):
        for d in index.dirs_with_suffix(module[:-2].replace(".", "/")):
            files = [p for p in index.by_dir[d] if p.endswith(exts)]
            if files:
                return files
        return []
    parts = module.split(".")
    # a.b.C, or a.b.C.Inner: the longest prefix that is a file.
    for n in range(len(parts), max(0, len(parts) - 2), -1):
        for ext in exts:
            hits = index.with_suffix("/".join(parts[:n]) + ext)
            if hits:
                return hits[:1]
    return []


def _resolve_c(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    inc = ref.module
    if not ref.system:
        local = _join(posixpath.dirname(current), inc)
        if local and local in index.paths:
            return [local]
    hits = index.with_suffix(inc.lstrip("./")) if not inc.startswith("../") else []
    if hits:
        return hits[:1]
    if ref.system:
        return []
    by_name = index.by_name.get(posixpath.basename(inc), [])
    return sorted(by_name, key=lambda p: (p.count("/"), p))[:1]


_RESOLVERS = {
    "python": _resolve_python, "javascript": _resolve_js, "typescript": _resolve_js, "vue": _resolve_js,
    "svelte": _resolve_js, "go": _resolve_go, "rust": _resolve_rust, "java": _resolve_java,
    "kotlin": _resolve_java, "scala": _resolve_java, "c": _resolve_c, "cpp": _resolve_c,
}
