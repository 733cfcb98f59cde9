"""The papermill path of `gamut reproduce`: layout, profiles, tables, comparison, execution."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest

from gamutlib.reproduce.compare import compare_table, compare_tables
from gamutlib.reproduce.layout import discover, paper_id
from gamutlib.reproduce.profiles import effective_profile
from gamutlib.reproduce.runner import reproduce, summary_table
from gamutlib.reproduce.tables import read_table, write_table

HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
{extra}# ---
"""

PARAMETERS = """
# %% [markdown]
# # A test notebook

# %% tags=["parameters"]
profile = "smoke"
results_dir = "book/results"
"""

WRITES_TABLE = """
# %%
from gamutlib.reproduce import write_table

value = {value}
from pathlib import Path

write_table(results_dir, "{paper}", "numbers", rows=[{{"name": "x", "value": value}}],
            paper_numbers={{"value": 1.0}}, protocol="fixed", seeds=[0],
            tolerance={{"abs": 0.01, "rel": 0.0}})
Path(results_dir, "{paper}", "profile.txt").write_text(profile)
"""

RAISES = """
# %%
x = 1

# %%
raise ValueError("boom at the third cell")

# %%
y = 2
"""


def make_notebook(root: Path, paper_folder: str, name: str, body: str, header_extra: str = "") -> Path:
    path = root / "notebooks" / paper_folder / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(extra=header_extra) + PARAMETERS + textwrap.dedent(body))
    return path


def make_repo(tmp_path: Path) -> Path:
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")
    return tmp_path


# ---- layout and profiles ------------------------------------------------------------


def test_paper_ids_drop_the_ordering_prefix():
    assert paper_id("00_intro") == "intro"
    assert paper_id("ganmut") == "ganmut"
    assert paper_id("__pycache__") is None
    assert paper_id("Bad-Name") is None


def test_discover_orders_papers_and_notebooks(tmp_path):
    root = make_repo(tmp_path)
    make_notebook(root, "01_beta", "02_eval", WRITES_TABLE.format(value=1.0, paper="beta"))
    make_notebook(root, "01_beta", "01_train", "")
    make_notebook(root, "00_alpha", "01_only", "")
    (root / "notebooks" / "00_alpha" / "helper.py").write_text("x = 1\n")  # not NN_name.py: ignored
    papers = discover(root)
    assert list(papers) == ["alpha", "beta"]
    assert [nb.name for nb in papers["beta"]] == ["01_train", "02_eval"]
    assert [nb.name for nb in papers["alpha"]] == ["01_only"]
    assert papers["beta"][0].executed_path(Path("book")) == Path("book/beta/01_train.ipynb")


def test_discover_rejects_two_folders_for_one_paper(tmp_path):
    root = make_repo(tmp_path)
    make_notebook(root, "00_alpha", "01_a", "")
    make_notebook(root, "alpha", "01_b", "")
    with pytest.raises(ValueError, match="name the paper 'alpha'"):
        discover(root)


def test_effective_profile_follows_the_notebook_declaration():
    declared = {"gamut": {"profiles": {"cpu": "smoke"}}}
    assert effective_profile(declared, "cpu") == "smoke"
    assert effective_profile(declared, "gpu") == "gpu"
    assert effective_profile({}, "cpu") == "cpu"
    with pytest.raises(ValueError, match="may only step down"):
        effective_profile({"gamut": {"profiles": {"smoke": "gpu"}}}, "smoke")
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        effective_profile({}, "fast")


# ---- tables and comparison ----------------------------------------------------------


def table(value: float, protocol: str = "p", tolerance: dict | None = None) -> dict:
    result = {"rows": [{"method": "ours", "score": value}], "paper": {}, "protocol": protocol, "seeds": [0]}
    if tolerance is not None:
        result["tolerance"] = tolerance
    return result


def test_write_table_round_trips_and_rejects_nan(tmp_path):
    path = write_table(tmp_path, "demo", "t", rows=[{"a": 1.5}], paper_numbers={"a": 1.4}, protocol="p", seeds=[0, 1])
    assert path == tmp_path / "demo" / "t.json"
    assert read_table(tmp_path, "demo", "t") == {"rows": [{"a": 1.5}], "paper": {"a": 1.4}, "protocol": "p", "seeds": [0, 1]}
    with pytest.raises(ValueError, match="NaN or infinite"):
        write_table(tmp_path, "demo", "t", rows=[{"a": math.nan}], paper_numbers={}, protocol="p", seeds=[0])
    assert json.loads(path.read_text())["rows"] == [{"a": 1.5}]  # the failed write left the old table whole
    assert [p.name for p in (tmp_path / "demo").iterdir()] == ["t.json"]  # and no temporary file
    with pytest.raises(ValueError, match="unknown keys"):
        write_table(tmp_path, "demo", "t", rows=[{"a": 1}], paper_numbers={}, protocol="p", seeds=[0], tolerance={"ab": 1})
    with pytest.raises(ValueError, match="protocol"):
        write_table(tmp_path, "demo", "t", rows=[{"a": 1}], paper_numbers={}, protocol=" ", seeds=[0])


def test_compare_within_and_outside_tolerance():
    tol = {"abs": 0.01, "rel": 0.1}
    assert compare_table("t", table(1.05, tolerance=tol), table(1.0, tolerance=tol)).state == "agrees"  # 0.05 <= 0.11
    outside = compare_table("t", table(1.2, tolerance=tol), table(1.0, tolerance=tol))
    assert (outside.state, outside.agreeing, outside.compared) == ("disagrees", 0, 1)
    assert "1.2 vs record 1.0" in outside.mismatches[0]
    per_column = {"abs": 0.0, "columns": {"score": {"abs": 0.5}}}
    assert compare_table("t", table(1.4, tolerance=per_column), table(1.0, tolerance=per_column)).state == "agrees"


def test_compare_a_matrix_entry_by_entry_within_tolerance():
    tol = {"abs": 0.01, "rel": 0.0}

    def matrix_table(matrix):
        return {"rows": [{"method": "ours", "matrix": matrix}], "protocol": "p", "tolerance": tol}

    record = matrix_table([[0.224, 0.5], [0.031, -0.2]])
    near = compare_table("t", matrix_table([[0.225, 0.5], [0.030, -0.2]]), record)
    assert (near.state, near.agreeing, near.compared) == ("agrees", 4, 4)
    far = compare_table("t", matrix_table([[0.224, 0.5], [0.031, 0.2]]), record)
    assert (far.state, far.agreeing, far.compared) == ("disagrees", 3, 4)
    assert "1 of 4 entries off" in far.mismatches[0] and "0.2 vs record -0.2" in far.mismatches[0]
    # another shape, or words in the list: compared as a whole value
    assert compare_table("t", matrix_table([[0.224, 0.5]]), record).state == "disagrees"
    assert compare_table("t", matrix_table(["a", "b"]), matrix_table(["a", "b"])).state == "agrees"
    assert compare_table("t", matrix_table(["a", "b"]), matrix_table(["a", "c"])).state == "disagrees"


def test_compare_only_the_same_protocol_with_a_tolerance():
    tol = {"abs": 0.01}
    assert compare_table("t", table(5.0, "small", tol), table(1.0, "full", tol)).state == "not compared"
    assert compare_table("t", table(5.0), table(1.0)).state == "not compared"
    assert compare_table("t", table(5.0, tolerance=tol), None).state == "new"
    assert compare_tables({"t": table(5.0, tolerance=tol)}, {"t": table(1.0, tolerance=tol)}, "smoke")[0].reason == "smoke profile"
    extra_row = table(1.0, tolerance=tol)
    extra_row["rows"].append({"method": "other", "score": 2.0})
    assert compare_table("t", extra_row, table(1.0, tolerance=tol)).state == "disagrees"
    renamed = table(1.0, tolerance=tol)
    renamed["rows"][0]["method"] = "theirs"
    assert compare_table("t", renamed, table(1.0, tolerance=tol)).state == "disagrees"


# ---- execution through papermill -------------------------------------------------------


@pytest.fixture
def one_thread_kernels(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MKL_NUM_THREADS", "1")


@pytest.mark.slow
def test_a_raising_notebook_gives_one_line_and_no_half_written_output(tmp_path, one_thread_kernels):
    root = make_repo(tmp_path)
    make_notebook(root, "demo", "01_boom", RAISES)
    make_notebook(root, "demo", "02_after", "")
    results = reproduce(root, discover(root), "smoke")
    failed, skipped = results
    assert failed.status == "failed"
    line = (root / "notebooks/demo/01_boom.py").read_text().splitlines().index("raise ValueError(\"boom at the third cell\")")
    assert failed.message.startswith(f"notebooks/demo/01_boom.py cell 4 (line {line}): ValueError: boom at the third cell")
    assert "\n" not in failed.message
    assert skipped.status == "skipped" and "01_boom failed" in skipped.message
    build = root / "build" / "reproduce"
    assert not (build / "smoke" / "demo" / "01_boom.ipynb").exists()
    assert not any((build / ".partial").iterdir())
    assert (build / "failed" / "smoke" / "demo" / "01_boom.ipynb").exists()  # kept aside for its traceback
    assert "failed" in summary_table(results).splitlines()[2]


SLEEPS = """
# %%
import time
from pathlib import Path

runs = Path("runs.txt")
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
if len(runs.read_text()) <= {sleepy_runs}:
    time.sleep(60)
"""


@pytest.mark.slow
@pytest.mark.parametrize("sleepy_runs", [1, 2])
def test_a_cell_past_its_time_limit_gets_one_more_kernel(tmp_path, one_thread_kernels, monkeypatch, sleepy_runs):
    # A kernel that stops answering must fail its notebook, not hang the run:
    # a cell past the profile's limit fails, and the notebook gets one more try.
    from gamutlib.reproduce.profiles import CELL_TIMEOUT_S

    monkeypatch.setitem(CELL_TIMEOUT_S, "smoke", 3.0)
    root = make_repo(tmp_path)
    make_notebook(root, "demo", "01_sleepy", SLEEPS.format(sleepy_runs=sleepy_runs))
    (result,) = reproduce(root, discover(root), "smoke")
    assert (root / "runs.txt").read_text() == "xx"  # two kernels ran it
    if sleepy_runs == 1:
        assert result.status == "ok"
        assert result.message.startswith("ran on its second try; the first timed out: notebooks/demo/01_sleepy.py")
    else:
        assert result.status == "failed"
        assert result.message.startswith("notebooks/demo/01_sleepy.py cell 3 (line ")
        assert "still running after the profile's limit of 3 s" in result.message
        assert result.message.endswith("(on both tries)")


@pytest.mark.slow
def test_a_notebook_without_parameters_cell_is_named(tmp_path, one_thread_kernels):
    root = make_repo(tmp_path)
    path = root / "notebooks" / "demo" / "01_plain.py"
    path.parent.mkdir(parents=True)
    path.write_text(HEADER.format(extra="") + "\n# %%\nprofile = 'smoke'\nresults_dir = 'x'\n")
    (result,) = reproduce(root, discover(root), "smoke")
    assert result.status == "failed"
    assert result.message == 'notebooks/demo/01_plain.py: the first code cell must be tagged parameters (# %% tags=["parameters"])'


@pytest.mark.slow
def test_record_then_compare_then_disagree(tmp_path, one_thread_kernels):
    root = make_repo(tmp_path)
    source = make_notebook(root, "demo", "01_eval", WRITES_TABLE.format(value=1.0, paper="demo"),
                           header_extra="#   gamut:\n#     profiles:\n#       cpu: smoke\n")
    make_notebook(root, "other", "01_eval", WRITES_TABLE.format(value=2.0, paper="other"))

    # the gpu profile writes the record: executed notebooks under book/, tables under book/results
    recorded = reproduce(root, discover(root), "gpu", jobs=2)
    assert [r.status for r in recorded] == ["ok", "ok"]
    executed = json.loads((root / "book" / "demo" / "01_eval.ipynb").read_text())
    assert executed["metadata"]["gamut"]["profile"] == "gpu"
    assert any("injected-parameters" in c["metadata"].get("tags", []) for c in executed["cells"])
    assert (root / "book" / "results" / "demo" / "profile.txt").read_text() == "gpu"

    # --resume keeps what was made from the same source; an edited source runs again
    resumed = reproduce(root, discover(root), "gpu", resume=True)
    assert [r.status for r in resumed] == ["kept", "kept"]
    source.write_text(source.read_text() + "\n# %%\nz = 3\n")
    resumed = reproduce(root, discover(root), "gpu", resume=True)
    assert [r.status for r in resumed] == ["ok", "kept"]

    # cpu: demo declares it runs its smoke settings there (never compared); other is compared and agrees
    checked = reproduce(root, discover(root), "cpu")
    assert [(r.profile_label, r.status, r.agreement) for r in checked] == [
        ("cpu->smoke", "ok", "smoke profile"),
        ("cpu", "ok", "1/1"),
    ]
    cpu_results = root / "build" / "reproduce" / "cpu" / "results"
    assert (cpu_results / "demo" / "profile.txt").read_text() == "smoke"
    assert (root / "build" / "reproduce" / "cpu" / "other" / "01_eval.ipynb").exists()

    # a number outside the tolerance fails the run and names the table
    record = root / "book" / "results" / "other" / "numbers.json"
    data = json.loads(record.read_text())
    data["rows"][0]["value"] = 2.5
    record.write_text(json.dumps(data))
    (disagreeing,) = reproduce(root, {"other": discover(root)["other"]}, "cpu")
    assert disagreeing.status == "disagrees"
    assert "other/numbers: 1 mismatch(es), first: row 0 value: 2.0 vs record 2.5" in disagreeing.message
    assert source.exists()
