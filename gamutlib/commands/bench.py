"""`gamut bench ...`: speed and memory targets, written to book/results."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Speed benchmarks (results written under book/results)."""


@bench.command("train")
@click.option("--batch", "batches", type=int, multiple=True, default=(16, 64), show_default=True, help="Batch sizes (repeatable).")
@click.option("--image-size", type=int, default=128, show_default=True)
@click.option("--conv-dim", type=int, default=64, show_default=True, help="StarGAN width (64 is the paper's).")
@click.option("--warmup", type=int, default=20, show_default=True, help="Warm-up iterations (multiple of 5).")
@click.option("--iters", type=int, default=50, show_default=True, help="Timed iterations (multiple of 5).")
@click.option("--variant", "variants", multiple=True, help="Extra engine variants to time (see gamutlib.training.bench.VARIANTS).")
@click.option("--device", default="auto", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/engine/train_speed.json", show_default=True)
def bench_train_command(batches, image_size, conv_dim, warmup, iters, variants, device, out) -> None:
    """Training img/s: a reference-style eager StarGAN loop vs the engine (WGAN-GP, n_critic 5)."""
    from gamutlib.training.bench import bench_train

    try:
        result = bench_train(tuple(batches), image_size, conv_dim, warmup, iters, tuple(variants), device, out)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    for row in result["rows"]:
        engine = f"engine {row['engine_img_s']} img/s, x{row['ratio']}" if "engine_img_s" in row else f"engine failed: {row.get('engine_error')}"
        click.echo(f"batch {row['batch']}: reference {row['reference_img_s']} img/s, {engine}")
    click.echo(f"wrote {out}")
    if not result["complete"]:
        raise click.ClickException("the engine did not run at every batch size (see the *_error entries)")
