"""A study's generations rescored on the stricter tests of their task: MBPP -> MBPP+, HumanEval -> HumanEval+.

    block = score_on_stricter_task("run/generations/model.json", "mbpp")   # None: the task has no stricter twin

A model generates once, on the task it was trained for; the EvalPlus task with that task in its
`generations_of` scores the same saved programs (plan variants: the IR already removed), matched by task id,
on its base and plus inputs. Only the problems both have are scored (MBPP+ holds 224 of MBPP's 500 test
problems). The block that goes into the results JSON:

    {"task": "mbpp+", "problems": 224, "pass@1": <EvalPlus base inputs>, "pass@1+": <base + plus>,
     "pass@1+_ci95": [low, high], "per_problem": [{"task_id", "n", "correct", "correct_plus"}], ...}

`plus_view` turns it into the shape `eval_space.paired` reads (`correct` = passed base and plus), so the
interval and the paired comparison against A are the same code as for pass@1.
"""

import json
from pathlib import Path


class StricterTestsUnavailable(RuntimeError):
    """The stricter task's data is not on this machine (the study reports pass@1 without pass@1+)."""


def score_on_stricter_task(
    generations_path, task_name: str, workers: int | None = None, mbpp_path=None
) -> dict | None:
    """The `plus` block for a generations file of `task_name`, or None when that task has no stricter twin.

    mbpp_path: the MBPP file the generations were made from, for a stricter task that reads MBPP's rows (MBPP+
    takes its prompts from them); default: the shared data's."""
    import inspect

    from eval_space.harness import load_generations, score
    from eval_space.paired import pass_at_1_interval
    from eval_space.tasks import TASKS, TaskDataError, get_task, stricter_task_name

    name = stricter_task_name(task_name)
    if name is None:
        return None
    reads_mbpp = "mbpp_path" in inspect.signature(TASKS[name]).parameters
    task = get_task(name, **({"mbpp_path": mbpp_path} if mbpp_path and reads_mbpp else {}))
    try:
        all_docs = task.get_dataset()
    except TaskDataError as e:
        raise StricterTestsUnavailable(f"{name}: {e}") from e
    payload = json.loads(Path(generations_path).read_text())
    generated = {str(g["task_id"]) for g in payload["generations"]}
    docs = [doc for doc in all_docs if task.foreign_id(doc, task_name) in generated]
    if not docs:
        raise StricterTestsUnavailable(
            f"{name}: none of the {len(generated)} problems generated for is in it"
        )
    generations, _ = load_generations(generations_path, task, docs)
    results = score(task, docs, generations, k=[1], workers=workers, progress=False)
    # a row the judge cannot score (named in bad_rows) has no candidates: left out of the rates, for every model
    per_problem = [
        {key: p[key] for key in ("task_id", "n", "correct", "correct_plus") if key in p}
        for p in results["per_problem"]
        if p["n"]
    ]
    block = {
        "task": name,
        "problems": len(per_problem),
        "pass@1": results["pass@1"],
        "pass@1+": results["pass@1+"],
        "bad_rows": results["bad_rows"],
        "verdicts": results["verdicts"],
        "timings": results["timings"],
        "per_problem": per_problem,
    }
    block["pass@1+_ci95"] = pass_at_1_interval(plus_view({"plus": block}))["pass@1_ci95"]
    return block


def plus_view(results: dict) -> dict | None:
    """A results JSON's `plus` block as a results JSON of its own for `eval_space.paired`: `correct` counts the
    candidates that passed base and plus inputs. None when the results have no such block."""
    block = results.get("plus")
    if not block:
        return None
    return {
        "model": results.get("model"),
        "seed": results.get("seed"),
        "per_problem": [
            {"task_id": p["task_id"], "n": p["n"], "correct": p.get("correct_plus", 0)}
            for p in block["per_problem"]
        ],
    }
