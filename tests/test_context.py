"""Tests of the pure repository-context modules: secrets, imports, symbols, similarity, context."""

from __future__ import annotations

import random
import string
import time

import pytest

from fim.context import header_cost, select_context
from fim.imports import ImportRef, imported_modules, language_of, resolve
from fim.prompt import Snippet
from fim.secrets import PLACEHOLDER, is_secret_path, redact
from fim.similarity import (
    RecentEdits,
    dice,
    jaccard,
    scored_windows,
    word_set,
    words,
)
from fim.symbols import extract


def definitions(text: str, language: str, names: list[str]) -> str:
    return extract(text, language, names).text

# ------------------------------------------------------------------------------------ secrets

@pytest.mark.parametrize("path", [
    ".env", "app/.env", ".env.local", "config/.env.production", "prod.env", "server.pem", "tls/server.key",
    "id_rsa", "home/.ssh/id_ed25519", "id_rsa.pub", ".netrc", ".npmrc", ".pypirc", ".git-credentials",
    "credentials.json", ".aws/credentials", "credentials", "service-account.json", "gcp-service_account.json",
    "client_secret_1234.json", "secrets.yaml", "config/secrets.yml", "cert.p12", "cert.pfx", "vault.kdbx",
    "terraform.tfstate", ".ssh/config", "db_password.txt", "api_key.txt",
])
def test_secret_paths(path):
    assert is_secret_path(path)


@pytest.mark.parametrize("path", [
    "main.py", "fim/secrets.py", "src/auth/login.py", "README.md", "package.json", "src/token.ts",
    "environment.py", "src/keys.py", "docs/credentials.md", "tokenizer.json", "AUTHORS", "config.yaml",
])
def test_ordinary_paths_are_not_secret(path):
    assert not is_secret_path(path)


@pytest.mark.parametrize("text, language, secret", [
    ('API_KEY = "sk-proj-abc123DEF456ghi789JKL012"', "python", "sk-proj-abc123DEF456ghi789JKL012"),
    ('password = "hunter2"', "python", "hunter2"),
    ('db_password: str = "hunter2"', "python", "hunter2"),
    ('conn = connect(host="db", password="hunter2")', "python", "hunter2"),
    ('{"client_secret": "s3cr3t-value"}', "json", "s3cr3t-value"),
    ("const cfg = { apiKey: 'abcdef123456' };", "javascript", "abcdef123456"),
    ('String password = "hunter2";', "java", "hunter2"),
    ('secret := "gopher-secret"', "go", "gopher-secret"),
    ('let api_key = "rust-key-123";', "rust", "rust-key-123"),
    ('#define API_KEY "c-key-123"', "c", "c-key-123"),
    ("database:\n  password: s3cr3t\n  user: admin\n", "yaml", "s3cr3t"),
    ("[db]\npassword = hunter2  ; main db\n", "ini", "hunter2"),
    ("export GITHUB_TOKEN=abc123def\n", "shell", "abc123def"),
    ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", None, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("key_id = AKIAIOSFODNN7EXAMPLE", None, "AKIAIOSFODNN7EXAMPLE"),
    ("gh = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'", "python", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    ("SLACK = xoxb-123456789012-abcdefghijkl", None, "xoxb-123456789012-abcdefghijkl"),
    ("t = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", None,
     "dozjgNryP4J3jVmNHl0w5N"),
    ('url = "postgres://admin:pa55word@db.example.com:5432/app"', "python", "pa55word"),
    ('headers = {"X": "Bearer abcdefghijklmnop1234"}', "python", "abcdefghijklmnop1234"),
    ('REDIS_URL = "redis://:hunter2pass@cache.internal:6379/0"', "python", "hunter2pass"),
    ('SECRET_KEY = """django-insecure-abc123xyz"""', "python", "django-insecure-abc123xyz"),
    ("API_KEY = '''abc123def456ghi'''", "python", "abc123def456ghi"),
    ('PASSWORD = """\nP4ssw0rd\n"""', "python", "P4ssw0rd"),
    ('var password = @"P4ssw0rd!";', "csharp", "P4ssw0rd!"),
    ('var connectionString = @"Server=db;User Id=sa;Password=P4ssw0rd!;";', "csharp", "P4ssw0rd!"),
    ('var password = @"C:\\keys\\P4ssw0rd\\";', "csharp", "P4ssw0rd"),
    ('let password = r#"P4ssw0rd"#;', "rust", "P4ssw0rd"),
    ('let password = br##"P4"#ssw0rd"##;', "rust", "ssw0rd"),
    ("define( 'DB_PASSWORD', 'P4ssw0rd' );", "php", "P4ssw0rd"),
    ('os.environ.setdefault("SECRET_KEY", "P4ssw0rd")', "python", "P4ssw0rd"),
    ('System.setProperty("db.password", "P4ssw0rd");', "java", "P4ssw0rd"),
    ("define('AUTH_KEY', 'x:;E!B/ZR^ %c|g3v@q');", "php", "ZR^ %c|g3v@q"),
    ('"DefaultConnection": "Server=db;Database=app;User Id=sa;Password=P4ssw0rd;"', "json", "P4ssw0rd"),
    ('String url = "jdbc:mysql://db:3306/app?user=root&password=P4ssw0rd";', "java", "P4ssw0rd"),
    ('DSN = "host=db dbname=app user=app password=P4ssw0rd"', "python", "P4ssw0rd"),
    ('db = psycopg2.connect("host=db dbname=app user=app password=P4ssw0rd sslmode=require")', "python",
     "P4ssw0rd"),
    ('cs = "Server=db; Pwd = P4ssw0rd ; Database=app"', "csharp", "P4ssw0rd"),
    ("spring.datasource.url=jdbc:mysql://db/app?user=root&password=P4ssw0rd\n", "properties", "P4ssw0rd"),
    ('"Blobs": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=abc+/d3f==;"', "json", "abc+/d3f=="),
    # In a triple-quoted or raw string of another name (a fixture, a sample config).
    ('SAMPLE_CONFIG = """\n[database]\npassword = "hunter2"\n"""', "python", "hunter2"),
    ('FIXTURE = """{"api_key": "a8f5f167f44f4964e6c998dee827110c"}"""', "python", "a8f5f167"),
    ('let body = r#"{"password": "hunter2"}"#;', "rust", "hunter2"),
    # Pairs after the first argument, and command-line flags.
    ('Map<String, String> db = Map.of("user", "sa", "password", "P4ssw0rd!");', "java", "P4ssw0rd!"),
    ('f("a", "password", "Hunter22")', "python", "Hunter22"),
    ('subprocess.run(["mysql", "--password", "hunter2"])', "python", "hunter2"),
    ('os.system("mysql --password=hunter2 -u root")', "python", "hunter2"),
    ('args = ["--api-key=sk_abc123XYZ"]', "python", "sk_abc123XYZ"),
    ("mysqldump -u root --password=hunter2 app > dump.sql\n", "shellscript", "hunter2"),
    ("docker login --username me --password s3cr3t-42 reg.io\n", "shellscript", "s3cr3t-42"),
    ("curl --token 'abc123def' https://api.example.com\n", "shellscript", "abc123def"),
    ("command: redis-server --port 6380 --auth-key Zk9-q1\n", "yaml", "Zk9-q1"),
])
def test_redact_removes_secret_values(text, language, secret):
    out = redact(text, language)
    assert secret not in out
    assert PLACEHOLDER in out


def test_redact_private_key_block_keeps_surrounding_code():
    text = ('KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef\n'
            '-----END RSA PRIVATE KEY-----"""\nprint(KEY)\n')
    out = redact(text, "python")
    assert "MIIEowIBAAKCAQEA" not in out and "abcdef" not in out
    assert out.startswith('KEY = """-----BEGIN RSA PRIVATE KEY-----')
    assert out.endswith('-----END RSA PRIVATE KEY-----"""\nprint(KEY)\n')


@pytest.mark.parametrize("text, language", [
    ("token = get_token()", "python"),
    ("token = self.next_token", None),
    ("password: str", "python"),
    ("const apiKey = process.env.API_KEY;", "javascript"),
    ("max_tokens = 128", None),
    ('tokenizer = "gpt2"', "python"),
    ("API_KEY = os.environ['API_KEY']", "python"),
    ("password: ${DB_PASSWORD}", "yaml"),
    ("import sklearn  # sk-learn-compatible-estimator-thing", "python"),
    ("def check(password):\n    return hash(password) == stored\n", "python"),
    ('BASE = "https://example.com:8080/path"', "python"),
    ('CACHE = "redis://cache.internal:6379/0"', "python"),
    ('SECRET_KEY = """"""', "python"),
    ('def login(password):\n    """Check the password: compare it with the stored hash."""\n    return ok\n', "python"),
    ('var password = @"";', "csharp"),
    ('var password = ReadPassword(@"C:\\keys");', "csharp"),
    ('let password = std::env::var(r#"DB_PASSWORD"#)?;', "rust"),
    ("define('DEBUG', true);", "php"),
    ("define('DB_PASSWORD', '');", "php"),
    ('System.setProperty("line.separator", "\\n");', "java"),
    ('os.environ.setdefault("SECRET_KEY", get_secret_key())', "python"),
    ('password = os.environ.get("DB_PASSWORD", "")', "python"),
    ('CHOICES = [("password", "Password"), ("token", "API token")]', "python"),
    ('_("password", "Enter your password:")', "python"),
    ('fields = ("password", "email", "name")', "python"),
    ("db = connect(host=h, password=password)", "python"),
    ("db = connect(host=h, password=pw)", None),
    ("def f():\n    password=pw\n", "python"),
    ("x = 1; password = pw;", "javascript"),
    ("if (a == b && password == c) {", "java"),
    ('cs = f"Server=db;Password={password};"', "python"),
    ('cs = $"Server=db;Password={pw};"', "csharp"),
    ('q = "user=%s password=%s" % (user, pw)', "python"),
    ("s = `password=${pw}`;", "javascript"),
    ('msg = "Password: {password}"', "python"),
    ('url = "https://example.com/login?next=/&token=" + token', "python"),
    ("// don't: password=pw is code here", "java"),
    # Code after a string with a quote of the other kind or an escaped backslash in it.
    ('msg = "can\'t"; token=tok', "python"),
    ('root = "C:\\\\"; password=read_pw', "python"),
    ("char q = '\"'; secret=key;", "c"),
    # Ruby's interpolation is a template; a word or code is no secret value.
    ('url = "https://api.x.com/v1?api_key=#{api_key}&q=1"', "ruby"),
    ('conn = "host=db user=app password=#{ENV[\'PW\']}"', "ruby"),
    ('raise KeyError("token", "missing")', "python"),
    ('label = i18n.t("password", "Passwort")', "python"),
    ('db.Column("api_key", "VARCHAR(64)")', "python"),
    ('parser.add_argument("--password", "-p", help="the password")', "python"),
    ('m = Map.of("user", "sa", "token", "Token")', "java"),
    ('cmd = f"mysql --password={pw}"', "python"),
    ('cmd = "mysql --password=" + pw', "python"),
    ('cmd = "mysql --password %s" % pw', "python"),
    ("x = total --token_count", "python"),
    ("Pass --token YOUR_TOKEN, or --password secret when asked.\n", "markdown"),
    ("deepfim --api-key=API_KEY serve\n", "shellscript"),
    ('mysql --password="$DB_PASSWORD"\n', "shellscript"),
    ("echo $PW | docker login --password-stdin registry.example.com\n", "shellscript"),
    ("gh auth login --with-token < token.txt\n", "shellscript"),
    # A version number or an address is no credential (Module::CoreList's 'Pod::Simple::PullParserToken' => '3.13').
    ("    'Pod::Simple::PullParserToken' => '3.13',\n", "perl"),
    ('TOKEN_FORMAT_VERSION = "v2.0.1"\n', "python"),
    ("SECRET_HOST=10.0.0.12\n", "shellscript"),
])
def test_redact_leaves_code_alone(text, language):
    assert redact(text, language) == text


def test_redact_reads_perl_as_code_and_finds_its_hash_subscript_secrets():
    """Perl was no code language: ``password => $args{password},`` was cut as a config line (``password
    =<redacted>``), and a secret assigned to a hash element (``$self->{secret_key} = "..."``, ``$ENV{...}``)
    was kept."""
    code = ("my %opts = (\n    password => $args{password},\n    token: $x\n);\n"
            "my $password = $self->param('password');\n  key = $h->{key} ;\n")
    assert redact(code, "perl") == code
    for text, secret in (('$self->{secret_key} = "hunter2isgreat";', "hunter2isgreat"),
                         ("$ENV{AWS_SECRET}='xyz123abc';", "xyz123abc"),
                         ("$conf{'password'} = 'P4ssw0rd';", "P4ssw0rd"),
                         ("my %db = (password => 'P4ssw0rd', user => 'app');", "P4ssw0rd")):
        assert secret not in redact(text, "perl") and PLACEHOLDER in redact(text, "perl"), text


def test_redact_finds_a_secret_in_perls_q_literals():
    """``$password = q{...}`` and ``api_key => qq(...)`` were kept: only quotes counted as string literals;
    ``q(x)`` is left alone where it is a call (Python)."""
    assert redact("my $password = q{hunter2pw};\n", "perl") == "my $password = q{<redacted>};\n"
    assert redact("my %c = (api_key => qq(abc123def), n => 1);", "perl") == \
        "my %c = (api_key => qq(<redacted>), n => 1);"
    assert redact("token = q(request)\n", "python") == "token = q(request)\n"


def test_redact_is_fast_on_hostile_100kb_inputs():
    rng = random.Random(0)
    inputs = [
        "".join(rng.choice(string.printable) for _ in range(100_000)),
        "a" * 100_000,
        "password=" * 11_000,
        "'a'=" * 25_000,
        "a: b: c " * 12_500,
        "https://a:" * 10_000,
        'password = "' + "x" * 100_000,
        "-----BEGIN PRIVATE KEY-----" * 3_700,
        "sk-" * 33_000,
        "x.y" * 33_000,
        ("token = 'abc'\n" + "def f(x):\n    return x\n" * 10) * 400,
        '("a",' * 20_000,
        '("a","""x' * 12_000,
        "--password " * 9_000,
        "--token=" * 12_000,
    ]
    for text in inputs:  # CPU time, not wall time: a busy shared machine must not fail it; backtracking takes minutes
        start = time.process_time()
        redact(text)
        redact(text, "python")
        assert time.process_time() - start < 2.0, text[:20]


# ------------------------------------------------------------------------------------ imports

def test_language_of():
    assert language_of("a/b.py") == "python"
    assert language_of("x.tsx") == "typescript"
    assert language_of("m.mjs") == "javascript"
    assert language_of("lib.rs") == "rust"
    assert language_of("x.hpp") == "cpp"
    assert language_of(".env.local") == "env"
    assert language_of("notes") == "text"


def test_python_imports_and_resolution():
    known = {"utils.py", "pkg/__init__.py", "pkg/a.py", "pkg/sub/__init__.py", "pkg/sub/b.py",
             "src/proj/core.py", "src/proj/__init__.py"}
    text = ("import os\nfrom utils import load_data, save as s\nimport pkg.a as pa\npa.run()\n"
            "from .sub import b\nfrom . import a\nfrom proj.core import Engine\n")
    refs = imported_modules(text, "python")
    by_module = {r.module: r for r in refs}
    assert by_module["utils"].names == ("load_data", "save")
    assert by_module["pkg.a"].names == ("run",)
    assert resolve(by_module["os"], "pkg/main.py", known) == []
    assert resolve(by_module["utils"], "pkg/main.py", known) == ["utils.py"]
    assert resolve(by_module["pkg.a"], "pkg/main.py", known) == ["pkg/a.py"]
    assert resolve(by_module[".sub"], "pkg/main.py", known) == ["pkg/sub/__init__.py", "pkg/sub/b.py"]
    assert "pkg/a.py" in resolve(by_module["."], "pkg/main.py", known)
    assert resolve(by_module["proj.core"], "src/proj/cli.py", known) == ["src/proj/core.py"]
    assert resolve(by_module["proj.core"], "tests/test_x.py", known) == ["src/proj/core.py"]


def test_python_absolute_import_is_not_a_module_inside_a_package():
    # app/utils/json.py is ``app.utils.json``: ``import json`` (the standard library) does not name it.
    known = {"app/__init__.py", "app/views.py", "app/utils/__init__.py", "app/utils/json.py",
             "app/core/logging.py", "src/proj/__init__.py", "src/proj/core.py"}
    refs = {r.module: r for r in imported_modules("import json\nimport logging\nimport core\n", "python")}
    assert resolve(refs["json"], "app/views.py", known) == []
    assert resolve(refs["logging"], "app/views.py", known) == []  # app/core: a namespace folder in a package
    assert resolve(refs["core"], "app/views.py", known) == []
    (src,) = imported_modules("import proj.core\n", "python")
    assert resolve(src, "app/views.py", known) == ["src/proj/core.py"]  # src/ is a source root


def test_python_imports_survive_syntax_errors():
    text = "from utils import (\n    load_data,\n    save,\n)\ndef broken(:\n    pass\nimport helpers\n"
    refs = imported_modules(text, "python")
    assert [(r.module, r.names) for r in refs] == [("utils", ("load_data", "save")), ("helpers", ())]


def test_javascript_typescript_imports():
    known = {"src/lib/index.ts", "src/util.tsx", "src/app.ts", "src/old.js", "src/comp/Button.jsx"}
    text = ("import { a, b as c } from './lib';\nimport React from 'react';\nimport * as U from './util';\n"
            "U.x();\nconst { q } = require('./old');\nimport './util.js';\nimport type { T } from \"./app\";\n"
            "import Button from './comp/Button'\n")
    refs = imported_modules(text, "typescript")
    got = {r.module: r for r in refs}
    assert got["./lib"].names == ("a", "b")
    assert got["./util"].names == ("x",)
    assert got["./old"].names == ("q",)
    assert "Button" in got["./comp/Button"].names
    cur = "src/main.ts"
    assert resolve(got["./lib"], cur, known) == ["src/lib/index.ts"]
    assert resolve(got["react"], cur, known) == []
    assert resolve(got["./util"], cur, known) == ["src/util.tsx"]
    assert resolve(got["./util.js"], cur, known) == ["src/util.tsx"]
    assert resolve(got["./old"], cur, known) == ["src/old.js"]
    assert resolve(got["./app"], cur, known) == ["src/app.ts"]
    assert resolve(got["./comp/Button"], cur, known) == ["src/comp/Button.jsx"]


def test_go_imports_match_directories_by_suffix():
    known = {"internal/db/db.go", "internal/db/conn.go", "internal/db/db_test.go", "cmd/main.go", "pkg/json/j.go"}
    text = ('package main\n\nimport (\n\t"fmt"\n\t"encoding/json"\n\t"github.com/me/proj/internal/db"\n)\n\n'
            "func main() { db.Open(); fmt.Println(json.Valid(nil)) }\n")
    refs = {r.module: r for r in imported_modules(text, "go")}
    assert refs["github.com/me/proj/internal/db"].names == ("Open",)
    assert resolve(refs["github.com/me/proj/internal/db"], "cmd/main.go", known) == ["internal/db/conn.go", "internal/db/db.go"]
    assert resolve(refs["fmt"], "cmd/main.go", known) == []
    assert resolve(refs["encoding/json"], "cmd/main.go", known) == []  # standard library, not pkg/json


def test_rust_mod_and_use():
    known = {"src/lib.rs", "src/a/mod.rs", "src/a/b.rs", "src/c.rs"}
    text = "mod a;\nmod c;\nuse crate::a::b::{Thing, Other};\nuse std::io;\n"
    refs = imported_modules(text, "rust")
    got = {r.module: r for r in refs}
    assert resolve(got["mod:a"], "src/lib.rs", known) == ["src/a/mod.rs"]
    assert resolve(got["mod:c"], "src/lib.rs", known) == ["src/c.rs"]
    assert got["crate::a::b"].names == ("Thing", "Other")
    assert resolve(got["crate::a::b"], "src/lib.rs", known) == ["src/a/b.rs"]
    assert resolve(got["std::io"], "src/lib.rs", known) == []
    sup = ImportRef("super::c", ("C",), "rust")
    assert resolve(sup, "src/a/mod.rs", known) == ["src/c.rs"]


def test_rust_a_use_in_a_function_counts_in_that_function_only():
    """clap's ``{ use super::HelpTemplate; HelpTemplate::new(...) }``: the definition comes where the cursor is in
    that block, not in the file's other functions (Rust's scoping: a reader's too)."""
    files = {"src/lib.rs": "mod output;\n", "src/output/mod.rs": "mod help;\nmod help_template;\n"
             "pub(crate) use self::help_template::HelpTemplate;\n",
             "src/output/help_template.rs": "pub(crate) struct HelpTemplate {\n    width: usize,\n}\n\n"
                                            "impl HelpTemplate {\n    pub(crate) fn new(width: usize) -> Self {\n"
                                            "        HelpTemplate { width }\n    }\n}\n"}
    current = ("pub(crate) fn write_help() {\n    {\n        use super::HelpTemplate;\n"
               "        let t = HelpTemplate::new(80);\n        \n    }\n}\n\npub(crate) fn other() {\n    \n}\n")
    files["src/output/help.rs"] = current
    inside = select_context("src/output/help.rs", current, 4, files, [], None, 20_000, (0, 11))
    assert any("pub(crate) fn new(width: usize) -> Self {" in s.text for s in inside
               if s.source == "src/output/help_template.rs")
    outside = select_context("src/output/help.rs", current, 9, files, [], None, 20_000, (0, 11))
    assert not any("fn new(width" in s.text for s in outside if s.source == "src/output/help_template.rs")


def test_java_imports_anywhere_under_a_source_root():
    known = {"app/src/main/java/com/acme/util/Bar.java", "app/src/main/java/com/acme/Foo.java",
             "app/src/main/java/com/acme/util/Baz.java"}
    text = "package com.acme;\nimport com.acme.util.Bar;\nimport java.util.List;\nimport static com.acme.Foo.make;\nimport com.acme.util.*;\n"
    got = {r.module: r for r in imported_modules(text, "java")}
    cur = "app/src/main/java/com/acme/Main.java"
    assert resolve(got["com.acme.util.Bar"], cur, known) == ["app/src/main/java/com/acme/util/Bar.java"]
    assert got["com.acme.Foo"].names == ("make",)
    assert resolve(got["com.acme.Foo"], cur, known) == ["app/src/main/java/com/acme/Foo.java"]
    assert resolve(got["java.util.List"], cur, known) == []
    assert len(resolve(got["com.acme.util.*"], cur, known)) == 2


def test_c_includes_relative_then_by_basename():
    known = {"src/x.c", "src/y.h", "include/proj/x.h", "lib/z.h"}
    text = '#include "y.h"\n#include <proj/x.h>\n#include <stdio.h>\n#include "z.h"\n'
    refs = imported_modules(text, "c")
    assert [resolve(r, "src/x.c", known) for r in refs] == [["src/y.h"], ["include/proj/x.h"], [], ["lib/z.h"]]
    assert refs[1].system and not refs[0].system


# ------------------------------------------------------------------------------------ symbols

PY_MODULE = '''"""Utilities."""
import json

DEFAULT_PATH = "data.json"


def load_data(path: str = DEFAULT_PATH) -> dict:
    """Load the data."""
    with open(path) as f:
        return json.load(f)


@cache
def save(data,
         path):
    text = """
def not_a_definition():
    pass
"""
    return text


class Store:
    """A store of things."""

    name: str = "store"

    def __init__(self, root):
        self.root = root
''' + "".join(f"        self.x{i} = {i}\n" for i in range(50)) + '''
    @property
    def size(self) -> int:
        return 1

    async def fetch(self,
                    key: str) -> bytes:
        """Fetch one."""
        return b""


def tail():
    return None
'''


def test_python_definitions_of_named_functions():
    out = definitions(PY_MODULE, "python", ["load_data", "save", "not_a_definition"])
    assert out.startswith("def load_data(path: str = DEFAULT_PATH) -> dict:")
    assert "return json.load(f)" in out
    assert "@cache\ndef save(data," in out
    assert "tail" not in out and "class Store" not in out


def test_python_class_is_reduced_to_signatures():
    out = definitions(PY_MODULE, "python", ["Store"])
    assert out.startswith('class Store:\n    """A store of things."""')
    assert 'name: str = "store"' in out
    assert "def __init__(self, root):" in out
    assert "    @property\n    def size(self) -> int:" in out
    assert "async def fetch(self,\n                    key: str) -> bytes:" in out
    assert "self.x10" not in out  # bodies left out


def test_definitions_fall_back_to_head_or_outline():
    small = "import os\n\nX = 1\n"
    assert definitions(small, "python", ["missing"]) == small
    cut = extract(PY_MODULE, "python", ["missing"], max_chars=400)
    assert not cut.found and len(cut.text) <= 400
    assert "def load_data(path: str = DEFAULT_PATH) -> dict:" in cut.text
    assert "self.x10" not in cut.text


def test_typescript_definitions():
    text = ("import { x } from './x';\n\n// Adds.\nexport function add(a: number, b: number): number {\n"
            "  return a + b;\n}\n\nexport const PI = 3.14;\n\nexport default class Widget {\n  name = 'w';\n"
            "  render(): string {\n    return `<div>${this.name}</div>`;\n  }\n}\n\ntype Alias = string | number\n"
            "function helper() { return 1 }\n")
    out = definitions(text, "typescript", ["add", "PI", "Alias"])
    assert "// Adds.\nexport function add(a: number, b: number): number {\n  return a + b;\n}" in out
    assert "export const PI = 3.14;" in out
    assert "type Alias = string | number" in out and "helper" not in out
    assert definitions(text, "typescript", ["default"]).startswith("export default class Widget {")


def test_brace_language_definitions():
    go = "package db\n\n// Open opens.\nfunc Open(dsn string) (*DB, error) {\n\treturn nil, nil\n}\n\nfunc other() {}\n"
    assert definitions(go, "go", ["Open"]) == "// Open opens.\nfunc Open(dsn string) (*DB, error) {\n\treturn nil, nil\n}"
    rs = "/// A thing.\n#[derive(Debug)]\npub struct Thing {\n    pub a: i32,\n}\n\npub fn other() -> i32 { 1 }\n"
    assert definitions(rs, "rust", ["Thing"]) == "/// A thing.\n#[derive(Debug)]\npub struct Thing {\n    pub a: i32,\n}"
    java = ("package a;\npublic class Foo {\n    public static Foo make(int x) {\n        return new Foo();\n    }\n"
            "    public int getX() { return 1; }\n}\n")
    # A member comes with the header of its class.
    assert definitions(java, "java", ["make"]) == ("public class Foo {\n\n    public static Foo make(int x) {\n"
                                                   "        return new Foo();\n    }")
    c = "#define MAX 10\ntypedef struct { int x; } point_t;\nint add(int a, int b);\n"
    out = definitions(c, "c", ["add", "point_t"])
    assert "int add(int a, int b);" in out and "point_t;" in out and "MAX" not in out


def test_swift_protocols_and_kotlin_fun_interfaces_are_definitions():
    """A Swift ``protocol`` or ``actor`` and a Kotlin ``fun interface`` were no definition (``fun interface
    Filter`` defined "interface"): a file of the module defining one was ranked as defining nothing the
    cursor uses and rarely reached the prompt (179 of expo-modules-core's 251 Swift misses)."""
    swift = ("import Foundation\n\npublic protocol AnyArgument: Sendable {\n  static func describe() -> String\n}\n\n"
             "actor Store {\n  var items: [Int] = []\n}\n" + "".join(f"// line {i}\n" for i in range(200)))
    cut = extract(swift, "swift", ["AnyArgument", "Store"], max_chars=400)
    assert cut.found and cut.text.startswith("public protocol AnyArgument: Sendable {") and "actor Store {" in cut.text
    kotlin = "package a\n\nfun interface Filter<T> {\n    fun accept(item: T): Boolean\n}\n"
    assert extract(kotlin, "kotlin", ["Filter"]).found


def test_a_kotlin_member_comes_with_the_head_of_its_class():
    """A member of a Kotlin class the cursor uses was sent alone, and the rest of the file's signatures
    skipped its class (it overlapped the member): ``abstract class Converter`` never reached the prompt
    for a use of ``Converter`` in a file that also calls ``convert``."""
    kotlin = ("package a\n\nabstract class Converter<T : Any>(\n  val optional: Boolean\n) : Base<T>() {\n"
              "  fun helper(): Int = 1\n\n  abstract fun convert(value: Any): T\n}\n")
    assert definitions(kotlin, "kotlin", ["convert"]) == (
        "abstract class Converter<T : Any>(\n  val optional: Boolean\n) : Base<T>() {\n\n"
        "  abstract fun convert(value: Any): T")


def test_long_function_is_reduced_to_signature():
    body = "".join(f"    x{i} = {i}\n" for i in range(100))
    text = f"def big(a, b):\n    \"\"\"Doc.\"\"\"\n{body}    return a\n"
    out = definitions(text, "python", ["big"])
    assert out == 'def big(a, b):\n    """Doc."""\n    ...'


# --------------------------------------------------------------------------------- similarity

def test_words_and_scores():
    assert words("def load_data(self, path): return self.path") == ["load_data", "path", "path"]
    a, b = {"x1", "y1", "z1"}, {"x1", "y1", "w1"}
    assert jaccard(a, b) == pytest.approx(2 / 4)
    assert dice(a, b) == pytest.approx(4 / 6)
    assert jaccard(set(), b) == 0.0


def test_scored_windows_find_the_similar_region():
    filler = "".join(f"unrelated_{i} = compute_{i}()\n" for i in range(300))
    target = ("def parse_invoice(raw_invoice):\n    items = raw_invoice['line_items']\n"
              "    total = sum(item['amount'] for item in items)\n    return InvoiceTotal(total)\n")
    query = "invoice = parse_invoice(raw_invoice)\nfor item in invoice.line_items:\n    print(item.amount)\n"
    found = scored_windows(word_set(query), "big.py", filler + target + filler, window_lines=20, limit=1)
    assert [w.source for w in found] == ["big.py"]
    assert "def parse_invoice(raw_invoice):" in found[0].text
    assert found[0].snippet() == Snippet("big.py", found[0].text)


def test_recent_edits_ring():
    ring = RecentEdits(capacity=3)
    a = "alpha_one = 1\nalpha_two = 2\nalpha_three = 3\n"
    assert ring.add("a.py", a)
    assert not ring.add("a.py", a)  # exact duplicate dropped
    assert not ring.add("b.py", "x\ny\n")  # fewer than 3 lines
    long = "".join(f"name_{i} = value_{i}\n" for i in range(40))
    assert ring.add("c.py", long)
    nearly = long.replace("value_39", "value_39b")  # Dice > 0.9: the older chunk is evicted
    assert ring.add("c.py", nearly)
    assert [c.source for c in ring.chunks] == ["a.py", "c.py"] and ring.chunks[-1].text == nearly.strip("\n")
    assert ring.add("d.py", "delta_one\ndelta_two\ndelta_three\n")
    assert ring.add("e.py", "echo_one\necho_two\necho_three\n")  # FIFO: a.py goes
    assert [c.source for c in ring.chunks] == ["c.py", "d.py", "e.py"]
    # Chunks similar to the cursor area are left out of the selection (and kept unless evict=True).
    assert [c.source for c in ring.select("delta_one delta_two delta_three")] == ["c.py", "e.py"]
    assert len(ring) == 3
    ring.select("delta_one delta_two delta_three", evict=True)
    assert [c.source for c in ring.chunks] == ["c.py", "e.py"]
    ring.forget("e.py")
    assert [c.source for c in ring.chunks] == ["c.py"]


def test_note_edit_takes_lines_around_the_edit():
    ring = RecentEdits(chunk_lines=10)
    doc = "".join(f"line_{i}\n" for i in range(100))
    ring.note_edit("f.py", doc, 50)
    (chunk,) = ring.chunks
    assert (chunk.start, chunk.end) == (45, 55)
    assert chunk.text.splitlines()[0] == "line_45"


# ------------------------------------------------------------------------------------ context

UTILS = '''import json


def load_data(path):
    """Read a JSON file."""
    with open(path) as f:
        return json.load(f)


def unrelated_helper():
    return 42
'''

MAIN = '''from utils import load_data


def main():
    data = load_data("input.json")
    print(data)
'''


def _files(**extra):
    files = {"utils.py": UTILS, "main.py": MAIN}
    files.update(extra)
    return files


def test_imported_definition_becomes_a_snippet():
    out = select_context("main.py", MAIN, 4, _files(), [], RecentEdits(), 4000, (0, 6))
    assert len(out) == 1
    assert out[0].source == "utils.py"
    assert out[0].text.startswith("def load_data(path):")
    assert "unrelated_helper" not in out[0].text


def test_the_import_being_typed_counts_once_the_cursor_leaves_its_line():
    """The cursor's line is half-written (``from utils import load_da``): its imports are read with
    the rest of the file once the cursor is on another line, and each keystroke on it reuses one
    reading of the rest of the file."""
    from fim.context import _imports
    typing = "import os\nfrom utils import load_data\n\nload_data(os.sep)\n"
    assert select_context("main.py", typing, 1, _files(), [], RecentEdits(), 4000, (0, 4)) == []
    before = _imports.cache_info()
    select_context("main.py", typing.replace("load_data\n\n", "load_dat\n\n", 1), 1, _files(), [], RecentEdits(),
                   4000, (0, 4))
    after = _imports.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    out = select_context("main.py", typing, 3, _files(), [], RecentEdits(), 4000, (0, 4))
    assert [s.source for s in out] == ["utils.py"]


def test_secret_files_never_appear_and_values_are_redacted():
    files = _files(**{
        ".env": "OPENAI_API_KEY=sk-abc123abc123abc123abc123\n",
        "settings.py": "DB_PASSWORD = 'hunter2'\nDEBUG = True\n",
    })
    main = "import settings\nfrom utils import load_data\n\nload_data(settings.DB_PASSWORD)\n"
    ring = RecentEdits()
    ring.add(".env", "A=1\nB=2\nOPENAI_API_KEY=sk-abc123abc123abc123abc123\n")
    out = select_context("main.py", main, 3, files, [".env", "settings.py"], ring, 10_000, (0, 4),
                         recent_paths=[".env", "settings.py"])
    joined = "\n".join(s.source + "\n" + s.text for s in out)
    assert ".env" not in [s.source for s in out]
    assert "sk-abc123" not in joined and "hunter2" not in joined
    assert "DB_PASSWORD = '<redacted>'" in joined


def test_never_repeats_the_prompt_window_or_a_region():
    lines = [f"value_{i} = compute_value_{i}(value_{i - 1})" for i in range(400)]
    current = "\n".join(lines) + "\n"
    ring = RecentEdits()
    ring.note_edit("big.py", current, 210)  # inside the window: must not come back
    ring.note_edit("big.py", current, 20)  # far away: may come back, once
    out = select_context("big.py", current, 200, {"big.py": current}, [], ring, 50_000, (150, 260),
                         recent_paths=["big.py"])
    seen: set[str] = set()
    for snippet in out:
        for line in snippet.text.splitlines():
            n = int(line.split("_")[1].split(" ")[0])
            assert not 150 <= n < 260, line
            assert line not in seen
            seen.add(line)
    assert out  # far regions of the current file are offered


def test_budget_is_respected_and_imports_come_last():
    other = "".join(f"def load_{i}(path):\n    return load_data(path) + {i}\n\n" for i in range(60))
    files = _files(**{"loaders.py": other})
    ring = RecentEdits()
    ring.add("loaders.py", "".join(f"x_{i} = load_data('{i}')\n" for i in range(5)), 500)
    for budget in (200, 800, 3000, 20_000):
        out = select_context("main.py", MAIN, 4, files, ["loaders.py"], ring, budget, (0, 6))
        assert sum(len(s.text) + header_cost(s.source) for s in out) <= budget
    out = select_context("main.py", MAIN, 4, files, ["loaders.py"], ring, 20_000, (0, 6))
    assert out[-1].source == "utils.py"  # the import: most important, nearest the cursor
    assert {s.source for s in out} == {"utils.py", "loaders.py"}


def test_order_is_stable_across_keystrokes():
    helpers = {f"mod{i}.py": "".join(f"def helper_{i}_{j}(data, records):\n    return data.records[{j}]\n\n"
                                     for j in range(40)) for i in range(4)}
    files = _files(**helpers)
    ring = RecentEdits()
    current = MAIN + "\n\ndef use(data):\n    records = data.records\n"
    args = dict(files=files, open_paths=list(helpers), recent=ring, budget_chars=30_000)
    first = select_context("main.py", current, 8, window=(0, 9), **args)
    again = select_context("main.py", current, 8, window=(0, 9), **args)
    assert first == again
    typed = current + "    return records"
    after = select_context("main.py", typed, 9, window=(0, 10), **args)
    assert [s.source for s in after] == [s.source for s in first]
    assert first[-1].source == "utils.py"


def test_only_other_files_of_the_same_language_family_are_compared():
    files = _files(**{"notes.md": MAIN * 3, "helper.py": "def process(data):\n    print(data)\n" * 3})
    out = select_context("main.py", MAIN, 4, files, [], RecentEdits(), 10_000, (0, 6),
                         recent_paths=["notes.md", "helper.py"])
    sources = [s.source for s in out]
    assert "notes.md" not in sources and "helper.py" in sources


def test_empty_inputs():
    assert select_context("main.py", "", 0, {}, [], RecentEdits(), 1000, (0, 0)) == []
    assert select_context("main.py", MAIN, 0, _files(), [], None, 0, (0, 1)) == []


def test_context_selection_is_fast():
    big = {f"pkg/m{i}.py": "".join(f"def f_{i}_{j}(a, b):\n    return a * {j} + b\n\n" for j in range(700))
           for i in range(25)}
    files = _files(**big)
    ring = RecentEdits()
    for i in range(16):
        ring.note_edit(f"pkg/m{i}.py", big[f"pkg/m{i}.py"], 100 * i)
    paths = list(big)
    start = time.perf_counter()
    select_context("main.py", MAIN, 4, files, paths[:5], ring, 40_000, (0, 6), recent_paths=paths)
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(5):
        select_context("main.py", MAIN, 4, files, paths[:5], ring, 40_000, (0, 6), recent_paths=paths)
    assert first < 5.0
    assert (time.perf_counter() - start) / 5 < 0.25


def test_current_file_far_from_the_cursor_is_searched():
    far = "def normalise_invoice_total(invoice_total, currency_rate):\n    return invoice_total * currency_rate\n"
    filler = "".join(f"other_{i} = make_other_{i}()\n" for i in range(300))
    near = "amount = normalise_invoice_total(invoice_total, currency_rate)\n"
    current = far + filler + near * 3
    out = select_context("app.py", current, 302, {}, [], RecentEdits(), 10_000, (200, 304))
    assert [s.source for s in out] == ["app.py"]
    assert out[0].text.startswith("def normalise_invoice_total")


def test_current_file_windows_keep_their_text_when_a_line_is_typed():
    """A similar region of the current file below the prompt's window is the same snippet after Enter
    at the cursor (its lines all move down by one): the prompt before the prefix stays as read."""
    near = "amount = normalise_invoice_total(invoice_total, currency_rate)\n"
    filler = "".join(f"other_{i} = make_other_{i}()\n" for i in range(200))
    far = "".join(f"total_{i} = normalise_invoice_total(invoice_total, currency_rate) + {i}\n" for i in range(80))
    current = near * 3 + filler + far
    out = select_context("app.py", current, 2, {}, [], RecentEdits(), 10_000, (0, 100))
    typed = near * 3 + "\n" + filler + far  # Enter at the cursor: one line more in the window
    after = select_context("app.py", typed, 3, {}, [], RecentEdits(), 10_000, (0, 101))
    assert out and [s.source for s in out] == ["app.py"] and out == after


def test_line_numbers_follow_lsp_line_ends():
    # A form feed is not a line end for the editor: windows must not shift because of it.
    current = "import os\n\x0c\n" + "".join(f"line_{i} = {i}\r\n" for i in range(10))
    ring = RecentEdits(chunk_lines=4)
    ring.note_edit("a.py", current, 5)
    (chunk,) = ring.chunks
    assert chunk.start == 3 and chunk.text.splitlines()[0] == "line_1 = 1"
    assert definitions("def f():\r\n    return 1\r\n\r\ndef g():\r\n    pass\r\n", "python", ["g"]) == "def g():\n    pass"


# ------------------------------------------------------------- fixes from the repository benchmark

def test_a_file_is_parsed_once_whatever_names_are_asked(monkeypatch):
    # The parse was cached by (text, names): every new set of imported names parsed the file again.
    import fim.languages.python as symbols

    import fim.symbols

    fim.symbols._model.cache_clear()
    text = PY_MODULE + "\n# version 2\n"
    parses = []
    original = symbols._PythonFile.__init__

    def counting(self, *args):
        parses.append(1)
        original(self, *args)

    monkeypatch.setattr(symbols._PythonFile, "__init__", counting)
    for names in (["load_data"], ["save"], ["Store", "tail"], ["missing"], ["load_data", "save"]):
        assert extract(text, "python", names).text
    assert len(parses) == 1


def _parses_counted(monkeypatch, cls) -> list:
    """A list that grows by one each time a file is parsed into `cls` (the language's definitions model)."""
    parses: list = []
    original = cls.__init__

    def counting(self, *args):
        parses.append(1)
        original(self, *args)

    monkeypatch.setattr(cls, "__init__", counting)
    return parses


@pytest.mark.parametrize("language", ["python", "perl"])
def test_a_keystroke_in_a_file_with_1500_imports_parses_no_imported_file_again(monkeypatch, language):
    """Every imported file's definitions are read on each request: with more files than the memos of
    `fim.symbols` held (512 answers, 192 parsed files), each keystroke parsed them all again (a Perl script
    calling 2,000 packages: 1 s a keystroke; a Python module importing from 2,000 modules: 0.26 s)."""
    import fim.languages.perl as perl
    import fim.languages.python as python

    n = 1500
    if language == "python":
        files = {f"pkg/mod_{i}.py": f"def step_{i}(x):\n    return x + {i}\n\n\nclass Thing{i}:\n    pass\n"
                 for i in range(n)}
        path = "app.py"
        text = "".join(f"from pkg.mod_{i} import step_{i}, Thing{i}\n" for i in range(n)) + "\nstep_7(Thing7())\n"
        parsed = python._PythonFile
    else:
        files = {f"lib/Pkg/P{i}.pm": f"package Pkg::P{i};\n\nsub step_{i} {{\n    return $_[1] + {i};\n}}\n\n1;\n"
                 for i in range(n)}
        path = "script.pl"
        text = "".join(f"Pkg::P{i}->step_{i}(1);\n" for i in range(n)) + "\n"
        parsed = perl.PerlFile
    files[path] = text
    cursor = n
    first = select_context(path, text, cursor, files, [path], None, 20_000, (n - 40, n + 1))
    assert first  # the imported definitions are chosen
    parses = _parses_counted(monkeypatch, parsed)
    typed = text + "s"
    files[path] = typed
    again = select_context(path, typed, cursor, files, [path], None, 20_000, (n - 40, n + 1))
    assert [s.source for s in again] == [s.source for s in first]
    assert len(parses) <= 1  # the document itself at most


def test_the_text_memo_holds_at_most_its_characters():
    """A memo of a file's facts is bounded by the text it holds (old versions of edited files), not by a count."""
    from fim.memo import TextMemo

    memo = TextMemo(len, max_chars=10_000, max_entries=1_000)
    texts = ["x" * 1000 + str(i) for i in range(50)]
    for text in texts:
        assert memo(text) == len(text)
    info = memo.cache_info()
    assert info.chars <= 10_000 and info.entries == 9
    assert memo(texts[-1]) == len(texts[-1]) and memo.cache_info().hits == 1  # the latest are kept
    memo(texts[0])
    assert memo.cache_info().misses == 51  # the oldest was dropped


def test_window_word_sets_are_reused_after_a_keystroke(monkeypatch):
    # Only the windows holding the edited line are split into words again.
    import fim.similarity as similarity

    text = "".join(f"value_{i} = compute_{i}(value_{i - 1})\n" for i in range(600))
    similarity.scored_windows("compute_10 value_10", "a.py", text)
    before = similarity._block_words.cache_info().misses
    typed = text.replace("value_300 = compute_300", "value_300 = compute_300x", 1)
    similarity.scored_windows("compute_10 value_10", "a.py", typed)
    assert similarity._block_words.cache_info().misses - before <= 1


def test_string_annotations_are_not_secrets():
    code = 'def describe_token(token: "Token") -> str:\n    return token.kind\n'
    assert redact(code, "python") == code
    assert redact('class A:\n    token: "Optional[Token]" = None\n', "python").count(PLACEHOLDER) == 0
    # Real secrets still go.
    assert "ghp_" not in redact('token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"', "python")
    assert "hunter2" not in redact('password: "hunter2"\n', "yaml")
    assert "Summer2024" not in redact('password: "Summer2024"\n', "python")
    assert "abc123def456" not in redact('API_TOKEN="abc123def456"\n', "shell")
    assert "abc123def456" not in redact('API_TOKEN="abc123def456"\n', None)


def test_several_names_from_one_big_module_all_keep_their_signature():
    # rich/status.py imports Console and RenderableType from .console: the big class came after a
    # small alias, did not fit the per-snippet cap after it, and was dropped completely.
    methods = "".join(f"    def method_{i}(self, value: int) -> int:\n        \"\"\"Method {i}.\"\"\"\n"
                      + "".join(f"        value += {j}\n" for j in range(8)) + "        return value\n\n"
                      for i in range(120))
    console = ("from typing import Union\n\nRenderableType = Union[str, 'ConsoleRenderable']\n\n\n"
               "class Console:\n    \"\"\"A high level console interface.\"\"\"\n\n" + methods)
    cut = extract(console, "python", ["Console", "RenderableType"], max_chars=2000)
    assert len(cut.text) <= 2000
    assert "RenderableType = Union[str, 'ConsoleRenderable']" in cut.text
    assert 'class Console:\n    """A high level console interface."""' in cut.text
    assert "def method_0(self, value: int) -> int:" in cut.text
    # With room for little more than the heads, both heads are there.
    small = extract(console, "python", ["Console", "RenderableType"], max_chars=120)
    assert "class Console:" in small.text and "RenderableType =" in small.text


def test_definitions_under_module_level_if_try_else_are_found():
    compat = ('import sys\n\nWIN = sys.platform.startswith("win")\n\nif WIN:\n\n'
              '    def _get_argv_encoding() -> str:\n        import locale\n        return locale.getpreferredencoding()\n\n'
              'else:\n\n    def _get_argv_encoding() -> str:\n        return getattr(sys.stdin, "encoding", None)\n\n'
              'try:\n    _get_annotations = sys.modules["x"].get_annotations\nexcept KeyError:\n'
              '    _get_annotations = None\n\n\ndef other():\n    pass\n')
    out = definitions(compat, "python", ["_get_argv_encoding", "_get_annotations"])
    assert "    def _get_argv_encoding() -> str:\n        import locale" in out
    assert 'return getattr(sys.stdin, "encoding", None)' in out
    assert '_get_annotations = sys.modules["x"].get_annotations' in out
    assert "def other" not in out and "WIN =" not in out
    # The outline of the file does not repeat the guarded definitions.
    cut = extract(compat * 40, "python", ["missing"], max_chars=100_000)
    assert cut.text.count("_get_argv_encoding") <= 2 * 40


def test_a_definition_whose_def_line_is_new_is_not_a_duplicate():
    # Short signature lines such as `mode: str = "r",` are common; they made the real definition
    # look like a repeat of the prompt.
    params = '    mode: str = "r",\n    encoding: str = "utf-8",\n    errors: str = "strict",\n    lazy: bool = False,\n'
    lib = f"def open_file(\n    filename: str,\n{params}) -> int:\n    return 1\n"
    current = ("from lib import open_file\n\n\ndef open_stream(\n    filename: str,\n" + params
               + ") -> int:\n    return open_file(filename, mode, encoding, errors, lazy)\n")
    n = len(current.splitlines())
    out = select_context("main.py", current, n - 1, {"lib.py": lib, "main.py": current}, [], None,
                         10_000, (0, n))
    assert [s.source for s in out] == ["lib.py"]
    assert out[0].text.startswith("def open_file(")


def test_a_module_whose_only_long_line_the_document_repeats_is_not_a_duplicate():
    # actionpack: conditional_get.rb's outline is its `module` lines and `extend ActiveSupport::Concern`, the
    # one line long enough to be distinctive, which the document holds too: the file was dropped as a repeat.
    lib = ("module ActionController\n  module ConditionalGet\n    extend ActiveSupport::Concern\n    include Head\n\n"
           + "".join(f"    def fresh_when{i}(object = nil)\n      x = {i}\n      y = x\n      x + y\n    end\n\n"
                     for i in range(30)) + "  end\nend\n")
    current = ("module ActionController\n  module EtagWithTemplateDigest\n    extend ActiveSupport::Concern\n\n"
               "    include ActionController::\n  end\nend\n")
    files = {"lib/action_controller/metal/conditional_get.rb": lib,
             "lib/action_controller/metal/etag_with_template_digest.rb": current}
    out = select_context("lib/action_controller/metal/etag_with_template_digest.rb", current, 4, files, [], None,
                         10_000, (0, 7))
    assert [s.source for s in out] == ["lib/action_controller/metal/conditional_get.rb"]
    assert "  module ConditionalGet\n" in out[0].text


def test_reexported_names_bring_the_defining_module():
    # ``from sympy.core import S`` where sympy/core/__init__.py does ``from .singleton import S``.
    init = '"""Core."""\n' + "".join(f"from .mod{i} import thing_{i}\n" for i in range(40)) + \
        "from .singleton import S, SingletonRegistry\nfrom .basic import Basic as Basic\n"
    singleton = "class SingletonRegistry:\n    pass\n\n\nS = SingletonRegistry()\n"
    basic = "from .deep import Basic\n"
    deep = "class Basic:\n    \"\"\"The base class.\"\"\"\n"
    files = {"sympy/core/__init__.py": init, "sympy/core/singleton.py": singleton, "sympy/core/basic.py": basic,
             "sympy/core/deep.py": deep}
    current = "from sympy.core import S, Basic\n\n\nx = S.One + Basic()\n"
    files["sympy/solvers/a.py"] = current
    out = select_context("sympy/solvers/a.py", current, 3, files, [], None, 20_000, (0, 4))
    by_source = {s.source: s.text for s in out}
    assert "sympy/core/__init__.py" not in by_source  # its head says nothing about S
    assert "S = SingletonRegistry()" in by_source["sympy/core/singleton.py"]
    assert 'class Basic:\n    """The base class."""' in by_source["sympy/core/deep.py"]  # two levels


def test_a_re_exported_name_written_after_a_search_that_found_nothing_is_found():
    """``from .shapes import Circle`` in a package's ``__init__`` before ``class Circle`` is written: the search
    found nothing and that answer was kept while the ``__init__`` was unchanged, so once the class was written
    the prompt still got the ``__init__``'s import line, not the class (until 2,048 other answers pushed it out).
    """
    files = {"pkg/__init__.py": "from .shapes import Circle\n", "pkg/shapes.py": "# shapes to come\n",
             "main.py": "from pkg import Circle\n\nc = Circle(\n"}

    def sources() -> list[str]:
        return [s.source for s in select_context("main.py", files["main.py"], 2, files, [], None, 4000, (0, 3))]

    assert sources() == ["pkg/__init__.py"]  # nothing defines Circle yet: the import line
    files["pkg/shapes.py"] = "class Circle:\n    def __init__(self, radius):\n        self.radius = radius\n"
    assert sources() == ["pkg/shapes.py"]
    files["pkg/shapes.py"] = "# moved\n"
    assert sources() == ["pkg/__init__.py"]


def test_submodule_import_brings_the_submodule_not_the_package_head():
    numbers = "".join(f"def helper_{i}():\n    return {i}\n\n\n" for i in range(20)) + "class Rational:\n    pass\n"
    files = {"pkg/__init__.py": "from .numbers import Rational\n" + "X = 1\n" * 2000, "pkg/numbers.py": numbers}
    current = "from pkg import numbers\n\nnumbers.\n"
    out = select_context("main.py", current, 2, files, [], None, 20_000, (0, 3))
    assert [s.source for s in out] == ["pkg/numbers.py"]
    assert "class Rational:" in out[0].text


def test_a_subpackage_imported_as_a_namespace_brings_what_it_re_exports():
    """``from django.contrib import admin`` then ``@admin.register(Site)``: the package's ``__init__`` only
    re-exports (``from .decorators import register``), and its head was all the prompt got: the
    definitions of what ``admin.`` offers never came (Django: 18 of 20 such uses missed at 16K)."""
    init = ("from .decorators import action, register\nfrom .options import ModelAdmin\n"
            "from .sites import site\n\n__all__ = ['action', 'register', 'ModelAdmin', 'site']\n")
    files = {"django/contrib/admin/__init__.py": init, "django/contrib/__init__.py": "",
             "django/contrib/admin/decorators.py": "def action(f):\n    return f\n\n\n"
                                                   "def register(*models, site=None):\n    return models\n",
             "django/contrib/admin/options.py": "class ModelAdmin:\n    list_display = ()\n",
             "django/contrib/admin/sites.py": "class AdminSite:\n    pass\n\n\nsite = AdminSite()\n"}
    current = "from django.contrib import admin\n\n\n@admin.\nclass SiteAdmin(admin.ModelAdmin):\n    pass\n"
    files["django/contrib/sites/admin.py"] = current
    out = select_context("django/contrib/sites/admin.py", current, 3, files, [], None, 20_000, (0, 6))
    by_source = {s.source: s.text for s in out}
    assert "def register(*models, site=None):" in by_source["django/contrib/admin/decorators.py"]
    assert "class ModelAdmin:" in by_source["django/contrib/admin/options.py"]


def _by_source(files: dict[str, str], path: str, current: str, budget: int) -> dict[str, str]:
    """The snippets `select_context` gives the document `current` (written to `files` as `path`), the cursor on its
    last line, by their file."""
    files[path] = current
    line = current.count("\n") - 1
    return {s.source: s.text for s in select_context(path, current, line, files, [], None, budget, (0, line + 1))}


def test_a_package_imported_whole_brings_what_it_re_exports_beside_a_submodule():
    """``import instructor`` then ``instructor.patch(...)`` and ``instructor.Mode.JSON``: ``patch`` is also a
    submodule, so the import resolved to two files and was read as a Go or Java package, each file for the names
    it defines; the ``__init__`` defines none (it re-exports), so ``class Mode`` never came (instructor's own
    ``instructor.Mode``, ``instructor.Instructor``: 16 of 40 tasks missed at 16K)."""
    files = {"instructor/__init__.py": "from .mode import Mode\nfrom .patch import patch\n",
             "instructor/mode.py": "import enum\n\n\nclass Mode(enum.Enum):\n    JSON = 'json'\n",
             "instructor/patch.py": "def patch(client):\n    return client\n"}
    current = "import instructor\n\nclient = instructor.patch(None)\nmode = instructor.Mode.JSON\nx = instructor.\n"
    by_source = _by_source(files, "instructor/client_x.py", current, 20_000)
    assert "class Mode(enum.Enum):" in by_source["instructor/mode.py"]
    assert "def patch(client):" in by_source["instructor/patch.py"]
    # ``from instructor import patch``: the function the submodule defines and the package re-exports
    files["instructor/patch.py"] = "".join(f"def helper{k}(client, retries=3, timeout=10.0):\n    return client\n\n\n"
                                           for k in range(300)) + "def patch(client):\n    return client\n"
    current = "from instructor import patch, Mode\n\nclient = patch(None)\nx = \n"
    assert "def patch(client):" in _by_source(files, "instructor/client_x.py", current, 2_000)["instructor/patch.py"]
    # ``from instructor.patch import patch, apatch``: the module's names, the one named as the module among them
    files["instructor/patch.py"] += "\n\nasync def apatch(client):\n    return client\n"
    current = "from instructor.patch import patch, apatch\n\nclient = patch(None)\nx = \n"
    by_source = _by_source(files, "instructor/client_x.py", current, 2_000)
    assert "def patch(client):" in by_source["instructor/patch.py"]
    assert "async def apatch(client):" in by_source["instructor/patch.py"]


def test_a_package_imported_whole_brings_its_re_exported_definitions_before_any_is_used():
    """``import typer`` then ``app = typer.|`` (a script of the project, its tests, its docs' examples): the package's
    ``__init__`` only re-exports (``from .main import Typer as Typer``), and its head was all the prompt got
    (typer's docs_src: 36 of 40 tasks missed at 16K)."""
    files = {"typer/__init__.py": "from .main import Typer as Typer\nfrom .main import run as run\n"
                                  "from .params import Option as Option\n",
             "typer/main.py": "".join(f"def helper{k}(app, retries=3, timeout=10.0):\n    return app\n\n\n"
                                      for k in range(300))
             + "class Typer:\n    def __init__(self, name=None):\n        self.name = name\n\n\n"
               "def run(function):\n    Typer()\n",
             "typer/params.py": "def Option(default=None, help=None):\n    return default\n"}
    by_source = _by_source(files, "docs_src/first_steps/tutorial001.py", "import typer\n\napp = typer.\n", 4_000)
    assert "class Typer:" in by_source["typer/main.py"]
    assert "def Option(default=None, help=None):" in by_source["typer/params.py"]
    # with ``typer.Option`` used already: that first, then the rest the package re-exports
    current = "import typer as t\n\nname = t.Option()\napp = t.\n"
    assert "class Typer:" in _by_source(files, "docs_src/first_steps/tutorial001.py", current, 4_000)["typer/main.py"]


def test_a_name_a_package_re_exports_with_a_star_import_is_followed():
    """``from django.db import models`` then ``models.CharField(``: django/db/models/__init__.py re-exports
    with ``from django.db.models.fields import *``, which was never followed (a Python star import was read
    as an import of nothing), so the prompt got the package's head and never ``class CharField``."""
    init = "from django.db.models.fields import *  # NOQA\nfrom django.db.models.fields import __all__ as _f\n"
    fields = ("class Field:\n    def __init__(self, verbose_name=None, null=False):\n        self.null = null\n\n\n"
              "class CharField(Field):\n    def __init__(self, *args, max_length=None, **kwargs):\n"
              "        super().__init__(*args, **kwargs)\n")
    files = {"django/__init__.py": "", "django/db/__init__.py": "", "django/db/models/__init__.py": init,
             "django/db/models/fields/__init__.py": fields}
    current = "from django.db import models\n\n\nclass Post(models.Model):\n    title = models.CharField(\n"
    files["blog/models.py"] = current
    out = select_context("blog/models.py", current, 4, files, [], None, 20_000, (0, 5))
    by_source = {s.source: s.text for s in out}
    assert "class CharField(Field):" in by_source.get("django/db/models/fields/__init__.py", ""), by_source


def test_php_classes_come_through_use_statements_and_the_namespace():
    user = ("<?php\n\nnamespace App\\Models;\n\nclass User extends Model\n{\n"
            "    public function fullName(): string\n    {\n        return $this->first . ' ' . $this->last;\n    }\n}\n")
    base = "<?php\n\nnamespace App\\Http\\Controllers;\n\nabstract class Controller\n{\n    protected function json($data) {}\n}\n"
    current = ("<?php\n\nnamespace App\\Http\\Controllers;\n\nuse App\\Models\\User;\n\n"
               "class UserController extends Controller\n{\n    public function show(int $id)\n    {\n"
               "        $user = User::find($id);\n        return $this->json($user->\n    }\n}\n")
    files = {"app/Models/User.php": user, "app/Http/Controllers/Controller.php": base,
             "app/Http/Controllers/UserController.php": current}
    out = select_context("app/Http/Controllers/UserController.php", current, 11, files, [], None, 20_000, (0, 14))
    by_source = {s.source: s.text for s in out}
    assert "public function fullName(): string" in by_source["app/Models/User.php"]
    assert "protected function json($data)" in by_source["app/Http/Controllers/Controller.php"]


def test_csharp_types_come_through_using_directives_and_the_enclosing_namespaces():
    """C# prompts had no repository context from ``using``: namespaces do not follow folders, so a type of
    ``Acme.Models`` (in src/Shared) or of the enclosing ``Acme.Web`` (used without a ``using``) never came."""
    order = ("namespace Acme.Models\n{\n    public class Order\n    {\n        public decimal Total { get; set; }\n"
             "    }\n}\n")
    prices = ("namespace Acme.Web;\n\npublic static class Prices\n{\n    public static decimal Round(decimal d) => d;\n"
              "}\n")
    current = ("using System;\nusing Acme.Models;\n\nnamespace Acme.Web.Controllers\n{\n"
               "    public class OrderController\n    {\n        public decimal Post(Order order)\n        {\n"
               "            return Prices.Round(order.\n"
               "        }\n    }\n}\n")
    files = {"src/Shared/Order.cs": order, "src/Common/Prices.cs": prices,
             "src/Web/Controllers/OrderController.cs": current}
    out = select_context("src/Web/Controllers/OrderController.cs", current, 9, files, [], None, 20_000, (0, 13))
    by_source = {s.source: s.text for s in out}
    assert "public decimal Total { get; set; }" in by_source["src/Shared/Order.cs"]
    assert "public static decimal Round(decimal d) => d;" in by_source["src/Common/Prices.cs"]


def test_dart_types_come_through_a_package_import_that_only_exports_them():
    """Dart prompts had no context from imports: ``import 'package:shop/shop.dart';`` names a file of
    ``export`` lines, the classes are in the files it exports."""
    cart = "class Cart {\n  final List<Item> items = [];\n  int get total => items.length;\n}\n"
    current = ("import 'package:shop/shop.dart';\n\nclass CartView {\n  final Cart cart = Cart();\n"
               "  String label() => '${cart.\n}\n")
    files = {"pubspec.yaml": "name: shop\n", "lib/shop.dart": "export 'src/cart.dart';\nexport 'src/item.dart';\n",
             "lib/src/cart.dart": cart, "lib/src/item.dart": "class Item {\n  final int cents = 0;\n}\n",
             "lib/ui/cart_view.dart": current}
    out = select_context("lib/ui/cart_view.dart", current, 4, files, [], None, 20_000, (0, 6))
    by_source = {s.source: s.text for s in out}
    assert "int get total => items.length;" in by_source["lib/src/cart.dart"]


def test_dart_generic_functions_and_top_level_constants_come_through_an_import():
    """A Dart library's generic functions (``int binarySearchBy<E, K>(``, ``T identity<T>(``) and top-level
    constants (``const int FRAME_HEADER_SIZE = 9;``) were no definitions, and a function called bare was
    never asked for (only capitalized names were): dart-lang/collection's algorithms 0.554 at 16K."""
    utils = ("int defaultCompare(Object? a, Object? b) => 0;\n\nT identity<T>(T value) => value;\n\n"
             "int binarySearchBy<E, K>(\n    List<E> sortedList, K Function(E element) keyOf) {\n  return -1;\n}\n\n"
             "const int FRAME_HEADER_SIZE = 9;\nfinal Map<String, int> sizes = {};\n")
    current = ("import 'utils.dart';\n\nint find(List<int> xs) {\n  var h = FRAME_HEADER_SIZE;\n"
               "  return binarySearchBy(xs, identity\n}\n")
    files = {"pubspec.yaml": "name: algo\n", "lib/src/utils.dart": utils, "lib/src/find.dart": current}
    out = select_context("lib/src/find.dart", current, 4, files, [], None, 20_000, (0, 6))
    text = "\n".join(s.text for s in out if s.source == "lib/src/utils.dart")
    for line in ("T identity<T>(T value) => value;", "int binarySearchBy<E, K>(", "const int FRAME_HEADER_SIZE = 9;"):
        assert line in text
    from fim.symbols import defined_names
    assert defined_names(utils, "dart") == {"defaultCompare", "identity", "binarySearchBy", "FRAME_HEADER_SIZE",
                                            "sizes"}


def test_a_kotlin_import_of_a_top_level_function_finds_the_file_defining_it():
    """``import expo.modules.kotlin.types.enforceType``: no file is named after a Kotlin top-level function
    (or the second class of a file), so Java's file-per-class resolution found nothing."""
    enforce = ("package expo.modules.kotlin.types\n\ninline fun <reified P0> enforceType(p0: Any?) {\n"
               "    require(p0 is P0)\n}\n\nfun Any?.toArgsArray(): Array<Any?> = arrayOf(this)\n")
    other = "package expo.modules.kotlin.types\n\nenum class Color { RED }\n\ntypealias Callback = (Int) -> Unit\n"
    current = ("package expo.modules.kotlin.functions\n\nimport expo.modules.kotlin.types.enforceType\n"
               "import expo.modules.kotlin.types.toArgsArray\n\nfun build(a: Any?) {\n    enforceType<Int>(a)\n"
               "    val args = a.toArgsArray()\n    \n}\n")
    files = {"src/main/java/expo/modules/kotlin/types/EnforceType.kt": enforce,
             "src/main/java/expo/modules/kotlin/types/Other.kt": other,
             "src/main/java/expo/modules/kotlin/functions/Builder.kt": current}
    out = select_context("src/main/java/expo/modules/kotlin/functions/Builder.kt", current, 8, files, [], None,
                         20_000, (0, 10))
    by_source = {s.source: s.text for s in out}
    text = by_source["src/main/java/expo/modules/kotlin/types/EnforceType.kt"]
    assert "inline fun <reified P0> enforceType(p0: Any?)" in text and "fun Any?.toArgsArray()" in text


def test_comment_in_a_parenthesised_import_keeps_the_next_name():
    text = "from ._internal_utils import (  # noqa: F401\n    _HEADER_VALIDATORS_BYTE,\n    to_native_string,  # x\n)\n"
    (ref,) = imported_modules(text, "python")
    assert ref.names == ("_HEADER_VALIDATORS_BYTE", "to_native_string")


def test_imports_used_near_the_cursor_come_first_beyond_the_file_cap():
    # sympy concrete/summations.py: the 19th imported file (piecewise) was never a candidate.
    files = {f"pkg/m{i}.py": f"def f{i}():\n    return {i}\n" for i in range(24)}
    files["pkg/piecewise.py"] = "class Piecewise:\n    \"\"\"Pieces.\"\"\"\n"
    current = "".join(f"from pkg.m{i} import f{i}\n" for i in range(24)) + "from pkg.piecewise import Piecewise\n\n" \
        + "def g(x):\n    return Piecewise((x, x > 0))\n"
    n = len(current.splitlines())
    out = select_context("main.py", current, n - 1, files, [], None, 40_000, (0, n))
    assert "pkg/piecewise.py" in [s.source for s in out]
    assert out[-1].source == "pkg/piecewise.py"  # the most relevant import, nearest the cursor


def test_a_name_a_package_defines_is_not_taken_for_a_subpackage():
    """``from app.settings import settings`` where ``app/settings/__init__.py`` defines ``settings =
    Config3()``: the name is an object of the package, not the subpackage itself, yet it was read as
    ``from django.contrib import admin``; the prompt got the package's head and its re-exports, never
    the definition of what the document uses."""
    classes = "".join(f"\n\nclass Config{i}:\n    DEBUG = {i % 2 == 0}\n    DATABASE_URL = 'sqlite:///db{i}.sqlite'\n"
                      f"    SECRET_TIMEOUT = {i * 60}\n" for i in range(30))
    init = ("import os\nfrom .loader import load_env, EnvError\n" + classes
            + "\n\nsettings = Config3()\nsettings.PORT = int(os.environ.get('PORT', 8000))\n")
    files = {"app/__init__.py": "", "app/settings/__init__.py": init,
             "app/settings/loader.py": "class EnvError(Exception):\n    pass\n\n\ndef load_env(path):\n    return {}\n"}
    current = "from app.settings import settings\n\n\ndef serve():\n    port = settings.\n"
    files["app/main.py"] = current
    out = select_context("app/main.py", current, 4, files, [], None, 3000, (0, 5))
    by_source = {s.source: s.text for s in out}
    assert "settings = Config3()" in by_source["app/settings/__init__.py"]


def test_keystrokes_in_a_document_using_a_subpackage_namespace_do_not_each_keep_a_copy_of_it():
    """``from django.contrib import admin`` in a large document: the names it uses as ``admin.X`` were
    remembered per document text, 256 of them, so every keystroke kept a copy of the whole document
    (a 300 KB file: 75 MB held after a minute of typing)."""
    import gc
    import tracemalloc

    files = {"django/contrib/admin/__init__.py": "from .decorators import register\n", "django/contrib/__init__.py": "",
             "django/contrib/admin/decorators.py": "def register(*models, site=None):\n    return models\n"}
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(9000))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k in range(60):
            current = f"from django.contrib import admin\n\n{body}@admin.register(Site{k})\n"
            select_context("site/admin.py", current, current.count("\n"), files, [], None, 8000, (0, 6))
        del current
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 30 * len(body), f"{held / 1e6:.1f} MB held for a {len(body) / 1e3:.0f} KB document"


def test_a_large_repository_keeps_one_path_index_not_the_last_four():
    """The path index of every set of file names was kept for the last 4 sets: with the names of a large
    repository (up to 200,000, since the index knows files past its 5,000-file limit by name), each
    file created or deleted left another ~45 MB index behind, 4 of them held for good (~200 MB)."""
    import gc
    import tracemalloc

    names = [f"services/svc{i % 300}/pkg{i // 300 % 20}/mod{i}.py" for i in range(60_000)]
    current = "import os\n\nvalue = os.\n"

    def typed_with(extra: int) -> None:
        files = dict.fromkeys(names, "X = 1\n")
        files.update({f"new{k}.py": "Y = 2\n" for k in range(extra)})  # a file created: other names
        files["main.py"] = current
        select_context("main.py", current, 2, files, [], None, 4000, (0, 3))

    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        typed_with(0)
        gc.collect()
        one = tracemalloc.get_traced_memory()[0] - before
        for extra in range(1, 6):
            typed_with(extra)
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 2 * one, f"{held / 1e6:.0f} MB held after 5 sets of names, {one / 1e6:.0f} MB for one"


def test_ruby_lua_and_shell_files_get_their_libraries_definitions():
    """Ruby, Lua and shell had no repository context but similar windows: a class of another file of the
    gem, the function of a required module about to be typed after ``utils.`` or of a sourced script never
    reached the prompt."""
    utils = ("module Rack\n  module Utils\n    def self.escape(s)\n      URI.encode_www_form_component(s)\n"
             "    end\n  end\nend\n")
    current = ("require_relative 'request'\n\nmodule Rack\n  class Static\n    def call(env)\n      \n"
               "    end\n  end\nend\n")
    files = {"lib/rack/utils.rb": utils, "lib/rack/static.rb": current, "lib/rack/request.rb": "module Rack\nend\n"}
    out = select_context("lib/rack/static.rb", current, 5, files, [], None, 20_000, (0, 10))
    assert "def self.escape(s)" in {s.source: s.text for s in out}["lib/rack/utils.rb"]
    strings = ("local M = {}\n\nfunction M.split(s, sep)\n  return {}\nend\n\nfunction M.strip(s)\n  return s\nend\n\n"
               "return M\n")
    current = "local stringx = require 'pl.stringx'\n\nlocal function words(s)\n  return stringx.\nend\n"
    out = select_context("pl/text.lua", current, 3, {"pl/stringx.lua": strings, "pl/text.lua": current}, [], None,
                         20_000, (0, 5))
    text = {s.source: s.text for s in out}["pl/stringx.lua"]
    assert "function M.split(s, sep)" in text and "function M.strip(s)" in text
    lib = "#!/bin/sh\n\ngetarg() {\n    echo \"$1\"\n}\n\ninfo() {\n    echo \"$*\" >&2\n}\n"
    current = "#!/bin/sh\n. /lib/dracut-lib.sh\n\nif [ -z \"$root\" ]; then\n    \nfi\n"
    out = select_context("modules.d/95nfs/parse.sh", current, 4, {"modules.d/99base/dracut-lib.sh": lib}, [], None,
                         20_000, (0, 6))
    text = {s.source: s.text for s in out}["modules.d/99base/dracut-lib.sh"]
    assert "getarg() {" in text and "info() {" in text
def test_a_re_exporting_module_is_read_once_for_all_the_names_imported_from_it(monkeypatch):
    """``from sympy import (...)`` of 200 names: the package's imports were read again for each name
    followed to its defining module (sympy's test_lambdify.py: 454 readings of 23 files, 0.9 s for the
    first completion)."""
    import fim.context

    names = [f"thing_{i}" for i in range(200)]
    init = "".join(f"from .mod{i % 20} import {name}\n" for i, name in enumerate(names)) + "# v2 re-read\n"
    files = {"pkg/__init__.py": init, **{f"pkg/mod{k}.py": "".join(f"def thing_{i}():\n    return {i}\n\n\n"
                                                                   for i in range(k, 200, 20)) for k in range(20)}}
    current = "from pkg import (\n" + "".join(f"    {name},\n" for name in names) + ")\n\n\nthing_7()\n"
    files["app.py"] = current
    readings = []
    original = fim.context.imported_modules

    def counting(text, language):
        readings.append(text)
        return original(text, language)

    monkeypatch.setattr(fim.context, "imported_modules", counting)
    out = select_context("app.py", current, 204, files, [], None, 20_000, (200, 205))
    assert "def thing_7():" in "".join(s.text for s in out)
    assert readings.count(init) == 1


def test_a_keystroke_on_a_minified_line_reads_a_bounded_part_of_it(monkeypatch):
    """Typing in a 900 KB minified line collected the words of the whole line three times a keystroke
    (0.6 s each): only the first `QUERY_LINE_CHARS` of a line are compared with other files now."""
    import fim.context

    minified = "var a=function(b){return b+1};" * 30_000
    helper = "function helper(x) {\n  return x * 2;\n}\n" * 20
    files = {"src/app.min.js": minified, "src/util.js": helper}
    sizes = []
    original = fim.context.word_set

    def measuring(text):
        sizes.append(len(text))
        return original(text)

    monkeypatch.setattr(fim.context, "word_set", measuring)
    typed = minified[:450_000] + "helper(" + minified[450_000:]
    select_context("src/app.min.js", typed, 0, files, ["src/util.js"], None, 6000, (0, 1))
    assert sizes and max(sizes) <= 10_000


def test_a_crlf_document_is_read_for_imports_once_while_one_line_is_typed(monkeypatch):
    """A CRLF document's imports were read again on every keystroke (72 ms a keystroke for sympy's
    test_args.py), the half-typed line among them: ``import nu`` brought nu.py, as in an LF file it does not."""
    import fim.context

    files = {"nu.py": "def half():\n    return 1\n", "helpers.py": "def helper():\n    return 2\n"}
    readings = []
    original = fim.context.imported_modules

    def counting(text, language):
        readings.append(text)
        return original(text, language)

    monkeypatch.setattr(fim.context, "imported_modules", counting)
    for typed in ("import nu", "import num", "import nump"):
        document = f"import helpers\r\n\r\n{typed}\r\nhelpers.helper()  # crlf\r\n"
        out = select_context("app.py", document, 2, files, [], None, 20_000, (0, 4))
        assert [s.source for s in out] == ["helpers.py"]
    assert len([text for text in readings if "# crlf" in text]) == 1


def test_module_files_past_the_sibling_cap_send_their_signatures_while_the_budget_lasts():
    """A Swift file sees its whole module, but only the 12 files defining the most names used near the
    cursor were sent: the type being typed, defined in the 13th or the 30th, never reached the prompt
    (234 of expo-modules-core's 251 Swift misses at 16K). The rest now come as their signatures."""
    files = {"ios/Kit.podspec": "", **{f"ios/Types/T{k:02}.swift": f"public struct Type{k:02} {{\n  let id: Int\n}}\n"
                                       for k in range(30)}}
    main = ("import Foundation\n\nfunc run() {\n" + "".join(f"  _ = Type{k:02}(id: {k})\n" for k in range(14))
            + "  \n}\n")
    files["ios/Main.swift"] = main
    out = select_context("ios/Main.swift", main, 17, files, [], None, 20_000, (0, 19), language="swift")
    sent = {s.source for s in out if "public struct Type" in s.text}
    assert sent == {f"ios/Types/T{k:02}.swift" for k in range(30)}
    # The cap still holds where the budget does not: the files defining the names used come first.
    out = select_context("ios/Main.swift", main, 17, files, [], None, 900, (0, 19), language="swift")
    assert {s.source for s in out} <= {f"ios/Types/T{k:02}.swift" for k in range(14)}


def test_imports_past_the_file_cap_send_their_signatures_while_the_budget_lasts():
    """A Kotlin file importing 20 classes got the 16 used nearest the cursor: the class the line being
    typed needs, imported but used nowhere else yet, never reached the prompt."""
    files = {f"src/main/kotlin/app/model/M{k:02}.kt": f"package app.model\n\nclass Model{k:02}(val id: Int)\n"
             for k in range(20)}
    main = ("package app.ui\n\n" + "".join(f"import app.model.Model{k:02}\n" for k in range(20))
            + "\nfun show() {\n" + "".join(f"    println(Model{k:02}({k}))\n" for k in range(16)) + "    \n}\n")
    files["src/main/kotlin/app/ui/Main.kt"] = main
    line = main.count("\n") - 1
    out = select_context("src/main/kotlin/app/ui/Main.kt", main, line, files, [], None, 20_000, (0, line + 2),
                         language="kotlin")
    assert {s.source for s in out if "class Model" in s.text} == set(files) - {"src/main/kotlin/app/ui/Main.kt"}


def test_files_sent_as_signatures_only_come_before_those_sent_whole():
    """The prompt builder drops the snippets furthest from the cursor when the tokens run short; the
    signatures-only files came after (nearer the cursor than) the files sent whole, and a Kotlin
    class imported and used near the cursor was dropped before them."""
    files = {"ios/Kit.podspec": "", **{f"ios/Types/T{k:02}.swift": f"public struct Type{k:02} {{\n  let id: Int\n}}\n"
                                       for k in range(30)}}
    main = ("import Foundation\n\nfunc run() {\n" + "".join(f"  _ = Type{k:02}(id: {k})\n" for k in range(12))
            + "  \n}\n")
    files["ios/Main.swift"] = main
    out = [s.source for s in select_context("ios/Main.swift", main, 15, files, [], None, 20_000, (0, 17),
                                            language="swift")]
    whole = [f"ios/Types/T{k:02}.swift" for k in range(12)]
    assert out[-12:] == whole and len(out) == 30


def test_a_name_few_files_define_ranks_its_file_above_those_defining_common_names():
    """Module files were ranked by how many used names they define: in a Ruby library or a C# namespace,
    the files defining ``call`` and ``initialize`` (all of them) came before the one defining ``Utils``."""
    from fim.context import _rank_siblings
    common = [(f"lib/rack/m{i}.rb", ["call", "initialize"]) for i in range(14)]
    ranked = _rank_siblings(common + [("lib/rack/utils.rb", ["Utils"]), ("lib/rack/none.rb", [])],
                            {"call", "initialize", "Utils"})
    assert [path for path, _ in ranked][:2] == ["lib/rack/utils.rb", "lib/rack/m0.rb"]
    assert ranked[-1] == ("lib/rack/none.rb", [])


def test_a_perl_file_gets_the_subs_of_the_modules_it_uses_and_inherits_from():
    """Perl had no imports: the sub of ``use Shop::Cart qw(total)`` about to be called, and the parent's method
    called on ``$self``, never reached the prompt."""
    cart = ("package Shop::Cart;\nuse strict;\nuse Exporter 'import';\nour @EXPORT_OK = qw(total);\n\n"
            "sub total {\n    my (@items) = @_;\n    my $sum = 0;\n    $sum += $_->{price} for @items;\n"
            "    return $sum;\n}\n\nsub add { push @{ $_[0] }, $_[1] }\n1;\n__END__\n\n=head1 NAME\n\nShop::Cart\n")
    base = "package Shop::Base;\nuse strict;\n\nsub new { bless {}, shift }\n\nsub log_event {\n    warn @_;\n}\n1;\n"
    current = ("package Shop::Checkout;\nuse strict;\nuse parent 'Shop::Base';\nuse Shop::Cart qw(total);\n\n"
               "sub pay {\n    my ($self, @items) = @_;\n    $self->log_event('pay');\n    my $sum = \n"
               "    return $sum;\n}\n1;\n")
    files = {"lib/Shop/Cart.pm": cart, "lib/Shop/Base.pm": base, "lib/Shop/Checkout.pm": current,
             "t/lib/Shop/Cart.pm": "package Shop::Cart;\nsub total { 0 }\n1;\n"}
    out = select_context("lib/Shop/Checkout.pm", current, 8, files, [], None, 20_000, (0, 12))
    texts = {s.source: s.text for s in out}
    assert "sub total {\n    my (@items) = @_;" in texts["lib/Shop/Cart.pm"]
    assert "sub log_event {" in texts["lib/Shop/Base.pm"]
    assert "t/lib/Shop/Cart.pm" not in texts  # the module of the file's own lib, not a test's


def test_a_perl_package_called_on_the_line_being_typed_brings_its_subs():
    """``Shop::Tax->`` typed on the cursor's line, the package loaded by another file: the imports of the line being
    typed were left out, so the sub about to be called never reached the prompt."""
    tax = "package Shop::Tax;\nuse strict;\n\nsub rate_for {\n    my ($class, $country) = @_;\n    return 0.2;\n}\n1;\n"
    current = ("package Shop::Invoice;\nuse strict;\n\nsub total {\n    my ($self) = @_;\n"
               "    my $rate = Shop::Tax->\n    return $self->{net} * (1 + $rate);\n}\n1;\n")
    files = {"lib/Shop/Tax.pm": tax, "lib/Shop/Invoice.pm": current}
    out = select_context("lib/Shop/Invoice.pm", current, 5, files, [], None, 20_000, (0, 9))
    assert "sub rate_for {" in {s.source: s.text for s in out}["lib/Shop/Tax.pm"]


def test_a_barrel_of_many_export_stars_is_searched_to_its_last():
    """mobx's src/internal.ts: 55 ``export * from "./x"`` lines that every module imports from
    (``import { deepEqual } from "../internal"``); the names defined past the 32nd were never found (9 of 40 mobx
    tasks missed at 16K)."""
    files = {f"src/m{i}.ts": f"export function helper{i}(a: number): number {{\n    return a + {i}\n}}\n"
             for i in range(60)}
    files["src/internal.ts"] = "".join(f'export * from "./m{i}"\n' for i in range(60))
    current = 'import { helper57 } from "./internal"\n\nexport function use(a: number) {\n    return helper57(a)\n}\n'
    got = _by_source(files, "src/use.ts", current, 20_000)
    assert "export function helper57(a: number): number {" in got.get("src/m57.ts", "")


def test_a_module_that_re_exports_a_type_does_not_stand_for_its_variants():
    """toml_edit: ``use crate::Value;`` then ``Value::String(..)``: ``String`` (a variant) is found in no file, so
    lib.rs, which only re-exports ``Value``, came as its whole head, crowding out a file the code imports."""
    files = {"src/lib.rs": "".join(f"//! Line {i} of the crate's documentation.\n" for i in range(60))
             + "mod value;\npub use crate::value::Value;\n",
             "src/value.rs": "pub enum Value {\n    String(String),\n    Integer(i64),\n}\n"}
    current = "use crate::Value;\n\nfn parse(s: &str) -> Value {\n    Value::String(s.to_owned())\n}\n"
    got = _by_source(files, "src/parser.rs", current, 20_000)
    assert "pub enum Value {" in got.get("src/value.rs", "")
    assert "src/lib.rs" not in got


def test_a_submodule_imported_by_name_brings_the_names_the_document_uses_through_it():
    """sqlalchemy: ``from .. import exc as sa_exc``, ``raise sa_exc.ArgumentError(...)`` earlier in the file, then
    ``raise sa_exc.|``: only ``import x as y`` counted the ``y.name`` uses, so exc.py (1,000 lines) came as its head
    or not at all (11 of 28 module-attribute tasks of sqlalchemy and django missed at 16K)."""
    refs = {r.module: r.names for r in imported_modules(
        "from .. import exc as sa_exc\nfrom .models import User\n\nraise sa_exc.ArgumentError('x')\nUser.objects\n",
        "python")}
    assert refs["..exc"] == ("ArgumentError",) and refs[".."] == ("exc",)
    assert refs[".models.User"] == ("objects",)  # a class's: resolves to no module
    errors = "".join(f"class Error{i}(Exception):\n    \"\"\"Error {i}.\"\"\"\n\n\n" for i in range(300))
    files = {"pkg/__init__.py": "", "pkg/exc.py": errors + "class ArgumentError(Exception):\n    pass\n",
             "pkg/ext/__init__.py": ""}
    current = ("from .. import exc as sa_exc\n\n\ndef check(x):\n    if not x:\n"
               "        raise sa_exc.ArgumentError('no x')\n" + "    x += 1\n" * 80 + "    raise sa_exc.\n")
    got = _by_source(files, "pkg/ext/baked.py", current, 8_000)
    assert "class ArgumentError(Exception):" in got.get("pkg/exc.py", "")


def test_the_includes_whose_names_the_code_uses_come_first_of_many():
    """Brotli's encode.c includes 27 headers; memory.h, 23rd, defines the MemoryManager the code around the cursor
    uses: it is sent whole, not cut to its signatures as one past MAX_IMPORT_FILES in include order."""
    from fim.context import MAX_IMPORT_FILES

    files = {f"enc/h{k:02d}.h": "".join(f"/* part {k} */\nint h{k}_op{j}(int value, int other, const char* name);\n"
                                        for j in range(12)) for k in range(MAX_IMPORT_FILES + 4)}
    fields = "".join(f"  size_t pool_{j}_size;  /* bytes held by the pool's block {j} */\n" for j in range(40))
    files["enc/memory.h"] = ("typedef struct MemoryManager {\n" + fields + "} MemoryManager;\n\n"
                             "void* BrotliAllocate(MemoryManager* m, size_t n);\n")
    includes = "".join(f'#include "{p.rpartition("/")[2]}"\n' for p in sorted(files))
    body = "".join(f"static void Step{k}(MemoryManager* m) {{\n  char* p = BrotliAllocate(m, {k});\n}}\n"
                   for k in range(6))
    current = includes + "\n" + body + "\nstatic void Last(void) {\n  \n}\n"
    files["enc/encode.c"] = current
    cursor = current.count("\n") - 1
    snippets = select_context("enc/encode.c", current, cursor, files, [], None, 12_000, (cursor - 3, cursor + 2))
    memory = [s.text for s in snippets if s.source == "enc/memory.h"]
    assert memory and "  size_t pool_39_size;" in memory[0]


def test_a_small_budget_holds_every_imported_files_heads_before_any_whole_cut():
    """A 4K window's quarter for context held the whole cuts of three files and left out the fourth, whose class the
    code uses far above the cursor. The files whose names are used near the cursor come whole, then every other
    file's heads before any of their whole cuts."""
    body = "".join(f"    step_{k} = value * {k} + len(name)\n" for k in range(16)) + "    return value\n"
    files = {f"pkg/{m}.py": f"def {m}_call(value, name):\n{body}" for m in ("models", "cookies", "utils")}
    files["pkg/structures.py"] = ("class CaseInsensitiveDict(dict):\n" + "".join(
        f"    def op{k}(self, key):\n        return self.get(key.lower(), {k})\n\n" for k in range(20)))
    current = ("from pkg.models import models_call\nfrom pkg.cookies import cookies_call\n"
               "from pkg.utils import utils_call\nfrom pkg.structures import CaseInsensitiveDict\n\n"
               "HEADERS = CaseInsensitiveDict()\nJAR = cookies_call(1, 'jar')\nROOT = utils_call(2, 'root')\n"
               + "".join(f"X{k} = {k}\n" for k in range(80))
               + "\n\ndef send(value, name):\n    a = models_call(value, name)\n    \n")
    cursor = current.count("\n") - 1
    snippets = select_context("pkg/adapters.py", current, cursor, {**files, "pkg/adapters.py": current}, [], None,
                              2700, (cursor - 4, cursor + 1))
    texts = {s.source: s.text for s in snippets}
    assert "    return value" in texts["pkg/models.py"]  # used near the cursor: whole
    assert {"pkg/cookies.py", "pkg/utils.py", "pkg/structures.py"} <= set(texts)  # used far above: their heads
    assert texts["pkg/structures.py"].startswith("class CaseInsensitiveDict(dict):")