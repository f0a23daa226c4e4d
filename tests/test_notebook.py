"""docs/notebooks/explore.ipynb runs from top to bottom without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "explore.ipynb"


@pytest.mark.slow
def test_explore_notebook_runs(tmp_path: Path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    pytest.importorskip("pandas")
    from humanfactors.corpus import corpus_path

    if not corpus_path("train").is_file():
        pytest.skip("the bundled corpus is not built (python tools/build_corpus.py writes it)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 6  # every plot cell displayed its figure
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "reports in the store" in text and "Fisher's exact test" in text
