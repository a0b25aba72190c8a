"""Notebooks: a cell is completed within its notebook (LSP 3.17 notebook documents, as VS Code sends them)."""

from __future__ import annotations

import re
from itertools import accumulate
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types

from server.notebooks import NOTE_LINE_CHARS, NOTE_LINES, Cell, join_cells
from tests.lsp_client import LspSession

CODE, MARKUP = types.NotebookCellKind.Code, types.NotebookCellKind.Markup


def test_cells_of_the_notebooks_language_join_with_a_blank_line_between() -> None:
    joined = join_cells([Cell("c0", "python", "import os"), Cell("c1", "python", "x = 1\n"),
                         Cell("c2", "sql", "SELECT 1"), Cell("c3", "python", "\n")])
    assert joined.language == "python"
    assert joined.text == "import os\n\nx = 1\n\n# SELECT 1\n\n\n"
    assert joined.position("c1", 0, 3) == (2, 3, 2)
    assert joined.position("c3", 1, 0) == (7, 0, 6)
    assert joined.position("c0", 7, 0) == (0, 9, 0)  # a line past the cell's last: the cell's end
    assert joined.position("c2", 0, 0) is None


MARKDOWN = "## Load the CSV\n\nDrop the rows with no price.\n"


def test_a_markdown_cell_is_a_comment_between_the_code_cells_around_it() -> None:
    """The markdown above a cell, which says what its code is to do, was left out of the prompt."""
    cells = [Cell("c0", "python", "import pandas as pd"), Cell("m1", "markdown", MARKDOWN, markup=True),
             Cell("c2", "python", "df = pd.read_csv('prices.csv')\ndf = df.")]
    joined = join_cells(cells)
    assert joined.text == ("import pandas as pd\n\n# ## Load the CSV\n#\n# Drop the rows with no price.\n\n"
                           "df = pd.read_csv('prices.csv')\ndf = df.")
    assert joined.position("c2", 1, 8) == (7, 8, 6) and joined.position("m1", 0, 3) is None
    for line in range(2, 6):  # the comment lines and the blank lines around them are in no cell
        assert joined.cell_at(line, 0) is None
    assert joined.cell_at(7, 9) is None and joined.cell_at(-1, 0) is None  # past the line's end; before the text
    edited = [cells[0], Cell("m1", "markdown", "## Load the JSON", True), cells[2]]  # the next keystroke's join
    again = join_cells(edited, joined).text
    assert again == join_cells(edited).text and "# ## Load the JSON\n" in again
    typescript = join_cells([Cell("t0", "typescript", "let x = 1"), Cell("m1", "markdown", "Sum *all*", True)])
    assert typescript.text == "let x = 1\n\n// Sum *all*"


def test_positions_map_from_every_cell_into_the_document_and_back() -> None:
    cells = [Cell("c0", "python", "a = 1\r\nb = 'é😀'\n"), Cell("m1", "markdown", "# Two\nlines", True),
             Cell("c2", "python", ""), Cell("r3", "raw", "raw text"), Cell("c4", "python", "q = 0\r"),
             Cell("c5", "python", "\n\nz = 3")]
    joined = join_cells(cells)
    lines = re.split(r"\r\n|\r|\n", joined.text)
    for cell in cells:
        cell_lines = re.split(r"\r\n|\r|\n", cell.text)
        for line, text in enumerate(cell_lines):
            for character in accumulate((len(c.encode("utf-16-le")) // 2 for c in text), initial=0):
                mapped = joined.position(cell.uri, line, character)
                if cell.markup or cell.language != "python":
                    assert mapped is None
                    continue
                assert mapped is not None and lines[mapped[0]].startswith(text)
                assert joined.cell_at(mapped[0], mapped[1]) == (cell.uri, line, character)
    assert [line for line in lines if line.startswith("#")] == ["# # Two", "# lines", "# raw text"]


def test_an_empty_markdown_cell_adds_no_lines_and_a_long_one_its_first_lines() -> None:
    code = [Cell("c0", "python", "x = 1"), Cell("c2", "python", "y = 2")]
    empty = join_cells([code[0], Cell("m1", "markdown", " \n\n", True), code[1]])
    assert empty.text == "x = 1\n\ny = 2" and empty.cell_at(2, 0) == ("c2", 0, 0)
    long = "\n".join(f"line {n} " + "x" * 300 for n in range(40))
    noted = join_cells([code[0], Cell("m1", "markdown", long, True), code[1]]).text.split("\n")[2:-2]
    assert len(noted) == NOTE_LINES and noted[0] == "# line 0 " + "x" * (NOTE_LINE_CHARS - len("line 0 "))
    assert noted[-1].startswith(f"# line {NOTE_LINES - 1} ")
    assert join_cells([Cell("m0", "markdown", "# Notes", True)]).text == ""  # no code cell: no language


def test_markdown_that_looks_like_code_or_a_control_token_stays_comment_text() -> None:
    """Each line of the cell is a comment of its own: a line that would close a comment or a string, end
    the cell's code or spell a FIM control token is text after `# ` (the prompt tokenizes it as text)."""
    markdown = '"""\n*/ print(1)\n<｜fim▁hole｜>\n```python\nimport os\n```\r\n-- x'
    joined = join_cells([Cell("m0", "markdown", markdown, True), Cell("c1", "python", "x = ")])
    assert joined.text == ('# """\n# */ print(1)\n# <｜fim▁hole｜>\n# ```python\n# import os\n# ```\n# -- x\n\n'
                           "x = ")
    javascript = join_cells([Cell("c0", "javascript", "f()"), Cell("m1", "markdown", "a\u2028g()", True)])
    assert javascript.text == "f()\n\n// a g()"  # (U+2028 would end a JavaScript comment)
    csharp = join_cells([Cell("c0", "csharp", "f();"), Cell("m1", "markdown", "a\x85g();", True)])
    assert csharp.text == "f();\n\n// a g();"  # (U+0085 would end a C# comment)
    sql = join_cells([Cell("c0", "sql", "SELECT"), Cell("m1", "markdown", "-- no\nyes", True)])
    assert sql.text == "SELECT\n\n-- -- no\n-- yes"
    assert join_cells([Cell("c0", "markdown-ish", "a"), Cell("m1", "markdown", "b", True)]).text == "a"


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
    assert sync.notebook_selector[0].cells is None  # every cell, markdown too (VS Code sends those `cells` selects)


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
        assert before == ("import numpy as np\n\ndef scale(x):\n    return x * 2\n\n# # Scale the samples\n\n"
                          "samples = np.arange(10)\nscaled = sc")
        assert _text(explained, "suffix") == "\n\nprint(scaled)"
        assert "ipynb#" not in _text(explained, "context")
        assert deepseek_server.explain(notebook.uri) == explained
        assert not deepseek_server.inline(notebook.cells[1], 0, 19).items  # a markdown cell
        notebook.insert(2, 3, "samples = samples[::2]")  # a cell added above the cursor's
        deepseek_server.inline(notebook.cells[2], 1, 11)
        assert _text(deepseek_server.explain(notebook.cells[2]), "prefix", "recent", "middle").endswith(
            "# # Scale the samples\n\nsamples = samples[::2]\n\nsamples = np.arange(10)\nscaled = sc")
    finally:
        notebook.close()
    assert deepseek_server.explain(notebook.cells[2]) is None


def test_the_markdown_above_a_cell_is_in_its_prompt_as_comments(deepseek_server: LspSession, workspace: Path) -> None:
    """The markdown cell above a code cell, which says what the code is to do, was left out of the prompt;
    it is there as comment lines, its control-token spelling as plain text, and is never completed."""
    notebook = Notebook(deepseek_server, workspace / "prices.ipynb", [
        (CODE, "python", "import pandas as pd"),
        (MARKUP, "markdown", "## Load the CSV and drop rows with missing prices\nNot `<｜fim▁hole｜>` here."),
        (CODE, "python", "df = "),
        (MARKUP, "markdown", ""),
    ])
    try:
        (item,) = deepseek_server.inline(notebook.cells[2], 0, 5).items
        assert item.range.start == item.range.end == types.Position(line=0, character=5)
        explained = deepseek_server.explain(notebook.cells[2])
        assert _text(explained, "prefix", "recent", "middle") == (
            "import pandas as pd\n\n# ## Load the CSV and drop rows with missing prices\n"
            "# Not `<｜fim▁hole｜>` here.\n\ndf = ")
        assert _text(explained, "suffix") == ""
        segments, ids = explained["prompt"]["segments"], explained["prompt"]["token_ids"]
        at = next(n for n, s in enumerate(segments) if s["kind"] == "control" and s["text"] == "<｜fim▁hole｜>")
        assert ids.count(ids[sum(s["tokens"] for s in segments[:at])]) == 1  # the template's, not the cell's
        for line, character in ((0, 0), (1, 10), (1, 40)):  # the markdown cell: no completion
            assert not deepseek_server.inline(notebook.cells[1], line, character).items
    finally:
        notebook.close()


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


def _open_notebook(server: Any, folder: Path, texts: list[str], uris: int = 0) -> tuple[Any, str, list[str]]:
    """`server`'s workspace at `folder`, with nb.ipynb open holding a Python code cell of each of `texts`: the
    workspace, the notebook's URI and `uris` cell URIs (at least one a text; the others for cells added later)."""
    from pygls.workspace import Workspace

    workspace = server.protocol._workspace = Workspace(folder.as_uri(), workspace_folders=[])
    nb_uri = (folder / "nb.ipynb").as_uri()
    cells = [f"vscode-notebook-cell:{(folder / 'nb.ipynb').as_posix()}#W{n}sZmlsZQ%3D%3D"
             for n in range(max(uris, len(texts)))]
    workspace.put_notebook_document(types.DidOpenNotebookDocumentParams(
        notebook_document=types.NotebookDocument(uri=nb_uri, notebook_type="jupyter-notebook", version=1,
                                                 cells=[types.NotebookCell(kind=CODE, document=uri)
                                                        for uri in cells[:len(texts)]]),
        cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
                             for uri, text in zip(cells, texts)]))
    return workspace, nb_uri, cells


def test_a_notebook_is_joined_again_only_when_its_cells_change(tmp_path: Path) -> None:
    """Each keystroke in a notebook joined all its cells several times (500 cells: 4 ms a join, 30 ms a
    keystroke and its completion); the joined text is kept while no cell's text, language, kind or place
    changes, and follows every such change."""
    from server.lsp import create_server
    from server.settings import Settings

    server = create_server(Settings())
    try:
        workspace, nb_uri, cells = _open_notebook(server, tmp_path, ["import os", "x = 1", "y = 2"])

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
        assert change(4, data=[types.NotebookCell(kind=MARKUP, document=cells[1])]) == "y = 2\n\nimport os\n\n# x = 10"
        assert change(5, structure=types.NotebookDocumentCellChangeStructure(
            array=types.NotebookCellArrayChange(start=1, delete_count=1),
            did_close=[types.TextDocumentIdentifier(uri=cells[0])])) == "y = 2\n\n# x = 10"
    finally:
        server.service.close()


def test_a_completion_is_offered_only_where_its_cell_still_is(tmp_path: Path) -> None:
    """A completion's position in the notebook's document was moved back into the cell by the line the cell
    started at when it was asked for: a markdown cell added above while the model ran put the suggestion on
    the lines of that cell's comments (or in another cell); it is offered only where its cell still is."""
    from server.lsp import create_server
    from server.settings import Settings

    server = create_server(Settings())
    try:
        workspace, nb_uri, cells = _open_notebook(server, tmp_path, ["import os", "x = 1"], uris=3)
        target = server.target(cells[1], 0, 4)
        assert target == (nb_uri, 2, 4, 2)
        assert server.cursor(cells[1], target, 2, 4) == types.Position(line=0, character=4)
        assert server.cursor(cells[0], target, 2, 4) is None  # (not in that cell)
        workspace.update_notebook_document(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(uri=nb_uri, version=2),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
                structure=types.NotebookDocumentCellChangeStructure(
                    array=types.NotebookCellArrayChange(start=1, delete_count=0,
                                                        cells=[types.NotebookCell(kind=MARKUP, document=cells[2])]),
                    did_open=[types.TextDocumentItem(uri=cells[2], language_id="markdown", version=1,
                                                     text="# Count")])))))
        assert server.document_text(nb_uri) == "import os\n\n# # Count\n\nx = 1"
        assert server.cursor(cells[1], target, 2, 4) is None  # (line 2: the markdown cell's comment)
        assert server.cursor(cells[1], server.target(cells[1], 0, 4), 4, 4) == types.Position(line=0, character=4)
        assert server.cursor("file:///a.py", ("file:///a.py", 3, 4, 0), 3, 4) == types.Position(line=3, character=4)
    finally:
        server.service.close()
