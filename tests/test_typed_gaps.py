"""Gaps of the name-being-typed lookups: a block comment an earlier line opens, the ``using namespace`` scan per
keystroke, a default-imported class's members (TypeScript), Kotlin ``internal`` classes and functions in jars."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

from fim.context import select_context
from fim.cppnamespaces import cursor_qualified
from fim.cppusing import using_namespaces
from fim.cprefix import cursor_identifier
from fim.kotlinprefix import cursor_name
from fim import linecode
from fim.typedclasses import class_cursor_name
from tests.test_cppnamespaces import big_library, installed_libraries
from tests.test_java_dependencies import installed, jar, write
from tests.test_kotlin_facades import BUILD, JAR, PATH, repository
from tests.test_kotlin_prefix import DELAY, typed


def test_a_name_typed_in_a_block_comment_an_earlier_line_opens_is_no_name_to_look_up() -> None:
    assert cursor_identifier("/* usage:\n *   git_repo") is None
    assert cursor_qualified("int x;\n/* e.g.\n   fmt::for") is None
    assert cursor_name("/**\n * Starts with lau") is None and class_cursor_name("/**\n * See Dispat") is None
    # closed before the line, closed on it, or no comment at all (a ``/*`` in a string or a ``//`` comment)
    assert cursor_identifier("/* a */\nint n = git_repo") == "git_repo"
    assert cursor_identifier("/* a\n b */ git_repo") == "git_repo"
    assert cursor_identifier('const char *s = "/*";\ngit_repo') == "git_repo"
    assert cursor_identifier("// see /* below\ngit_repo") == "git_repo"
    assert cursor_name("val s = \"/*\" // /*\n    lau") == "lau"
    # a comment opened, its text quoting ``/*``, and a string on the cursor's line still in it
    assert not linecode.code_before('/* one\n  "/*" two\n  x = "a" + git', "git")
    assert linecode.code_before("/* one */ x = 1; /* two */\n  git", "git")


def test_a_cpp_namespace_typed_in_a_comment_s_second_line_brings_nothing(tmp_path: Path) -> None:
    installed_files = installed_libraries(tmp_path)
    big_library(tmp_path)
    for text, expected in (("#include <biglog.h>\n\n/* usage:\n    biglog::in", False),
                           ("#include <biglog.h>\n\n/* usage: */\n    biglog::in", True)):
        snippets = select_context("src/app.cc", text, 3, {"src/app.cc": text}, [], None, 20000, (0, 4),
                                  installed=installed_files, cursor_character=14)
        got = {s.source: s.text for s in snippets}.get("c-include/0/biglog.h", "")
        assert ("void info(const char *message);" in got) is expected, text


def test_a_kotlin_name_typed_in_a_kdoc_brings_no_facade(tmp_path: Path) -> None:
    files = installed(tmp_path, repository(tmp_path, sources=True))
    for inside, expected in ((True, False), (False, True)):
        document, line = typed("    del", "/**\n * Runs it\n" if inside else "/** Runs it */\n")
        document = document.replace("fun go(scope: CoroutineScope) {\n", "")
        snippets = select_context(PATH, document, document.count("\n"), {PATH: document}, [], None, 6000,
                                  (0, 8), installed=files, cursor_character=len(line))
        assert (DELAY in {s.source for s in snippets}) is expected


def test_typing_on_a_line_reuses_the_scan_of_the_lines_above() -> None:
    from fim.cppusing import _head_blocks

    head = "using namespace spdlog;\n" + "".join(f"int f{k}() {{ return {k}; }}\n" for k in range(2000))
    _head_blocks.cache_clear()
    for typed_ in ("in", "inf", "info"):
        assert using_namespaces(head + "void g() { " + typed_) == ["spdlog"]
    assert _head_blocks.cache_info().misses == 1 and _head_blocks.cache_info().hits == 2
    # the cursor's line's own directive and blocks count; a comment the lines above leave open goes on in it
    assert using_namespaces(head + "void g() { using namespace fmt; pri") == ["spdlog", "fmt"]
    assert using_namespaces(head + "} using namespace fmt; } pri") == ["spdlog", "fmt"]
    assert using_namespaces(head + "/* a\nusing namespace fmt; */ pri") == ["spdlog"]
    # an alias the text before the cursor declares reads as its path; one below the cursor is not in effect there
    assert using_namespaces("namespace sl = spdlog;\nusing namespace sl;\nvoid f() { inf") == ["spdlog"]


CLIENT = ("".join(f"export declare function util{k}(value: number, other: string): string;\n" for k in range(400))
          + "export interface Options {\n    retries: number;\n}\n"
          + "export default class Client {\n    constructor(url: string, options?: Options);\n"
          + "".join(f"    helper{k}(value: number): string;\n" for k in range(400))
          + "    static connect(url: string): Client;\n}\n")


def test_a_default_imported_class_s_static_members_come_from_its_export_default(tmp_path: Path) -> None:
    from server.dependencies import InstalledFiles
    from tests.test_namespaces import context

    for rel, text in {"node_modules/netclient/package.json": '{"name": "netclient", "types": "index.d.ts"}',
                      "node_modules/netclient/index.d.ts": CLIENT}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    files = InstalledFiles(None, lambda rel: tmp_path / rel, 256 * 1024)
    for document in ('import Client from "netclient";\n\nconst c = Client.con',
                     'import Client from "netclient";\n\nconst c = Client.connect("ws://x");\n'):
        got = context(document, files)
        assert "static connect(url: string): Client;" in got and "export default class Client {" in got, document
    assert "helper7(" not in got  # a static member used: under the class's head, not all its members


def test_the_name_a_declaration_file_exports_as_default() -> None:
    from fim.namespaces import export_default

    assert export_default("export declare function f(): void;\nexport default class Client {\n}\n") == "Client"
    assert export_default("export default abstract class Base {}\n") == "Base"
    assert export_default("export default function slugify(text: string): string;\n") == "slugify"
    assert export_default("declare const api: Api;\nexport default api;\n") == "api"
    assert export_default("declare class K {}\nexport { K as default, other };\n") == "K"
    assert export_default("export = ts;\nexport function f(): void;\n") == ""


DISPATCHERS = zlib.decompress(base64.b64decode(  # kotlinx-coroutines-core 1.0.1's Dispatchers.class
    "eNqVVFtT21YQ/o4QliwECJNwMdcmEC5NENCmpQ29EAiNg7FbTJh0eBL2CREYidGRGR55av9Hn/pYYKbppDMdhr71R3W6RzaYi8qAx3Muu9/ut7"
    "tnV//8++EvANNYY+jf9sOy6+3bRT/wK6HrcWEvuGLXCYvveCA0MAZry9lz7LLjbdr5jS1eDDU0MGgL/K1TKYcMo9kYJ/Nnx7q3ZwwPs36waW/x"
    "cCNwXE/Yjuf5oRO6Pp1zfpirlMuEaq+5HrqgZmgYHaOAO2pk9tbejv1qb6cg9UUyMjZ5eB7S+OjYbYMy0YhEEgqaKdNliuoyq0ZupZRhIt6nVM"
    "YnO/I/6Doo6zslHmhIUfilcynD47sQmbiH+0m0o4O8vPaKvveWACUqVf1yOaeJOPcv9nd54O5wL3TK5zRibtelTJqpCHVnJrqqFetlUDJ5hpZM"
    "/jJBI+EzeRP9VdxHDIlZ13PDr008RNKAiiEGNXznEnYwe3MLEr2eyRVW53LzL+g4WyxHnhjazjphmYdOyQkdQio7ew3U2kwurXTdiK6QC7Us2y"
    "ZRaYrhw8lBr6F0KYZinRwYiq5UL7p2tut//6R0nRxMK5PsuaYrp78kFEtZ6bUa0sqkOpN4c/qzSrIW4+QgpeqNlpJW9YSlEUCPAyQjgEGAtNVE"
    "AHNmsQYwSdscaVusVjK34szbIkDK0k5/TbTLDKYZpQi12padtfI9qZdPHrlBhR8yMYoR+QRfMAzfNBDzvhfy/XCJZpvK2FkMuBPy2jjVH8PEVz"
    "ANzILK3xfjrt4jGr5lGMjeiHkmo3uexBzmGR7dblw1UBNMxGAFaUsVkm7atbALVYm0+Y5hMns3oyi4TBIv8crEoMz6JbLU6hc6c2KbvjQ9KxUv"
    "pLHJeHuucDfKfO7iIKjzfonTWC7w3YAXqaQ0lt01i7UYfGuW4spVdjZ4sOqQkiGV9YtOec0JXHmvCY2CXwmKfNEtc0zR66rU3yrS8ktGjZGnm9"
    "w12tNyVq/J+q/JumWj0G5YSehI0sR8T7dmVH/sMNp+iNaVmpkRmTXBpAAkuJdk8qceoeU3aYRCDQkq4AUyomi9C4WFtusUnVcpnl6h6CYK9XYU"
    "Z4bpiK4nLqO+q3SZK3QDd8loMI7iwVWKN5deSJGfTjpLK5t2iWgcf4/hw0hZN+vAKq1mFYBH0bPqGDs3zhBa6ob/hPLje8wsjR/jyz/wzTFajr"
    "BwgsVj9B1h6XcsH+PB4XlMqajLOiCnIUVOeig+Ba8j8lyU3y4hx4ny43U0ZPA4+j/BxNnNzmASU3TE9DqYwCf4dB33BEYEngokBRoFEgK6QJOA"
    "KdAvMCAwKPCZwH2BVgFLoE2gS6BboEfg8/8AaY3xWA=="
))
DISPATCH_EXCEPTION = zlib.decompress(base64.b64decode(  # kotlinx-coroutines-core 1.0.1's DispatchException.class
    "eNqNUltPE0EU/mYL22UtUIqVi4goyB0WeK0x3pPGAiqkL7w4XSbttNtZsjOtPPa3+OSrTxofTMOjP8p4dlugCZi42T2Xb85tvzO///z8BWAP2w"
    "xLjdAEUp17fhiFLSOV0N5rqc+48Wtvzn1xZmSo0mAMs3Xe5l7AVdX72FJGNsXAeYrBfiqVNM8Y1ldL16FHJpKqWhhAjmtR+JlXAlFYKzMslsKo"
    "6tWFqURcKu1xpULD46LaOwjNQSsICgzpptCaV4UDh2G+N7JXbzc9qYyIFA+8ooobaenrNFyGKb8m/MZ7HvGmoIii7tdiWBmc7rBSF74p3Jx3rZ"
    "xBBqMu7mCMYdjnLU3NsxkMw3YxhBzDkKlJzbBc+h8G6R9yN7sw5G8lhmGiX9XbF4afcsMJs5rtFK2NxWKc3EriIhZEP2sQdLrL8K7bmXOtaevq"
    "63ZcKzvWUynXciyn25nudvbsHVa3Plkv8zk7m5q1doZID5O2L77YVjZ98dV24pJ7DHOlf++eBpu5HPaWM9Au+gRtXRMUm4Jh9CpSbzcMUfoqPC"
    "V4vEQxB61mRUTHMR8xd6HPgzKPZOz3waV+u6JqSy0Julr3i+tLxOAeha3IF29lnDPTzyn3MgYCsQuLFhs/RGa8Z/JXyftADMccT27kRn5gfDM3"
    "QXJ9Y/M7Jr8RbGGNpE0pGTzHOtkLvXDcRT4pNwkH9+g8trKYoowNskctgtJJt3RSZjORK9gifUjoNM0wc4JUEbPJex9zl96DIubxkEwsnIBpPM"
    "LjE4xo5DUWNZY0HI0nGtlE2hrLfwFybPzD"
))
CANCELLABLE_KT = zlib.decompress(base64.b64decode(  # kotlinx-coroutines-core 1.0.1's CancellableContinuationKt.class
    "eNrNWFtXG9cV/o6uwwC2rBDbCNuRkWwLARaSbxiwWswlyIhLkcDFbpsO0gCDpBmqGVGnl5SmbdL7e7uStMlDV9/aOm1Mm5UulvvS1fyD/oC+9S"
    "/U3Wc0EgIkLo67VtdCM+fs2Wfvb1/POfzjP3/5K4AYfs7Qk9OMvKI+imS0olYyFFXWIyOSmpHzeWkpL49oKtFKkqFo6qThBmPwrEkbUiQvqSuR"
    "maU1OUNUO0OHXtLXZTW7a60lkSEdSpb1RNY2CpHlkprhAvXIuDWKDla+18Ko0T3YldyrdpDh8VB6YD89fpiyod7k0a0e6k2nB+NVfPOqYtRMG8"
    "C1FtUBbSfHg8Ffg1BRDbmoSvlIQiWSPCUVc3LRjSYGR4HG9AoluhZa0IwWESJaGa4eHX6isJ534yRD137EpLioqLqS0Ul1ZcijfIqh2USVkdcN"
    "OctwN3R4fA5haMFLaBPhxcsMriGF3BhnCB4q17T8DM6K8KCdwcsXVk1V8orxOoM9xJk6cI4znWe4cHD43XiFICjqhpaj1Lwc2h+kOnFrwUV0Ns"
    "OPAEPTimzMyXopbzC0heoyX8JlDuYKw2liHpmZm5lPJ6bHXkvNp2bHpkfHRlvQxVm8CFdrsNYHu/JiVF4qrcwWtSXZjE4Pw5l1PqsWWKpcezxS"
    "gcMjRb66ioiIXvRRnDM7ecPQlzxeZlENOkucSBl9mF6GTFAJSsHeSqeo8FFJ7eTaTHFONkpFtbdhEwoe0GmCMQaWIFBLeS2TqwHVqO0QC4FaDh"
    "7YvS4cbJkbJOaiJWHY0ApKpr6c+dCD/0kb/LBBG3zwf9wHGcL1lCesnK96TR9eV4hZeaGp0zhIPIG8q1o+u7fHsAfUKmpT5aBAdx2uJysvS2YD"
    "Wf3sSZE4UgejXlWUC9qGPKNWEPHVVJahY6TBYD3eaqdKUtWNF2U5qag5OZtUdGNay8rUchiWj6NlKBx/bkWBpFZciazJxlJRoi0tIqmqZkhln0"
    "5rxnQpz9uWL2isKnqwnkcETO7eQ2o26Mou6cYUdeHMqpzJzUpFqSATR0K3xDNcqbOp1FBSXMyK2YlnMCtiGl+gXV4lCwSkqJfUsXxuF1A35hlu"
    "hZ7PRXw/vS9iAV+kDbhhTCYkNZuXi3clXXaDkj989Oi58SVKtvIGuzfZAoeeBDnAr+C1ZnwZX6ViLMdJ0i08QWWDCjF5FNgU5VNmxdIOPFxZT7"
    "vtcbKd4frzOJnh5ayir2v6PvvTn7nYRk3BnLVskpn0919EddWV3FEOQF1zBKzRSWrVZBZAed/ZUGpN6pIXQqEj6ue5ui5Cw9cYLh1pDQW9kmFT"
    "siFlJUMimq2wwU/ejD/oMGxbMqd0b2E5PrARKRtl+Pf2Zki0CXbR5mkWtzdF21lb+eehn+Asj4UybXvTd8dDD9sE63QI25seFhMEYvTZ+uwxn+"
    "DwOHxtXtEreB1eYulz8Xefu8858fTtib9tse3Npx+4bB7Bd83TVCvjwJVv1awUfWc9zaTMHXZ5CXKfK+bytNC8dcJNX07s+XKS5p4JWvqmzUEm"
    "tD/9resUN5ofmNKMX0m8FbfVno7OWC7v3XE5H9Ie52uQXFdztKk5RqgKGFpThpTJTUnr6fLx8iSViTxdKizJRYvipQKS8gtSUeFzi9iUUlZUib"
    "ZyGnfMlUh2QU6oG4qu0OfhnXZO7Wvv12oz3sUmprQSHRLGFS69rTwxD9VjjwyZ+jkvzHZL1MI+NYjCBge/t8EJH/1cNP8+zf5OVBe9417hjn0L"
    "J7qn7TcdH8Oz2LuF044n8A04250f4UK43flnBG24z2chLG6h+zdwd28h6qBVv+eJiB/Q0wf2DLfhcsPvxhAr/zyghwNv0fcLoKs23kEL3iXe9/"
    "AKfkXifk2n+XdwB+/jbeK5bmJ8iS7312jURBeR67hBq1rQiZu4ZdoRRz+p4VoHMUA0G37Ia4Ck+0hOnOjcun8Sr5veo14hzq3rGXDYbzq5ee0E"
    "+7Sd2+fy/RJCu4ts7G53WTa6amzs2WfjOdieESg322MkFndb+Rit+JC4/0jMfyILPyI7HmMET0wr4+T3c9QauJUuuhOHTSsdtOYKhskiJ8eNu8"
    "QPc8TtpXsifRulr3bL3s/hR/R20ZfPAx4BYxi3Ivsvy/bJ8443fgGnfdD+Al1wHnbhGQIH+aATAuH6HUTmRxu7SJfOTrr2BXCDBemy4cc9dqnq"
    "h0DVD6eqfmir8cNk1Q+Tlh/Eqh9q7Ec7XsWEFftvW5ndG/YmtzDX7U3TM/wxFha7n2BxGw+nyBPxnm34KcUdPL0lG/5gOpXDP2Em3Cd0F79MQD"
    "4xoYZJZAcJXUKGuM7TLGtCICUETDYB9iKFZYJTDk8CP6Z3q40I98x/mtwzUa5glRbvQZkzURbKKDWOsnhElJ8SyiuE8tNDUa5VUeahV1Equ5xY"
    "B7EdPzEZv4efEmk5NTU8KzbuneKk2XDFcMpfGY2L3f6o/4Alx/kXHsmK+Uc0urvLnGCdihpJ2ctH68NJMRqI9sT6bw1ExeitfhrfHIj194vR24"
    "HYQOz29crghhge2zHDbLcv2haOpf92IGqqjfVdM0emXvyMfL5GETCoBkoPYU9gw/z7Oh5VZkICr+MbCXwT33oIplM6vfEQXh13dHxHx10dmzr6"
    "dXxXh2yO4zqcOlw6VnTkdeg6XtWR0rGs483/Auz+H28="
))


def kotlin_jar(tmp_path: Path) -> Path:
    """kotlinx-coroutines-core 1.0.1 with three of its class files: the public ``object Dispatchers``, the
    ``internal class DispatchException`` and the facade with ``internal fun ...removeOnCancellation``."""
    maven = tmp_path / "m2"
    jar(maven / (JAR.split("/", 1)[1] + ".jar"),
        {"kotlinx/coroutines/Dispatchers.class": DISPATCHERS,
         "kotlinx/coroutines/DispatchException.class": DISPATCH_EXCEPTION,
         "kotlinx/coroutines/CancellableContinuationKt.class": CANCELLABLE_KT})
    write(tmp_path / "ws", {"build.gradle": BUILD})
    return maven


def test_kotlin_internal_classes_and_top_level_functions_are_not_offered(tmp_path: Path) -> None:
    from fim.classfile import class_stub
    from fim.imports import imported_modules
    from fim.typedclasses import typed_definitions

    assert class_stub(DISPATCH_EXCEPTION) == "" and "public final class Dispatchers {" in class_stub(DISPATCHERS)
    facade = class_stub(CANCELLABLE_KT)
    assert "disposeOnCancellation(" in facade and "removeOnCancellation(" not in facade
    files = installed(tmp_path, kotlin_jar(tmp_path))
    got = {}
    for typed_ in ("Dispat", "removeOnC", "disposeOnC"):
        document = f"package app\n\nimport kotlinx.coroutines.*\n\nfun go() {{\n    val x = {typed_}"
        got[typed_] = typed_definitions(f"    val x = {typed_}", imported_modules(document, "kotlin"), document, PATH,
                                        files)
    assert got == {"Dispat": {f"{JAR}.jar!/kotlinx/coroutines/Dispatchers.java": ["Dispatchers"]}, "removeOnC": {},
                   "disposeOnC": {f"{JAR}.jar!/kotlinx/coroutines/CancellableContinuationKt.java":
                                  ["disposeOnCancellation"]}}


def _message(*fields: tuple[int, object]) -> bytes:
    """A protobuf message of varint (int) and length-delimited (bytes) fields."""
    def varint(n: int) -> bytes:
        out = b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out
    return b"".join(varint(number << 3) + varint(value) if isinstance(value, int)
                    else varint(number << 3 | 2) + varint(len(value)) + value for number, value in fields)


def test_the_metadata_reader_hides_what_its_string_table_names_plainly() -> None:
    from fim.kotlinmetadata import FILE_FACADE, hidden

    internal, public = 0 << 1, 3 << 1  # the visibility bits of a declaration's flags
    functions = _message((3, _message((9, internal), (2, 0))), (3, _message((9, public), (2, 1))),
                         (3, _message((9, internal), (2, 1))), (4, _message((11, internal), (2, 2))))

    def d1(table: bytes) -> list[str]:
        return ["\x00" + (bytes([len(table)]) + table + functions).decode("latin-1")]

    names = ["removeOnCancellation", "disposeOnCancellation", "debugMode"]
    # an overload public keeps the name; a record giving a name its own string leaves it shown
    assert hidden(FILE_FACADE, d1(b""), names).names == {"removeOnCancellation", "debugMode"}
    assert hidden(FILE_FACADE, d1(_message((1, _message((1, 1), (6, b"x"))))), names).names == {"debugMode"}
    assert hidden(FILE_FACADE, ["\x01" + d1(b"")[0][1:]], names).names == set()  # the old 7-bit encoding
    assert hidden(FILE_FACADE, ["\x00\x05\x01"], names).names == set()  # truncated
