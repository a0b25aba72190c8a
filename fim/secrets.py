"""Keep secrets out of prompts: files that must never be read, and values to blank out of snippets.

Both functions are pure. Every regular expression here runs in time linear in the input: each
pattern is anchored at a position it cannot re-enter (a look-behind, a line start or a literal
prefix), repetitions are bounded or over disjoint character sets, and the finer decisions are made
in Python on the (short) match rather than by backtracking.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

PLACEHOLDER = "<redacted>"

# --------------------------------------------------------------------------------------- paths

_SECRET_NAMES = frozenset({
    ".env", ".envrc", ".netrc", "_netrc", ".npmrc", ".pypirc", ".git-credentials", ".gitcredentials",
    ".htpasswd", ".pgpass", ".my.cnf", ".dockercfg", ".vault-token", ".boto", ".s3cfg",
    "credentials", "kubeconfig", "terraform.tfstate", "terraform.tfstate.backup",
    "secring.gpg", "pubring.kbx", "known_hosts", "authorized_keys",
})
_SECRET_SUFFIXES = (
    ".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".kdbx", ".gpg", ".pgp", ".asc",
    ".ovpn", ".tfstate", ".tfvars", ".crt.key", ".ppk", ".age", ".env",
)
_SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure", ".gcloud", ".password-store"})
# Data files (not code) whose name says they hold credentials.
_DATA_SUFFIXES = ("", ".json", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".xml", ".txt",
                  ".properties", ".csv", ".plist", ".config")
_SECRET_WORD = re.compile(
    r"credential|secret|passw(?:or)?d|token(?!iz)|private[-_.]?key|api[-_.]?key|service[-_.]?account"
    r"|keyfile|(?:^|[-_.])auth(?:$|[-_.])", re.IGNORECASE)
_KEY_FILE = re.compile(r"^id_(?:rsa|dsa|ecdsa|ed25519)(?:[-_.].*)?$|.*_(?:rsa|dsa|ecdsa|ed25519)$", re.IGNORECASE)


def is_secret_path(relpath: str) -> bool:
    """True when a file's path says it holds credentials; such files are never read into prompts."""
    parts = [p for p in relpath.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts:
        return False
    if any(p.lower() in _SECRET_DIRS for p in parts[:-1]):
        return True
    name = parts[-1].lower()
    if name in _SECRET_NAMES or name.startswith(".env.") or name.startswith(".env-"):
        return True
    if name.endswith(_SECRET_SUFFIXES) or _KEY_FILE.match(name):
        return True
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:  # no extension (or a dot-file such as ".credentials")
        stem, ext = name.lstrip("."), ""
    else:
        ext = "." + ext
    return ext in _DATA_SUFFIXES and bool(_SECRET_WORD.search(stem))


# --------------------------------------------------------------------------------------- values

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]{0,40}?)PRIVATE KEY(?: BLOCK)?-----"
    r"[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?-----|\Z)")

# Well-known token shapes. Each alternative starts with a fixed literal, after a look-behind so a
# match cannot start inside a longer word.
_TOKENS = re.compile(
    r"(?<![A-Za-z0-9_])(?:"
    r"sk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{20,}"          # OpenAI / Anthropic style
    r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"              # Stripe
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|glpat-[A-Za-z0-9_-]{16,}"                                 # GitLab
    r"|(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}"  # AWS access key id
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"                            # Slack
    r"|AIza[0-9A-Za-z_-]{35}"                                    # Google API key
    r"|hf_[A-Za-z0-9]{30,}"                                      # Hugging Face
    r"|npm_[A-Za-z0-9]{36}"                                      # npm
    r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"               # SendGrid
    r"|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT
    r")")
_BEARER = re.compile(r"(?<![A-Za-z0-9_])((?:Bearer|Basic|Token)[^\S\n]+)([A-Za-z0-9._~+/=-]{16,})")
# user:password@host in URLs; the user may be empty (redis://:password@host).
_URL_PASSWORD = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@'\"`]{0,100}:)"
                           r"([^\s@/'\"`]{1,200})(@)")

# Names whose value is a secret. Checked in Python on the captured name, not in the scanning regex.
_SENSITIVE_NAME = re.compile(
    r"passw(?:or)?d|pwd|secret|token|api[-_.]?key|apikey|access[-_.]?key|private[-_.]?key"
    r"|auth[-_.]?key|client[-_.]?secret|credential|authorization|session[-_.]?key|signing[-_.]?key"
    r"|encryption[-_.]?key|master[-_.]?key|account[-_.]?key|conn(?:ection)?[-_.]?str(?:ing)?|dsn",
    re.IGNORECASE)
_BENIGN_NAME = re.compile(
    r"tokeniz|(?:max|num|n|min|total|prompt|completion|input|output|eos|bos|pad|unk|sep|special)[-_.]?tokens?"
    r"|tokens?[-_.]?(?:count|len|length|ids?|type|limit|budget|usage|index|pos)"
    r"|(?:secret|token|password|key)[-_.]?"
    r"(?:name|env|var|field|label|path|file|prompt|placeholder|hint|regex|pattern|stdin)s?$",
    re.IGNORECASE)

# A string literal after its prefix: triple-quoted first (else `"""` reads as an empty `""`), C#
# verbatim `@"..."` (`""` is a quote), Rust raw `r#"..."#`, then one-line quoted and backtick ones.
# A body stops at the opening of another literal of its kind (a raw one at `#"`): scans stay linear.
_PREFIX = r"(?:[bru]|rb|br|f|@|\$@|@\$|\$)?"
_LITERAL = (
    r"(?P<lit>\"\"\"(?:[^\"\\]|\\[\s\S]|\"(?!\"\")){0,4000}\"\"\"|'''(?:[^'\\]|\\[\s\S]|'(?!'')){0,4000}'''"
    r"|(?<=@)\"(?:[^\"]|\"\"){0,4000}\""
    r"|(?<=r)(?P<hashes>#{1,3})\"(?:[^\"]|(?<!#)\"(?!(?P=hashes))){0,4000}\"(?P=hashes)"
    r"|\"(?:[^\"\\\n]|\\.){0,4000}\"|'(?:[^'\\\n]|\\.){0,4000}'|`[^`\\\n]{0,4000}`)")

# name <sep> "literal" in any language: Python/JS/Go/Java/C assignments, keyword arguments,
# dict/JSON/YAML entries with quoted values, `name: str = "..."` annotations, PHP/Ruby/Perl arrows, subscripts
# (PHP's `$a['password'] = "..."`, Perl's `$self->{secret} = "..."`, `$ENV{API_TOKEN} = '...'`).
_ASSIGNED = (r"(?<![\w.$-])(?P<key>[\"']?(?P<name>[A-Za-z_$][\w.$-]{0,120})[\"']?[\]}]?"
             r"[^\S\n]{0,20}(?::[\w.\[\]|, ]{1,60}?)?"
             r"(?:[:=]={0,2}|=>)[^\S\n]{0,20}")
_QUOTED_ASSIGNMENT = re.compile(_ASSIGNED + _PREFIX + ")" + _LITERAL)
# Perl's also: ``$password = q{...}``, ``api_key => qq(...)`` on one line (elsewhere ``q(x)`` is a call).
_PERL_QUOTED_ASSIGNMENT = re.compile(
    _ASSIGNED + r"(?:qq?)?)" + _LITERAL[:-1]
    + r"|(?<=q)(?:\{[^{}\\\n]{0,4000}\}|\([^()\\\n]{0,4000}\)|\[[^\[\]\\\n]{0,4000}\]))")
# "NAME", "literal" as consecutive items of a call, list or map: PHP define(), os.environ.setdefault(),
# System.setProperty(), Map.of("user", "sa", "password", "x"), ["--password", "x"]. The literal is
# read ahead (not consumed), so that it may name the next pair's key.
_ARGUMENT_PAIR = re.compile(
    r"(?P<key>(?<=[(,\[{])[^\S\n]{0,20}(?P<q>[\"'])(?P<name>-{0,2}[A-Za-z_][\w.-]{0,120})(?P=q)[^\S\n]{0,20},)"
    r"(?=[^\S\n]{0,20}" + _PREFIX + _LITERAL + ")")
# A command-line flag and its value: `--password=x`, `--token x`, `--password 'x'` (in code only
# inside a string). Which values count is decided in Python.
_FLAG = re.compile(
    r"(?<![\w-])--?(?P<name>[A-Za-z][\w-]{0,60})(?P<sep>=|[^\S\n]{1,5})"
    r"(?P<val>'[^'\n]{1,200}'|\"[^\"\n$`\\]{1,200}\"|[^\s;&|'\"`][^\s;&|'\"`]{0,999})")
_DEFINE = re.compile(r"(?m)^([^\S\n]*#[^\S\n]*define[^\S\n]+(?P<name>\w+)[^\S\n]+)(\"(?:[^\"\\\n]|\\.)*\")")
# Unquoted config values at a line start: `KEY=value`, `export KEY=value`, `key: value`,
# `key = value`, `- KEY=value` (YAML lists). The value runs to the end of the line; the trailing
# comment, if any, is split off in Python.
_UNQUOTED_ASSIGNMENT = re.compile(
    r"(?m)^(?P<head>[^\S\n]*(?:export[^\S\n]+|set[^\S\n]+|-[^\S\n]+)?[\"']?(?P<name>[A-Za-z_][\w.-]{0,120})[\"']?"
    r"(?P<sp1>[^\S\n]*)(?P<sep>[=:])(?P<sp2>[^\S\n]*))(?P<val>[^\s\"'`][^\n]*)$")
# key=value inside a connection string or query string: ADO.NET `;Password=x;`, JDBC
# `?user=u&password=x`, libpq `user=u password=x`. Where a key may start is checked in Python.
_INLINE_ASSIGNMENT = re.compile(
    r"(?<![\w.$-])(?P<name>[A-Za-z_][\w.-]{0,60})[^\S\n]{0,5}=[^\S\n]{0,5}(?P<val>[^\s;&'\"`=>][^\s;&'\"`]{0,999})")
# The end of the previous libpq item, `... user=app`, before a key.
_ITEM_END = re.compile(r"\w=[^\s=,()'\"`]+$")

CODE_LANGUAGES = frozenset({
    "python", "javascript", "typescript", "go", "rust", "java", "kotlin", "scala", "c", "cpp", "csharp",
    "ruby", "php", "swift", "lua", "dart", "perl",
})
_NOT_SECRET_VALUES = frozenset({
    "none", "null", "nil", "true", "false", "yes", "no", "on", "off", "~", "|", ">", "|-", ">-", "{}", "[]",
    "str", "string", "bytes", "int", "any", "optional[str]", "str | none", "secretstr", "required", "changeme",
})
_VERSION = re.compile(r"[vV]?\d+(?:\.\d+)+")  # 3.13, v2.0.1, an IP address: never a credential
_REFERENCE = re.compile(r"^(?:\$|%\(|\{\{|<|!(?:Ref|Sub|GetAtt|env)\b|@)")
_ATTRIBUTE = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+[,;]?$")


@lru_cache(maxsize=4096)
def _sensitive(name: str) -> bool:
    return bool(_SENSITIVE_NAME.search(name)) and not _BENIGN_NAME.search(name)


_TYPE_NAME = re.compile(r"[A-Za-z_][\w.]*(?:\[[\w.\[\], |\"']*\])?(?:[^\S\n]*\|[^\S\n]*[A-Za-z_][\w.\[\], ]*)*")
_DEF_LINE = re.compile(r"[^\S\n]*(?:async[^\S\n]+)?def[^\S\n]")


def _annotation(match: re.Match, language: Optional[str]) -> bool:
    """True for a Python string annotation, ``token: "Token"``: a type name, not a secret."""
    if language not in ("python", None):
        return False
    key = match.group("key")
    if key[:1] in "\"'" or key[len(match.group("name")):].strip() != ":":
        return False
    value = match.group("lit")[1:-1]
    if not _TYPE_NAME.fullmatch(value):
        return False
    text = match.string
    line_start = text.rfind("\n", 0, match.start()) + 1
    if _DEF_LINE.match(text, line_start):  # a parameter of a def
        return True
    if language is None:
        return False
    # Elsewhere (class fields, multi-line signatures) a type reads like one: Capitalised, dotted or
    # subscripted, and without digits (a password such as "Summer2024" keeps being redacted).
    return (value[:1].isupper() or "." in value or "[" in value) and not any(c.isdigit() for c in value)


def _delimiter(lit: str) -> int:
    """The length of a `_LITERAL`'s opening (and of its closing) delimiter: 3 for `'''`, 2 for `#"`."""
    if lit.startswith(('"""', "'''")) and len(lit) >= 6:
        return 3
    return len(lit) - len(lit.lstrip("#")) + 1


def _quoted_for(language: Optional[str]):
    def replace(match: re.Match) -> str:
        lit = match.group("lit")
        n = _delimiter(lit)
        if not _sensitive(match.group("name")) and (n > 1 or "\n" in lit):
            # A triple-quoted or raw string of another name (a fixture, a sample config): its own
            # assignments are looked at, as they were before such strings were read whole.
            return match.group("key") + lit[:n] + _QUOTED_ASSIGNMENT.sub(replace, lit[n:-n]) + lit[-n:]
        if (len(lit) <= 2 * n or not _sensitive(match.group("name")) or PLACEHOLDER in lit
                or _VERSION.fullmatch(lit[n:-n])):
            return match.group(0)
        if _annotation(match, language):
            return match.group(0)
        return match.group("key") + lit[:n] + PLACEHOLDER + lit[-n:]

    return replace


_PROSE = re.compile(r"[A-Za-z][A-Za-z,.'!?:()-]*(?: [A-Za-z,.'!?:()-]+)+")
_NAME_LIKE = re.compile(r"[A-Za-z_][A-Za-z_.-]*")


def _squash(word: str) -> str:
    return re.sub(r"[\W_]", "", word).lower()


def _secret_pair(match: re.Match) -> bool:
    """True when the literal after an `_ARGUMENT_PAIR` key is its name's secret value."""
    lit, name = match.group("lit"), match.group("name")
    n = _delimiter(lit)
    value = lit[n:-n]
    if not value or not _sensitive(name) or PLACEHOLDER in lit or value.startswith("-"):
        return False  # nothing, not a secret's name, done, or a flag (`add_argument("--token", "-t")`)
    # A label or a message, ("password", "Enter your password"), or the name again, ("token", "Token").
    if _PROSE.fullmatch(value) or _squash(value) == _squash(name):
        return False
    # A list of names, ("password", "email", "name"), a name for a name, ("password", "passwd"), a
    # word (`KeyError("token", "missing")`, a translation) or code (`Column("api_key", "VARCHAR(64)")`).
    after = match.string[match.end("lit"):match.end("lit") + 20].lstrip()
    if _NAME_LIKE.fullmatch(value) and (after.startswith(",") or _sensitive(value) or value.isalpha()):
        return False
    return "(" not in value


def _argument_pairs(text: str) -> str:
    """`text` with the secret literal of each `_ARGUMENT_PAIR` blanked out."""
    parts, done = [], 0
    for match in _ARGUMENT_PAIR.finditer(text):
        start = match.start("lit")
        if start >= done and _secret_pair(match):
            n = _delimiter(match.group("lit"))
            parts += [text[done:start + n], PLACEHOLDER]
            done = match.end("lit") - n
    return "".join(parts) + text[done:] if parts else text


def _define(match: re.Match) -> str:
    if not _sensitive(match.group("name")) or len(match.group(3)) <= 2:
        return match.group(0)
    return match.group(1) + '"' + PLACEHOLDER + '"'


def _unquoted_for(language: Optional[str]):
    code = language in CODE_LANGUAGES

    def replace(match: re.Match) -> str:
        if code or not _sensitive(match.group("name")):
            return match.group(0)
        val = match.group("val")
        comment = ""
        for marker in (" #", "\t#", " ;", " //"):
            at = val.find(marker)
            if at >= 0:
                val, comment = val[:at], val[at:] + comment
        stripped = val.rstrip()
        comment = val[len(stripped):] + comment
        trailing = ""
        if stripped.endswith(",") and match.group("sep") == ":":
            stripped, trailing = stripped[:-1], ","
        low = stripped.lower()
        if (not stripped or low in _NOT_SECRET_VALUES or _REFERENCE.match(stripped) or _VERSION.fullmatch(stripped)
                or PLACEHOLDER in stripped or stripped.endswith(("{", "(", "["))):
            return match.group(0)
        if language is None and (match.group("sep") == ":" or match.group("sp1") or match.group("sp2")) \
                and ("(" in stripped or "[" in stripped or _ATTRIBUTE.match(stripped)):
            # Unknown language and the value reads like code (`token = make_token()`,
            # `key = self.token`): leave it; the quoted and token-shape rules still apply.
            return match.group(0)
        return match.group("head") + PLACEHOLDER + trailing + comment

    return replace


class _Strings:
    """Whether positions of one text, asked in increasing order, are inside a string on their line
    (quotes inside another string and escaped ones do not count). Each call reads on from the
    previous one: all the matches of a text cost linear time."""

    def __init__(self) -> None:
        self.start, self.quote, self.escaped = 0, "", False

    def inside(self, text: str, at: int) -> bool:
        start, quote, escaped = self.start, self.quote, self.escaped
        newline = text.rfind("\n", start, at)
        if newline >= 0:
            start, quote, escaped = newline + 1, "", False
        for char in text[start:at]:
            if escaped:
                escaped = False
            elif quote and char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
            elif not quote and char in "\"'`":
                quote = char
        self.start, self.quote, self.escaped = at, quote, escaped
        return bool(quote)


def _template(value: str) -> bool:
    """True for a value that is no secret itself: a word such as none, a reference (`$PW`,
    `{{ pw }}`), a format (`{0}`, `%s`, Ruby's `#{pw}`), code (`read(pw)`) or a version number."""
    return (value.lower() in _NOT_SECRET_VALUES or value.startswith(("{", "%", "#{")) or bool(_REFERENCE.match(value))
            or "(" in value or PLACEHOLDER in value or bool(_VERSION.fullmatch(value)))


def _inline_for(language: Optional[str]):
    code = language in CODE_LANGUAGES
    strings = _Strings()

    def replace(match: re.Match) -> str:
        val, text, at = match.group("val"), match.string, match.start()
        if not _sensitive(match.group("name")):
            return match.group(0)
        before = text[max(0, at - 200):at]
        before = before[before.rfind("\n") + 1:]
        head = before.rstrip()
        # After `;`, `?`, `&` or a quote, or after a libpq item and a space; not after `(` or `, `.
        if not (head.endswith((";", "?", "&", '"', "'", "`"))
                or (head and head != before and _ITEM_END.search(head[-60:].rsplit(None, 1)[-1]))):
            return match.group(0)
        if _template(val) or (code and not strings.inside(text, at)):
            return match.group(0)
        return match.group(0)[:match.start("val") - at] + PLACEHOLDER

    return replace


_PLACEHOLDER_WORD = re.compile(r"[A-Z][A-Z0-9_]*|[a-z]+|[A-Za-z]+[-_.][A-Za-z]+")


def _flag_for(language: Optional[str]):
    code = language in CODE_LANGUAGES
    strings = _Strings()

    def replace(match: re.Match) -> str:
        val = match.group("val")
        quote = val[0] if val[0] in "'\"" and len(val) > 1 and val[-1] == val[0] else ""
        bare = val[1:-1] if quote else val.rstrip(",.:)")  # a sentence's punctuation is kept
        trail = "" if quote else val[len(bare):]
        if not bare or not _sensitive(match.group("name")) or _template(bare):
            return match.group(0)
        # `--token TOKEN`, `--password secret`, `--api-key your-key`: words in a usage line; a flag's
        # value after `=` is kept only when it reads as a placeholder in capitals.
        if (match.group("sep") == "=" and re.fullmatch(r"[A-Z][A-Z_]*", bare)) or \
                (match.group("sep") != "=" and _PLACEHOLDER_WORD.fullmatch(bare)):
            return match.group(0)
        if code and not strings.inside(match.string, match.start()):
            return match.group(0)
        return match.group(0)[:match.start("val") - match.start()] + quote + PLACEHOLDER + quote + trail

    return replace


def _token(match: re.Match) -> str:
    text = match.group(0)
    if text.startswith("sk-"):
        body = text[3:]
        # Identifiers such as "sk-learn-style-estimator" are not keys: a key mixes digits in.
        if not any(c.isdigit() for c in body) or not any(c.isalpha() for c in body):
            return text
    return PLACEHOLDER


def redact(text: str, language: Optional[str] = None) -> str:
    """Replace secret-looking values in `text` with ``<redacted>``, keeping the code around them.

    Blanks private-key blocks, well-known token shapes (OpenAI/Anthropic ``sk-``, GitHub ``ghp_``,
    AWS ``AKIA``, Slack ``xoxb-``, JWTs, ...), passwords in URLs, bearer tokens, and the values
    of assignments to names such as ``password``, ``secret``, ``token``, ``api_key`` or
    ``access_key``: quoted literals in any language (triple-quoted, ``@"..."`` and ``r#"..."#``
    too; the quotes stay), ``("NAME", "value")`` call arguments, ``key=value`` items of connection
    and query strings (``;Password=x;``, ``&password=x``, ``user=u password=x``; in code only
    inside a string), and unquoted values in configuration-style text (``KEY=value``,
    ``key: value``) unless `language` names a programming language, where an unquoted right-hand
    side is code, not a secret.
    """
    if not text:
        return text
    if "PRIVATE KEY" in text:
        text = _PRIVATE_KEY.sub(
            lambda m: f"-----BEGIN {m.group('kind')}PRIVATE KEY-----\n{PLACEHOLDER}\n-----END {m.group('kind')}PRIVATE KEY-----",
            text)
    text = _TOKENS.sub(_token, text)
    text = _BEARER.sub(lambda m: m.group(1) + PLACEHOLDER, text)
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: m.group(1) + PLACEHOLDER + m.group(3), text)
    if not _may_name_secret(text):
        return text  # no name that could hold a secret: the assignment rules cannot apply
    text = (_PERL_QUOTED_ASSIGNMENT if language == "perl" else _QUOTED_ASSIGNMENT).sub(_quoted_for(language), text)
    if "," in text:
        text = _argument_pairs(text)
    if "define" in text:
        text = _DEFINE.sub(_define, text)
    text = _UNQUOTED_ASSIGNMENT.sub(_unquoted_for(language), text)
    if "=" in text:
        text = _INLINE_ASSIGNMENT.sub(_inline_for(language), text)
    if "-" in text:
        text = _FLAG.sub(_flag_for(language), text)
    return text


# Substrings one of which every `_SENSITIVE_NAME` match holds (lower case): a fast test that lets
# text without any of them skip the (slower) assignment patterns.
_SENSITIVE_PARTS = ("pass", "pwd", "secret", "token", "key", "credential", "authorization", "conn", "dsn")


def _may_name_secret(text: str) -> bool:
    low = text.lower()
    return any(part in low for part in _SENSITIVE_PARTS)
