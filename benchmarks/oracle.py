"""Oracle measurement of post-processing per language: no model, the true middle plus what models
really add after it, and the share of completions restored exactly.

    .venv/bin/python -m benchmarks.oracle                  # every language, ~1 min
    .venv/bin/python -m benchmarks.oracle --languages go rust --tasks 300 --json out.json

Code: the pinned sources of the repository-context benchmark (`benchmarks.repo_context.fetch`,
cached in the user cache), library files only, one language per source. From each language,
`--tasks` holes are drawn with `--seed`, each of three kinds:

- **line**: a whole line is the middle; the cursor stands after its indentation on the emptied
  line (an auto-indenting editor), multi-line mode (nothing follows the cursor on its line);
- **rest**: the cursor stands inside a line that ends with closers (``foo(a, b|);``); the middle is
  the text up to them and single-line mode applies (text follows the cursor);
- **block**: a line opening a block (``{`` at its end, ``:`` in Python; in Ruby a line starting
  with ``def``/``class``/``if``/... or ending with ``do``, in Lua one ending with ``then``/``do`` or a
  ``function(...)`` header, in shell one ending with ``then``/``do``/``{`` or a ``case ... in``) with
  its whole body and, but in Python, its closing line at its own indentation (``}``, ``end``, ``fi``,
  ``done``, ``esac``); the cursor stands after the opener's indentation.

Perl's POD blocks and what follows ``__END__`` are text, not code: no hole is drawn there.

Each middle is fed to `fim.postprocess` (`stop_index` while streaming, then `clean_completion`, the
way `server.completion.Completer.complete` runs them, with the language's languageId) followed by
each over-generation: nothing (the model stopped), the suffix's next lines repeated, the next
top-level definition of the file, an extra closing bracket (a dedented ``}``; in Python a dedented
statement; in Ruby, Lua and shell the closing keyword of the enclosing block, at its indentation),
the closers of the line re-typed (rest), and a trailing partial line cut by the token cap
(`server.completion.whole_part`). Restored = the inserted text equals the middle (trailing
whitespace aside). "single-line" reports line and rest holes, "multi-line" block holes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from fim.postprocess import CompletionContext, clean_completion, is_single_line, stop_index

# language -> (LSP languageId, source spec, file extensions)
SOURCES = {
    "python": ("python", "rich==13.9.4", (".py",)),
    "go": ("go", "deb:golang-github-hashicorp-hcl-v2-dev=2.14.1-2", (".go",)),
    "rust": ("rust", "deb:librust-regex-syntax-dev=0.6.27-1", (".rs",)),
    "typescript": ("typescript", "npm:rxjs@7.8.1", (".ts",)),
    "javascript": ("javascript", "npm:axios@1.7.7", (".js",)),
    "java": ("java", "pypi:JPype1==1.5.0//native/java", (".java",)),
    "c": ("c", "pypi:Brotli==1.1.0//c", (".c",)),
    "cpp": ("cpp", "pypi:JPype1==1.5.0//native/common", (".cpp",)),
    "ruby": ("ruby", "deb:ruby-thor=1.2.1-2", (".rb",)),
    "lua": ("lua", "deb:lua-penlight=1.13.1-3//usr/share/lua/5.1", (".lua",)),
    "shell": ("shellscript", "deb:dracut-core=059-4", (".sh",)),
    "perl": ("perl", "deb:libmojolicious-perl=9.31+dfsg-1//usr/share/perl5", (".pm",)),
}
DEFAULT_TASKS = 100  # per kind and language
TARGET_SINGLE, TARGET_MULTI = 0.95, 0.90
_CLOSER_RUN = re.compile(r"[)\]}\"'`;,]+$")
_COMMENT = re.compile(r"^\s*(?:#|//|/\*|\*|\"\"\"|''')")
# Languages whose blocks end with a keyword line: what opens a block, and the line that closes it.
_KEYWORD_OPENS = {
    "ruby": re.compile(r"(?:def|class|module|if|unless|while|until|case|begin|for)\b.*|.*\bdo(?:[ \t]*\|[^|]*\|)?"),
    "lua": re.compile(r".*\b(?:then|do)|.*\bfunction\b[^()]*\([^()]*\)"),
    "shell": re.compile(r".*(?:[;\s](?:then|do)|\{)|case\b.*\bin"),
}
_KEYWORD_CLOSES = re.compile(r"(?:end|fi|done|esac|\})[);,]*")
_CLAUSES = re.compile(r"(?:else|elsif|elif|elseif|when|rescue|ensure|then|do|in)\b|\}")
_SHELL_CLOSERS = (("then", "fi"), ("else", "fi"), ("do", "done"), ("{", "}"), ("in", "esac"))


@dataclass(frozen=True)
class Hole:
    language: str
    path: str
    kind: str  # line | rest | block
    prefix: str
    middle: str
    suffix: str


def _indent(line: str) -> str:
    return line[:len(line) - len(line.lstrip(" \t"))]


def _width(line: str) -> int:
    return len(_indent(line).expandtabs(4))


def holes(language: str, path: str, text: str, rng: random.Random) -> dict[str, list[Hole]]:
    """Candidate holes of each kind in one file."""
    lines = text.replace("\r\n", "\n").split("\n")
    text_lines = _perl_text_lines(lines) if language == "perl" else set()  # POD and __END__: no code
    python = language == "python"
    keyword = _KEYWORD_OPENS.get(language)
    out: dict[str, list[Hole]] = {"line": [], "rest": [], "block": []}
    for i, line in enumerate(lines):
        body = line.strip()
        if not body or _COMMENT.match(line) or i == 0 or i + 1 >= len(lines) or i in text_lines \
                or language == "lua" and body.startswith("--"):
            continue
        if keyword:
            opens = keyword.fullmatch(body) is not None and not _CLAUSES.match(body)
        else:
            opens = body.endswith(":") if python else body.endswith("{")
        if len(body) < 4 and not opens:
            continue
        before = "\n".join(lines[:i]) + "\n"
        after = "\n".join(lines[i + 1:])
        indent = _indent(line)
        if len(body) >= 4:
            out["line"].append(Hole(language, path, "line", before + indent, body, "\n" + after))
        run = _CLOSER_RUN.search(body)
        if run and run.start() > 2:
            inner = body[:run.start()]
            cuts = [m.end() for m in re.finditer(r"[(\[{,.=\s]", inner)
                    if m.end() < len(inner) and not inner[m.end()].isspace()]
            if cuts:
                cut = rng.choice(cuts)
                out["rest"].append(Hole(language, path, "rest", before + indent + inner[:cut], inner[cut:],
                                        body[run.start():] + "\n" + after))
        if opens and not body.startswith(("}", "else", "elif", "except", "finally", "case", "default")):
            end = i + 1
            while end < len(lines) and (not lines[end].strip() or _width(lines[end]) > _width(line)):
                end += 1
            if end >= len(lines) or end == i + 1:
                continue
            closer = _KEYWORD_CLOSES if keyword else re.compile(r"\}[);,]*")
            closing = not python and closer.fullmatch(lines[end].strip()) is not None \
                and _width(lines[end]) == _width(line)
            if not python and not closing:
                continue
            last = end + 1 if closing else end
            block = lines[i:last]
            while block and not block[-1].strip():
                block.pop()
            if len(block) > 25:
                continue
            middle = "\n".join([body] + block[1:])
            rest = "\n".join(lines[i + len(block):])
            out["block"].append(Hole(language, path, "block", before + indent, middle, "\n" + rest))
    return out


def _perl_text_lines(lines: list[str]) -> set[int]:
    """The lines of POD blocks (``=head1`` ... ``=cut``) and from ``__END__`` on."""
    out: set[int] = set()
    pod = False
    for i, line in enumerate(lines):
        if re.match(r"__(?:END|DATA)__\b", line):
            return out | set(range(i, len(lines)))
        if re.match(r"=[A-Za-z]", line):
            pod = not line.startswith("=cut")
            out.add(i)
        elif pod:
            out.add(i)
    return out


def _next_definition(text: str, language: str) -> str:
    """The first top-level definition of the file (what a model writes after finishing a hole)."""
    pattern = {
        "python": r"(?m)^(?:def |class |async def )",
        "ruby": r"(?m)^(?:def |class |module )",
        "lua": r"(?m)^(?:function |local function )",
        "shell": r"(?m)^(?:function |[A-Za-z_][\w-]*[ \t]*\(\))",
        "perl": r"(?m)^sub ",
    }.get(language, r"(?m)^(?:func |fn |pub fn |export |function |public |static |int |void |class |struct )")
    m = re.search(pattern, text)
    if not m:
        return ""
    return "\n".join(text[m.start():].split("\n")[:4])


def _enclosing_closer(language: str, prefix: str, indent: str) -> str:
    """The closing line of the innermost block around the cursor in a keyword language (`end`; `fi`, `done`,
    `esac`, `}`), at the indentation of the line that opened it; "" at the top level. Lines less indented
    than the cursor that open no block (a continued command, a shell case item) are passed over."""
    width = _width(indent)
    for line in reversed(prefix.split("\n")[:-1]):
        body = line.strip()
        if not body or _COMMENT.match(line) or _width(line) >= width:
            continue
        width = _width(line)
        if _KEYWORD_OPENS[language].fullmatch(body) or re.match(r"(?:else|elsif|elseif|when|rescue|ensure)\b", body):
            if language != "shell":
                return _indent(line) + "end"
            return _indent(line) + next(closer for opener, closer in _SHELL_CLOSERS if body.endswith(opener))
    return ""


def overgenerations(hole: Hole, next_definition: str) -> dict[str, str]:
    """What a model adds after the true middle, by kind of over-generation."""
    suffix_lines = [line for line in hole.suffix.split("\n") if line.strip()]
    indent = _indent(hole.prefix[hole.prefix.rfind("\n") + 1:])
    out = {"eos": hole.middle, "suffix": hole.middle + "\n" + "\n".join(suffix_lines[:3])}
    # At the top level a next definition or a statement is as likely as the end: only inside a block
    # can they be told from the hole's own code.
    if next_definition and indent:
        out["next-definition"] = hole.middle + "\n\n" + next_definition
    if hole.kind == "rest":
        closers = hole.suffix.split("\n", 1)[0]
        out["closers"] = hole.middle + closers + "\n" + (suffix_lines[1] if len(suffix_lines) > 1 else "")
    elif indent:
        if hole.language == "python":
            dedent = indent[:-4] if len(indent) >= 4 else ""
            out["extra-closer"] = hole.middle + "\n" + dedent + "return None"
        elif hole.language in _KEYWORD_OPENS:
            closer = _enclosing_closer(hole.language, hole.prefix, indent)
            if closer:
                out["extra-closer"] = hole.middle + "\n" + closer
        else:
            unit = "\t" if indent.startswith("\t") else "    "
            dedent = indent[:-len(unit)] if len(indent) >= len(unit) else ""
            out["extra-closer"] = hole.middle + "\n" + dedent + "}"
    if hole.kind != "rest":
        partial = suffix_lines[0].strip()[: max(2, len(suffix_lines[0].strip()) // 2)] if suffix_lines else "x"
        out["partial-line"] = hole.middle + "\n" + indent + partial
    return out


def restore(hole: Hole, generated: str, language_id: str, truncated: bool) -> str:
    """What the server would insert for `generated` (as `Completer.complete` does)."""
    from server.completion import whole_part

    ctx = CompletionContext(hole.prefix, hole.suffix, language=language_id)
    single = is_single_line(ctx)
    # Streaming: the generation stops where stop_index first says so.
    stop = None
    for k in range(1, len(generated) + 1):
        if generated[k - 1] == "\n" or k == len(generated):
            stop = stop_index(generated[:k], ctx, single)
            if stop is not None:
                generated = generated[:stop]
                truncated = False
                break
    if truncated:
        generated = whole_part(generated, ctx, single)
    return clean_completion(generated, ctx, single)


def measure(language: str, files: dict[str, str], tasks: int, seed: int) -> list[dict]:
    language_id = SOURCES[language][0]
    rng = random.Random(f"{seed}:{language}")
    pools: dict[str, list[Hole]] = {"line": [], "rest": [], "block": []}
    definitions: dict[str, str] = {}
    for path in sorted(files):
        for kind, found in holes(language, path, files[path], rng).items():
            pools[kind] += found
        definitions[path] = _next_definition(files[path], language)
    records = []
    for kind, pool in pools.items():
        rng.shuffle(pool)
        for hole in pool[:tasks]:
            for name, generated in overgenerations(hole, definitions[hole.path]).items():
                got = restore(hole, generated, language_id, truncated=name == "partial-line")
                records.append({"language": language, "kind": kind, "overgeneration": name, "path": hole.path,
                                "ok": got.rstrip() == hole.middle.rstrip(), "middle": hole.middle, "got": got})
    return records


def summary(records: Sequence[dict]) -> dict:
    out: dict[str, dict] = {}
    for r in records:
        row = out.setdefault(r["language"], {"single": [0, 0], "multi": [0, 0]})
        cell = row["multi" if r["kind"] == "block" else "single"]
        cell[0] += r["ok"]
        cell[1] += 1
    return {lang: {k: (v[0] / v[1] if v[1] else float("nan"), v[1]) for k, v in row.items()} for lang, row in out.items()}


def library_files(spec: str, extensions: tuple[str, ...]) -> dict[str, str]:
    from benchmarks.languages import is_library
    from benchmarks.repo_context import fetch, index_workspace

    package = fetch(spec, lambda message: print(message, file=sys.stderr))
    project, _ = index_workspace(package.root)
    return {p: t for p, t in project.index.snapshot().items() if p.endswith(extensions) and is_library(p)
            and "/test" not in p and not p.startswith("test")}


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.oracle", description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="+", default=list(SOURCES), choices=list(SOURCES))
    parser.add_argument("--tasks", type=int, default=DEFAULT_TASKS, help="holes per kind and language")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="every record (middle, what was inserted)")
    args = parser.parse_args(argv)
    records: list[dict] = []
    for language in args.languages:
        _, spec, extensions = SOURCES[language]
        records += measure(language, library_files(spec, extensions), args.tasks, args.seed)
    table = summary(records)
    print(f"oracle restoration (true middle + over-generation), {args.tasks} holes per kind, seed {args.seed}")
    print(f"  {'language':11} {'single-line':>18} {'multi-line':>18}")
    ok = True
    for language, row in table.items():
        single, multi = row["single"], row["multi"]
        ok &= single[0] >= TARGET_SINGLE and multi[0] >= TARGET_MULTI
        print(f"  {language:11} {single[0]:8.3f} ({single[1]:5d})   {multi[0]:8.3f} ({multi[1]:5d})")
    print(f"  targets: single-line >= {TARGET_SINGLE}, multi-line >= {TARGET_MULTI}: {'met' if ok else 'NOT met'}")
    by = {}
    for r in records:
        if not r["ok"]:
            key = (r["language"], r["kind"], r["overgeneration"])
            by[key] = by.get(key, 0) + 1
    if by:
        print("  failures by language, hole and over-generation: "
              + ", ".join(f"{'/'.join(k)} {n}" for k, n in sorted(by.items(), key=lambda kv: -kv[1])[:12]))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": table, "records": records}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
