"""Perl's scanner (`fim.languages.perlscan`) and definitions on the constructs of installed Perl modules where the
brace depth was lost, and on inputs that must neither raise nor stall."""

from fim.imports import imported_modules, path_index, resolve
from fim.languages.perlscan import blank
from fim.postprocess import CompletionContext
from fim.symbols import defined_names
from tests.hang_helpers import finishes


def _depths(text: str) -> list[int]:
    """The brace depth after each line of `text` once blanked."""
    out, d = [], 0
    for line in blank(text).split("\n"):
        d += line.count("{") - line.count("}")
        out.append(d)
    return out


def test_a_regular_expressions_modifiers_are_no_match_operator():
    """``split(/\\s*,\\s*/m, $x)``: the ``m`` of ``/m`` followed by ``,`` was read as ``m,...,`` (a match with
    commas for delimiters), hiding the block's ``{`` (Dpkg/Deps.pm, Unicode/UCD.pm, User/pwent.pm)."""
    text = ("sub parse {\n    foreach my $a (split(/\\s*,\\s*/m, $line)) {\n"
            "        foreach my $o (split(/\\s*\\|\\s*/m, $a)) {\n            push @x, $o;\n        }\n    }\n}\n"
            "sub after { 1 }\n")
    assert _depths(text)[-2:] == [0, 0]
    assert "$line)) {" in blank(text)
    assert defined_names(text, "perl") == {"parse", "after"}


def test_a_heredoc_ended_by_any_quoted_text():
    """``<<'.'`` (bigint.pm's ``eval`` of a sub's text), ``<<"END OF TEXT"`` and ``<<"    ERR"`` were no
    heredoc: the braces of their bodies counted and the file's later subs were inside a block."""
    text = ("sub import {\n    eval '\nsub hex(' . $proto . ') {' . <<'.';\n    my $s = shift;\n"
            "    if ($s) {\n.\n    print <<\"END OF TEXT\";\n  } {\nEND OF TEXT\n"
            "    diag(<<\"    ERR\") if $x;\n  { unclosed\n    ERR\n}\nsub unimport { 1 }\n")
    assert _depths(text)[-2:] == [0, 0]
    assert defined_names(text, "perl") == {"import", "unimport"}


def test_a_regular_expression_after_split_or_an_opening_may_start_with_a_space_or_equals():
    """``split /=/, $_, 2`` and ``split / /, $s`` were read as divisions (App/Cpan.pm): the next ``/`` on the line
    opened a pattern that hid ``}`` and the rest of the file sat one level deeper."""
    text = ("sub opts {\n    my @pairs = map { [ split /=/, $_, 2 ] } split /,/, $o;\n"
            "    my @w = grep { $_ } (split / /, $s);\n    my @c = (/=}/ ? 1 : 0);\n    return $n / 2 + $i++ / 3;\n}\n"
            "sub next_one { 1 }\n")
    assert _depths(text) == [1, 1, 1, 1, 1, 0, 0, 0]
    assert defined_names(text, "perl") == {"opts", "next_one"}


def test_a_formats_picture_lines_are_no_code():
    """``format STDOUT =`` ... ``.``: a picture line's ``{`` or ``"`` counted as code, the subs after it were
    nested and a quote ran on."""
    text = ("format STDOUT_TOP =\nName      {  Total \"\n.\nformat =\n@<<<<<<<< @>>>> '{\n$name, $total\n.\n"
            "sub report { write }\nsub after { 1 }\n")
    assert _depths(text)[-2:] == [0, 0]
    assert defined_names(text, "perl") == {"report", "after"}
    assert blank("format STDOUT =\n{\n") == "format STDOUT =\n{\n"  # no ``.`` yet: code (being typed)


def test_perl_parents_set_through_isa_and_files_loaded_by_do():
    """``our @ISA = (...)`` and ``push @ISA, ...`` (242 installed modules, Perl's own among them) brought no
    parent class, so ``$self->method`` found nothing; ``my $conf = do "config.pl"`` loaded no file."""
    text = ("package My::App;\nrequire My::Base;\nour @ISA = ('My::Base', 'Exporter');\npush @ISA, qw(My::Mixin);\n"
            "if (@ISA == 1) { }\nmy $conf = do \"config.pl\";\n# do \"commented.pl\";\n"
            "sub run { my $self = shift; return $self->helper; }\n1;\n")
    refs = imported_modules(text, "perl")
    assert [(r.module, r.names, r.line) for r in refs] == [
        ("My::Base", ("helper",), 1), ("Exporter", ("helper",), 2),
        ("My::Mixin", ("helper",), 3), ("config.pl", (), 5)]
    index = path_index({"lib/My/App.pm": text, "lib/My/Base.pm": "", "lib/My/config.pl": ""})
    assert [resolve(r, "lib/My/App.pm", index) for r in refs[-2:]] == [[], ["lib/My/config.pl"]]


def test_a_class_named_with_a_trailing_double_colon_brings_the_method_called():
    """``Foo::Bar::->new`` (the unambiguous class name) was a package used with no name: its ``new`` was left out."""
    refs = imported_modules("my $x = Shop::Cart::->new(items => 1);\nShop::Cart::->total;\n", "perl")
    assert [(r.module, r.names) for r in refs] == [("Shop::Cart", ("new", "total"))]


def _open_braces(prefix: str) -> int:
    return CompletionContext(prefix, "", language="perl").open_brackets["{"]


def test_unclosed_literals_and_formats_are_read_once():
    """Each unclosed ``q{`` (or ``s{`` of a half-typed line, ``format =`` without its ``.``) was scanned to the
    text's end, once per literal: 20,000 such lines took 246 s to blank, a suggestion's check after 50,000
    ``s{`` minutes; the scanner now remembers what ran to the end."""
    assert finishes(blank, "q{ {\n" * 20000, seconds=15).count("\n") == 20000
    assert finishes(blank, "format =\n{\n" * 50000, seconds=15).count("{") == 50000
    assert finishes(_open_braces, "s{" * 50000, seconds=15) == 50000  # none closes: no literal
