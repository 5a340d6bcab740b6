"""Candidates per second: our sandboxed executor vs a bare `python -c` per candidate vs evaluate's code_eval.

All runners score the same jobs (MBPP's 500 test-split reference solutions, --samples copies of each) at
the same worker count, in one process, one after the other; each must report the same pass@1 (1.0).

    python benchmarks/pass_at_k_throughput.py                          # ours and bare subprocess
    python benchmarks/pass_at_k_throughput.py --code-eval /tmp/code_eval --samples 3 --workers 2
    python benchmarks/pass_at_k_throughput.py --limit 100 --output bench.json
    python benchmarks/pass_at_k_throughput.py --exclude 123     # per-candidate overhead without the ~5 s task

`--code-eval DIR`: a folder holding `code_eval.py` and `execute.py` from huggingface/evaluate's
`metrics/code_eval/` (not on PyPI and not loadable offline; never commit it). The machine's load is
printed: other processes on the same cores shift every runner's figure, so compare ratios from one run.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=2, help="copies of each reference solution")
    parser.add_argument("--limit", type=int, default=500, help="first N MBPP test problems")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="same for every runner")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per candidate, every runner")
    parser.add_argument("--code-eval", type=Path, help="folder with evaluate's code_eval.py + execute.py")
    parser.add_argument(
        "--exclude", type=int, nargs="*", default=[], help="MBPP task ids to leave out (e.g. 123, ~5 s alone)"
    )
    parser.add_argument("--skip-bare", action="store_true", help="do not run the bare subprocess runner")
    parser.add_argument("--output", type=Path, help="also write the figures to this JSON file")
    return parser


def cpu_seconds() -> float:
    """CPU time of this process and of every finished descendant (fork servers and their candidates are
    waited for when they close): a figure the machine's load disturbs far less than wall time."""
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def mbpp_jobs(limit: int, samples: int, exclude=()):
    from eval_space.tasks import get_task

    task = get_task("mbpp")
    docs = [doc for doc in task.get_dataset()[:limit] if doc["task_id"] not in set(exclude)]
    predictions = [[task.get_solution(doc)] * samples for doc in docs]
    references = [task.get_reference(doc) for doc in docs]
    return predictions, references


def pass_at_1(passed_per_problem) -> float:
    return sum(sum(p) / len(p) for p in passed_per_problem) / len(passed_per_problem)


def run_ours(predictions, references, workers, timeout):
    from eval_space.pass_at_k.pass_at_k import score_candidates

    result = score_candidates(predictions, references, k=[1], num_workers=workers, timeout=timeout)
    return result["pass@1"], result["isolation"]


def run_bare_subprocess(predictions, references, workers, timeout):
    """The no-sandbox baseline: one fresh interpreter per candidate, candidate + tests as `python -c`."""

    def run(program: str) -> bool:
        try:
            done = subprocess.run(
                [sys.executable, "-c", program],
                capture_output=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return False
        return done.returncode == 0

    # The same sample-major schedule as ours, so both spread the copies of a slow problem over time.
    order = sorted((j, i) for i, candidates in enumerate(predictions) for j in range(len(candidates)))
    programs = [(i, predictions[i][j] + "\n" + references[i]) for j, i in order]
    with ThreadPoolExecutor(workers) as pool:
        passed = list(pool.map(lambda job: run(job[1]), programs))
    per_problem = [[] for _ in predictions]
    for (i, _), ok in zip(programs, passed, strict=True):
        per_problem[i].append(ok)
    return pass_at_1(per_problem), "none"


def run_code_eval(folder: Path, predictions, references, workers, timeout):
    import evaluate

    for name in ("code_eval.py", "execute.py"):
        if not (folder / name).is_file():
            raise SystemExit(
                f"{folder}: missing {name} (copy metrics/code_eval/ of huggingface/evaluate there)"
            )
    metric = evaluate.load(str(folder / "code_eval.py"))
    pass_at_k, _ = metric.compute(
        predictions=predictions, references=references, k=[1], num_workers=workers, timeout=timeout
    )
    return float(pass_at_k["pass@1"]), "reliability_guard (same process)"


def main(argv=None) -> int:
    args = make_parser().parse_args(argv)
    os.environ["HF_ALLOW_CODE_EVAL"] = "1"  # a benchmark of code execution: the opt-in is the point
    predictions, references = mbpp_jobs(args.limit, args.samples, args.exclude)
    candidates = sum(len(p) for p in predictions)
    excluded = f" (excluded: {args.exclude})" if args.exclude else ""
    print(
        f"MBPP references: {len(predictions)} problems x {args.samples} samples = {candidates} candidates{excluded}"
    )
    print(f"workers {args.workers}, timeout {args.timeout}s, load average before: {os.getloadavg()}")

    runners = {
        "ours (sandboxed fork servers)": lambda: run_ours(predictions, references, args.workers, args.timeout)
    }
    if not args.skip_bare:
        runners["bare `python -c` per candidate"] = lambda: run_bare_subprocess(
            predictions, references, args.workers, args.timeout
        )
    if args.code_eval:
        runners["evaluate code_eval"] = lambda: run_code_eval(
            args.code_eval, predictions, references, args.workers, args.timeout
        )

    # Import what every runner shares (evaluate, datasets) before any clock starts.
    import evaluate  # noqa: F401

    import eval_space.pass_at_k.pass_at_k  # noqa: F401

    figures = {}
    for name, runner in runners.items():
        cpu_before = cpu_seconds()
        start = time.perf_counter()
        score, isolation = runner()
        seconds = time.perf_counter() - start
        cpu_ms = (cpu_seconds() - cpu_before) / candidates * 1000
        figures[name] = {
            "candidates_per_s": candidates / seconds,
            "seconds": seconds,
            "cpu_ms_per_candidate": cpu_ms,
            "pass@1": score,
            "isolation": isolation,
        }
        print(
            f"{name:34s} {candidates / seconds:8.1f} candidates/s  {seconds:7.1f} s  {cpu_ms:6.1f} CPU-ms/candidate"
            f"  pass@1={score:.4f}  [{isolation}]"
        )

    ours = figures["ours (sandboxed fork servers)"]["candidates_per_s"]
    ratios = {
        f"ours / {name}": ours / f["candidates_per_s"]
        for name, f in figures.items()
        if not name.startswith("ours")
    }
    for name, ratio in ratios.items():
        print(f"{name:50s} {ratio:6.2f}x")
    scores = {f["pass@1"] for f in figures.values()}
    print(f"same pass@1 from all runners: {len(scores) == 1} ({sorted(scores)})")
    print(f"load average after: {os.getloadavg()}")
    if args.output:
        args.output.write_text(
            json.dumps(
                {"candidates": candidates, "workers": args.workers, "figures": figures, "ratios": ratios},
                indent=1,
            )
        )
        print(f"figures: {args.output}")
    return 0 if len(scores) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
