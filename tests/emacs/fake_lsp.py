"""A minimal language server standing in for "another server" (pylsp, pyright...) in the Emacs tests.

It keeps the documents eglot sends, offers one dropdown completion, and answers `fake/text` with
its copy of a document, so a test can check that eglot still drives it while deepfim-mode runs its
own connection.
"""

from __future__ import annotations

from typing import Any, Optional

from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("fake-lsp", "0.1")


@server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
def completion(ls: LanguageServer, params: types.CompletionParams) -> types.CompletionList:
    return types.CompletionList(is_incomplete=False, items=[
        types.CompletionItem(label="fake_completion_item", kind=types.CompletionItemKind.Function)])


@server.feature("fake/text")
def text(ls: LanguageServer, params: Any) -> Optional[str]:
    document = params.get("textDocument") if isinstance(params, dict) else getattr(params, "textDocument", None)
    uri = document.get("uri") if isinstance(document, dict) else getattr(document, "uri", None)
    if not isinstance(uri, str):
        return None
    return ls.workspace.get_text_document(uri).source


if __name__ == "__main__":
    server.start_io()
