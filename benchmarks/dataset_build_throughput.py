"""Rows/s of `codereps dataset build` on the CPython standard library as a `local` source.

    .venv/bin/python benchmarks/dataset_build_throughput.py                      # whole stdlib, 1 and 2 processes
    .venv/bin/python benchmarks/dataset_build_throughput.py --max-files 200 --num-proc 1 2 4

Each run builds the `local` config into a fresh temporary folder with the real
pipeline (read, filter, serialize AST + CFG, Parquet, card) and prints rows/s of
row production (what the build itself reports) and of the whole build, then the
speed-up of each run over the first (the baseline, same process, same input).
"""

import argparse
import json
import shutil
import sysconfig
import tempfile
import time
from pathlib import Path


def make_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--input", default=sysconfig.get_paths()["stdlib"], help="folder of .py files (default: stdlib)"
    )
    p.add_argument("--num-proc", type=int, nargs="+", default=[1, 2], help="process counts to compare")
    p.add_argument("--max-files", type=int, help="use only the first N files (sorted), for a quick run")
    p.add_argument("--filter", default="none", choices=("none", "seed"))
    p.add_argument("--json", help="also write the figures to this JSON file")
    return p


def main(args) -> list:
    import datasets

    from dataset_builder.build import build_source_config
    from dataset_builder.sources.local import LocalFolderSource

    datasets.disable_progress_bars()  # keep the figures readable
    source = LocalFolderSource(args.input)
    if args.max_files:
        source.files = source.files[: args.max_files]
    print(f"input: {source.input_description()}, filter {args.filter}")
    results = []
    for num_proc in args.num_proc:
        out = Path(tempfile.mkdtemp(prefix="codereps-bench-")) / "ds"
        try:
            started = time.perf_counter()
            report = build_source_config(
                source, out, filter_name=args.filter, num_proc=num_proc, log=lambda *a: None
            )
            total = time.perf_counter() - started
        finally:
            shutil.rmtree(out.parent, ignore_errors=True)
        results.append(
            {
                "num_proc": num_proc,
                "items": report["items_read"],
                "rows": report["rows_written"],
                "skipped": report["skipped"],
                "generate_s": report["seconds"],
                "rows_per_s": report["items_per_s"],
                "total_s": round(total, 2),
                "total_rows_per_s": round(report["items_read"] / total, 1),
            }
        )
    base = results[0]
    print(
        f"{'num_proc':>8} {'items':>8} {'rows':>8} {'gen s':>8} {'rows/s':>9} {'total s':>8} {'rows/s all':>10} {'vs first':>8}"
    )
    for r in results:
        print(
            f"{r['num_proc']:>8} {r['items']:>8,} {r['rows']:>8,} {r['generate_s']:>8.1f} {r['rows_per_s']:>9,.0f} "
            f"{r['total_s']:>8.1f} {r['total_rows_per_s']:>10,.0f} {r['rows_per_s'] / base['rows_per_s']:>7.2f}x"
        )
    print(f"skipped (num_proc {base['num_proc']}): {base['skipped']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(make_parser().parse_args())
