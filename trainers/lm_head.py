"""TRL's fused LM head, made to score only the labelled positions on CPU too.

TRL (1.16) computes the loss through a chunked log-prob head (`trl.trainer.utils.add_fused_lm_head`). On
Triton devices it projects only the positions whose label is not -100; everywhere else it projects every
position, so that tile shapes stay fixed for compilers that recompile on each new shape (Neuron). Eager CPU
training compiles nothing, and with the loss on completions only, the prompt and the padding are most of the
positions: projecting them through a 49,152-row head is pure waste. The compact path is TRL's own code, the
same function on fewer rows, so the loss and the gradients are unchanged (tests/test_lm_head.py).

Measured once (a one-off ablation calling benchmarks/train_throughput.py's run() on its rows, with and without
this patch; SmolLM2-135M, smol recipe, first 6 length-grouped steps of 8 rows, bf16): 61.4 -> 77.8 train
tokens/s, peak RSS 9.5 -> 6.9 GB, the same loss curve to the last digit.
"""

import trl.trainer.utils as trl_utils

_ORIGINAL = getattr(trl_utils, "_use_triton", None)


def _compact_everywhere_but_compilers(device) -> bool:
    # this name decides only `compact` in `add_fused_lm_head`; the kernel module keeps its own reference, so the
    # tiles are still folded in torch on CPU
    return device.type == "cpu" or _ORIGINAL(device)


def score_only_labelled_positions() -> bool:
    """Make the fused head skip the positions without a label on CPU; True if it now does (idempotent).

    False when this TRL has no such switch (its fused head changed): training still runs, at TRL's speed."""
    if _ORIGINAL is None:
        return False
    trl_utils._use_triton = _compact_everywhere_but_compilers
    return True
