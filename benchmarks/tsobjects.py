"""TypeScript tasks of `benchmarks.dependency_context`: members of objects whose declared type is an interface or a
class of an installed package's namespace (``node.members`` after ``function f(node: ts.InterfaceDeclaration)``),
their ground truth read by line patterns.

`instance_member_tasks` reads each TypeScript library file of the project with its strings and comments blanked:
a declaration ``name: ns.Type`` (a parameter, a ``const``/``let``/``var``, a field or a constructor's parameter
property) whose ``ns`` imports the package as its ``export =`` namespace (``import ts from "typescript"``, ``import *
as ts``) and whose ``Type`` is a container of its declarations (`benchmarks.dependency_context.nested_declarations`)
makes ``name`` that type's object from the next line on, while the block it opens (a function's parameters: its
body) or the block it is in lasts, up to the next declaration of the same name. A use ``name.member`` there, the
member declared once in that container's own body, is a task (the first of each container's member in each file),
the cursor at the member, the definition its declaration's line.
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

_MODIFIERS = r"(?:(?:public|private|protected|readonly|override)\s+)*"
_DECLARED = re.compile(r"(?:\b(?:const|let|var)\s+|(?:^|[(,])\s*" + _MODIFIERS + r")([A-Za-z_$][\w$]*)\??\s*:\s*"
                       r"([A-Za-z_$][\w$]*)\.([A-Za-z_$][\w$]*)\b(?!\s*[.<(])")


def instance_member_tasks(name: str, project, root: Path, package: str) -> list:
    """The uses of members of `package`'s interfaces' and classes' objects in the project's TypeScript library files
    (the module's docstring), package ``NAME (objects)``, style ``instance-member``."""
    from benchmarks import languages
    from benchmarks.dependency_context import _IMPORT_CLAUSE, _js_library_files, hole_task, nested_declarations
    from benchmarks.repo_context import Definition
    from fim.positions import lsp_lines

    data = json.loads((root / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
    entry = posixpath.normpath(f"node_modules/{package}/{data.get('types') or data.get('typings') or 'index.d.ts'}")
    text = (root / entry).read_text(encoding="utf-8", errors="replace")
    assigned = re.search(r"(?m)^export\s*=\s*([A-Za-z_$][\w$]*)\s*;", text)
    if assigned is None:
        return []
    members, _ = nested_declarations(text)
    target_lines = lsp_lines(text)
    tasks = []
    for path, language, source in _js_library_files(project.index.snapshot()):
        if language != "typescript":
            continue
        heads = set()
        for m in _IMPORT_CLAUSE.finditer(source):
            if m.group(2) == package:
                clause = re.sub(r"\{[^}]*\}", "", m.group(1))
                heads.update(w[-1] for w in (p.split() for p in clause.split(",")) if w and w[0] != "{")
        if not heads:
            continue
        code = languages._STRIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source).split("\n")
        lines = lsp_lines(source)
        seen: set[str] = set()
        for i, line in enumerate(code):
            for m in _DECLARED.finditer(line):
                container = f"{assigned.group(1)}.{m.group(3)}"
                if m.group(2) not in heads or container not in members:
                    continue
                for k, column, member in _uses(code, i, m.group(1)):
                    where = members[container].get(member, [])
                    if len(where) != 1 or f"{container}.{member}" in seen:
                        continue
                    seen.add(f"{container}.{member}")
                    definition = Definition(entry, where[0], target_lines[where[0]].rstrip("\r\n"), member, container)
                    tasks.append(hole_task(f"{name} (objects)", path, lines, k, column, member, definition,
                                           "instance-member", language))
    return tasks


def _uses(code: list[str], declared: int, name: str) -> list[tuple[int, int, str]]:
    """(line, column of the member, member) of each first ``name.member`` of a line after line `declared`, while the
    block that line opens (else the one it is in) lasts and `name` is not declared again."""
    depth = sum(line.count("{") - line.count("}") for line in code[:declared])
    after = depth + code[declared].count("{") - code[declared].count("}")
    opened = after > depth
    use = re.compile(r"(?<![\w$.])" + re.escape(name) + r"\??\.([A-Za-z_$][\w$]*)")
    again = re.compile(r"(?:\b(?:const|let|var)\s+|(?:^|[(,])\s*" + _MODIFIERS + r")" + re.escape(name) + r"\??\s*[:=]")
    out = []
    level = after
    for k in range(declared + 1, len(code)):
        line = code[k]
        if again.search(line):
            break
        found = use.search(line)
        if found is not None:
            out.append((k, found.start(1), found.group(1)))
        level += line.count("{") - line.count("}")
        if level < depth or opened and level <= depth:
            break
    return out
