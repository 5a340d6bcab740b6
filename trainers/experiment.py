"""`codereps experiment`: the whole study in one command.

    dataset -> IR tokenizer -> [warm-up per IR encoding] -> per seed: train each variant -> evaluate (pass@k)
    -> results JSON -> cards -> report (table, PNGs, paired comparisons against A)

```bash
codereps experiment --preset smoke                     # CPU, tiny model, minutes: a plumbing check
codereps experiment --preset smol --mbpp ../shared/data/mbpp/mbpp.jsonl --allow-code-execution
codereps experiment --preset phi1 --mbpp ../shared/data/mbpp/mbpp.jsonl   # one GPU, QLoRA
codereps experiment --preset smol --variants A C-plan --seeds 0 1 2 --warmup-corpus build/corpus:local \\
    --warmup-steps 200 --warmup-variants C-plan
codereps report build/experiments/smol                 # the report again, from the run folder alone
```

Models are `<prefix>-<variant>[-warm]-s<seed>`: each variant is trained once per seed (data order, adapter
initialisation and sampling follow it); a `-warm` model starts from the warm-up of its IR encoding (one per
encoding, shared by the variants and seeds that use it). Run layout (each folder is laid out as the Hub
repo it becomes): `<run>/dataset/`, `<run>/corpus/` (a warm-up corpus built from a folder),
`<run>/tokenizers/`, `<run>/base-model/` (smoke only), `<run>/warmup/<prefix>-<ir>-<encoding>/`,
`<run>/models/<name>/{adapter,merged}/`, `<run>/results/<name>.json`, `<run>/comparisons.json`,
`<run>/report/`, `<run>/logs/` (each step's full output). Every step is skipped when its output is
complete; `--force` redoes them.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from codereps.allocator import allocator_note
from codereps.memory import process_peak_rss_mb
from codereps.paths import shared_data_dir
from codereps.variants import VARIANT_NAMES, VARIANTS, WARM_SUFFIX, Variant, get_variant

DEFAULT_OUTPUT = Path("build/experiments")
REPO_ROOT = Path(__file__).resolve().parent.parent
# a preset's warm-up folder: the running interpreter's standard library (`stdlib/<sub>`: one part of it)
STDLIB = "stdlib"


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
    variants: tuple = VARIANT_NAMES
    seeds: tuple = (0,)
    # the warm-up corpus: a folder of Python code built into `<run>/corpus` (config `local`), relative to
    # the repository, or STDLIB; None: no warm-up unless --warmup-corpus names one
    warmup_folder: str | None = None
    warmup_steps: int = 100
    warmup_variants: tuple | None = None  # variants with a warm twin (None: those warmed up by default)
    train_overrides: tuple = ()  # `codereps train` flags over the recipe
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
        max_new_tokens=24,
        eval_limit=4,
        sources=("humaneval", "mbpp"),
        seeds=(0, 1),
        warmup_folder="dataset_builder",  # this repository's own code: small, there in every clone
        warmup_steps=4,
        warmup_variants=("C-plan",),  # one warm twin is enough to check the plumbing (and keeps it < 5 min)
        train_overrides=("--max_steps", "4", "--per_device_train_batch_size", "2", "--max_length", "256"),
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
        # ~1,000 functions: about what 200 steps of 8 rows (two per function) read, not the 60k of all of it
        warmup_folder=f"{STDLIB}/asyncio",
        warmup_steps=200,
        # A-aux: 250 corpus functions (500 translation rows) beside the 748 of MBPP train's own solutions, so that
        # A-aux trains on ~4x A's rows, not ~8x (the train default, 1,000, made it the study's longest model)
        train_overrides=("--aux_corpus_rows", "250"),
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
        warmup_folder=STDLIB,
        warmup_steps=500,
    ),
}


class ExperimentError(RuntimeError):
    """A step that cannot run (missing input, missing component), named with its reason."""


# what --variants takes: a variant (trained from the base model, plus its warm twin where warm-ups apply), or
# one warm twin alone, `<variant>-warm`, e.g. to add warmed-up models to a run folder that has the cold ones
MODEL_LABELS = VARIANT_NAMES + tuple(name + WARM_SUFFIX for name in VARIANT_NAMES)


@dataclass(frozen=True)
class ModelSpec:
    """One model of the study: a variant, trained from the base model or from a warm-up, with one seed."""

    variant: Variant
    seed: int
    warm: bool = False

    @property
    def label(self) -> str:
        return self.variant.name + (WARM_SUFFIX if self.warm else "")

    def name(self, prefix: str) -> str:
        return f"{prefix}-{self.label}-s{self.seed}"


def _baseline_note(folder: Path, prefix: str, seeds: list[int]) -> str:
    """What the paired comparison will use when A is not trained by this command: the run folder's A, or none."""
    a = get_variant("A")
    found = [s for s in seeds if (folder / "results" / f"{ModelSpec(a, s).name(prefix)}.json").exists()]
    if found:
        return f"A is not among the variants: paired against the run folder's A (seeds {', '.join(map(str, found))})"
    return "A is not among the variants, nor in the run folder: no paired comparison against it"


def split_labels(labels) -> tuple[list[str], list[str]]:
    """--variants' labels -> (variants trained from the base model, variants named only as warm twins)."""
    cold = [label for label in labels if not label.endswith(WARM_SUFFIX)]
    warm_only = [label.removesuffix(WARM_SUFFIX) for label in labels if label.endswith(WARM_SUFFIX)]
    return list(dict.fromkeys(cold)), [name for name in dict.fromkeys(warm_only) if name not in cold]


def plan_models(variants, seeds, warm_variants) -> list[ModelSpec]:
    """Per seed (all of seed 0 first): each variant, then the warm twins (the warm-up runs when first needed,
    so a long study has its cold models first). A warm variant need not be among the cold ones."""
    specs = []
    for seed in seeds:
        specs += [ModelSpec(get_variant(name), seed) for name in variants]
        specs += [ModelSpec(get_variant(name), seed, warm=True) for name in warm_variants]
    return specs


@dataclass
class Run:
    """What every step needs: the preset, the run folder, the options, the console and the shared artifacts."""

    preset: Preset
    folder: Path
    args: object
    console: object
    overrides: list
    dataset: Path | None = None
    base_model: str | None = None
    ir_tokenizer: Path | None = None
    extended: Path | None = None
    warm_models: dict = field(default_factory=dict)  # encoding -> warm model folder
    warmup_corpus: str | None = None
    stricter_tests_unavailable: str | None = None  # why pass@1+ is not reported (said once)

    def rel(self, path) -> str:
        try:
            return str(Path(path).relative_to(self.folder))
        except ValueError:
            return str(path)

    def say(self, message: str) -> None:
        self.console.say(f"[experiment] {message}")

    def skipped(self, what: str, output) -> None:
        self.say(f"{what}: complete, skipped ({self.rel(output)})")

    def done(self, what: str, output, seconds: float) -> None:
        self.say(f"{what} -> {self.rel(output)} ({seconds:.1f} s)")


def _complete(*paths: Path) -> bool:
    return all(p.exists() for p in paths)


def _codereps(argv: list[str], what: str) -> None:
    from codereps.cli import main as codereps_main

    try:
        status = codereps_main(argv)
    except SystemExit as e:  # argparse rejected the arguments (its usage line went to the step's log)
        status = e.code
    if status != 0:
        raise ExperimentError(f"{what} failed")


def step_dataset(run: Run, mbpp: Path | None) -> Path:
    dataset = run.folder / "dataset"
    todo = [s for s in run.preset.sources if run.args.force or not _complete(dataset / "data" / s)]
    done = [s for s in run.preset.sources if s not in todo]
    if done:
        run.skipped(f"dataset {', '.join(done)}", dataset)
    seconds = 0.0
    for source in todo:
        argv = ["dataset", "build", "--source", source, "--output", str(dataset), "--overwrite"]
        if source == "mbpp":
            mbpp = mbpp or shared_data_dir() / "mbpp" / "mbpp.jsonl"
            if not mbpp.exists():
                raise ExperimentError(f"MBPP not found at {mbpp}: pass --mbpp PATH")
            argv += ["--input", str(mbpp)]
        with run.console.step(f"dataset {source}", f"dataset-{source}") as step:
            _codereps(argv, f"dataset build for {source}")
        seconds += step.seconds
    if todo:
        run.done(f"dataset {', '.join(todo)}", dataset, seconds)
    return dataset


def step_warmup_corpus(run: Run) -> str | None:
    """`DATASET[:CONFIG]` of the warm-up: --warmup-corpus, or the preset's folder built into `<run>/corpus`."""
    if run.args.warmup_corpus:
        return run.args.warmup_corpus
    if run.preset.warmup_folder is None:
        return None
    import sysconfig

    folder = run.preset.warmup_folder
    if folder == STDLIB or folder.startswith(f"{STDLIB}/"):
        source = Path(sysconfig.get_paths()["stdlib"]) / folder[len(STDLIB) + 1 :]
    else:
        source = REPO_ROOT / folder
    corpus = run.folder / "corpus"
    spec = f"{corpus}:local"
    if _complete(corpus / "data" / "local") and not run.args.force:
        run.skipped("warm-up corpus", corpus / "data" / "local")
        return spec
    argv = ["dataset", "build", "--source", "local", "--input", str(source), "--output", str(corpus)]
    with run.console.step(f"warm-up corpus from {source}", "dataset-corpus") as step:
        _codereps(argv + ["--overwrite", "--workers", "2"], f"warm-up corpus build from {source}")
    run.done(f"warm-up corpus from {source}", corpus / "data" / "local", step.seconds)
    return spec


def step_base_model(run: Run) -> str:
    if run.preset.base_model != "tiny":
        return run.preset.base_model
    from trainers.tiny_model import build_tiny_model

    folder = run.folder / "base-model"
    with run.console.step("tiny base model", "base-model"):
        return str(build_tiny_model(folder, "llama"))


def step_tokenizer(run: Run, ir: str) -> Path:
    out = run.folder / "tokenizers"
    folder = out / f"codereps-{ir}-tokenizer"
    if _complete(folder / "tokenizer.json") and not run.args.force:
        run.skipped(f"IR tokenizer {ir}", folder)
        return folder
    argv = ["tokenizer", "train", "--dataset", str(run.dataset), "--config", run.preset.tokenizer_config]
    argv += [
        "--field",
        ir,
        "--vocab-size",
        str(run.preset.ir_vocab_size),
        "--output",
        str(out),
        "--overwrite",
    ]
    argv += ["--base-tokenizer", run.base_model]
    with run.console.step(f"IR tokenizer {ir}", "tokenizer") as step:
        _codereps(argv, "IR tokenizer training")
    run.done(f"IR tokenizer {ir}", folder, step.seconds)
    return folder


def step_extend(run: Run, ir: str) -> Path:
    """The ir-tokens encoding's vocabulary: the base tokenizer + the IR tokens (tokenizer_builder.extension)."""
    folder = run.folder / "tokenizers" / f"{ir}-extended"
    if _complete(folder / "codereps_extension.json") and not run.args.force:
        run.skipped(f"extended tokenizer {ir}", folder)
        return folder
    argv = [
        "tokenizer",
        "extend",
        "--ir-tokenizer",
        str(run.ir_tokenizer),
        "--base-tokenizer",
        run.base_model,
    ]
    with run.console.step(f"extended tokenizer {ir}", "tokenizer-extend") as step:
        _codereps(argv + ["--output", str(folder), "--overwrite"], "vocabulary extension")
    run.done(f"extended tokenizer {ir}", folder, step.seconds)
    return folder


def _recipe(preset: Preset) -> Path:
    return REPO_ROOT / "configs" / f"{preset.recipe}.yaml"


def step_warmup(run: Run, encoding: str, steps: int) -> Path:
    """One warm-up per IR encoding (seed 0), reused by every variant and seed that starts from it."""
    from trainers.warmup import WARMUP_MARKER, run_warmup, warm_model_dir

    ir = run.args.ir
    output = run.folder / "warmup" / f"{run.preset.model_prefix}-{ir}-{encoding}"
    what = f"warm-up {encoding} on {run.warmup_corpus}, {steps} steps"
    done = (warm_model_dir(output) / WARMUP_MARKER).exists() and not run.args.force
    with run.console.step(what, f"warmup-{encoding}") as step:
        warm = run_warmup(
            run.base_model,
            run.warmup_corpus,
            encoding,
            ir,
            run.extended if encoding == "ir-tokens" else None,
            steps,
            output,
            seed=0,
            train_args=["--config", str(_recipe(run.preset)), *run.overrides],
            force=run.args.force,
        )
    if done:
        run.skipped(f"warm-up {encoding}", warm)
    else:
        run.done(what, warm, step.seconds)
    return warm


def step_train(run: Run, spec: ModelSpec, model_dir: Path) -> bool:
    """Train one model; False when it was complete and skipped."""
    from trainers.run import train_variant
    from trainers.sft import parse

    if (
        _complete(model_dir / "merged" / "config.json", model_dir / "training_log.json")
        and not run.args.force
    ):
        return False
    variant = spec.variant
    base = run.warm_models[variant.warmup_encoding] if spec.warm else run.base_model
    argv = ["--config", str(_recipe(run.preset)), "--model_name_or_path", str(base)]
    argv += ["--dataset_name", str(run.dataset), "--variant", variant.name, "--ir", run.args.ir]
    argv += ["--output_dir", str(model_dir), *run.overrides, "--seed", str(spec.seed)]
    if variant.needs_extension:
        argv += ["--ir_tokenizer", str(run.extended)]
    if variant.aux_rows and run.warmup_corpus:
        argv += ["--aux_corpus", run.warmup_corpus]
    if any(model_dir.glob("checkpoint-*")) and not run.args.force:
        argv += ["--resume"]  # a killed run picks up where it stopped
    train_variant(*parse(argv, prog="codereps train"))
    return True


def evaluation_docs(run: Run) -> tuple[list[dict], int]:
    """The problems every model is scored on: the evaluation split's rows with the IR (B and C need it in the
    prompt, and pairing needs the same problems); also how many rows lack one."""
    from trainers.data import load_split

    rows = [dict(r) for r in load_split(str(run.dataset), run.preset.task, run.preset.eval_split)]
    docs = [r for r in rows if r.get(run.args.ir)]
    limit = run.args.eval_limit if run.args.eval_limit is not None else run.preset.eval_limit
    return (docs if limit is None else docs[:limit]), len(rows) - len(docs)


def step_evaluate(run: Run, spec: ModelSpec, model_dir: Path, docs: list[dict], without_ir: int) -> bool:
    """pass@k of the merged model, its interval, tokens spent and (plan variants) IR fidelity -> results JSON.

    False when the results were complete and skipped."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, set_seed

    from codereps.memory import release_memory
    from eval_space.generation import describe
    from eval_space.harness import score, write_generations, write_results
    from eval_space.paired import pass_at_1_interval
    from eval_space.plan import (
        analyze_plan_candidates,
        apply_postprocess,
        evaluation_functions,
        plan_summary,
        prompt_ir_tokens,
    )
    from eval_space.tasks import get_task
    from tokenizer_builder.extension import load_extension
    from trainers.base_model import load_tokenizer, resolve_model_path

    name = model_dir.name
    results_path = run.folder / "results" / f"{name}.json"
    if results_path.exists() and not run.args.force:
        return False
    preset, variant, ir = run.preset, spec.variant, run.args.ir
    log = json.loads((model_dir / "training_log.json").read_text())
    task = get_task(preset.task)
    extension = load_extension(run.extended) if variant.needs_extension else None
    prompt_fn, postprocess_fn = evaluation_functions(variant, task, ir, extension)
    base_tokenizer = load_tokenizer(resolve_model_path(run.base_model))
    ir_prompt = [prompt_ir_tokens(variant, doc, ir, base_tokenizer, extension) for doc in docs]

    model = AutoModelForCausalLM.from_pretrained(model_dir / "merged")
    tokenizer = AutoTokenizer.from_pretrained(model_dir / "merged")
    set_seed(spec.seed)  # sampling follows the seed (greedy decoding does not sample)
    started = time.perf_counter()
    generations = _generate(run, model, tokenizer, task, docs, prompt_fn, postprocess_fn)
    generation_s = time.perf_counter() - started
    generations = apply_postprocess(generations, docs, postprocess_fn)
    ran_on = describe(model)  # dtype, device, threads, allocator: what `codereps evaluate` records too
    del model
    release_memory()  # one model in memory at a time

    generated = [
        sum(len(tokenizer(c, add_special_tokens=False)["input_ids"]) for c in g["completions"])
        / len(g["completions"])
        for g in generations
    ]
    plan = {}
    if variant.ir_in_target:
        from trainers.variant_c import load_ir_tokens

        ir_tokens = load_ir_tokens(str(run.extended), base_tokenizer) if variant.needs_extension else None
        analysis = analyze_plan_candidates(
            generations, docs, postprocess_fn, variant, ir, tokenizer, ir_tokens
        )
        plan = plan_summary(analysis)
        plan_path = run.folder / "generations" / f"{name}.plan.json"
        plan_path.write_text(json.dumps(analysis, indent=1) + "\n")
        plan["plan_analysis_file"] = str(plan_path)
    settings = {
        "n_samples": preset.n_samples,
        "temperature": preset.temperature,
        "top_p": 0.95,
        "max_new_tokens": preset.max_new_tokens,
    }
    metadata = {
        "model": name,
        "base_model": log["base_model"],
        "variant": variant.name,
        **variant.results_fields(),
        "ir": ir if variant.uses_ir else None,
        "warmup": _warmup_field(log.get("warmup")),
        "seed": spec.seed,
        "eval_split": preset.eval_split,
        "problems_without_ir": without_ir,
        "ir_tokens_per_prompt": round(sum(ir_prompt) / len(ir_prompt), 1) if ir_prompt else None,
        "generated_tokens_per_problem": round(sum(generated) / len(generated), 1) if generated else None,
        **plan,
        "train_tokens_per_s": log["train_tokens_per_s"],
        "train_wall_time_s": log["wall_time_s"],
        "train_peak_memory_mb": log["peak_memory_mb"],
        **ran_on,
        "preset": preset.name,
        "note": preset.note or None,
    }
    write_generations(run.folder / "generations" / f"{name}.json", task, generations, **settings, **metadata)
    ks = [1, 10] if preset.n_samples >= 10 else [1]
    results = score(task, docs, generations, k=ks, progress=False)
    results["timings"]["generation_s"] = round(generation_s, 3)
    results["pass@1_ci95"] = pass_at_1_interval(results)["pass@1_ci95"]
    results["generations_file"] = str(run.folder / "generations" / f"{name}.json")
    write_results(results_path, {**results, **settings}, **metadata)
    write_model_card(model_dir, json.loads(results_path.read_text()))
    return True


def step_stricter_tests(run: Run, model_dir: Path) -> bool:
    """The model's saved generations rescored on its task's stricter twin (MBPP+ for MBPP: `eval_space.plus`) ->
    the results' `plus` block and `pass@1+`. False when there is nothing to do (done already, no stricter
    task, or its data is not on this machine: said once, pass@1 is still reported)."""
    from eval_space.harness import write_results
    from eval_space.plus import StricterTestsUnavailable, score_on_stricter_task

    results_path = run.folder / "results" / f"{model_dir.name}.json"
    results = json.loads(results_path.read_text())
    if "plus" in results or run.stricter_tests_unavailable:
        return False
    try:
        block = score_on_stricter_task(
            run.folder / "generations" / f"{model_dir.name}.json", run.preset.task, mbpp_path=run.args.mbpp
        )
    except StricterTestsUnavailable as e:
        run.stricter_tests_unavailable = str(e)
        run.say(f"pass@1+ not reported: {e}")
        return False
    if block is None:
        return False
    plus = {"plus_task": block["task"], "pass@1+": block["pass@1+"], "pass@1+_ci95": block["pass@1+_ci95"]}
    write_results(results_path, {**results, **plus, "plus": block})
    write_model_card(model_dir, json.loads(results_path.read_text()))
    return True


def _warmup_field(marker: dict | None) -> dict | None:
    """The results' `warmup`: what the model was warmed up on (null when it was not)."""
    if not marker:
        return None
    return {"corpus": marker["corpus"], "steps": marker["steps"], "encoding": marker.get("encoding")}


def _generate(run: Run, model, tokenizer, task, docs, prompt_fn, postprocess_fn) -> list[dict]:
    import inspect

    from eval_space.harness import generate

    kwargs = {"prompt_fn": prompt_fn, "progress": False}
    if "postprocess_fn" in inspect.signature(generate).parameters:
        kwargs["postprocess_fn"] = postprocess_fn
    preset = run.preset
    return generate(
        model,
        tokenizer,
        task,
        docs,
        n_samples=preset.n_samples,
        temperature=preset.temperature,
        max_new_tokens=preset.max_new_tokens,
        **kwargs,
    )


def write_model_card(model_dir: Path, results: dict | None) -> None:
    from model_cards.model_card import model_card

    log = json.loads((model_dir / "training_log.json").read_text())
    card = model_card(log, results)
    for folder in (model_dir / "merged", model_dir / "adapter"):
        if folder.is_dir():
            card.save(folder / "README.md")


def step_model(run: Run, spec: ModelSpec, docs: list[dict], without_ir: int) -> None:
    """Train then evaluate one model: one line on the terminal, the output in logs/<name>.log."""
    name = spec.name(run.preset.model_prefix)
    model_dir = run.folder / "models" / name
    title = f"{spec.label} seed {spec.seed}"
    with run.console.step(f"train {title}", f"train-{name}") as train:
        trained = step_train(run, spec, model_dir)
    with run.console.step(f"evaluate {title}", f"evaluate-{name}") as evaluate:
        evaluated = step_evaluate(run, spec, model_dir, docs, without_ir)
        evaluated = step_stricter_tests(run, model_dir) or evaluated
    if not trained and not evaluated:
        run.skipped(title, model_dir)
        return
    parts = [
        f"train {train.seconds:.1f} s" if trained else "train complete, skipped",
        f"evaluate {evaluate.seconds:.1f} s" if evaluated else "evaluate complete, skipped",
    ]
    run.say(f"{title}: {', '.join(parts)} -> {run.rel(model_dir)}, results/{name}.json")


def run_experiment(args) -> int:
    from trainers.errors import user_errors
    from trainers.steplog import Console, StepFailed

    preset = PRESETS[args.preset]
    folder = Path(args.output or DEFAULT_OUTPUT / preset.name)
    folder.mkdir(parents=True, exist_ok=True)
    console = Console(folder / "logs", verbose=args.verbose)
    try:
        return _run_experiment(args, preset, folder, console)
    except StepFailed as e:
        console.error(f"codereps experiment: error: {e}")
        return 2 if isinstance(e.error, (ExperimentError, *user_errors())) else 1
    except (ExperimentError, *user_errors()) as e:
        console.error(f"codereps experiment: error: {e}")
        return 2
    finally:
        console.close()


def _check_code_execution_opt_in(run: Run, allow: bool) -> None:
    import os

    if allow or run.preset.executes_code_by_default:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
        note = f"{run.preset.note} " if run.preset.note else ""
        run.say(f"{note}pass@k executes the generated code in the eval_space sandbox (HF_ALLOW_CODE_EVAL=1)")
    elif os.getenv("HF_ALLOW_CODE_EVAL", "0") != "1":
        raise ExperimentError(
            "the evaluation executes model-written code: opt in with --allow-code-execution or "
            "HF_ALLOW_CODE_EVAL=1 (see eval_space/pass_at_k/README.md, Safety)"
        )


def _warm_variants(
    args, preset: Preset, variants: list[str], warm_only: list[str], corpus: str | None
) -> list[str]:
    """The variants with a warm twin: those warmed up by default (or --warmup-variants) among the cold ones, then
    the ones --variants names as `<variant>-warm` alone."""
    if corpus is None:
        if args.warmup_variants or warm_only:
            what = "--warmup-variants" if args.warmup_variants else f"--variants {warm_only[0]}{WARM_SUFFIX}"
            raise ExperimentError(f"{what} needs a warm-up corpus: pass --warmup-corpus DATASET[:CONFIG]")
        return []
    return [v for v in _warmup_names(args, preset, variants) if v in variants] + warm_only


def _warmup_names(args, preset: Preset, variants) -> list[str]:
    if args.warmup_variants is not None:
        return list(args.warmup_variants)
    if preset.warmup_variants is not None:
        return list(preset.warmup_variants)
    return [v for v in variants if VARIANTS[v].warmup_by_default]


def _run_experiment(args, preset: Preset, folder: Path, console) -> int:
    overrides = list(preset.train_overrides)
    if args.max_steps is not None:
        overrides += ["--max_steps", str(args.max_steps)]
    if args.limit is not None:
        overrides += ["--limit", str(args.limit)]
    run = Run(preset, folder, args, console, overrides)
    started = time.perf_counter()
    _check_code_execution_opt_in(run, args.allow_code_execution)
    variants, warm_only = split_labels(args.variants or preset.variants)
    seeds = list(dict.fromkeys(args.seeds if args.seeds is not None else preset.seeds))
    if "A" not in variants:  # the baseline is cold A; A-warm is not it
        run.say(_baseline_note(folder, preset.model_prefix, seeds))

    run.dataset = step_dataset(run, Path(args.mbpp) if args.mbpp else None)
    wants_corpus = args.warmup_corpus or _wants_warmup(args, preset, variants, warm_only)
    run.warmup_corpus = step_warmup_corpus(run) if wants_corpus else None
    warm_variants = _warm_variants(args, preset, variants, warm_only, run.warmup_corpus)
    run.base_model = step_base_model(run)
    run.ir_tokenizer = step_tokenizer(run, args.ir)
    if any(VARIANTS[v].needs_extension for v in variants + warm_only):
        run.extended = step_extend(run, args.ir)
    steps = args.warmup_steps if args.warmup_steps is not None else preset.warmup_steps

    with console.step("evaluation problems", "evaluation-problems"):
        docs, without_ir = evaluation_docs(run)
    specs = plan_models(variants, seeds, warm_variants)
    labels = ", ".join(dict.fromkeys(s.label for s in specs))
    models = f"{len(specs)} model" + ("s" if len(specs) != 1 else "")
    run.say(
        f"{models} ({labels} x seeds {', '.join(map(str, seeds))}), each scored on {len(docs)} {preset.task} problems"
    )
    run.say(allocator_note())
    for spec in specs:
        encoding = spec.variant.warmup_encoding
        if spec.warm and encoding not in run.warm_models:
            run.warm_models[encoding] = step_warmup(run, encoding, steps)
        step_model(run, spec, docs, without_ir)

    from eval_space.report import format_comparisons, format_table, write_report

    with console.step("report", "report") as step:
        report = write_report(folder)
    run.done("report", folder / "report" / "README.md", step.seconds)
    console.say("")
    if preset.note:
        console.say(preset.note)
    console.say(format_table(report["summary"]))
    comparisons = format_comparisons(report["comparisons"])
    if comparisons:
        console.say("\n" + comparisons)
    run.say(
        f"done in {time.perf_counter() - started:.0f} s, peak RSS {process_peak_rss_mb():.0f} MB; run folder "
        f"{folder}; logs in {folder / 'logs'}"
    )
    return 0


def _wants_warmup(args, preset: Preset, variants: list[str], warm_only: list[str]) -> bool:
    """Build the preset's corpus only when some model uses it (a warmed-up variant, or A-aux's rows)."""
    if preset.warmup_folder is None or args.warmup_variants == []:
        return False
    names = _warmup_names(args, preset, variants)
    wanted = any(v in variants for v in names) or bool(warm_only)
    return wanted or any(VARIANTS[v].aux_rows for v in variants + warm_only)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "experiment", help="run the study end to end: variants x seeds (x warm-up) -> pass@k -> report"
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="smoke")
    parser.add_argument("--output", help="run folder (default: build/experiments/<preset>)")
    parser.add_argument("--mbpp", help="MBPP jsonl (default: ../shared/data/mbpp/mbpp.jsonl)")
    parser.add_argument(
        "--ir", choices=["cfg", "ast"], default="cfg", help="the IR of every variant that uses one"
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=MODEL_LABELS,
        metavar="VARIANT",
        help=f"variants to train (default: the preset's, all six: {', '.join(VARIANT_NAMES)}); "
        "`<variant>-warm` alone adds just that warmed-up twin",
    )
    parser.add_argument(
        "--seeds", nargs="+", type=int, help="train each variant once per seed (default: the preset's)"
    )
    parser.add_argument(
        "--warmup-corpus",
        metavar="DATASET[:CONFIG]",
        help="warm-up corpus: a dataset folder or Hub repo of this project (its train split); default: the "
        "preset's folder of Python code, built into <run>/corpus (none for a preset without one)",
    )
    parser.add_argument("--warmup-steps", type=int, help="warm-up training steps (default: the preset's)")
    parser.add_argument(
        "--warmup-variants",
        nargs="*",
        choices=VARIANT_NAMES,
        help="variants that also get a warmed-up twin `<variant>-warm` (default: "
        f"{', '.join(v.name for v in VARIANTS.values() if v.warmup_by_default)}; none when given empty)",
    )
    parser.add_argument("--max-steps", type=int, help="override the recipe's training steps (quick runs)")
    parser.add_argument("--limit", type=int, help="train on the first N rows only (quick runs)")
    parser.add_argument("--eval-limit", type=int, help="evaluate on the first N problems only (quick runs)")
    parser.add_argument("--force", action="store_true", help="redo steps whose outputs are complete")
    parser.add_argument(
        "--verbose", action="store_true", help="show every step's output (default: in <run>/logs/)"
    )
    parser.add_argument(
        "--allow-code-execution",
        action="store_true",
        help="opt in to executing generated code for pass@k (same as HF_ALLOW_CODE_EVAL=1; smoke opts in itself)",
    )
    parser.set_defaults(func=run_experiment)
    return parser
