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
