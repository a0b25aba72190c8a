"""Java and Kotlin: an import of a class in a dependency jar (Maven's local repository, Gradle's cache), resolved at
the versions of the nearest pom.xml or build.gradle (`fim.jars`), a class file rendered as a Java stub
(`fim.classfile`), the sources jar's ``.java`` first."""

from __future__ import annotations

import base64
import time
import zipfile
import zlib
from pathlib import Path

from fim.classfile import class_stub
from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import imported_modules
from fim.jars import MAX_JARS, _class_names, _expand, _pom, _public_members, dependencies
from fim.languages.java import first_doc_lines
from server.dependencies import InstalledFiles, find_gradle_caches, find_maven_repository
from server.jarfiles import JarEntries

# ``Invoice.java`` below compiled by ``javac --release 11``: with ``-parameters -g:none`` (names from the
# MethodParameters attribute) and with ``-g`` (names from the LocalVariableTable), zlib-compressed.
INVOICE_SOURCE = """package com.example.billing;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;

/**
 * An invoice of the billing service.
 *
 * <p>Issued once, never changed.
 */
public final class Invoice implements Comparable<Invoice> {
    public static final String CURRENCY = "EUR";
    public static final int MAX_LINES = 250;
    protected long number;
    private String secret;

    public Invoice(String id, long number) { this.number = number; }

    /**
     * The sum of the lines, taxes included.
     *
     * @return the total
     */
    public BigDecimal total() { return BigDecimal.ZERO; }

    public static Invoice of(String id, String... lines) { return new Invoice(id, 0L); }

    public <K extends Comparable<K>> Map<K, List<BigDecimal>> byKey(List<? extends K> keys, double rate)
            throws java.io.IOException { return null; }

    protected void audit(int[] codes) {}

    private void hidden() {}

    void packagePrivate() {}

    public int compareTo(Invoice other) { return 0; }
}
"""
INVOICE_PARAMETERS = zlib.decompress(base64.b64decode(
    "eNp9VGtPE0EUPdP3lhYrL0F8IL66Ra34lq1NsDSmUB4p0Ih8MNvt2C5su812SuAn+F/8gCZqoonxsz/JD8Y721KwVJpsZ+bOueeee2Z2f/35"
    "9gPAU6TD8MAbhC8CPwIMsR19T09aer2SXC3tcEMwBFJm3RRpBm9cLSoIQQkiHMEAIgyThl1L8n291rB4smRalkmJufqebRqcMuutWok7DGxR"
    "wSDOBRGL4DyGGEbcMjVdVJMvzcoCN8yabjH43mQLqwxj+X7bWphqj0idowSJ54+VrguH6mqLalFCLkQwjgkGhbQ1dIdv2AxT8fwZSjU1F8Tk"
    "kSqXMuPm6iWL2ghlNguF7Epmi2HodFWGaMauN4VeF0XdavEQpsiq7GaBFCzPv36bz61k18mCnJcM/02mNLnhcPLVl7HLxB5b5qJql9eoWo0L"
    "7jQZPGaZwS9sIT0Zj6v97SCc/Y5hoY8T26dD6pkGUDlac6rtLx0s8QOG6Q5tS5hWMm82hbagnogs6w1KCmf3Dd4QJvUfxCzDsAsw7WRutbtD"
    "je7yA2L2ObqgfpV1s1LXRcuheSu1NDeX7+d6amNJS2vpXhGpGTfeK0Wie5H9TSNO2azeKpt0BP74dk4t0mjQUZDEQNUslzlJHmzoxq5e4WuO"
    "ueeq9tuiKm/y6Em3228I3R6GV6fD/fs68xjSGmbpBnvAcBE+TOASLtP8Ct0cD67S+hqmu+vrhKCX0J3fIByg0B69HbS+SasxeAkBhBNfwRJT"
    "nxH8CPm7JZEe3KZhgB6GOFT6lykxGhmNvk+IHrrg90hgpkvopxkRfkdoK6F8xfBhL+Edl/Au7lFlmTJIK6nBw9rQpCSn2P2jpAc0PKTnkdvG"
    "Y9p8Ql+ldr2oGyPCY91+hmdu9DkCHc1Rt2QXBcz9b4vJ70KHWwqT3B7vh5PkGnkwT7BUBya9lDAlMfMToS8Y+xcdk6Rt6S/+AjmYI6E="
))
INVOICE_DEBUG = zlib.decompress(base64.b64decode(
    "eNqFVF1vE0cUPbO24w8cEpJgwkfa8FnbAVy+aWxME9uAiUmQE6zSPFTj9TQZWHutzToiP4H/wgNFokitVPHcn8QD4s54MctmlbzMzp177rln"
    "zszs/5//+Q/AHdRTMBCJI5pGDGMMky/4Li9YvLdVWGu/EKbLMFaSPemWGSLZXCuJBJJxpNI4gjTDadPuFsQr3u1botCWliWpsN7btaUpqLI3"
    "6LaFw8AeJ3EUE3FMpnEMUwwzuk2Xu9uFZblVFabscosh+nutucaQaYSliynqPaN0HidItvFN6brrUN/i41xLQU6kMYuTDEnS1ueO2LAZ5rON"
    "A5QWc/U4Tn9VpSkrupa3LdpGovKs2aytVp4zTO3vyjBesXs7Lu+5LW4NRALzZFXtWZMUPFn67Y9GfbW2ThbUI2T4JzJlR5iOIF+jFbtD7BMN"
    "2ROr2qiNYb+phm1yq8UdqWJvMepuyx2GuQP3wWDIDkPMtV1l52w2F+4k4ew/GaohJm7uX8od0jNGsSBt05th7sTaeytij+Gc12zgSqvQkDtu"
    "sZrzrTzhfQJHX4o9YpoMQinjcJdsYFV1Pb7zZ6//1aNMoKy0sLFSLFNxqvbKFH1X0jnFQfG0xkm7UF8bZei41uVWj7sDh6gGpZXFxUbYfShp"
    "znI2vFdwTwodRIafSVkrjfFBR9LliGU367kWfU26JOSIsVmnq7MtOx1BSo/2ufmSb4mnjtzVtsRsd1s9tOP+Ex0+YLrcDA/3L4dv7sCj1lau"
    "2wPHFA+kMjztZa4qLlyjx2eA4RSiOIkzmKP5D3TpDfxI8VmcG8XnCUH/Dz2/QDggSTl62DRepOgRIoQAUvkPYPn594j/pbGXaBwjDDCOn2ic"
    "h3pUKWSRA/Qsr7uqmeJXahZw2WO9Sl+Vi77D+NsA34TmSw/zHt9rXNE1qrZM6gzF+y8Sz/PJD5gOMhzTDJkhSusYKirgZ933Gq6TWsXVpEjt"
    "zmCKI+LjmPHtyhjtysAN3NR5A7dwm8Y7I60qd5dmv2jdDIso6dV7FJVx31N/S68BLGhjxieajRoy/IolGg0sa5yiWNDrIRSzPue+UVQOLzwV"
    "UsjUr9srvK0VUE3kTaDyjE+136YqzdjkEnHUPI4btKpQyfzCRyT+RiZIFfeJSHpUhufhAzzU30dfAIP7aBo="
))
STUB = """package com.example.billing;

public final class Invoice implements Comparable<Invoice> {
    public static final String CURRENCY = "EUR";
    public static final int MAX_LINES = 250;
    protected long number;
    public Invoice(String id, long number) {}
    public BigDecimal total();
    public static Invoice of(String id, String... lines);
BY_KEY
    protected void audit(int[] codes);
    public int compareTo(Invoice other);
}
""".replace("BY_KEY", "    public <K extends Comparable<K>> Map<K, List<BigDecimal>> byKey("
                      "List<? extends K> keys, double rate) throws IOException;")
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>com.acme</groupId>
    <artifactId>parent</artifactId>
    <version>7</version>
  </parent>
  <artifactId>shop</artifactId>
  <properties>
    <billing.version>${billing.major}.4</billing.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.example</groupId>
      <artifactId>billing</artifactId>
      <version>${billing.version}</version>
    </dependency>
    <dependency>
      <groupId>org.junit</groupId>
      <artifactId>junit</artifactId>
      <scope>test</scope>
    </dependency>
  </dependencies>
</project>
"""
PARENT_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <groupId>com.acme</groupId>
  <artifactId>parent</artifactId>
  <version>7</version>
  <properties><billing.major>2</billing.major></properties>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>org.junit</groupId><artifactId>junit</artifactId><version>5.10.1</version></dependency>
    </dependencies>
  </dependencyManagement>
</project>
"""
DOCUMENT = """package com.acme.shop;

import com.example.billing.Invoice;
import java.util.List;

public class Checkout {
    public Invoice pay(String id) {
        Invoice invoice = Invoice.of(id, "book");
        return Invoice.
    }
}
"""


def jar(path: Path, entries: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n")
        for name, data in entries.items():
            archive.writestr(name, data)


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def installed(tmp_path: Path, maven: Path, gradle: Path = Path("/nonexistent"), cap: int = 1 << 20) -> InstalledFiles:
    return InstalledFiles(None, lambda key: tmp_path / "ws" / key, cap, maven_repository=maven,
                          gradle_caches=gradle, go_modules=tmp_path / "go", cargo_home=tmp_path / "cargo",
                          gem_dirs=[])


def test_class_file_as_a_java_stub() -> None:
    """Public and protected members with their types, generics, varargs, throws and constants; private,
    package-private, bridge members left out; parameter names from either attribute."""
    assert class_stub(INVOICE_PARAMETERS) == STUB
    assert class_stub(INVOICE_DEBUG) == STUB
    assert class_stub(b"\xca\xfe\xba\xbe\x00") == "" and class_stub(b"PK\x03\x04") == ""
    assert class_stub(INVOICE_DEBUG[:700]) == ""


def test_pom_versions_from_properties_and_the_parent_pom() -> None:
    files = {"pom.xml": PARENT_POM, "shop/pom.xml": POM, "shop/src/main/java/com/acme/shop/Checkout.java": DOCUMENT}
    assert dependencies("shop/src/main/java/com/acme/shop/Checkout.java", files) == [
        ("com.example", "billing", "2.4"), ("org.junit", "junit", "5.10.1")]


def test_gradle_versions_from_strings_maps_and_the_version_catalog() -> None:
    build = """plugins { id("java") }
val guavaVersion = "33.0-jre"
dependencies {
    implementation("com.google.guava:guava:$guavaVersion")
    implementation 'com.example:billing:2.4'
    testImplementation group: 'org.junit', name: 'junit', version: '5.10.1'
    implementation(libs.commons.lang3)
}
"""
    catalog = """[versions]
lang3 = "3.14.0"
okhttp = { strictly = "4.12.0" }

[libraries]
commons-lang3 = { module = "org.apache.commons:commons-lang3", version.ref = "lang3" }
okhttp = { group = "com.squareup.okhttp3", name = "okhttp", version.ref = "okhttp" }
slf4j = "org.slf4j:slf4j-api:2.0.9"
"""
    files = {"app/build.gradle.kts": build, "gradle/libs.versions.toml": catalog}
    assert dependencies("app/src/main/kotlin/App.kt", files) == [
        ("com.google.guava", "guava", "33.0-jre"), ("com.example", "billing", "2.4"), ("org.junit", "junit", "5.10.1"),
        ("org.apache.commons", "commons-lang3", "3.14.0"), ("com.squareup.okhttp3", "okhttp", "4.12.0"),
        ("org.slf4j", "slf4j-api", "2.0.9")]


def test_a_dependency_class_in_maven_local_repository_reaches_the_context(tmp_path: Path) -> None:
    """A binary jar at the version the pom asks for: its class file as a stub, the members the document uses."""
    maven = tmp_path / "m2"
    jar(maven / "com/example/billing/2.4/billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    jar(maven / "com/example/billing/2.3/billing-2.3.jar", {"com/example/billing/Old.class": INVOICE_DEBUG})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM,
                            "shop/src/main/java/com/acme/shop/Checkout.java": DOCUMENT})
    files = installed(tmp_path, maven)
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    refs = imported_modules(DOCUMENT, "java")
    key = "maven-repository/com/example/billing/2.4/billing-2.4.jar!/com/example/billing/Invoice.java"
    assert installed_definitions(refs[0], path, DOCUMENT, files) == {key: ["of"]}
    assert installed_definitions(refs[1], path, DOCUMENT, files) == {}  # the JDK's
    assert files[key] == STUB
    assert "maven-repository/com/example/billing/2.4/billing-2.4.jar!/com/example/billing/Missing.java" not in files
    snippets = select_context(path, DOCUMENT, 8, {path: DOCUMENT}, [], None, 6000, (0, 10), installed=files)
    texts = {s.source: s.text for s in snippets}
    assert "public static Invoice of(String id, String... lines);" in texts[key]
    assert "public BigDecimal total();" not in texts[key]  # not used


def test_the_sources_jar_first_with_doc_comments_cut_to_their_first_line(tmp_path: Path) -> None:
    maven = tmp_path / "m2"
    folder = maven / "com/example/billing/2.4"
    jar(folder / "billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    # a library's source files are far bigger than a workspace's size cap allows (StringUtils.java: 400 KB)
    hidden = "    private void hidden() {}"
    padded = INVOICE_SOURCE.replace(hidden, hidden + "\n" + "    //\n" * 20000)
    jar(folder / "billing-2.4-sources.jar", {"com/example/billing/Invoice.java": padded.encode()})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM})
    document = DOCUMENT.replace('Invoice.of(id, "book")', "Invoice.of(id).total()")
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    files = installed(tmp_path, maven, cap=64 * 1024)
    snippets = select_context(path, document, 8, {path: document}, [], None, 6000, (0, 10), installed=files)
    key = "maven-repository/com/example/billing/2.4/billing-2.4-sources.jar!/com/example/billing/Invoice.java"
    text = {s.source: s.text for s in snippets}[key]
    assert "public static Invoice of(String id, String... lines) { return new Invoice(id, 0L); }" in text
    assert "/** An invoice of the billing service. */" in text and "Issued once" not in text


def test_kotlin_and_gradle_cache(tmp_path: Path) -> None:
    """A Kotlin file of a Gradle build: the jar in Gradle's cache (files-2.1/<group>/<artifact>/<version>/<hash>/)."""
    gradle = tmp_path / "gradle-home" / "caches" / "modules-2" / "files-2.1"
    jar(gradle / "com.example/billing/2.4/0f3c9a/billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    (gradle / "com.example/billing/2.4/77aa01").mkdir(parents=True)
    (gradle / "com.example/billing/2.4/77aa01/billing-2.4.pom").write_text("<project/>")
    kotlin = "package shop\n\nimport com.example.billing.Invoice\n\nfun pay() = Invoice.of(\"1\").total()\n"
    write(tmp_path / "ws", {"build.gradle.kts": 'dependencies { implementation("com.example:billing:2.4") }\n',
                            "src/main/kotlin/shop/Pay.kt": kotlin})
    files = installed(tmp_path, tmp_path / "m2", gradle)
    key = "gradle-caches/com.example/billing/2.4/0f3c9a/billing-2.4.jar!/com/example/billing/Invoice.java"
    ref = imported_modules(kotlin, "kotlin")[0]
    assert installed_definitions(ref, "src/main/kotlin/shop/Pay.kt", kotlin, files) == {key: ["of"]}
    assert find_gradle_caches({"GRADLE_USER_HOME": str(tmp_path / "gradle-home")}) == gradle


def test_maven_repository_from_maven_opts_then_settings(tmp_path: Path) -> None:
    (tmp_path / ".m2").mkdir()
    assert find_maven_repository({}, str(tmp_path)) == tmp_path / ".m2" / "repository"
    (tmp_path / ".m2" / "settings.xml").write_text(
        "<settings><!-- <localRepository>/old</localRepository> -->\n"
        "  <localRepository>${user.home}/repo</localRepository></settings>")
    assert find_maven_repository({}, str(tmp_path)) == tmp_path / "repo"
    assert find_maven_repository({"MAVEN_OPTS": "-Xmx1g -Dmaven.repo.local=/srv/m2"}, str(tmp_path)) == Path("/srv/m2")


def test_doc_comments_cut_to_their_first_line() -> None:
    text = "    /**\n     * <p>Checks it.</p>\n     *\n     * @param x it\n     */\n    void check(int x);"
    assert first_doc_lines(text) == "    /** Checks it. */\n    void check(int x);"


def test_a_source_class_none_of_whose_members_is_used_yet_brings_their_signatures(tmp_path: Path) -> None:
    """``Invoice.`` typed, no member used elsewhere: the sources' public members (a class's head alone is its doc
    and fields), where a stub is short enough whole."""
    maven = tmp_path / "m2"
    folder = maven / "com/example/billing/2.4"
    jar(folder / "billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    jar(folder / "billing-2.4-sources.jar", {"com/example/billing/Invoice.java": INVOICE_SOURCE.encode()})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM})
    document = DOCUMENT.replace('Invoice.of(id, "book")', "null")
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    ref = imported_modules(document, "java")[0]
    key = "maven-repository/com/example/billing/2.4/billing-2.4-sources.jar!/com/example/billing/Invoice.java"
    assert installed_definitions(ref, path, document, installed(tmp_path, maven)) == {
        key: ["CURRENCY", "MAX_LINES", "number", "total", "of", "byKey", "audit", "compareTo"]}


def test_the_parent_pom_and_the_dependencies_of_dependencies_from_maven_repository(tmp_path: Path) -> None:
    """A parent pom outside the workspace (spring-boot-starter-parent's way) by its coordinates in the repository;
    a class of a dependency's own compile dependency (not its test or optional ones)."""
    maven = tmp_path / "m2"
    write(maven, {"com/acme/parent/7/parent-7.pom": PARENT_POM, "com/example/billing/2.4/billing-2.4.pom": """
<project><groupId>com.example</groupId><artifactId>billing</artifactId><version>2.4</version>
  <dependencies>
    <dependency><groupId>${project.groupId}</groupId><artifactId>billing-model</artifactId>
      <version>${project.version}</version></dependency>
    <dependency><groupId>org.mockito</groupId><artifactId>mockito-core</artifactId><version>5.0</version>
      <scope>test</scope></dependency>
    <dependency><groupId>com.example</groupId><artifactId>pdf</artifactId><version>1.0</version>
      <optional>true</optional></dependency>
  </dependencies>
</project>"""})
    jar(maven / "com/example/billing-model/2.4/billing-model-2.4.jar",
        {"com/example/billing/model/Invoice.class": INVOICE_DEBUG})
    for artifact in ("org/mockito/mockito-core/5.0/mockito-core-5.0", "com/example/pdf/1.0/pdf-1.0"):
        jar(maven / f"{artifact}.jar", {"com/example/billing/model/Invoice.class": INVOICE_DEBUG})
    write(tmp_path / "ws", {"pom.xml": POM.replace("<version>7</version>", "<version>7</version>\n"
                                                   "    <relativePath/>")})
    files = installed(tmp_path, maven)
    assert dependencies("src/main/java/A.java", files) == [
        ("com.example", "billing", "2.4"), ("org.junit", "junit", "5.10.1"), ("com.example", "billing-model", "2.4")]
    document = DOCUMENT.replace("com.example.billing.Invoice", "com.example.billing.model.Invoice")
    ref = imported_modules(document, "java")[0]
    key = "maven-repository/com/example/billing-model/2.4/billing-model-2.4.jar!/com/example/billing/model/Invoice.java"
    assert installed_definitions(ref, "src/main/java/A.java", document, files) == {key: ["of"]}


def test_a_package_import_stands_for_the_classes_the_file_uses(tmp_path: Path) -> None:
    """``import com.example.billing.*;``: ``Invoice.of(`` is looked up as ``com.example.billing.Invoice``; a static
    import of all of a class's members brings the class."""
    maven = tmp_path / "m2"
    jar(maven / "com/example/billing/2.4/billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM})
    document = DOCUMENT.replace("import com.example.billing.Invoice;", "import com.example.billing.*;\n"
                                "import static com.example.billing.Invoice.*;")
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    files = installed(tmp_path, maven)
    star, static, _ = imported_modules(document, "java")
    key = "maven-repository/com/example/billing/2.4/billing-2.4.jar!/com/example/billing/Invoice.java"
    assert installed_definitions(star, path, document, files) == {key: ["of"]}
    assert installed_definitions(static, path, document.replace("Invoice.of", "of"), files) == {key: ["Invoice"]}


def test_the_dependencies_of_a_gradle_dependency_from_its_pom_in_gradles_cache(tmp_path: Path) -> None:
    gradle = tmp_path / "gradle-home" / "caches" / "modules-2" / "files-2.1"
    jar(gradle / "com.example/billing-model/2.4/5e1d0a/billing-model-2.4.jar",
        {"com/example/billing/model/Invoice.class": INVOICE_DEBUG})
    write(gradle, {"com.example/billing/2.4/77aa01/billing-2.4.pom": """<project>
  <parent><groupId>com.example</groupId><artifactId>billing-parent</artifactId><version>2.4</version></parent>
  <artifactId>billing</artifactId>
  <dependencies>
    <dependency><groupId>com.example</groupId><artifactId>billing-model</artifactId></dependency>
  </dependencies>
</project>""", "com.example/billing-parent/2.4/a0b1c2/billing-parent-2.4.pom": """<project>
  <groupId>com.example</groupId><artifactId>billing-parent</artifactId><version>2.4</version>
  <dependencyManagement><dependencies>
    <dependency><groupId>com.example</groupId><artifactId>billing-model</artifactId><version>2.4</version></dependency>
  </dependencies></dependencyManagement>
</project>"""})
    kotlin = "package shop\n\nimport com.example.billing.model.Invoice\n\nfun pay() = Invoice.of(\"1\")\n"
    write(tmp_path / "ws", {"build.gradle": "dependencies { implementation 'com.example:billing:2.4' }\n"})
    files = installed(tmp_path, tmp_path / "m2", gradle)
    assert dependencies("src/main/kotlin/shop/Pay.kt", files) == [
        ("com.example", "billing", "2.4"), ("com.example", "billing-model", "2.4")]
    key = ("gradle-caches/com.example/billing-model/2.4/5e1d0a/billing-model-2.4.jar"
           "!/com/example/billing/model/Invoice.java")
    ref = imported_modules(kotlin, "kotlin")[0]
    assert installed_definitions(ref, "src/main/kotlin/shop/Pay.kt", kotlin, files) == {key: ["of"]}


def test_a_nested_class_of_a_binary_jar_is_its_own_class_file(tmp_path: Path) -> None:
    maven = tmp_path / "m2"
    jar(maven / "com/example/billing/2.4/billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG,
                                                            "com/example/billing/Invoice$Line.class": INVOICE_DEBUG})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM})
    document = DOCUMENT.replace("com.example.billing.Invoice;", "com.example.billing.Invoice.Line;").replace(
        "Invoice.of", "Line.total")
    ref = imported_modules(document, "java")[0]
    key = "maven-repository/com/example/billing/2.4/billing-2.4.jar!/com/example/billing/Invoice$Line.java"
    files = installed(tmp_path, maven)
    assert installed_definitions(ref, "shop/src/main/java/com/acme/shop/Checkout.java", document, files) == {
        key: ["total"]}
    assert files[key] == STUB  # (the bytes of Invoice.class stand for Invoice$Line.class here)


def test_a_secret_looking_jar_entry_is_never_read(tmp_path: Path) -> None:
    maven = tmp_path / "m2"
    jar(maven / "com/example/billing/2.4/billing-2.4.jar", {".aws/credentials": b"[default]\nkey = x\n",
                                                            "com/example/billing/Invoice.class": INVOICE_DEBUG})
    files = installed(tmp_path, maven)
    base = "maven-repository/com/example/billing/2.4/billing-2.4.jar!/"
    assert base + "com/example/billing/Invoice.java" in files
    assert base + ".aws/credentials" not in files
    # a package's folder, whether or not the jar lists it: one look-up tells whether to look further in that jar
    assert base + "com/example/" in files and base + "com/example/billing/" in files
    assert base + "org/example/" not in files


BOM = """<project><groupId>com.example</groupId><artifactId>billing-bom</artifactId><version>2.4</version>
  <properties><billing.version>2.4</billing.version></properties>
  <dependencyManagement><dependencies>
    <dependency><groupId>com.example</groupId><artifactId>billing</artifactId><version>${billing.version}</version>
    </dependency>
  </dependencies></dependencyManagement>
</project>"""


def test_versions_a_bom_manages(tmp_path: Path) -> None:
    """Maven's ``<scope>import</scope>`` of a BOM, Gradle's ``platform(...)``: a dependency without a version at the
    BOM's (Spring Boot's way)."""
    maven = tmp_path / "m2"
    write(maven, {"com/example/billing-bom/2.4/billing-bom-2.4.pom": BOM})
    pom = """<project><groupId>com.acme</groupId><artifactId>shop</artifactId><version>1</version>
  <dependencyManagement><dependencies>
    <dependency><groupId>com.example</groupId><artifactId>billing-bom</artifactId><version>2.4</version>
      <type>pom</type><scope>import</scope></dependency>
  </dependencies></dependencyManagement>
  <dependencies><dependency><groupId>com.example</groupId><artifactId>billing</artifactId></dependency></dependencies>
</project>"""
    gradle = """dependencies {
    implementation(platform("com.example:billing-bom:2.4"))
    implementation("com.example:billing")
}"""
    write(tmp_path / "ws", {"maven/pom.xml": pom, "gradle/build.gradle.kts": gradle})
    files = installed(tmp_path, maven)
    assert ("com.example", "billing", "2.4") in dependencies("maven/src/main/java/A.java", files)
    assert ("com.example", "billing", "2.4") in dependencies("gradle/src/main/java/A.java", files)


def test_a_poms_entities_are_not_expanded() -> None:
    """A pom with a DTD is no pom: its entities would expand (a 100 KB pom to 8 MB, under expat's own limit)."""
    entity = "x" * 100_000
    text = (f'<?xml version="1.0"?><!DOCTYPE project [<!ENTITY e "{entity}">]><project><properties><a>'
            + "&e;" * 80 + "</a></properties></project>")
    pom = _pom(text)
    assert pom is None or sum(map(len, pom["properties"].values())) <= len(text)


def test_a_property_expanding_itself_stays_short() -> None:
    """``<a>${a}${a}...</a>``: each round would multiply it; past MAX_VALUE it is no version."""
    properties = {"a": "${a}" * 60, "v": "1.${b}", "b": "2"}
    assert _expand("${a}", properties) == ""
    assert _expand("${v}", properties) == "1.2"
    pom = ("<project><properties><a>" + "${a}" * 60 + "</a></properties><dependencies><dependency><groupId>g"
           "</groupId><artifactId>x</artifactId><version>${a}</version></dependency></dependencies></project>")
    assert dependencies("src/A.java", {"pom.xml": pom}) == []


def test_a_public_member_search_takes_no_quadratic_time() -> None:
    """A sources jar's line of ``a$a$...``: each of its name parts is no place to search again from."""
    text = "public class A {\n    public " + "a$" * 20_000 + "\n    public int size() {\n}\n"
    start = time.perf_counter()
    assert _public_members(text, "A") == ["size"]
    assert time.perf_counter() - start < 1.0  # was 30 s


def test_every_dependency_jars_directory_is_kept(tmp_path: Path) -> None:
    """Each import asks every jar and sources jar of MAX_JARS dependencies in turn: all their directories are kept
    (fewer, and each was read again for each import of each keystroke: 33 s a keystroke for 10 imports)."""
    maven = tmp_path / "m2"
    listed = ""
    for k in range(MAX_JARS):
        folder = maven / f"org/dep{k}/a{k}/1.0"
        jar(folder / f"a{k}-1.0.jar", {f"org/dep{k}/C.class": INVOICE_DEBUG})
        jar(folder / f"a{k}-1.0-sources.jar", {f"org/dep{k}/C.java": b"package x;\npublic class C {}\n"})
        listed += f"<dependency><groupId>org.dep{k}</groupId><artifactId>a{k}</artifactId><version>1.0</version>"
        listed += "</dependency>"
    write(tmp_path / "ws", {"pom.xml": f"<project><dependencies>{listed}</dependencies></project>"})
    files = installed(tmp_path, maven)
    document = "package x;\nimport org.dep3.C;\nimport org.other.D;\nclass A { C c; D d; }\n"
    for ref in imported_modules(document, "java"):
        installed_definitions(ref, "A.java", document, files)
    assert len(files._jars._names) == 2 * MAX_JARS


def test_a_jar_entry_in_thousands_of_folders_is_left_out(tmp_path: Path) -> None:
    """``a/a/a/.../X.class``: each of its folders is a name of the jar's directory (quadratic: 9 M characters for
    one entry of 6 KB)."""
    path = tmp_path / "deep.jar"
    jar(path, {"a/" * 3000 + "X.class": b"x", "com/x/Y.class": INVOICE_DEBUG})
    st = path.stat()
    entries = JarEntries()
    names = entries._directory(path, (st.st_mtime_ns, st.st_size))
    assert sum(map(len, names)) < 10_000
    assert entries.entry(path, (st.st_mtime_ns, st.st_size), "com/x/") == "com/x/"
    assert entries.entry(path, (st.st_mtime_ns, st.st_size), "com/x/Y.java") == "com/x/Y.class"


def test_blank_lines_take_no_quadratic_time() -> None:
    """A build file's 20,000 blank lines: a line start's ``\\s*`` ran over all of them, at each of them (30 s)."""
    blank = "\n" * 20_000
    build = 'val v = "1.0"\n' + blank + 'dependencies { implementation("com.example:billing:$v") }\n'
    catalog = '[versions]\nlang3 = "3.14.0"\n' + blank + '[libraries]\nl = { module = "g:a", version.ref = "lang3" }\n'
    document = "package x;\n" + blank + "import com.example.billing.*;\nclass A { Invoice i; }\n"
    start = time.perf_counter()
    assert dependencies("app/A.kt", {"app/build.gradle.kts": build, "gradle/libs.versions.toml": catalog}) == [
        ("com.example", "billing", "1.0"), ("g", "a", "3.14.0")]
    assert _class_names(document) == ["Invoice"]
    assert time.perf_counter() - start < 1.0


def test_a_jar_entry_whose_compressed_data_is_broken_reads_as_nothing(tmp_path: Path) -> None:
    """A corrupt deflate stream (zlib.error came out of the read, and out of the completion)."""
    maven = tmp_path / "m2"
    path = maven / "com/example/billing/2.4/billing-2.4-sources.jar"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("com/example/billing/Invoice.java", INVOICE_SOURCE * 4)
    data = bytearray(path.read_bytes())
    start = 30 + len("com/example/billing/Invoice.java")  # the local header, its name, then the deflate stream
    data[start:start + 16] = bytes(b ^ 0x5A for b in data[start:start + 16])
    path.write_bytes(bytes(data))
    files = installed(tmp_path, maven)
    key = "maven-repository/com/example/billing/2.4/billing-2.4-sources.jar!/com/example/billing/Invoice.java"
    assert key in files
    assert files[key] == ""


def test_a_member_being_typed_comes_as_a_snippet_of_its_own(tmp_path: Path) -> None:
    """``Invoice.to`` typed at the cursor: the members it begins (``total``) come as a snippet of their own
    (`fim.member`), and the class's snippet for the members used (``of``) stays byte-identical at each letter, so
    the engine reads the member's snippet alone again; a name no member begins (an enum's constant) stays."""
    maven = tmp_path / "m2"
    jar(maven / "com/example/billing/2.4/billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM,
                            "shop/src/main/java/com/acme/shop/Checkout.java": DOCUMENT})
    files = installed(tmp_path, maven)
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    key = "maven-repository/com/example/billing/2.4/billing-2.4.jar!/com/example/billing/Invoice.java"
    typed = DOCUMENT.replace("return Invoice.\n", "return Invoice.to\n")
    assert installed_definitions(imported_modules(typed, "java")[0], path, typed, files) == {key: ["of"]}
    unknown = DOCUMENT.replace("return Invoice.\n", "return Invoice.zz\n")
    assert installed_definitions(imported_modules(unknown, "java")[0], path, unknown, files) == {key: ["of", "zz"]}
    only = typed.replace("Invoice.of(id, \"book\")", "null")  # its one use the member typed: the member's snippet
    assert installed_definitions(imported_modules(only, "java")[0], path, only, files) == {}

    def snippets(document: str, member: str) -> list[str]:
        document = document.replace("return Invoice.\n", f"return Invoice.{member}\n")
        found = select_context(path, document, 8, {path: document}, [], None, 6000, (0, 10), installed=files,
                               language="java", cursor_character=len(f"        return Invoice.{member}"))
        return [s.text for s in found if s.source == key]

    assert [text for text in snippets(only.replace("Invoice.to", "Invoice."), "to") if "total();" in text]
    steps = [snippets(DOCUMENT, member) for member in ("", "t", "to")]
    used = [[text for text in step if "static Invoice of(" in text and "total()" not in text] for step in steps]
    assert all(len(found) == 1 for found in used) and len({found[0] for found in used}) == 1, steps
    assert [text for text in steps[2] if "public BigDecimal total();" in text and "of(" not in text], steps[2]
    # ``import com.example.billing.*;``: the package holding the class in a dependency jar
    star = DOCUMENT.replace("import com.example.billing.Invoice;", "import com.example.billing.*;")
    assert [text for text in snippets(star, "to") if "public BigDecimal total();" in text]


FEATURE_SOURCE = """package com.example.billing;

/** What an invoice may do. */
public enum Feature {
    /** Rounds each line. */
    ROUND_LINES(true),
    /**
     * Indents the printed invoice.
     */
    INDENT_OUTPUT(false),
    @Deprecated
    INCLUDE_TAXES(true) {
        @Override public boolean legal() { return false; }
    };

    private final boolean enabled;

    Feature(boolean enabled) { this.enabled = enabled; }

    public boolean legal() { return true; }
}
"""


def test_an_enums_constants_are_its_members(tmp_path: Path) -> None:
    """``Feature.ROUND_LINES`` used brings its constant's line; ``Feature.IN`` typed, the constants it begins
    (an enum in a sources jar: its constants have no modifiers)."""
    maven = tmp_path / "m2"
    folder = maven / "com/example/billing/2.4"
    jar(folder / "billing-2.4.jar", {"com/example/billing/Invoice.class": INVOICE_DEBUG})
    jar(folder / "billing-2.4-sources.jar", {"com/example/billing/Feature.java": FEATURE_SOURCE.encode()})
    write(tmp_path / "ws", {"pom.xml": PARENT_POM, "shop/pom.xml": POM})
    files = installed(tmp_path, maven)
    path = "shop/src/main/java/com/acme/shop/Checkout.java"
    key = "maven-repository/com/example/billing/2.4/billing-2.4-sources.jar!/com/example/billing/Feature.java"
    document = DOCUMENT.replace("import com.example.billing.Invoice;", "import com.example.billing.Feature;") \
        .replace('Invoice.of(id, "book")', "Feature.ROUND_LINES").replace("return Invoice.\n", "return Feature.IN\n")
    ref = imported_modules(document, "java")[0]
    assert installed_definitions(ref, path, document, files) == {key: ["ROUND_LINES"]}
    found = select_context(path, document, 8, {path: document}, [], None, 6000, (0, 10), installed=files,
                           language="java", cursor_character=len("        return Feature.IN"))
    texts = [s.text for s in found if s.source == key]
    assert [t for t in texts if "ROUND_LINES(true)," in t and "INDENT" not in t], texts
    assert [t for t in texts if "INDENT_OUTPUT(false)," in t and "INCLUDE_TAXES(true)" in t and "ROUND" not in t]
