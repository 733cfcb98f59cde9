"""What a reader of the book must never meet in an executed notebook.

Used on the record (tests/test_book_record.py) and on every smoke run
(tests/test_book.py). Each check returns a list of problems, one line each,
naming the cell.
"""

from __future__ import annotations

import ast
import re
from typing import Any

# Calls that put a table or figure into the output: the record's show_table,
# IPython's display, plt.show / fig.show and the chapters' own ``show`` helpers.
SHOWING_CALLS = {"show_table", "display", "show"}
# A stderr line that is a Python warning: "...: UserWarning: ..." or the source line warn(...)
WARNING = re.compile(r"Warning\b|\bwarn\(")
# An absolute path of the machine that ran the notebook (POSIX from the root, or a drive letter).
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/(?:[\w.+-]+/)+[\w.+-]+|\b[A-Za-z]:\\[\w.\\-]+")
# A cell whose chapter explains its stderr in the text carries this tag.
EXPLAINED_TAG = "stderr-explained"
HIDDEN_TAGS = {"remove-cell", "remove-output"}


def tags(cell: Any) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def code_cells(nb: Any) -> list[tuple[int, Any]]:
    return [(i, cell) for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"]


def source_of(cell: Any) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def showing_calls(source: str) -> set[str]:
    """Names of the showing calls a cell makes when it runs (not those inside functions it only defines)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name in SHOWING_CALLS:
                found.add(name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def text_of(output: Any) -> str:
    if output.get("output_type") == "stream":
        text = output.get("text", "")
        return "".join(text) if isinstance(text, list) else text
    if output.get("output_type") == "error":
        return "\n".join([output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])])
    plain = output.get("data", {}).get("text/plain", "")
    return "".join(plain) if isinstance(plain, list) else plain


def missing_outputs(nb: Any) -> list[str]:
    """Cells that show a table or figure but have no output (a table left as a discarded value)."""
    problems = []
    for index, cell in code_cells(nb):
        if tags(cell) & HIDDEN_TAGS:
            continue
        calls = showing_calls(source_of(cell))
        if not calls:
            continue
        outputs = cell.get("outputs", [])
        shown = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")]
        first_line = source_of(cell).strip().splitlines()[0][:80]
        if not shown:
            problems.append(f"cell {index} calls {sorted(calls)} but shows nothing: {first_line}")
        elif "show_table" in calls and not any('class="gamut-table"' in "".join(o.get("data", {}).get("text/html", ""))
                                               for o in shown):
            problems.append(f"cell {index} calls show_table but shows no table: {first_line}")
    return problems


def noise(nb: Any, allowed_roots: tuple[str, ...] = ()) -> list[str]:
    """Anything on stderr (warnings above all) and absolute paths in any output, unless the cell is tagged as explained.

    ``allowed_roots``: folders a test chose for the run (its results_dir under a temporary folder); the record's is
    the relative book/results, so a path inside them is no machine path a reader would meet."""
    problems = []
    for index, cell in code_cells(nb):
        if EXPLAINED_TAG in tags(cell) or "remove-output" in tags(cell) or "remove-cell" in tags(cell):
            continue
        for output in cell.get("outputs", []):
            text = text_of(output)
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                # a warning above all, but any stderr (a font fallback, a progress bar) is noise on the page
                kind = "a warning" if WARNING.search(text) else "to stderr"
                problems.append(f"cell {index} prints {kind}: {text.strip().splitlines()[0][:160] if text.strip() else repr(text)}")
            for root in allowed_roots:
                text = text.replace(root, "results_dir")
            path = ABSOLUTE_PATH.search(text)
            if path:
                problems.append(f"cell {index} prints the absolute path {path.group(0)}")
    return problems


def visible_parameter_cells(nb: Any) -> list[int]:
    """Indices of the parameters cells (the defaults and papermill's injected one) the book shows."""
    return [index for index, cell in code_cells(nb)
            if tags(cell) & {"parameters", "injected-parameters"} and not tags(cell) & {"remove-cell", "remove-input"}]
