"""B-plan, C-plan, A-aux and the warm-up train for real on tiny models: C-plan's new output rows move, the
warm-up moves the new rows, is reused rather than retrained, and C-plan fine-tunes from it."""

import gzip
import json

import pytest
import torch
from train_fixtures import humaneval_rows, tiny_ir_tokens, write_dataset_repo
from transformers import AutoModelForCausalLM, AutoTokenizer

from codereps.paths import shared_data_dir
from trainers.run import train_variant
from trainers.sft import parse
from trainers.tiny_model import build_tiny_model
from trainers.warmup import WARMUP_MARKER, WarmupError, read_warmup_marker, run_warmup

pytestmark = pytest.mark.slow  # real training steps, merges and reloads (~1 min on an idle 2-core machine)

TRAIN_FLAGS = (
    *("--max_steps", "6", "--per_device_train_batch_size", "4", "--learning_rate", "1e-2"),
    *("--lora_r", "8", "--lora_alpha", "16", "--logging_steps", "1", "--max_length", "512"),
    *("--save_steps", "100", "--seed", "0"),
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("train-variants")
    write_dataset_repo(root / "dataset", "humaneval", "test", humaneval_rows(12))
    # a warm-up corpus: real stdlib functions with their AST IR, as the `local` config of a dataset folder
    with gzip.open(shared_data_dir() / "funcskeleton" / "stdlib_golden.jsonl.gz", "rt") as f:
        golden = [json.loads(line) for _, line in zip(range(40), f, strict=False)]
    corpus_rows = [{"src": r["src"], "ast": r["ast"], "cfg": r["cfg"]} for r in golden]
    corpus_rows.append({"src": "def broken(:", "ast": None, "cfg": None})  # counted, not trained on
    write_dataset_repo(root / "corpus", "local", "train", corpus_rows)
    for arch in ("llama", "phi"):
        build_tiny_model(root / f"tiny-{arch}", arch)
    return root


def _ir_tokens(workdir, arch):
    tokenizer = AutoTokenizer.from_pretrained(workdir / f"tiny-{arch}")
    return tiny_ir_tokens(tokenizer, [r["ast"] for r in humaneval_rows(12)])


def _train(workdir, variant, base, output, ir_tokens=None, *extra):
    argv = [
        *("--model_name_or_path", str(base), "--dataset_name", str(workdir / "dataset")),
        *("--dataset_config", "humaneval", "--dataset_train_split", "test", "--variant", variant),
        *("--ir", "ast", "--output_dir", str(output), *TRAIN_FLAGS, *extra),
    ]
    if ir_tokens is not None:
        argv += ["--ir_tokenizer", "given-in-process"]
    return train_variant(*parse(argv), ir_tokens=ir_tokens)


def test_b_plan_and_a_aux_train_on_their_rows(workdir):
    log = _train(workdir, "B-plan", workdir / "tiny-llama", workdir / "models" / "B-plan")
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]
    assert (log["ir_source"], log["ir_encoding"], log["ir"]) == ("generated", "text", "ast")
    assert log["example_kinds"] == {"task": 12}
    AutoModelForCausalLM.from_pretrained(workdir / "models" / "B-plan" / "merged")

    log = _train(
        workdir,
        "A-aux",
        workdir / "tiny-llama",
        workdir / "models" / "A-aux",
        None,
        *("--aux_corpus", f"{workdir / 'corpus'}:local", "--aux_corpus_rows", "10"),
    )
    # 12 task rows with both translations of their own solution, plus 10 corpus rows' translations
    assert log["example_kinds"] == {"task": 12, "source->ir": 22, "ir->source": 22}
    assert (log["ir_source"], log["ir_encoding"]) == ("aux", "text")
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]


@pytest.mark.parametrize("arch", ["phi", "llama"])  # untied head + bias (phi-1), tied embeddings (SmolLM2)
def test_c_plan_trains_the_output_rows_of_the_new_tokens(workdir, arch):
    ir_tokens = _ir_tokens(workdir, arch)
    output = workdir / "models" / f"{arch}-C-plan"
    log = _train(workdir, "C-plan", workdir / f"tiny-{arch}", output, ir_tokens)
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]
    change = log["new_rows_change"]
    assert change["rows"] == len(ir_tokens.new_ids) and change["input"]["norm"] > 0
    merged = AutoModelForCausalLM.from_pretrained(output / "merged")
    base = AutoModelForCausalLM.from_pretrained(workdir / f"tiny-{arch}")
    new_ids, n_base = ir_tokens.new_ids, ir_tokens.base_vocab_size
    head = merged.get_output_embeddings().weight
    # the new output rows started at the mean of the base head's rows; generating the IR moved them
    initial = base.get_output_embeddings().weight.mean(0).expand(len(new_ids), -1)
    assert not torch.allclose(head[new_ids], initial, atol=1e-4)
    assert torch.equal(head[:n_base], base.get_output_embeddings().weight)
    if arch == "phi":
        assert change["tied"] is False and change["output"]["norm"] > 0
        _generate_and_analyze_c_plan(output / "merged", ir_tokens)
    else:
        assert (
            change["tied"] is True
            and merged.get_output_embeddings().weight is merged.get_input_embeddings().weight
        )


def test_warmup_moves_the_new_rows_is_reused_and_c_plan_trains_from_it(workdir, capsys):
    ir_tokens = _ir_tokens(workdir, "phi")
    corpus = f"{workdir / 'corpus'}:local"
    flags = list(TRAIN_FLAGS[2:16])  # the recipe without steps and seed: those are run_warmup's own
    out = workdir / "warmup" / "phi-ast-ir-tokens"

    def warm_up(**kwargs):
        return run_warmup(
            str(workdir / "tiny-phi"), corpus, "ir-tokens", "ast", None, kwargs.pop("steps", 4), out, 0,
            train_args=flags, ir_tokens=ir_tokens, max_rows=100, **kwargs,
        )  # fmt: skip

    warm = warm_up()
    marker = read_warmup_marker(warm)
    assert (marker["corpus"], marker["steps"], marker["encoding"]) == (corpus, 4, "ir-tokens")
    assert (
        marker["corpus_rows"] == 40
        and marker["skipped_rows"] == 1
        and marker["new_rows_change"]["input"]["norm"] > 0
    )
    log = json.loads((out / "training_log.json").read_text())
    assert len(log["loss_curve"]) == 4 and (out / "loss.png").stat().st_size > 0
    assert set(log["example_kinds"]) == {"source->ir", "ir->source"}

    warm_model = AutoModelForCausalLM.from_pretrained(warm)
    base = AutoModelForCausalLM.from_pretrained(workdir / "tiny-phi")
    new_ids, n_base = ir_tokens.new_ids, ir_tokens.base_vocab_size
    assert len(AutoTokenizer.from_pretrained(warm)) == ir_tokens.vocab_size
    warm_rows = warm_model.get_input_embeddings().weight.detach().clone()
    initial = base.get_input_embeddings().weight.mean(0).expand(len(new_ids), -1)
    assert not torch.allclose(warm_rows[new_ids], initial, atol=1e-4)

    # a second call finds it complete and returns it untouched; other settings in the same folder are refused
    weights = warm / "model.safetensors"
    stamp = weights.stat().st_mtime_ns
    capsys.readouterr()
    assert warm_up() == warm and weights.stat().st_mtime_ns == stamp
    assert "complete, reused" in capsys.readouterr().out
    with pytest.raises(WarmupError, match="holds a warm-up of other settings.*'steps': 4"):
        warm_up(steps=5)

    # C-plan from the warm model: its vocabulary already holds the IR tokens (no resize, the warm rows kept
    # as the starting point) and the new rows still train
    output = workdir / "models" / "phi-C-plan-warm"
    log = _train(workdir, "C-plan", warm, output, ir_tokens)
    assert log["warmup"]["corpus"] == corpus and log["warmup"]["steps"] == 4
    assert log["new_rows_change"]["input"]["norm"] > 0
    merged = AutoModelForCausalLM.from_pretrained(output / "merged")
    rows = merged.get_input_embeddings().weight
    assert rows.shape[0] == warm_rows.shape[0] == ir_tokens.vocab_size
    assert torch.equal(rows[:n_base], warm_rows[:n_base])
    assert not torch.allclose(rows[new_ids], warm_rows[new_ids], atol=1e-5)
    assert WARMUP_MARKER not in {p.name for p in (output / "merged").iterdir()}  # only the warm-up's folder


def _generate_and_analyze_c_plan(model_dir, ir_tokens):
    """The evaluation path of a plan variant on real generations: prompt without IR, IR line removed, analysis."""
    from eval_space.harness import generate
    from eval_space.plan import analyze_plan_candidates, apply_postprocess, evaluation_functions, plan_summary
    from eval_space.tasks import get_task

    task = get_task("humaneval")
    docs = humaneval_rows(2)
    prompt_fn, postprocess_fn = evaluation_functions("C-plan", task, "ast", ir_tokens)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    records = generate(model, tokenizer, task, docs, max_new_tokens=24, prompt_fn=prompt_fn, progress=False)
    assert [r["prompt"] for r in records] == [d["prompt"].rstrip() for d in docs]  # no IR in the test prompt
    records = apply_postprocess(records, docs, postprocess_fn)
    analysis = analyze_plan_candidates(records, docs, postprocess_fn, "C-plan", "ast", tokenizer, ir_tokens)
    for record, problem in zip(records, analysis, strict=True):
        (completion,), (program,), (candidate,) = (
            record["completions"],
            record["programs"],
            problem["candidates"],
        )
        assert "# ast: " not in program[len(record["prompt"]) :]  # whatever IR line it wrote does not run
        ir_ids = [
            i
            for i in tokenizer(completion, add_special_tokens=False)["input_ids"]
            if i in set(ir_tokens.new_ids)
        ]
        assert candidate["ir_tokens"] <= len(ir_ids)
    assert plan_summary(analysis)["ir_candidates"] == 2
