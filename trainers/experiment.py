"""`codereps experiment`: the whole study in one command.

    dataset -> IR tokenizer -> train A, B, C -> evaluate (pass@k) -> results JSON -> cards -> Hub repo folders

```bash
codereps experiment --preset smoke                     # CPU, tiny model, minutes: a plumbing check
codereps experiment --preset smol --mbpp ../shared/data/mbpp/mbpp.jsonl
codereps experiment --preset phi1 --mbpp ../shared/data/mbpp/mbpp.jsonl   # one GPU, QLoRA
codereps experiment --preset smol --max-steps 3 --limit 16               # a few steps of the real recipe
```

Run layout (each folder is laid out as the Hub repo it becomes):
`<run>/dataset/`, `<run>/tokenizers/`, `<run>/base-model/` (smoke only),
`<run>/models/<name>/{adapter,merged,checkpoint-*}/`, `<run>/results/<name>.json`.
Every step is skipped when its output is complete; `--force` redoes them.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from codereps.paths import shared_data_dir

DEFAULT_OUTPUT = Path("build/experiments")


@dataclass(frozen=True)
class Preset:
    name: str
    recipe: str  # configs/<recipe>.yaml: the `codereps train` recipe
    base_model: str  # "tiny" = built from config in the run folder
    model_prefix: str
    task: str  # evaluation task
    train_config: str  # dataset config trained on
    eval_split: str
    tokenizer_config: str = "mbpp"  # dataset config the IR tokenizer is trained on (needs a train split)
    ir_vocab_size: int = 1000
    n_samples: int = 1
    temperature: float = 0.0
    max_new_tokens: int = 256
    eval_limit: int | None = None
    note: str = ""
    sources: tuple = field(default=("mbpp",))
    # pass@k executes model-written code (in eval_space's sandbox) only after an opt-in; the smoke preset's
    # tiny random model opts in by itself so `make smoke` runs unattended, real models need the flag.
    executes_code_by_default: bool = False


PRESETS = {
    "smoke": Preset(
        name="smoke",
        recipe="smoke",
        base_model="tiny",
        model_prefix="codereps-tiny",
        task="humaneval",
        train_config="humaneval",
        eval_split="test[132:]",
        ir_vocab_size=300,
        max_new_tokens=48,
        eval_limit=8,
        sources=("humaneval", "mbpp"),
        executes_code_by_default=True,
        note="PLUMBING CHECK: a tiny random model trained for seconds; the pass@1 figures mean nothing.",
    ),
    "smol": Preset(
        name="smol",
        recipe="smol",
        base_model="smollm2",
        model_prefix="codereps-smollm2",
        task="mbpp",
        train_config="mbpp",
        eval_split="test",
        max_new_tokens=256,
    ),
    "phi1": Preset(
        name="phi1",
        recipe="phi1",
        base_model="microsoft/phi-1",
        model_prefix="codereps-phi-1",
        task="mbpp",
        train_config="mbpp",
        eval_split="test",
        n_samples=15,
        temperature=0.1,
        max_new_tokens=512,
    ),
}


class ExperimentError(RuntimeError):
    """A step that cannot run (missing input, missing component), named with its reason."""


def _say(message: str) -> None:
    print(f"[experiment] {message}", flush=True)


def _complete(*paths: Path) -> bool:
    return all(p.exists() for p in paths)


def step_dataset(preset: Preset, run: Path, mbpp: Path | None, force: bool) -> Path:
    from codereps.cli import main as codereps_main

    dataset = run / "dataset"
    for source in preset.sources:
        if _complete(dataset / "data" / source) and not force:
            _say(f"dataset {source}: complete, skipped")
            continue
        argv = ["dataset", "build", "--source", source, "--output", str(dataset), "--overwrite"]
        if source == "mbpp":
            mbpp = mbpp or shared_data_dir() / "mbpp" / "mbpp.jsonl"
            if not mbpp.exists():
                raise ExperimentError(f"MBPP not found at {mbpp}: pass --mbpp PATH")
            argv += ["--input", str(mbpp)]
        if codereps_main(argv) != 0:
            raise ExperimentError(f"dataset build for {source} failed (see above)")
    return dataset


def step_base_model(preset: Preset, run: Path) -> str:
    if preset.base_model != "tiny":
        return preset.base_model
    from trainers.tiny_model import build_tiny_model

    return str(build_tiny_model(run / "base-model", "llama"))


def step_tokenizer(preset: Preset, run: Path, dataset: Path, base_model: str, ir: str, force: bool) -> Path:
    from codereps.cli import main as codereps_main

    out = run / "tokenizers"
    folder = out / f"codereps-{ir}-tokenizer"
    if _complete(folder / "tokenizer.json") and not force:
        _say(f"IR tokenizer {ir}: complete, skipped")
        return folder
    argv = ["tokenizer", "train", "--dataset", str(dataset), "--config", preset.tokenizer_config]
    argv += ["--field", ir, "--vocab-size", str(preset.ir_vocab_size), "--output", str(out), "--overwrite"]
    argv += ["--base-tokenizer", base_model]
    if codereps_main(argv) != 0:
        raise ExperimentError("IR tokenizer training failed (see above)")
    return folder


def step_extend(run: Path, ir_tokenizer: Path, base_model: str, ir: str, force: bool) -> Path:
    """Variant C's vocabulary: the base tokenizer + the IR tokens (tokenizer_builder.extension)."""
    from codereps.cli import main as codereps_main

    folder = run / "tokenizers" / f"{ir}-extended"
    if _complete(folder / "codereps_extension.json") and not force:
        _say(f"extended tokenizer {ir}: complete, skipped")
        return folder
    argv = ["tokenizer", "extend", "--ir-tokenizer", str(ir_tokenizer), "--base-tokenizer", base_model]
    if codereps_main(argv + ["--output", str(folder), "--overwrite"]) != 0:
        raise ExperimentError("vocabulary extension failed (see above)")
    return folder


def step_train(preset, run, dataset, base_model, variant, ir, ir_tokenizer, overrides, force) -> Path:
    from trainers.run import train_variant
    from trainers.sft import parse

    model_dir = run / "models" / f"{preset.model_prefix}-{variant}"
    if _complete(model_dir / "merged" / "config.json", model_dir / "training_log.json") and not force:
        _say(f"train {variant}: complete, skipped")
        return model_dir
    recipe = Path(__file__).resolve().parent.parent / "configs" / f"{preset.recipe}.yaml"
    argv = ["--config", str(recipe), "--model_name_or_path", base_model, "--dataset_name", str(dataset)]
    argv += ["--variant", variant, "--ir", ir, "--output_dir", str(model_dir)]
    if variant == "C":
        argv += ["--ir_tokenizer", str(ir_tokenizer)]
    has_checkpoint = any(model_dir.glob("checkpoint-*")) and not force
    if has_checkpoint:
        argv += ["--resume"]  # a killed run picks up where it stopped
    train_variant(*parse(argv + overrides, prog="codereps train"))
    return model_dir


def run_experiment(args) -> int:
    import sys

    from trainers.errors import user_errors

    try:
        return _run_experiment(args)
    except (ExperimentError, *user_errors()) as e:
        print(f"codereps experiment: error: {e}", file=sys.stderr)
        return 2


def _check_code_execution_opt_in(preset: Preset, allow: bool) -> None:
    import os

    if allow or preset.executes_code_by_default:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
        _say("pass@k executes the generated code in the eval_space sandbox (HF_ALLOW_CODE_EVAL=1)")
    elif os.getenv("HF_ALLOW_CODE_EVAL", "0") != "1":
        raise ExperimentError(
            "the evaluation executes model-written code: opt in with --allow-code-execution or "
            "HF_ALLOW_CODE_EVAL=1 (see eval_space/pass_at_k/README.md, Safety)"
        )


def _run_experiment(args) -> int:
    preset = PRESETS[args.preset]
    _check_code_execution_opt_in(preset, args.allow_code_execution)
    run = Path(args.output or DEFAULT_OUTPUT / preset.name)
    run.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if preset.note:
        _say(preset.note)
    overrides = []
    if args.max_steps is not None:
        overrides += ["--max_steps", str(args.max_steps)]
    if args.limit is not None:
        overrides += ["--limit", str(args.limit)]

    dataset = step_dataset(preset, run, Path(args.mbpp) if args.mbpp else None, args.force)
    base_model = step_base_model(preset, run)
    ir_tokenizer = step_tokenizer(preset, run, dataset, base_model, args.ir, args.force)
    if "C" in args.variants:
        ir_tokenizer = step_extend(run, ir_tokenizer, base_model, args.ir, args.force)
    outcomes = {}
    for variant in args.variants:
        try:
            model_dir = step_train(
                preset, run, dataset, base_model, variant, args.ir, ir_tokenizer, overrides, args.force
            )
            outcomes[variant] = {"model_dir": str(model_dir)}
        except NotImplementedError as e:
            _say(f"train {variant}: NOT RUN: {e}")
            outcomes[variant] = {"missing": str(e)}
    ir_tokens = ir_tokens_per_prompt(preset, dataset, base_model, ir_tokenizer, args.ir)
    for variant, outcome in outcomes.items():
        outcome["ir_tokens_per_prompt"] = ir_tokens.get(variant)
        if "model_dir" in outcome:
            outcome.update(
                step_evaluate(
                    preset, run, Path(outcome["model_dir"]), variant, args, dataset, ir_tokenizer, ir_tokens
                )
            )
            write_model_card(Path(outcome["model_dir"]), outcome)
    print_table(preset, outcomes)
    print_comparisons(compare_variants(run, outcomes))
    _say(f"done in {time.perf_counter() - started:.0f} s; run folder {run}")
    return 0 if all("missing" not in o for o in outcomes.values()) else 1


def ir_tokens_per_prompt(preset, dataset: Path, base_model: str, ir_tokenizer: Path, ir: str) -> dict:
    """Mean prompt tokens spent on the IR over the evaluation problems: 0 for A, base tokens for B, IR tokens for C."""
    from tokenizer_builder.extension import load_extension
    from trainers.base_model import load_tokenizer, resolve_model_path
    from trainers.data import load_split

    rows = [r for r in load_split(str(dataset), preset.task, preset.eval_split) if r.get(ir)]
    if not rows:
        return {}
    base = load_tokenizer(resolve_model_path(base_model))
    counts = {"A": 0.0}
    counts["B"] = sum(len(base(r[ir], add_special_tokens=False)["input_ids"]) for r in rows) / len(rows)
    if (ir_tokenizer / "codereps_extension.json").exists():
        extension = load_extension(ir_tokenizer)
        counts["C"] = sum(len(extension.encode_ir(r[ir])) for r in rows) / len(rows)
    return {k: round(v, 1) for k, v in counts.items()}


def write_model_card(model_dir: Path, outcome: dict) -> None:
    from model_cards.model_card import model_card

    log = json.loads((model_dir / "training_log.json").read_text())
    results = outcome if "pass@1" in outcome else None
    card = model_card(log, results)
    for folder in (model_dir / "merged", model_dir / "adapter"):
        if folder.is_dir():
            card.save(folder / "README.md")


def step_evaluate(
    preset, run, model_dir: Path, variant: str, args, dataset: Path, ir_tokenizer, ir_tokens
) -> dict:
    """pass@k of the merged model with the eval harness, then the results JSON the leaderboard reads.

    Every variant is scored on the same problems: the evaluation split's rows that have the IR (B and C
    need it in the prompt); the rows without one are counted in the results.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from codereps.prompts import make_prompt_fn
    from eval_space.harness import evaluate_model
    from eval_space.tasks import get_task
    from trainers.data import load_split

    results_path = run / "results" / f"{model_dir.name}.json"
    if results_path.exists() and not args.force:
        _say(f"evaluate {variant}: complete, skipped")
        return json.loads(results_path.read_text())
    log = json.loads((model_dir / "training_log.json").read_text())
    rows = [dict(r) for r in load_split(str(dataset), preset.task, preset.eval_split)]
    docs = [r for r in rows if r.get(args.ir)]
    eval_limit = args.eval_limit if args.eval_limit is not None else preset.eval_limit
    if eval_limit is not None:
        docs = docs[:eval_limit]
    render_ir = None
    if variant == "C":
        from tokenizer_builder.extension import load_extension

        render_ir = load_extension(ir_tokenizer).render_ir
    model = AutoModelForCausalLM.from_pretrained(model_dir / "merged")
    tokenizer = AutoTokenizer.from_pretrained(model_dir / "merged")
    ks = [1, 10] if preset.n_samples >= 10 else [1]
    _say(
        f"evaluate {variant}: {len(docs)} {preset.task} problems, n={preset.n_samples}, T={preset.temperature}"
    )
    results = evaluate_model(
        model,
        tokenizer,
        get_task(preset.task),
        docs,
        n_samples=preset.n_samples,
        temperature=preset.temperature,
        max_new_tokens=preset.max_new_tokens,
        k=ks,
        prompt_fn=make_prompt_fn(variant, args.ir, render_ir),
        generations_path=run / "generations" / f"{model_dir.name}.json",
        results_path=results_path,
        progress=False,
        metadata={
            "model": model_dir.name,
            "base_model": log["base_model"],
            "variant": variant,
            "ir": args.ir if variant != "A" else None,
            "eval_split": preset.eval_split,
            "problems_without_ir": len(rows) - len([r for r in rows if r.get(args.ir)]),
            "ir_tokens_per_prompt": ir_tokens.get(variant),
            "train_tokens_per_s": log["train_tokens_per_s"],
            "train_wall_time_s": log["wall_time_s"],
            "train_peak_memory_mb": log["peak_memory_mb"],
            "preset": preset.name,
            "note": preset.note or None,
        },
    )
    return results


def print_table(preset: Preset, outcomes: dict) -> None:
    def cell(value, fmt="{:.3f}"):
        return "n/a" if value is None else fmt.format(value)

    with_k10 = any(o.get("pass@10") is not None for o in outcomes.values())
    print()
    if preset.note:
        print(preset.note)
    header = f"{'variant':<8} {'pass@1':>8}" + (f" {'pass@10':>8}" if with_k10 else "")
    print(header + f" {'IR tokens/prompt':>17} {'train tok/s':>12}  note")
    for variant, o in outcomes.items():
        line = f"{variant:<8} {cell(o.get('pass@1')):>8}"
        if with_k10:
            line += f" {cell(o.get('pass@10')):>8}"
        line += f" {cell(o.get('ir_tokens_per_prompt'), '{:.1f}'):>17} {cell(o.get('train_tokens_per_s'), '{:.0f}'):>12}"
        print(line + f"  {(o.get('missing') or '')[:80]}")


def compare_variants(run: Path, outcomes: dict, baseline: str = "A") -> list[dict]:
    """Each evaluated variant against the baseline on the same problems; written to comparisons.json."""
    from eval_space.paired import compare_pass_at_1

    if "per_problem" not in outcomes.get(baseline, {}):
        return []
    comparisons = [
        {"variant": variant, **compare_pass_at_1(outcomes[baseline], outcome)}
        for variant, outcome in outcomes.items()
        if variant != baseline and "per_problem" in outcome
    ]
    (run / "comparisons.json").write_text(json.dumps(comparisons, indent=2))
    return comparisons


def print_comparisons(comparisons: list[dict]) -> None:
    if not comparisons:
        return
    print(f"\npaired vs {comparisons[0]['baseline']} on the same {comparisons[0]['problems']} problems")
    print(
        f"{'variant':<8} {'pass@1 diff':>11} {'95% CI (bootstrap)':>20} {'better/worse':>13} {'sign test p':>12}"
    )
    for c in comparisons:
        low, high = c["ci95"]
        interval, counts = f"[{low:+.3f}, {high:+.3f}]", f"{c['better_on']}/{c['worse_on']}"
        print(
            f"{c['variant']:<8} {c['pass@1_difference']:>+11.3f} {interval:>20} {counts:>13} "
            f"{c['sign_test_p']:>12.3f}"
        )


def add_parser(subparsers):
    parser = subparsers.add_parser("experiment", help="run the A/B/C study end to end (dataset -> pass@k)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="smoke")
    parser.add_argument("--output", help="run folder (default: build/experiments/<preset>)")
    parser.add_argument("--mbpp", help="MBPP jsonl (default: ../shared/data/mbpp/mbpp.jsonl)")
    parser.add_argument("--ir", choices=["cfg", "ast"], default="cfg", help="IR in the prompts of B and C")
    parser.add_argument("--variants", nargs="+", choices=["A", "B", "C"], default=["A", "B", "C"])
    parser.add_argument("--max-steps", type=int, help="override the recipe's training steps (quick runs)")
    parser.add_argument("--limit", type=int, help="train on the first N rows only (quick runs)")
    parser.add_argument("--eval-limit", type=int, help="evaluate on the first N problems only (quick runs)")
    parser.add_argument("--force", action="store_true", help="redo steps whose outputs are complete")
    parser.add_argument(
        "--allow-code-execution",
        action="store_true",
        help="opt in to executing generated code for pass@k (same as HF_ALLOW_CODE_EVAL=1; smoke opts in itself)",
    )
    parser.set_defaults(func=run_experiment)
    return parser
