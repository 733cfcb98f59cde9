"""The one training loop of gamut.

A method (gamutlib/contract/method.py) supplies networks, optimizer settings,
loss phases and data; the Trainer owns everything else: optimizers and LR
schedules, bf16 autocast, channels_last, fused Adam, CUDA graphs and
torch.compile where they work, EMA, checkpoints with exact resume, JSONL logs,
sample grids, a progress bar, NaN/inf stops, time limits and torchrun data
parallelism. No GAN maths lives here.

Exact resume: a checkpoint holds weights, optimizers, schedulers, EMA, every
RNG state (per rank), the data iterator's state (when it has ``state_dict``;
otherwise the data stream is re-opened from (seed, rank, step) at every
checkpoint, in the uninterrupted run as in the resumed one) and the step. On
CPU, N steps in one go equal N/2 + resume + N/2 bit for bit
(tests/test_training.py).
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from torch import nn

from gamutlib.devices import resolve_device
from gamutlib.training import distributed as ddp
from gamutlib.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    prune_checkpoints,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from gamutlib.training.config import TrainConfig, channels_last_nets, enabled
from gamutlib.training.ema import EMA
from gamutlib.training.graphs import PhaseGraph
from gamutlib.contract.method import Method, Phase
from gamutlib.training.run_folder import JsonlLog, new_run_folder, read_config, save_grid, write_config
from gamutlib.training.schedules import linear_decay


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or inf: the run stops, the last good checkpoint stays."""

    def __init__(self, step: int, name: str, value: float, checkpoint: Path | None) -> None:
        self.step, self.name, self.value, self.checkpoint = step, name, value, checkpoint
        where = f"last good checkpoint: {checkpoint}" if checkpoint else "no checkpoint was written before it"
        super().__init__(f"step {step}: {name} is {value}; training stopped ({where})")


@dataclass
class StepRecord:
    step: int
    values: torch.Tensor  # (K,) float32 on the device, one per logged key
    keys: tuple[str, ...]


def data_seed(seed: int, rank: int, step: int) -> int:
    """The seed of the data stream opened at ``step`` on ``rank``."""
    if step == 0:
        return ddp.rank_seed(seed, rank)
    return int(np.random.SeedSequence([seed, rank, step]).generate_state(1)[0])


@contextlib.contextmanager
def preserved_rng() -> Iterator[None]:
    """Run a block without disturbing any RNG the training loop draws from."""
    state = rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


class Trainer:
    """Drive ``method`` for ``config.steps`` steps, writing into ``run_dir``.

    ``run_dir`` None means no files (used by the benchmark); ``resume`` is a
    checkpoint file or a run folder (its newest checkpoint).
    """

    def __init__(
        self,
        method: Method,
        config: TrainConfig,
        run_dir: str | Path | None = None,
        resume: str | Path | None = None,
    ) -> None:
        self.method = method
        self.cfg = config
        self.world = ddp.init_from_env("cuda" if config.device.startswith("cuda") or (config.device == "auto" and torch.cuda.is_available()) else "cpu")
        self.device = resolve_device(config.device, self.world.local_rank)
        on_cuda = self.device.type == "cuda"
        if on_cuda:
            torch.backends.cudnn.benchmark = config.cudnn_benchmark
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.autocast_dtype = torch.bfloat16 if (config.precision == "bf16" or (config.precision == "auto" and on_cuda)) else None
        # Under torchrun the captured phase holds the gradient all_reduce too (NCCL
        # collectives replay inside a CUDA graph); _run_phase makes the ranks agree
        # on each capture, so no rank replays a collective the others skip.
        self.use_graphs = enabled(config.cuda_graphs, on_cuda) and on_cuda
        self.use_compile = enabled(config.compile, on_cuda)
        fused = enabled(config.fused_adam, on_cuda)

        if hasattr(method, "to"):
            method.to(self.device)  # frozen judges and constants the method holds
        self.nets: dict[str, nn.Module] = dict(method.networks())
        groups = method.optim_groups()
        missing = sorted(set(self.nets) - set(groups))
        extra = sorted(set(groups) - set(self.nets))
        if missing or extra:
            raise ValueError(f"{method.name}: optim_groups must name every network; missing {missing}, unknown {extra}")
        cl_nets = channels_last_nets(config.channels_last, on_cuda, self.nets)
        # The batch follows the networks only when all of them are channels_last.
        self.channels_last = bool(cl_nets) and cl_nets == set(self.nets)
        for name, net in self.nets.items():
            net.to(self.device)
            if name in cl_nets:
                net.to(memory_format=torch.channels_last)
        self.phases: list[Phase] = list(method.phases())
        for phase in self.phases:
            unknown = sorted(set(phase.nets) - set(self.nets))
            if unknown:
                raise ValueError(f"{method.name}: phase {phase.name!r} updates unknown networks {unknown}")
            if phase.every < 1:
                raise ValueError(f"{method.name}: phase {phase.name!r} has every={phase.every}; must be >= 1")
        if self.world.distributed:
            ddp.broadcast_modules(self.nets.values())

        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}
        for name, net in self.nets.items():
            self.optimizers[name] = self._make_optimizer(net, dict(groups[name]), fused)
            self.schedulers[name] = linear_decay(self.optimizers[name], config.steps, config.lr_decay_steps)
            _float_base_lrs(self.schedulers[name])
        self.ema: dict[str, EMA] = {}
        if config.ema_beta > 0:
            for name in config.ema_nets:
                if name not in self.nets:
                    raise ValueError(f"ema_nets names {name!r}, not a network of {method.name} ({sorted(self.nets)})")
                self.ema[name] = EMA(self.nets[name], config.ema_beta)

        self.step = 0
        self.last_checkpoint: Path | None = None
        self._records: list[StepRecord] = []
        self._grad_state: dict[str, bool] = {}
        self._graphs: dict[str, PhaseGraph] = {}
        self._graph_failed: set[str] = set()
        self._eager_runs: dict[str, int] = {}
        self._compiled: set[str] = set()
        self._compile_skipped: list[str] = []
        self._compile_ok: set[str] = set()
        self._stop_requested = False
        self._images_per_step = 0
        self._interval_start, self._interval_step = time.monotonic(), 0
        self.log = JsonlLog(self.run_dir / "log.jsonl") if self.run_dir is not None else None

        with preserved_rng():
            self.sample_batch = next(iter(method.data(self.device, seed=config.seed + 12345)))
        torch.manual_seed(ddp.rank_seed(config.seed, self.world.rank))
        np.random.seed(ddp.rank_seed(config.seed, self.world.rank) % 2**32)
        import random

        random.seed(ddp.rank_seed(config.seed, self.world.rank))
        if on_cuda:
            torch.cuda.manual_seed(ddp.rank_seed(config.seed, self.world.rank))

        self._open_data(0)
        if resume is not None:
            self.load(resume)
        self._interval_step = self.step
        if self.use_compile:
            # A network that a phase differentiates twice stays eager (see Phase.double_backward).
            self._compile_skipped = sorted({n for p in self.phases if p.double_backward for n in p.nets})
            for name, net in self.nets.items():
                if name not in self._compile_skipped:
                    net.compile(backend=config.compile_backend)
                    self._compiled.add(name)

    # ------------------------------------------------------------------ setup
    def _make_optimizer(self, net: nn.Module, group: dict[str, Any], fused: bool) -> torch.optim.Optimizer:
        kind = group.pop("optimizer", "adam").lower()
        if "lr" not in group:
            raise ValueError(f"{self.method.name}: optim_groups entries need an 'lr'; got {sorted(group)}")
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
        params = [p for p in net.parameters() if p.requires_grad]
        cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}.get(kind)
        if cls is None:
            raise ValueError(f"{self.method.name}: optimizer must be 'adam' or 'adamw'; got {kind!r}")
        if self.device.type == "cuda":
            group.setdefault("fused", fused or None)
            if self.use_graphs:
                group["capturable"] = True
                # a device tensor, so a captured step reads the scheduler's current value
                group["lr"] = torch.tensor(float(group["lr"]), device=self.device)
        return cls(params, **group)

    def _open_data(self, step: int) -> None:
        self.data = method_data = self.method.data(self.device, seed=data_seed(self.cfg.seed, self.world.rank, step))
        self._data_iter = iter(method_data)
        self._data_stateful = hasattr(method_data, "state_dict") and hasattr(method_data, "load_state_dict")

    # ------------------------------------------------------------------ phases
    def _set_requires_grad(self, phase: Phase) -> None:
        for name, net in self.nets.items():
            want = name in phase.nets
            if self._grad_state.get(name) is not want:
                net.requires_grad_(want)
                self._grad_state[name] = want

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype, cache_enabled=self.cfg.autocast_cache)

    def phase_body(self, phase: Phase, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Forward, backward, gradient averaging and optimizer steps of one phase."""
        with self._autocast():
            out = phase.fn(batch, self.step)
        if "loss" not in out:
            raise ValueError(f"{self.method.name}: phase {phase.name!r} returned {sorted(out)}, without a 'loss'")
        out["loss"].backward()
        params = [p for n in phase.nets for p in self.nets[n].parameters() if p.requires_grad]
        ddp.average_gradients(params, self.world)
        for name in phase.nets:
            self.optimizers[name].step()
        return out

    def _zero_grad(self, phase: Phase) -> None:
        for name in phase.nets:
            self.optimizers[name].zero_grad(set_to_none=True)

    def _run_phase(self, phase: Phase, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        graph = self._graphs.get(phase.name)
        if graph is not None and graph.accepts(batch):
            return graph.replay(batch)
        self._set_requires_grad(phase)
        # Under torchrun a batch the graph does not take (a short last one, which
        # may be on one rank only) runs eagerly: recapturing would call the ranks'
        # capture agreement on this rank alone. Its eager all_reduce still pairs
        # with the other ranks' replayed one (same gradients, same sizes).
        recapture = graph is None or not self.world.distributed
        if (
            self.use_graphs
            and recapture
            and phase.capturable
            and phase.name not in self._graph_failed
            and self._eager_runs.get(phase.name, 0) >= self.cfg.graph_warmup
        ):
            self._zero_grad(phase)
            failure: Exception | None = None
            try:
                self._graphs[phase.name] = PhaseGraph(self, phase, batch, thread_local=self.world.distributed)
            except Exception as err:  # capture is an optimisation: any failure falls back to eager
                failure = err
                with contextlib.suppress(Exception):
                    torch.cuda.synchronize(self.device)
            self._grad_state.clear()  # capture may leave any requires_grad pattern
            # Every rank must take the same path: a graph replays its all_reduce,
            # so one rank on the graph and another eager would pair collectives
            # of different phases. If any rank failed, all run this phase eagerly.
            if ddp.any_flag(failure is not None, self.world, self.device):
                self._graphs.pop(phase.name, None)
                self._graph_failed.add(phase.name)
                reason = failure if failure is not None else "another rank could not capture it"
                warnings.warn(f"phase {phase.name!r} cannot be captured as a CUDA graph ({reason}); running it eagerly")
                self._zero_grad(phase)
            else:
                if self.world.is_main and not self.cfg.progress:
                    group = f", {self.world.size} process(es) in a group" if self.world.distributed else ""
                    print(f"step {self.step}: phase {phase.name!r} runs as a CUDA graph from here{group}", flush=True)
                return self._graphs[phase.name].replay(batch)
        self._zero_grad(phase)
        if self.use_graphs and phase.capturable and phase.name not in self._graph_failed:
            out = self._eager_on_side_stream(phase, batch)
        else:
            out = self._eager_with_compile_fallback(phase, batch)
        self._eager_runs[phase.name] = self._eager_runs.get(phase.name, 0) + 1
        return out

    def _eager_on_side_stream(self, phase: Phase, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Warm-up runs before capture happen on a side stream (torch.cuda.graphs docs)."""
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side):
            out = self._eager_with_compile_fallback(phase, batch)
        torch.cuda.current_stream(self.device).wait_stream(side)
        return out

    def _eager_with_compile_fallback(self, phase: Phase, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self._compiled or phase.name in self._compile_ok:
            return self.phase_body(phase, batch)
        # First run of this phase with compiled networks: a double-backward
        # penalty fails under AOTAutograd; fall back to eager for the networks
        # this phase updates (then all of them) and run it again.
        rng = rng_state()
        for attempt in ("phase", "all"):
            try:
                out = self.phase_body(phase, batch)
            except Exception as err:
                set_rng_state(rng)  # the eager rerun draws the same random numbers
                victims = [n for n in phase.nets if n in self._compiled] if attempt == "phase" else sorted(self._compiled)
                if not victims:
                    raise
                for name in victims:
                    self.nets[name]._compiled_call_impl = None  # undo nn.Module.compile()
                    self._compiled.discard(name)
                self._zero_grad(phase)
                warnings.warn(
                    f"phase {phase.name!r} does not run with torch.compile ({type(err).__name__}: "
                    f"{str(err).splitlines()[0][:200]}); running {victims} eagerly"
                )
                continue
            self._compile_ok.add(phase.name)
            return out
        self._compile_ok.add(phase.name)
        return self.phase_body(phase, batch)

    # ------------------------------------------------------------------ loop
    def _prepare(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        if not self.channels_last:
            return batch
        return {
            k: v.contiguous(memory_format=torch.channels_last) if torch.is_tensor(v) and v.dim() == 4 and v.is_floating_point() else v
            for k, v in batch.items()
        }

    def _batch_size(self, batch: dict[str, torch.Tensor]) -> int:
        if "image" in batch and torch.is_tensor(batch["image"]):
            return int(batch["image"].shape[0])
        first = next((v for v in batch.values() if torch.is_tensor(v) and v.dim() > 0), None)
        return int(first.shape[0]) if first is not None else 0

    def train_step(self) -> None:
        """One step: every phase due at this step, then schedules and EMA."""
        batch = self._prepare(next(self._data_iter))
        self._images_per_step = self._batch_size(batch) * self.world.size
        keys: list[str] = []
        values: list[torch.Tensor] = []
        for phase in self.phases:
            if self.step % phase.every != phase.every - 1:
                continue
            out = self._run_phase(phase, batch)
            for k, v in out.items():
                keys.append(f"{phase.name}/{k}")
                values.append(v.detach().reshape(()).to(torch.float32, copy=True))
        with warnings.catch_warnings():
            # a phase that runs every n steps has not stepped its optimizer yet
            # at step 0; the schedule is a function of the step, so nothing is skipped
            warnings.filterwarnings("ignore", message="Detected call of `lr_scheduler.step", category=UserWarning)
            for sched in self.schedulers.values():
                sched.step()
        for ema in self.ema.values():
            ema.update(beta=0.0 if self.step < self.cfg.ema_start else None)
        if values:
            self._records.append(StepRecord(self.step, torch.stack(values), tuple(keys)))
        self.step += 1

    def request_stop(self) -> None:
        """Checkpoint and leave the loop at the next step (signal handlers call this)."""
        self._stop_requested = True

    def fit(self) -> dict[str, Any]:
        """Train until ``config.steps`` (or the time limit); return the last logged values."""
        cfg = self.cfg
        start = time.monotonic()
        self._interval_start, self._interval_step = start, self.step
        bar = None
        if cfg.progress and self.world.is_main:
            from tqdm.auto import tqdm

            bar = tqdm(total=cfg.steps, initial=self.step, unit="it", dynamic_ncols=True, desc=self.method.name)
        last: dict[str, Any] = {}
        stopped_early = False
        try:
            while self.step < cfg.steps:
                self.train_step()
                if bar is not None:
                    bar.update(1)
                at_end = self.step == cfg.steps
                if self.step % cfg.log_every == 0 or at_end:
                    last = self.flush_log() or last
                    if bar is not None and last:
                        bar.set_postfix({k.replace("/loss", ""): f"{v:.3g}" for k, v in last.items() if k.endswith("/loss")}, refresh=False)
                    if self.world.is_main and last and self.step % cfg.summary_every < cfg.log_every:
                        self._summary(last, bar)
                if self.step % cfg.sample_every == 0 or at_end:
                    self.save_samples()
                if self.step % cfg.checkpoint_every == 0 or at_end:
                    self.save_checkpoint()
                if not at_end and self._should_stop(start):
                    self.save_checkpoint()
                    stopped_early = True
                    break
        finally:
            if bar is not None:
                bar.close()
        last["stopped_early"] = stopped_early
        return last

    def _should_stop(self, start: float) -> bool:
        out_of_time = self.cfg.max_minutes > 0 and (time.monotonic() - start) > 60 * self.cfg.max_minutes
        flag = out_of_time or self._stop_requested
        if not self.world.distributed:
            return flag
        if self.step % self.cfg.log_every:
            return False  # ranks agree only at log steps (one collective per interval)
        return ddp.any_flag(flag, self.world, self.device)

    def _summary(self, last: dict[str, Any], bar: Any) -> None:
        losses = " ".join(f"{k}={v:.4g}" for k, v in last.items() if k.endswith("/loss"))
        line = f"step {self.step}/{self.cfg.steps} | {last.get('img_s', 0):.0f} img/s | {losses} | lr {last.get('lr', 0):.3g}"
        if bar is not None:
            bar.write(line)
        else:
            print(line, flush=True)

    def flush_log(self) -> dict[str, Any]:
        """Check the buffered losses for NaN/inf (one sync) and write their means as one JSONL line."""
        if not self._records:
            return {}
        records, self._records = self._records, []
        flat = torch.cat([r.values for r in records])
        flat = ddp.all_mean(flat, self.world)
        host = flat.cpu().numpy()
        offset = 0
        sums: dict[str, list[float]] = {}
        for r in records:
            vals = host[offset: offset + len(r.keys)]
            offset += len(r.keys)
            for k, v in zip(r.keys, vals):
                if not math.isfinite(float(v)):
                    raise NonFiniteLossError(r.step, k, float(v), self.last_checkpoint)
                sums.setdefault(k, []).append(float(v))
        now = time.monotonic()
        steps = self.step - self._interval_step
        img_s = steps * self._images_per_step / max(now - self._interval_start, 1e-9)
        self._interval_start, self._interval_step = now, self.step
        record: dict[str, Any] = {"step": self.step, "img_s": round(img_s, 2)}
        record.update({k: float(np.mean(v)) for k, v in sums.items()})
        for name, opt in self.optimizers.items():
            record[f"lr/{name}"] = float(opt.param_groups[0]["lr"])
        record["lr"] = record[f"lr/{next(iter(self.optimizers))}"] if self.optimizers else 0.0
        if self.log is not None and self.world.is_main:
            self.log.write(record)
        return record

    # ------------------------------------------------------------------ outputs
    def export_modules(self) -> dict[str, nn.Module]:
        """``method.export()`` with EMA copies in place of the live networks."""
        out = {}
        for key, module in self.method.export().items():
            source = next((n for n, net in self.nets.items() if net is module), None)
            out[key] = self.ema[source].module if source in self.ema else module
        return out

    @torch.no_grad()
    def save_samples(self) -> Path | None:
        if self.run_dir is None or not self.world.is_main:
            return None
        swapped = {}
        # samples come from the EMA networks when there are any
        for name, ema in self.ema.items():
            swapped[name] = {k: v.clone() for k, v in self.nets[name].state_dict().items()}
            self.nets[name].load_state_dict(ema.module.state_dict())
        try:
            with preserved_rng():
                grid = self.method.samples(self.sample_batch)
        finally:
            for name, state in swapped.items():
                self.nets[name].load_state_dict(state)
        return save_grid(self.run_dir / "samples" / f"samples-{self.step:07d}.png", grid)

    def state_dict(self) -> dict[str, Any]:
        """Everything an exact resume needs (tensors and plain values only)."""
        def plain_groups(sd: dict[str, Any]) -> dict[str, Any]:
            for g in sd["param_groups"]:
                for k in ("lr", "initial_lr"):
                    if torch.is_tensor(g.get(k)):
                        g[k] = float(g[k])
            return sd

        local = {"rng": rng_state(), "data": self.data.state_dict() if self._data_stateful else None}
        per_rank = ddp.gather_objects(local, self.world)
        return {
            "format": "gamut-train-1",
            "step": self.step,
            "method": self.method.name,
            "config": {"method": self.method.name, "train": self.cfg.to_dict(), "model": dict(self.method.config)},
            "world_size": self.world.size,
            "nets": {n: net.state_dict() for n, net in self.nets.items()},
            "optimizers": {n: plain_groups(opt.state_dict()) for n, opt in self.optimizers.items()},
            "schedulers": {n: s.state_dict() for n, s in self.schedulers.items()},
            "ema": {n: e.state_dict() for n, e in self.ema.items()},
            "ranks": per_rank,
        }

    def save_checkpoint(self) -> Path | None:
        """Check pending losses, write ckpt-<step>.pt atomically (rank 0), keep the last K."""
        self.flush_log()  # raises on NaN/inf before anything is written
        state = self.state_dict()
        path = None
        if self.run_dir is not None and self.world.is_main:
            path = save_checkpoint(self.run_dir / "checkpoints" / f"ckpt-{self.step:07d}.pt", state)
            prune_checkpoints(self.run_dir / "checkpoints", self.cfg.keep_checkpoints)
            self.last_checkpoint = path
        if not self._data_stateful:
            self._open_data(self.step)  # the resumed run opens the same stream here
        ddp.barrier(self.world)
        return path

    def load(self, source: str | Path) -> None:
        """Restore a checkpoint file, or the newest one of a run folder."""
        source = Path(source)
        path = latest_checkpoint(source / "checkpoints") if source.is_dir() else source
        if path is None:
            raise FileNotFoundError(f"{source} holds no checkpoints")
        state = load_checkpoint(path, map_location="cpu")
        if state.get("method") != self.method.name:
            raise ValueError(f"{path} is a checkpoint of {state.get('method')!r}, not {self.method.name!r}")
        saved, own = set(state["nets"]), set(self.nets)
        if saved != own:
            raise ValueError(f"{path} holds networks {sorted(saved)}; {self.method.name} has {sorted(own)}")
        for name, net in self.nets.items():
            try:
                net.load_state_dict(state["nets"][name])
            except RuntimeError as err:
                raise ValueError(f"{path}: its {name} does not fit this {self.method.name} config: {err}") from None
        for name, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
            for g in opt.param_groups:
                for k in ("lr", "initial_lr"):
                    if self.use_graphs and k in g and not torch.is_tensor(g[k]):
                        g[k] = torch.tensor(float(g[k]), device=self.device)
        for name, sched in self.schedulers.items():
            sched.load_state_dict(state["schedulers"][name])
            _float_base_lrs(sched)
        for name, ema in self.ema.items():
            if name in state["ema"]:
                ema.load_state_dict(state["ema"][name])
            else:
                ema.module.load_state_dict(self.nets[name].state_dict())
        self.step = int(state["step"])
        self.last_checkpoint = path
        ranks = state["ranks"]
        if len(ranks) == self.world.size:
            mine = ranks[self.world.rank]
            set_rng_state(mine["rng"])
            if self._data_stateful and mine["data"] is not None:
                self.data.load_state_dict(mine["data"])
            else:
                self._open_data(self.step)
        else:  # another world size: a deterministic, not bit-exact, continuation
            warnings.warn(f"{path} was written by {len(ranks)} processes, resuming with {self.world.size}: reseeding")
            torch.manual_seed(data_seed(self.cfg.seed, self.world.rank, self.step))
            self._open_data(self.step)
        if self.log is not None and self.world.is_main:
            self.log.truncate_after(self.step)


def _float_base_lrs(sched: torch.optim.lr_scheduler.LRScheduler) -> None:
    """Keep the schedule's base LRs as floats: the new LR is then written into a
    tensor LR (graph-captured optimizers) with fill_(float), no device scalar maths."""
    sched.base_lrs = [float(b) for b in sched.base_lrs]


def install_stop_signals(trainer: Trainer) -> None:
    """SIGTERM/SIGINT checkpoint and exit at the next step instead of dying mid-write."""

    def handler(signum: int, frame: Any) -> None:
        trainer.request_stop()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def start_run(
    method: Method,
    config: TrainConfig,
    out: str | Path = "runs",
    resume: str | Path | None = None,
) -> Trainer:
    """A Trainer with its run folder: a new ``out/<NNNNN>-<method>/``, or the
    folder of ``resume`` (a run folder or one of its checkpoints)."""
    world = ddp.World(rank=int(os.environ.get("RANK", "0")), size=int(os.environ.get("WORLD_SIZE", "1")))
    # world_size records how many processes trained it (gamut bench ddp reads it).
    resolved = {"method": method.name, "train": config.to_dict(), "model": dict(method.config), "world_size": world.size}
    if resume is not None:
        resume = Path(resume)
        run_dir = resume if resume.is_dir() else resume.parent.parent
        read_config(run_dir)  # fails clearly on a folder that is not a run
    elif world.is_main:
        run_dir = new_run_folder(out, method.name)
    else:
        run_dir = None
    if run_dir is not None and world.is_main:
        write_config(run_dir, resolved)
    return Trainer(method, config, run_dir=run_dir if world.is_main else None, resume=resume)
