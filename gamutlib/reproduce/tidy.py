"""The executed notebook as the book shows it: one parameters cell.

papermill keeps the notebook's own parameters cell (the defaults, e.g.
``profile = "smoke"``) and adds an ``injected-parameters`` cell after it with
the run's values, so every chapter would show two parameter cells, the first
of them wrong about the run. ``tidy_parameters`` tags the defaults cell
``remove-cell`` (Jupyter Book leaves it out) and rewrites the injected cell to
list every parameter the run had: the injected value where there was one,
the default otherwise, each with the comment of its line in the defaults cell.
Outputs are never touched (both cells have none).
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Any

HIDDEN_TAG = "remove-cell"
HEADER = "# Parameters of this run"


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _assignments(source: str) -> list[tuple[str, str, str]] | None:
    """(name, value source, line comment) of each ``name = value`` statement; None if the cell holds anything else."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    comments: dict[int, str] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
    except tokenize.TokenError:
        return None
    found = []
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            return None
        found.append((node.targets[0].id, ast.get_source_segment(source, node.value), comments.get(node.end_lineno, "")))
    return found


def tidy_parameters(nb: Any) -> bool:
    """Leave one visible parameters cell in an executed notebook (see the module); True if it changed.

    A defaults cell that holds more than plain assignments stays visible: its
    other statements ran, and hiding them would hide what the chapter did.
    """
    cells = nb["cells"]
    defaults = next((c for c in cells if c["cell_type"] == "code" and "parameters" in _tags(c)), None)
    injected = next((c for c in cells if c["cell_type"] == "code" and "injected-parameters" in _tags(c)), None)
    if defaults is None or injected is None:
        return False
    default_lines = _assignments(defaults["source"])
    injected_lines = _assignments(injected["source"])
    if default_lines is None or injected_lines is None:
        return False
    passed = {name: value for name, value, _ in injected_lines}
    lines = [HEADER]
    for name, value, comment in default_lines:
        lines.append(f"{name} = {passed.pop(name, value)}" + (f"  {comment}" if comment else ""))
    lines += [f"{name} = {value}" for name, value in passed.items()]  # papermill may pass names without a default
    source = "\n".join(lines)
    changed = source != injected["source"] or HIDDEN_TAG not in _tags(defaults)
    injected["source"] = source
    if HIDDEN_TAG not in _tags(defaults):
        defaults.setdefault("metadata", {})["tags"] = [*_tags(defaults), HIDDEN_TAG]
    return changed
