"""A compiled Java class as a Java stub: bytes of a ``.class`` file in, the declarations a user can call out. Pure.

`class_stub` reads the class file's constant pool, access flags, super class and interfaces, fields and methods
(their descriptors as Java types; the ``Signature`` attribute for generics; parameter names from
``MethodParameters``, else the ``Code`` attribute's ``LocalVariableTable``, else ``arg0``...; ``throws`` from
``Exceptions``; a constant's value from ``ConstantValue``) and writes the public and protected ones as Java::

    package org.apache.commons.lang3;

    public class StringUtils {
        public static final String EMPTY = "";
        public StringUtils() {}
        public static boolean isEmpty(CharSequence cs);
        public static <T> T defaultIfNull(T object, T defaultValue);
    }

Types are written by their simple names (``String``, ``Map.Entry<K, V>``), as a source file with its imports would;
methods end with ``;`` (a constructor with ``{}``: the Java grammar wants a body). Synthetic and bridge members,
static initializers and private or package-private members are left out; so are a Kotlin ``internal`` or
``private`` class (the stub is "") and a file facade's ``internal`` or ``private`` top-level functions and
properties' accessors, public in the class file but not to user code (its ``@kotlin.Metadata``:
`fim.kotlinmetadata`; a multi-file facade's parts, ``BuildersKt__...``, are not read for them). A malformed file
gives "".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional

from fim.kotlinmetadata import CLASS, NOTHING, Hidden, hidden

MAGIC = 0xCAFEBABE
MAX_MEMBERS = 2000  # fields or methods read from one class
PUBLIC, PRIVATE, PROTECTED, STATIC, FINAL = 0x1, 0x2, 0x4, 0x8, 0x10
SYNCHRONIZED, BRIDGE, VARARGS, NATIVE, INTERFACE, ABSTRACT = 0x20, 0x40, 0x80, 0x100, 0x200, 0x400
SYNTHETIC, ANNOTATION, ENUM = 0x1000, 0x2000, 0x4000
_BASE = {"B": "byte", "C": "char", "D": "double", "F": "float", "I": "int", "J": "long", "S": "short",
         "Z": "boolean", "V": "void"}
# constant pool tag -> bytes after the tag (Utf8's length is read)
_SIZES = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2}


class ClassFormatError(ValueError):
    """The bytes are not a class file this reader understands."""


@dataclass
class _Member:
    access: int
    name: str
    descriptor: str
    attributes: dict[str, bytes]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.data):
            raise ClassFormatError("truncated")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def u1(self) -> int:
        return self.take(1)[0]

    def u2(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u4(self) -> int:
        return struct.unpack(">I", self.take(4))[0]


def class_stub(data: bytes) -> str:
    """The Java stub of the class file `data` ("" when it is not one, or is synthetic, private or a module)."""
    try:
        return _stub(data)
    except (ClassFormatError, IndexError, KeyError, ValueError, struct.error, RecursionError):
        return ""


def _stub(data: bytes) -> str:
    r = _Reader(data)
    if r.u4() != MAGIC:
        raise ClassFormatError("not a class file")
    r.take(4)  # minor, major version
    pool = _constant_pool(r)

    def utf8(index: int) -> str:
        value = pool[index]
        if not isinstance(value, str):
            raise ClassFormatError("not a Utf8 entry")
        return value

    def class_name(index: int) -> str:
        entry = pool[index]
        if not isinstance(entry, tuple) or entry[0] != 7:
            raise ClassFormatError("not a Class entry")
        return utf8(entry[1])

    access = r.u2()
    this = class_name(r.u2())
    super_index = r.u2()
    superclass = class_name(super_index) if super_index else ""
    interfaces = [class_name(r.u2()) for _ in range(r.u2())]
    fields = _members(r, utf8)
    methods = _members(r, utf8)
    attributes = _attributes(r, utf8)
    if access & SYNTHETIC or this == "module-info" or this.endswith("/package-info"):
        return ""
    kotlin = _kotlin_hidden(attributes, pool, utf8)
    if kotlin.whole:
        return ""  # a Kotlin ``internal`` or ``private`` class: public in the class file only
    package, _, simple = this.rpartition("/")
    simple = simple.rpartition("$")[2] or simple

    kind = ("@interface" if access & ANNOTATION else "interface" if access & INTERFACE
            else "enum" if access & ENUM else "class")
    modifiers = ["public"] if access & PUBLIC else []
    if kind == "class" and access & ABSTRACT:
        modifiers.append("abstract")
    if kind == "class" and access & FINAL:
        modifiers.append("final")
    header = " ".join(modifiers + [kind, simple])
    signature = _signature(attributes, utf8)
    if signature:
        parser = _Signature(signature)
        header += parser.type_parameters()
        supers = []
        while not parser.done():
            supers.append(parser.reference())
        extends, implements = (supers[0] if supers else ""), supers[1:]
    else:
        extends, implements = _java_name(superclass) if superclass else "", [_java_name(i) for i in interfaces]
    if kind == "class" and extends and extends != "Object":
        header += f" extends {extends}"
    if kind == "interface" and implements:
        header += " extends " + ", ".join(implements)
    elif kind in ("class", "enum") and implements:
        header += " implements " + ", ".join(implements)

    lines = [f"package {package.replace('/', '.')};", ""] if package else []
    lines.append(header + " {")
    constants = [f.name for f in fields if f.access & ENUM]
    if kind == "enum" and constants:
        lines.append("    " + ", ".join(constants) + ";")
    for field in fields:
        if field.access & (PUBLIC | PROTECTED) and not field.access & (SYNTHETIC | ENUM):
            lines.append("    " + _field(field, pool, utf8, kind))
    for method in methods:
        if method.access & (PUBLIC | PROTECTED) and not method.access & (SYNTHETIC | BRIDGE) \
                and method.name != "<clinit>" and not _kotlin_accessor(method.name, kotlin.names):
            if kind == "enum" and method.name == "<init>":
                continue
            lines.append("    " + _method(method, simple, kind, pool, utf8, class_name))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _kotlin_hidden(attributes: dict[str, bytes], pool: list, utf8) -> Hidden:
    """What the class's ``@kotlin.Metadata`` (``k``, ``d1``, ``d2``) hides from user code (`fim.kotlinmetadata`)."""
    raw = attributes.get("RuntimeVisibleAnnotations")
    if raw is None:
        return NOTHING
    r = _Reader(raw)
    for _ in range(r.u2()):
        kind = utf8(r.u2())
        values = {utf8(r.u2()): _element(r, pool, utf8) for _ in range(r.u2())}
        if kind == "Lkotlin/Metadata;":
            k, d1, d2 = values.get("k", CLASS), values.get("d1", []), values.get("d2", [])
            if isinstance(k, int) and isinstance(d1, list) and isinstance(d2, list):
                return hidden(k, [s for s in d1 if isinstance(s, str)], [s if isinstance(s, str) else "" for s in d2])
    return NOTHING


def _element(r: _Reader, pool: list, utf8):
    """An annotation's element value: an int or a str constant, a list of them (others as None)."""
    tag = chr(r.u1())
    if tag in "BCIJSZDF":
        entry = pool[r.u2()]
        return entry[1] if tag in "BCISZ" and isinstance(entry, tuple) else None
    if tag == "s":
        return utf8(r.u2())
    if tag == "e":
        r.take(4)
        return None
    if tag == "c":
        r.take(2)
        return None
    if tag == "@":
        r.take(2)
        for _ in range(r.u2()):
            r.take(2)
            _element(r, pool, utf8)
        return None
    if tag == "[":
        return [_element(r, pool, utf8) for _ in range(r.u2())]
    raise ClassFormatError(f"element value tag {tag}")


def _kotlin_accessor(method: str, names: frozenset[str]) -> bool:
    """Whether `method` is a hidden top-level function of `names` or the getter/setter of a hidden property."""
    if not names:
        return False
    if method in names:
        return True
    for prefix in ("get", "set", "is"):
        rest = method[len(prefix):] if method.startswith(prefix) else ""
        if rest[:1].isupper() and (rest[0].lower() + rest[1:] in names or method in names):
            return True
    return False


def _constant_pool(r: _Reader) -> list:
    """The constant pool: a str for Utf8, (tag, first index, ...) for references, a number or a str's index."""
    count = r.u2()
    pool: list = [None] * max(count, 1)
    i = 1
    while i < count:
        tag = r.u1()
        if tag == 1:
            pool[i] = _modified_utf8(r.take(r.u2()))
        elif tag in (3, 4, 5, 6):
            raw = r.take(_SIZES[tag])
            pool[i] = (tag, struct.unpack({3: ">i", 4: ">f", 5: ">q", 6: ">d"}[tag], raw)[0])
        elif tag in _SIZES:
            raw = r.take(_SIZES[tag])
            pool[i] = (tag, struct.unpack(">H", raw[:2])[0]) if len(raw) == 2 else (tag, raw)
        else:
            raise ClassFormatError(f"constant pool tag {tag}")
        i += 2 if tag in (5, 6) else 1
    return pool


def _modified_utf8(raw: bytes) -> str:
    """Java's modified UTF-8 (NUL as C0 80, supplementary characters as surrogate pairs)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", errors="surrogatepass").encode(
            "utf-16", errors="surrogatepass").decode("utf-16", errors="replace")


def _attributes(r: _Reader, utf8) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for _ in range(r.u2()):
        name = utf8(r.u2())
        out[name] = r.take(r.u4())
    return out


def _members(r: _Reader, utf8) -> list[_Member]:
    count = r.u2()
    if count > MAX_MEMBERS:
        raise ClassFormatError("too many members")
    return [_Member(r.u2(), utf8(r.u2()), utf8(r.u2()), _attributes(r, utf8)) for _ in range(count)]


def _signature(attributes: dict[str, bytes], utf8) -> str:
    raw = attributes.get("Signature")
    return utf8(struct.unpack(">H", raw[:2])[0]) if raw is not None and len(raw) >= 2 else ""


def _java_name(internal: str) -> str:
    """``java/util/Map$Entry`` -> ``Map.Entry``."""
    return internal.rpartition("/")[2].replace("$", ".")


def _modifiers(access: int, kind: str, method: bool) -> list[str]:
    out = ["public" if access & PUBLIC else "protected"]
    if kind in ("interface", "@interface") and out == ["public"]:
        out = []  # implied
    if access & STATIC:
        out.append("static")
    if method and access & ABSTRACT and kind not in ("interface", "@interface"):
        out.append("abstract")
    if method and kind == "interface" and not access & (ABSTRACT | STATIC) and access & PUBLIC:
        out.append("default")
    if access & FINAL and not (kind == "interface" and not method):
        out.append("final")
    if method and access & SYNCHRONIZED:
        out.append("synchronized")
    if method and access & NATIVE:
        out.append("native")
    return out


def _field(field: _Member, pool: list, utf8, kind: str) -> str:
    signature = _signature(field.attributes, utf8)
    java_type = _Signature(signature).type() if signature else _Signature(field.descriptor).type()
    text = " ".join(_modifiers(field.access, kind, False) + [java_type, field.name])
    raw = field.attributes.get("ConstantValue")
    if raw is not None and len(raw) >= 2:
        value = _constant(pool, struct.unpack(">H", raw[:2])[0], field.descriptor, utf8)
        if value is not None:
            text += f" = {value}"
    return text + ";"


def _constant(pool: list, index: int, descriptor: str, utf8) -> Optional[str]:
    entry = pool[index]
    if not isinstance(entry, tuple):
        return None
    tag, value = entry
    if tag == 8:
        text = utf8(value)
        if len(text) > 80:
            return None
        return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if descriptor == "Z":
        return "true" if value else "false"
    if descriptor == "C" and isinstance(value, int):
        return repr(chr(value)) if 32 <= value < 127 and chr(value) not in "'\\" else f"(char) {value}"
    if tag == 5:
        return f"{value}L"
    if tag in (4, 6):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return f"{value!r}F" if tag == 4 else repr(value)
    return str(value)


def _method(method: _Member, simple: str, kind: str, pool: list, utf8, class_name) -> str:
    signature = _signature(method.attributes, utf8)
    parser = _Signature(signature or method.descriptor)
    type_parameters = parser.type_parameters()
    params, returns, throws = parser.method()
    if signature and len(params) != len(_Signature(method.descriptor).method()[0]):
        type_parameters = ""  # an inner class's or an enum's constructor: the signature leaves synthetic ones out
        params, returns, _ = _Signature(method.descriptor).method()
    names = _parameter_names(method, len(params), utf8)
    if method.access & VARARGS and params and params[-1].endswith("[]"):
        params[-1] = params[-1][:-2] + "..."
    if not throws and "Exceptions" in method.attributes:
        raw = method.attributes["Exceptions"]
        count = struct.unpack(">H", raw[:2])[0]
        throws = [_java_name(class_name(struct.unpack(">H", raw[2 + 2 * i:4 + 2 * i])[0])) for i in range(count)]
    words = _modifiers(method.access, kind, True)
    if type_parameters:
        words.append(type_parameters)
    constructor = method.name == "<init>"
    if not constructor:
        words.append(returns)
    text = " ".join(words + [simple if constructor else method.name])
    text += "(" + ", ".join(f"{t} {n}" for t, n in zip(params, names)) + ")"
    if throws:
        text += " throws " + ", ".join(throws)
    default = method.attributes.get("AnnotationDefault")
    if kind == "@interface" and default is not None:
        text += " default ..."
    return text + (" {}" if constructor else ";")


def _parameter_names(method: _Member, count: int, utf8) -> list[str]:
    """Parameter names from ``MethodParameters``, else ``LocalVariableTable``'s slots, else ``arg0``..."""
    fallback = [f"arg{i}" for i in range(count)]
    raw = method.attributes.get("MethodParameters")
    if raw:
        entries = raw[0]
        names = []
        for i in range(min(entries, (len(raw) - 1) // 4)):
            index = struct.unpack(">H", raw[1 + 4 * i:3 + 4 * i])[0]
            names.append(utf8(index) if index else "")
        names = names[-count:] if count else []
        if len(names) == count and all(names):
            return names
    code = method.attributes.get("Code")
    if code is None or count == 0:
        return fallback
    r = _Reader(code)
    r.take(4)  # max_stack, max_locals
    r.take(r.u4())
    r.take(8 * r.u2())
    table: dict[int, str] = {}
    for _ in range(r.u2()):
        name = utf8(r.u2())
        body = r.take(r.u4())
        if name != "LocalVariableTable":
            continue
        for i in range(struct.unpack(">H", body[:2])[0]):
            start, _, name_index, _, slot = struct.unpack(">HHHHH", body[2 + 10 * i:12 + 10 * i])
            if start == 0:
                table.setdefault(slot, utf8(name_index))
    if not table:
        return fallback
    slot = 0 if method.access & STATIC else 1
    names = []
    for kind in _Signature(method.descriptor).method()[0]:
        names.append(table.get(slot, ""))
        slot += 2 if kind in ("long", "double") else 1
    names = names[-count:]
    return names if len(names) == count and all(names) else fallback


class _Signature:
    """A descriptor or a generic signature (JVMS 4.3, 4.7.9.1) read as Java types."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def done(self) -> bool:
        return self.at >= len(self.text)

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            raise ClassFormatError(f"signature {self.text!r}: {char!r} expected at {self.at}")
        self.at += 1

    def until(self, stops: str) -> str:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in stops:
            self.at += 1
        return self.text[start:self.at]

    def type_parameters(self) -> str:
        """``<T:Ljava/lang/Object;U::Ljava/lang/Comparable<TU;>;>`` -> ``<T, U extends Comparable<U>>``."""
        if self.peek() != "<":
            return ""
        self.take("<")
        out = []
        while self.peek() != ">":
            name = self.until(":")
            bounds = []
            while self.peek() == ":":
                self.take(":")
                if self.peek() not in (":", ">", ""):
                    bound = self.reference()
                    if bound != "Object":
                        bounds.append(bound)
            out.append(name + (" extends " + " & ".join(bounds) if bounds else ""))
            if self.done():
                raise ClassFormatError("unterminated type parameters")
        self.take(">")
        return "<" + ", ".join(out) + ">"

    def method(self) -> tuple[list[str], str, list[str]]:
        """(parameter types, return type, thrown types) of ``(...)R^E``."""
        self.type_parameters()
        self.take("(")
        params = []
        while self.peek() != ")":
            params.append(self.type())
        self.take(")")
        returns = self.type()
        throws = []
        while self.peek() == "^":
            self.take("^")
            throws.append(self.reference())
        return params, returns, throws

    def type(self) -> str:
        char = self.peek()
        if char in _BASE:
            self.at += 1
            return _BASE[char]
        return self.reference()

    def reference(self) -> str:
        char = self.peek()
        if char == "[":
            self.at += 1
            return self.type() + "[]"
        if char == "T":
            self.at += 1
            name = self.until(";")
            self.take(";")
            return name
        self.take("L")
        out = _java_name(self.until("<.;"))
        while True:
            if self.peek() == "<":
                out += self.type_arguments()
            if self.peek() == ".":
                self.at += 1
                out += "." + self.until("<.;")
                continue
            self.take(";")
            return out

    def type_arguments(self) -> str:
        self.take("<")
        out = []
        while self.peek() != ">":
            char = self.peek()
            if char == "*":
                self.at += 1
                out.append("?")
            elif char in "+-":
                self.at += 1
                out.append(("? extends " if char == "+" else "? super ") + self.reference())
            else:
                out.append(self.reference())
            if self.done():
                raise ClassFormatError("unterminated type arguments")
        self.take(">")
        return "<" + ", ".join(out) + ">"
