"""TypeScript that tree-sitter-typescript 0.23 (the newest release) cannot parse, rewritten to text it can, of the
same length and lines (every node keeps the file's offsets, so the file's text names it).

Two constructs garbled the rest of a file into ERROR nodes, so its later definitions were never found (185 of
effect 3.10's 360 modules, among them ``pipe`` in Function.ts; 4 of mobx's):
- variance and ``const`` modifiers on type parameters (TypeScript 4.7, 5.0): ``interface Order<in A>``,
  ``RedBlackTree<in out Key, out Value>``, ``<const T extends ...>``; the modifiers become spaces;
- overloads written as call signatures, one per line, in a type literal (effect's ``dual`` APIs)::

      export const map: {
        <A, B>(f: (a: A) => B): (self: Option<A>) => Option<B>
        <A, B>(self: Option<A>, f: (a: A) => B): Option<B>
      } = dual(2, ...)

  the grammar reads the second ``<`` as the first's type arguments; the space before it becomes the ``;`` that
  TypeScript lets separate members.
"""

from __future__ import annotations

import re

# ``<in out Key,``, ``, out Value>``, ``<const T extends``
_MODIFIERS = re.compile(r"([<,][ \t\n]*)((?:(?:in|out|const)[ \t]+)+)(?=[A-Za-z_$][\w$]*[ \t\n]*(?:extends\b|=|,|>))")
# an indented line opening a type parameter list: ``  <A, B>(``, ``  <N extends string>(``, ``  <`` alone
_SIGNATURE = re.compile(r"(?m)^[ \t]+<(?=[ \t]*$|[A-Za-z_$][\w$]*[ \t]*(?:extends\b|,|>|=))")


def repair(text: str, signatures: bool = True) -> str:
    """`text` with the constructs above rewritten (the call signatures only with `signatures`: in TSX a line
    starting ``<div>`` is an element)."""
    if "<" not in text:
        return text
    chars = None
    if signatures:
        for m in _SIGNATURE.finditer(text):
            if _ends_a_member(text, m.start()):
                chars = chars or list(text)
                chars[m.end() - 2] = ";"
    if chars is not None:
        text = "".join(chars)
    return _MODIFIERS.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)


def _ends_a_member(text: str, start: int) -> bool:
    """Whether the code before `start` (comments skipped) ends a type: a name, ``)``, ``]``, ``>`` (not ``=>``)."""
    i = start - 1
    while True:
        while i >= 0 and text[i].isspace():
            i -= 1
        if i >= 1 and text[i - 1:i + 1] == "*/":
            opened = text.rfind("/*", 0, i - 1)
            if opened < 0:
                return False
            i = opened - 1
            continue
        line_start = text.rfind("\n", 0, i + 1) + 1
        if text[line_start:i + 1].lstrip().startswith("//"):
            i = line_start - 1
            continue
        break
    if i < 0:
        return False
    last = text[i]
    return (last.isalnum() or last in ")]_$" or last == ">" and text[i - 1:i + 1] != "=>")
