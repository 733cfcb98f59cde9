"""The `gamut` command line: help, and one clear line for every user error."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.reproduce.layout import discover, find_root

ROOT = Path(__file__).resolve().parents[1]


def run_gamut(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gamutlib.cli", *args], cwd=cwd, capture_output=True, text=True)


def test_help_lists_every_command():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("render", "train", "edit", "evaluate", "reproduce", "bench", "weights"):
        assert command in result.output


def test_reproduce_help_names_profiles_and_options():
    result = CliRunner().invoke(main, ["reproduce", "--help"])
    assert result.exit_code == 0
    for text in ("--profile [smoke|cpu|gpu]", "--only PAPER", "--jobs"):
        assert text in result.output


def test_unknown_paper_is_one_line_listing_the_papers():
    papers = list(discover(ROOT))
    assert "intro" in papers
    result = run_gamut("reproduce", "--only", "nosuchpaper", "--profile", "smoke")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"Error: no paper series 'nosuchpaper'; papers: {', '.join(papers)}"]
    assert result.stdout == ""


@pytest.mark.parametrize("args, message", [
    (["--profile", "fast"], "'fast' is not one of 'smoke', 'cpu', 'gpu'"),
    (["--jobs", "0"], "0 is not in the range x>=1"),
])
def test_bad_options_are_named(args, message):
    result = CliRunner().invoke(main, ["reproduce", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_outside_a_repository_the_error_says_what_is_missing(tmp_path):
    result = CliRunner().invoke(main, ["reproduce", "--root", str(tmp_path), "--profile", "smoke"])
    assert result.exit_code == 1
    assert f"{tmp_path / 'notebooks'} does not exist" in result.output


def test_find_root_walks_up_from_a_subfolder():
    assert find_root(ROOT / "notebooks" / "00_intro") == ROOT


@pytest.mark.slow
def test_a_failing_notebook_exits_non_zero_naming_notebook_and_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")
    notebook = tmp_path / "notebooks" / "demo" / "01_broken.py"
    notebook.parent.mkdir(parents=True)
    notebook.write_text(textwrap.dedent("""\
        # %% tags=["parameters"]
        profile = "smoke"
        results_dir = "book/results"

        # %%
        1 / 0
        """))
    result = run_gamut("reproduce", "--profile", "smoke", cwd=tmp_path)
    assert result.returncode == 1
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failures == [
        "FAILED notebooks/demo/01_broken.py cell 2 (line 5): ZeroDivisionError: division by zero "
        "[failed copy: build/reproduce/failed/smoke/demo/01_broken.ipynb]"
    ]
    assert "demo/01_broken  smoke    failed" in result.stdout
    assert not (tmp_path / "build" / "reproduce" / "smoke" / "demo" / "01_broken.ipynb").exists()
