"""The book: every notebook runs on the smoke profile, the record builds warning-free and reads offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from gamutlib.book.offline_assets import REMOTE_RESOURCE
from gamutlib.reproduce.layout import discover, discover_pending
from gamutlib.reproduce.runner import reproduce
from gamutlib.reproduce.tables import load_table_file
from notebook_checks import noise, visible_parameter_cells

ROOT = Path(__file__).resolve().parents[1]
PAPERS = discover(ROOT)
PENDING = discover_pending(ROOT)  # written, not yet recorded: smoke-tested all the same
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def toc_files(entry) -> list[str]:
    """Every file a _toc.yml entry (or list of entries) names, depth first."""
    if isinstance(entry, list):
        return [f for item in entry for f in toc_files(item)]
    found = [entry["file"]] if "file" in entry else []
    for key in ("parts", "chapters", "sections"):
        found += toc_files(entry.get(key, []))
    return found


def toc() -> list[str]:
    data = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [data["root"], *toc_files(data)]


def test_toc_and_record_agree():
    listed = toc()
    for name in listed:
        assert (ROOT / f"{name}.md").exists() or (ROOT / f"{name}.ipynb").exists(), f"_toc.yml names missing {name}"
    recorded = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "book").glob("*/*.ipynb"))
    assert recorded, "the record holds no executed notebook"
    missing = [name for name in recorded if name not in listed]
    assert not missing, f"executed notebooks not in _toc.yml: {missing}"


def test_every_recorded_page_has_its_source():
    for executed in (ROOT / "book").glob("*/*.ipynb"):
        meta = yaml.safe_load(executed.read_text())["metadata"]["gamut"]  # JSON is YAML
        assert (ROOT / meta["source"]).exists(), f"{executed} was made from {meta['source']}, which is gone"
        assert meta["profile"] == "gpu" or meta["requested_profile"] == "gpu", f"{executed} is not a gpu-profile record"


def test_recorded_tables_are_well_formed():
    tables = list((ROOT / "book" / "results").glob("*/*.json"))
    assert tables
    for path in tables:
        table = load_table_file(path)
        assert table["rows"] and isinstance(table["protocol"], str)


def test_book_config_builds_from_the_record_without_executing():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    assert "gamutlib.book.offline_assets" in config["sphinx"]["extra_extensions"]
    for url in [config["sphinx"]["config"]["mathjax_path"], *config["sphinx"]["config"]["nb_ipywidgets_js"]]:
        assert not url.startswith(("http:", "https:", "//")), url


@pytest.mark.slow
@pytest.mark.parametrize("paper", [*PAPERS, *(f"pending/{p}" for p in PENDING)])
def test_notebooks_run_on_the_smoke_profile(paper, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MKL_NUM_THREADS", "1")
    name = paper.removeprefix("pending/")
    notebooks = PENDING[name] if paper.startswith("pending/") else PAPERS[paper]
    results = reproduce(ROOT, {name: notebooks}, "smoke", build=tmp_path)
    failures = [r.message for r in results if r.status != "ok"]
    assert not failures, "\n".join(failures)
    for result in results:
        executed = yaml.safe_load(result.notebook.executed_path(tmp_path / "smoke").read_text())
        code = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
        assert all(cell.get("execution_count") for cell in code), f"{result.notebook.label}: a cell did not run"
        assert not any(out.get("output_type") == "error" for cell in code for out in cell.get("outputs", []))
        # what the reader would meet once this notebook is recorded (tests/test_book_record.py checks the record)
        problems = noise(executed, allowed_roots=(str(tmp_path),))
        assert problems == [], f"{result.notebook.label}: " + "\n".join(problems)
        assert len(visible_parameter_cells(executed)) == 1, f"{result.notebook.label}: more than one parameters cell shows"


def jupyter_book(source: Path, output: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(source), "--path-output", str(output),
               "-W", "-n", "--keep-going"]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=source)


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("book")
    result = jupyter_book(ROOT, output)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "WARNING" not in log, log[-4000:]
    return output / "_build" / "html"


@pytest.mark.slow
def test_book_builds_every_page_and_loads_nothing_from_the_network(built_book):
    for name in toc():
        assert (built_book / f"{name}.html").exists(), name
    static = built_book / "_static"
    assert (static / "mathjax" / "tex-chtml.js").exists()
    assert (static / "jupyter-widgets" / "embed-amd.js").exists()
    assert (static / "requirejs" / "require.js").exists()
    assert (static / "gamut.css").exists()  # the tables' padding, alignment and sideways scroll
    for page in built_book.rglob("*.html"):
        remote = REMOTE_RESOURCE.findall(page.read_text())
        assert not remote, f"{page} loads from the network: {remote}"
    intro = (built_book / "book" / "intro" / "01_pipeline.html").read_text()
    assert 'type="application/vnd.jupyter.widget-state+json"' in intro  # the slider's saved state
    assert "_static/mathjax/tex-chtml.js" in intro
    assert "_static/gamut.css" in intro


@pytest.mark.slow
def test_a_page_that_loads_from_a_cdn_fails_the_build(tmp_path):
    source = tmp_path / "src"
    (source / "book").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", source / "_config.yml")
    (source / "_toc.yml").write_text("format: jb-book\nroot: book/index\n")
    (source / "book" / "index.md").write_text('# A page\n\n<script src="https://cdn.example.org/x.js"></script>\n')
    result = jupyter_book(source, tmp_path / "out", env={"GAMUT_BOOK_ASSETS": str(ROOT / "build" / "book-assets")})
    assert result.returncode != 0
    assert "book/index.html loads <script src=\"https://cdn.example.org/x.js\">" in result.stdout + result.stderr


def chromium(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    profile.mkdir()
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--virtual-time-budget=10000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/test.sh installs it as root)")
def test_intro_page_renders_offline_in_headless_chromium(built_book, tmp_path):
    page = (built_book / "book" / "intro" / "01_pipeline.html").as_uri()
    shot = tmp_path / "intro.png"
    chromium(f"--screenshot={shot}", "--window-size=1200,1600", page, tmp_path=tmp_path)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.shape == (1600, 1200)
    assert pixels.std() > 20 and (pixels < 128).mean() > 0.01, "the screenshot is blank"
    dom = chromium("--dump-dom", page, tmp_path=tmp_path).stdout
    assert "<mjx-container" in dom, "MathJax did not typeset the equations"
    assert "widget-slider" in dom, "the widget manager did not draw the saved slider"
