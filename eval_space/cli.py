"""`codereps evaluate`: generate with a model, execute in the sandbox, write generations and pass@k results.

    # generate + score (HF_ALLOW_CODE_EVAL=1 or --allow-code-execution: candidates are executed)
    codereps evaluate --model microsoft/phi-1 --task mbpp --n-samples 10 --temperature 0.8 --k 1 10 \\
        --output runs/demo --allow-code-execution
    # score a saved generations file (ours, or bigcode's list of lists) without a model
    codereps evaluate --generations runs/demo/generations/phi-1-mbpp.json --task mbpp --output runs/demo
    # check the harness on this machine: score each problem's reference solution (pass@1 should be 1.0)
    codereps evaluate --task mbpp --check-references --allow-code-execution
    # stop after writing the generations (e.g. generate on a GPU, execute elsewhere)
    codereps evaluate --model PATH --task humaneval --generation-only --output runs/demo

Writes <output>/generations/<name>.json and <output>/results/<name>.json (name: --name, or
<model folder name>-<task>).
"""

import argparse
import os
import sys
from pathlib import Path

TASK_NAMES = [
    "mbpp",
    "humaneval",
    "mbpp+",
    "humaneval+",
    "apps",
]  # eval_space.tasks.TASKS, without its imports


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help="pass@k of a model on MBPP or HumanEval (sandboxed execution)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_argument_group("what to score")
    source.add_argument("--model", help="model folder or Hub repo id (not needed with --generations)")
    source.add_argument("--adapter", help="PEFT adapter folder to apply on top of --model")
    source.add_argument("--generations", type=Path, help="score this generations JSON instead of generating")
    source.add_argument(
        "--check-references",
        action="store_true",
        help="score each problem's reference solution as the candidate (no model): checks the harness",
    )
    source.add_argument("--task", required=True, choices=TASK_NAMES)
    source.add_argument(
        "--dataset", help="dataset folder or Hub repo with the task's config (default: shared data)"
    )
    source.add_argument("--prompt-style", default="bigcode", choices=["bigcode", "3shot"], help="MBPP prompt")
    source.add_argument(
        "--problems",
        default="test",
        choices=["test", "all"],
        help="mbpp+: the 224 problems of MBPP's test split (default) or all 378",
    )
    source.add_argument(
        "--level", default="all", choices=["all", "introductory", "interview", "competition"], help="apps"
    )
    source.add_argument("--limit", type=int, help="only the first N problems")
    gen = parser.add_argument_group("generation")
    gen.add_argument("--n-samples", type=int, default=1, help="completions per problem")
    gen.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    gen.add_argument("--top-p", type=float, default=0.95)
    gen.add_argument("--max-new-tokens", type=int, default=512)
    gen.add_argument("--batch-size", type=int, default=8)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--generation-only", action="store_true", help="write the generations and stop")
    ex = parser.add_argument_group("execution")
    ex.add_argument("--k", type=int, nargs="+", default=[1], help="pass@k values (each <= --n-samples)")
    ex.add_argument("--workers", type=int, help="parallel sandbox workers (default: CPU cores)")
    ex.add_argument("--timeout", type=float, help="seconds per candidate (default 20)")
    ex.add_argument(
        "--sanitize",
        action="store_true",
        help="keep only the entry function and what it needs, drop test code and an unfinished tail "
        "(EvalPlus-style; off by default, recorded as `sanitize` in the results)",
    )
    ex.add_argument(
        "--allow-code-execution",
        action="store_true",
        help="opt in to executing generated code (same as HF_ALLOW_CODE_EVAL=1)",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--output", type=Path, default=Path("runs/evaluate"), help="run folder")
    out.add_argument("--name", help="file name stem (default: <model folder name>-<task>)")
    for field in ("base-model", "variant", "ir"):
        out.add_argument(f"--{field}", help=f"recorded as `{field.replace('-', '_')}` in the results JSON")
    parser.set_defaults(func=main)
    return parser


def main(args) -> int:
    from eval_space.harness import evaluate_model, load_generations, score, write_generations, write_results
    from eval_space.pass_at_k.pass_at_k import CodeExecutionNotAllowed, check_enough_samples, normalize_ks

    if args.check_references:
        return check_references(args)
    if not args.model and not args.generations:
        raise SystemExit(
            "codereps evaluate: give --model (to generate) or --generations (to score a saved file)"
        )
    if args.generations and args.generation_only:
        raise SystemExit("codereps evaluate: --generation-only needs --model, not --generations")
    if args.allow_code_execution:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    ks = normalize_ks(args.k)
    task = _make_task(args)
    docs = task.get_dataset()[: args.limit] if args.limit else task.get_dataset()
    name = args.name or f"{Path(args.model or args.generations.stem).name}-{args.task}"
    generations_path = args.output / "generations" / f"{name}.json"
    results_path = args.output / "results" / f"{name}.json"
    metadata = {"model": args.model, "base_model": args.base_model, "variant": args.variant, "ir": args.ir}

    if not args.generation_only and not args.generations:
        # Fail before an hour of generation, not after it.
        try:
            check_enough_samples([args.n_samples] * len(docs), ks, [task.get_problem_id(d) for d in docs])
        except ValueError as e:
            raise SystemExit(f"codereps evaluate: {e} (raise --n-samples or lower --k)") from e
        if os.getenv("HF_ALLOW_CODE_EVAL", "0") != "1":
            raise SystemExit(
                "codereps evaluate executes model-written code: opt in with HF_ALLOW_CODE_EVAL=1 "
                "or --allow-code-execution (see eval_space/pass_at_k/README.md, Safety)"
            )

    try:
        if args.generations:
            try:
                generations, recorded = load_generations(args.generations, task, docs)
                programs_per_problem = [len(g["programs"]) for g in generations]
                check_enough_samples(programs_per_problem, ks, [g["task_id"] for g in generations])
            except ValueError as e:
                raise SystemExit(f"codereps evaluate: {e}") from e
            results = score(
                task,
                docs,
                generations,
                k=ks,
                workers=args.workers,
                timeout=args.timeout,
                sanitize=args.sanitize,
            )
            for key in ("model", "base_model", "variant", "ir", "temperature", "max_new_tokens"):
                if metadata.get(key) is None and recorded.get(key) is not None:
                    metadata[key] = recorded[key]
            results["generations_file"] = str(args.generations)
            write_results(results_path, results, **metadata)
        else:
            model, tokenizer = load_model(args.model, args.adapter, args.seed)
            common = dict(
                n_samples=args.n_samples,
                temperature=args.temperature,
                max_new_tokens=args.max_new_tokens,
                batch_size=args.batch_size,
                top_p=args.top_p,
            )
            if args.generation_only:
                from eval_space.harness import generate

                generations = generate(model, tokenizer, task, docs, **common)
                write_generations(generations_path, task, generations, **common, **metadata)
                print(f"generations: {generations_path}")
                return 0
            results = evaluate_model(
                model,
                tokenizer,
                task,
                docs,
                k=ks,
                workers=args.workers,
                timeout=args.timeout,
                generations_path=generations_path,
                results_path=results_path,
                metadata=metadata,
                sanitize=args.sanitize,
                **common,
            )
            print(f"generations: {generations_path}")
    except CodeExecutionNotAllowed as e:
        print(e, file=sys.stderr)
        return 2
    summary = ", ".join(
        f"{key}={results[key]:.4f}" for k in ks for key in (f"pass@{k}", f"pass@{k}+") if key in results
    )
    print(f"{task.name} ({len(docs)} problems, isolation {results['isolation']}): {summary}")
    print(f"results: {results_path}")
    return 0


def _make_task(args):
    from eval_space.tasks import TaskDataError, get_task

    task_kwargs = {"dataset_path": args.dataset}
    if args.task == "mbpp":
        task_kwargs["prompt_style"] = args.prompt_style
    if args.task == "mbpp+":
        task_kwargs["problems"] = args.problems
    if args.task == "apps":
        task_kwargs["level"] = args.level
    try:
        return get_task(args.task, **task_kwargs)
    except TaskDataError as e:
        raise SystemExit(f"codereps evaluate: {e}") from e


def check_references(args) -> int:
    """bigcode's --check_references: the dataset's own solutions as candidates, scored by the judge."""
    from eval_space.harness import score, write_results
    from eval_space.pass_at_k.pass_at_k import CodeExecutionNotAllowed

    if args.model or args.generations:
        raise SystemExit(
            "codereps evaluate: --check-references scores the references; drop --model/--generations"
        )
    if args.allow_code_execution:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    task = _make_task(args)
    docs = task.get_dataset()[: args.limit] if args.limit else task.get_dataset()
    generations = [
        {
            "task_id": task.get_problem_id(doc),
            "prompt": None,
            "completions": None,
            "programs": [task.get_solution(doc)],
        }
        for doc in docs
    ]
    try:
        results = score(
            task, docs, generations, k=[1], workers=args.workers, timeout=args.timeout, sanitize=args.sanitize
        )
    except CodeExecutionNotAllowed as e:
        print(e, file=sys.stderr)
        return 2
    results["check_references"] = True
    results_path = args.output / "results" / f"{args.name or task.name + '-references'}.json"
    write_results(results_path, results, model="reference solutions")
    failing = [p for p in results["per_problem"] if p["correct"] < p["n"]]
    for problem in failing:
        print(f"reference fails: {problem['task_id']}: {problem['outcomes'][0]['error']}")
    keys = ("pass@1", "pass@1+", "strict_accuracy", "test_case_accuracy")
    scores = ", ".join(f"{key}={results[key]:.4f}" for key in keys if key in results)
    verdicts = results.get("verdicts", {})
    print(
        f"{task.name} references ({len(docs)} problems, isolation {results['isolation']}, "
        f"judged {verdicts.get('judge')} / in-process {verdicts.get('in-process')}): {scores}"
    )
    print(f"results: {results_path}")
    return 0


def load_model(model_path: str, adapter: str | None, seed: int):
    """A causal LM (+ optional PEFT adapter) and its tokenizer, on the GPU when there is one."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype).to(device)
    tokenizer = AutoTokenizer.from_pretrained(adapter if adapter and _has_tokenizer(adapter) else model_path)
    if adapter:
        from peft import PeftModel

        if len(tokenizer) != model.get_input_embeddings().weight.shape[0]:
            model.resize_token_embeddings(len(tokenizer))  # variant C: the adapter's extended vocabulary
        model = PeftModel.from_pretrained(model, adapter).to(device)
    return model, tokenizer


def _has_tokenizer(folder: str) -> bool:
    return any((Path(folder) / name).exists() for name in ("tokenizer.json", "tokenizer_config.json"))
