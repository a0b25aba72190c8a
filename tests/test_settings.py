"""server/settings.py: one typed schema; bad client values are refused with one warning each."""

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from server.settings import Settings, schema, setting_keys

REPO = Path(__file__).resolve().parent.parent


def test_merge_camel_case_and_sections() -> None:
    merged = Settings(model="a.gguf").merged({"deepfim": {"maxTokens": 32, "contextSize": 2048, "enabled": False,
                                                          "timeBudgetMs": 900, "lineInPrefix": True}})
    assert (merged.max_tokens, merged.context_size, merged.enabled, merged.time_budget_ms, merged.line_in_prefix) \
        == (32, 2048, False, 900, True)
    assert merged.model == "a.gguf"


def test_bad_values_get_one_warning_each_and_the_default() -> None:
    base = Settings(model="a.gguf", max_tokens=64)
    merged, warnings = base.validated({"maxTokens": -3, "contextSize": "big", "enabled": "yes",
                                       "threads": 0, "unknown": 1})
    assert merged == Settings(model="a.gguf")  # the defaults, not the previous values
    assert len(warnings) == 4
    joined = "\n".join(warnings)
    for part in ("maxTokens: -3", "an integer from 1 to 4096", 'contextSize: "big"', "enabled: \"yes\"",
                 "expected true or false", "threads: 0", "or null"):
        assert part in joined
    assert base.merged(None) == base and base.merged([1, 2]) == base


@pytest.mark.parametrize("cleared", [None, "", "  "])
def test_a_cleared_model_goes_back_to_the_model_deepfim_was_started_with(cleared: object) -> None:
    """An editor's emptied `model` setting: `deepfim serve --model`'s model, or the default (null)."""
    chosen = Settings(model="chosen.gguf")
    started = Settings(model="serve-flag.gguf")
    assert chosen.validated({"deepfim": {"model": cleared}}, started=started)[0].model == "serve-flag.gguf"
    assert chosen.validated({"model": cleared})[0].model is None
    assert chosen.validated({"maxTokens": 8}, started=started)[0].model == "chosen.gguf"


def test_a_refused_value_gives_way_to_what_serve_was_started_with() -> None:
    """A value of the wrong type fell back to the built-in default, not to what `serve` was given: a bad
    `model` dropped `deepfim serve --model`'s model for the catalog default ("not downloaded")."""
    started = Settings(model="serve-flag.gguf", max_tokens=32, single_line=True, kv_cache_type="q8_0")
    sent = {"model": 5, "maxTokens": "lots", "singleLine": "yes", "kvCacheType": "q2"}
    settings, warnings = Settings(model="chosen.gguf").validated(sent, started=started)
    assert (settings.model, settings.max_tokens, settings.single_line, settings.kv_cache_type) \
        == ("serve-flag.gguf", 32, True, "q8_0")
    joined = "\n".join(warnings)
    for part in ('using "serve-flag.gguf"', "using 32", "using true", 'using "q8_0"'):
        assert part in joined, joined
    assert Settings().validated({"model": 5})[0].model is None  # nothing started: the default
    assert "using the default" in Settings().validated({"model": 5})[1][0]


def test_null_settings_keep_what_serve_was_started_with() -> None:
    """VS Code sends null for every setting left unset: `deepfim serve --engine URL` and `--set` values
    that may be null stay; a value the editor does send wins."""
    started = Settings(engine="http://gpu:8080", engine_api="llama.cpp", gpu_layers=0, threads=3)
    sent = {"engine": None, "engineApi": None, "gpuLayers": None, "threads": None, "instructModel": ""}
    settings, warnings = started.validated(sent, ours=True, started=started)
    assert warnings == []
    assert (settings.engine, settings.engine_api, settings.gpu_layers, settings.threads, settings.instruct_model) \
        == ("http://gpu:8080", "llama.cpp", 0, 3, None)
    assert started.validated({"engine": "http://other:8080"}, started=started)[0].engine == "http://other:8080"
    assert started.validated({"engine": None})[0].engine is None  # no started settings: the default


def test_null_puts_any_setting_back_to_what_serve_was_started_with() -> None:
    """null is "not set" for every setting, not only those whose default is null: an editor's cleared
    `deepfim-max-tokens` reaches the server, and `--set timeBudgetMs=...` in VS Code's serverCommand
    stays (it sends null for what is unset). They were refused with a warning, the last value kept."""
    started = Settings(max_tokens=32, time_budget_ms=9000, kv_cache_type="q8_0")
    edited = replace(started, max_tokens=64, lookup_decoding=False)
    sent = {"maxTokens": None, "timeBudgetMs": None, "kvCacheType": None, "lookupDecoding": None}
    assert edited.validated(sent, ours=True, started=started) == (started, [])
    assert edited.validated(sent)[0] == Settings()  # no started settings: the defaults


def test_out_of_range_values_are_clamped_with_a_warning() -> None:
    base = Settings()
    merged, warnings = base.validated({"contextSize": 10**9, "maxTokens": 10**6, "model": " other.gguf "})
    assert (merged.context_size, merged.max_tokens, merged.model) == (131072, 4096, "other.gguf")
    assert len(warnings) == 2 and "using 131072" in warnings[0]
    assert base.validated({"contextSize": 100})[0].context_size == 512
    assert base.validated({"threads": None, "timeBudgetMs": 900.0}) == (Settings(time_budget_ms=900), [])


def test_a_quantized_kv_cache_without_flash_attention_falls_back_with_a_warning() -> None:
    """llama.cpp quantizes the KV cache only with flash attention; the pair used to end in "could not
    create a context (out of memory?)" after every smaller window was tried."""
    merged, warnings = Settings().validated({"kvCacheType": "q8_0", "flashAttention": "off"})
    assert merged.kv_cache_type == "f16" and merged.flash_attention == "off"
    assert warnings == ['setting kvCacheType: "q8_0" needs flashAttention "auto" or "on" (llama.cpp quantizes '
                        'the KV cache only with flash attention); using "f16"']
    assert Settings().validated({"kvCacheType": "q4_0"}) == (Settings(kv_cache_type="q4_0"), [])


def test_schema_lists_every_setting_with_its_default() -> None:
    entries = {e["key"]: e for e in schema()}
    assert list(entries) == setting_keys()
    assert entries["maxTokens"]["default"] == Settings().max_tokens
    assert entries["enabled"]["type"] == "boolean" and entries["threads"]["nullable"]


# --------------------------------------------------------------------- the editors' settings lists

# Editor-side names that differ from the server's key (VS Code's switch is `deepfim.enable`).
VSCODE_NAMES = {"enabled": "enable"}


def test_vscode_package_json_declares_and_sends_every_setting() -> None:
    package = json.loads((REPO / "editors/vscode/package.json").read_text())
    properties = package["contributes"]["configuration"]["properties"]
    config_ts = (REPO / "editors/vscode/src/config.ts").read_text()
    for entry in schema():
        name = VSCODE_NAMES.get(entry["key"], entry["key"])
        declared = properties.get(f"deepfim.{name}")
        assert declared is not None, f"package.json lacks deepfim.{name}"
        if entry["key"] != "model":
            assert declared["default"] == (entry["default"] if entry["default"] is not None else declared["default"])
        assert f"'{entry['key']}'" in config_ts or f"{entry['key']}:" in config_ts, \
            f"src/config.ts does not send {entry['key']}"


def test_vscode_package_json_ranges_and_choices_are_the_servers() -> None:
    """VS Code's Settings editor checks a value against package.json's minimum, maximum and enum; a value
    the server refuses or clamps must be flagged there, not only in a warning when the server gets it."""
    properties = json.loads((REPO / "editors/vscode/package.json").read_text())["contributes"]["configuration"][
        "properties"]
    for entry in schema():
        declared = properties[f"deepfim.{VSCODE_NAMES.get(entry['key'], entry['key'])}"]
        if "minimum" in entry:
            # deepfim.threads: 0 stands for null (physical cores), which config.ts sends as null
            low = 0 if entry["key"] == "threads" else entry["minimum"]
            assert (declared.get("minimum"), declared.get("maximum")) == (low, entry["maximum"]), entry["key"]
        if "enum" in entry:
            assert declared["enum"] == entry["enum"] + ([None] if entry["nullable"] else []), entry["key"]


def test_vscode_untrusted_workspaces_cannot_redirect_code_or_load_files() -> None:
    """A cloned repository's .vscode/settings.json could name an engine of its own: the source text (and
    DEEPFIM_API_KEY) would go there. Settings that pick a program, a file to load or a host to send the
    code to are ignored from an untrusted workspace, and the README says which."""
    package = json.loads((REPO / "editors/vscode/package.json").read_text())
    untrusted = package["capabilities"]["untrustedWorkspaces"]
    restricted = set(untrusted["restrictedConfigurations"])
    wanted = {"deepfim.serverCommand", "deepfim.model", "deepfim.instructModel", "deepfim.engine",
              "deepfim.instructEngine"}
    assert wanted <= restricted, wanted - restricted
    readme = " ".join((REPO / "editors/vscode/README.md").read_text().split())
    for name in sorted(restricted):
        assert name in untrusted["description"], name
        assert f"`{name.removeprefix('deepfim.')}`" in readme.split("In an untrusted")[1][:400], name


def test_neovim_server_keys_list_every_setting() -> None:
    config = (REPO / "editors/nvim/lua/deepfim/config.lua").read_text()
    listed = re.search(r"M\.server_keys = \{([^}]*)\}", config).group(1)
    keys = set(re.findall(r'"(\w+)"', listed))
    assert set(setting_keys()) - {"model"} <= keys  # `model` has its own option


def test_emacs_lists_every_setting() -> None:
    source = (REPO / "editors/emacs/deepfim.el").read_text()
    listed = re.search(r"\(defconst deepfim-server-settings\s+'\(([^)]*)\)", source)
    assert listed, "deepfim.el lacks (defconst deepfim-server-settings '(...))"
    keys = set(re.findall(r":(\w+)", listed.group(1)))
    assert set(setting_keys()) == keys
