"""Python's chained qualifiers: an installed submodule reached through an import's alias (``np.linalg.norm``,
``nn.functional.relu``, ``c.d.e`` after ``import a.b as c``). Pure.

`chain_definitions` maps one import of a document to the installed files defining the names the document uses
through a chain of submodules (``np.linalg.norm(`` with ``import numpy as np``: ``norm`` of ``numpy.linalg``, its
re-exports followed as `fim.dependencies.installed_definitions` does); `chain_member_definitions` does the same for
the member being typed after such a chain (``np.linalg.no|``: the names ``numpy.linalg`` offers starting with
``no``, as `fim.member` does after a one-word qualifier). Each middle link must be an installed module: a package's
file or folder (``numpy/linalg/__init__.pyi``) or a name its ``__init__`` imports as a module from its own package
(``from . import linalg``, ``from .core import defchararray as char``); anything else (``np.ndarray.shape``: an
attribute) ends the chain there, and the standard library is never looked up (`fim.dependencies`). Only the named
candidates are stat'ed; a document's aliases and chains are memoized by its text.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Optional, Sequence

from fim.imports import ImportRef
from fim.memo import text_memo
from fim.popular import SHOWN

MAX_CHAINS = 48  # chains looked up per alias
MAX_LINKS = 6  # submodules one chain may pass through (``torch.nn.modules.conv.Conv2d``)
_IMPORT = re.compile(r"(?m)^[ \t]*import[ \t]+([\w., \t]+)")
_FROM = re.compile(r"(?m)^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)?|[^\n#;\\]*)")
_WORDS = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# the chain being typed: ``np.linalg.`` then the part of the member typed, at the end of the text before the cursor
_CHAIN_MEMBER = re.compile(r"(?<![\w.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.([A-Za-z_]\w*)?\Z")


@text_memo  # the document's, and each installed ``__init__`` a chain passes through
def aliases(text: str) -> tuple[tuple[str, str, str], ...]:
    """(alias, the module imported from, the name imported or "") of each import of `text`, in its order: ``import
    numpy as np`` ("np", "numpy", ""), ``import a.b`` ("a.b", "a.b", ""), ``from torch import nn as t`` ("t",
    "torch", "nn"), ``from . import linalg`` ("linalg", ".", "linalg"); ``from x import *`` left out."""
    out: list[tuple[int, tuple[str, str, str]]] = []
    for m in _IMPORT.finditer(text):
        for part in m.group(1).split(","):
            words = part.split()
            if words and _WORDS.fullmatch(words[0]):
                out.append((m.start(), (words[2] if len(words) == 3 and words[1] == "as" else words[0], words[0], "")))
    for m in _FROM.finditer(text):
        module = m.group(1)
        if not module or module.strip(".") and not _WORDS.fullmatch(module.lstrip(".")):
            continue
        for part in re.sub(r"#[^\n]*", "", m.group(2)).strip().strip("()").split(","):
            words = part.split()
            if words and words[0].isidentifier():
                out.append((m.start(), (words[2] if len(words) == 3 and words[1] == "as" else words[0], module,
                                        words[0])))
    return tuple(dict.fromkeys(a for _, a in sorted(out, key=lambda o: o[0])))


@text_memo
def chains(document: str, alias: str) -> tuple[tuple[str, ...], ...]:
    """The parts after ``alias.`` of each chain of two or more that `document` uses (``np.linalg.norm``:
    ("linalg", "norm")), in order of first use, at most MAX_CHAINS."""
    found: dict[tuple[str, ...], None] = {}
    # a pattern starting with the alias's literal words: the engine skips ahead to them; the character before
    # is checked here
    for m in re.finditer(re.escape(alias) + r"((?:\.[A-Za-z_]\w*){2,})", document):
        if m.start() and (document[m.start() - 1].isalnum() or document[m.start() - 1] in "_."):
            continue
        found.setdefault(tuple(m.group(1)[1:].split(".")), None)
        if len(found) >= MAX_CHAINS:
            break
    return tuple(found)


def submodule(module: str, part: str, installed: Mapping[str, str]) -> Optional[str]:
    """The absolute name of the installed module that ``module.part`` names: a file or folder of the package
    (``numpy.linalg``), else a module the package's ``__init__`` imports as `part` (``from .core import
    defchararray as char``: ``numpy.core.defchararray``); None for anything else (a class, a function)."""
    from fim.dependencies import _python_module, _python_package_folder

    name = f"{module}.{part}"
    if _python_module(name, installed) is not None or _python_package_folder(name, installed):
        return name
    entry = _python_module(module, installed)
    if entry is None:
        return None
    package = module if entry.rpartition("/")[2].startswith("__init__.") else module.rpartition(".")[0]
    for alias, source, imported in aliases(installed[entry]):
        if alias != part:
            continue
        level = len(source) - len(source.lstrip("."))
        base = package
        for _ in range(max(0, level - 1)):
            base = base.rpartition(".")[0]
        absolute = ".".join(p for p in ((base if level else ""), source.lstrip("."), imported) if p)
        if absolute and absolute != module and _python_module(absolute, installed) is not None:
            return absolute
    return None


def walk(module: str, parts: tuple[str, ...], installed: Mapping[str, str]) -> tuple[str, int]:
    """(the module reached, how many of `parts` led there): the submodules `parts` names one after another from
    `module`, up to the first that is none (or MAX_LINKS)."""
    taken = 0
    for part in parts[:MAX_LINKS]:
        sub = submodule(module, part, installed)
        if sub is None:
            break
        module, taken = sub, taken + 1
    return module, taken


def _base(module: str, imported: str, installed: Mapping[str, str]) -> Optional[str]:
    """The installed module an alias stands for: `module` (``import numpy as np``), or ``module.imported`` where
    that is one (``from torch import nn``); None for a relative import, the standard library, a name not a module."""
    from fim.dependencies import _python_module

    if module.startswith("."):
        return None
    base = f"{module}.{imported}" if imported else module
    return base if _python_module(base, installed) is not None else None


def chain_definitions(ref: ImportRef, document: str, installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Installed file -> the names it defines that `document` uses through a chain of submodules after an alias of
    the import `ref` (``np.linalg.norm``: numpy.linalg's ``norm``, where the file defining it, the re-exports
    followed); {} when the document uses none (``np.zeros``: `fim.dependencies.installed_definitions`' own)."""
    from fim.dependencies import FOLLOW_DEPTH, _defining, _python_module

    found: dict[str, list[str]] = {}
    for alias, module, imported in aliases(document):
        if module != ref.module:
            continue
        links = chains(document, alias)
        base = _base(module, imported, installed) if links else None
        if base is None:
            continue
        for parts in links:
            reached, taken = walk(base, parts[:-1], installed)
            if not taken:
                continue  # ``np.ndarray.shape``: no submodule in the middle
            entry = _python_module(reached, installed)
            for path, name in _defining(entry, parts[taken], document, installed, FOLLOW_DEPTH) if entry else ():
                held = found.setdefault(path, [])
                if name not in held:
                    held.append(name)
    return found


def chain_member_definitions(document: str, before_cursor: str, current_path: str, installed: Mapping[str, str],
                             rank: Optional[Callable[[Sequence[str], str, int], list[str]]] = None,
                             limit: int = SHOWN) -> tuple[str, dict[str, list[str]]]:
    """(the part of the member typed, installed file -> the names it defines that the submodule reached by the
    chain before the cursor offers: ``np.linalg.no|``, those starting with ``no``, else all) as `fim.member` does
    for a one-word alias, `rank` choosing among more than `limit`; ("", {}) where the chain
    is not an import's alias then installed submodules."""
    from fim.dependencies import installed_definitions

    m = _CHAIN_MEMBER.search(before_cursor[-200:])
    if m is None:
        return "", {}
    words, typed = tuple(m.group(1).split(".")), m.group(2) or ""
    for alias, module, imported in sorted(aliases(document), key=lambda a: -len(a[0])):  # ``a.b`` before ``a``
        head = tuple(alias.split("."))
        if words[:len(head)] != head:
            continue
        base = _base(module, imported, installed)
        if base is None:
            continue
        rest = words[len(head):]
        reached, taken = walk(base, rest, installed)
        if taken < len(rest):
            return typed, {}  # ``np.ndarray.`` : an attribute's members are not a module's
        offered = offered_names(reached, installed)
        names = [n for n in offered if n.startswith(typed)] or offered
        if not names:
            return typed, {}
        names = rank(names, words[-1], limit) if rank is not None else names[:limit]
        found = installed_definitions(ImportRef(reached, tuple(names), "python"), current_path, document, installed,
                                      limit)
        return typed, {path: held for path, held in found.items() if held}  # not a submodule's whole file
    return typed, {}


def offered_names(module: str, installed: Mapping[str, str], depth: int = 2) -> list[str]:
    """The public names the installed `module` offers, in its file's order: what it imports from its own package
    (``from numpy.linalg.linalg import norm as norm``, ``from . import linalg``), then what it defines, then
    (`depth` modules deep) what its ``from ._isolve import *`` lines bring; at most MAX_OFFERED."""
    from fim.dependencies import MAX_OFFERED, MAX_STARS, _imports, _ordered_names, _python_module, _python_target

    entry = _python_module(module, installed)
    text = installed[entry] if entry is not None else ""
    if not text:
        return []
    top = module.split(".")[0]
    names = [alias for alias, source, _ in aliases(text)
             if source.startswith(".") or source == top or source.startswith(top + ".")]
    names += _ordered_names(text, "python")
    if depth > 1:
        for ref in [r for r in _imports(text, "python") if r.star][:MAX_STARS]:
            target = _python_target(ref, entry, installed)
            if target is not None and target != entry:
                star = _module_of(target)
                names += offered_names(star, installed, depth - 1) if star else []
    return [n for n in dict.fromkeys(names) if not n.startswith("_")][:MAX_OFFERED]


def _module_of(path: str) -> str:
    """The module name of an installed file key (``site-packages/scipy/sparse/linalg/_isolve/__init__.py``:
    ``scipy.sparse.linalg._isolve``; a stubs package's without ``-stubs``)."""
    from fim.dependencies import SITE

    if not path.startswith(SITE):
        return ""
    parts = path[len(SITE):].rpartition(".")[0].split("/")
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    parts[0] = parts[0].removesuffix("-stubs")
    return ".".join(parts)
