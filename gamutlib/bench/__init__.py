"""Every speed and size measurement of the study, one module each (``gamut bench ...``).

- ``train``: the engine against a reference-style eager StarGAN loop (img/s);
- ``ddp``: multi-GPU images/s and the loss check from torchrun run folders;
- ``edit``: CPU latency of one live edit per speed variant, any editable method;
- ``photo_edit``: wall time and memory of a whole `gamut edit` of a 24 MP photo;
- ``metrics``: seconds for GANmut's ERE and FED over the evaluation's test set;
- ``render``: faces/s of the benchmark renderer;
- ``footprint``: parameters and fp16 file bytes of what a method ships;
- ``inference``: milliseconds per image of any generator call, GPU or CPU threads (PortraitGAN Table 1).

This package sits above models, the engine and the evaluations (it times
them); nothing below imports it.
"""
