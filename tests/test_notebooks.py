"""Notebooks: a cell is completed within its notebook (LSP 3.17 notebook documents, as VS Code sends them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from lsprotocol import types

from server.notebooks import Cell, join_cells
from tests.lsp_client import LspSession

CODE, MARKUP = types.NotebookCellKind.Code, types.NotebookCellKind.Markup


def test_cells_of_the_notebooks_language_join_with_a_blank_line_between() -> None:
    joined = join_cells([Cell("c0", "python", "import os"), Cell("c1", "python", "x = 1\n"),
                         Cell("c2", "sql", "SELECT 1"), Cell("c3", "python", "\n")])
    assert joined.language == "python"
    assert joined.text == "import os\n\nx = 1\n\n\n"
    assert joined.position("c1", 0, 3) == (2, 3, 2)
    assert joined.position("c3", 1, 0) == (5, 0, 4)
    assert joined.position("c0", 7, 0) == (0, 9, 0)  # a line past the cell's last: the cell's end
    assert joined.position("c2", 0, 0) is None


class Notebook:
    """A notebook open in the server, its cells as (kind, languageId, text)."""

    def __init__(self, server: LspSession, path: Path, cells: list[tuple[types.NotebookCellKind, str, str]]) -> None:
        self.server, self.uri = server, path.as_uri()
        self.cells = [f"vscode-notebook-cell:{path.as_posix()}#W{number}sZmlsZQ%3D%3D" for number in range(len(cells))]
        server.call(server.client.notebook_document_did_open, types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=self.uri, notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=kind, document=uri) for (kind, _, _), uri in zip(cells, self.cells)]),
            cell_text_documents=[types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)
                                 for (_, language, text), uri in zip(cells, self.cells)]))

    def type(self, cell: int, version: int, line: int, character: int, text: str) -> None:
        at = types.Position(line=line, character=character)
        self.server.call(self.server.client.notebook_document_did_change, types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=self.uri, version=version),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(text_content=[
                types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=self.cells[cell], version=version),
                    changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text=text)])
            ]))))

    def insert(self, index: int, version: int, text: str) -> None:
        """A new code cell at `index`."""
        uri = f"{self.cells[0].split('#')[0]}#X{len(self.cells)}"
        self.cells.append(uri)
        self.server.call(self.server.client.notebook_document_did_change, types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=self.uri, version=version),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
                structure=types.NotebookDocumentCellChangeStructure(
                    array=types.NotebookCellArrayChange(start=index, delete_count=0,
                                                        cells=[types.NotebookCell(kind=CODE, document=uri)]),
                    did_open=[types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)])))))

    def close(self) -> None:
        self.server.call(self.server.client.notebook_document_did_close, types.DidCloseNotebookDocumentParams(
            notebook_document=types.NotebookDocumentIdentifier(uri=self.uri),
            cell_text_documents=[types.TextDocumentIdentifier(uri=uri) for uri in self.cells]))


def _text(explained: dict, *kinds: str) -> str:
    return "".join(s["text"] for s in explained["prompt"]["segments"] if s["kind"] in kinds)


def test_initialize_advertises_notebook_sync(deepseek_server: LspSession) -> None:
    sync: Any = deepseek_server.initialize_result.capabilities.notebook_document_sync
    assert sync is not None and sync.notebook_selector[0].notebook == "*"


def test_a_cell_sees_the_code_cells_above_and_below_it(deepseek_server: LspSession, workspace: Path) -> None:
    """VS Code showed no completions in a notebook's cells, and a cell sent alone would have been completed
    without the imports and definitions of the cells above it."""
    notebook = Notebook(deepseek_server, workspace / "analysis.ipynb", [
        (CODE, "python", "import numpy as np\n\ndef scale(x):\n    return x * 2"),
        (MARKUP, "markdown", "# Scale the samples"),
        (CODE, "python", "samples = np.arange(10)\nscaled = "),
        (CODE, "python", "print(scaled)"),
    ])
    try:
        notebook.type(2, 2, 1, 9, "sc")
        (item,) = deepseek_server.inline(notebook.cells[2], 1, 11).items
        assert item.range.start == item.range.end == types.Position(line=1, character=11)  # in the cell
        (dropdown,) = deepseek_server.completion(notebook.cells[2], 1, 11).items
        assert dropdown.text_edit.range == types.Range(start=types.Position(line=1, character=9),
                                                       end=types.Position(line=1, character=11))
        explained = deepseek_server.explain(notebook.cells[2])
        before = _text(explained, "prefix", "recent", "middle")
        assert before == "import numpy as np\n\ndef scale(x):\n    return x * 2\n\nsamples = np.arange(10)\nscaled = sc"
        assert _text(explained, "suffix") == "\n\nprint(scaled)"
        assert "ipynb#" not in _text(explained, "context") and "Scale the samples" not in before
        assert deepseek_server.explain(notebook.uri) == explained
        assert not deepseek_server.inline(notebook.cells[1], 0, 19).items  # a markdown cell
        notebook.insert(2, 3, "samples = samples[::2]")  # a cell added above the cursor's
        deepseek_server.inline(notebook.cells[2], 1, 11)
        assert _text(deepseek_server.explain(notebook.cells[2]), "prefix", "recent", "middle").endswith(
            "    return x * 2\n\nsamples = samples[::2]\n\nsamples = np.arange(10)\nscaled = sc")
    finally:
        notebook.close()
    assert deepseek_server.explain(notebook.cells[2]) is None


def test_code_cells_added_to_a_notebook_of_markdown_are_completed_as_their_language(
        deepseek_server: LspSession, workspace: Path) -> None:
    """A notebook opened with no code cell had no language for the session: the code cells added later were
    completed without their imports resolved (nor their language's post-processing)."""
    (workspace / "pkg" / "units.py").write_text("def meters(feet):\n    return feet * 0.3048\n")
    deepseek_server.files_changed((workspace / "pkg" / "units.py", types.FileChangeType.Created))
    notebook = Notebook(deepseek_server, workspace / "notes.ipynb", [(MARKUP, "markdown", "# Notes")])
    try:
        notebook.insert(1, 2, "from pkg.units import meters\n\nheight = ")
        deepseek_server.inline(notebook.cells[1], 2, 9)
        assert "def meters(feet)" in _text(deepseek_server.explain(notebook.cells[1]), "context")
    finally:
        notebook.close()


def test_an_open_notebook_stays_open_when_workspace_folders_change(tmp_path: Path) -> None:
    """The project takes a notebook as one open file holding its code cells, also after a folder is added."""
    from pygls.workspace import Workspace

    from server.lsp import create_server
    from server.settings import Settings

    root, other = tmp_path / "root", tmp_path / "other"
    root.mkdir()
    other.mkdir()
    (root / "nb.ipynb").write_text('{"cells": []}')
    server = create_server(Settings())
    try:
        folder = types.WorkspaceFolder(uri=root.as_uri(), name="root")
        workspace = server.protocol._workspace = Workspace(root.as_uri(), workspace_folders=[folder])
        cells = [f"vscode-notebook-cell:{(root / 'nb.ipynb').as_posix()}#W{number}" for number in range(2)]
        workspace.put_notebook_document(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(uri=(root / "nb.ipynb").as_uri(), notebook_type="jupyter-notebook",
                                                     version=1, cells=[types.NotebookCell(kind=CODE, document=uri)
                                                                       for uri in cells]),
            cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python", version=1, text=f"x{number} = 1")
                                 for number, uri in enumerate(cells)]))
        added = types.WorkspaceFolder(uri=other.as_uri(), name="other")
        workspace.add_folder(added)  # as pygls does before our handler
        handler = server.protocol.fm.features[types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS]
        handler(types.DidChangeWorkspaceFoldersParams(event=types.WorkspaceFoldersChangeEvent(added=[added],
                                                                                              removed=[])))
        index = server.service.project.index
        assert index.open_paths() == ["root/nb.ipynb"]
        assert index.files["root/nb.ipynb"] == "x0 = 1\n\nx1 = 1"
    finally:
        server.service.close()


def test_a_cell_sent_as_a_document_of_its_own_is_named_by_its_notebooks_file() -> None:
    """A cell synchronized as a text document (a client without notebook support, an instruct edit of a cell)
    was named `nb.ipynb#W0sZmlsZQ%3D%3D` in its prompt: the URI's fragment taken for part of the file name."""
    from server.service import CompletionService
    from server.settings import Settings

    service = CompletionService(Settings(), background_index=False)
    try:
        def name(uri: Any) -> Optional[str]:
            return service.request_for(uri, "x = 1\n", 0, 0).path

        assert name("vscode-notebook-cell:/w/nb.ipynb#W0sZmlsZQ%3D%3D") == "nb.ipynb"
        assert name("untitled:Untitled-1") == "Untitled-1" and name(Path("/elsewhere/a#b.py")) == "a#b.py"
    finally:
        service.close()


def test_a_notebook_is_joined_again_only_when_its_cells_change(tmp_path: Path) -> None:
    """Each keystroke in a notebook joined all its cells several times (500 cells: 4 ms a join, 30 ms a
    keystroke and its completion); the joined text is kept while no cell's text, language, kind or place
    changes, and follows every such change."""
    from pygls.workspace import Workspace

    from server.lsp import create_server
    from server.settings import Settings

    server = create_server(Settings())
    try:
        workspace = server.protocol._workspace = Workspace(tmp_path.as_uri(), workspace_folders=[])
        nb_uri = (tmp_path / "nb.ipynb").as_uri()
        cells = [f"vscode-notebook-cell:{(tmp_path / 'nb.ipynb').as_posix()}#W{n}sZmlsZQ%3D%3D" for n in range(3)]
        workspace.put_notebook_document(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(uri=nb_uri, notebook_type="jupyter-notebook", version=1,
                                                     cells=[types.NotebookCell(kind=CODE, document=uri)
                                                            for uri in cells]),
            cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
                                 for uri, text in zip(cells, ["import os", "x = 1", "y = 2"])]))

        def change(version: int, **cell_changes: Any) -> str:
            workspace.update_notebook_document(types.DidChangeNotebookDocumentParams(
                notebook_document=types.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=version),
                change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(**cell_changes))))
            return joined().text

        def joined() -> Any:
            notebook = workspace.get_notebook_document(notebook_uri=nb_uri)
            assert notebook is not None
            return server.joined(notebook)

        first = joined()
        assert first.text == "import os\n\nx = 1\n\ny = 2" and joined() is first
        at = types.Position(line=0, character=5)
        assert change(2, text_content=[types.NotebookDocumentCellContentChanges(
            document=types.VersionedTextDocumentIdentifier(uri=cells[1], version=2),
            changes=[types.TextDocumentContentChangePartial(range=types.Range(start=at, end=at), text="0")])]
        ) == "import os\n\nx = 10\n\ny = 2"
        assert joined() is joined()
        moved = [types.NotebookCell(kind=CODE, document=uri) for uri in (cells[2], cells[0], cells[1])]
        reordered = change(3, structure=types.NotebookDocumentCellChangeStructure(
            array=types.NotebookCellArrayChange(start=0, delete_count=3, cells=moved)))
        assert reordered == "y = 2\n\nimport os\n\nx = 10"
        assert change(4, data=[types.NotebookCell(kind=MARKUP, document=cells[1])]) == "y = 2\n\nimport os"
        assert change(5, structure=types.NotebookDocumentCellChangeStructure(
            array=types.NotebookCellArrayChange(start=1, delete_count=1),
            did_close=[types.TextDocumentIdentifier(uri=cells[0])])) == "y = 2"
    finally:
        server.service.close()
