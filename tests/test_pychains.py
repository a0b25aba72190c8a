"""Python's chained qualifiers (`fim.pychains`): ``np.linalg.norm`` brings ``norm`` from the installed submodule
``numpy.linalg`` (its re-exports followed), ``np.linalg.no|`` the names that submodule offers starting with ``no``;
an attribute in the middle (``np.ndarray.shape``) brings nothing of its own. Real files in a site-packages folder,
read through the server's `InstalledFiles`, as the selected context shows them."""

from __future__ import annotations

from pathlib import Path

from fim.context import select_context
from server.dependencies import InstalledFiles

SITE = {
    # numpy's layout: stubs beside the sources, the submodule's names re-exported from a private module
    "numpy/__init__.py": "from . import linalg\nfrom .core import defchararray as char\n",
    "numpy/__init__.pyi": ("from numpy import linalg as linalg\nfrom numpy.core import defchararray as char\n\n"
                           "class ndarray:\n    shape: tuple[int, ...]\n\ndef zeros(shape: int) -> ndarray: ...\n"),
    "numpy/linalg/__init__.py": "from ._linalg import *\n",
    "numpy/linalg/__init__.pyi": ("from numpy.linalg._linalg import (\n    norm as norm,\n    inv as inv,\n)\n\n"
                                  "class LinAlgError(Exception): ...\n"),
    "numpy/linalg/_linalg.pyi": ("def inv(a: object) -> object: ...\n\n"
                                 "def norm(x: object, ord: float | None = ...) -> float: ...\n\n"
                                 "def nonzero_helper(x: object) -> None: ...\n"),
    "numpy/core/__init__.py": "",
    "numpy/core/defchararray.pyi": "def add(x1: object, x2: object) -> object: ...\n",
    # torch's: a package folder per submodule, used after ``from torch import nn``
    "torch/__init__.py": "from torch import nn as nn\n",
    "torch/nn/__init__.py": "from .modules import Module\n",
    "torch/nn/modules.py": "class Module:\n    pass\n",
    "torch/nn/functional.py": "def relu(input, inplace=False):\n    return input\n",
    # ``import a.b as c`` then ``c.d.e``
    "pkga/__init__.py": "",
    "pkga/b/__init__.py": "",
    "pkga/b/d.py": "def e(value):\n    return value\n",
}


def installed(tmp_path: Path) -> InstalledFiles:
    site = tmp_path / "site-packages"
    for rel, text in SITE.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return InstalledFiles(site, lambda rel: tmp_path / "ws" / rel, 256 * 1024)


def context(document: str, line: int, files: InstalledFiles, character: int | None = None) -> dict[str, str]:
    snippets = select_context("app.py", document, line, {"app.py": document}, [], None, 8000, (0, line + 1),
                              installed=files, language="python", cursor_character=character)
    return {s.source: s.text for s in snippets}


def test_a_name_used_through_a_chain_of_submodules_brings_its_definition(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = "import numpy as np\n\n\ndef size(x):\n    return np.linalg.norm(x)\n\n"
    got = context(document, 5, files)
    # ``numpy.linalg``'s stub re-exports it from ``numpy.linalg._linalg``: followed there
    assert "def norm(x: object, ord: float | None = ...) -> float: ..." in got["site-packages/numpy/linalg/_linalg.pyi"]


def test_chains_after_a_from_import_and_an_aliased_dotted_import(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = "from torch import nn\nimport pkga.b as c\n\ny = nn.functional.relu(x)\nz = c.d.e(y)\n\n"
    got = context(document, 5, files)
    assert "def relu(input, inplace=False):" in got["site-packages/torch/nn/functional.py"]
    assert "def e(value):" in got["site-packages/pkga/b/d.py"]


def test_a_module_the_package_imports_under_another_name_is_followed(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = "import numpy as np\n\nwords = np.char.add(a, b)\n\n"
    got = context(document, 3, files)
    # ``from numpy.core import defchararray as char`` in numpy's stub: ``np.char`` is that module
    assert "def add(x1: object, x2: object) -> object: ..." in got["site-packages/numpy/core/defchararray.pyi"]


def test_an_attribute_in_the_middle_ends_the_chain(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = "import numpy as np\n\nn = np.ndarray.shape\nm = np.linalg.norm(v)\n\n"
    got = context(document, 4, files)
    # ``ndarray`` is numpy's class (what ``np.ndarray`` brings), ``shape`` no module's name: nothing else comes
    assert set(got) == {"site-packages/numpy/__init__.pyi", "site-packages/numpy/linalg/__init__.pyi",
                        "site-packages/numpy/linalg/_linalg.pyi"}
    assert "def norm(" in got["site-packages/numpy/linalg/_linalg.pyi"]
    typed = "import numpy as np\n\nn = np.ndarray.sh\n"
    assert context(typed, 2, files, len("n = np.ndarray.sh")) == context(typed, 2, files)


def test_the_member_typed_after_a_chain_brings_the_names_starting_with_it(tmp_path: Path) -> None:
    files = installed(tmp_path)
    document = "import numpy as np\n\nx = np.zeros(3)\ny = np.linalg.no\n"
    got = context(document, 3, files, len("y = np.linalg.no"))
    member = got["site-packages/numpy/linalg/_linalg.pyi"]
    assert member.startswith("def norm(x: object, ord: float | None = ...) -> float: ...")
    assert "nonzero_helper" not in member and "def inv(" not in member  # not offered by linalg; not typed
    # nothing typed yet: what ``numpy.linalg`` offers
    fresh = document.replace("np.linalg.no", "np.linalg.")
    got = context(fresh, 3, files, len("y = np.linalg."))
    assert "def inv(a: object) -> object: ..." in got["site-packages/numpy/linalg/_linalg.pyi"]
    assert "class LinAlgError(Exception): ..." in got["site-packages/numpy/linalg/__init__.pyi"]
    # a submodule imported by name: ``nn.`` after ``from torch import nn``
    typed = "from torch import nn\n\nclass Net(nn.Mod\n"
    got = context(typed, 2, files, len("class Net(nn.Mod"))
    assert "class Module:" in got["site-packages/torch/nn/modules.py"]


def test_the_benchmarks_chain_tasks_are_the_uses_through_installed_submodules(tmp_path: Path) -> None:
    from benchmarks.dependency_context import chain_tasks, fresh_member_tasks
    from benchmarks.repo_context import index_workspace

    installed(tmp_path)
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    source = ("import numpy as np\nfrom torch import nn\n\n\ndef size(x):\n    n = np.ndarray.shape\n"
              "    return np.linalg.norm(x) + nn.functional.relu(x)\n")
    (root / "pkg" / "lib.py").write_text(source, encoding="utf-8")
    project, _ = index_workspace(root)
    tasks = chain_tasks("demo", project, tmp_path / "site-packages")
    # one a line: the first of it (norm); ``np.ndarray.shape`` is no submodule's name
    assert [(t.line, t.column, t.name, t.hole) for t in tasks] == [(6, len("    return np.linalg."), "norm",
                                                                     "norm(x) + nn.functional.relu(x)")]
    assert (tasks[0].definition.path, tasks[0].definition.line) == ("site-packages/numpy/linalg/_linalg.pyi", 2)
    assert tasks[0].definition.text.startswith("def norm(")
    assert [t.text.split("\n")[6] for t in fresh_member_tasks(tasks, 2)] == ["    return np.linalg.no"]
