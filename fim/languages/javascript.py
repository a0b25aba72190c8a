"""JavaScript, TypeScript, JSX and TSX (and the script block of Vue and Svelte files): imports,
re-exports, ``require`` and dynamic ``import()`` and definitions by tree-sitter; resolution of
relative paths (``index`` files, ``./x.js`` -> ``x.ts``), tsconfig/jsconfig ``baseUrl`` and
``paths``, and the workspace's own packages through their package.json ``exports`` (`subpath_targets`, shared with
the installed packages: a subpath's own key, else the pattern with the longest part before ``*``; a null target
excludes the subpath); an import no file resolves, through the modules the workspace's declaration files declare
(``declare module "my-untyped-lib" { ... }`` in a ``.d.ts`` without imports or exports: `learn`). The declarations
inside a ``declare module "fs" { ... }`` block are definitions (@types/node's built-ins), under the block's head;
an installed package's are shown without their comments but the first line of the leading one (`ScriptFile`), and a
dotted name (``window.showInformationMessage``) is that nested member's lines under the heads enclosing it
(`fim.namespaces.member_spans`)."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import replace
from functools import lru_cache
from typing import Any, Mapping, Optional

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex, file_facts, join, uses
from fim.languages.treesitter import Spec, TreeFile, field_text, grammar, parse, string_content

EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_COMPILED = (".js", ".jsx", ".mjs", ".cjs")
_SOURCE_OF = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_CALLS = "(call_expression function: [(identifier) (import)] @f arguments: (arguments . (string) @s))"


@lru_cache(maxsize=None)
def _calls_query(name: str):
    import tree_sitter

    return tree_sitter.Query(grammar(name), _CALLS)


def _clause_names(parsed, clause, text: str) -> tuple[str, ...]:
    names: list[str] = []
    for child in clause.named_children:
        if child.type == "identifier":  # default import
            names += ["default", parsed.text(child)]
        elif child.type == "named_imports":
            for spec in child.named_children:
                if spec.type == "import_specifier":
                    name = field_text(parsed, spec)
                    if name and name != "default":
                        names.append(name)
        elif child.type == "namespace_import":
            alias = parsed.text(child.named_children[-1]) if child.named_children else ""
            if alias:
                names += uses(text, [alias])[alias]
    return tuple(dict.fromkeys(names))


def _imports(text: str, name: str, offset: int = 0) -> list[ImportRef]:
    parsed = parse(name, text)
    if parsed is None:
        return []
    refs: list[ImportRef] = []
    for node in parsed.root.children:
        source = node.child_by_field_name("source")
        if node.type not in ("import_statement", "export_statement") or source is None:
            continue
        spec = string_content(parsed, source)
        line = node.start_point[0] + offset
        if node.type == "import_statement":
            clause = next((c for c in node.named_children if c.type == "import_clause"), None)
            refs.append(ImportRef(spec, _clause_names(parsed, clause, text) if clause else (), "javascript", line))
            continue
        clause = next((c for c in node.named_children if c.type == "export_clause"), None)
        if clause is not None:  # export { a, b as c } from './x'
            names = tuple(field_text(parsed, s) for s in clause.named_children if s.type == "export_specifier")
            refs.append(ImportRef(spec, names, "javascript", line))
        else:  # export * from './x', export * as ns from './x'
            refs.append(ImportRef(spec, (), "javascript", line, star=True))
    for node, captures in _query_matches(name, parsed.root):
        function, string = captures["f"][0], captures["s"][0]
        if function.type == "identifier" and parsed.text(function) != "require":
            continue
        spec = string_content(parsed, string)
        names: tuple[str, ...] = ()
        declarator = node.parent
        if declarator is not None and declarator.type == "await_expression":
            declarator = declarator.parent
        if declarator is not None and declarator.type == "variable_declarator":
            target = declarator.child_by_field_name("name")
            if target is not None and target.type == "identifier":
                alias = parsed.text(target)
                names = uses(text, [alias])[alias]
            elif target is not None and target.type == "object_pattern":
                found = []
                for prop in target.named_children:
                    key = prop.child_by_field_name("key") if prop.type == "pair_pattern" else prop
                    if key is not None and key.type in ("shorthand_property_identifier_pattern", "property_identifier"):
                        found.append(parsed.text(key))
                names = tuple(found)
        refs.append(ImportRef(spec, names, "javascript", node.start_point[0] + offset))
    refs.sort(key=lambda r: r.line)
    return refs


def _query_matches(name: str, root):
    import tree_sitter

    for _, captures in tree_sitter.QueryCursor(_calls_query(name)).matches(root):
        yield captures["f"][0].parent, captures


_SCRIPT = re.compile(r"<script\b[^>]*>(.*?)</script>", re.S)


def _script_imports(text: str) -> list[ImportRef]:
    """The imports of the ``<script>`` blocks of a Vue or Svelte file."""
    refs: list[ImportRef] = []
    for m in _SCRIPT.finditer(text):
        refs += _imports(m.group(1), "typescript", text.count("\n", 0, m.start(1)))
    return refs


# ------------------------------------------------------------------------------------ resolution


def _jsonc(text: Optional[str]) -> Any:
    """JSON with comments and trailing commas (tsconfig.json), or None."""
    if not text:
        return None
    out = re.sub(r'("(?:[^"\\\n]|\\.)*")|//[^\n]*|/\*[\s\S]*?\*/', lambda m: m.group(1) or "", text)
    out = re.sub(r",(\s*[}\]])", r"\1", out)
    try:
        return json.loads(out)
    except (ValueError, RecursionError):  # nested past Python's stack: no configuration, not a failed completion
        return None


def _candidates(base: str) -> list[str]:
    out = [base]
    stem, ext = posixpath.splitext(base)
    if ext in _SOURCE_OF:  # TS sources imported by their compiled name
        out += [stem + e for e in _SOURCE_OF[ext]]
    elif base.endswith(".d.ts"):
        out += [base[:-5] + ".ts"]
    out += [base + e for e in EXTENSIONS + (".d.ts", ".vue", ".svelte", ".json")]
    out += [posixpath.join(base, "index" + e) for e in EXTENSIONS + (".d.ts",)]
    return out


def _file(index: PathIndex, base: Optional[str], declarations: bool = False) -> list[str]:
    """The file `base` names; a declaration file (``.d.ts``) first for a declaration file."""
    if base is None:
        return []
    candidates = _candidates(base)
    if declarations:
        candidates = [base + ".d.ts", posixpath.join(base, "index.d.ts")] + candidates
    for c in candidates:
        if c and c in index.paths:
            return [c]
    manifest = posixpath.join(base, "package.json") if base else "package.json"
    data = _jsonc(index.config(manifest)) if manifest in index.paths else None
    if isinstance(data, dict):  # a folder that is a package: its entry point
        return _package_entry(index, base, data, ".")
    return []


def _compiled_to_source(folder: str, target: str) -> list[str]:
    """``./dist/index.js`` -> dist/index.js, then src/index (a workspace package's own sources)."""
    target = target[2:] if target.startswith("./") else target
    out = [posixpath.join(folder, target)]
    for built in ("dist/", "lib/", "build/", "esm/", "cjs/", "out/", "es/"):
        if target.startswith(built):
            rest = target[len(built):]
            for sub in ("esm/", "cjs/", "types/", "src/"):
                rest = rest.removeprefix(sub)
            stem = re.sub(r"(\.d)?\.[mc]?[jt]sx?$", "", rest)
            out.append(posixpath.join(folder, "src", stem))
    return out


def _config(current: str, index: PathIndex) -> Optional[tuple[str, Optional[str], dict]]:
    """(folder of the nearest tsconfig/jsconfig, its baseUrl folder, its paths), following one
    relative ``extends``."""
    found = index.nearest(current, "tsconfig.json") or index.nearest(current, "jsconfig.json")
    if found is None:
        return None
    key = ("js", "config", found)
    if key in index.derived:
        return index.derived[key]
    folder = posixpath.dirname(found)
    data = _jsonc(index.config(found)) or {}
    options = dict(data.get("compilerOptions") or {}) if isinstance(data, dict) else {}
    base_folder = folder
    extends = data.get("extends") if isinstance(data, dict) else None
    if isinstance(extends, str) and extends.startswith("."):
        parent = join(folder, extends if extends.endswith(".json") else extends + ".json")
        parent_data = _jsonc(index.config(parent)) if parent else None
        if isinstance(parent_data, dict):
            inherited = dict(parent_data.get("compilerOptions") or {})
            if "baseUrl" in inherited and "baseUrl" not in options:
                base_folder = posixpath.dirname(parent)
            options = {**inherited, **options}
    base_url = options.get("baseUrl")
    base = join(base_folder, base_url) if isinstance(base_url, str) else None
    paths = options.get("paths") if isinstance(options.get("paths"), dict) else {}
    got = (folder, base, paths)
    index.derived[key] = got
    return got


def _packages(index: PathIndex) -> dict[str, tuple[str, dict]]:
    """Package name -> (folder, package.json) for the workspace's own packages."""
    key = ("js", "packages")
    got = index.derived.get(key)
    if got is None:
        got = {}
        for p in index.by_name.get("package.json", ()):
            data = _jsonc(index.config(p))
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                got.setdefault(data["name"], (posixpath.dirname(p), data))
        index.derived[key] = got
    return got


_CONDITIONS = ("source", "types", "typescript", "import", "module", "default", "require", "node", "browser")


MAX_EXPORT_NESTING = 32  # levels of a package.json ``exports`` value read (600 overflowed Python's stack)


def export_targets(value: Any, conditions: tuple[str, ...] = _CONDITIONS, level: int = 0) -> list[str]:
    """The paths of a package.json ``exports`` value, those under the first of `conditions` first."""
    if isinstance(value, str):
        return [value]
    if level >= MAX_EXPORT_NESTING:
        return []
    if isinstance(value, list):
        return [t for v in value for t in export_targets(v, conditions, level + 1)]
    if isinstance(value, dict):
        keys = [k for k in conditions if k in value] + [k for k in value if k not in conditions]
        return [t for k in keys for t in export_targets(value[k], conditions, level + 1)]
    return []


def subpath_targets(exports: Any, subpath: str, conditions: tuple[str, ...] = _CONDITIONS) -> Optional[list[str]]:
    """The paths a package.json ``exports`` value gives the subpath ``"."`` or ``"./features/x.js"``: its own
    key, else the pattern that matches it with the longest part before ``*`` (Node's rule: ``"./features/*.js"``
    wins over ``"./*"``), ``*`` replaced; [] when nothing matches, None when the subpath is excluded (a null
    target). Those under the first of `conditions` first (`export_targets`)."""
    if isinstance(exports, dict) and any(isinstance(k, str) and k.startswith(".") for k in exports):
        if subpath in exports:
            value, star = exports[subpath], ""
        else:
            best: Optional[tuple[int, int, str]] = None
            for pattern in exports:
                head, found, tail = pattern.partition("*")
                if found and "*" not in tail and subpath.startswith(head) and subpath.endswith(tail) \
                        and len(subpath) >= len(head + tail) and (best is None or (len(head), len(pattern)) > best[:2]):
                    best = (len(head), len(pattern), pattern)
            if best is None:
                return []
            head, _, tail = best[2].partition("*")
            value, star = exports[best[2]], subpath[len(head):len(subpath) - len(tail)]
    elif subpath == ".":
        value, star = exports, ""
    else:
        return []
    if value is None:
        return None
    return [t.replace("*", star) for t in export_targets(value, conditions)]


def _package_entry(index: PathIndex, folder: str, data: dict, subpath: str) -> list[str]:
    exports = data.get("exports")
    targets: list[str] = []
    if exports is not None:
        found = subpath_targets(exports, subpath)
        if found is None:
            return []  # the package keeps the subpath to itself (``"./internal/*": null``)
        targets = found
    if subpath == ".":
        targets += [data[k] for k in ("source", "types", "typings", "module", "main") if isinstance(data.get(k), str)]
        targets += ["src/index", "index"]
    else:
        targets += [subpath, "src/" + subpath[2:]]
    for target in targets:
        for base in _compiled_to_source(folder, target):
            hit = _file(index, join("", base))
            if hit:
                return hit
    return []


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    spec = ref.module.split("?")[0]
    if spec.startswith(("./", "../")) or spec in (".", ".."):
        return _file(index, join(posixpath.dirname(current), spec), current.endswith(".d.ts"))
    if spec.startswith("/"):
        return _file(index, join("", spec[1:]))
    config = _config(current, index)
    if config is not None:
        folder, base, paths = config
        for pattern, targets in paths.items():
            head, star, tail = pattern.partition("*")
            if not (spec == pattern if not star else spec.startswith(head) and spec.endswith(tail)):
                continue
            middle = spec[len(head):len(spec) - len(tail)] if star else ""
            for target in targets if isinstance(targets, list) else []:
                hit = _file(index, join(base if base is not None else folder, target.replace("*", middle)))
                if hit:
                    return hit
        if base is not None:
            hit = _file(index, join(base, spec))
            if hit:
                return hit
    packages = _packages(index)
    parts = spec.split("/")
    for n in (2, 1) if spec.startswith("@") else (1,):
        name = "/".join(parts[:n])
        if name in packages and len(parts) >= n:
            folder, data = packages[name]
            return _package_entry(index, folder, data, "./" + "/".join(parts[n:]) if len(parts) > n else ".")
    if spec.startswith(("@/", "~/")):  # the common bundler aliases without a config
        return _file(index, join("src", spec[2:])) or _file(index, join("", spec[2:]))
    declared = index.derived.get(AMBIENT_KEY)
    return [p for p in declared[1].get(spec, ()) if p in index.paths][:1] if declared else []


# ------------------------------------------------------------------------------------ ambient modules

AMBIENT_KEY = ("js", "ambient modules")


def ambient_modules(text: str) -> tuple[str, ...]:
    """The modules a declaration file declares for the whole program (``declare module "my-untyped-lib" {``);
    none for a file with a top-level import or export, whose ``declare module "express"`` augments the
    installed package instead of standing for it, nor a wildcard (``"*.svg"``) or one without a body."""
    if "declare" not in text or "module" not in text:
        return ()
    parsed = parse("typescript", text)
    if parsed is None:
        return ()
    top = parsed.root.named_children
    if any(node.type in ("import_statement", "export_statement") for node in top):
        return ()
    names = []
    for node in top:
        module = _ambient_module(node)
        if module is None or module.child_by_field_name("body") is None:
            continue  # ``declare module "x";`` declares nothing the context could show
        name = string_content(parsed, module.child_by_field_name("name"))
        if name and "*" not in name:
            names.append(name)
    return tuple(dict.fromkeys(names))


def learn(index: PathIndex, files: Mapping[str, str]) -> None:
    """Read the modules the workspace's declaration files declare (`ambient_modules`) into `index`, for
    `resolve`: an import no file or package resolves names the ``.d.ts`` declaring it. Only the ``.d.ts``
    texts in memory are read, again when one changes."""
    paths = index.derived.get(("js", "declaration files"))
    if paths is None:
        paths = index.derived[("js", "declaration files")] = tuple(
            p for p in sorted(index.paths) if p.endswith((".d.ts", ".d.mts", ".d.cts")))
    loaded = getattr(files, "loaded", None)
    texts = loaded() if callable(loaded) else files
    declared = {p: texts[p] for p in paths if p in texts}
    by_path, changed = file_facts(index, declared, (AMBIENT_KEY, "files"), "", ambient_modules)
    if changed or AMBIENT_KEY not in index.derived:
        table: dict[str, list[str]] = {}
        for path in sorted(by_path, key=lambda p: (p.count("/"), p)):
            for name in by_path[path]:
                table.setdefault(name, []).append(path)
        index.derived[AMBIENT_KEY] = (by_path, table)


# ------------------------------------------------------------------------------------ definitions

_DECLARATIONS = frozenset({
    "function_declaration", "generator_function_declaration", "class_declaration", "abstract_class_declaration",
    "interface_declaration", "type_alias_declaration", "enum_declaration", "function_signature", "module",
    "internal_module",
})


def _declared(node, parsed) -> list[str]:
    t = node.type
    if t in _DECLARATIONS:
        return [field_text(parsed, node)]
    if t in ("lexical_declaration", "variable_declaration"):
        return [field_text(parsed, d) for d in node.named_children
                if d.type == "variable_declarator" and (d.child_by_field_name("name") or d).type == "identifier"]
    if t == "ambient_declaration":
        return [n for c in node.named_children for n in _declared(c, parsed)]
    if t == "expression_statement" and node.named_children:
        inner = node.named_children[0]
        if inner.type == "internal_module":
            return [field_text(parsed, inner)]
        if inner.type == "assignment_expression":  # module.exports.x = / exports.x = / module.exports =
            left = parsed.text(inner.child_by_field_name("left") or inner)
            m = re.fullmatch(r"(?:module\.)?exports\.([A-Za-z_$][\w$]*)", left)
            if m:
                return [m.group(1)]
            if left == "module.exports":
                return ["default"]
    return []


def _names(node, parsed) -> list[str]:
    if node.type == "export_statement":
        declaration = node.child_by_field_name("declaration")
        names = _declared(declaration, parsed) if declaration is not None else []
        if any(c.type == "default" for c in node.children):
            names.append("default")
        return names
    return _declared(node, parsed)


def _ambient_module(node) -> Optional[Any]:
    """The ``module`` node of ``declare module "fs" { ... }`` (a module named by a string), or None."""
    if node.type != "ambient_declaration":
        return None
    module = next((c for c in node.named_children if c.type == "module"), None)
    name = module.child_by_field_name("name") if module is not None else None
    return module if name is not None and name.type == "string" else None


def _members(node) -> list:
    """The declarations inside ``declare module "fs" { ... }`` (@types/node's built-ins, a project's
    ambient modules and augmentations): each is a definition of its own, under the module's head."""
    module = _ambient_module(node)
    body = module.child_by_field_name("body") if module is not None else None
    return list(body.named_children) if body is not None else []


def _spec(name: str) -> Spec:
    return Spec(name, _names, lambda node: None, frozenset({"statement_block"}), members=_members)


SPECS = {name: _spec(name) for name in ("typescript", "tsx", "javascript")}


class ScriptFile(TreeFile):
    """A JavaScript or TypeScript file's definitions (`TreeFile`), with `brief_tiers` for an installed package's
    API."""

    def __init__(self, text: str, lines: list[str], spec: Spec) -> None:
        super().__init__(text, lines, spec)
        self._text = text

    def find(self, names: tuple[str, ...]) -> list[tuple[int, int]]:
        """`TreeFile.find`, and a dotted name (``window.showInformationMessage``) as that nested member's rows
        under those opening the declarations enclosing it (`fim.namespaces.member_spans`)."""
        dotted = [n for n in names if "." in n]
        spans = super().find(tuple(n for n in names if "." not in n)) if len(dotted) < len(names) else []
        if not dotted:
            return spans
        from fim.namespaces import member_spans

        merged: list[tuple[int, int]] = []
        for start, end in sorted(set(spans) | {s for n in dotted for s in member_spans(self._text, n)}):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def brief_tiers(self, start: int, end: int) -> tuple[str, ...]:
        """`tiers` of lines [start, end) without their comments (@types/node documents every member at length,
        with examples), but for the first line of the leading one: ``/** Returns the contents of the path. */``."""
        return tuple(dict.fromkeys(without_comments(t) for t in self.tiers(start, end)))


def without_comments(text: str) -> str:
    """`text` without its comment lines (``//`` and ``/* ... */`` ones), the first line of its leading comment
    kept as ``/** ... */`` above the first line of code."""
    out: list[str] = []
    first = ""
    in_block = False
    for line in text.split("\n"):
        stripped = line.strip()
        if in_block or stripped.startswith(("/*", "//")):
            if not out and not first:
                words = stripped.lstrip("/*").rstrip("/").rstrip("*").strip()
                first = "" if words.startswith("@") else words
            in_block = (in_block or stripped.startswith("/*")) and "*/" not in stripped
            continue
        if not out and first:
            out.append(f"{line[:len(line) - len(line.lstrip())]}/** {first} */")
        out.append(line)
    return "\n".join(out)


def _model(name: str):
    return lambda text, lines: ScriptFile(text, lines, SPECS[name])


# Template literals (`...`) may span lines; JSX closes with `</tag>` lines.
RULES = replace(BRACE_RULES, quotes="\"'`", multiline_quotes="`")


def _language(name: str, ids: tuple[str, ...], extensions: tuple[str, ...], grammar_name: str) -> Language:
    return Language(name, ids, extensions, "javascript", imports=lambda text: _imports(text, grammar_name),
                    resolve=resolve, model=_model(grammar_name), rules=RULES, learn=learn)


LANGUAGES = (
    _language("typescript", ("typescript",), (".ts", ".mts", ".cts"), "typescript"),
    _language("typescript", ("typescriptreact",), (".tsx",), "tsx"),
    _language("javascript", ("javascript",), (".js", ".mjs", ".cjs"), "javascript"),
    _language("javascript", ("javascriptreact",), (".jsx",), "javascript"),
    Language("vue", ("vue",), (".vue",), "javascript", imports=_script_imports, resolve=resolve, rules=RULES,
             learn=learn),
    Language("svelte", ("svelte",), (".svelte",), "javascript", imports=_script_imports, resolve=resolve,
             rules=RULES, learn=learn),
)
