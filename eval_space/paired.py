"""How sure is a pass@1, and is a variant better than the baseline on the same problems?

Two pass@1 figures a few points apart on 500 problems can be noise (the standard
error of one is ~1.2 points at pass@1 = 0.08). Every variant of an experiment is
scored on the same problems, and trained once per seed, so a model's outcomes form
a seeds x problems matrix of per-problem pass@1 estimates (correct / n):

- `pass_at_1_interval`: the mean of that matrix and a bootstrap 95% interval that
  resamples problems (and, with several seeds, seeds too: the training run is a
  random draw as much as the problem set is);
- `compare_pass_at_1`: the paired difference against a baseline (same seed, same
  problem), its bootstrap 95% interval (problems and seeds resampled together),
  and the exact two-sided sign test over the problems where the two differ (the
  per-problem mean over seeds), which is McNemar's exact test with one greedy
  sample and one seed.

Each accepts one results JSON (a dict written by the harness) or a list of them, one per seed.
"""

from math import comb

import numpy as np

DEFAULT_RESAMPLES = 10_000


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


def _as_list(results: "dict | list[dict]") -> list[dict]:
    runs = [results] if isinstance(results, dict) else list(results)
    if not runs:
        raise ValueError("no results to aggregate")
    return runs


def _name(runs: list[dict]) -> str | None:
    return runs[0].get("model")


def _check_same_problems(reference: dict[str, float], other: dict[str, float], names: tuple) -> None:
    if reference.keys() != other.keys():
        only_ref, only_other = (
            sorted(reference.keys() - other.keys()),
            sorted(other.keys() - reference.keys()),
        )
        raise ValueError(
            f"{names[1]} and {names[0]} were not scored on the same problems "
            f"(only in the baseline: {only_ref[:5]}, only in the other: {only_other[:5]})"
        )


def pass_at_1_matrix(results: "dict | list[dict]") -> tuple[list[str], np.ndarray]:
    """(task ids, seeds x problems matrix of correct / n); every run must cover the same problems."""
    runs = _as_list(results)
    rates = [per_problem_pass_at_1(r) for r in runs]
    for r, rate in zip(runs[1:], rates[1:], strict=True):
        _check_same_problems(rates[0], rate, (_name(runs), r.get("model")))
    task_ids = sorted(rates[0])
    return task_ids, np.array([[rate[t] for t in task_ids] for rate in rates], dtype=float)


def bootstrap_mean_ci(matrix: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> list[float]:
    """95% interval of the mean of a seeds x problems matrix: problems resampled, and seeds when several."""
    rng = np.random.default_rng(seed)
    n_seeds, n_problems = matrix.shape
    problems = rng.integers(0, n_problems, size=(resamples, n_problems))
    if n_seeds == 1:
        means = matrix[0][problems].mean(axis=1)
    else:
        seeds = rng.integers(0, n_seeds, size=(resamples, n_seeds))
        # per resample: the rows of the drawn seeds, the columns of the drawn problems
        means = np.array([matrix[s][:, p].mean() for s, p in zip(seeds, problems, strict=True)])
    return [round(float(np.quantile(means, 0.025)), 4), round(float(np.quantile(means, 0.975)), 4)]


def pass_at_1_interval(
    results: "dict | list[dict]", resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict:
    """pass@1 (mean over seeds and problems) with its bootstrap 95% interval."""
    runs = _as_list(results)
    task_ids, matrix = pass_at_1_matrix(runs)
    return {
        "pass@1": round(float(matrix.mean()), 4),
        "pass@1_ci95": bootstrap_mean_ci(matrix, resamples, seed),
        "seeds": [r.get("seed") for r in runs],
        "problems": len(task_ids),
        "bootstrap_resamples": resamples,
    }


def compare_pass_at_1(
    baseline: "dict | list[dict]",
    other: "dict | list[dict]",
    resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
) -> dict:
    """Paired comparison of two models scored on the same problems (lists: one results JSON per seed, paired
    in order, so seed s of the other is compared with seed s of the baseline)."""
    base_runs, other_runs = _as_list(baseline), _as_list(other)
    if len(base_runs) != len(other_runs):
        raise ValueError(
            f"{_name(other_runs)} has {len(other_runs)} seed(s), its baseline {_name(base_runs)} "
            f"{len(base_runs)}: pair them seed by seed"
        )
    base_ids, base = pass_at_1_matrix(base_runs)
    other_ids, them = pass_at_1_matrix(other_runs)
    _check_same_problems(
        dict.fromkeys(base_ids), dict.fromkeys(other_ids), (_name(base_runs), _name(other_runs))
    )
    diffs = them - base
    per_problem = diffs.mean(axis=0)
    better, worse = int((per_problem > 0).sum()), int((per_problem < 0).sum())
    return {
        "baseline": _name(base_runs),
        "model": _name(other_runs),
        "problems": len(base_ids),
        "pass@1_difference": round(float(diffs.mean()), 4),
        "ci95": bootstrap_mean_ci(diffs, resamples, seed),
        "better_on": better,
        "worse_on": worse,
        "sign_test_p": round(sign_test_p(better, worse), 4),
        "bootstrap_resamples": resamples,
    }


def pass_at_1_ci95(
    results: "dict | list[dict]", resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> list[float]:
    """Just the 95% interval of `pass_at_1_interval` (what the leaderboard shows for results without one)."""
    return pass_at_1_interval(results, resamples, seed)["pass@1_ci95"]
