"""Warm-up: continued training on paired source / IR sequences before the MBPP fine-tuning (the seed's phase 4).

IRCoder-style: every corpus function gives two rows, source -> IR and IR -> source, each opened by a
direction marker (`codereps.prompts.translation_examples`). For the `ir-tokens` encoding the IR is written
in the new IR tokens, so their embedding rows (and an untied head's output rows) are trained here on far
more IR than MBPP holds; for `text` the IR is plain text under the base tokenizer. One warm-up per
encoding is shared by every variant that uses it (C and C-plan by default).

```bash
python -m trainers.warmup --base-model smollm2 --corpus build/corpus/dataset:local --encoding ir-tokens \\
    --ir cfg --ir-tokenizer build/experiments/smol/tokenizers/cfg-extended --steps 200 \\
    --output build/warmup/smollm2-cfg-ir-tokens -- --config configs/smol.yaml
```

Outputs in the output folder: `merged/` (the warm model, loadable with `from_pretrained`, its tokenizer
the extended one for `ir-tokens`, and `codereps_warmup.json`: what it was warmed up on), `adapter/`,
`training_log.json` (loss curve, `new_rows_change`: how far the new rows moved), `loss.png`.
`codereps train --model_name_or_path <output>/merged` fine-tunes from it. A complete warm-up with the
same settings is reused, not retrained.
"""

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from codereps.variants import IR_ENCODINGS

WARMUP_MARKER = (
    "codereps_warmup.json"  # in the warm model folder; written last, so it marks a complete warm-up
)
WARM_MODEL_SUBFOLDER = "merged"
# the settings that make two warm-ups the same one (a finished warm-up with other settings is not reused)
IDENTITY_KEYS = ("base_model", "corpus", "encoding", "ir", "steps", "seed")


class WarmupError(ValueError):
    """A warm-up that cannot run (bad encoding, no corpus rows) or a folder holding a different warm-up."""


def read_warmup_marker(model_path) -> dict | None:
    """What a warm model was warmed up on (base_model, corpus, encoding, ir, steps, seed, ...), or None."""
    marker = Path(str(model_path)) / WARMUP_MARKER
    if not marker.is_file():
        return None
    return json.loads(marker.read_text())


def warm_model_dir(output_dir) -> Path:
    return Path(output_dir) / WARM_MODEL_SUBFOLDER


def run_warmup(
    base_model: str,
    corpus: str,
    encoding: str,
    ir: str,
    ir_tokenizer: str | Path | None,
    steps: int,
    output_dir: str | Path,
    seed: int = 0,
    *,
    train_args: Sequence[str] = (),
    max_rows: int | None = None,
    force: bool = False,
    ir_tokens=None,
) -> Path:
    """Warm `base_model` up on `corpus` (`DATASET[:CONFIG]`, its train split) for `steps`; returns the warm model.

    encoding: "text" or "ir-tokens" (the latter needs `ir_tokenizer`, the extended tokenizer folder, or
    `ir_tokens`). train_args: `codereps train` flags for the recipe (`--config configs/smol.yaml`, learning
    rate, batch size, LoRA rank, ...); steps and seed given here win. max_rows: corpus rows to read (default:
    enough for `steps` batches, two rows each). A complete warm-up with the same settings in `output_dir` is
    returned as it is; one with other settings is an error unless `force`.
    """
    from codereps.prompts import check_ir
    from trainers.base_model import load_tokenizer, resolve_model_path
    from trainers.data import build_examples
    from trainers.run import fit, last_complete_checkpoint, load_corpus_examples
    from trainers.sft import parse
    from trainers.variant_c import for_base_tokenizer, load_ir_tokens

    if encoding not in IR_ENCODINGS:
        raise WarmupError(f"unknown warm-up encoding {encoding!r}: choose one of {', '.join(IR_ENCODINGS)}")
    check_ir(ir)
    if steps < 1:
        raise WarmupError(f"warm-up steps must be >= 1 (got {steps})")
    if encoding == "ir-tokens" and ir_tokenizer is None and ir_tokens is None:
        raise WarmupError("an ir-tokens warm-up needs the extended tokenizer (ir_tokenizer)")
    output_dir = Path(output_dir)
    warm = warm_model_dir(output_dir)
    settings = {
        "base_model": str(base_model),
        "corpus": corpus,
        "encoding": encoding,
        "ir": ir,
        "steps": steps,
        "seed": seed,
    }
    done = read_warmup_marker(warm)
    if done is not None and not force:
        if {k: done.get(k) for k in IDENTITY_KEYS} == settings:
            print(f"[warm-up {encoding}] complete, reused: {warm}")
            return warm
        raise WarmupError(
            f"{warm} holds a warm-up of other settings "
            f"({ {k: done.get(k) for k in IDENTITY_KEYS if done.get(k) != settings[k]} }, asked for "
            f"{ {k: settings[k] for k in IDENTITY_KEYS if done.get(k) != settings[k]} }): "
            f"use another output folder, or force"
        )

    argv = ["--model_name_or_path", str(base_model), "--output_dir", str(output_dir), *train_args]
    argv += ["--max_steps", str(steps), "--seed", str(seed)]
    _, training_args, model_args = parse(argv, prog="warm-up")
    model_path = resolve_model_path(model_args.model_name_or_path)
    tokenizer = load_tokenizer(model_path)
    if encoding == "ir-tokens":
        if ir_tokens is None:
            ir_tokens = load_ir_tokens(str(ir_tokenizer), tokenizer)
        else:
            ir_tokens = for_base_tokenizer(ir_tokens, tokenizer, "the given IR tokens")
    else:
        ir_tokens = None

    batch = training_args.per_device_train_batch_size * training_args.gradient_accumulation_steps
    rows_wanted = max_rows if max_rows is not None else math.ceil(steps * batch / 2)
    examples, skipped = load_corpus_examples(corpus, ir, rows_wanted, seed=seed)
    if not examples:
        raise WarmupError(f"warm-up corpus {corpus}: no row with `src` and {ir!r} ({len(skipped)} skipped)")
    if skipped:
        print(f"[warm-up {encoding}] skipped {len(skipped)} corpus rows without an IR: {skipped[:3]}")
    built = build_examples(
        examples, skipped, ir_tokens, tokenizer.eos_token_id, training_args.max_length or 1024
    )
    last, _ = last_complete_checkpoint(output_dir)
    log = fit(
        model_path,
        built,
        training_args,
        model_args,
        processing_class=ir_tokens.tokenizer if ir_tokens is not None else tokenizer,
        ir_tokens=ir_tokens,
        resume=last is not None and not force,  # a killed warm-up picks up where it stopped
        merge=True,
        label=f"warm-up {encoding}",
        log_fields={
            "model": output_dir.name,
            "variant": "warm-up",
            **settings,
            "corpus_rows": len(examples) // 2,
        },
    )
    marker = {
        **settings,
        "corpus_rows": len(examples) // 2,
        "examples": len(examples),
        "skipped_rows": len(skipped),
        "first_loss": log["first_loss"],
        "final_loss": log["final_loss"],
        "new_rows_change": log["new_rows_change"],
        "training_log": str(output_dir / "training_log.json"),
    }
    (warm / WARMUP_MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    change = log["new_rows_change"]
    moved = f", new rows moved {change['input']['relative']:.3f} (relative)" if change else ""
    print(
        f"[warm-up {encoding}] {log['steps']} steps, loss {log['first_loss']} -> {log['final_loss']}{moved}"
    )
    return warm


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trainers.warmup",
        description="continued training on paired source/IR sequences (both directions) -> a warm model",
        epilog="flags after `--` go to the `codereps train` parser (recipe, learning rate, LoRA, ...)",
    )
    parser.add_argument("--base-model", required=True, help="base model: folder, Hub id or `smollm2`")
    parser.add_argument("--corpus", required=True, help="DATASET[:CONFIG] of this project (its train split)")
    parser.add_argument("--encoding", choices=IR_ENCODINGS, required=True)
    parser.add_argument("--ir", choices=["cfg", "ast"], default="cfg")
    parser.add_argument("--ir-tokenizer", help="extended tokenizer folder (ir-tokens)")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument(
        "--output", required=True, help="warm-up folder (the warm model goes to <output>/merged)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-rows", type=int, help="corpus rows to read (default: enough for --steps)")
    parser.add_argument("--force", action="store_true", help="retrain even when a warm-up is complete")
    return parser


def main(argv: list[str] | None = None) -> int:
    from trainers.errors import user_errors

    argv = list(sys.argv[1:] if argv is None else argv)
    train_args = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = make_parser().parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    try:
        warm = run_warmup(
            args.base_model,
            args.corpus,
            args.encoding,
            args.ir,
            args.ir_tokenizer,
            args.steps,
            args.output,
            args.seed,
            train_args=train_args,
            max_rows=args.max_rows,
            force=args.force,
        )
    except (WarmupError, *user_errors()) as e:
        print(f"warm-up: error: {e}", file=sys.stderr)
        return 2
    print(f"warm model: {warm}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
