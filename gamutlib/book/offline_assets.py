"""Sphinx extension: serve MathJax and the Jupyter widgets HTML manager from the build.

The rendered book must read without a network, so neither the equations'
MathJax nor the scripts that draw saved widget views may come from a CDN.
They are npm packages (the widget manager ships in no Python package), so the files
the pages load are vendored: ``vendor/book-assets.tar.xz`` (1.1 MB; 5.9
MB unpacked) holds them, taken from the pinned npm tarballs listed in
``ASSETS``. At build time the archive is checked against its pinned sha256 and
unpacked once into a cache folder (not committed) added to
``html_static_path``; no npm and no network are needed. ``_config.yml`` points
``mathjax_path`` and myst-nb's ``nb_ipywidgets_js`` at those files. After the
build every page is scanned: a script or stylesheet loaded from http(s) is a
build warning (so ``-W`` fails the build).

``python -m gamutlib.book.offline_assets check`` does the unpacking and checking
alone (scripts/reproduce.sh runs it before any notebook).

To move to other versions (maintainers only; needs npm and a network), change
``ASSETS`` and run ``python -m gamutlib.book.offline_assets vendor``: it
fetches each tarball with ``npm pack``, checks it against its pinned sha512,
rewrites the archive and prints the sha256 to pin in ``ARCHIVE_SHA256``.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

CACHE_ENV = "GAMUT_BOOK_ASSETS"
ARCHIVE = Path(__file__).with_name("vendor") / "book-assets.tar.xz"
ARCHIVE_SHA256 = "27bdebfab7d692437dc384f01a0cd5bcfb202f7de3a3bdbded1428e64d98a0e3"


@dataclass(frozen=True)
class NpmAsset:
    """Files taken from one pinned npm tarball into _static/<target>/."""

    package: str
    version: str
    integrity: str  # the registry's sha512, so a changed tarball cannot slip in
    members: tuple[str, ...]  # glob patterns inside the tarball's package/ folder
    strip: str  # prefix removed from member paths
    target: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def tarball_name(self) -> str:
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


ASSETS = (
    NpmAsset(
        "mathjax",
        "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        # The combined TeX component, its fonts, and the TeX extensions its
        # autoloader fetches when a page uses a macro outside the component.
        # Left out: the speech-rule engine (4 MB), loaded only when a reader
        # turns on the menu's speech options.
        ("es5/tex-chtml.js", "es5/output/chtml/fonts/woff-v2/*", "es5/input/tex/extensions/*", "LICENSE", "package.json"),
        "es5/",
        "mathjax",
    ),
    NpmAsset(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        # The icon font only as woff2: every browser that runs the manager reads
        # it, and the @font-face rules list woff2 before the older formats.
        ("dist/embed-amd.js", "dist/*.woff2", "package.json"),
        "dist/",
        "jupyter-widgets",
    ),
    NpmAsset(
        "requirejs",
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        ("require.js", "package.json"),
        "",
        "requirejs",
    ),
)

REMOTE_RESOURCE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["'](https?:)?//[^"']*["'][^>]*>""", re.I)


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unpack_archive(archive: Path, static: Path) -> None:
    """Unpack the vendored archive into ``static`` (every member a plain file inside it)."""
    shutil.rmtree(static, ignore_errors=True)
    static.mkdir(parents=True)
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar.getmembers():
            destination = (static / member.name).resolve()
            if not member.isfile() or not destination.is_relative_to(static.resolve()):
                raise RuntimeError(f"{archive.name}: member {member.name} is not a plain file inside the archive's folders")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)


def ensure_assets(cache: Path, archive: Path = ARCHIVE, pinned: str | None = None) -> Path:
    """Check and unpack (once) the vendored assets; return the folder to add to html_static_path."""
    pinned = ARCHIVE_SHA256 if pinned is None else pinned
    if not archive.is_file():
        raise RuntimeError(f"the vendored assets {archive} are missing (a partial checkout?)")
    digest = sha256_of(archive)
    if digest != pinned:
        raise RuntimeError(f"{archive} has sha256 {digest}, not the pinned {pinned}: the archive changed or is damaged")
    static = cache / "static"
    stamp = cache / "assets.json"
    wanted = {"archive_sha256": digest}
    if stamp.exists() and static.is_dir() and json.loads(stamp.read_text()) == wanted:
        return static
    unpack_archive(archive, static)
    stamp.write_text(json.dumps(wanted, indent=1))
    return static


def cache_folder(app: Sphinx) -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path(app.srcdir) / "build" / "book-assets")


def add_static_assets(app: Sphinx, config) -> None:
    try:
        static = ensure_assets(cache_folder(app))
    except RuntimeError as error:
        from sphinx.errors import ExtensionError

        raise ExtensionError(f"offline book assets: {error}") from None
    config.html_static_path = [*config.html_static_path, str(static)]


def check_offline(app: Sphinx, exception: Exception | None) -> None:
    """Every page loads its scripts and stylesheets from the build, none from the network."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in sorted(out.rglob("*.html")):
        for match in REMOTE_RESOURCE.finditer(page.read_text(errors="replace")):
            logger.warning("%s loads %s from the network", page.relative_to(out), match.group(0)[:160])


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", add_static_assets)
    app.connect("build-finished", check_offline)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


# --- maintainers: rebuild the vendored archive from npm -------------------------------------


def fetch_tarball(asset: NpmAsset, folder: Path) -> Path:
    """The asset's tarball fetched with ``npm pack`` into ``folder``, checked against its pin."""
    tarball = folder / asset.tarball_name
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed to fetch {asset.spec} (only when changing the vendored versions)")
        done = subprocess.run([npm, "pack", asset.spec, "--pack-destination", str(folder), "--silent"],
                              capture_output=True, text=True)
        if done.returncode != 0 or not tarball.exists():
            raise RuntimeError(f"npm pack {asset.spec} failed: {done.stderr.strip()[-500:]}")
    if integrity_of(tarball) != asset.integrity:
        tarball.unlink()
        raise RuntimeError(f"{asset.spec}: tarball does not match its pinned sha512; removed it")
    return tarball


def selected_members(asset: NpmAsset, tarball: Path) -> list[tuple[str, bytes]]:
    """(path under the asset's target, bytes) of every file the asset takes from its tarball."""
    chosen = []
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if member.isfile() and any(fnmatch.fnmatch(name, p) for p in asset.members):
                with archive.extractfile(member) as source:
                    chosen.append((f"{asset.target}/{name.removeprefix(asset.strip)}", source.read()))
    if not chosen:
        raise RuntimeError(f"{asset.spec}: none of {asset.members} is in its tarball")
    return chosen


def write_archive(files: list[tuple[str, bytes]], archive: Path) -> str:
    """A reproducible .tar.xz (sorted names, zero times and owners); returns its sha256."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.write_bytes(lzma.compress(raw.getvalue(), preset=9 | lzma.PRESET_EXTREME))
    return sha256_of(archive)


def vendor(workdir: Path) -> str:
    workdir.mkdir(parents=True, exist_ok=True)
    files = [f for asset in ASSETS for f in selected_members(asset, fetch_tarball(asset, workdir))]
    return write_archive(files, ARCHIVE)


def main(argv: list[str]) -> int:
    """``check``: unpack and check the assets as the build will (scripts/reproduce.sh runs it before any
    notebook, so a damaged checkout fails in seconds); ``vendor``: rebuild the archive from npm."""
    if argv == ["check"]:
        try:
            static = ensure_assets(Path(os.environ.get(CACHE_ENV) or Path("build") / "book-assets"))
        except RuntimeError as error:
            print(f"offline book assets: {error}", file=sys.stderr)
            return 1
        print(f"offline book assets: ok ({static})")
        return 0
    if argv == ["vendor"]:
        digest = vendor(Path("build") / "npm-tarballs")
        print(f"wrote {ARCHIVE} ({ARCHIVE.stat().st_size} bytes); pin ARCHIVE_SHA256 = {digest!r}")
        return 0
    print("usage: python -m gamutlib.book.offline_assets check|vendor", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
