"""notebooks/customer_segmentation.ipynb: committed clean, runs top to bottom on the venv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (dev extra)")
nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (dev extra)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (dev extra)")
pytest.importorskip("vl_convert", reason="the report extra is not installed")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "customer_segmentation.ipynb"
STEPS = ["Load", "Explore", "Scale", "Elbow", "Fit", "Label", "Visualise", "Export"]
KERNEL = "custseg-test-venv"


@pytest.fixture
def venv_kernel(tmp_path, monkeypatch) -> str:
    """A kernelspec that runs this interpreter (the venv's python), found via JUPYTER_PATH."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "custseg test (venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_notebook_explains_each_step_in_order():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    headings = [
        line.lstrip("# ").strip()
        for c in nb.cells
        if c.cell_type == "markdown"
        for line in c.source.splitlines()
        if line.startswith("## ")
    ]
    found = [next((s for s in STEPS if s in h), None) for h in headings]
    assert found == STEPS
    # each step heading is followed by at least a sentence of explanation
    for c in nb.cells:
        if c.cell_type == "markdown" and c.source.startswith("## "):
            assert len(c.source.split("\n", 1)[1].strip()) > 40, c.source


def test_notebook_runs_top_to_bottom(tmp_path, venv_kernel):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name=venv_kernel, timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    out = tmp_path / "custseg-notebook-out"
    for name in ("segments.csv", "summary.json", "model.json", "report.html"):
        assert (out / name).exists(), name
    assert list((out / "charts").glob("*.png"))
    last = nb.cells[-1].outputs
    assert any("Report:" in o.get("text", "") for o in last), last
    # the notebook's own copy stays clean
    assert all(
        c.outputs == []
        for c in nbformat.read(NOTEBOOK, as_version=4).cells
        if c.cell_type == "code"
    )
