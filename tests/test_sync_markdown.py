"""scripts/sync_markdown.py: prose edits reach an executed record; code edits are refused."""

import importlib.util
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("sync_markdown", ROOT / "scripts" / "sync_markdown.py")
sync_markdown = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync_markdown)

SOURCE = '''# %% tags=["parameters"]
profile = "smoke"

# %% [markdown]
# The first reading.

# %%
x = 1
'''


def executed_from(source: Path, path: Path) -> None:
    nb = jupytext.read(source)
    injected = nbformat.v4.new_code_cell('profile = "gpu"', metadata={"tags": ["injected-parameters"]})
    nb.cells.insert(1, injected)
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    nb.metadata["gamut"] = {"source_sha256": "old", "profile": "gpu"}
    nbformat.write(nb, path)


def test_markdown_edits_reach_the_record_and_code_edits_do_not(tmp_path):
    source, executed = tmp_path / "chapter.py", tmp_path / "chapter.ipynb"
    source.write_text(SOURCE)
    executed_from(source, executed)
    source.write_text(SOURCE.replace("The first reading.", "The corrected reading."))
    assert sync_markdown.sync(source, executed) == 1
    out = nbformat.read(executed, as_version=4)
    assert [c.source for c in out.cells if c.cell_type == "markdown"] == ["The corrected reading."]
    assert out.cells[-1].outputs[0]["text"] == "1\n"  # outputs kept
    assert out.metadata["gamut"]["source_sha256"] == sync_markdown.source_sha256(source)
    assert out.metadata["gamut"]["profile"] == "gpu"
    before = executed.read_bytes()
    source.write_text(SOURCE.replace("x = 1", "x = 2"))
    with pytest.raises(SystemExit, match="code cells differ"):
        sync_markdown.sync(source, executed)
    assert executed.read_bytes() == before  # nothing written
