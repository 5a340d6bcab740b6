"""One training run of a variant (A, B, C, B-plan, C-plan, A-aux): data -> (Q)LoRA SFT -> adapter, merged model,
log, plot, card."""

import json
import shutil
import time
from pathlib import Path

from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from codereps.allocator import loaded_allocator
from codereps.memory import release_memory, reset_peak_rss

# The Trainer writes a checkpoint's trainer_state.json last: a folder without it was cut short (a kill or a
# full disk while saving) and cannot be resumed from.
COMPLETE_CHECKPOINT_MARKER = "trainer_state.json"


class ResumeError(RuntimeError):
    """`--resume` without a checkpoint to resume from."""


class CheckpointWriteError(RuntimeError):
    """Training stopped while writing a checkpoint (full disk, quota, file size limit)."""


def train_variant(script_args, training_args, model_args, ir_tokens=None) -> dict:
    """Train one variant; `ir_tokens` (a `trainers.variant_c.IRTokens`) overrides `--ir_tokenizer`.

    The base model may be a warm-up's output (`trainers.warmup`): for the IR-token variants its vocabulary
    already holds the IR tokens, the resize is a no-op and the warmed-up rows are trained on from there.
    """
    from codereps.prompts import check_variant
    from trainers.base_model import load_tokenizer, resolve_model_path
    from trainers.data import build_examples, load_split, task_examples
    from trainers.variant_c import for_base_tokenizer, load_ir_tokens

    variant, ir = check_variant(script_args.variant), script_args.ir
    model_path = resolve_model_path(model_args.model_name_or_path)
    tokenizer = load_tokenizer(model_path)
    if not variant.needs_extension:
        ir_tokens = None
    elif ir_tokens is None:
        ir_tokens = load_ir_tokens(script_args.ir_tokenizer, tokenizer)
    else:
        ir_tokens = for_base_tokenizer(ir_tokens, tokenizer, "the given IR tokens")

    rows = load_split(
        script_args.dataset_name,
        script_args.dataset_config,
        script_args.dataset_train_split,
        script_args.limit,
    )
    examples, skipped = task_examples(rows, variant, ir)
    if getattr(script_args, "aux_corpus", None):
        corpus_examples, corpus_skipped = load_corpus_examples(
            script_args.aux_corpus, ir, script_args.aux_corpus_rows, seed=training_args.seed
        )
        examples, skipped = examples + corpus_examples, skipped + corpus_skipped
    built = build_examples(
        examples, skipped, ir_tokens, tokenizer.eos_token_id, training_args.max_length or 1024
    )
    if built.skipped:
        print(
            f"[train {variant.name}] skipped {len(built.skipped)} rows without a usable example: "
            f"{built.skipped[:5]}"
        )
    log = fit(
        model_path,
        built,
        training_args,
        model_args,
        processing_class=ir_tokens.tokenizer if ir_tokens is not None else tokenizer,
        ir_tokens=ir_tokens,
        resume=script_args.resume,
        merge=script_args.merge,
        label=f"train {variant.name}",
        log_fields={
            "model": Path(training_args.output_dir).name,
            "base_model": model_args.model_name_or_path,
            "variant": variant.name,
            **variant.results_fields(),
            "ir": ir if variant.uses_ir else None,
            "warmup": warmup_of(model_path),
            "dataset": script_args.dataset_name,
            "dataset_config": script_args.dataset_config,
            "train_split": script_args.dataset_train_split,
            "aux_corpus": getattr(script_args, "aux_corpus", None),
        },
    )
    from model_cards.model_card import model_card

    model_dir = Path(training_args.output_dir)
    card = model_card(log)  # `codereps experiment` re-renders it with the evaluation results
    for folder in (model_dir / "adapter", model_dir / "merged"):
        if folder.is_dir():
            card.save(folder / "README.md")
    return log


def load_corpus_examples(spec: str, ir: str, max_rows: int, seed: int = 0, split: str = "train"):
    """Translation rows (both directions) of up to `max_rows` rows of `DATASET[:CONFIG]`'s split, shuffled."""
    from trainers.data import (
        corpus_translation_examples,
        load_split,
        resolve_dataset_config,
        split_dataset_spec,
    )

    dataset, config = split_dataset_spec(spec)
    config = resolve_dataset_config(dataset, config)
    rows = load_split(dataset, config, split)
    rows = rows.shuffle(seed=seed).select(range(min(max_rows, len(rows))))
    return corpus_translation_examples(rows, ir, f"{spec} ({split})")


def warmup_of(model_path: str) -> dict | None:
    """{"corpus", "steps", ...} when the base model is a warm-up's output (its `codereps_warmup.json`), else None."""
    from trainers.warmup import read_warmup_marker

    return read_warmup_marker(model_path)


def fit(
    model_path: str,
    built,
    training_args,
    model_args,
    *,
    processing_class,
    ir_tokens=None,
    resume: bool = False,
    merge: bool = True,
    label: str = "train",
    log_fields: dict | None = None,
) -> dict:
    """(Q)LoRA SFT of `model_path` on `built` examples -> adapter, log, loss plot, and the merged model.

    With `ir_tokens`, the model is resized to the extended vocabulary and the new IR-token rows (embedding,
    and an untied head) are trained too; the log records how far they moved (`new_rows_change`).
    Shared by `train_variant` and the warm-up.
    """
    import torch
    from trl import SFTTrainer, get_peft_config, get_quantization_config

    from trainers.base_model import load_causal_lm
    from trainers.lm_head import score_only_labelled_positions
    from trainers.merge import merge_adapter
    from trainers.trainable_tokens import TrainableTokensSFTTrainer, trainable_token_indices
    from trainers.training_log import PurgeFreedPagesCallback, TrainingLogCallback, write_training_log
    from trainers.variant_c import new_rows, new_rows_change, resize_for_ir_tokens

    reset_peak_rss()  # the log's peak is this training's, not the largest of the runs before it in this process
    model_dir = Path(training_args.output_dir)
    checkpoint = _checkpoint_to_resume(model_dir, resume)
    device = "cuda" if torch.cuda.is_available() and not training_args.use_cpu else "cpu"
    quantization = get_quantization_config(model_args) if device == "cuda" else None
    base_dtype = base_weights_dtype(device, training_args, model_args)
    model = load_causal_lm(model_path, quantization, base_dtype)
    peft_config = get_peft_config(model_args)
    trainer_class = SFTTrainer
    rows_before = None
    if ir_tokens is not None:
        new_ids = resize_for_ir_tokens(model, ir_tokens)
        peft_config.trainable_token_indices = trainable_token_indices(model, new_ids)
        trainer_class = TrainableTokensSFTTrainer
        rows_before = new_rows(model, new_ids)

    score_only_labelled_positions()
    log_callback = TrainingLogCallback()
    trainer = trainer_class(
        model=model,
        args=training_args,
        train_dataset=built.dataset,
        processing_class=processing_class,
        peft_config=peft_config,
        callbacks=[log_callback, PurgeFreedPagesCallback()],
    )
    started = time.time()
    try:
        trainer.train(resume_from_checkpoint=checkpoint)
    except Exception as e:
        write_error = _checkpoint_write_error(model_dir, started, e)
        if write_error is None:
            raise
        raise write_error from e
    rows_change = None
    if rows_before is not None:
        rows_change = new_rows_change(rows_before, new_rows(trainer.model, ir_tokens.new_ids))

    # what the Trainer trained on: TRL drops rows whose whole completion max_length cuts off
    # (with packing its dataset holds packed sequences, not rows: every row counts)
    trained_rows = len(built.dataset) if training_args.packing else len(trainer.train_dataset)
    adapter_dir = model_dir / "adapter"
    trainer.save_model(str(adapter_dir))
    processing_class.save_pretrained(adapter_dir)
    log = write_training_log(
        model_dir,
        log_callback,
        device,
        {
            "model": model_dir.name,
            **(log_fields or {}),
            "train_examples": trained_rows,
            "example_kinds": built.kinds,
            "rows_cut_off_by_max_length": len(built.dataset) - trained_rows,
            "skipped_rows": built.skipped,
            "resumed_from": checkpoint,
            "steps": trainer.state.global_step,
            "adapter_mb": _folder_mb(adapter_dir),
            "new_rows_change": rows_change,
            "frozen_base_dtype": "4-bit" if quantization is not None else base_dtype or "float32",
            "allocator": loaded_allocator(),
            "hyperparameters": _hyperparameters(training_args, model_args),
        },
    )
    # the trainer, its optimizer state and the accelerator's references form cycles: collect them now so the
    # merge below and the evaluation after it do not run beside a dead training graph
    del trainer, model
    release_memory()
    if merge:
        merged_dir = model_dir / "merged"
        merge_adapter(model_path, adapter_dir, merged_dir, processing_class, ir_tokens)
        release_memory()
        for name in ("training_log.json", "loss.png"):
            shutil.copy(model_dir / name, merged_dir / name)
    print(f"[{label}] adapter: {adapter_dir}  log: {model_dir / 'training_log.json'}")
    return log


def base_weights_dtype(device: str, training_args, model_args) -> str | None:
    """The dtype the frozen base weights are stored in while training; the trained ones stay fp32.

    CUDA: the recipe's `dtype` (QLoRA's compute dtype). CPU with bf16 training: bf16, because autocast already
    feeds every matmul the frozen weights rounded to bf16; stored in bf16 they skip that cast on every forward
    and the residual stream and saved activations are bf16 too (less memory traffic, the ops between the
    matmuls run on half the bytes). PEFT upcasts the trained parameters (LoRA, variant C's new rows) to fp32
    (`autocast_adapter_dtype`), so every update still lands on fp32 master weights. fp32 otherwise.

    Measured once (a one-off ablation calling benchmarks/train_throughput.py's run() three times in one process,
    SmolLM2 on MBPP train, smol recipe, AMX Xeon): A, 4 steps, fp32 131.0 tok/s, autocast over the fp32 base
    170.1, bf16 base 176.5; peak 5.2 / 4.6 / 4.1 GB; the same loss to 0.1 %. A-aux, 2 steps: 183.2 vs 178.9
    tok/s (noise), peak 5.9 -> 5.5 GB. So it is mostly a memory saving."""
    if device == "cuda":
        return model_args.dtype
    return "bfloat16" if training_args.bf16 else None


def _checkpoint_to_resume(model_dir: Path, resume: bool) -> str | None:
    if not resume:
        return None
    last, incomplete = last_complete_checkpoint(model_dir)
    for folder in incomplete:
        print(
            f"--resume: skipping {folder}: incomplete (no {COMPLETE_CHECKPOINT_MARKER}; cut short while saving)"
        )
    if last is None:
        found = f" ({len(incomplete)} incomplete)" if incomplete else ""
        raise ResumeError(f"--resume: no complete checkpoint-* folder in {model_dir} to resume from{found}")
    print(f"resuming from {last}")
    return str(last)


def _checkpoint_write_error(model_dir: Path, started: float, error: Exception):
    """A CheckpointWriteError if `error` struck while this run was writing a checkpoint, else None."""
    last, incomplete = last_complete_checkpoint(model_dir)
    cut_short = [f for f in incomplete if f.stat().st_mtime >= started]
    if not cut_short:
        return None
    free_gb = shutil.disk_usage(model_dir).free / 2**30
    resume = (
        f"rerun with --resume to continue from {last}" if last else "no complete checkpoint to resume from"
    )
    return CheckpointWriteError(
        f"training stopped while writing {cut_short[0]} ({type(error).__name__}: {error}); "
        f"{free_gb:.1f} GB free on its disk; free space, then {resume}"
    )


def last_complete_checkpoint(model_dir: Path) -> tuple[Path | None, list[Path]]:
    """The newest checkpoint folder that was fully written, and the newer ones that were not."""
    steps = {}
    for folder in model_dir.glob(f"{PREFIX_CHECKPOINT_DIR}-*") if model_dir.is_dir() else ():
        suffix = folder.name[len(PREFIX_CHECKPOINT_DIR) + 1 :]
        if folder.is_dir() and suffix.isdigit():
            steps[int(suffix)] = folder
    incomplete = []
    for step in sorted(steps, reverse=True):
        if (steps[step] / COMPLETE_CHECKPOINT_MARKER).is_file():
            return steps[step], incomplete
        incomplete.append(steps[step])
    return None, incomplete


def _folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 3)


def _hyperparameters(training_args, model_args) -> dict:
    keys = ("learning_rate", "num_train_epochs", "max_steps", "per_device_train_batch_size")
    keys += ("gradient_accumulation_steps", "max_length", "packing", "seed")
    params = {k: getattr(training_args, k) for k in keys}
    params.update(
        # what the step ran in: the CPU default follows a probe (`TrainConfig`), so the recipe alone does not say
        precision="bf16 autocast" if training_args.bf16 else "fp16" if training_args.fp16 else "fp32",
        lora_r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_dropout=model_args.lora_dropout,
        lora_target_modules=model_args.lora_target_modules,
        load_in_4bit=model_args.load_in_4bit,
        bnb_4bit_quant_type=model_args.bnb_4bit_quant_type if model_args.load_in_4bit else None,
        double_quant=model_args.use_bnb_nested_quant if model_args.load_in_4bit else None,
    )
    return json.loads(json.dumps(params, default=str))
