"""EvalPlus (mbpp+, humaneval+) and APPS through the judge: semantics, bad rows, prompts, references."""

import gzip
import json

import pytest

from eval_space.harness import load_generations, score, write_generations
from eval_space.tasks import get_task
from eval_space.tasks.apps import APPS, call_matches, stdout_matches
from eval_space.tasks.evalplus import HumanEvalPlus, MBPPPlus, evalplus_match


@pytest.fixture(autouse=True)
def allow_and_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")
    monkeypatch.setenv("CODEREPS_CACHE", str(tmp_path / "cache"))


def _evalplus_file(tmp_path):
    rows = [
        {
            "task_id": "HumanEval/0", "prompt": "def half(x):\n", "entry_point": "half",
            "canonical_solution": "    return x / 2\n", "base_input": [[1.0], [3]], "plus_input": [[10**6 + 1]],
            "atol": 0, "test": "", "contract": "",
        },
        {"task_id": "HumanEval/1", "prompt": "def f(x):\n", "entry_point": "f"},  # fields missing
        {
            "task_id": "HumanEval/2", "prompt": "def inv(x):\n", "entry_point": "inv",
            "canonical_solution": "    return 1 / x\n", "base_input": [[1]], "plus_input": [[0]], "atol": 0,
        },
    ]  # fmt: skip
    path = tmp_path / "HumanEvalPlus-v0.1.10.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def _generations(task, docs, programs):
    return [{"task_id": task.get_problem_id(d), "programs": p} for d, p in zip(docs, programs, strict=True)]


def test_evalplus_base_and_plus_tolerance_and_bad_rows(tmp_path):
    task = HumanEvalPlus(dataset_path=_evalplus_file(tmp_path))
    docs = task.get_dataset()
    assert [d["task_id"] for d in docs] == ["HumanEval/0", "HumanEval/2"]
    assert task.bad_rows == {
        "HumanEval/1": "missing fields ['canonical_solution', 'base_input', 'plus_input', 'atol']"
    }
    programs = [
        [
            "def half(x):\n    return x / 2\n",  # right
            "def half(x):\n    return x / 2 + 1e-9\n",  # inside EvalPlus's default atol 1e-6
            "def half(x):\n    return x / 2 if x < 100 else 0\n",  # base only
            "def half(x):\n    return x // 2\n",  # wrong on base (1.0 // 2 == 0.0)
        ],
        ["def inv(x):\n    return 1 / x\n"] * 4,
    ]
    result = score(task, docs, _generations(task, docs, programs), k=[1], workers=2, progress=False)
    half = result["per_problem"][0]
    assert [o["base"] for o in half["outcomes"]] == ["pass", "pass", "pass", "fail"]
    assert [o["plus"] for o in half["outcomes"]] == ["pass", "pass", "fail", "fail"]
    assert result["pass@1"] == 0.75 and result["pass@1+"] == 0.5
    # the canonical solution of HumanEval/2 fails its own plus input (1 / 0): named, counted, not scored
    assert "HumanEval/2" in result["bad_rows"] and "ZeroDivisionError" in result["bad_rows"]["HumanEval/2"]
    assert "HumanEval/1" in result["bad_rows"] and result["n_scored"] == 1
    assert list((tmp_path / "cache" / "evalplus").glob("humaneval+-*.json"))  # canonical outputs cached


def test_evalplus_special_oracles():
    assert evalplus_match("mbpp", "similar_elements", None, (4, 5), (5, 4), 0)[0]  # set-equal task
    assert not evalplus_match("mbpp", "other", None, (4, 5), (5, 4), 0)[0]
    assert evalplus_match("humaneval", "find_zero", [[-6, 11, -6, 1]], 1.0, 2.0, 1e-6)[0]  # a root either way
    assert not evalplus_match("mbpp", "f", None, [1.0, 2.0], (1.0, 2.0), 0)[0]  # allclose needs equal types
    assert evalplus_match("mbpp", "f", None, 0.1 + 0.2, 0.3, 0) == (True, 1e-6)


def test_mbpp_plus_uses_mbpp_prompts_and_rescores_mbpp_generations(tmp_path):
    mbpp, plus = get_task("mbpp"), MBPPPlus()
    plus_docs = plus.get_dataset()
    assert len(plus_docs) == 224 and len(MBPPPlus(problems="all").get_dataset()) == 377  # Mbpp/793: no plus
    by_number = {d["task_id"]: d for d in mbpp.get_dataset()}
    doc = plus_docs[0]
    assert plus.get_prompt(doc) == mbpp.get_prompt(by_number[doc["mbpp_task_id"]])
    nested = next(d for d in plus_docs if d["task_id"] == "Mbpp/63")
    assert isinstance(nested["base_input"][0][0][0], tuple)  # EvalPlus's deserialization: lists of tuples
    saved = tmp_path / "mbpp-gens.json"
    mbpp_docs = [by_number[d["mbpp_task_id"]] for d in plus_docs[:3]]
    write_generations(saved, mbpp, _generations(mbpp, mbpp_docs, [["x = 1"]] * 3))
    rescored, _ = load_generations(saved, plus, plus_docs[:3])
    assert [g["task_id"] for g in rescored] == [d["task_id"] for d in plus_docs[:3]]


def test_apps_original_references_pass_and_wrong_programs_get_apps_codes():
    task = APPS()
    docs = task.get_dataset()
    assert [d["task_id"] for d in docs] == ["0001", "0111", "2287", "2404", "4184"]
    stdin_doc, call_doc = docs[2], docs[4]
    programs = [
        [task.get_solution(stdin_doc), "print('nonsense')", "def broken(:\n", "import sys\nsys.exit(3)"],
        [
            task.get_solution(call_doc),
            "def is_prime(n):\n    return True",
            "def is_prime(n):\n    raise KeyError",
        ],
    ]
    result = score(task, [stdin_doc, call_doc], _generations(task, [stdin_doc, call_doc], programs),
                   k=[1], workers=2, progress=False)  # fmt: skip
    stdin_tests = [o["tests"] for o in result["per_problem"][0]["outcomes"]]
    assert stdin_tests[0] == [True] * 3 and stdin_tests[1] == [False] * 3
    assert stdin_tests[2] == [-2] * 3 and stdin_tests[3] == [-1] * 3
    call_tests = [o["tests"] for o in result["per_problem"][1]["outcomes"]]
    assert all(t is True for t in call_tests[0]) and False in call_tests[1] and set(call_tests[2]) == {-1}
    assert result["strict_accuracy"] == pytest.approx((1 / 4 + 1 / 3) / 2)
    assert "\nUse Standard Input format\nANSWER:\n" in task.get_prompt(stdin_doc)
    assert task.get_prompt(docs[3]).startswith(
        "\nQUESTION:\n"
    ) and "Use Call-Based format" in task.get_prompt(docs[3])


def test_apps_row_formats_and_bad_rows(tmp_path):
    mapcoder = APPS(dataset_path=get_shared("apps/mapcoder_selected150.jsonl")).get_dataset()
    assert len(mapcoder) == 128 and sum(1 for d in mapcoder if d["fn_name"]) == 79
    rows = tmp_path / "apps.jsonl"
    good = {"problem_id": 7, "question": "Add.", "starter_code": "", "difficulty": "introductory",
            "input_output": json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}), "solutions": "[]"}  # fmt: skip
    rows.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, "problem_id": 8, "input_output": "{not json"}) + "\n"
        + json.dumps({**good, "problem_id": 9, "input_output": json.dumps({"inputs": ["1"], "outputs": []})})
        + "\n"
    )  # fmt: skip
    task = APPS(dataset_path=rows)
    assert [d["task_id"] for d in task.get_dataset()] == ["7"]
    assert set(task.bad_rows) == {"8", "9"} and "JSONDecodeError" in task.bad_rows["8"]


def get_shared(relative):
    from codereps.paths import shared_data_dir

    return shared_data_dir() / relative


def test_apps_comparisons():
    assert stdout_matches("1 \n2\n", "1\n2")
    assert stdout_matches("1.0000001", "1.0")
    assert stdout_matches("a b\n", ["a b"])
    assert not stdout_matches("1 3", "1 2")
    assert call_matches((1, 2), [1, 2]) and call_matches(9, [9]) and not call_matches(8, [9])


def test_check_references_cli_on_apps(tmp_path, capsys):
    from codereps.cli import main

    assert (
        main(
            ["evaluate", "--task", "apps", "--check-references", "--output", str(tmp_path), "--workers", "2"]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "pass@1=1.0000" in printed and "strict_accuracy=1.0000" in printed
    saved = json.loads((tmp_path / "results" / "apps-references.json").read_text())
    assert saved["check_references"] is True and saved["verdicts"] == {"judge": 5, "in-process": 0}


@pytest.mark.slow
@pytest.mark.parametrize("task_name", ["mbpp+", "humaneval+"])
def test_evalplus_canonical_solutions_all_pass(task_name):
    task = get_task(task_name)
    docs = task.get_dataset()
    generations = [{"task_id": task.get_problem_id(d), "programs": [task.get_solution(d)]} for d in docs]
    result = score(task, docs, generations, k=[1], workers=2, progress=False)
    assert result["pass@1"] == 1.0 and result["pass@1+"] == 1.0
    # Mbpp/255's largest output (130M values) is over the judge's bound: named, not scored
    assert set(result["bad_rows"]) == ({"Mbpp/255"} if task_name == "mbpp+" else set())


def test_sanitize_keeps_the_entry_function_and_its_helpers():
    from eval_space.tasks.sanitize import sanitize

    code = (
        "import math\nX = 3\ndef helper(a):\n    return a * X\ndef f(a):\n    return helper(a) + math.pi\n"
        "def unused():\n    pass\nprint(f(2))\nassert f(1) == 3\nif __name__ == '__main__':\n    f(0)\n"
        "def g(\n    unfinished"
    )
    kept = sanitize(code, "f")
    assert (
        kept
        == "import math\nX = 3\ndef helper(a):\n    return a * X\ndef f(a):\n    return helper(a) + math.pi\n"
    )
    assert sanitize("Here:\n```python\ndef f():\n    return 1\n```\nDone.", "f") == "def f():\n    return 1\n"
    assert get_task("mbpp").get_entry_point(get_task("mbpp").get_dataset()[0]) == "remove_Occ"


def test_sanitize_is_a_separate_recorded_setting(tmp_path):
    task = get_task("mbpp")
    docs = task.get_dataset()[:2]
    programs = [[task.get_solution(d) + "\nassert False\n"] for d in docs]  # test code left in the completion
    plain = score(task, docs, _generations(task, docs, programs), k=[1], workers=2, progress=False)
    sanitized = score(
        task, docs, _generations(task, docs, programs), k=[1], workers=2, progress=False, sanitize=True
    )
    assert (plain["pass@1"], plain["sanitize"]) == (0.0, False)
    assert (sanitized["pass@1"], sanitized["sanitize"]) == (1.0, True)


def test_study_generations_are_rescored_on_mbpp_plus_where_memorized_base_cases_fail(tmp_path):
    from eval_space.paired import pass_at_1_interval
    from eval_space.plus import StricterTestsUnavailable, plus_view, score_on_stricter_task

    mbpp, plus = get_task("mbpp"), MBPPPlus()
    plus_docs = {d["mbpp_task_id"]: d for d in plus.get_dataset()}
    mbpp_docs = [d for d in mbpp.get_dataset() if d["task_id"] in plus_docs][:2]
    mbpp_docs.append(next(d for d in mbpp.get_dataset() if d["task_id"] not in plus_docs))  # no MBPP+ twin
    memorized = plus_docs[mbpp_docs[1]["task_id"]]
    entry = memorized["entry_point"]
    # the reference, answering only the base inputs it has seen: passes MBPP's asserts, not MBPP+'s added inputs
    gamed = (
        mbpp.get_solution(mbpp_docs[1])
        + f"\n_seen = {[repr(list(a)) for a in memorized['base_input']]!r}\n_real = {entry}\n"
        + f"def {entry}(*args):\n    return _real(*args) if repr(list(args)) in _seen else None\n"
    )
    programs = [[mbpp.get_solution(mbpp_docs[0])], [gamed], ["x = 1"]]
    saved = write_generations(tmp_path / "gens.json", mbpp, _generations(mbpp, mbpp_docs, programs))
    assert (
        score(mbpp, mbpp_docs, _generations(mbpp, mbpp_docs, programs), k=[1], progress=False)["pass@1"]
        == 2 / 3
    )

    block = score_on_stricter_task(saved, "mbpp", workers=2)
    assert block["task"] == "mbpp+" and block["problems"] == 2  # only the problems MBPP+ has
    assert block["pass@1"] == 1.0 and block["pass@1+"] == 0.5  # the memorized program fails the plus inputs
    view = plus_view({"model": "m", "seed": 0, "plus": block})
    assert [p["correct"] for p in view["per_problem"]] == [1, 0]
    assert block["pass@1+_ci95"] == pass_at_1_interval(view)["pass@1_ci95"]
    assert score_on_stricter_task(saved, "apps") is None and plus_view({"pass@1": 0.5}) is None
    # MBPP+ reads its prompts from the MBPP file the study used: a missing one is named, not a crash
    with pytest.raises(StricterTestsUnavailable, match="missing.jsonl"):
        score_on_stricter_task(saved, "mbpp", mbpp_path=tmp_path / "missing.jsonl")
