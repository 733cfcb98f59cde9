"""`gamut reproduce`: re-run the study's notebooks and check them against the record."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from gamutlib.reproduce.profiles import PROFILES


@click.command()
@click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default=None,
    help="gpu: everything, training included, and write the record under book/; "
    "cpu: what the shipped weights allow; smoke: the smallest run (CI). "
    "Default: gpu where CUDA is available, cpu otherwise.",
)
@click.option("--only", "only", multiple=True, metavar="PAPER", help="Run only this paper series (repeatable).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Papers run side by side.")
@click.option("--resume", is_flag=True, help="Keep executed notebooks already made from the same source and profile.")
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Repository root (default: the one around the current folder).",
)
def reproduce(profile: str | None, only: tuple[str, ...], jobs: int, resume: bool, root: Path | None) -> None:
    """Run notebooks/<paper>/NN_*.py through papermill and compare their tables with book/results."""
    from tqdm import tqdm

    from gamutlib.reproduce.layout import discover, find_root
    from gamutlib.reproduce.profiles import default_profile
    from gamutlib.reproduce.runner import Destinations, reproduce as run, summary_table

    try:
        root = (root.resolve() if root else find_root())
        papers = discover(root)
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    unknown = [paper for paper in only if paper not in papers]
    if unknown:
        raise click.ClickException(
            f"no paper series {', '.join(map(repr, unknown))}; papers: {', '.join(papers) or '(none)'}"
        )
    if only:
        papers = {paper: papers[paper] for paper in papers if paper in only}
    if not papers:
        raise click.ClickException(f"no notebooks under {root / 'notebooks'}")
    profile = profile or default_profile()
    total = sum(map(len, papers.values()))
    where = Destinations.for_profile(root, profile)
    click.echo(f"gamut reproduce: {total} notebook(s) of {', '.join(papers)} on the {profile} profile -> {where.notebooks}")
    with tqdm(total=total, unit="notebook", file=sys.stderr, dynamic_ncols=True) as bar:
        results = run(
            root,
            papers,
            profile,
            jobs=jobs,
            resume=resume,
            on_start=lambda nb: bar.set_postfix_str(nb.label),
            on_result=lambda result: bar.update(1),
        )
    click.echo(summary_table(results))
    for result in results:
        for comparison in result.comparisons:
            for mismatch in comparison.mismatches:
                click.echo(f"  {result.notebook.paper}/{comparison.table}: {mismatch}", err=True)
    failed = [r for r in results if r.status == "failed"]
    disagreeing = [r for r in results if r.status == "disagrees"]
    for result in failed:
        click.echo(f"FAILED {result.message}", err=True)
    for result in disagreeing:
        click.echo(f"DISAGREES {result.notebook.source}: {result.message}", err=True)
    for result in results:
        if result.status == "ok" and result.message:  # e.g. ran on its second try
            click.echo(f"NOTE {result.notebook.source}: {result.message}", err=True)
    if failed or disagreeing:
        sys.exit(1)
