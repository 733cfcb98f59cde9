"""`gamut evaluate ...`: measurements written under book/results.

``judges`` is the report on the judges every other number relies on. Every
paper of the registry that declares tables gets ``gamut evaluate PAPER NAME
--seed K``: one trained generator scored by the paper's table protocols (the
objects the evaluation chapter writes its tables with), kept as a seed record.
"""

from __future__ import annotations

import click

from gamutlib.commands.choices import PROFILE_CHOICE, RegistryChoice, paper_weights


class PaperGroup(click.Group):
    """The fixed commands, plus one per evaluated paper of the registry (read when the CLI runs)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from gamutlib.papers import evaluated_papers

        return sorted(set(super().list_commands(ctx)) | set(evaluated_papers()))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from gamutlib.papers import evaluated_papers

        command = super().get_command(ctx, name)
        if command is None and name in evaluated_papers():
            command = paper_command(name)
        return command


@click.group(cls=PaperGroup)
def evaluate() -> None:
    """Evaluations (results written under book/results)."""


@evaluate.command("judges")
@click.option("--profile", type=PROFILE_CHOICE, default="cpu", show_default=True,
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
    from gamutlib.judges.report import judge_report, settings_for, smoke_judges, write_report

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
    report = judge_report(emotion, au, identity, settings_for(profile), device, weights)
    path = write_report(report, results_dir)
    for key, ok in report["passes"].items():
        click.echo(f"{key:24s} {report[key]:8.3f}  target {report['targets'][key]:8s} {'ok' if ok else 'MISSED'}")
    click.echo(f"wrote {path} ({report['seconds']} s)")


def paper_command(paper: str) -> click.Command:
    """``gamut evaluate PAPER NAME --seed K``, its choices from the registry."""

    @click.command(paper, help=f"Score one trained generator of the {paper} series by its tables (one training seed).")
    @click.argument("name", type=RegistryChoice(paper_weights(paper)))
    @click.option("--seed", type=click.IntRange(min=0), required=True, help="The training seed of these weights.")
    @click.option("--weights-dir", default="weights", show_default=True, help="Folder holding <NAME>.safetensors.")
    @click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False),
                  help="The run folder that trained them (records its iterations and config).")
    @click.option("--profile", type=PROFILE_CHOICE, default="gpu", show_default=True,
                  help="How much of the tables' protocol to run (the evaluation chapter's profiles).")
    @click.option("--results-dir", default="book/results", show_default=True,
                  help=f"Writes <results-dir>/{paper}/seeds/<NAME>-seed<SEED>.json.")
    @click.option("--device", default="auto", show_default=True, help="cpu, cuda, or auto.")
    def score(name: str, seed: int, weights_dir: str, run_dir: str | None, profile: str, results_dir: str,
              device: str) -> None:
        click.echo(score_seed(paper, name, seed, weights_dir, run_dir, profile, results_dir, device))

    return score


def score_seed(paper: str, name: str, seed: int, weights_dir: str, run_dir: str | None, profile: str, results_dir: str,
               device: str) -> str:
    """Score ``name`` by every seed-scored table of ``paper``; write its seed record; returns a summary line."""
    import torch

    from gamutlib.evaluation.protocol import seed_rows
    from gamutlib.evaluation.seeds import run_facts, write_seed_record
    from gamutlib.papers import open_evaluation, table_protocols

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        run = open_evaluation(paper, profile, weights_dir=weights_dir, device=device, names=[name])
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    model = run.models[name]
    rows = seed_rows(table_protocols(paper), model, run)
    path = write_seed_record(results_dir, name, seed, profile, rows, weights=model.source, facts=run_facts(run_dir),
                             paper=paper)
    numbers = "; ".join(f"{table}: " + ", ".join(f"{k} {v}" for k, v in row.items() if isinstance(v, (int, float)))
                        for table, row in rows.items() if row)
    return f"{name} seed {seed}: {numbers} -> {path}"
