"""Device choice, naming and waiting, shared by training and the benchmarks."""

import pytest
import torch

from gamutlib.devices import device_name, resolve_device, synchronize


def test_auto_is_the_gpu_of_this_rank_or_the_cpu():
    dev = resolve_device("auto", local_rank=0)
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_one_clear_error():
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda:1")


def test_cpu_name_and_sync():
    name = device_name(torch.device("cpu"))
    assert name.startswith("cpu (") and f"{torch.get_num_threads()} threads" in name
    synchronize(torch.device("cpu"))  # a no-op on the CPU: must not raise
