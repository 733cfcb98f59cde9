"""Run one notebook source through papermill, all or nothing.

The executed notebook is written to a temporary file under the build folder
and moved into place only when every cell ran, so a failure never leaves a
half-written notebook where the book or the record would pick it up. The
failed copy is kept under build/reproduce/failed/ for reading its traceback.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gamutlib.reproduce.layout import Notebook
from gamutlib.reproduce.figures import shrink_figures
from gamutlib.reproduce.profiles import CELL_TIMEOUT_S, effective_profile
from gamutlib.reproduce.tidy import tidy_parameters

REQUIRED_PARAMETERS = ("profile", "results_dir")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
CELL_MARKER = re.compile(r"^# %%")


class NotebookFailed(RuntimeError):
    """A notebook did not run through; ``str()`` is one line naming notebook and cell."""

    timed_out: bool = False  # a cell passed the profile's CELL_TIMEOUT_S


@dataclass
class Executed:
    """What one successful run produced."""

    notebook: Notebook
    profile: str  # the effective profile the notebook ran under
    output: Path
    seconds: float


def machine_description() -> str:
    """What executed a notebook: architecture, CPU cores and the GPU if any (kept in the record)."""
    import platform

    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{platform.machine()}, {os.cpu_count()} CPU cores, {gpu}, torch {torch.__version__}"


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def source_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_source(root: Path, notebook: Notebook) -> Any:
    """The jupytext notebook, checked for the parameters cell every notebook must start with."""
    import jupytext

    nb = jupytext.read(root / notebook.source)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code_cells or "parameters" not in code_cells[0].metadata.get("tags", []):
        raise NotebookFailed(f'{notebook.source}: the first code cell must be tagged parameters (# %% tags=["parameters"])')
    try:
        tree = ast.parse(code_cells[0].source)
    except SyntaxError as error:
        raise NotebookFailed(f"{notebook.source}: the parameters cell does not parse: {error}") from None
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}
    missing = [name for name in REQUIRED_PARAMETERS if name not in assigned]
    if missing:
        raise NotebookFailed(f"{notebook.source}: the parameters cell must assign {', '.join(missing)}")
    nb.metadata.setdefault("kernelspec", dict(KERNELSPEC))
    return nb


def cell_lines(path: Path) -> list[int]:
    """1-based line of each ``# %%`` cell marker in a py:percent file."""
    return [i for i, line in enumerate(path.read_text().splitlines(), start=1) if CELL_MARKER.match(line)]


def describe_failure(root: Path, notebook: Notebook, nb: Any, error: Exception) -> str:
    """One line: notebook, cell (number and source line), exception."""
    from papermill.exceptions import PapermillExecutionError

    if not isinstance(error, PapermillExecutionError):
        detail = str(error).strip().splitlines()
        return f"{notebook.source}: {type(error).__name__}: {detail[-1] if detail else ''}".rstrip(": ")
    evalue = str(error.evalue).strip().splitlines()
    return f"{notebook.source} {cell_where(root, notebook, nb, error.cell_index)}: {error.ename}: {evalue[0] if evalue else ''}".rstrip(": ")


def cell_where(root: Path, notebook: Notebook, nb: Any, executed_index: int) -> str:
    """'cell N (line L)' of the source for a cell index of the executed notebook."""
    # papermill inserts an injected-parameters cell after the parameters cell
    params_index = next(i for i, cell in enumerate(nb.cells) if "parameters" in cell.metadata.get("tags", []))
    return source_cell_where(root, notebook, nb, executed_index - 1 if executed_index > params_index + 1 else executed_index)


def source_cell_where(root: Path, notebook: Notebook, nb: Any, index: int) -> str:
    """'cell N (line L)' for the index of a cell in the source notebook ``nb``."""
    where = f"cell {index + 1}"
    lines = cell_lines(root / notebook.source)
    if len(lines) == len(nb.cells) and 0 <= index < len(lines):
        where += f" (line {lines[index]})"
    return where


def describe_timeout(root: Path, notebook: Notebook, nb: Any, error: BaseException, seconds: float | None) -> str:
    """One line for a cell past its time limit. nbclient's message quotes the
    start of the cell between dashed lines; the source cell that holds it is named."""
    where = "a cell"
    parts = re.split(r"^-{5,}$", str(error), flags=re.M)
    preview = next((line for line in (parts[1].strip().splitlines() if len(parts) > 2 else []) if line.strip()), "")
    found = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and preview and preview in cell.source]
    if len(found) == 1:
        where = source_cell_where(root, notebook, nb, found[0])
    return f"{notebook.source} {where}: still running after the profile's limit of {seconds:.0f} s (CellTimeoutError)"


def _cell_timeout(error: BaseException) -> BaseException | None:
    """The CellTimeoutError behind ``error``, if a cell ran past its limit."""
    from nbclient.exceptions import CellTimeoutError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, CellTimeoutError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


@contextlib.contextmanager
def kernel_environment() -> Iterator[None]:
    """Kernels inherit os.environ: give them inline figures, whatever the caller's backend."""
    saved = {key: os.environ.get(key) for key in ("MPLBACKEND", "PYDEVD_DISABLE_FILE_VALIDATION")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def execute_notebook(
    root: Path,
    notebook: Notebook,
    profile: str,
    output: Path,
    results_dir: Path,
    scratch: Path,
    failed_dir: Path,
    kernel_name: str = "python3",
) -> Executed:
    """Execute ``notebook`` on ``profile`` into ``output``; raise NotebookFailed with one line otherwise.

    ``results_dir`` reaches the notebook relative to ``root`` (its working
    directory) where it can, so the executed copy reads the same on every machine.
    """
    import nbformat
    import papermill

    nb = read_source(root, notebook)
    try:
        effective = effective_profile(nb.metadata, profile)
    except ValueError as error:
        raise NotebookFailed(f"{notebook.source}: {error}") from None
    try:
        results_param = str(results_dir.resolve().relative_to(root.resolve()))
    except ValueError:
        results_param = str(results_dir.resolve())
    scratch.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f"{notebook.paper}-{notebook.name}.", suffix=".ipynb", dir=scratch)
    os.close(fd)
    tmp = Path(tmp_name)
    start = time.perf_counter()
    try:
        with kernel_environment():
            papermill.execute_notebook(
                nb,
                str(tmp),
                parameters={"profile": effective, "results_dir": results_param},
                kernel_name=kernel_name,
                progress_bar=False,
                cwd=str(root),
                execution_timeout=CELL_TIMEOUT_S.get(effective),
                # keep the kernel's start-up chatter (TCP notice, debugger) out of the progress bar
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        seconds = time.perf_counter() - start
        executed = nbformat.read(tmp, as_version=4)
        executed.metadata["gamut"] = {
            **dict(executed.metadata.get("gamut") or {}),
            "source": notebook.source.as_posix(),
            "source_sha256": source_sha256(root / notebook.source),
            "profile": effective,
            "requested_profile": profile,
            "machine": machine_description(),
        }
        # papermill records where it wrote: name the source and the final place, not the temporary file
        papermill_meta = executed.metadata.get("papermill", {})
        papermill_meta["input_path"] = notebook.source.as_posix()
        papermill_meta["output_path"] = output.relative_to(root).as_posix() if output.is_relative_to(root) else str(output)
        tidy_parameters(executed)  # the book shows one parameters cell, with the run's values
        shrink_figures(executed)  # face figures as JPEG: the record travels with every clone
        nbformat.write(executed, tmp)
        tmp.chmod(0o666 & ~current_umask())  # mkstemp makes 0600; the record is an ordinary file
        output.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, output)
        return Executed(notebook, effective, output, seconds)
    except Exception as error:
        timed_out = _cell_timeout(error) is not None
        if timed_out:
            message = describe_timeout(root, notebook, nb, _cell_timeout(error), CELL_TIMEOUT_S.get(effective))
        else:
            message = describe_failure(root, notebook, nb, error)
        if tmp.exists() and tmp.stat().st_size:
            kept = notebook.executed_path(failed_dir)
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp, kept)
            message += f" [failed copy: {kept.relative_to(root) if kept.is_relative_to(root) else kept}]"
        failed = NotebookFailed(message)
        failed.timed_out = timed_out
        raise failed from error
    finally:
        tmp.unlink(missing_ok=True)
