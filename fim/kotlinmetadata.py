"""What a Kotlin class file's ``@kotlin.Metadata`` says user code outside its module cannot use. Pure.

Kotlin compiles ``internal`` classes and top-level functions to public JVM classes and methods: only the metadata
annotation tells them apart. `hidden` reads it: ``k`` (the kind: 1 a class, 2 a file facade, 5 a multi-file
facade's part), ``d1`` (protobuf bytes, each string's characters the bytes, after a NUL marker) and ``d2`` (the
string table), and gives whether the class itself is ``internal``, ``private`` or local (``ProtoBuf.Class`` field
1, its flags: visibility bits 1-3, 0 internal, 1 private, 4 private to this, 5 local) and, for a facade or a part,
the names of its top-level functions and properties none of whose declarations is public or protected (``Package``
fields 3 and 4; a function's flags field 9, a property's 11, their name field 2 an index into ``d2``). Metadata
written in the older 7-bit encoding, a name through the string table's records, or bytes this reader does not
follow give nothing hidden: the class is offered as before.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Sequence

CLASS, FILE_FACADE, MULTIFILE_PART = 1, 2, 5
_HIDDEN = frozenset({0, 1, 4, 5})  # internal, private, private to this, local
_DEFAULT_FLAGS = 6  # public, final


class Hidden(NamedTuple):
    """The class is not for user code (`whole`); else the top-level names of a facade that are not (`names`)."""

    whole: bool
    names: frozenset[str]


NOTHING = Hidden(False, frozenset())


def hidden(kind: int, d1: Sequence[str], d2: Sequence[str]) -> Hidden:
    """What the metadata (``k``, ``d1``, ``d2``) of a class file hides from user code (see the module)."""
    data = _bytes(d1)
    if data is None or kind not in (CLASS, FILE_FACADE, MULTIFILE_PART):
        return NOTHING
    try:
        at, plain = _string_table(data)
        return _class(data, at) if kind == CLASS else _package(data, at, d2, plain)
    except (IndexError, ValueError):
        return NOTHING


def _bytes(d1: Sequence[str]) -> Optional[bytes]:
    if not d1 or not d1[0].startswith("\x00"):
        return None  # the 7-bit encoding of old compilers: not read
    text = d1[0][1:] + "".join(d1[1:])
    if any(ord(c) > 0xFF for c in text):
        return None
    return text.encode("latin-1")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
        if shift > 63:
            raise ValueError("varint")


def _fields(data: bytes, at: int, end: int):
    """(field number, wire type, value: an int, or the (start, end) of a length-delimited one) of a message."""
    while at < end:
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, wire, value
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > end:
                raise ValueError("truncated")
            yield number, wire, (at, at + length)
            at += length
        elif wire == 5:
            at += 4
        elif wire == 1:
            at += 8
        else:
            raise ValueError("wire type")
    if at != end:
        raise ValueError("truncated")


def _string_table(data: bytes) -> tuple[int, list[bool]]:
    """(where the message after the string table's types starts, for each index of ``d2`` whether a name there is
    ``d2``'s string itself: its record, if any, neither predefined, nor given, cut or changed)."""
    length, start = _varint(data, 0)
    end = start + length
    if end > len(data):
        raise ValueError("truncated")
    plain: list[bool] = []
    for number, wire, value in _fields(data, start, end):
        if number == 1 and wire == 2:  # a record for a range of indexes
            span, as_is = 1, True
            for field, _, item in _fields(data, *value):
                if field == 1 and isinstance(item, int):
                    span = item
                elif field in (2, 4, 5, 6):
                    as_is = False
            plain.extend([as_is] * min(span, 1 << 16))
    return end, plain


def _visibility(flags: int) -> int:
    return (flags >> 1) & 7


def _class(data: bytes, at: int) -> Hidden:
    flags = _DEFAULT_FLAGS
    for number, wire, value in _fields(data, at, len(data)):
        if number == 1 and wire == 0:
            flags = value
            break
    return Hidden(_visibility(flags) in _HIDDEN, frozenset())


def _package(data: bytes, at: int, d2: Sequence[str], plain: Sequence[bool]) -> Hidden:
    visible: dict[str, bool] = {}
    for number, wire, value in _fields(data, at, len(data)):
        if number in (3, 4) and wire == 2:  # a function, a property
            flags, name = _DEFAULT_FLAGS, -1
            for field, kind, item in _fields(data, *value):
                if field == (9 if number == 3 else 11) and kind == 0:
                    flags = item
                elif field == 2 and kind == 0:
                    name = item
            if 0 <= name < len(d2) and (name >= len(plain) or plain[name]):
                visible[d2[name]] = visible.get(d2[name], False) or _visibility(flags) not in _HIDDEN
    return Hidden(False, frozenset(n for n, shown in visible.items() if not shown))
