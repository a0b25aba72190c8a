"""Ruby's installed gems as context: a require resolved in the gem dirs at the Gemfile.lock's version (else the
newest present), the constants the document uses found by convention or through the gem's requires, a
relative BUNDLE_PATH, and the gem dirs found from the environment."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from fim.dependencies import installed_definitions
from fim.imports import imported_modules
from server.dependencies import InstalledFiles, find_gem_dirs


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


GEMS = {
    "gems/rack-2.2.22/lib/rack.rb": "module Rack\n  autoload :Builder, \"rack/builder\"\n  autoload :Lint, "
                                    "\"rack/linter\"\n  autoload :Utils, \"rack/utils\"\nend\n",
    "gems/rack-2.2.22/lib/rack/builder.rb": "module Rack\n  class Builder\n    def initialize(app)\n    end\n"
                                            "  end\nend\n",
    "gems/rack-2.2.22/lib/rack/linter.rb": "module Rack\n  class Lint\n    def check(env)\n    end\n  end\nend\n",
    "gems/rack-2.2.22/lib/rack/utils.rb": (
        "module Rack\n  module Utils\n    DEFAULT_SEP = /[&;] */n\n\n    class HeaderHash < Hash\n    end\n\n"
        "    # Escape ampersands, brackets and quotes to their HTML/XML entities.\n"
        "    def escape_html(string)\n      string.to_s.gsub(ESCAPE_HTML_PATTERN, ESCAPE_HTML)\n    end\n"
        "    module_function :escape_html\n  end\nend\n"),
    "specifications/rack-2.2.22.gemspec": 'Gem::Specification.new do |s|\n  s.name = "rack".freeze\n'
                                          '  s.require_paths = ["lib".freeze]\nend\n',
    "gems/rack-3.0.10/lib/rack.rb": "module Rack\nend\n",
    "gems/rack-3.0.10/lib/rack/utils.rb": "module Rack\n  module Utils\n    def escape_html(s, ten)\n    end\n"
                                          "  end\nend\n",
    "gems/rack-3.0.9/lib/rack.rb": "module Rack\nend\n",
    "gems/rack-3.0.9/lib/rack/utils.rb": "module Rack\n  module Utils\n    def escape_html(s, nine)\n    end\n"
                                         "  end\nend\n",
    # rack-protection: its entry file requires rack; its gemspec's load path is ``src``
    "gems/rack-protection-3.0.5/src/rack/protection.rb": "require 'rack'\n\nmodule Rack\n  module Protection\n"
                                                         "    autoload :Base, 'rack/protection/base'\n  end\nend\n",
    "gems/rack-protection-3.0.5/src/rack/protection/base.rb": (
        "module Rack\n  module Protection\n    class Base\n      def accepts?(env)\n      end\n    end\n  end\nend\n"),
    "specifications/rack-protection-3.0.5.gemspec": "Gem::Specification.new do |s|\n"
                                                    "  s.require_paths = [\"src\".freeze]\nend\n",
}
LOCK = ("GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.22)\n    rack-protection (3.0.5)\n      rack\n\n"
        "PLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack-protection\n")
APP = ('require "rack"\nrequire "rack/protection"\nrequire "json"\n\nclass App\n'
       "  def call(env)\n    Rack::Utils.escape_html(env)\n    Rack::Protection::Base.new\n"
       "    Rack::Lint.new(self)\n    JSON.parse(env)\n  end\nend\n")


def gem_home(root: Path) -> Path:
    write(root / "gemhome", GEMS)
    return root / "gemhome"


def files_of(workspace: Path, *gem_dirs: Path) -> InstalledFiles:
    return InstalledFiles(None, lambda rel: workspace / rel, 256 * 1024, gem_dirs=list(gem_dirs))


def definitions(document: str, files: InstalledFiles, path: str = "app/lib/app.rb") -> dict[str, dict[str, list]]:
    return {ref.module: installed_definitions(ref, path, document, files) for ref in imported_modules(document, "ruby")}


def test_requires_resolve_in_the_gem_dirs_at_the_locked_version(tmp_path: Path) -> None:
    home = gem_home(tmp_path)
    write(tmp_path / "ws", {"Gemfile.lock": LOCK})
    files = files_of(tmp_path / "ws", tmp_path / "nothing-here", home)
    got = definitions(APP, files)
    rack, protection = "ruby-gems/1/gems/rack-2.2.22/lib/rack", "ruby-gems/1/gems/rack-protection-3.0.5/src/rack"
    assert got == {
        # the method where the conventional file defines it; Rack::Lint through rack.rb's autoload
        "rack": {f"{rack}/utils.rb": ["escape_html"], f"{rack}/linter.rb": ["Lint"]},
        "rack/protection": {f"{protection}/protection/base.rb": ["Base"]},  # the gemspec's require path
        "json": {},  # no gem of the lock: the standard library
    }
    # the locked 2.2.22, not the newer 3.0.x present; without the lock, the newest present (3.0.10 above 3.0.9)
    (tmp_path / "ws" / "Gemfile.lock").unlink()
    assert definitions(APP, files_of(tmp_path / "ws", home))["rack"] == {
        "ruby-gems/0/gems/rack-3.0.10/lib/rack/utils.rb": ["escape_html"]}
    # a gem whose name ends with a number (http-2, required as ``http/2``): its version is what follows the name
    write(home, {"gems/http-2-0.11.0/lib/http/2.rb": "module HTTP2\n  class Client\n  end\nend\n"})
    assert definitions('require "http/2"\n\nHTTP2::Client.new\n', files_of(tmp_path / "ws", home)) == {
        "http/2": {"ruby-gems/0/gems/http-2-0.11.0/lib/http/2.rb": ["Client"]}}


def test_a_constant_only_a_required_gems_requires_reach_and_a_relative_bundle_path(tmp_path: Path) -> None:
    write(tmp_path / "ws", {"Gemfile.lock": LOCK, ".bundle/config": '---\nBUNDLE_PATH: "vendor/bundle"\n'})
    write(tmp_path / "ws" / "vendor" / "bundle" / "ruby" / "3.2.0", GEMS)
    files = files_of(tmp_path / "ws", gem_home(tmp_path / "elsewhere"))
    # only rack-protection is required: Rack::Utils through its ``require 'rack'`` and rack.rb's autoload
    document = 'require "rack/protection"\n\nRack::Utils::HeaderHash.new\n'
    assert definitions(document, files, "app.rb") == {"rack/protection": {
        "vendor/bundle/ruby/3.2.0/gems/rack-2.2.22/lib/rack/utils.rb": ["HeaderHash"]}}


def test_a_gems_definition_is_in_the_selected_context(tmp_path: Path) -> None:
    write(tmp_path / "ws", {"Gemfile.lock": LOCK})
    files = files_of(tmp_path / "ws", gem_home(tmp_path))
    lines = APP.split("\n")
    snippets = select_context("app/lib/app.rb", APP, 7, {"app/lib/app.rb": APP}, [], None, 8000, (0, len(lines)),
                              installed=files)
    by_source = {s.source: s.text for s in snippets}
    assert "def escape_html(string)" in by_source["ruby-gems/0/gems/rack-2.2.22/lib/rack/utils.rb"]
    assert select_context("app/lib/app.rb", APP, 7, {"app/lib/app.rb": APP}, [], None, 8000, (0, len(lines))) == []


def test_gem_dirs_are_found_from_the_environment_the_users_rubies_and_the_system(tmp_path: Path) -> None:
    home, system = tmp_path / "home", tmp_path / "usr-lib-ruby-gems"
    for folder in ("gemhome", "gempath", "home/.gem/ruby/3.1.0", "home/.gem/ruby/3.3.0",
                   "home/.rbenv/versions/3.2.2/lib/ruby/gems/3.2.0", "home/.rbenv/versions/3.3.1/lib/ruby/gems/3.3.0",
                   "usr-lib-ruby-gems/3.1.0"):
        (tmp_path / folder / "gems").mkdir(parents=True)
    (tmp_path / "home/.local/share/gem/ruby/3.1.0").mkdir(parents=True)  # no gems/ folder: not a gem dir
    environ = {"GEM_HOME": str(tmp_path / "gemhome"), "GEM_PATH": f"{tmp_path / 'gempath'}:{tmp_path / 'missing'}"}
    assert find_gem_dirs(environ, str(home), (str(system),)) == [
        tmp_path / "gemhome", tmp_path / "gempath", home / ".gem/ruby/3.3.0", home / ".gem/ruby/3.1.0",
        home / ".rbenv/versions/3.3.1/lib/ruby/gems/3.3.0", home / ".rbenv/versions/3.2.2/lib/ruby/gems/3.2.0",
        system / "3.1.0"]
    files = files_of(tmp_path, tmp_path / "gemhome")
    assert "ruby-gems/0/gems/" in files and "ruby-gems/1/gems/" not in files and "ruby-gems/x/gems/" not in files


def test_uses_in_interpolations_count_and_a_module_gives_way_to_its_methods_found(tmp_path: Path) -> None:
    write(tmp_path / "ws", {"Gemfile.lock": LOCK})
    files = files_of(tmp_path / "ws", gem_home(tmp_path))
    utils = "ruby-gems/0/gems/rack-2.2.22/lib/rack/utils.rb"
    # ``Rack::Utils`` alone: the module; with a method of it used (in a string's ``#{}``), that method, not the
    # whole module around it (a comment's use is none)
    alone = 'require "rack"\n\nx = Rack::Utils\n# Rack::Utils.escape_html(y)\n'
    assert definitions(alone, files, "app.rb")["rack"] == {utils: ["Utils"]}
    both = alone + 'raise "bad #{Rack::Utils.escape_html(e)}"\nRack::Utils::HeaderHash\n'
    assert definitions(both, files, "app.rb")["rack"] == {utils: ["escape_html", "HeaderHash"]}
    # a gem's root module stays beside its methods: its entry file's outline (``Rack.release``: none here)
    root = 'require "rack"\n\nRack.release\nRack::Lint\n'
    rack = "ruby-gems/0/gems/rack-2.2.22/lib/rack"
    assert definitions(root, files, "app.rb")["rack"] == {f"{rack}.rb": ["Rack"], f"{rack}/linter.rb": ["Lint"]}


class Counted(InstalledFiles):
    """The server's mapping, counting the keys asked for (a stat each, at most every STAT_SECONDS)."""

    asked = 0

    def __contains__(self, key: object) -> bool:
        self.asked += 1
        return super().__contains__(key)


def test_an_unchanged_documents_lookups_are_remembered_and_checked(tmp_path: Path) -> None:
    write(tmp_path / "ws", {"Gemfile.lock": LOCK})
    home = gem_home(tmp_path)
    files = Counted(None, lambda rel: tmp_path / "ws" / rel, 256 * 1024, gem_dirs=[home])
    # Rack::Nowhere: found in no conventional file, rack.rb's requires followed to no definition
    document = APP + "Rack::Nowhere::Deep.call\n"
    first = definitions(document, files)
    asked, files.asked = files.asked, 0
    assert definitions(document, files) == first and files.asked < asked * 0.7  # again: cheaper
    # a remembered definition the file no longer has is looked up again
    utils = home / "gems/rack-2.2.22/lib/rack/utils.rb"
    utils.write_text("module Rack\n  module Utils\n  end\nend\n", encoding="utf-8")
    files._stats.clear()
    assert definitions(document, files)["rack"]["ruby-gems/0/gems/rack-2.2.22/lib/rack/utils.rb"] == ["Utils"]
