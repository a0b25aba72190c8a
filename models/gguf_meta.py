"""Read a GGUF file's metadata (its key-value header) without loading the model.

Only the header is read, and values of keys nobody asked for are skipped, so this costs a few
milliseconds even for a 20 GB file. Used for what llama.cpp's C API reads only through fixed-size
buffers: the chat template (`tokenizer.chat_template`, several kilobytes) and the special token ids.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Iterable, Union

MAGIC = b"GGUF"
# type id -> struct format of the scalar value types (GGUF v2/v3)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
MAX_STRING = 64 << 20  # longer strings are a corrupt file
MAX_ARRAY = 1 << 32  # so are longer arrays (a vocabulary holds some 10^5 tokens)

Value = Union[int, float, bool, str, list]


class GgufError(ValueError):
    """The file is not a GGUF file, or its header is cut or corrupt."""


def read_metadata(path: Path, keys: Iterable[str]) -> dict[str, Value]:
    """The values of `keys` that the header of the GGUF file at `path` holds (others are absent).
    Raises OSError when the file cannot be read and GgufError when it is not a GGUF file."""
    wanted = set(keys)
    found: dict[str, Value] = {}
    with open(path, "rb", buffering=1 << 16) as handle:
        if handle.read(4) != MAGIC:
            raise GgufError(f"{path} is not a GGUF file")
        version = _unpack(handle, "<I")
        if version < 2:
            raise GgufError(f"{path} is GGUF version {version}; versions 2 and 3 are read")
        _unpack(handle, "<Q")  # tensor count
        count = _unpack(handle, "<Q")
        for _ in range(count):
            key = _string(handle)
            kind = _unpack(handle, "<I")
            if key in wanted:
                found[key] = _value(handle, kind)
                if len(found) == len(wanted):
                    break
            else:
                _skip(handle, kind)
    return found


def _unpack(handle: BinaryIO, fmt: str) -> Value:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise GgufError("the GGUF header is cut short")
    return struct.unpack(fmt, data)[0]


def _length(handle: BinaryIO) -> int:
    """The length of the string that follows."""
    size = int(_unpack(handle, "<Q"))
    if size > MAX_STRING:
        raise GgufError("a GGUF string is too long (corrupt header)")
    return size


def _string(handle: BinaryIO) -> str:
    size = _length(handle)
    data = handle.read(size)
    if len(data) != size:
        raise GgufError("the GGUF header is cut short")
    return data.decode("utf-8", "replace")


def _value(handle: BinaryIO, kind: int) -> Value:
    if kind in _SCALARS:
        return _unpack(handle, _SCALARS[kind])
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        item, count = int(_unpack(handle, "<I")), int(_unpack(handle, "<Q"))
        return [_value(handle, item) for _ in range(count)]
    raise GgufError(f"unknown GGUF value type {kind}")


def _skip(handle: BinaryIO, kind: int) -> None:
    if kind in _SCALARS:
        handle.seek(struct.calcsize(_SCALARS[kind]), 1)
    elif kind == _STRING:
        handle.seek(_length(handle), 1)
    elif kind == _ARRAY:
        item, count = int(_unpack(handle, "<I")), int(_unpack(handle, "<Q"))
        if item in _SCALARS:
            if count > MAX_ARRAY:
                raise GgufError("a GGUF array is too long (corrupt header)")
            handle.seek(struct.calcsize(_SCALARS[item]) * count, 1)
        else:
            for _ in range(count):
                _skip(handle, item)
    else:
        raise GgufError(f"unknown GGUF value type {kind}")
