"""The package's layers, checked by import-linter (contracts in pyproject.toml)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

needs_import_linter = pytest.mark.skipif(not LINT_IMPORTS.exists(),
                                         reason="import-linter is not installed (pip install 'gamut[dev]')")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)


@needs_import_linter
def test_the_package_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    for contract in ("Layers", "The engine never imports a model", "Models use the method contract",
                     "The face renderer depends on no data loader", "The method contract imports nothing"):
        assert contract in result.stdout


@needs_import_linter
@pytest.mark.parametrize("module, line, contract", [
    ("gamutlib/training/config.py", "from gamutlib.models import stargan", "The engine never imports a model"),
    ("gamutlib/models/stargan.py", "from gamutlib.training.trainer import Trainer", "Models use the method contract"),
    ("gamutlib/faces/render.py", "from gamutlib.data.images import read_image", "The face renderer depends on no data"),
    ("gamutlib/models/ganmut.py", "from gamutlib.widgets import explorer", "Models use the method contract"),
])
def test_a_forbidden_import_breaks_its_contract(tmp_path, module, line, contract):
    shutil.copytree(ROOT / "gamutlib", tmp_path / "gamutlib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / module
    path.write_text(path.read_text() + f"\n{line}  # the forbidden import under test\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [block for block in result.stdout.split("\n\n") if contract in block and "BROKEN" in block]
    assert broken, result.stdout


def test_the_engine_does_not_import_methods_by_name_either():
    """import-linter sees static imports; an importlib call with a module name would slip past it."""
    for path in sorted((ROOT / "gamutlib" / "training").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
                pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} imports a module by name")


def test_the_cli_starts_without_importing_torch():
    """`gamut --help` stays instant: command modules import their heavy dependencies when they run."""
    code = "import sys, gamutlib.cli; print(sorted(m for m in ('torch', 'gamutlib.models', 'gamutlib.papers') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={"PYTHONPATH": str(ROOT)}, timeout=120)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
