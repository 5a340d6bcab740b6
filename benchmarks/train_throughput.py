"""Training throughput per variant: tokens/s, peak memory, and the share of non-padding tokens per batch.

    python benchmarks/train_throughput.py                    # tiny Llama from config, HumanEval rows (CPU)
    python benchmarks/train_throughput.py --base-model smollm2 --steps 3
    python benchmarks/train_throughput.py --base-model smollm2 --dataset build/experiments/smol/dataset \
        --config mbpp --split train --ir cfg --batchings random grouped --steps 1   # the smol recipe's rows

Every cell starts from the smol recipe (`--recipe`, configs/smol.yaml: its LoRA, dropout, accumulation and
checkpointing settings), so the figures are the recipe's; `--batch-size` overrides its rows per step.

The baseline is plain random batching (padding to the longest row in the batch);
it is compared in the same process with length-grouped batching (what the
recipes use) and with TRL's packing (best-fit-decreasing, no padding).

Precision: each cell runs in fp32 and, where the CPU has native bf16 matmul (or on CUDA), in bf16 (`--precisions`):
autocast, the frozen base stored in bf16, the trained weights (LoRA, new rows) fp32 master weights
(`trainers.run.base_weights_dtype`). Both run on the same rows in the same order with the same seed, so the
bf16 run's loss curve can be read against fp32's step by step. The loss a bf16 cell logs is computed with bf16
activations; each cell's trained weights are also scored the same way for both precisions (fp32 arithmetic,
the bf16-rounded base, `fp32_loss_of_trained_weights`), which compares what was learned. Each cell's peak
memory is its own (the process's peak is reset before every training):

    python benchmarks/train_throughput.py --base-model smollm2 --dataset build/experiments/smol/dataset \
        --ir cfg --batchings grouped --steps 10      # the smol recipe: bf16 vs fp32 for A, B, C
    python benchmarks/train_throughput.py ... --profile   # + seconds per step by op category, fp32 -> bf16
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def padding_share(trainer) -> float:
    """Share of real (non-padding) tokens over one epoch of the trainer's own dataloader."""
    real = total = 0
    for batch in trainer.get_train_dataloader():
        mask = batch.get("attention_mask")
        ids = batch["input_ids"]
        real += int(mask.sum()) if mask is not None else ids.numel()
        total += ids.numel()
    print(
        f"  [{trainer.args.train_sampling_strategy}] {len(trainer.train_dataset)} examples, {total} token slots"
    )
    return real / total


LOSS_BATCHES = 4  # batches the trained weights are scored on in fp32 (the first of the trainer's own order)


def fp32_loss_of_trained_weights(trainer, batches: int = LOSS_BATCHES) -> float:
    """The trained model's mean loss on the first `batches` batches of its dataloader that have a labelled
    token, computed the same way for every precision: fp32 arithmetic, no autocast, the frozen weights rounded to bf16 (what a bf16 cell
    trains on, so both cells score the same base), the trained weights (LoRA, new rows) as trained.

    The loss a bf16 cell logs while training is computed in bf16 activations, which round away part of a small
    adapter's contribution; this one says whether the trained weights themselves are as good as fp32's."""
    import copy

    import torch

    model = copy.deepcopy(trainer.model).float().eval()
    for parameter in model.parameters():
        if not parameter.requires_grad:
            parameter.data = parameter.data.to(torch.bfloat16).float()
    losses = []
    with torch.no_grad(), torch.autocast(model.device.type, enabled=False):
        for batch in trainer.get_train_dataloader():
            inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "labels") if k in batch}
            if "labels" in inputs and not (inputs["labels"] != -100).any():
                continue  # no labelled token (a packed batch of the tiny default can have none): its loss is NaN
            losses.append(model(**inputs).loss.item())
            if len(losses) == batches:
                break
    del model
    return sum(losses) / len(losses) if losses else float("nan")


# where a training step's time goes, by the self time of the ops (torch.profiler): the matmuls are what bf16 can
# speed up by its matmul rate; everything else decides how far a whole step falls short of that
OP_CATEGORIES = (
    ("matmul", ("aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm")),
    # TRL's fused head accumulates its backward matmuls in fp32 (`acc.addmm_(a.float(), b.float())`: CPU has no
    # bf16 matmul with an fp32 output), so these run at the fp32 rate under bf16 autocast too
    ("head grad matmul, fp32", ("aten::addmm_",)),
    ("attention", ("scaled_dot_product",)),
    ("dtype casts and copies", ("aten::copy_", "aten::_to_copy")),
    ("softmax and loss", ("softmax", "nll_loss", "cross_entropy")),
)


def op_category(name: str) -> str:
    for category, patterns in OP_CATEGORIES:
        if any(name == p or (not p.startswith("aten::") and p in name) for p in patterns):
            return category
    return "everything else"


class ProfileSteps:
    """A trainer callback that profiles the optimizer steps after the first (kernel selection, allocator warm-up)
    and sums the ops' self CPU time by `op_category`, in seconds per step."""

    def __init__(self):
        from transformers import TrainerCallback

        outer = self

        class Callback(TrainerCallback):
            def on_step_begin(self, args, state, control, **kwargs):
                if state.global_step == 1:
                    outer.start()

            def on_train_end(self, args, state, control, **kwargs):
                outer.stop(state.global_step - 1)

        self.callback = Callback()
        self.profiler = None
        self.seconds: dict[str, float] = {}

    def start(self):
        from torch.profiler import ProfilerActivity, profile

        self.profiler = profile(activities=[ProfilerActivity.CPU])
        self.profiler.__enter__()

    def stop(self, steps: int):
        if self.profiler is None or steps < 1:
            return
        self.profiler.__exit__(None, None, None)
        totals: dict[str, float] = {}
        for event in self.profiler.key_averages():
            category = op_category(event.key)
            totals[category] = totals.get(category, 0.0) + event.self_cpu_time_total / 1e6
        self.seconds = {k: round(v / steps, 3) for k, v in totals.items()}


def run(
    variant,
    batching,
    precision,
    base_model,
    data,
    workdir,
    steps,
    batch_size,
    ir_tokens,
    ir="ast",
    recipe=None,
    profile=False,
):
    from codereps.variants import get_variant
    from trainers.run import train_variant
    from trainers.sft import parse

    extra = {
        "random": [],
        "grouped": ["--train_sampling_strategy", "group_by_length"],
        "packed": ["--packing"],
    }
    dataset, config, split = data
    argv = ["--config", str(recipe)] if recipe else []
    argv += ["--model_name_or_path", base_model, "--dataset_name", dataset, "--dataset_config", config]
    argv += ["--dataset_train_split", split, "--variant", variant, "--ir", ir, "--merge", "false"]
    argv += ["--output_dir", str(workdir / f"{variant}-{batching}-{precision}"), "--max_steps", str(steps)]
    argv += ["--bf16", "true" if precision == "bf16" else "false", "--seed", "0"]
    if batch_size is not None:  # else the recipe's
        argv += ["--per_device_train_batch_size", str(batch_size)]
    argv += ["--logging_steps", "1"]
    argv += ["--save_strategy", "no", *extra[batching]]
    needs_extension = get_variant(variant).needs_extension
    if needs_extension:
        argv += ["--ir_tokenizer", "given-in-process"]
    shares, fp32_losses = [], []
    profiler = ProfileSteps() if profile else None

    from trl import SFTTrainer

    original_train = SFTTrainer.train

    def train_and_measure(self, *a, **k):  # measure the dataloader the trainer really uses
        shares.append(padding_share(self))
        if profiler:
            self.add_callback(profiler.callback)
        output = original_train(self, *a, **k)
        fp32_losses.append(fp32_loss_of_trained_weights(self))
        return output

    SFTTrainer.train = train_and_measure
    try:
        log = train_variant(*parse(argv), ir_tokens=ir_tokens if needs_extension else None)
    finally:
        SFTTrainer.train = original_train
    return {
        "variant": variant,
        "batching": batching,
        "precision": precision,
        "loss_curve": [round(p["loss"], 4) for p in log["loss_curve"]],
        "final_loss": log["final_loss"],
        "fp32_loss": round(fp32_losses[0], 4),
        "tokens_per_s": round(log["train_tokens_per_s"], 1),
        "peak_memory_mb": round(log["peak_memory_mb"]),
        "non_padding_share": round(shares[0], 3),
        **({"profile_s_per_step": profiler.seconds} if profiler else {}),
    }


def default_precisions() -> list[str]:
    """fp32, plus bf16 where `resolve_dtype` would run it (CUDA with bf16, or a CPU with AVX512-BF16/AMX)."""
    import torch

    from eval_space.generation import DtypeError, resolve_dtype

    try:
        resolve_dtype("bfloat16", "cuda" if torch.cuda.is_available() else "cpu")
    except DtypeError as e:
        print(f"{e}: fp32 only", flush=True)
        return ["fp32"]
    return ["fp32", "bf16"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="tiny", help="tiny (from config) or smollm2 / a model folder")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, help="rows per device step (default: the recipe's)")
    parser.add_argument(
        "--recipe",
        default=str(Path(__file__).resolve().parent.parent / "configs" / "smol.yaml"),
        help="the `codereps train` recipe every cell starts from (default: configs/smol.yaml)",
    )
    parser.add_argument(
        "--rows", type=int, default=164, help="HumanEval rows (length grouping needs >= 4 batches)"
    )
    parser.add_argument("--variants", nargs="+", default=["A", "B", "C"])
    parser.add_argument("--batchings", nargs="+", default=["random", "grouped", "packed"])
    parser.add_argument(
        "--dataset", help="a dataset repo folder instead of HumanEval rows (with --config --split)"
    )
    parser.add_argument("--config", default="mbpp")
    parser.add_argument("--split", default="train")
    parser.add_argument("--ir", default="ast", choices=["ast", "cfg"], help="the IR of variants B and C")
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=["fp32", "bf16"],
        help="default: fp32, and bf16 where this device has native bf16 matmul",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile every step after the first: seconds per step by op category, bf16 against fp32",
    )
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if len(args.batchings) > 1 and "random" not in args.batchings:
        parser.error("--batchings must include random, the baseline, when it compares several")
    precisions = args.precisions or default_precisions()
    print(f"precisions: {', '.join(precisions)}", flush=True)
    if args.ir == "cfg" and not args.dataset:
        parser.error("--ir cfg needs --dataset (the HumanEval fixture rows carry only the ast)")

    from train_fixtures import humaneval_rows, tiny_ir_tokens, write_dataset_repo
    from transformers import AutoTokenizer

    from trainers.base_model import resolve_model_path
    from trainers.tiny_model import build_tiny_model

    workdir = Path(tempfile.mkdtemp(prefix="train-throughput-"))
    if args.dataset:
        from trainers.data import load_split

        rows = list(load_split(args.dataset, args.config, args.split, None))
        data = (args.dataset, args.config, args.split)
        print(f"{len(rows)} rows of {args.dataset} [{args.config}/{args.split}]", flush=True)
    else:
        rows = humaneval_rows(args.rows)
        data = (str(write_dataset_repo(workdir / "dataset", "humaneval", "test", rows)), "humaneval", "test")
        print(f"{len(rows)} HumanEval rows", flush=True)
    base = (
        str(build_tiny_model(workdir / "tiny"))
        if args.base_model == "tiny"
        else resolve_model_path(args.base_model)
    )
    ir_tokens = tiny_ir_tokens(AutoTokenizer.from_pretrained(base), [r[args.ir] for r in rows if r[args.ir]])

    results = []
    for variant in args.variants:
        for batching in args.batchings:
            for precision in precisions:
                results.append(
                    run(
                        variant,
                        batching,
                        precision,
                        base,
                        data,
                        workdir,
                        args.steps,
                        args.batch_size,
                        ir_tokens,
                        args.ir,
                        args.recipe,
                        args.profile,
                    )
                )
                r = results[-1]
                print(
                    f"{variant} {batching:<8} {precision} {r['tokens_per_s']:>8} tok/s  "
                    f"peak {r['peak_memory_mb']:>5} MB  non-padding {r['non_padding_share']:.1%}  "
                    f"final loss {r['final_loss']:.4f}",
                    flush=True,
                )

    def cell(variant, batching, precision):
        return next(
            (
                r
                for r in results
                if (r["variant"], r["batching"], r["precision"]) == (variant, batching, precision)
            ),
            None,
        )

    if len(args.batchings) > 1:
        print("\nratios vs random batching (same variant and precision):")
        for variant in args.variants:
            for precision in precisions:
                base_r = cell(variant, "random", precision)
                for batching in args.batchings:
                    r = cell(variant, batching, precision)
                    if batching != "random":
                        print(
                            f"{variant} {batching:<8} {precision} tokens/s "
                            f"x{r['tokens_per_s'] / base_r['tokens_per_s']:.2f}  "
                            f"non-padding {base_r['non_padding_share']:.1%} -> {r['non_padding_share']:.1%}"
                        )
    if "bf16" in precisions and "fp32" in precisions:
        print(f"\nbf16 vs fp32 (same variant, batching, rows, order and seed; {args.steps} steps):")
        for variant in args.variants:
            for batching in args.batchings:
                fp32, bf16 = cell(variant, batching, "fp32"), cell(variant, batching, "bf16")
                # a step can log a loss of 0 (a packed tiny batch with no labelled token): no relative gap there
                gap = max(
                    (
                        abs(a - b) / a
                        for a, b in zip(fp32["loss_curve"], bf16["loss_curve"], strict=False)
                        if a
                    ),
                    default=0.0,
                )
                print(
                    f"{variant} {batching:<8} tokens/s x{bf16['tokens_per_s'] / fp32['tokens_per_s']:.2f}  "
                    f"final loss as logged {fp32['final_loss']:.4f} -> {bf16['final_loss']:.4f} "
                    f"({(bf16['final_loss'] - fp32['final_loss']) / fp32['final_loss']:+.2%}; largest gap on "
                    f"one step {gap:.2%}); trained weights scored in fp32 on {LOSS_BATCHES} batches "
                    f"{fp32['fp32_loss']:.4f} -> {bf16['fp32_loss']:.4f} "
                    f"({(bf16['fp32_loss'] - fp32['fp32_loss']) / fp32['fp32_loss']:+.2%})"
                )
    if args.profile and "bf16" in precisions and "fp32" in precisions:
        print_profiles(args, cell)
    for path in [workdir / "train_throughput.json", *([Path(args.output)] if args.output else [])]:
        path.write_text(json.dumps(results, indent=2))
        print(f"wrote {path}")


def print_profiles(args, cell) -> None:
    """Seconds per step by op category, fp32 -> bf16, and what the bf16 step would be if each category ran at
    the matmuls' ratio (the step's ceiling with today's kernels is the matmul ratio only if nothing else lags)."""
    categories = [name for name, _ in OP_CATEGORIES] + ["everything else"]
    for variant in args.variants:
        for batching in args.batchings:
            fp32 = cell(variant, batching, "fp32")["profile_s_per_step"]
            bf16 = cell(variant, batching, "bf16")["profile_s_per_step"]
            total32, total16 = sum(fp32.values()), sum(bf16.values())
            print(f"\n{variant} {batching}: profiled op time per step, fp32 -> bf16 (self CPU time)")
            for name in categories:
                a, b = fp32.get(name, 0.0), bf16.get(name, 0.0)
                ratio = f"x{a / b:.2f}" if b else "-"
                print(
                    f"  {name:<24} {a:7.3f} s -> {b:7.3f} s  {ratio:>6}  ({a / total32:5.1%} of the fp32 step)"
                )
            print(f"  {'all ops':<24} {total32:7.3f} s -> {total16:7.3f} s  x{total32 / total16:.2f}")


if __name__ == "__main__":
    main()
