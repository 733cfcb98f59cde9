"""Export the generator of one training checkpoint as a weights file.

    python3 scripts/gpu/export_checkpoint.py RUN/checkpoints/ckpt-0030000.pt NAME OUT_DIR

A mid-run checkpoint is scored exactly like a shipped file (``gamut evaluate
ganmut NAME --weights-dir OUT_DIR``), so the training-length study can read
the same metrics at 10k, 30k, ... iterations of one run. EMA copies, where the
run kept any, replace the live networks as ``Trainer.export_modules`` does.
"""

from __future__ import annotations

import sys

from gamutlib.papers import get_method
from gamutlib.training.checkpoint import load_checkpoint
from gamutlib.weights import export_weights


def main(checkpoint: str, name: str, out_dir: str) -> None:
    state = load_checkpoint(checkpoint, map_location="cpu")  # weights_only: no pickle
    config = state["config"]
    method = get_method(config["method"], config["model"])
    nets = method.networks()
    for net_name, net in nets.items():
        net.load_state_dict(state["nets"][net_name])
        if net_name in state.get("ema", {}):
            net.load_state_dict(state["ema"][net_name])
    path = export_weights(name, method.export(), dict(method.config), root=out_dir, method=config["method"])
    print(f"step {state['step']}: {path}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
