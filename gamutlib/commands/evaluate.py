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


@evaluate.command("ganmut")
@click.argument("name", type=click.Choice(["stargan", "ganimation", "ganmut", "ganmut_rho1", "gganmut"]))
@click.option("--seed", type=click.IntRange(min=0), required=True, help="The training seed of these weights.")
@click.option("--weights-dir", default="weights", show_default=True, help="Folder holding <NAME>.safetensors.")
@click.option("--run", "run_dir", type=click.Path(exists=True, file_okay=False),
              help="The run folder that trained them (records its iterations and config).")
@click.option("--profile", type=click.Choice(["smoke", "cpu", "gpu"]), default="gpu", show_default=True,
              help="How much of the tables' protocol to run (the evaluation chapter's profiles).")
@click.option("--results-dir", default="book/results", show_default=True,
              help="Writes <results-dir>/ganmut/seeds/<NAME>-seed<SEED>.json.")
@click.option("--device", default="auto", show_default=True, help="cpu, cuda, or auto.")
def ganmut(name: str, seed: int, weights_dir: str, run_dir: str | None, profile: str, results_dir: str, device: str) -> None:
    """Score one trained generator of the GANmut series by Tables 1-3 (one training seed)."""
    import torch

    from gamutlib.evaluation import ganmut as ev
    from gamutlib.evaluation.seeds import run_facts, write_seed_record
    from gamutlib.judges.loading import load_emotion_judge

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        model = ev.load_conditioned(name, root=weights_dir, device=device)
        judge = load_emotion_judge(device)
    except (FileNotFoundError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    sizes = ev.sizes_for(profile)
    images, labels = ev.test_faces(sizes, device)
    rows = ev.model_rows(model, judge, images, labels, sizes, device)
    path = write_seed_record(results_dir, name, seed, profile, rows, weights=model.source, facts=run_facts(run_dir))
    t1 = rows["table1"]["mean"] if rows["table1"] else None
    click.echo(f"{name} seed {seed}: smoothness {t1}, ERE {rows['table2']['ere_setting1']}/{rows['table2']['ere_setting2']}, "
               f"FED {rows['table2']['fed']}, accuracy {rows['table3']['mean']}% -> {path}")
