"""`gamut bench ...`: speed and memory targets, written to book/results."""

from __future__ import annotations

import click

from gamutlib.commands.choices import PROFILE_CHOICE, RegistryChoice, editable_methods


@click.group()
def bench() -> None:
    """Speed benchmarks (results written under book/results)."""


@bench.command("train")
@click.option("--batch", "batches", type=int, multiple=True, default=(16, 64), show_default=True, help="Batch sizes (repeatable).")
@click.option("--image-size", type=int, default=128, show_default=True)
@click.option("--conv-dim", type=int, default=64, show_default=True, help="StarGAN width (64 is the paper's).")
@click.option("--warmup", type=int, default=20, show_default=True, help="Warm-up iterations (multiple of 5).")
@click.option("--iters", type=int, default=50, show_default=True, help="Timed iterations (multiple of 5).")
@click.option("--variant", "variants", multiple=True, help="Extra engine variants to time (see gamutlib.bench.train.VARIANTS).")
@click.option("--device", default="auto", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/engine/train_speed.json", show_default=True)
def bench_train_command(batches, image_size, conv_dim, warmup, iters, variants, device, out) -> None:
    """Training img/s: a reference-style eager StarGAN loop vs the engine (WGAN-GP, n_critic 5)."""
    from gamutlib.bench.train import bench_train

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


@bench.command("edit")
@click.option("--method", type=RegistryChoice(editable_methods), default="ganmut", show_default=True,
              help="An editable method of the paper registry.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="CPU threads (torch.set_num_threads).")
@click.option("--repeats", type=click.IntRange(min=5), default=50, show_default=True, help="Timed edits per run.")
@click.option("--runs", type=click.IntRange(min=1), default=3, show_default=True, help="Runs per variant; the best median is kept.")
@click.option("--variant", "variants", multiple=True, help="Speed variants to time (repeatable; default: all of gamutlib.models.editor.SPEED_VARIANTS).")
@click.option("--weights", help="A .safetensors path (default: weights/<method>.safetensors, else a random-init G of the same shape).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Default: book/results/<the method's paper>/edit_latency.json.")
def bench_edit_command(method, threads, repeats, runs, variants, weights, out) -> None:
    """CPU latency of one 128 px live edit (median, p90) per speed variant; target <= 40 ms median."""
    from pathlib import Path

    from gamutlib.papers import paper_of_method

    out = out or f"book/results/{paper_of_method(method).name}/edit_latency.json"

    from gamutlib.bench.edit import TARGET_MEDIAN_MS, bench_edit
    from gamutlib.models.editor import SPEED_VARIANTS
    from gamutlib.reproduce.tables import write_table

    try:
        result = bench_edit(method, threads, repeats, runs, tuple(variants) or tuple(SPEED_VARIANTS), weights,
                            log=click.echo)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    target = Path(out)
    path = write_table(target.parent.parent, target.parent.name, target.stem, rows=result["rows"],
                       paper_numbers={"source": f"the {paper_of_method(method).name} paper reports no edit latency; "
                                      f"the target (median <= {TARGET_MEDIAN_MS:g} ms on 2 CPU threads) is this "
                                      "project's, for a live slider"},
                       protocol=result["protocol"], seeds=result["seeds"], producer="gamut bench edit")
    chosen = next((r for r in result["rows"] if r.get("chosen")), None)
    if chosen is None:
        click.echo("no variant kept quality")
    else:
        verdict = "meets" if chosen["meets_target"] else "misses"
        click.echo(f"fastest that keeps quality: {chosen['variant']}, median {chosen['median_ms']} ms "
                   f"({verdict} the {TARGET_MEDIAN_MS:g} ms target)")
    click.echo(f"wrote {path}")


@bench.command("photo-edit")
@click.option("--method", type=RegistryChoice(editable_methods), default="ganmut", show_default=True,
              help="An editable method of the paper registry.")
@click.option("--photo", type=click.Path(dir_okay=False, exists=True), help="Time this photo instead of a synthetic one.")
@click.option("--width", type=click.IntRange(min=64), default=6000, show_default=True, help="Synthetic photo's width.")
@click.option("--height", type=click.IntRange(min=64), default=4000, show_default=True, help="Synthetic photo's height.")
@click.option("--face-px", type=click.IntRange(min=64), default=1800, show_default=True, help="Side of the synthetic photo's face.")
@click.option("--repeats", type=click.IntRange(min=1), default=5, show_default=True, help="Fresh-process runs.")
@click.option("--cpus", default="0,1", show_default=True, help="CPUs to pin each run to (as taskset -c); 'all' for none.")
@click.option("--weights", help="A .safetensors path (default: weights/<method>.safetensors).")
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/benchmark/photo_edit.json", show_default=True)
def bench_photo_edit_command(method, photo, width, height, face_px, repeats, cpus, weights, out) -> None:
    """Wall time and peak memory of `gamut edit` on a 24 MP photo, whole command; target <= 3 s, <= 1 GB on 2 CPUs."""
    from pathlib import Path

    from gamutlib.bench.photo_edit import TARGET_PEAK_MB, TARGET_WALL_S, bench_photo_edit
    from gamutlib.reproduce.tables import write_table

    try:
        chosen = None if cpus == "all" else {int(c) for c in cpus.split(",")}
    except ValueError:
        raise click.ClickException(f"--cpus: expected CPU numbers like 0,1 or 'all', got {cpus!r}") from None
    try:
        result = bench_photo_edit(method, photo, width, height, face_px, repeats, chosen, weights, log=click.echo)
    except (ValueError, RuntimeError, OSError) as err:
        raise click.ClickException(str(err)) from None
    target = Path(out)
    path = write_table(target.parent.parent, target.parent.name, target.stem, rows=result["rows"],
                       paper_numbers={"source": "no paper times a photo edit; the target (<= "
                                      f"{TARGET_WALL_S:g} s and <= {TARGET_PEAK_MB:g} MB for a 24 MP photo on 2 CPU "
                                      "cores) is this project's"},
                       protocol=result["protocol"], seeds=result["seeds"], producer="gamut bench photo-edit")
    row = result["rows"][0]
    click.echo(f"median {row['wall_s_median']} s (min {row['wall_s_min']} s), peak RSS {row['peak_rss_mb_max']:.0f} MB, "
               f"command + helper RSS {row['tree_rss_mb_max']:.0f} MB: the target {row['verdict']} "
               f"(load average {row['load_avg_1min_before']} -> {row['load_avg_1min_after']} on {row['nproc']} CPUs)")
    click.echo(f"wrote {path}")


@bench.command("render")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--sizes", type=int, multiple=True, default=(64, 128, 256), show_default=True, help="Face sizes (repeatable, or several after one --sizes).")
@click.option("--batch", type=int, default=None, help="Faces per batch (default 64 on CPU, 1024 on CUDA).")
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/benchmark/render_speed.json", show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads (torch.set_num_threads; default torch's).")
@click.option("--compile/--no-compile", "also_compiled", default=False, show_default=True, help="Also time the torch.compile'd renderer.")
@click.argument("more_sizes", nargs=-1, type=int)
def bench_render_command(device, sizes, batch, out, threads, also_compiled, more_sizes) -> None:
    """Faces/s of the benchmark renderer per size; keeps the other device's rows in --out."""
    import torch

    from gamutlib.bench.render import bench_render

    if threads is not None:
        torch.set_num_threads(threads)
    chosen = tuple(sizes) + tuple(more_sizes) if more_sizes else tuple(sizes)
    modes = (False, True) if also_compiled else (False,)
    try:
        result = bench_render(chosen, device, batch, out, compile_modes=modes)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    for row in result["measured"]:
        mode = "compiled" if row["compiled"] else "eager"
        click.echo(f"{row['device_name']}, {mode}: {row['size']} px, batch {row['batch']}: {row['faces_per_s']} faces/s")
    click.echo(f"wrote {out}")


@bench.command("ddp")
@click.argument("speed_runs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--multi", type=click.Path(exists=True, file_okay=False), help="An N-process run for the loss check.")
@click.option("--single", type=click.Path(exists=True, file_okay=False), help="A 1-process run with the N-times batch, same steps.")
@click.option("--device", default="", help="The machine, in words, for the record.")
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/engine/ddp_scaling.json", show_default=True)
def bench_ddp_command(speed_runs, multi, single, device, out) -> None:
    """Multi-GPU img/s and efficiency from torchrun run folders (scripts/gpu/ddp_scaling.sh makes them)."""
    from gamutlib.bench.ddp import summarise

    if (multi is None) != (single is None):
        raise click.ClickException("--multi and --single go together (the loss check compares the two)")
    try:
        result = summarise(list(speed_runs), multi, single, out, device)
    except (ValueError, KeyError, FileNotFoundError) as err:
        raise click.ClickException(f"{type(err).__name__}: {err}") from None
    for row in result["rows"]:
        click.echo(f"{row['gpus']} GPU(s), batch {row['per_gpu_batch']}/GPU: {row['img_s']} img/s, "
                   f"x{row['speedup']}, efficiency {row['efficiency']:.0%}")
    if "loss_check" in result:
        check = result["loss_check"]
        click.echo(f"losses of {check['multi_run']} vs {check['single_run']} within 2 spreads: {check['all_within_two_spreads']}")
    click.echo(f"wrote {out}")


@bench.command("metrics")
@click.option("--profile", type=PROFILE_CHOICE, default="gpu", show_default=True,
              help="The evaluation chapter's profile whose test set, grid and judge are timed.")
@click.option("--device", default="auto", show_default=True, help="auto (CUDA if present), cpu, cuda or cuda:N.")
@click.option("--weights-dir", type=click.Path(file_okay=False), default="weights", show_default=True)
@click.option("--allow-fallback", is_flag=True, help="Time a two-step GANmut when weights/ganmut.safetensors is absent (the chapter's smoke stand-in).")
@click.option("--repeats", type=click.IntRange(min=1), default=2, show_default=True, help="Timed passes after the warm-up (first and last are reported).")
@click.option("--out", type=click.Path(dir_okay=False), default="book/results/judges/metric_speed.json", show_default=True)
def bench_metrics_command(profile, device, weights_dir, allow_fallback, repeats, out) -> None:
    """Seconds for GANmut's ERE (settings 1+2) and FED over the chapter's test set; target <= 60 s on an H100."""
    from gamutlib.bench.metrics import TARGET_S, metric_speed, write_metric_speed

    try:
        result = metric_speed(profile, device, weights_dir, allow_fallback, repeats)
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None
    for row in result["rows"]:
        again = f" (second call {row['seconds_second_call']} s)" if "seconds_second_call" in row else ""
        click.echo(f"{row['metric']}: {row['faces']} faces, {row['seconds']} s{again}")
    total = result["rows"][-1]
    verdict = "meets" if total["meets_target"] else "misses"
    click.echo(f"{result['device']}: {verdict} the {TARGET_S:g} s target")
    click.echo(f"wrote {write_metric_speed(result, out)}")
