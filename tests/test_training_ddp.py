"""The engine under a torchrun-style launch: 2 CPU processes, gloo, 16 px, 2 steps."""

import json
import os
import socket

import torch
import torch.multiprocessing as mp

from gamutlib.training import TrainConfig, start_run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    from test_training_tinygan import TinyGAN

    method = TinyGAN({"size": 16, "batch": 2})
    if rank == 1:  # a different init on rank 1: the engine must broadcast rank 0's
        torch.nn.init.normal_(method.G.main[0].weight)
    config = TrainConfig(steps=2, seed=5, device="cpu", progress=False, log_every=1, checkpoint_every=2, sample_every=2)
    trainer = start_run(method, config, out=os.path.join(out, "runs"))
    first_batch = next(trainer._data_iter)["image"]
    trainer._open_data(0)
    trainer.fit()
    state = {f"{n}.{k}": v for n, net in trainer.nets.items() for k, v in net.state_dict().items()}
    torch.save({"state": state, "batch": first_batch, "run_dir": str(trainer.run_dir)},
               os.path.join(out, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


def test_two_process_gloo_run(tmp_path):
    mp.spawn(worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    # same weights on both ranks (broadcast at start, averaged gradients after)
    assert r0["state"].keys() == r1["state"].keys()
    for k in r0["state"]:
        assert torch.equal(r0["state"][k], r1["state"][k]), k
    # ... that moved away from the broadcast init
    from test_training_tinygan import TinyGAN

    init = TinyGAN({"size": 16, "batch": 2}).G.main[0].weight
    assert not torch.equal(r0["state"]["G.main.0.weight"], init)
    # per-rank seeds: each rank saw different data
    assert not torch.equal(r0["batch"], r1["batch"])
    # rank 0 alone writes the run folder
    assert r1["run_dir"] == "None"
    runs = list((tmp_path / "runs").iterdir())
    assert [p.name for p in runs] == ["00000-tiny"]
    assert [p.name for p in (runs[0] / "checkpoints").iterdir()] == ["ckpt-0000002.pt"]
    log = [json.loads(x) for x in (runs[0] / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2]
    ckpt = torch.load(runs[0] / "checkpoints" / "ckpt-0000002.pt", weights_only=True)
    assert ckpt["world_size"] == 2 and len(ckpt["ranks"]) == 2
    assert not torch.equal(ckpt["ranks"][0]["rng"]["torch"], ckpt["ranks"][1]["rng"]["torch"])


class EagerStandInGraph:
    """Stands in for PhaseGraph on CPU: "captures" by remembering the phase and
    "replays" by running it; fails to capture the phases named in FAIL_ON_RANK1
    on rank 1 only, as a capture that breaks on one GPU would."""

    FAIL_ON_RANK1 = {"D"}

    def __init__(self, trainer, phase, batch, thread_local=False):
        if trainer.world.rank == 1 and phase.name in self.FAIL_ON_RANK1:
            raise RuntimeError("capture failed on this rank")
        assert thread_local, "under a process group the capture must be thread-local"
        self.trainer, self.phase, self.captures = trainer, phase, 1

    def accepts(self, batch):
        return True

    def replay(self, batch):
        self.trainer._zero_grad(self.phase)
        return self.trainer.phase_body(self.phase, batch)


def graph_worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      LOCAL_RANK=str(rank), WORLD_SIZE=str(world))
    torch.set_num_threads(1)
    import warnings

    from test_training_tinygan import TinyGAN

    from gamutlib.training import trainer as trainer_module

    trainer_module.PhaseGraph = EagerStandInGraph
    method = TinyGAN({"size": 16, "batch": 2})
    config = TrainConfig(steps=4, seed=5, device="cpu", progress=False, log_every=2, graph_warmup=1,
                         checkpoint_every=10**6, sample_every=10**6)
    trainer = start_run(method, config, out=None if rank else os.path.join(out, "runs"))
    trainer.use_graphs = True  # the CUDA path's decisions, with the stand-in graph
    trainer._eager_on_side_stream = trainer._eager_with_compile_fallback  # no CUDA streams on CPU
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit()
    state = {f"{n}.{k}": v for n, net in trainer.nets.items() for k, v in net.state_dict().items()}
    torch.save({"state": state, "graphs": sorted(trainer._graphs), "failed": sorted(trainer._graph_failed),
                "warnings": [str(w.message) for w in caught if "CUDA graph" in str(w.message)]},
               os.path.join(out, f"graph-rank{rank}.pt"))
    torch.distributed.destroy_process_group()


def test_ranks_agree_on_each_phase_capture(tmp_path):
    """A phase one rank cannot capture runs eagerly on every rank (no unpaired
    all_reduce, no hang); a phase all ranks capture replays on all of them."""
    mp.spawn(graph_worker, args=(2, free_port(), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "graph-rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "graph-rank1.pt", weights_only=True)
    assert r0["graphs"] == r1["graphs"] == ["G"]
    assert r0["failed"] == r1["failed"] == ["D"]
    assert any("another rank could not capture it" in w for w in r0["warnings"])
    assert any("capture failed on this rank" in w for w in r1["warnings"])
    for k in r0["state"]:
        assert torch.equal(r0["state"][k], r1["state"][k]), k


def test_one_process_can_join_a_group_to_run_the_multi_process_path(monkeypatch):
    from gamutlib.training import distributed as ddp

    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.delenv(ddp.FORCE_GROUP_ENV, raising=False)
    assert not ddp.init_from_env("cpu").distributed
    monkeypatch.setenv(ddp.FORCE_GROUP_ENV, "1")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    import pytest

    with pytest.raises(RuntimeError, match="needs a torchrun launch"):
        ddp.init_from_env("cpu")
