"""`gamut reproduce`: every notebook of the chosen papers, in order, then a summary.

Notebooks of one paper run in NN order (a series trains before it
evaluates); ``jobs`` > 1 runs that many papers side by side, each notebook in
its own kernel. The gpu profile writes the record (book/<paper>/*.ipynb and
book/results); every other profile writes under build/reproduce/<profile>/.
Either way each notebook's tables are checked against the record as it was
before the run began.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from gamutlib.reproduce.compare import Comparison, compare_tables
from gamutlib.reproduce.execute import NotebookFailed, execute_notebook, source_sha256
from gamutlib.reproduce.layout import RECORD_RESULTS, Notebook
from gamutlib.reproduce.profiles import RECORD_PROFILE
from gamutlib.reproduce.tables import load_table_file


@dataclass(frozen=True)
class Destinations:
    """Where one profile's run writes."""

    notebooks: Path  # executed notebooks: <notebooks>/<paper>/NN_name.ipynb
    results: Path  # tables: <results>/<paper>/<table>.json
    record: Path  # the committed record the tables are checked against
    scratch: Path  # temporary files, moved into place on success
    failed: Path  # executed copies of failed notebooks

    @classmethod
    def for_profile(cls, root: Path, profile: str, build: Path | None = None) -> "Destinations":
        build = build or root / "build" / "reproduce"
        scratch = build / ".partial"
        if profile == RECORD_PROFILE:
            notebooks, results = root / "book", root / RECORD_RESULTS
            scratch = root / "build" / "reproduce" / ".partial"  # same file system as book/: the move is atomic
        else:
            notebooks = build / profile
            results = notebooks / "results"
        return cls(notebooks, results, root / RECORD_RESULTS, scratch, build / "failed" / profile)


@dataclass
class NotebookResult:
    notebook: Notebook
    requested: str
    profile: str = ""
    status: str = "skipped"  # ok | failed | disagrees | skipped | kept
    seconds: float = 0.0
    message: str = ""
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def profile_label(self) -> str:
        if not self.profile or self.profile == self.requested:
            return self.requested
        return f"{self.requested}->{self.profile}"

    @property
    def agreement(self) -> str:
        """'agreeing/compared' numbers, or why nothing was compared."""
        compared = [c for c in self.comparisons if c.state in ("agrees", "disagrees")]
        if compared:
            return f"{sum(c.agreeing for c in compared)}/{sum(c.compared for c in compared)}"
        reasons = sorted({c.reason if c.state == "not compared" else c.state for c in self.comparisons})
        if not reasons:
            return "-" if self.status != "ok" else "no tables"
        return "; ".join(reasons)


def _table_state(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.stem: (p.stat().st_mtime_ns, p.stat().st_size) for p in folder.glob("*.json")} if folder.is_dir() else {}


def current_output(root: Path, notebook: Notebook, profile: str, output: Path) -> str | None:
    """The profile an existing executed copy ran under, if it was made from today's source for ``profile``."""
    import nbformat

    if not output.exists():
        return None
    meta = nbformat.read(output, as_version=4).metadata.get("gamut") or {}
    fresh = meta.get("source_sha256") == source_sha256(root / notebook.source)
    return meta.get("profile") if fresh and meta.get("requested_profile") == profile else None


def run_one(
    root: Path,
    notebook: Notebook,
    profile: str,
    where: Destinations,
    record: dict[str, dict[str, Any]],
    resume: bool = False,
) -> NotebookResult:
    """Execute one notebook and check the tables it wrote; never raises for a notebook's own failure."""
    result = NotebookResult(notebook, profile)
    if resume:
        kept = current_output(root, notebook, profile, notebook.executed_path(where.notebooks))
        if kept:
            result.status, result.profile, result.message = "kept", kept, "output is current (--resume)"
            return result
    tables_dir = where.results / notebook.paper
    before = _table_state(tables_dir)
    first_timeout = ""
    for attempt in (1, 2):
        try:
            executed = execute_notebook(
                root,
                notebook,
                profile,
                output=notebook.executed_path(where.notebooks),
                results_dir=where.results,
                scratch=where.scratch,
                failed_dir=where.failed,
            )
            break
        except NotebookFailed as error:
            # A cell past its time limit is most often a kernel that stopped answering
            # (seen rarely on 2-core machines): one fresh kernel gets one more try.
            if error.timed_out and attempt == 1:
                first_timeout = str(error)
                continue
            again = "" if not first_timeout else (" (on both tries)" if str(error) == first_timeout
                                                  else f" (second try; the first: {first_timeout})")
            result.status, result.message = "failed", str(error) + again
            return result
    result.profile, result.seconds = executed.profile, executed.seconds
    after = _table_state(tables_dir)
    try:
        written = {name: load_table_file(tables_dir / f"{name}.json") for name in after if after[name] != before.get(name)}
    except ValueError as error:  # a table that is not a results table fails its notebook
        result.status, result.message = "failed", f"{notebook.source}: {error}"
        return result
    result.comparisons = compare_tables(written, record, executed.profile)
    disagreeing = [c for c in result.comparisons if c.state == "disagrees"]
    if disagreeing:
        result.status = "disagrees"
        result.message = "; ".join(
            f"{notebook.paper}/{c.table}: {len(c.mismatches)} mismatch(es), first: {c.mismatches[0]}" for c in disagreeing
        )
    else:
        result.status = "ok"
        if first_timeout:
            result.message = f"ran on its second try; the first timed out: {first_timeout}"
    return result


def reproduce(
    root: Path,
    papers: dict[str, list[Notebook]],
    profile: str,
    jobs: int = 1,
    on_result: Callable[[NotebookResult], None] | None = None,
    on_start: Callable[[Notebook], None] | None = None,
    build: Path | None = None,
    resume: bool = False,
) -> list[NotebookResult]:
    """Run ``papers`` on ``profile``; results come back in book order.

    ``build`` replaces build/reproduce (the gpu profile still writes the record under root/book).
    ``resume`` keeps executed notebooks made from the same source on the same profile.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    where = Destinations.for_profile(root, profile, build)
    records = {}
    for paper in papers:
        folder = where.record / paper
        records[paper] = {p.stem: load_table_file(p) for p in sorted(folder.glob("*.json"))} if folder.is_dir() else {}
        if profile != RECORD_PROFILE and not resume:
            # a build folder holds one run: tables of an earlier run must not pass as this one's
            shutil.rmtree(where.results / paper, ignore_errors=True)
    results: dict[Notebook, NotebookResult] = {}
    queues = {paper: deque(notebooks) for paper, notebooks in papers.items()}

    def finish(result: NotebookResult) -> None:
        results[result.notebook] = result
        if on_result:
            on_result(result)
        if result.status == "failed":  # later notebooks of the series depend on this one
            for rest in queues[result.notebook.paper]:
                skipped = NotebookResult(rest, profile, message=f"skipped: {result.notebook.label} failed")
                results[rest] = skipped
                if on_result:
                    on_result(skipped)
            queues[result.notebook.paper].clear()

    if jobs == 1:
        for paper, queue in queues.items():
            while queue:
                notebook = queue.popleft()
                if on_start:
                    on_start(notebook)
                finish(run_one(root, notebook, profile, where, records[paper], resume))
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            running: dict[Future, str] = {}

            def submit(paper: str) -> None:
                if queues[paper]:
                    notebook = queues[paper].popleft()
                    if on_start:
                        on_start(notebook)
                    running[pool.submit(run_one, root, notebook, profile, where, records[paper], resume)] = paper

            for paper in list(queues)[:jobs]:
                submit(paper)
            waiting = deque(list(queues)[jobs:])
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    paper = running.pop(future)
                    finish(future.result())
                    if queues[paper]:
                        submit(paper)
                    elif waiting:
                        submit(waiting.popleft())
    return [results[nb] for notebooks in papers.values() for nb in notebooks]


def summary_table(results: list[NotebookResult]) -> str:
    """Plain-text table: notebook, profile, status, seconds, numbers agreeing with the record."""
    header = ("notebook", "profile", "status", "seconds", "agree with record")
    rows = [
        (r.notebook.label, r.profile_label, r.status, f"{r.seconds:.1f}" if r.status not in ("skipped", "kept") else "-", r.agreement)
        for r in results
    ]
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header))]
    line = lambda row: "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])
