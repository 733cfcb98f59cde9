"""`gamut train METHOD`: train any registered method with the one engine.

Works the same under ``torchrun --nproc_per_node N gamut train ...`` (one
process per GPU; rank 0 writes the run folder).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gamutlib.commands.choices import RegistryChoice, trainable_methods


def resolve_config(
    method: str,
    config_file: str | None,
    resume: str | None,
    overrides: dict[str, Any],
) -> dict[str, Any]:
    """{"method", "train", "model"}: a resumed run's config or the file's, plus CLI overrides."""
    from gamutlib.training.config import read_config_file
    from gamutlib.training.run_folder import read_config

    if resume is not None:
        if config_file is not None:
            raise ValueError("--resume continues a run with its own config; drop --config")
        folder = Path(resume)
        folder = folder if folder.is_dir() else folder.parent.parent
        base = read_config(folder)
    elif config_file is not None:
        base = read_config_file(config_file)
    else:
        base = {}
    if base.get("method", method) != method:
        where = resume or config_file
        raise ValueError(f"{where} is for method {base['method']!r}, not {method!r}")
    train = {**base.get("train", {}), **{k: v for k, v in overrides.items() if v is not None}}
    return {"method": method, "train": train, "model": dict(base.get("model", {}))}


@click.command()
@click.argument("method", type=RegistryChoice(trainable_methods))
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="JSON or TOML with [train] and [model] tables.")
@click.option("--steps", type=click.IntRange(min=0), help="Total training steps.")
@click.option("--resume", type=click.Path(exists=True), help="A run folder (its newest checkpoint) or a checkpoint file.")
@click.option("--out", default="runs", show_default=True, help="Folder that receives the numbered run folders.")
@click.option("--max-minutes", type=click.FloatRange(min=0), help="Checkpoint and exit cleanly after this long.")
@click.option("--seed", type=int, help="Training seed (per-rank seeds derive from it).")
@click.option("--device", help="cuda, cuda:1, cpu (default: auto).")
@click.option("--export", "export_name", help="After training, write weights/<NAME>.safetensors (G, fp16).")
@click.option("--export-dir", default="weights", show_default=True,
              help="Where --export writes (a folder other than weights/ gets its own registry.json).")
@click.option("--data", "data", metavar="KIND:PATH",
              help="Train on a real dataset instead of rendered faces: rafd:FOLDER, affectnet:CSV or openface:CSV. "
                   "Emotion-label methods (stargan, ganimation, ganmut, gganmut) take rafd or affectnet; "
                   "AU-driven ones (finegrained, ganimation_au) take openface.")
@click.option("--data-images", type=click.Path(file_okay=False), metavar="FOLDER",
              help="The image folder of an affectnet or openface CSV (default: the CSV's folder).")
@click.option("--dry-run", is_flag=True, help="Print the resolved config and exit.")
def train(method, config_file, steps, resume, out, max_minutes, seed, device, export_name, export_dir, data, data_images,
          dry_run) -> None:
    """Train METHOD (e.g. stargan, ganmut, judge_emotion) in a new run folder.

    Faces come from the built-in renderer, or from a real dataset with --data
    (then --resume needs the same --data)."""
    import torch

    from gamutlib.papers import get_method
    from gamutlib.training import NonFiniteLossError, TrainConfig, start_run
    from gamutlib.training.trainer import install_stop_signals

    try:
        resolved = resolve_config(method, config_file, resume,
                                  {"steps": steps, "max_minutes": max_minutes, "seed": seed, "device": device})
        train_config = TrainConfig.from_dict(resolved["train"])
        torch.manual_seed(train_config.seed)  # the networks' initial weights: the same seed, the same run
        model = get_method(method, resolved["model"])
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None
    resolved = {"method": method, "train": train_config.to_dict(), "model": dict(model.config)}
    if resume is not None and data is None:
        folder = Path(resume) if Path(resume).is_dir() else Path(resume).parent.parent
        if (folder / "data.json").is_file():
            used = json.loads((folder / "data.json").read_text())
            raise click.ClickException(f"{folder} trained on {used['kind']}:{used['path']}; resume it with "
                                       f"--data {used['kind']}:{used['path']}"
                                       + (f" --data-images {used['images']}" if "images" in used else ""))
    if data_images is not None and data is None:
        raise click.ClickException("--data-images goes with --data affectnet:CSV or --data openface:CSV")
    if data is not None:
        from gamutlib.models.real_data import parse_data, use_real_data

        try:
            spec = parse_data(data, data_images)
            dataset = use_real_data(model, spec)
        except (ValueError, FileNotFoundError) as err:
            raise click.ClickException(str(err)) from None
        resolved["data"] = {"kind": spec.kind, "path": str(spec.path), "faces": len(dataset)}
        if spec.images is not None:
            resolved["data"]["images"] = str(spec.images)
    if dry_run:
        click.echo(json.dumps(resolved, indent=2, sort_keys=True, default=str))
        return
    try:
        trainer = start_run(model, train_config, out=out, resume=resume)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None
    if data is not None and trainer.run_dir is not None:
        from gamutlib.atomic import atomic_write_text

        atomic_write_text(Path(trainer.run_dir) / "data.json", json.dumps(resolved["data"], indent=1) + "\n")
    install_stop_signals(trainer)
    try:
        result = trainer.fit()
    except NonFiniteLossError as err:
        raise click.ClickException(str(err)) from None
    finally:
        import torch.distributed as dist

        if dist.is_initialized():  # under torchrun: leave the process group cleanly (NCCL warns otherwise)
            dist.destroy_process_group()
    if trainer.world.is_main:
        if result.get("stopped_early"):
            click.echo(f"stopped at step {trainer.step}; continue with: gamut train {method} --resume {trainer.run_dir}")
        else:
            click.echo(f"trained {trainer.step} steps: {trainer.run_dir}")
        if export_name:
            from gamutlib.weights import export_weights

            path = export_weights(export_name, trainer.export_modules(), dict(model.config), root=export_dir, method=method)
            click.echo(f"exported {path}")
