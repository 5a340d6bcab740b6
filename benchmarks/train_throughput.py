"""Training throughput per variant: tokens/s, peak memory, and the share of non-padding tokens per batch.

    python benchmarks/train_throughput.py                    # tiny Llama from config, HumanEval rows (CPU)
    python benchmarks/train_throughput.py --base-model smollm2 --steps 3
    python benchmarks/train_throughput.py --base-model smollm2 --dataset build/experiments/smol/dataset \
        --config mbpp --split train --ir cfg --batchings random grouped --steps 1   # the smol recipe's rows

The baseline is plain random batching (padding to the longest row in the batch);
it is compared in the same process with length-grouped batching (what the
recipes use) and with TRL's packing (best-fit-decreasing, no padding).
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


def run(variant, batching, base_model, data, workdir, steps, batch_size, ir_tokens, ir="ast"):
    from trainers.run import train_variant
    from trainers.sft import parse

    extra = {
        "random": [],
        "grouped": ["--train_sampling_strategy", "group_by_length"],
        "packed": ["--packing"],
    }
    dataset, config, split = data
    argv = ["--model_name_or_path", base_model, "--dataset_name", dataset, "--dataset_config", config]
    argv += ["--dataset_train_split", split, "--variant", variant, "--ir", ir, "--merge", "false"]
    argv += ["--output_dir", str(workdir / f"{variant}-{batching}"), "--max_steps", str(steps)]
    argv += ["--per_device_train_batch_size", str(batch_size), "--max_length", "512", "--logging_steps", "1"]
    argv += ["--save_strategy", "no", *extra[batching]]
    if variant == "C":
        argv += ["--ir_tokenizer", "given-in-process"]
    shares = []

    from trl import SFTTrainer

    original_train = SFTTrainer.train

    def train_and_measure(self, *a, **k):  # measure the dataloader the trainer really uses
        shares.append(padding_share(self))
        return original_train(self, *a, **k)

    SFTTrainer.train = train_and_measure
    try:
        log = train_variant(*parse(argv), ir_tokens=ir_tokens if variant == "C" else None)
    finally:
        SFTTrainer.train = original_train
    return {
        "variant": variant,
        "batching": batching,
        "tokens_per_s": round(log["train_tokens_per_s"], 1),
        "peak_memory_mb": round(log["peak_memory_mb"]),
        "non_padding_share": round(shares[0], 3),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="tiny", help="tiny (from config) or smollm2 / a model folder")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
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
    args = parser.parse_args()
    if "random" not in args.batchings:
        parser.error("--batchings must include random, the baseline")
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
            results.append(
                run(variant, batching, base, data, workdir, args.steps, args.batch_size, ir_tokens)
            )
            r = results[-1]
            print(
                f"{variant} {batching:<8} {r['tokens_per_s']:>8} tok/s  peak {r['peak_memory_mb']:>5} MB  "
                f"non-padding {r['non_padding_share']:.1%}",
                flush=True,
            )
    print("\nratios vs random batching (same variant):")
    for variant in args.variants:
        base_r = next(r for r in results if r["variant"] == variant and r["batching"] == "random")
        for r in results:
            if r["variant"] == variant and r["batching"] != "random":
                print(
                    f"{variant} {r['batching']:<8} tokens/s x{r['tokens_per_s'] / base_r['tokens_per_s']:.2f}  "
                    f"non-padding {base_r['non_padding_share']:.1%} -> {r['non_padding_share']:.1%}"
                )
    (workdir / "train_throughput.json").write_text(json.dumps(results, indent=2))
    print(f"\nwrote {workdir / 'train_throughput.json'}")


if __name__ == "__main__":
    main()
