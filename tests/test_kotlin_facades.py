"""Kotlin's top-level functions and properties in dependency jars: ``import kotlinx.coroutines.delay`` and a package
import's ``delay(`` resolved to the file facade class declaring them (``DelayKt``), or a sources jar's ``.kt``
(`fim.kotlinfacades` through `fim.jars`); a jar's package folder listed from its directory (`server.jarfiles`)."""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import imported_modules
from fim.kotlinfacades import called_names, declared
from fim.kotlinprefix import typed_facade_definitions
from tests.test_java_dependencies import installed, jar, write

# kotlinx-coroutines-core 1.0.1's ``kotlinx/coroutines/DelayKt.class`` (Debian's libkotlinx-coroutines-java jar):
# the facade of Delay.kt, ``suspend fun delay(timeMillis: Long)`` and ``val CoroutineContext.delay: Delay``
DELAY_KT = zlib.decompress(base64.b64decode(
    "eNqVV1tTG2UYfr4kZJMlLYHWltAWocQSwiGEWopQEQppuyUcSoAWUetms8DCZoPZDVJPxXr4BV45440X6mWnF0p1xkGc8cKf5IX6fpsTlEPSGTb7"
    "HZ73+L3v8y1///vr7wD68BVD03rG0jVjK6JkspmcpRmqGRlXdfnRhCWAMfjX5E05osvGSmQ6uaYqtOpkqElxCMO10N14XsF++bGMQYOcbGkZY6gj"
    "/qKGIYZYRbkb3UXAvKFZQ8NH6wnGM9mVyJpqJbOyZpgR2TAyli1vRqZyui4ndZVgbSfBMhZHEqp2n0EBIoNHmkrMjU6NxRhOHfDGBx9OeVGL0ww9"
    "RyRwTDYUNW99f0xSekMX4GfoOBy7ZlhZck1TzIhUGvIzaCDHaFPNKuqGpaYYboYqp7wCwIezeEXEGZxjcN/QKKRhymVFvVLHgg+NCIioRxNDAxcs"
    "harpmkUV4Qxx0EVc4qBmhnD16RHQwiCuqBZfVLcshiuho0MpDAs4Cucy2mrRiiCdGcmP54tzJFSNcNHC4Q4gvVfQLsKBEEPjcSgBYdo1lVU1ldPV"
    "WdXMpdXRZTqvghe9pVKvJgdDPHtd6K5FJ3oYvBQNV6lTMs6GjmgBH3oR5anuYzjHUzc9Oz0/J03FHibmEzOxqfHYuA+vc8gZXGPoOpyQtc10xK4v"
    "Q9YpomRuZSabSap27V1nOL/BZ6WsJXLmhmqkeB22Va5DiuUNDIoYALWXS6E9cuFlssEQDWpBOdht5u0ewBWkuwt0FbQ5KUiJYBLDaaUMDWqbdA7x"
    "l2tUsu3J8UVbuqVSrAzKQU+LOCKMcvdOZ2dVK5c1uo8xTFGcECmPrYWsLJ8EohaytLQ6qem6ZlIu7hJ/BJUMRaRyCwzNJ0ciwJawVjUzn1EP4mWh"
    "A9VSJioBU1Qq1APK+oycldMqISSzQK0M7aHDlbtvJcHVrNjlMoN7IqYxeyRHHjiiYlIzWQFzxDsTKjVbJF61VJAEqH0WcN+LeTwgsqlMFlxGwNsM"
    "lytjBbxDXlFLMixUQ0S2P9XQXTCmq2nV4L3/Hh7W4l28T+R9JD0ty8QcsS1VyVHAvKGTDHU2Qdo7BYa6GDqRA1NQRShY5rdtFXxaovxqYhCgMdQX"
    "1U6qlpySLZl0ONKbTvpEYfynjqZJewr+Q58fbJ0PHLSeijKs7W5fFHe3RUejI/946PE77CW/l0+bAv7d7SZHb02f2++mt3Bn7+uRP3fY7vbe926H"
    "33O5Mb/Pwo5ex8DIg71tF224m1wep9+198ThIiWBvZ/cXm6RmrDp+HwxchrnC9vd5W0+pN702KiedaoK11gmRSunEpasrE/KG3O8jel84gSfyqWT"
    "araw0hDPKLK+IGc1Pi8sehPaiiETl9D4wmzO4D0vGZuaqdH2aPn7hk7txd1Shx6AiYlMjlrjlsa1n81P7OsgtmWp1OScOgIFVQuHzCBK16SLHxG9"
    "A6iBm2YfUy789PbS6nyz95vvIDxD3VPncNegy9lf8xvqFwOuHZx3/YILg+6A+2e8GnDvonVQcPZ7AsJzvMawg45mPoyQco64isUd9P8AoWsHN57a"
    "JfEJ/V6CQ/wPEjwuARMs/9QLaKVaEciDTwnSQ99rwB2IBPPhHhowS58MCbrj5+gSvYubmMAYUYFEe3PEC58RehYedOMc3sQwBEKdwVsYobVWtGOU"
    "JNyowyBJjZONBlxHjHZrSPsd3KIRL9J53KYZ7JFEOAce2zkSsE1vNxWLh96f0+N18IK3kxXgHx4kTgnEKoGpqBAON0zuIBF+hsVdLD2H7MDiH+j8"
    "FjX32S46F/+C+0cI93ewUs7KaTiXBKxJAjrH6LHTwE26iWJ5eL68ZsTJCkoOeQsOCawwceKJ7fNH+ILe/yQmR2fEYh2LE3api+FES3F0S+xsibaU"
    "AMf/g0G4vpZjbsJjJI+9N8VwXIy2RbsGegejYvRaf1tfV//gQFQMx8qu2eX8Mv6RzutXSWlRE760a4JhnU5ZX4JTQtr+M5ApzjYkfICsBBPWEpiJ"
    "HDaXIJqoMfGhiVUTV0y0m9gycdv+dZt49D+UG/Q/"
))
JAR = "maven-repository/org/jetbrains/kotlinx/kotlinx-coroutines-core/1.0.1/kotlinx-coroutines-core-1.0.1"
BUILD = 'dependencies {\n    implementation "org.jetbrains.kotlinx:kotlinx-coroutines-core:1.0.1"\n}\n'
PATH = "src/main/kotlin/app/Poll.kt"
STAR = """package app

import kotlinx.coroutines.*

class Poller {
    suspend fun poll(times: Int) {
        repeat(times) {
            check(times > 0)
            delay(100)
        }
    }
}
"""
BUILDERS_SOURCE = """package kotlinx.coroutines

import kotlin.coroutines.*

/** Launches a new coroutine without blocking the current thread. */
public fun CoroutineScope.launch(
    context: CoroutineContext = EmptyCoroutineContext,
    block: suspend CoroutineScope.() -> Unit
): Job = TODO()

public suspend fun <T> withContext(context: CoroutineContext, block: suspend CoroutineScope.() -> T): T = TODO()

public val Job.isLaunched: Boolean get() = true

private fun hidden(): Int = 0

internal fun inside(): Int = 0
"""


def repository(tmp_path: Path, sources: bool = False) -> Path:
    maven = tmp_path / "m2"
    folder = maven / "org/jetbrains/kotlinx/kotlinx-coroutines-core/1.0.1"
    jar(folder / "kotlinx-coroutines-core-1.0.1.jar", {"kotlinx/coroutines/DelayKt.class": DELAY_KT,
                                                       "kotlinx/coroutines/DelayKt$delay$1.class": DELAY_KT,
                                                       "kotlinx/coroutines/Job.class": b"not read"})
    if sources:
        jar(folder / "kotlinx-coroutines-core-1.0.1-sources.jar",
            {"kotlinx/coroutines/Builders.common.kt": BUILDERS_SOURCE.encode()})
    write(tmp_path / "ws", {"build.gradle": BUILD})
    return maven


def test_an_import_of_a_top_level_function_is_its_facades_member(tmp_path: Path) -> None:
    """``import kotlinx.coroutines.delay``: no ``delay.class``; DelayKt declares it (a static method)."""
    files = installed(tmp_path, repository(tmp_path))
    document = "package app\n\nimport kotlinx.coroutines.delay\n\nsuspend fun wait() = delay(10)\n"
    ref = imported_modules(document, "kotlin")[0]
    key = f"{JAR}.jar!/kotlinx/coroutines/DelayKt.java"
    assert installed_definitions(ref, PATH, document, files) == {key: ["delay"]}
    missing = document.replace("coroutines.delay", "coroutines.sleep")
    assert installed_definitions(imported_modules(missing, "kotlin")[0], PATH, missing, files) == {}


def test_a_package_import_brings_the_member_lines_of_the_functions_the_file_calls(tmp_path: Path) -> None:
    """``import kotlinx.coroutines.*`` and ``delay(100)``: DelayKt's ``delay`` line, not its other members; a Java
    file's package import does not look in facades (Java calls them as ``DelayKt.delay``)."""
    files = installed(tmp_path, repository(tmp_path))
    key = f"{JAR}.jar!/kotlinx/coroutines/DelayKt.java"
    ref = imported_modules(STAR, "kotlin")[0]
    assert installed_definitions(ref, PATH, STAR, files) == {key: ["delay"]}
    java = "package app;\n\nimport kotlinx.coroutines.*;\n\nclass Poll { void run() { delay(100); } }\n"
    assert installed_definitions(imported_modules(java, "java")[0], "src/main/java/app/Poll.java", java, files) == {}
    snippets = select_context(PATH, STAR, 8, {PATH: STAR}, [], None, 6000, (0, 10), installed=files)
    text = {s.source: s.text for s in snippets}[key]
    assert "public static final Object delay(long timeMillis" in text
    assert "getDelay" not in text


def test_a_sources_jar_kotlin_file_declaring_the_function_comes_first(tmp_path: Path) -> None:
    """The sources jar's ``.kt`` declaring ``fun CoroutineScope.launch(`` (an extension function) and ``val
    Job.isLaunched``; private and internal declarations are not the library's API."""
    files = installed(tmp_path, repository(tmp_path, sources=True))
    document = STAR.replace("delay(100)", "launch { withContext(ctx) { isLaunched } }\n            delay(1)")
    key = f"{JAR}-sources.jar!/kotlinx/coroutines/Builders.common.kt"
    found = installed_definitions(imported_modules(document, "kotlin")[0], PATH, document, files)
    assert found == {key: ["launch", "withContext"], f"{JAR}.jar!/kotlinx/coroutines/DelayKt.java": ["delay"]}
    assert declared(BUILDERS_SOURCE, True) == {"launch": "launch", "withContext": "withContext",
                                               "isLaunched": "isLaunched"}
    property_import = "package app\n\nimport kotlinx.coroutines.isLaunched\n"
    assert installed_definitions(imported_modules(property_import, "kotlin")[0], PATH, property_import,
                                 files) == {key: ["isLaunched"]}


def test_a_facades_property_is_its_getter_and_calls_come_in_order_of_use() -> None:
    stub = "public final class TimeKt {\n    public static final TimeSource getTimeSource();\n}\n"
    assert declared(stub, False) == {"getTimeSource": "getTimeSource", "timeSource": "getTimeSource"}
    document = "import a.b.launch\nfun go() { scope.async { }; launch { }; delay(1); go() }\n"
    assert called_names(document) == ("delay", "async")  # declared (go) and imported by name (launch) left out


def test_a_jars_package_folder_is_listed_from_its_directory(tmp_path: Path) -> None:
    files = installed(tmp_path, repository(tmp_path))
    assert files[f"{JAR}.jar!/kotlinx/coroutines/"] == "DelayKt$delay$1.class\nDelayKt.class\nJob.class"
    assert files[f"{JAR}.jar!/kotlinx/"] == "coroutines/"
    assert f"{JAR}.jar!/kotlinx/other/" not in files


# A multi-file facade compiled to inherit its parts (``-Xmultifile-parts-inherit``), laid out as kotlin-stdlib's
# ``kotlin/text/StringsKt``: the facade declares nothing and extends its last part, each part the one before
# (javac --release 8 -parameters of the same class lines as ``javap`` shows for kotlin-stdlib 2.1.0's)
PARTS = {name: zlib.decompress(base64.b64decode(data)) for name, data in (
    ("StringsKt", (
    "eNo79W/XPgYGBhMGXi4GJgZmdgYWHgZWBjZGBs3k/Fz91IrE3IKcVP2S1IqS7MwS/eCSosy89GLvkvj4eDibkYHNJjMvs8SOkYFZQzOMnYGDkU"
    "EWr25GBhbn/JRURgZ+n8y8VL/S3KTUopDEpBygCFdwfmlRcqpbJojDB9ehl5VYlshgyMAOdCQIMAJpoDOBNCeQJwukGYE0q9Z2BsaNYGkuIMkG"
    "FmQBktxAmomBBwDUVjWy")),
    ("StringsKt___StringsKt", (
    "eNqFUMtKAzEUPem8au1LXVkQXHQx04Wzcae4GRDEKsKI25J2wkx0HiWTSj9LV4ILP8CPEm8GUVHBQM65Obkn9+a+vj2/ADjETgctWB7sLhy4DP"
    "6iKkKx5sUyF6EWa30ndRhrJcu0Ptez2WfI4B7LUuoTBssPbjy0GYJ/zN/d7SVPYs0Vhb4/veX3PMx5mX6kH51FwW+RwY6qRDAMprIUl6tiLtQ1"
    "n+ekDC+EzqrkiiteCC1UzdAf60zW4686bi7KVGcMHmlRxhVDJ65WaiFOpXlj9GerB6YN7MOjQZnVwi42YMa2SacR6P9GnTwQMnQJXWLARo+wZ6"
    "FPNKA9bOxOc22se8Qm0Zk8gT3+cDuEW0217Xfch2M+")),
    ("StringsKt__StringsKt", (
    "eNptkc1OAjEUhU8ZBhCRP9EEiYkLYhgXzsYdxoVEEyOKCcaFG1KGGygwHZwpBt/Jha5MXPgAPpSxg6MStE1u25N895y27x+vbwAOsJlCjAFpxG"
    "EmkcggiRRDfsjvuT3msm+3ukNyFEPiUEihjhiMmnWTRJqh5niuTTPuTsZkK5qpkVB2W/lC9oNz1en8bBmyIjjW3UYt/8SdqAeGSq35a9EYcL9N"
    "d1OSDtWtW4Z4w+sRQ64pJF1O3S7517w71kr+gtTA611xn7ukyA8YSlU1EEF12SDbJ3UmeyQVV8KTDLuLjl/R6tZfiaEQNVyE021v6jt0KsIQ5f"
    "/uuB92wg5W9EOGw0AZq8gghjV92gLTE4gZj7rqdLom5kocOV1NfTW9lFFAMUIqEWIU2dMSY34z63Mr/WNaDpntiDH3XmA8L1FhLYUZsPEJi6du"
    "3w==")))}
TEXTKIT = "maven-repository/com/example/textkit/1.0/textkit-1.0.jar!/com/example/textkit/"


def test_a_multi_file_facade_inheriting_its_parts_is_the_part_declaring_the_function(tmp_path: Path) -> None:
    maven = tmp_path / "m2"
    jar(maven / "com/example/textkit/1.0/textkit-1.0.jar",
        {f"com/example/textkit/{name}.class": data for name, data in PARTS.items()})
    write(tmp_path / "ws", {"build.gradle": 'dependencies {\n    implementation "com.example:textkit:1.0"\n}\n'})
    files = installed(tmp_path, maven)
    star = "package app\n\nimport com.example.textkit.*\n\nfun f(s: String) = s.padStart(3, ' ').isBlankOrEmpty()\n"
    assert installed_definitions(imported_modules(star, "kotlin")[0], PATH, star, files) == {
        TEXTKIT + "StringsKt___StringsKt.java": ["padStart"], TEXTKIT + "StringsKt__StringsKt.java": ["isBlankOrEmpty"]}
    named = "package app\n\nimport com.example.textkit.indentation\n\nval i = \"  x\".indentation\n"
    assert installed_definitions(imported_modules(named, "kotlin")[0], PATH, named, files) == {
        TEXTKIT + "StringsKt__StringsKt.java": ["getIndentation"]}
    typing = "package app\n\nimport com.example.textkit.*\n\nval i = inden"  # a property being typed: its getter
    assert typed_facade_definitions("val i = inden", imported_modules(typing, "kotlin"), typing, PATH, files) == {
        TEXTKIT + "StringsKt__StringsKt.java": ["getIndentation"]}
