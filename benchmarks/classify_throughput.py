"""Pair-classifier training throughput: fp32 against bfloat16 autocast, in the same process.

    python benchmarks/classify_throughput.py                       # MiniLM cross-encoders, stdlib pairs
    python benchmarks/classify_throughput.py --archs encoder --steps 40 --batch-size 16 --max-length-cap 128
    python benchmarks/classify_throughput.py --dataset build/ds --ast-tokenizer build/tok/codereps-ast-tokenizer

The baseline is fp32 training (the default). Each cell trains a fresh classifier
from the same seed on the same rows for `--steps` optimizer steps and reports
training pairs/s (the first step, which pays one-time costs, is left out), the
mean loss of the first steps (bf16 should follow fp32 closely) and the speed-up.
Without `--dataset`, pairs are built from the 3,169 standard-library functions
of the funcskeleton reference outputs in ../shared, and the AST tokenizer is a
small BPE trained on them.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def step_timer(times: list):
    """A TrainerCallback appending each optimizer step's wall time to `times`."""
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            times.append(time.perf_counter() - self.start)

    return StepTimer()


def stdlib_pairs(workdir: Path):
    """A pair dataset and an AST tokenizer from the funcskeleton reference functions (no build needed)."""
    import gzip

    from classify_fixtures import train_tiny_tokenizer, write_pair_dataset

    from codereps.paths import shared_data_dir

    with gzip.open(shared_data_dir() / "funcskeleton" / "stdlib_golden.jsonl.gz", "rt") as f:
        functions = [json.loads(line) for line in f]
    dataset = write_pair_dataset(workdir / "pairs", {"train": functions}, pairs=("src-ast",))
    tokenizer = train_tiny_tokenizer([f["ast"] for f in functions], workdir / "ast-tokenizer", 2000)
    return str(dataset), str(tokenizer)


def run_cell(arch, bf16, rows, ast_tokenizer, args):
    import torch

    from trainers.classifiers import build_classifier
    from trainers.classifiers.training import ClassifierTrainSettings, train_classifier

    torch.manual_seed(0)
    classifier = build_classifier(
        arch, "src-ast", rows, {"ast": ast_tokenizer}, max_length_cap=args.max_length_cap
    )
    settings = ClassifierTrainSettings(
        max_steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=5e-5,
        new_parameters_learning_rate=1e-3,
        logging_steps=1,
        bf16=bf16,
    )
    times = []
    stats = train_classifier(classifier, rows, settings, callbacks=[step_timer(times)])
    timed = times[1:]  # the first step pays for allocations and kernel choices
    pairs_per_s = args.batch_size * len(timed) / sum(timed)
    first_losses = stats["logged_losses"][: min(10, len(stats["logged_losses"]))]
    return {
        "arch": arch,
        "precision": "bf16-autocast" if bf16 else "fp32",
        "pairs_per_s": round(pairs_per_s, 2),
        "mean_step_s": round(sum(timed) / len(timed), 3),
        "mean_loss_first_steps": round(sum(first_losses) / len(first_losses), 4),
        "lengths": classifier.max_lengths,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--archs", nargs="+", default=["encoder", "encoder-extended"])
    parser.add_argument("--dataset", help="a built dataset folder with a pairs-src-ast config")
    parser.add_argument("--ast-tokenizer", help="AST tokenizer folder (required with --dataset)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length-cap", type=int, default=128)
    parser.add_argument("--num-threads", type=int, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from trainers.classifiers.pair_data import load_pair_split

    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
        f"{torch.backends.cpu.get_cpu_capability()}"
    )
    with tempfile.TemporaryDirectory(prefix="codereps-bench-classify-") as tmp:
        if args.dataset:
            if not args.ast_tokenizer:
                parser.error("--dataset needs --ast-tokenizer")
            dataset, ast_tokenizer = args.dataset, args.ast_tokenizer
        else:
            dataset, ast_tokenizer = stdlib_pairs(Path(tmp))
        rows = load_pair_split(dataset, "src-ast", "train").shuffle(seed=0)
        rows = rows.select(range(min(len(rows), args.batch_size * args.steps)))
        results = []
        for arch in args.archs:
            cells = [run_cell(arch, bf16, rows, ast_tokenizer, args) for bf16 in (False, True)]
            speedup = cells[1]["pairs_per_s"] / cells[0]["pairs_per_s"]
            for cell in cells:
                print(json.dumps(cell))
            print(f"{arch}: bf16 autocast x{speedup:.2f} the fp32 pairs/s")
            results += cells
    return results


if __name__ == "__main__":
    main()
