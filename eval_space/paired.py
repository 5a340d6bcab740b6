"""Is a variant better than the baseline on the same problems? A paired comparison of pass@1.

Two pass@1 figures a few points apart on 500 problems can be noise (the standard
error of one is ~1.2 points at pass@1 = 0.08). Every variant of an experiment is
scored on the same problems, so the comparison pairs them problem by problem:

- the mean difference of the per-problem pass@1 estimates (correct / n), which is
  the difference of the two pass@1 figures;
- a paired bootstrap 95% interval of that difference (problems resampled together);
- the exact two-sided sign test over the problems where the two differ, which is
  McNemar's exact test when each problem has one sample (greedy decoding).
"""

from math import comb

import numpy as np


def per_problem_pass_at_1(results: dict) -> dict[str, float]:
    """task_id -> correct / n, from a results JSON written by the harness."""
    return {str(p["task_id"]): p["correct"] / p["n"] for p in results["per_problem"]}


def sign_test_p(better: int, worse: int) -> float:
    """Exact two-sided binomial test of `better` vs `worse` under p = 1/2 (1.0 when there is nothing to test)."""
    n = better + worse
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(better, worse) + 1))
    return min(1.0, 2 * tail / 2**n)


def bootstrap_mean_ci95(values, resamples: int = 10_000, seed: int = 0) -> list[float]:
    """Percentile bootstrap 95% interval of the mean of per-problem `values` (problems resampled with replacement)."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    return [round(float(np.quantile(means, 0.025)), 4), round(float(np.quantile(means, 0.975)), 4)]


def pass_at_1_ci95(results: dict, resamples: int = 10_000, seed: int = 0) -> list[float]:
    """95% interval of one model's pass@1 from its `per_problem` records (bootstrap over problems)."""
    return bootstrap_mean_ci95(list(per_problem_pass_at_1(results).values()), resamples, seed)


def compare_pass_at_1(baseline: dict, other: dict, resamples: int = 10_000, seed: int = 0) -> dict:
    """Paired comparison of two results JSONs scored on the same problems."""
    base, them = per_problem_pass_at_1(baseline), per_problem_pass_at_1(other)
    if base.keys() != them.keys():
        only_base, only_other = sorted(base.keys() - them.keys()), sorted(them.keys() - base.keys())
        raise ValueError(
            f"{other.get('model')} and {baseline.get('model')} were not scored on the same problems "
            f"(only in the baseline: {only_base[:5]}, only in the other: {only_other[:5]})"
        )
    task_ids = sorted(base)
    diffs = np.array([them[t] - base[t] for t in task_ids])
    better, worse = int((diffs > 0).sum()), int((diffs < 0).sum())
    return {
        "baseline": baseline.get("model"),
        "model": other.get("model"),
        "problems": len(task_ids),
        "pass@1_difference": round(float(diffs.mean()), 4),
        "ci95": bootstrap_mean_ci95(diffs, resamples, seed),
        "better_on": better,
        "worse_on": worse,
        "sign_test_p": round(sign_test_p(better, worse), 4),
        "bootstrap_resamples": resamples,
    }
