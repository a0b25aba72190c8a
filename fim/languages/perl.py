"""Perl: ``use``/``require`` of modules, ``require``/``do`` of files, the classes a file inherits from (``use
parent``, ``use base``, ``our @ISA = (...)``, ``push @ISA, ...``, ``extends``/``with`` of Moose and Moo, ``use
Mojo::Base 'Parent'``) and the packages it calls
(``Foo::Bar->new``, ``Foo::Bar::f(``), resolved to ``Foo/Bar.pm`` under the nearest ``lib/`` (or ``t/lib``),
the distribution root or the file's own package root (pragmas and modules not in the workspace resolve to
nothing); the names each brings (an import list, ``Foo->m``, ``$self->m`` of a parent, ``$o->m`` after
``my $o = Foo->new``); and definitions (packages, subs, constants, ``has`` attributes, ``our`` variables) by
brace depth once comments, literals, POD and heredocs are blanked (`fim.languages.perlscan`)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from fim.languages.base import BRACE_RULES, ImportRef, Language, PathIndex, line_of
from fim.languages.brace import BraceFile, _indent
from fim.languages.perlscan import blank, literal_end

# Modules that change how Perl reads the file: no file of the workspace.
PRAGMAS = frozenset({
    "strict", "warnings", "utf8", "feature", "constant", "parent", "base", "vars", "lib", "integer", "overload",
    "bytes", "open", "locale", "less", "sort", "subs", "bigint", "bignum", "bigrat", "autodie", "diagnostics",
    "experimental", "mro", "re", "if", "version", "fields", "filetest", "sigtrap", "threads", "encoding",
    "charnames", "attributes", "autouse", "blib", "deprecate", "overloading", "vmsish", "builtin", "ok",
})
_PARENTS = frozenset({"parent", "base"})  # pragmas whose list names the classes a package inherits from
_MODULE = r"[A-Za-z_]\w*(?:::\w+)*"
# ``use Foo::Bar qw(a b);``, ``no strict 'refs';``, ``require Foo::Bar;``, ``require "x.pl";`` where a
# statement starts, ``our @ISA = (...)``/``push @ISA, ...`` (the parents: group 4), ``do "x.pl"`` anywhere; the
# rest of the statement (to its ``;``) is read from the blanked text.
_STATEMENT = re.compile(r"(?m)(?:^|(?<=[;{}]))[ \t]*(?:(use|no|require)[ \t]+(" + _MODULE + r"|[\"'][^\"'\n]+[\"'])"
                        r"|(extends|with)\b[ \t(]*(?=[\"']|qw\b)"
                        r"|((?:our[ \t]+)?@(?:\w+::)*ISA[ \t]*=(?!=)|push[ \t(]*@(?:\w+::)*ISA[ \t]*,))"
                        r"|(?<![\w$@%&>:-])(do)[ \t]+([\"'][^\"'\n]+[\"'])")
_QW = re.compile(r"\bqw[ \t]*([^\w\s])")
_QUOTED = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'")
_CLOSE = {"(": ")", "[": "]", "{": "}", "<": ">"}
# ``Foo::Bar::f(``, ``Foo::Bar->new``, ``Foo::Bar::->new``, ``Foo->new``, and being typed ``Foo::Bar->``,
# ``Foo::Bar::``; not ``$x->``, ``SUPER::``, ``shift->``
_CLASS_USE = re.compile(r"(?=[A-Za-z_])(?<![\w$@%&*:>])(?:((?:[A-Za-z_]\w*::)+)([A-Za-z_]\w*)\(|(" + _MODULE
                        + r")(?:::)?[ \t]*->[ \t]*([A-Za-z_]\w*)?|((?:[A-Za-z_]\w*::)+)(?![\w:]))")
_NOT_CLASSES = frozenset({"SUPER", "CORE", "main", "__PACKAGE__", "STDERR", "STDOUT", "STDIN", "UNIVERSAL"})
_OBJECT = re.compile(r"(?=m)\bmy[ \t]+(\$\w+)[ \t]*=[ \t]*(" + _MODULE + r")[ \t]*->[ \t]*\w+")
_SELF_CALL = re.compile(r"[$_S](?:(?:(?<=\$)(?:self|class)|(?<=_)_PACKAGE__)[ \t]*->[ \t]*([A-Za-z_]\w*)\b(?!::)"
                        r"|(?<!\wS)(?<=S)UPER::([A-Za-z_]\w*))")
_SUB = re.compile(r"(?m)^[ \t]*sub[ \t]+([A-Za-z_]\w*)")
# (`_CLASS_USE` and `_OBJECT` open with a lookahead at their first character and `_SELF_CALL` with that
# character: the regular expression engine tries no more at the other characters; over a 1 MB module's blanked
# text they took 123, 34 and 57 ms, now 17, 11 and 6.)
MAX_NAMES = 128  # names remembered per module
MAX_STATEMENT = 4000  # characters of a ``use`` statement read for its list (``qw(...)`` over many lines)


def imports(text: str) -> list[ImportRef]:
    """The modules a Perl file loads or inherits from, then the packages it calls without loading them (Perl
    sees every loaded package), in source order, each with the names the file uses from it."""
    code = blank(text)
    refs: list[ImportRef] = []
    parents: list[str] = []
    for m in _STATEMENT.finditer(text):
        group = next(g for g in (1, 3, 4, 5) if m.group(g))
        keyword = m.group(group)
        if code[m.start(group)] == " ":  # in a comment, a string or POD
            continue
        end = code.find(";", m.end(), m.end() + MAX_STATEMENT)
        if end < 0:  # being typed: its line only
            end = code.find("\n", m.end())
        args = text[m.end(): len(text) if end < 0 else end]
        line = line_of(text, m.start(group))
        module = m.group(2) or m.group(6) or ""
        if group in (3, 4) or module in _PARENTS or module == "Mojo::Base":
            classes = [w for w in _words(args) if not w.startswith("-")]
            if module == "Mojo::Base":
                refs.append(ImportRef(module, (), "perl", line))
                classes = classes[:1]
            for name in classes:
                refs.append(ImportRef(name, (), "perl", line))
                parents.append(name)
            continue
        if keyword == "no" or module in PRAGMAS:
            continue
        if module[:1] in "\"'":
            refs.append(ImportRef(module[1:-1], (), "perl", line))
            continue
        names = () if keyword == "require" else tuple(w.lstrip("$@%&*") for w in _words(args)
                                                      if w[:1] not in ":-" and re.fullmatch(r"[$@%&*]?\w+", w))
        refs.append(ImportRef(module, names, "perl", line))
    used = _class_uses(code)
    own = set(_SUB.findall(code))
    inherited = tuple(dict.fromkeys(n for m in _SELF_CALL.finditer(code) for n in m.groups() if n and n not in own))
    known = {r.module for r in refs}
    out: list[ImportRef] = []
    for ref in refs:
        names = ref.names + tuple(n for n in used.pop(ref.module, ()) if n not in ref.names)
        if ref.module in parents:
            names += tuple(n for n in inherited if n not in names)
        out.append(replace(ref, names=names[:MAX_NAMES]))
    for module, (first, names) in _first_uses(code, used).items():
        if module not in known:
            out.append(ImportRef(module, tuple(names)[:MAX_NAMES], "perl", line_of(text, first)))
    return out


def _words(args: str) -> list[str]:
    """The words of an argument list: ``qw(a b)``'s, quoted strings', bare ``-flags``."""
    words: list[str] = []
    i = 0
    while True:
        q = _QW.search(args, i)
        segment = args[i: q.start() if q else len(args)]
        words += [a or b for a, b in _QUOTED.findall(segment)]
        words += re.findall(r"(?<![\w'\"])-\w+", _QUOTED.sub("", segment))
        if q is None:
            return [w.strip() for w in words if w.strip()]
        close = _CLOSE.get(q.group(1), q.group(1))
        end = args.find(close, q.end())
        end = len(args) if end < 0 else end
        words += args[q.end():end].split()
        i = end + 1


def _class_uses(code: str) -> dict[str, list[str]]:
    """Package -> the names the code calls on it (``Foo::Bar->m``, ``Foo::Bar::f(``, ``$o->m`` after ``my $o =
    Foo::Bar->new``), in order of first use."""
    found: dict[str, dict[str, None]] = {}
    for m in _CLASS_USE.finditer(code):
        module = m.group(1)[:-2] if m.group(1) else m.group(3) or m.group(5)[:-2]
        if not _is_class(module):
            continue
        names = found.setdefault(module, {})
        if m.group(2) or m.group(4):
            names.setdefault(m.group(2) or m.group(4), None)
    objects: dict[str, str] = {}
    for m in _OBJECT.finditer(code):
        if _is_class(m.group(2)):
            objects.setdefault(m.group(1), m.group(2))
    if objects:
        pattern = re.compile("(" + "|".join(re.escape(v) for v in objects) + r")[ \t]*->[ \t]*([A-Za-z_]\w*)")
        for m in pattern.finditer(code):
            found.setdefault(objects[m.group(1)], {}).setdefault(m.group(2), None)
    return {k: list(v) for k, v in found.items()}


def _is_class(module: str) -> bool:
    """A package's name, not ``shift``, ``SUPER`` or ``CORE``: a lower-case word is a function."""
    return module.split("::")[0] not in _NOT_CLASSES and ("::" in module or module[0].isupper())


def _first_uses(code: str, used: dict[str, list[str]]) -> dict[str, tuple[int, list[str]]]:
    """The packages of `used` (those no statement loads) with the offset of their first use."""
    out: dict[str, tuple[int, list[str]]] = {}
    for module, names in used.items():
        at = code.find(module)
        out[module] = (max(at, 0), names)
    return dict(sorted(out.items(), key=lambda t: t[1][0]))


def resolve(ref: ImportRef, current: str, index: PathIndex) -> list[str]:
    """``Foo::Bar``: ``Foo/Bar.pm`` under the nearest ``lib`` folder above the file, else under a ``lib`` or
    ``t/lib`` of a folder above it (a test's, a script's), else under the file's own package root or the
    workspace's top (a tree of installed modules), else under any ``lib`` of the workspace, the least deep;
    ``require "x.pl"``: from the file's folder, then from the top. Pragmas resolve to nothing."""
    module = ref.module
    if not module or module in PRAGMAS:
        return []
    if "/" in module or module.endswith((".pl", ".pm")) and "::" not in module:
        here = posixpath.dirname(current)
        for base in (here, ""):
            path = posixpath.normpath(posixpath.join(base, module))
            if path in index.paths:
                return [path]
        return []
    rel = module.replace("::", "/").replace("'", "/") + ".pm"
    folders = _folders(current)
    for d in folders:  # the nearest ``lib`` the file is in
        if posixpath.basename(d) == "lib":
            path = posixpath.join(d, rel)
            if path in index.paths:
                return [path]
            break
    for d in folders:
        for base in (posixpath.join(d, "lib"), posixpath.join(d, "t/lib")) if d else ("lib", "t/lib"):
            path = posixpath.join(base, rel)
            if path in index.paths:
                return [path]
    for d in reversed(folders):  # the package root: the top first, then down to the file's folder
        path = posixpath.join(d, rel) if d else rel
        if path in index.paths:
            return [path]
    return index.with_suffix("lib/" + rel)[:1]


def _folders(current: str) -> list[str]:
    """The folders above `current`, its own first, the workspace's top ("") last."""
    out: list[str] = []
    d = posixpath.dirname(current)
    while d:
        out.append(d)
        d = posixpath.dirname(d)
    return out + [""]


# ------------------------------------------------------------------------------ definitions

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+(" + _MODULE + r")")
_NAMES = re.compile(
    r"^[ \t]*(?:(?:my|our|state)[ \t]+)?sub[ \t]+(?:\w+::)*([A-Za-z_]\w*)"
    r"|^[ \t]*use[ \t]+constant[ \t]+([A-Za-z_]\w*)"
    r"|^[ \t]*our[ \t]+[$@%]([A-Za-z_]\w*)")
_OUR_LIST = re.compile(r"^[ \t]*our[ \t]*\(([^)]*)\)")
_CONSTANTS = re.compile(r"^[ \t]*use[ \t]+constant[ \t]*\{")
_CONSTANT_KEY = re.compile(r"(?:^|[{,])[ \t]*[\"']?([A-Za-z_]\w*)[\"']?[ \t]*(?:=>|,)")
_HAS = re.compile(r"^[ \t]*has[ \t(]+(?:[\"']?([A-Za-z_]\w*)[\"']?|\[([^\]]*)\])")


class PerlFile(BraceFile):
    """Definitions of a Perl file: packages (``package Foo;`` and ``package Foo { ... }``), subs (attributes,
    signatures), constants (``use constant X =>`` and ``use constant { ... }``), ``has`` attributes of Moose,
    Moo and Mojo::Base, and ``our`` variables."""

    container = re.compile(r"^[ \t]*package\b")
    attached = ("#",)

    def __init__(self, text: str, lines: list[str]) -> None:
        super().__init__(text, lines, "perl")
        self.member_depth = 1  # a block package's subs, a ``BEGIN { ... }`` block's

    def _code(self, text: str) -> list[str]:
        return blank(text).split("\n")

    def _names_at(self, i: int) -> list[str]:
        code = self.code[i]
        if not code.strip():
            return []
        m = _NAMES.match(code)
        if m:
            return [next(g for g in m.groups() if g)]
        package = _PACKAGE.match(code)
        if package:
            name = package.group(1)
            return [name, name.rpartition("::")[2]] if "::" in name else [name]
        our = _OUR_LIST.match(code)
        if our:
            return re.findall(r"[$@%](\w+)", our.group(1))
        line = self.lines[i]
        if _CONSTANTS.match(code):
            end = self._end(i)
            return [k for j in range(i, end) for k in _CONSTANT_KEY.findall(self.lines[j] if j > i else
                                                                             line[line.index("{"):])]
        has = _HAS.match(line) if code.lstrip().startswith("has") else None
        if has:
            return [has.group(1)] if has.group(1) else re.findall(r"\w+", re.sub(r"\bqw\b", "", has.group(2)))
        return []

    def outline_depth(self) -> int:
        return 0  # a file's subs, not their bodies

    def outline(self) -> str:
        """The packages, subs' heads, constants, attributes and variables, and the lines of the top level;
        sub bodies elided."""
        out: list[str] = []
        eliding = False
        for k, line in enumerate(self.lines):
            keep = self.depth[k] == 0 or self.depth[k] <= self.member_depth and bool(self._names_at(k)) \
                or self.depth[k] == 1 and self.depth[k + 1] == 0 and bool(self.closing.match(self.code[k]))
            if keep and (line.strip() or out and out[-1].strip()):
                out.append(line)
                eliding = False
            elif line.strip() and not keep and not eliding:
                out.append(_indent(line) + "...")
                eliding = True
        return "\n".join(out)


# ------------------------------------------------------------------------------ post-processing

# ``#`` comments (not ``$#array`` nor ``s#a#b#``), `/.../` after an operator, the quote-like operators' text,
# ``elsif``.
PERL_RULES = replace(BRACE_RULES, line_comments=("#",), comment="#", comment_at_word=True, regex_literals=True,
                     word_literal=literal_end, quotes="\"'`", clause_words=frozenset({"else", "elsif", "continue"}))

LANGUAGE = Language("perl", ("perl",), (".pl", ".pm", ".t", ".psgi"), "perl", imports=imports, resolve=resolve,
                    model=lambda text, lines: PerlFile(text, lines), rules=PERL_RULES, imports_packages=True,
                    imports_on_cursor_line=True)
