"""The book's MathJax, widget manager and require.js come from the vendored archive: no npm, no network."""

from __future__ import annotations

import shutil
import tarfile

import pytest

from gamutlib.book import offline_assets
from gamutlib.book.offline_assets import ARCHIVE, ARCHIVE_SHA256, ASSETS, ensure_assets, sha256_of

PAGE_FILES = ("mathjax/tex-chtml.js", "jupyter-widgets/embed-amd.js", "requirejs/require.js")


def test_the_archive_is_the_pinned_one():
    assert ARCHIVE.is_file(), ARCHIVE
    assert sha256_of(ARCHIVE) == ARCHIVE_SHA256


def test_the_archive_holds_what_the_pages_load_and_nothing_else(tmp_path):
    with tarfile.open(ARCHIVE, "r:xz") as tar:
        names = tar.getnames()
    for name in PAGE_FILES:
        assert name in names
    assert any(n.startswith("mathjax/output/chtml/fonts/woff-v2/") for n in names)
    assert any(n.startswith("mathjax/input/tex/extensions/") for n in names)  # the autoloader's extensions
    assert any(n.startswith("jupyter-widgets/") and n.endswith(".woff2") for n in names)  # the widgets' icon font
    targets = {asset.target for asset in ASSETS}
    assert {n.split("/")[0] for n in names} == targets


def test_unpacked_without_npm(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no npm, no node
    assert shutil.which("npm") is None
    static = ensure_assets(tmp_path / "cache")
    for name in PAGE_FILES:
        assert (static / name).stat().st_size > 50_000, name
    # a second build reuses the unpacked folder
    (static / "requirejs" / "marker").write_text("kept")
    assert ensure_assets(tmp_path / "cache") == static
    assert (static / "requirejs" / "marker").exists()


def test_a_damaged_archive_is_refused_by_name(tmp_path):
    damaged = tmp_path / "book-assets.tar.xz"
    damaged.write_bytes(ARCHIVE.read_bytes()[:-10])
    with pytest.raises(RuntimeError, match="not the pinned"):
        ensure_assets(tmp_path / "cache", archive=damaged)
    with pytest.raises(RuntimeError, match="missing"):
        ensure_assets(tmp_path / "cache", archive=tmp_path / "absent.tar.xz")


def test_an_archive_member_outside_its_folder_is_refused(tmp_path):
    evil = tmp_path / "evil.tar.xz"
    digest = offline_assets.write_archive([("../outside.js", b"x")], evil)
    with pytest.raises(RuntimeError, match="outside.js"):
        ensure_assets(tmp_path / "cache", archive=evil, pinned=digest)
    assert not (tmp_path / "outside.js").exists()


def test_the_check_before_the_notebooks(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(offline_assets.CACHE_ENV, str(tmp_path / "cache"))
    assert offline_assets.main(["check"]) == 0
    assert (tmp_path / "cache" / "static" / "mathjax" / "tex-chtml.js").exists()
    assert offline_assets.main(["fetch"]) == 2
    assert "usage" in capsys.readouterr().err


def test_sample_grid_strips_show_first_middle_and_last(tmp_path):
    from PIL import Image

    from gamutlib.viz.image_grid import sample_grid_strips

    paths = []
    for step in (100, 200, 300, 400, 500):
        path = tmp_path / f"s{step}.png"
        Image.new("RGB", (40, 20), (step % 256, 0, 0)).save(path)
        paths.append((step, path))
    strips = sample_grid_strips({"a": {"samples": paths}, "b": {"samples": []}, "c": {"samples": paths[:2]}})
    assert [(name, steps) for name, steps, _ in strips] == [("a", [100, 300, 500]), ("c", [100, 200])]
    assert all(jpeg[:2] == b"\xff\xd8" for _, _, jpeg in strips)  # JPEG bytes
