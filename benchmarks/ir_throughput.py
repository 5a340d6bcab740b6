"""Throughput of the IR serializers on the functions of the installed standard library.

    python benchmarks/ir_throughput.py                 # 10,000 functions spread over the stdlib, best of 3
    python benchmarks/ir_throughput.py --functions 0   # every function (~49k on 3.11)

In one process, on the same function sources, it times (CPU time of this
process, best of --repeat rounds, the methods interleaved within each round):

- `ast.parse` alone: the baseline;
- `serialize_cfg(src)`: parse + CFG;
- `serialize_source(src)`: parse once + AST + CFG, what `codereps ir` does per row;

and prints functions/second and each one's cost relative to `ast.parse`. The
target is AST+CFG at most 2.5x `ast.parse`; funcskeleton on python-scalpel
measured about 12x for the CFG alone (800-1,400 functions/s on one core).
"""

import argparse
import ast
import json
import time


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--functions", type=int, default=10_000, help="sample size, evenly spread (0 = all)")
    p.add_argument("--repeat", type=int, default=3, help="rounds; the best round counts")
    p.add_argument("--json", help="also write the figures to this JSON file")
    return p


def sample_sources(n: int) -> list[str]:
    from dataset_builder.ir.cfg_corpus import load_stdlib_corpus

    sources = [fn.src for _, fn in load_stdlib_corpus().functions]
    if n and n < len(sources):
        step = len(sources) / n
        sources = [sources[int(i * step)] for i in range(n)]
    return sources


def time_cpu(fn, sources) -> float:
    start = time.process_time()
    for src in sources:
        fn(src)
    return time.process_time() - start


def main(args) -> dict:
    from dataset_builder.ir import serialize_cfg, serialize_source

    sources = sample_sources(args.functions)
    methods = {"ast.parse": ast.parse, "cfg": serialize_cfg, "ast+cfg": serialize_source}
    best = dict.fromkeys(methods, float("inf"))
    for _ in range(args.repeat):
        for name, fn in methods.items():
            best[name] = min(best[name], time_cpu(fn, sources))

    n = len(sources)
    base = best["ast.parse"]
    print(
        f"{n} functions of the stdlib, {sum(map(len, sources)):,} characters; CPU seconds, best of {args.repeat}"
    )
    print(f"{'method':<12}{'seconds':>9}{'functions/s':>13}{'x ast.parse':>13}")
    for name, seconds in best.items():
        print(f"{name:<12}{seconds:>9.2f}{n / seconds:>13,.0f}{seconds / base:>13.2f}")
    verdict = "meets" if best["ast+cfg"] / base <= 2.5 else "misses"
    print(f"ast+cfg costs {best['ast+cfg'] / base:.2f}x ast.parse ({verdict} the 2.5x target)")
    figures = {
        "functions": n,
        "repeat": args.repeat,
        "seconds": best,
        "functions_per_s": {k: n / v for k, v in best.items()},
        "x_ast_parse": {k: v / base for k, v in best.items()},
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)
        print(f"figures written to {args.json}")
    return figures


if __name__ == "__main__":
    main(make_parser().parse_args())
