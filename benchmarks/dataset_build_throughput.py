"""Rows/s of the datatrove builder (local and Ray executors) against the in-process builder, same run, same input.

    .venv/bin/python benchmarks/dataset_build_throughput.py                    # stdlib and site-packages/pip
    .venv/bin/python benchmarks/dataset_build_throughput.py --processes 2 --max-files 300 --corpora stdlib

For each corpus (a folder of .py files built as the `local` config) and each
process count P, every builder builds the whole config into a fresh temporary
folder with the real pipeline (read, serialize AST + CFG, Parquet, report,
card): `datasets` (`Dataset.from_generator`, num_proc=P, the previous
builder), datatrove's local executor with P workers and P or 4P tasks, and its
Ray executor on a local Ray instance with P CPUs (started before the clock, so
the figure is the executor's, not Ray's start-up, which is printed apart).
Rows/s = input items / wall seconds of the whole build (the fastest of
`--repeats` interleaved runs); `vs datasets` is the ratio to the in-process
builder at the same P, measured in this run.
"""

import argparse
import json
import shutil
import sysconfig
import tempfile
import time
from pathlib import Path

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
CORPORA = {"stdlib": Path(sysconfig.get_paths()["stdlib"]), "site-packages": SITE_PACKAGES / "pip"}


def make_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpora", nargs="+", default=list(CORPORA), help="stdlib, site-packages, or folders")
    p.add_argument("--processes", type=int, nargs="+", default=[2], help="process counts P to compare")
    p.add_argument("--max-files", type=int, help="use only the first N files (sorted), for a quick run")
    p.add_argument(
        "--repeats", type=int, default=1, help="runs per builder, interleaved; the fastest is kept"
    )
    p.add_argument("--builders", nargs="+", default=["datasets", "local", "local-4x", "ray"])
    p.add_argument("--json", help="also write the figures to this JSON file")
    return p


def run_builder(builder: str, source, processes: int) -> dict:
    from dataset_builder.build import build_source_config
    from dataset_builder.executors import BuildPlan, build_with_datatrove

    out = Path(tempfile.mkdtemp(prefix="codereps-bench-")) / "ds"
    quiet = lambda *a: None  # noqa: E731
    try:
        started = time.perf_counter()
        if builder == "datasets":
            report = build_source_config(source, out, num_proc=processes, log=quiet)
        else:
            tasks = processes * 4 if builder == "local-4x" else processes
            plan = BuildPlan(
                source=source, output=str(out), filter_name="none", tasks=tasks, repo_id="x/y", command=""
            )
            executor = "ray" if builder == "ray" else "local"
            report = build_with_datatrove(plan, executor=executor, workers=processes, log=quiet)
        seconds = time.perf_counter() - started
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    return {
        "builder": builder,
        "processes": processes,
        "tasks": report["tasks"],
        "items": report["items_read"],
        "rows": report["rows_written"],
        "skipped": report["skipped"],
        "seconds": round(seconds, 2),
        "rows_per_s": round(report["items_read"] / seconds, 1),
    }


def main(args) -> list:
    import datasets

    from dataset_builder.sources.local import LocalFolderSource

    datasets.disable_progress_bars()
    results = []
    for corpus in args.corpora:
        source = LocalFolderSource(CORPORA.get(corpus, corpus))
        if args.max_files:
            source.files = source.files[: args.max_files]
        print(f"\n{corpus}: {source.input_description()}")
        for processes in args.processes:
            ray_started = None
            if "ray" in args.builders:
                import ray

                t = time.perf_counter()
                ray.init(num_cpus=processes, include_dashboard=False, log_to_driver=False)
                ray_started = time.perf_counter() - t
            try:
                runs = [
                    [run_builder(b, source, processes) for b in args.builders] for _ in range(args.repeats)
                ]
                rows = [min(same, key=lambda r: r["seconds"]) for same in zip(*runs, strict=True)]
            finally:
                if ray_started is not None:
                    ray.shutdown()
            base = next((r for r in rows if r["builder"] == "datasets"), rows[0])
            print(
                f"{'builder':>9} {'P':>3} {'tasks':>6} {'items':>8} {'rows':>8} {'s':>8} {'rows/s':>9} {'vs datasets':>11}"
            )
            for r in rows:
                r["corpus"] = corpus
                r["vs_datasets"] = round(r["rows_per_s"] / base["rows_per_s"], 3)
                print(f"{r['builder']:>9} {r['processes']:>3} {r['tasks']:>6} {r['items']:>8,} {r['rows']:>8,} "
                      f"{r['seconds']:>8.1f} {r['rows_per_s']:>9,.0f} {r['vs_datasets']:>10.2f}x")  # fmt: skip
            if ray_started is not None:
                print(f"(Ray start-up, not counted: {ray_started:.1f} s)")
            assert len({(r["items"], r["rows"]) for r in rows}) == 1, "builders disagree on the rows"
            results.extend(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(make_parser().parse_args())
