"""The memory allocator's effect on training and generation: the system's (glibc) against jemalloc, one run.

    python benchmarks/allocator_throughput.py --dataset build/experiments/smol/dataset   # the smol recipe's rows
    python benchmarks/allocator_throughput.py --dataset D --steps 4 --problems 16         # a quicker look

An allocator is chosen when a process starts, so each cell runs in its own child process: the same
`train_throughput.py` cell (SmolLM2, the smol recipe's rows, length-grouped, the default precision, the same rows,
order and seed) and the same `generation_throughput.py` run (c) (the engine, its default dtype, the first MBPP
test problems), once with `CODEREPS_ALLOCATOR=system` and nothing preloaded, once with jemalloc preloaded the way
the `codereps` command does it (codereps/allocator.py). The cells alternate allocators, so a slow spell of the
machine does not fall on one allocator only. Ratios are jemalloc's to the system's.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from codereps.allocator import ALLOCATOR_ENV, find_jemalloc, jemalloc_env  # noqa: E402


def child_env(allocator: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "MALLOC_CONF")}
    env[ALLOCATOR_ENV] = "system"
    return jemalloc_env(env, find_jemalloc()) if allocator == "jemalloc" else env


def run_child(argv: list[str], allocator: str, output: Path, log: Path) -> dict | list:
    with log.open("w") as out:
        status = subprocess.run(
            [sys.executable, *argv, "--output", str(output)], env=child_env(allocator), stdout=out, stderr=out
        ).returncode
    if status != 0:
        sys.exit(f"{argv[0]} under {allocator} failed (exit {status}); its output: {log}")
    return json.loads(output.read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset", required=True, help="a dataset repo folder with the mbpp config (the smol run's)"
    )
    parser.add_argument("--variants", nargs="+", default=["A", "C"])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--problems", type=int, default=64, help="MBPP test problems for the generation cell")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    args = parser.parse_args()
    if find_jemalloc() is None:
        sys.exit(
            "jemalloc is not installed (Debian: libjemalloc2; `make install` adds it): nothing to compare"
        )

    sys.path.insert(0, str(HERE))
    from train_throughput import default_precisions

    precision = default_precisions()[-1]  # bf16 where the CPU has it: what the recipes train in
    work = Path(tempfile.mkdtemp(prefix="allocator-throughput-"))
    train = [str(HERE / "train_throughput.py"), "--base-model", "smollm2", "--dataset", args.dataset]
    train += ["--ir", "cfg", "--batchings", "grouped", "--steps", str(args.steps)]
    train += ["--precisions", precision]
    generate = [str(HERE / "generation_throughput.py"), "--runs", "c", "--problems", str(args.problems)]
    generate += ["--max-new-tokens", str(args.max_new_tokens)]
    allocators = ("system", "jemalloc")
    trained: dict = {}
    for variant in args.variants:
        for allocator in allocators:
            cell = run_child(
                [*train, "--variants", variant],
                allocator,
                work / f"train-{variant}-{allocator}.json",
                work / f"train-{variant}-{allocator}.log",
            )
            trained[variant, allocator] = r = cell[-1]
            print(
                f"train {variant} {r['precision']} {allocator:<8} {r['tokens_per_s']:>7.1f} tok/s  "
                f"peak {r['peak_memory_mb']:>5} MB  final loss {r['final_loss']:.4f}",
                flush=True,
            )
    generated = {}
    for allocator in allocators:
        runs = run_child(
            generate, allocator, work / f"generate-{allocator}.json", work / f"generate-{allocator}.log"
        )
        generated[allocator] = r = runs["runs"][-1]
        print(
            f"generate (c) {r['dtype']} {allocator:<8} {r['useful_tokens_per_s']:>7.1f} useful tok/s  "
            f"{r['problems_per_s']:.3f} problems/s",
            flush=True,
        )

    print(f"\njemalloc vs the system allocator ({args.steps} training steps, {args.problems} problems):")
    for variant in args.variants:
        system, jemalloc = trained[variant, "system"], trained[variant, "jemalloc"]
        print(
            f"train {variant}: tokens/s x{jemalloc['tokens_per_s'] / system['tokens_per_s']:.2f}  "
            f"peak {system['peak_memory_mb']} -> {jemalloc['peak_memory_mb']} MB  "
            f"final loss {system['final_loss']:.4f} -> {jemalloc['final_loss']:.4f}"
        )
    system, jemalloc = generated["system"], generated["jemalloc"]
    print(
        f"generate: useful tokens/s x{jemalloc['useful_tokens_per_s'] / system['useful_tokens_per_s']:.2f}  "
        f"problems/s x{jemalloc['problems_per_s'] / system['problems_per_s']:.2f}"
    )
    (work / "allocator_throughput.json").write_text(
        json.dumps(
            {"train": {f"{v}-{a}": c for (v, a), c in trained.items()}, "generate": generated}, indent=1
        )
    )
    print(f"wrote {work / 'allocator_throughput.json'}")


if __name__ == "__main__":
    main()
