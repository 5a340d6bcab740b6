"""Each variant of a tiny model trains for real: loss goes down, trained parameters change, the merged model
reloads with AutoModelForCausalLM (tokenizer included) and generates."""

import json

import pytest
import torch
from safetensors.torch import load_file
from train_fixtures import humaneval_rows, tiny_ir_tokens, write_dataset_repo
from transformers import AutoModelForCausalLM, AutoTokenizer

from codereps.variants import get_variant
from trainers.base_model import BaseModelError, resolve_model_path
from trainers.data import DatasetConfigError
from trainers.run import ResumeError, train_variant
from trainers.sft import parse
from trainers.tiny_model import build_tiny_model

# ~80 s on an idle 2-core machine (several minutes under load): real training steps, merges and reloads
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("train")
    rows = humaneval_rows(12)
    write_dataset_repo(root / "dataset", "humaneval", "test", rows)
    for arch in ("llama", "phi"):
        build_tiny_model(root / f"tiny-{arch}", arch)
    return root


def _args(workdir, variant, arch="llama", *extra):
    return parse(_argv(workdir, variant, arch, *extra))


def _argv(workdir, variant, arch="llama", *extra):
    return [
        *("--model_name_or_path", str(workdir / f"tiny-{arch}")),
        *("--dataset_name", str(workdir / "dataset"), "--dataset_config", "humaneval"),
        *("--dataset_train_split", "test", "--variant", variant, "--ir", "ast"),
        *("--output_dir", str(workdir / "models" / f"{arch}-{variant}")),
        *("--max_steps", "8", "--per_device_train_batch_size", "4", "--learning_rate", "1e-2"),
        *("--lora_r", "8", "--lora_alpha", "16", "--logging_steps", "1", "--max_length", "512"),
        *("--save_steps", "4", "--seed", "0"),
        *extra,
    ]


def _ir_tokens(workdir, arch):
    tokenizer = AutoTokenizer.from_pretrained(workdir / f"tiny-{arch}")
    return tiny_ir_tokens(tokenizer, [r["ast"] for r in humaneval_rows(12)])


def _train(workdir, variant, arch="llama", *extra):
    needs_extension = get_variant(variant).needs_extension
    ir_tokens = _ir_tokens(workdir, arch) if needs_extension else None
    if needs_extension:
        extra = (*extra, "--ir_tokenizer", "given-in-process")
    return train_variant(*_args(workdir, variant, arch, *extra), ir_tokens=ir_tokens), ir_tokens


def _generate(model_dir):
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    inputs = tokenizer("def add(a, b):\n", return_tensors="pt")
    out = model.generate(**inputs, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    assert out.shape[1] > inputs["input_ids"].shape[1]
    return model, tokenizer


@pytest.mark.parametrize("variant", ["A", "B"])
def test_text_variants_train_merge_and_generate(workdir, variant):
    log, _ = _train(workdir, variant)
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]
    assert log["train_tokens_per_s"] > 0 and log["peak_memory_mb"] > 0
    model_dir = workdir / "models" / f"llama-{variant}"
    adapter = load_file(model_dir / "adapter" / "adapter_model.safetensors")
    lora_b = [v for k, v in adapter.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b)  # lora_B starts at zero: nonzero means trained
    assert (model_dir / "loss.png").stat().st_size > 0
    base = AutoModelForCausalLM.from_pretrained(workdir / "tiny-llama")
    merged, _ = _generate(model_dir / "merged")
    changed = [
        n for n, p in merged.named_parameters() if not torch.equal(p, base.get_parameter(n)) and "proj" in n
    ]
    assert changed, "merging the LoRA adapter changed no weight"


@pytest.mark.parametrize(
    "arch", ["llama", "phi"]
)  # tied embeddings (SmolLM2-like), untied head + bias (phi-1)
def test_variant_c_trains_new_rows_with_a_small_adapter(workdir, arch):
    log, ir_tokens = _train(workdir, "C", arch)
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]
    model_dir = workdir / "models" / f"{arch}-C"
    adapter = load_file(model_dir / "adapter" / "adapter_model.safetensors")
    # the new rows are saved as trainable-token deltas, not as a full copy of the embedding matrix
    assert not any(k.endswith("embed_tokens.weight") or k.endswith("lm_head.weight") for k in adapter)
    assert any("trainable_tokens_delta" in k for k in adapter)
    if arch == "phi":
        assert any("lm_head" in k and "trainable_tokens_delta" in k for k in adapter)

    new_ids = ir_tokens.new_ids
    merged, tokenizer = _generate(model_dir / "merged")
    assert len(tokenizer) == ir_tokens.vocab_size == merged.get_input_embeddings().weight.shape[0]
    base = AutoModelForCausalLM.from_pretrained(workdir / f"tiny-{arch}")
    base_rows = base.get_input_embeddings().weight
    new_rows = merged.get_input_embeddings().weight[new_ids]
    # the new rows started at the mean of the base rows; training moved them
    assert not torch.allclose(new_rows, base_rows.mean(0).expand_as(new_rows), atol=1e-4)
    assert torch.equal(merged.get_input_embeddings().weight[: len(base_rows)], base_rows)


def test_merged_c_matches_the_adapter_on_reload(workdir):
    """Unmerged (adapter reloaded on a resized base) and merged logits agree, head bias included (phi)."""
    from trainers.merge import load_adapter_model

    model_dir = workdir / "models" / "phi-C"
    if not (model_dir / "merged").exists():
        _train(workdir, "C", "phi")
    ir_tokens = _ir_tokens(workdir, "phi")
    unmerged = load_adapter_model(str(workdir / "tiny-phi"), model_dir / "adapter", ir_tokens).eval()
    merged = AutoModelForCausalLM.from_pretrained(model_dir / "merged").eval()
    ids = torch.tensor([[5, 6, 7, *ir_tokens.new_ids[:4], 8]])
    with torch.no_grad():
        assert torch.allclose(unmerged(ids).logits, merged(ids).logits, atol=1e-4)


def test_resume_continues_from_the_last_checkpoint(workdir):
    args = _args(workdir, "A", "llama", "--max_steps", "4")
    args[1].output_dir = str(workdir / "models" / "resume-A")
    train_variant(*args)
    longer = _args(workdir, "A", "llama", "--max_steps", "8", "--resume")
    longer[1].output_dir = args[1].output_dir
    log = train_variant(*longer)
    assert log["resumed_from"].endswith("checkpoint-4")
    assert [p["step"] for p in log["loss_curve"]] == [5, 6, 7, 8]


def test_a_killed_run_resumes_from_its_last_complete_checkpoint(workdir, tmp_path):
    """SIGKILL a real training process, cut its newest checkpoint short, and resume with --resume."""
    import shutil
    import signal
    import subprocess
    import sys
    import time

    from trainers.run import last_complete_checkpoint

    output = tmp_path / "killed-A"
    argv = _argv(workdir, "A", "llama", "--max_steps", "400", "--save_steps", "2")
    argv[argv.index("--output_dir") + 1] = str(output)
    process = subprocess.Popen([sys.executable, "-m", "trainers.sft", *argv], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (output / "checkpoint-4" / "trainer_state.json").is_file():
            assert process.poll() is None, "training exited before it could be killed"
            assert time.monotonic() < deadline, "no checkpoint-4 after 300 s"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL

    last, _ = last_complete_checkpoint(output)
    step = int(last.name.split("-")[1])
    # what a kill while saving leaves: the model written, trainer_state.json not yet
    partial = output / f"checkpoint-{step + 2}"
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(last, partial)
    (partial / "trainer_state.json").unlink()

    resumed = parse([*argv, "--max_steps", str(step + 2), "--resume"])  # later flags override
    log = train_variant(*resumed)
    assert log["resumed_from"] == str(last)
    assert [p["step"] for p in log["loss_curve"]] == [step + 1, step + 2]
    _generate(output / "merged")


def test_a_failed_checkpoint_write_is_a_clear_error(workdir, tmp_path):
    """A write failing while a checkpoint is saved (a file size limit standing in for a full disk)."""
    import resource
    import subprocess
    import sys

    output = tmp_path / "full-disk-A"
    argv = _argv(workdir, "A", "llama", "--save_steps", "2", "--output_dir", str(output))
    limit = 100_000  # bytes per file: the tiny adapter (~70 kB) fits, its optimizer state (~140 kB) does not

    def limit_file_size():  # Python ignores SIGXFSZ, so an oversized write fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "codereps", "train", *argv],
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    # the message follows the progress bar's last update on the same line
    errors = [
        line[line.index("codereps train: error:") :]
        for line in result.stderr.splitlines()
        if "codereps train: error:" in line
    ]
    assert len(errors) == 1, result.stderr[-3000:]
    message = errors[0]
    assert message.startswith("codereps train: error: training stopped while writing"), message
    assert f"{output / 'checkpoint-2'} (" in message and "GB free on its disk" in message
    assert "no complete checkpoint to resume from" in message


def test_bad_input_is_named(workdir, tmp_path):
    with pytest.raises(ValueError, match="unknown variant 'D'"):
        _args(workdir, "D")
    with pytest.raises(ValueError, match="variant C needs --ir_tokenizer"):
        _args(workdir, "C")
    with pytest.raises(BaseModelError, match="unknown base model 'gpt-none'"):
        resolve_model_path("gpt-none")
    args = _args(workdir, "A", "llama", "--dataset_config", "mbpp")
    with pytest.raises(DatasetConfigError, match="has no config 'mbpp'.*humaneval"):
        train_variant(*args)
    args = _args(workdir, "A", "llama", "--resume")
    args[1].output_dir = str(tmp_path / "never-trained")
    with pytest.raises(ResumeError, match="no complete checkpoint"):
        train_variant(*args)


def test_rows_cut_off_by_max_length_are_counted(workdir, tmp_path):
    args = _args(workdir, "A", "llama", "--max_steps", "1", "--max_length", "160", "--merge", "false")
    args[1].output_dir = str(tmp_path / "short-A")
    log = train_variant(*args)
    # HumanEval prompts are long: at 160 tokens some rows keep no completion token and TRL drops them
    assert log["rows_cut_off_by_max_length"] > 0
    assert log["train_examples"] + log["rows_cut_off_by_max_length"] == 12


def test_training_log_json(workdir):
    model_dir = workdir / "models" / "llama-A"
    if not (model_dir / "training_log.json").exists():
        _train(workdir, "A")
    log = json.loads((model_dir / "training_log.json").read_text())
    assert log["variant"] == "A" and log["steps"] == 8 and len(log["loss_curve"]) == 8
    assert log["hyperparameters"]["lora_target_modules"] in ("all-linear", ["all-linear"])
    from eval_space.generation import cpu_bf16_is_faster

    # the recipe leaves bf16 unset: the log says what the probe chose on this CPU
    assert log["hyperparameters"]["precision"] == ("bf16 autocast" if cpu_bf16_is_faster() else "fp32")


@pytest.mark.parametrize("vocab_size", [400])
def test_extended_tokenizer_of_another_base_model_is_refused(workdir, vocab_size):
    """A variant-C tokenizer built on one base vocabulary cannot be used with another."""
    from trainers.tiny_model import python_corpus, train_tiny_tokenizer
    from trainers.variant_c import TokenizerMismatchError, check_extends

    ir_tokens = _ir_tokens(workdir, "llama")
    other_base = train_tiny_tokenizer(python_corpus(100_000), vocab_size)
    with pytest.raises(TokenizerMismatchError, match="does not extend this base model's tokenizer"):
        check_extends(other_base, ir_tokens.tokenizer, "tok-dir")
    check_extends(AutoTokenizer.from_pretrained(workdir / "tiny-llama"), ir_tokens.tokenizer, "tok-dir")


@pytest.mark.parametrize("bf16", [True, False])
def test_bf16_training_keeps_the_frozen_base_in_bf16_and_every_trained_weight_in_fp32(
    workdir, monkeypatch, bf16
):
    """bf16 on CPU: the frozen base is stored in bf16, LoRA and the new rows train on fp32 master weights."""
    from trl import SFTTrainer

    import eval_space.generation as generation

    # bf16 is emulated where it is not native: slow, but the model is tiny
    monkeypatch.setattr(generation, "cpu_supports_bf16", lambda: True)
    seen = {}
    original_train = SFTTrainer.train

    def train_and_record_dtypes(self, *a, **k):
        for name, param in self.model.named_parameters():
            seen.setdefault(param.requires_grad, set()).add(param.dtype)
            if "trainable_tokens_delta" in name:
                seen["new rows"] = param.dtype
        return original_train(self, *a, **k)

    monkeypatch.setattr(SFTTrainer, "train", train_and_record_dtypes)
    name = f"C-bf16-{bf16}"
    log, _ = _train(workdir, "C", "llama", "--bf16", str(bf16).lower(), "--output_dir", str(workdir / name))
    assert seen[True] == {torch.float32} and seen["new rows"] == torch.float32
    assert seen[False] == {torch.bfloat16 if bf16 else torch.float32}
    assert log["frozen_base_dtype"] == ("bfloat16" if bf16 else "float32")
    assert log["final_loss"] < log["first_loss"], log["loss_curve"]
    merged = AutoModelForCausalLM.from_pretrained(workdir / name / "merged")
    assert merged.dtype == torch.float32  # merged into the fp32 base, as before
