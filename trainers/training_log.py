"""What a training run measured: loss curve, tokens/s, peak memory, wall time -> JSON + a loss plot PNG."""

import json
import time
from pathlib import Path

from transformers import TrainerCallback

from codereps.memory import peak_rss_mb, purge_jemalloc


def peak_memory_mb(device: str) -> float:
    """Peak memory of this process: CUDA allocator peak on GPU, max resident set size on CPU."""
    import torch

    if device == "cuda" and torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return peak_rss_mb()


class TrainingLogCallback(TrainerCallback):
    """Collects the loss curve and counts the tokens the trainer saw (TRL logs `num_tokens`)."""

    def __init__(self):
        self.loss_curve: list[dict] = []
        self.start = None
        self.wall_s = 0.0
        self.num_tokens = 0
        self.start_tokens = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "num_tokens" in logs:
            if self.start_tokens is None:  # a resumed run counts only its own tokens in its speed
                self.start_tokens = 0 if state.global_step <= args.logging_steps else logs["num_tokens"]
            self.num_tokens = logs["num_tokens"]
        if "loss" in logs:
            self.loss_curve.append({"step": state.global_step, "loss": float(logs["loss"])})

    def on_train_end(self, args, state, control, **kwargs):
        self.wall_s = time.perf_counter() - self.start


class PurgeFreedPagesCallback(TrainerCallback):
    """Hand jemalloc's freed pages back after every optimizer step (a no-op on any other allocator).

    `codereps.allocator` configures jemalloc never to purge on a timer, so that a step's micro-batches reuse
    each other's pages instead of faulting them in again. Without a purge the resident set grew without bound
    over a training (SmolLM2 A: 3.2 GB at step 11, 11.4 GB at step 42, 24 GB in the full run): freed extents of
    one step's shapes were not reused by the next step's. One purge per step bounds it by one step's peak."""

    def on_step_end(self, args, state, control, **kwargs):
        purge_jemalloc()


def write_training_log(model_dir: Path, callback: TrainingLogCallback, device: str, extra: dict) -> dict:
    tokens = callback.num_tokens - (callback.start_tokens or 0)
    log = {
        "loss_curve": callback.loss_curve,
        "first_loss": callback.loss_curve[0]["loss"] if callback.loss_curve else None,
        "final_loss": callback.loss_curve[-1]["loss"] if callback.loss_curve else None,
        "train_tokens": tokens,
        "train_tokens_per_s": tokens / callback.wall_s if callback.wall_s else None,
        "wall_time_s": callback.wall_s,
        "peak_memory_mb": peak_memory_mb(device),
        "device": device,
        **extra,
    }
    (model_dir / "training_log.json").write_text(json.dumps(log, indent=2) + "\n")
    plot_loss(log, model_dir / "loss.png")
    return log


def plot_loss(log: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    steps = [p["step"] for p in log["loss_curve"]]
    ax.plot(steps, [p["loss"] for p in log["loss_curve"]], marker=".")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (completion tokens)")
    ax.set_title(f"{log.get('model', '')} variant {log.get('variant', '')}".strip())
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
