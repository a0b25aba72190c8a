"""The entries of dependency jars, for `server.dependencies.InstalledFiles`' ``<jar key>!/<entry>`` keys.

A jar's zip directory is read once per stamp of the jar (its mtime, size, inode, ctime), at most MAX_JARS kept and
at most MAX_ENTRIES names a jar; an entry is read when asked for, up to the size cap (ENTRY_BYTES at least: a
library's sources hold files far bigger than a workspace's). ``X.java`` names the entry
``X.java``, else, in a jar without it (a binary jar), ``X.class`` rendered as a Java stub by `fim.classfile`;
``a/b/`` a folder that holds entries, whose text is its listing (files, then ``name/`` folders; one a line).
"""

from __future__ import annotations

import threading
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Hashable

from fim import jars
from fim.classfile import class_stub
from server import textfile

# zip directories kept: every jar (and sources jar) of a build file's dependencies is asked for each import of a
# document, in one order; fewer kept than that is a miss for each (every jar's directory read every keystroke)
MAX_JARS = 2 * jars.MAX_JARS + 32
MAX_ENTRIES = 200_000  # a jar with more entries is not read
MAX_NAME = 512  # an entry with a longer name is left out (a class's path is shorter)
MAX_DEPTH = 32  # an entry in more folders is left out: each of its folders is a name too
ENTRY_BYTES = 1024 * 1024  # the size an entry may have (at least): a library's StringUtils.java is 400 KB


def _folders(files: list[str]) -> set[str]:
    """The folders (``a/b/``) holding the entries `files`: not all jars list them."""
    out: set[str] = set()
    for name in files:
        k = name.rfind("/")
        while k > 0 and name[:k + 1] not in out:  # its parents are there already
            out.add(name[:k + 1])
            k = name.rfind("/", 0, k)
    return out


class JarEntries:
    """Zip directories of jars, kept by the jar's stamp."""

    def __init__(self) -> None:
        self._names: OrderedDict[tuple[str, Hashable], frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    def _directory(self, jar: Path, stamp: Hashable) -> frozenset[str]:
        key = (str(jar), stamp)
        with self._lock:
            held = self._names.get(key)
            if held is not None:
                self._names.move_to_end(key)
                return held
        try:
            with zipfile.ZipFile(jar) as archive:
                infos = archive.infolist()
                files = [i.filename for i in infos if len(i.filename) <= MAX_NAME and
                         i.filename.count("/") <= MAX_DEPTH] if len(infos) <= MAX_ENTRIES else []
                names = frozenset(files) | frozenset(_folders(files))
        except (OSError, zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):
            names = frozenset()
        with self._lock:
            for old in [k for k in self._names if k[0] == key[0]]:
                del self._names[old]  # the jar's former stamp
            self._names[key] = names
            while len(self._names) > MAX_JARS:
                self._names.popitem(last=False)
        return names

    def entry(self, jar: Path, stamp: Hashable, name: str) -> str:
        """The entry of the jar that the key's `name` reads ("" for none): itself, or for ``X.java`` the class
        file ``X.class`` (rendered) where the jar has no ``X.java``."""
        names = self._directory(jar, stamp)
        if name in names:
            return name
        if name.endswith(".java") and name[:-len(".java")] + ".class" in names:
            return name[:-len(".java")] + ".class"
        return ""

    def listing(self, jar: Path, stamp: Hashable, folder: str) -> str:
        """The names in the jar's folder `folder` (``a/b/``), as a folder's listing: its files', then its folders'
        (``name/``), each sorted, one a line; "" for none."""
        names = self._directory(jar, stamp)
        if folder not in names:
            return ""
        inside = [n[len(folder):] for n in names if n.startswith(folder) and n != folder]
        files = sorted(n for n in inside if "/" not in n)
        folders = sorted(n for n in inside if n.count("/") == 1 and n.endswith("/"))
        return "\n".join(files + folders)

    def text(self, jar: Path, stamp: Hashable, name: str, cap: int) -> str:
        """The text of the entry `name` reads ("" when too big, binary, or not there); a folder's (``a/b/``) its
        listing."""
        if name.endswith("/"):
            return self.listing(jar, stamp, name)
        entry = self.entry(jar, stamp, name)
        cap = max(cap, ENTRY_BYTES)
        if not entry:
            return ""
        try:
            with zipfile.ZipFile(jar) as archive:
                info = archive.getinfo(entry)
                if info.file_size > cap:
                    return ""
                with archive.open(info) as f:
                    data = f.read(cap + 1)
        except (OSError, zipfile.BadZipFile, KeyError, ValueError, EOFError, RuntimeError, NotImplementedError,
                zlib.error):  # RuntimeError: encrypted; NotImplementedError: a compression zipfile has not
            return ""
        if len(data) > cap:
            return ""
        if entry.endswith(".class"):
            return class_stub(data)
        text = textfile.decode(data)
        return "" if text is None or "\x00" in text[:8192] else text
