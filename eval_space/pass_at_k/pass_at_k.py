"""pass@k of generated code, executed in a sandbox: an `evaluate` metric (and, with its README, a Space)."""

import math
import os

import datasets
import evaluate
import numpy as np

from .judge import InProcessPlan, plan_for_test
from .plain_data import NotPlainData
from .sandbox import Limits, SandboxExecutor

# `evaluate.load` copies only the files this one imports at top level (no comment on those lines: it would
# read one as a URL); the judge decodes the candidates' results with plain_data.
DECODE_ERRORS = (NotPlainData,)

_CITATION = """\
@misc{chen2021codex,
      title={Evaluating Large Language Models Trained on Code},
      author={Mark Chen and Jerry Tworek and Heewoo Jun and Qiming Yuan and Henrique Ponde de Oliveira Pinto
              and Jared Kaplan and others},
      year={2021},
      eprint={2107.03374},
      archivePrefix={arXiv},
      primaryClass={cs.LG}
}
"""

_DESCRIPTION = """\
pass@k: the probability that at least one of k sampled programs passes the tests, estimated without bias
from n >= k samples per problem (Chen et al., 2021). Every candidate runs in its own sandboxed process
(network, mount and PID namespaces, an unprivileged uid, resource limits, a wall-clock timeout; the layers
the machine allows are reported in each result), and passes only if the test code ran to its end.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list of candidate programs per problem.
    references: one test program per problem (run after the candidate; it must raise to fail it).
    k: the k values to report, an int or a list of ints (default [1]). A k larger than a problem's number
        of candidates is an error naming that problem.
    num_workers: parallel fork servers (default: the number of CPU cores).
    timeout: wall-clock seconds per candidate (default 20; MBPP task 123 alone needs ~5 s).
    problem_ids: optional names of the problems, used in error messages.
    isolation: "auto" (the strongest the machine allows), "namespaces", "userns" or "rlimits".
Returns:
    A dict with `pass@<k>` for each requested k, `results` (for each problem, each candidate's outcome:
    status "passed", "failed" or "timed out", the error type, the captured output's tail, seconds) and
    `isolation` (e.g. "net+mount+pid+uid+rlimits").
Examples:
    >>> import os
    >>> os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    >>> pass_at_k = evaluate.load("eval_space/pass_at_k")
    >>> tests = ["assert add(2, 3) == 5"]
    >>> candidates = [["def add(a, b):\\n    return a * b", "def add(a, b):\\n    return a + b"]]
    >>> result = pass_at_k.compute(references=tests, predictions=candidates, k=[1, 2])
    >>> result["pass@1"], result["pass@2"]
    (0.5, 1.0)
    >>> [c["status"] for c in result["results"][0]]
    ['failed', 'passed']
"""

_WARNING = """
################################################################################
                                  !!!WARNING!!!
################################################################################
This metric executes untrusted model-generated code. It runs every candidate in a
sandbox, but no sandbox is perfect: read the metric card before you opt in.

Opt in by setting the environment variable HF_ALLOW_CODE_EVAL="1", e.g. in Python:

>>> import os
>>> os.environ["HF_ALLOW_CODE_EVAL"] = "1"
################################################################################\
"""


class CodeExecutionNotAllowed(RuntimeError):
    """Raised when code would run without the explicit HF_ALLOW_CODE_EVAL=1 opt-in."""


def require_code_execution_opt_in():
    if os.getenv("HF_ALLOW_CODE_EVAL", "0") != "1":
        raise CodeExecutionNotAllowed(_WARNING)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class PassAtK(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("string")),
                    "references": datasets.Value("string"),
                }
            ),
            homepage="https://github.com/openai/human-eval",
            codebase_urls=["https://github.com/openai/human-eval"],
            reference_urls=["https://arxiv.org/abs/2107.03374"],
        )

    def _compute(
        self,
        predictions,
        references,
        k=None,
        num_workers=None,
        timeout=None,
        problem_ids=None,
        isolation="auto",
    ):
        return score_candidates(
            predictions,
            references,
            k=k,
            num_workers=num_workers,
            timeout=timeout,
            problem_ids=problem_ids,
            isolation=isolation,
        )


def score_candidates(
    predictions,
    references,
    k=None,
    num_workers=None,
    timeout=None,
    problem_ids=None,
    isolation="auto",
    executor=None,
    progress=None,
):
    """Run every candidate against its problem's tests and estimate pass@k (the metric without `evaluate`).

    executor: an open SandboxExecutor to reuse (its limits and workers win); progress: called once per candidate.
    """
    require_code_execution_opt_in()
    ks = normalize_ks(k)
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} candidate lists but {len(references)} test programs")
    names = list(problem_ids) if problem_ids is not None else [f"#{i}" for i in range(len(references))]
    check_enough_samples([len(candidates) for candidates in predictions], ks, names)
    # Sample-major order (every problem's first candidate, then every second one, ...): the copies of a
    # slow problem (MBPP 123 takes ~5 s) then run one after another on one worker, not on all at once.
    order = sorted((j, i) for i, candidates in enumerate(predictions) for j in range(len(candidates)))
    plans = plans_for(references)
    # Rows the task could not build a judge for (malformed, or a canonical solution failing its own
    # inputs) are left out of the score, named with the reason.
    bad_rows = {
        names[i]: plan.bad_reason for i, plan in enumerate(plans) if getattr(plan, "bad_reason", None)
    }
    order = [(j, i) for j, i in order if names[i] not in bad_rows]
    jobs = [plans[i].job(predictions[i][j]) for j, i in order]
    if executor is None:
        limits = Limits(timeout=timeout) if timeout is not None else Limits()
        with SandboxExecutor(workers=num_workers, limits=limits, isolation=isolation) as owned:
            outcomes, isolation_used = owned.run(jobs, progress=progress), owned.isolation
    else:
        outcomes, isolation_used = executor.run(jobs, progress=progress), executor.isolation
    results = [[] if names[i] in bad_rows else [None] * len(c) for i, c in enumerate(predictions)]
    for (j, i), outcome in zip(order, outcomes, strict=True):
        results[i][j] = plans[i].verdict(outcome)
    scored = [r for r in results if r]
    total = [len(r) for r in scored]
    correct = [sum(o["passed"] for o in r) for r in scored]
    scores = {f"pass@{kk}": _mean(estimate_pass_at_k(total, correct, kk)) for kk in ks}
    flat = [o for r in scored for o in r]
    if any("passed_plus" in o for o in flat):  # EvalPlus: base + plus tests
        correct_plus = [sum(bool(o.get("passed_plus")) for o in r) for r in scored]
        scores.update({f"pass@{kk}+": _mean(estimate_pass_at_k(total, correct_plus, kk)) for kk in ks})
    if any("tests" in o for o in flat):  # APPS: per-test outcomes
        fractions = [[_test_fraction(o) for o in r] for r in scored]
        scores["strict_accuracy"] = float(np.mean([np.mean([f == 1.0 for f in r]) for r in fractions]))
        scores["test_case_accuracy"] = float(np.mean([np.mean(r) for r in fractions]))
    in_process = {name: plan.reason for name, plan in zip(names, plans, strict=True) if not is_judged(plan)}
    verdicts = {"judge": len(plans) - len(in_process) - len(bad_rows), "in-process": len(in_process)}
    return {
        **scores,
        "results": results,
        "isolation": isolation_used,
        "verdicts": verdicts,
        "in_process_problems": in_process,
        "bad_rows": bad_rows,
        "n_scored": len(scored),
    }


def plans_for(references) -> list:
    """A judge plan per problem: test programs (strings) are split into probes and checks where their
    shape allows (else run in-process); plan objects of the tasks (EvalPlus, APPS) pass through."""
    cache = {}
    plans = []
    for reference in references:
        if isinstance(reference, str):
            if reference not in cache:
                cache[reference] = plan_for_test(reference)
            plans.append(cache[reference])
        else:
            plans.append(reference)
    return plans


def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _test_fraction(outcome) -> float:
    """APPS: the share of a candidate's tests that pass (a compile error or a crash before any test: 0)."""
    tests = outcome.get("tests") or []
    return sum(t is True for t in tests) / len(tests) if tests else 0.0


def is_judged(plan) -> bool:
    return not isinstance(plan, InProcessPlan)


def normalize_ks(k) -> list[int]:
    ks = [1] if k is None else [k] if isinstance(k, int) else list(k)
    if not ks or any(not isinstance(kk, int) or isinstance(kk, bool) or kk < 1 for kk in ks):
        raise ValueError(f"k must be a positive int or a list of them, got {k!r}")
    return ks


def check_enough_samples(sample_counts, ks, problem_ids):
    """A k above a problem's sample count has no unbiased estimate: name the problem instead of dropping it."""
    for name, count in zip(problem_ids, sample_counts, strict=True):
        for kk in ks:
            if kk > count:
                raise ValueError(f"pass@{kk} needs at least {kk} candidates, but problem {name} has {count}")


def estimate_pass_at_k(num_samples, num_correct, k: int) -> np.ndarray:
    """Unbiased pass@k per problem: 1 - C(n - c, k) / C(n, k), as a numerically stable product."""
    if isinstance(num_samples, int):
        num_samples = [num_samples] * len(num_correct)
    if len(num_samples) != len(num_correct):
        raise ValueError(f"{len(num_samples)} sample counts but {len(num_correct)} correct counts")

    def estimator(n: int, c: int) -> float:
        if k > n:
            raise ValueError(f"k={k} is larger than the number of samples n={n}")
        if not 0 <= c <= n:
            raise ValueError(f"correct count c={c} outside [0, n={n}]")
        if n - c < k:
            return 1.0
        return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))

    return np.array(
        [estimator(int(n), int(c)) for n, c in zip(num_samples, num_correct, strict=True)], dtype=float
    )


def exact_pass_at_k(n: int, c: int, k: int) -> float:
    """The same estimate with exact integers, for checking the float product."""
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)
