"""The paired comparison of two variants' pass@1 on the same problems."""

import pytest

from eval_space.paired import compare_pass_at_1, pass_at_1_interval, sign_test_p


def _results(model, correct, n=1):
    return {
        "model": model,
        "per_problem": [{"task_id": str(i), "n": n, "correct": c} for i, c in enumerate(correct)],
    }


def test_sign_test_is_exact_and_two_sided():
    assert sign_test_p(3, 0) == pytest.approx(2 / 8)
    assert sign_test_p(1, 5) == pytest.approx(2 * (1 + 6) / 64)
    assert sign_test_p(4, 4) == 1.0
    assert sign_test_p(0, 0) == 1.0


def test_difference_interval_and_counts_for_greedy_results():
    base = _results("m-A", [1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    other = _results("m-C", [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    c = compare_pass_at_1(base, other, resamples=2000)
    assert (c["baseline"], c["model"], c["problems"]) == ("m-A", "m-C", 10)
    assert c["pass@1_difference"] == pytest.approx(0.2)
    assert (c["better_on"], c["worse_on"]) == (3, 1)
    assert c["sign_test_p"] == pytest.approx(2 * (1 + 4) / 16)
    low, high = c["ci95"]
    assert low <= 0 < 0.2 < high < 1  # 3 better, 1 worse of 10: the interval straddles 0, like the test
    assert compare_pass_at_1(base, other, resamples=2000) == c  # seeded


def test_sampled_results_compare_per_problem_rates():
    base = _results("m-A", [0, 5, 15], n=15)
    other = _results("m-B", [3, 5, 15], n=15)
    c = compare_pass_at_1(base, other)
    assert c["pass@1_difference"] == pytest.approx(3 / 15 / 3, abs=1e-4)
    assert (c["better_on"], c["worse_on"]) == (1, 0) and c["ci95"][0] >= 0


def test_results_on_other_problems_are_refused():
    base = _results("m-A", [1, 0, 1])
    other = _results("m-B", [1, 0])
    with pytest.raises(ValueError, match="not scored on the same problems.*only in the baseline: \\['2'\\]"):
        compare_pass_at_1(base, other)


def _seeded(model, seed, correct):
    return {**_results(model, correct), "seed": seed}


def test_interval_of_one_run_brackets_its_pass_at_1():
    summary = pass_at_1_interval(_results("m-A", [1, 0, 0, 1, 0, 0, 0, 1, 0, 0]), resamples=2000)
    assert summary["pass@1"] == pytest.approx(0.3) and summary["problems"] == 10
    low, high = summary["pass@1_ci95"]
    assert 0 <= low < 0.3 < high <= 1
    assert pass_at_1_interval(_results("m-A", [1] * 5))["pass@1_ci95"] == [1.0, 1.0]


def test_seeds_are_averaged_and_widen_the_interval():
    problems = [1, 0] * 10
    agreeing = [_seeded("m-A", 0, problems), _seeded("m-A", 1, problems)]
    disagreeing = [_seeded("m-A", 0, [1] * 20), _seeded("m-A", 1, [0] * 20)]
    same, apart = pass_at_1_interval(agreeing, 2000), pass_at_1_interval(disagreeing, 2000)
    assert same["pass@1"] == apart["pass@1"] == pytest.approx(0.5) and apart["seeds"] == [0, 1]
    # two seeds that disagree on everything: resampling the seeds spreads the mean from 0 to 1
    assert apart["pass@1_ci95"][1] - apart["pass@1_ci95"][0] > same["pass@1_ci95"][1] - same["pass@1_ci95"][0]


def test_comparison_over_seeds_pairs_seed_by_seed():
    base = [_seeded("m-A", 0, [0, 0, 0, 0]), _seeded("m-A", 1, [1, 0, 0, 0])]
    other = [_seeded("m-C", 0, [1, 1, 0, 0]), _seeded("m-C", 1, [1, 1, 0, 0])]
    c = compare_pass_at_1(base, other, resamples=2000)
    assert c["pass@1_difference"] == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert (c["better_on"], c["worse_on"]) == (2, 0)  # per-problem means over the seeds
    with pytest.raises(ValueError, match="pair them seed by seed"):
        compare_pass_at_1(base, other[:1])
