"""Sphinx extension: serve MathJax and the Jupyter widgets HTML manager from the build.

The rendered book must read without a network, so neither the equations'
MathJax nor the scripts that draw saved widget views may come from a CDN.
They are npm packages: at build time each pinned tarball is fetched once with
``npm pack`` into a cache folder (not committed), checked against its pinned
sha512, and the files the page needs are unpacked into a folder added to
``html_static_path``. ``_config.yml`` points ``mathjax_path`` and myst-nb's
``nb_ipywidgets_js`` at those files. After the build every page is scanned:
a script or stylesheet loaded from http(s) is a build warning (so ``-W``
fails the build).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

CACHE_ENV = "GAMUT_BOOK_ASSETS"


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
        ("es5/*",),
        "es5/",
        "mathjax",
    ),
    NpmAsset(
        "@jupyter-widgets/html-manager",
        "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        ("dist/embed-amd.js", "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot", "dist/*.svg"),
        "dist/",
        "jupyter-widgets",
    ),
    NpmAsset(
        "requirejs",
        "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        ("require.js",),
        "",
        "requirejs",
    ),
)

REMOTE_RESOURCE = re.compile(r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["'](https?:)?//[^"']*["'][^>]*>""", re.I)


def integrity_of(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch_tarball(asset: NpmAsset, cache: Path) -> Path:
    """The asset's tarball in the cache, fetched with npm pack when absent; checked against its pin."""
    tarballs = cache / "tarballs"
    tarball = tarballs / asset.tarball_name
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(f"npm is needed once to fetch {asset.spec} for the offline book (install Node.js)")
        tarballs.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", asset.spec, "--pack-destination", str(tarballs), "--silent"],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not tarball.exists():
            raise RuntimeError(f"npm pack {asset.spec} failed: {done.stderr.strip()[-500:]}")
    if integrity_of(tarball) != asset.integrity:
        tarball.unlink()
        raise RuntimeError(f"{asset.spec}: tarball does not match its pinned sha512; removed it, run the build again")
    return tarball


def unpack(asset: NpmAsset, tarball: Path, static: Path) -> None:
    target = static / asset.target
    shutil.rmtree(target, ignore_errors=True)
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            name = member.name.removeprefix("package/")
            if not member.isfile() or not any(fnmatch.fnmatch(name, p) for p in asset.members):
                continue
            relative = name.removeprefix(asset.strip)
            destination = (target / relative).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise RuntimeError(f"{asset.spec}: member {member.name} escapes its folder")
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.extractfile(member) as source, open(destination, "wb") as out:
                shutil.copyfileobj(source, out)


def ensure_assets(cache: Path) -> Path:
    """Fetch (once) and unpack every asset; return the folder to add to html_static_path."""
    static = cache / "static"
    stamp = static / "assets.json"
    wanted = {asset.target: asset.spec for asset in ASSETS}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return static
    for asset in ASSETS:
        unpack(asset, fetch_tarball(asset, cache), static)
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
