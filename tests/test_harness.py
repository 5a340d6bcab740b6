"""The generation harness and `codereps evaluate`, end to end on CPU with a tiny model built from config."""

import json
import os

import pytest

from codereps.cli import main as codereps_main
from eval_space.harness import generate, load_generations, score, write_generations, write_results
from eval_space.tasks import HumanEval, get_task

SPECIAL_TOKENS = ["<|endoftext|>", "<|pad|>"]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A real byte-level BPE tokenizer trained on HumanEval, and a 2-layer Llama initialised from config."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = [doc["prompt"] + doc["canonical_solution"] for doc in HumanEval().get_dataset()]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(texts, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|endoftext|>", pad_token="<|pad|>", model_max_length=4096
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir), AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture
def allow_code_eval(monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "1")


def test_batched_left_padded_generation_equals_one_at_a_time(tiny_model):
    model, tokenizer = tiny_model
    task = get_task("humaneval")
    docs = task.get_dataset()[:3]  # prompts of different lengths: the shorter ones get left padding
    padding_side = tokenizer.padding_side
    # fp32: padding leaves fp32 logits equal to within argmax ties; bf16's rounding may not (auto is bf16 on
    # a CPU with native bf16)
    batched = generate(
        model, tokenizer, task, docs, max_new_tokens=12, batch_size=3, progress=False, dtype="float32"
    )
    alone = [
        generate(
            model, tokenizer, task, [doc], max_new_tokens=12, batch_size=1, progress=False, dtype="float32"
        )[0]
        for doc in docs
    ]
    assert [g["completions"] for g in batched] == [g["completions"] for g in alone]
    assert (
        tokenizer.padding_side == padding_side
    )  # the engine pads by itself: the caller's tokenizer is untouched
    for doc, generation in zip(docs, batched, strict=True):
        assert generation["task_id"] == doc["task_id"]
        assert generation["programs"] == [
            task.postprocess_generation(c, doc) for c in generation["completions"]
        ]


def test_sampling_gives_n_samples_and_prompt_fn_replaces_the_prompt(tiny_model):
    model, tokenizer = tiny_model
    task = get_task("mbpp")
    docs = task.get_dataset()[:2]
    seen = []

    def prompt_fn(doc):
        seen.append(doc["task_id"])
        return f"# task {doc['task_id']}\n" + task.get_prompt(doc)

    generations = generate(
        model,
        tokenizer,
        task,
        docs,
        n_samples=3,
        temperature=0.8,
        max_new_tokens=8,
        batch_size=4,
        prompt_fn=prompt_fn,
        progress=False,
    )
    assert seen == [11, 12]
    assert [len(g["completions"]) for g in generations] == [3, 3]
    assert generations[0]["prompt"].startswith("# task 11\n")


def test_score_and_results_json(tmp_path, allow_code_eval):
    task = get_task("mbpp")
    docs = task.get_dataset()[:3]
    wrong = "def nothing():\n    pass\n"
    generations = [
        {
            "task_id": str(doc["task_id"]),
            "prompt": None,
            "completions": None,
            "programs": [task.get_solution(doc), wrong],
        }
        for doc in docs
    ]
    results = score(task, docs, generations, k=[1, 2], progress=False)
    assert results["pass@1"] == 0.5 and results["pass@2"] == 1.0
    assert [p["correct"] for p in results["per_problem"]] == [1, 1, 1]
    assert results["per_problem"][0]["outcomes"][1]["error"].startswith("NameError")
    path = write_results(tmp_path / "results" / "x.json", results, model="m", variant="A", custom="kept")
    written = json.loads(path.read_text())
    assert list(written)[:11] == [
        "model", "base_model", "variant", "ir", "task", "pass@1", "pass@10",
        "n_samples", "temperature", "ir_tokens_per_prompt", "train_tokens_per_s",
    ]  # fmt: skip
    assert written["base_model"] is None and written["pass@10"] is None and written["custom"] == "kept"
    assert written["n_samples"] == 2 and written["task"] == "mbpp"


def test_generations_must_match_their_problems(tmp_path):
    task = get_task("mbpp")
    docs = task.get_dataset()[:2]
    path = write_generations(tmp_path / "g.json", task, [{"task_id": "11", "programs": ["x = 1"]}])
    with pytest.raises(ValueError, match=r"no generations for problems \['12'\]"):
        load_generations(path, task, docs)
    with pytest.raises(ValueError, match="generations are for task 'mbpp', not 'humaneval'"):
        load_generations(path, get_task("humaneval"), docs)
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json: cannot read generations"):
        load_generations(tmp_path / "bad.json", task, docs)
    with pytest.raises(ValueError, match="given for problem 12"):
        score(task, docs, [{"task_id": "11", "programs": []}, {"task_id": "11", "programs": []}])


def test_cli_end_to_end_on_humaneval_with_a_tiny_model(tiny_model_dir, tmp_path, allow_code_eval, capsys):
    out = tmp_path / "run"
    argv = ["evaluate", "--model", str(tiny_model_dir), "--task", "humaneval", "--limit", "5"]
    argv += [
        "--n-samples",
        "2",
        "--k",
        "1",
        "--max-new-tokens",
        "24",
        "--temperature",
        "0.7",
        "--output",
        str(out),
    ]
    assert codereps_main([*argv, "--name", "tiny"]) == 0
    results = json.loads((out / "results" / "tiny.json").read_text())
    generations = json.loads((out / "generations" / "tiny.json").read_text())
    assert results["task"] == "humaneval" and results["model"] == str(tiny_model_dir)
    assert results["n_samples"] == 2 and results["temperature"] == 0.7 and results["n_problems"] == 5
    assert len(generations["generations"]) == 5 and all(
        len(g["completions"]) == 2 for g in generations["generations"]
    )
    assert results["pass@1"] == sum(p["correct"] for p in results["per_problem"]) / 10
    assert set(results["timings"]) >= {"generation_s", "execution_s", "candidates_per_s"}
    assert "pass@1=" in capsys.readouterr().out

    # Rescoring the saved generations reproduces the recorded pass@1, with no model.
    rescore = ["evaluate", "--generations", str(out / "generations" / "tiny.json"), "--task", "humaneval"]
    assert codereps_main([*rescore, "--limit", "5", "--output", str(out), "--name", "rescored"]) == 0
    rescored = json.loads((out / "results" / "rescored.json").read_text())
    assert rescored["pass@1"] == results["pass@1"]
    assert rescored["per_problem"] == results["per_problem"]
    assert rescored["model"] == str(tiny_model_dir)  # carried over from the generations file


def test_cli_generation_only_writes_generations_and_no_results(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")  # nothing is executed, so no opt-in needed
    argv = [
        "evaluate",
        "--model",
        str(tiny_model_dir),
        "--task",
        "mbpp",
        "--limit",
        "2",
        "--max-new-tokens",
        "8",
    ]
    assert codereps_main([*argv, "--generation-only", "--output", str(tmp_path), "--name", "g"]) == 0
    assert (tmp_path / "generations" / "g.json").exists()
    assert not (tmp_path / "results").exists()


def test_cli_refuses_to_execute_without_opt_in(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")  # recorded, so the opt-in set below is undone afterwards
    argv = [
        "evaluate",
        "--model",
        str(tiny_model_dir),
        "--task",
        "mbpp",
        "--limit",
        "1",
        "--output",
        str(tmp_path),
    ]
    with pytest.raises(SystemExit, match="HF_ALLOW_CODE_EVAL=1"):
        codereps_main(argv)
    with pytest.raises(SystemExit, match="needs at least 10 candidates, but problem 11 has 1"):
        codereps_main([*argv, "--k", "1", "10", "--allow-code-execution"])
    assert os.environ.get("HF_ALLOW_CODE_EVAL") == "1"  # --allow-code-execution is the opt-in


def test_cli_rescoring_a_saved_mbpp_file_reproduces_its_pass_at_k(tmp_path, allow_code_eval, capsys):
    """A bigcode-style generations file (list of program lists) with a hand-known pass@k."""
    task = get_task("mbpp")
    docs = task.get_dataset()[:4]
    programs = [[task.get_solution(doc), "def broken(:\n"] for doc in docs[:2]] + [
        ["x = 0", "y = 1"] for _ in docs[2:]
    ]
    path = tmp_path / "bigcode_generations.json"
    path.write_text(json.dumps(programs))
    argv = ["evaluate", "--generations", str(path), "--task", "mbpp", "--limit", "4", "--k", "1", "2"]
    assert codereps_main([*argv, "--output", str(tmp_path), "--name", "saved"]) == 0
    results = json.loads((tmp_path / "results" / "saved.json").read_text())
    assert results["pass@1"] == 0.25 and results["pass@2"] == 0.5
    assert "pass@1=0.2500, pass@2=0.5000" in capsys.readouterr().out


def test_cli_rescoring_our_mbpp_generations_file_reproduces_the_recorded_results(tmp_path, allow_code_eval):
    task = get_task("mbpp")
    docs = task.get_dataset()[:5]
    generations = [
        {
            "task_id": str(doc["task_id"]),
            "prompt": task.get_prompt(doc),
            "completions": [task.get_solution(doc) + "\nassert False", "def f(:\n"],
            "programs": [
                task.postprocess_generation(c, doc)
                for c in (task.get_solution(doc) + "\nassert False", "def f(:\n")
            ],
        }
        for doc in docs
    ]
    path = write_generations(
        tmp_path / "generations" / "m.json", task, generations, model="m", temperature=0.2
    )
    recorded = score(task, docs, generations, k=[1, 2], progress=False)
    write_results(tmp_path / "results" / "recorded.json", recorded, model="m")
    argv = ["evaluate", "--generations", str(path), "--task", "mbpp", "--limit", "5", "--k", "1", "2"]
    assert codereps_main([*argv, "--output", str(tmp_path), "--name", "again"]) == 0
    again = json.loads((tmp_path / "results" / "again.json").read_text())
    assert (again["pass@1"], again["pass@2"]) == (recorded["pass@1"], recorded["pass@2"]) == (0.5, 1.0)
    assert again["per_problem"] == recorded["per_problem"] and again["temperature"] == 0.2


def test_cli_applies_a_peft_adapter(tiny_model_dir, tmp_path, monkeypatch):
    """--adapter loads a LoRA adapter on top of --model (the tokenizer is taken from the adapter when it has one)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter_dir = tmp_path / "adapter"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(adapter_dir)
    monkeypatch.setenv("HF_ALLOW_CODE_EVAL", "0")
    argv = ["evaluate", "--model", str(tiny_model_dir), "--adapter", str(adapter_dir), "--task", "humaneval"]
    argv += [
        "--limit",
        "1",
        "--max-new-tokens",
        "6",
        "--generation-only",
        "--output",
        str(tmp_path),
        "--name",
        "lora",
    ]
    assert codereps_main(argv) == 0
    written = json.loads((tmp_path / "generations" / "lora.json").read_text())
    assert len(written["generations"]) == 1 and len(written["generations"][0]["completions"]) == 1

    from eval_space.cli import load_model

    model, _ = load_model(str(tiny_model_dir), str(adapter_dir), seed=0)
    from peft import PeftModel

    assert isinstance(model, PeftModel) and model.peft_config["default"].r == 2
