"""The analyst notebooks in notebooks/ run from top to bottom and show what they explain.

Every ``notebooks/*.ipynb`` is executed with nbclient in the ``python3``
kernel, from the notebook's own folder, on a short horizon: the notebooks'
first code cell reads ``SIM_NOTEBOOK_END`` and passes it as ``end=`` to every
run. ``END`` lies after every event the notebooks discuss (the Japan ban of
2026-01-06, the end of the suspension on 2026-11-10, the first allied plants of
2027), so each section has something to show. A failing cell fails the test
with nbclient's CellExecutionError, which carries the cell and its traceback.

Committed notebooks carry no outputs (small diffs); each has at least one
markdown cell per two code cells and must produce at least one image.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
END = "2027-06-30"
EXPECTED = {"japan_ban", "suspension_expiry", "stockpile_diversification", "sizing_and_sensitivity"}


def test_the_analyst_notebooks_are_there():
    assert EXPECTED <= {path.stem for path in NOTEBOOKS}


@pytest.fixture(params=NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def notebook(request):
    path = request.param
    return path, nbformat.read(path, as_version=4)


def test_notebook_is_committed_clean_and_explained(notebook):
    path, nb = notebook
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    markdown = [cell for cell in nb.cells if cell.cell_type == "markdown"]
    assert code, f"{path.name} has no code"
    assert 2 * len(markdown) >= len(code), f"{path.name}: {len(markdown)} markdown cells for {len(code)} code cells"
    assert "SIM_NOTEBOOK_END" in code[0].source, f"{path.name}: the first code cell must read SIM_NOTEBOOK_END"
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"


def test_notebook_runs_on_a_short_horizon(notebook, monkeypatch):
    path, nb = notebook
    monkeypatch.setenv("SIM_NOTEBOOK_END", END)      # the kernel inherits the environment
    # the python3 kernelspec starts 'python' from PATH: make it this interpreter (a venv need not be activated)
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()                                 # raises CellExecutionError naming the failing cell
    images = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs
              if "image/png" in output.get("data", {})]
    assert images, f"{path.name} produced no plot"
