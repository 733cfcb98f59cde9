"""Carry markdown-only edits of a chapter source into its executed record.

    python scripts/sync_markdown.py notebooks/synthesis/01_all_methods.py book/synthesis/01_all_methods.ipynb

A chapter's prose can be corrected after its gpu record without executing it
again: this replaces the executed notebook's markdown cells, in order, with
the source's, and stamps the new source hash (metadata.gamut.source_sha256) so
`gamut reproduce --resume` keeps the record. It refuses (exit 1, nothing
written) unless the source's code cells are exactly the executed ones: a code
change needs a real execution.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jupytext
import nbformat

from gamutlib.atomic import atomic_write_text
from gamutlib.reproduce.execute import source_sha256


def sync(source: Path, executed: Path) -> int:
    src = jupytext.read(source)
    out = nbformat.read(executed, as_version=4)
    kinds = lambda nb, kind: [c for c in nb.cells if c.cell_type == kind]  # noqa: E731
    src_code = kinds(src, "code")
    # papermill adds a cell with the run's parameters after the parameters cell
    out_code = [c for c in kinds(out, "code") if "injected-parameters" not in c.metadata.get("tags", [])]
    if [c.source for c in src_code] != [c.source for c in out_code]:
        changed = [i for i, (a, b) in enumerate(zip(src_code, out_code)) if a.source != b.source]
        sys.exit(f"{source}: code cells differ from {executed} (cells {changed or 'count'}); execute it instead")
    src_md, out_md = kinds(src, "markdown"), kinds(out, "markdown")
    if len(src_md) != len(out_md):
        sys.exit(f"{source}: {len(src_md)} markdown cells, {executed} has {len(out_md)}; execute it instead")
    changed = 0
    for a, b in zip(src_md, out_md):
        if a.source != b.source:
            b.source = a.source
            changed += 1
    out.metadata.setdefault("gamut", {})["source_sha256"] = source_sha256(source)
    atomic_write_text(executed, nbformat.writes(out))
    return changed


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    n = sync(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"{sys.argv[2]}: {n} markdown cell(s) updated, source hash stamped")
