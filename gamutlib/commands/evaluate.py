"""`gamut evaluate ...`: measurements written under book/results.

A group, so that each paper's evaluation can join as a subcommand; today it
holds ``judges``, the report on the judges every other number relies on.
"""

from __future__ import annotations

import click


@click.group()
def evaluate() -> None:
    """Evaluations (results written under book/results)."""


@evaluate.command("judges")
@click.option("--profile", type=click.Choice(["smoke", "cpu", "gpu"]), default="cpu", show_default=True,
              help="How many faces and pairs to judge per style.")
@click.option("--results-dir", default="book/results", show_default=True, help="Writes <results-dir>/judges/report.json.")
@click.option("--weights-dir", default=None, help="Folder of judge_*.safetensors (default: the shipped weights/).")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, or auto.")
@click.option("--smoke-train", is_flag=True,
              help="Judge with judges trained for a few steps at 32 px instead of loading weights (a code-path check).")
def judges(profile: str, results_dir: str, weights_dir: str | None, device: str, smoke_train: bool) -> None:
    """Accuracy of the emotion, AU and identity judges against the benchmark's truth."""
    import torch

    from gamutlib.judges.loading import load_judges
    from gamutlib.judges.report import PROFILE_SETTINGS, judge_report, smoke_judges, write_report

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if smoke_train:
        emotion, au, identity = smoke_judges(device=device)
        weights = "trained 30 steps at 32 px for the smoke check"
    else:
        try:
            loaded = load_judges(device, weights_dir)
        except (FileNotFoundError, ValueError) as err:
            raise click.ClickException(str(err)) from None
        emotion, au, identity = loaded.emotion, loaded.au, loaded.identity
        weights = "shipped" if weights_dir is None else f"from {weights_dir}"
    report = judge_report(emotion, au, identity, PROFILE_SETTINGS[profile], device, weights)
    path = write_report(report, results_dir)
    for key, ok in report["passes"].items():
        click.echo(f"{key:24s} {report[key]:8.3f}  target {report['targets'][key]:8s} {'ok' if ok else 'MISSED'}")
    click.echo(f"wrote {path} ({report['seconds']} s)")
