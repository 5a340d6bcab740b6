"""Greedy bf16 against fp32 on one model: how many programs are identical, and both pass@1 values, one run.

    python benchmarks/bf16_agreement.py --allow-code-execution                 # SmolLM2, the 500 MBPP test problems
    python benchmarks/bf16_agreement.py --limit 64 --allow-code-execution      # a quicker look

bf16 rounds every activation to 8 significant bits, so greedy decoding can take another token where two are
near a tie, and the rest of the program follows from there. This measures how often that happens and what it
costs: both runs use the engine (eval_space/generation.py) with the same prompts, batches and stop strings;
only the dtype differs. The paired comparison (bootstrap interval, sign test) is `eval_space.paired`'s.
Executes model-written code in the sandbox: needs --allow-code-execution (or HF_ALLOW_CODE_EVAL=1).
"""

import argparse
import json
import os
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--task", default="mbpp")
    parser.add_argument("--limit", type=int, help="only the first N problems (default: all)")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--allow-code-execution", action="store_true")
    parser.add_argument("--output", help="also write the figures (and both runs' programs) to this JSON file")
    args = parser.parse_args()
    if args.allow_code_execution:
        os.environ["HF_ALLOW_CODE_EVAL"] = "1"
    if os.getenv("HF_ALLOW_CODE_EVAL") != "1":
        parser.error("scoring executes model-written code: pass --allow-code-execution")

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from eval_space.generation import describe, resolve_dtype
    from eval_space.harness import generate, score
    from eval_space.paired import compare_pass_at_1, pass_at_1_interval
    from eval_space.tasks import get_task
    from trainers.base_model import resolve_model_path

    resolve_dtype(
        "bfloat16", "cpu" if not torch.cuda.is_available() else "cuda"
    )  # a clear error if it cannot
    path = resolve_model_path(args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    task = get_task(args.task)
    docs = task.get_dataset()
    docs = docs[: args.limit] if args.limit else docs
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    print(
        f"{args.base_model}, {len(docs)} {args.task} problems, greedy, {args.max_new_tokens} new tokens",
        flush=True,
    )

    runs = {}
    for dtype in ("float32", "bfloat16"):  # fp32 first: casting to bf16 is in place and one-way
        start = time.perf_counter()
        generations = generate(
            model, tokenizer, task, docs, max_new_tokens=args.max_new_tokens, progress=False, dtype=dtype
        )
        seconds = time.perf_counter() - start
        results = score(task, docs, generations, k=[1], progress=False)
        results["model"] = f"{args.base_model}-{dtype}"
        runs[dtype] = {"generations": generations, "results": results, "seconds": seconds, **describe(model)}
        interval = pass_at_1_interval(results)
        print(
            f"{dtype:<9} generation {seconds:7.1f} s  pass@1 {interval['pass@1']:.3f} "
            f"95% CI [{interval['pass@1_ci95'][0]:.3f}, {interval['pass@1_ci95'][1]:.3f}]",
            flush=True,
        )

    fp32, bf16 = (runs[d]["generations"] for d in ("float32", "bfloat16"))
    identical = sum(a["programs"][0] == b["programs"][0] for a, b in zip(fp32, bf16, strict=True))
    raw_identical = sum(a["completions"][0] == b["completions"][0] for a, b in zip(fp32, bf16, strict=True))
    comparison = compare_pass_at_1(runs["float32"]["results"], runs["bfloat16"]["results"])
    print(
        f"\nprograms identical to fp32's: {identical}/{len(docs)} ({identical / len(docs):.1%}); "
        f"raw completions identical: {raw_identical}/{len(docs)}"
    )
    print(
        f"bf16 - fp32 pass@1: {comparison['pass@1_difference']:+.3f} 95% CI "
        f"[{comparison['ci95'][0]:+.3f}, {comparison['ci95'][1]:+.3f}]; bf16 better on {comparison['better_on']}, "
        f"worse on {comparison['worse_on']} problems (sign test p = {comparison['sign_test_p']})"
    )
    print(f"generation time fp32 / bf16: x{runs['float32']['seconds'] / runs['bfloat16']['seconds']:.2f}")
    if args.output:
        with open(args.output, "w") as f:
            summary = {d: {k: v for k, v in r.items() if k != "results"} for d, r in runs.items()}
            json.dump(
                {"identical_programs": identical, "comparison": comparison, "runs": summary}, f, indent=1
            )


if __name__ == "__main__":
    main()
