"""Where a C or C++ ``#include`` the workspace does not resolve lies among the headers of installed libraries. Pure.

A compiler searches the folders of its ``-I``/``-isystem``/``-iquote``/``-idirafter`` options, then those of
``CPATH``/``C_INCLUDE_PATH``/``CPLUS_INCLUDE_PATH``, then the system's (``/usr/local/include``,
``/usr/include/<multiarch triplet>``, ``/usr/include``; Homebrew's ``/opt/homebrew/include`` on macOS). The server
keeps that list of folders (`server.dependencies.find_include_folders`, with the absolute folders of the
workspace's compile_commands.json first: `compile_include_folders`) and the headers come through
`fim.dependencies`' `installed` mapping by the keys ``c-include/<k>/<path>``: ``<path>`` in the k-th folder
(``c-include/0/git2/repository.h``); ``c-include/<k>/`` asks whether there is a k-th folder. Nothing is walked:
an include is one stat per folder, in order, till one has it.

`header_definitions` maps ``#include <git2.h>`` to the headers declaring the names the document uses (prototypes
``git_repository_open``, types ``git_oid``, macros ``GIT_OID_HEXSZ``, enumerators): that header and those it
includes, `FOLLOW_DEPTH` includes deep (git2.h is only includes of ``git2/*.h``), at most `MAX_HEADERS` of them.
The C and C++ standard library's headers (`STANDARD_HEADERS`: ``<stdio.h>``, ``<vector>``, glibc's macro-heavy
ones) are left out, the model knows them. `workspace_includes` finds the installed headers a file sees through
the workspace's own headers (pygit2's ``"types.h"`` includes ``<git2.h>``).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from functools import lru_cache
from typing import Callable, Mapping, Optional, Sequence

from fim.languages.base import ImportRef
from fim.symbols import defined_names

C_INCLUDE = "c-include/"
MAX_FOLDERS = 32  # include folders asked for
FOLLOW_DEPTH = 3  # includes followed from the header the document includes (git2.h -> git2/common.h -> ...)
MAX_HEADERS = 128  # headers read for one include
WORKSPACE_DEPTH = 3  # the workspace's own headers followed for the installed ones they include
MAX_NAMES = 64  # names of the document looked up per header
_INCLUDE = re.compile(r"(?m)^[ \t]*#[ \t]*include[ \t]*([<\"])([^>\"\n]+)[>\"]")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NOISE = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.S)
_FLAGS = ("-isystem", "-iquote", "-idirafter", "-I", "/I")

# The C standard library (C23), POSIX's and glibc's common headers, and the C++ standard library's: the model
# knows what they declare, and glibc's are mostly macros and __attribute__s.
STANDARD_HEADERS = frozenset("""
assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h signal.h
stdalign.h stdarg.h stdatomic.h stdbit.h stdbool.h stdckdint.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h
string.h tgmath.h threads.h time.h uchar.h wchar.h wctype.h
aio.h alloca.h arpa/inet.h dirent.h dlfcn.h endian.h fcntl.h fnmatch.h getopt.h glob.h grp.h iconv.h langinfo.h
libgen.h malloc.h memory.h netdb.h netinet/in.h netinet/tcp.h poll.h pthread.h pwd.h regex.h sched.h semaphore.h
spawn.h strings.h syslog.h termios.h unistd.h utime.h wordexp.h sys/epoll.h sys/file.h sys/ioctl.h sys/mman.h
sys/param.h sys/resource.h sys/select.h sys/socket.h sys/stat.h sys/time.h sys/types.h sys/uio.h sys/un.h
sys/utsname.h sys/wait.h
algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat charconv chrono cinttypes climits
clocale cmath codecvt compare complex concepts condition_variable coroutine csetjmp csignal cstdarg cstddef cstdint
cstdio cstdlib cstring ctime cuchar cwchar cwctype deque exception execution expected filesystem format
forward_list fstream functional future initializer_list iomanip ios iosfwd iostream istream iterator latch limits
list locale map memory memory_resource mutex new numbers numeric optional ostream print queue random ranges ratio
regex scoped_allocator semaphore set shared_mutex source_location span spanstream sstream stack stacktrace
stdexcept stop_token streambuf string string_view syncstream system_error thread tuple type_traits typeindex
typeinfo unordered_map unordered_set utility valarray variant vector version
""".split())


def header_definitions(ref: ImportRef, document: str, installed: Mapping[str, str]) -> dict[str, list[str]]:
    """Installed header -> the names `document` uses that it declares, for the ``#include`` `ref` the workspace
    does not resolve: the header in the first include folder holding it and the headers it includes; {} for a
    standard header or one no include folder holds."""
    include = ref.module
    if standard(include):
        return {}
    folders = include_folder_keys(installed)
    entry = find_header(include, folders, installed)
    if entry is None:
        return {}
    used = code_words(document)
    found: dict[str, list[str]] = {}
    for path in header_closure(entry, folders, installed):
        text = installed[path] if path in installed else ""
        names = sorted(used.keys() & declared_names(text), key=used.__getitem__)[:MAX_NAMES] if text else []
        if names:
            found[path] = names
    if not found and entry in installed and declared_names(installed[entry]):
        found[entry] = []  # nothing used yet (``#include <git2/oid.h>`` just typed): the header's head, not an
    return found  # umbrella's list of includes (git2.h)


def standard(include: str) -> bool:
    """Whether `include` names a header of the C or C++ standard library (or a common POSIX/glibc one)."""
    name = include.strip().lstrip("./")
    return name in STANDARD_HEADERS or name.startswith(("bits/", "sys/", "linux/", "asm/", "asm-generic/", "gnu/"))


def find_header(include: str, folders: Sequence[str], installed: Mapping[str, str]) -> Optional[str]:
    """The key of `include` in the first of the include folder keys `folders` holding it, or None."""
    parts = include.strip().split("/")
    if not include or include.startswith("/") or ".." in parts or "" in parts or "\\" in include:
        return None
    return next((folder + include for folder in folders if folder + include in installed), None)


def header_closure(entry: str, folders: Sequence[str], installed: Mapping[str, str]) -> list[str]:
    """`entry` and the installed headers it includes, `FOLLOW_DEPTH` includes deep, at most `MAX_HEADERS`,
    in the order a reader meets them (breadth first); a quoted include relative to its header first."""
    out = [entry]
    seen = {entry}
    layer = [entry]
    for _ in range(FOLLOW_DEPTH):
        following = []
        for path in layer:
            text = installed[path] if path in installed else ""
            for quoted, include in _includes(text):
                if standard(include):
                    continue
                local = posixpath.normpath(posixpath.join(posixpath.dirname(path), include)) if quoted else ""
                folder = "/".join(path.split("/")[:2]) + "/"  # c-include/<k>/: a quoted include stays inside
                hit = local if local.startswith(folder) and local in installed else \
                    find_header(include, folders, installed)
                if hit is not None and hit not in seen:
                    seen.add(hit)
                    out.append(hit)
                    following.append(hit)
                    if len(out) >= MAX_HEADERS:
                        return out
        layer = following
    return out


def workspace_includes(refs: Sequence[ImportRef], current_path: str, files: Mapping[str, str],
                       resolve: Callable[[ImportRef, str], list[str]], imports: Callable[[str], Sequence[ImportRef]]
                       ) -> list[ImportRef]:
    """The includes the workspace does not resolve in the workspace headers that the document's includes
    `refs` resolve to, `WORKSPACE_DEPTH` headers deep (``"repository.h"`` -> ``"types.h"`` -> ``<git2.h>``), as
    imports of the document's line that led to them; standard headers left out. `resolve(ref, path)` gives an
    include's workspace files, `imports(path)` a workspace file's includes."""
    out: dict[str, ImportRef] = {}
    seen = {current_path}
    layer = [(ref, ref.line, current_path) for ref in refs]
    for depth in range(WORKSPACE_DEPTH + 1):
        following = []
        for ref, line, path in layer:
            targets = [t for t in resolve(ref, path) if t in files]
            if not targets:
                if depth and not standard(ref.module) and ref.module not in out:
                    out[ref.module] = ImportRef(ref.module, (), ref.language, line, system=ref.system)
                continue
            for target in targets[:1]:
                if target not in seen and depth < WORKSPACE_DEPTH:
                    seen.add(target)
                    following.extend((inner, line, target) for inner in imports(target))
        layer = following
    return list(out.values())


def included_headers(includes: Sequence[ImportRef], installed: Mapping[str, str]) -> list[str]:
    """The installed headers `includes` name and those they include (`header_closure`), in the order a reader
    meets them, the standard library's left out."""
    folders = include_folder_keys(installed)
    out: dict[str, None] = {}
    for ref in includes:
        if standard(ref.module):
            continue
        entry = find_header(ref.module, folders, installed)
        if entry is not None and entry not in out:
            out.update(dict.fromkeys(header_closure(entry, folders, installed)))
    return list(out)


def compile_include_folders(text: str) -> list[str]:
    """The absolute include folders (``-I``, ``-isystem``, ``-iquote``, ``-idirafter``; relative ones against
    the entry's ``directory``) of a compile_commands.json, in the order of the entries and their flags."""
    try:
        entries = json.loads(text or "[]")
    except (ValueError, RecursionError):
        return []
    out: dict[str, None] = {}
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        args = entry.get("arguments")
        if not isinstance(args, list):
            command = entry.get("command")
            try:
                args = shlex.split(command) if isinstance(command, str) else []
            except ValueError:
                continue
        directory = entry.get("directory") if isinstance(entry.get("directory"), str) else ""
        for k, arg in enumerate(args):
            if not isinstance(arg, str):
                continue
            for flag in _FLAGS:
                if arg == flag and k + 1 < len(args) and isinstance(args[k + 1], str):
                    folder = args[k + 1]
                elif arg.startswith(flag) and len(arg) > len(flag) and not arg.startswith("-include"):
                    folder = arg[len(flag):]
                else:
                    continue
                folder = posixpath.normpath(posixpath.join(directory, folder)) if directory else folder
                if folder.startswith("/"):
                    out.setdefault(folder, None)
                break
    return list(out)


def include_folder_keys(installed: Mapping[str, str]) -> list[str]:
    """The keys of the include folders there are (``c-include/0/``, ``c-include/1/``...), in search order."""
    out = []
    for k in range(MAX_FOLDERS):
        key = f"{C_INCLUDE}{k}/"
        if key not in installed:
            break
        out.append(key)
    return out


@lru_cache(maxsize=512)
def _includes(text: str) -> tuple[tuple[bool, str], ...]:
    """(quoted, path) of each ``#include`` of a header."""
    return tuple((m.group(1) == '"', m.group(2).strip()) for m in _INCLUDE.finditer(text))


@lru_cache(maxsize=512)  # a library's headers are asked for on every keystroke: their names once per text
def declared_names(text: str) -> frozenset[str]:
    """The names a header declares, its include guard (``INCLUDE_git_oid_h__``) left out."""
    names = defined_names(text, "c")
    return frozenset(n for n in names if not n.endswith(("_H", "_H_", "_h__", "_H__", "_h_", "_h")))


@lru_cache(maxsize=16)
def code_words(document: str) -> dict[str, int]:
    """The identifiers of a document's code (comments and strings left out), each with the order it first appears."""
    words: dict[str, int] = {}
    for m in _WORD.finditer(_NOISE.sub(" ", document)):
        words.setdefault(m.group(0), len(words))
    return words
