"""Generation throughput: a plain `model.generate` loop against the engine (eval_space/generation.py), one run.

    python benchmarks/generation_throughput.py                       # SmolLM2, first 64 MBPP test problems
    python benchmarks/generation_throughput.py --problems 16 --max-new-tokens 128   # a quicker look
    python benchmarks/generation_throughput.py --problems 500 --runs c d   # continuous batching, all of MBPP test

(a) a plain loop of `model.generate`, fp32, batch 8, task order, with the task's stop strings (what the
    harness did before the engine); (b) the engine in fp32; (c) the engine with its default dtype ("auto");
(d) (c) without continuous batching: each batch drains before the next starts (what the engine did before
    it refilled its batch; it matters only with more problems than one batch holds). Ratios are to the first
run given. Greedy. Useful tokens = tokens up to the stop (no padding, nothing after a row's stop string). The matmul
ceiling is measured in the same run at a decoding step's shape, per dtype.
"""

import argparse
import json
import time


def useful_tokens(tokenizer, task, texts) -> int:
    """Tokens of each completion up to its first stop string (the rest is waste)."""
    return sum(len(tokenizer(task.truncate_at_stop(t), add_special_tokens=False)["input_ids"]) for t in texts)


def plain_loop(model, tokenizer, task, prompts, max_new_tokens, batch_size=8):
    import torch

    tokenizer.padding_side = "left"
    texts = []
    for start in range(0, len(prompts), batch_size):
        encoded = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=list(task.stop_sequences),
                tokenizer=tokenizer,
            )
        texts += tokenizer.batch_decode(output[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True)
    return texts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-model", default="smollm2")
    parser.add_argument("--problems", type=int, default=64)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument(
        "--batch-size", type=int, help="the engine's batch size (default: its device default)"
    )
    parser.add_argument(
        "--runs", nargs="+", choices=list("abcd"), default=list("abcd"), help="which runs (default: all four)"
    )
    parser.add_argument("--output", help="also write the figures to this JSON file")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from eval_space.generation import describe, generate_texts, matmul_gflops, prepare_model
    from eval_space.tasks import get_task
    from trainers.base_model import resolve_model_path

    path = resolve_model_path(args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    task = get_task("mbpp")
    prompts = [task.get_prompt(doc) for doc in task.get_dataset()[: args.problems]]
    ceiling = matmul_gflops(("float32", "bfloat16"), repeats=20)
    params = None
    print(
        f"{len(prompts)} MBPP problems, {args.max_new_tokens} new tokens, greedy, {torch.get_num_threads()} threads; "
        f"matmul ceiling fp32 {ceiling['float32']:.0f} GFLOP/s, bf16 {ceiling['bfloat16']:.0f} GFLOP/s",
        flush=True,
    )

    def run(name, dtype, fn):
        nonlocal params
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
        prepare_model(model, dtype)
        params = sum(p.numel() for p in model.parameters())
        start = time.perf_counter()
        texts = fn(model)
        seconds = time.perf_counter() - start
        info = describe(model)
        del model
        useful = useful_tokens(tokenizer, task, texts)
        # a decoding step costs ~2 FLOP per parameter per token: the share of the dtype's matmul ceiling
        share = 2 * params * useful / seconds / 1e9 / ceiling[info["dtype"]]
        row = {
            "run": name,
            "dtype": info["dtype"],
            "seconds": round(seconds, 1),
            "useful_tokens": useful,
            "useful_tokens_per_s": round(useful / seconds, 1),
            "problems_per_s": round(len(prompts) / seconds, 3),
            "ceiling_share": round(share, 3),
            "programs": [task.truncate_at_stop(t) for t in texts],
        }
        print(
            f"{name:<28} {row['dtype']:<9} {row['seconds']:>7.1f} s {row['useful_tokens_per_s']:>7.1f} useful tok/s "
            f"{row['problems_per_s']:>6.3f} problems/s  {share:.1%} of the {info['dtype']} matmul ceiling",
            flush=True,
        )
        return row

    def engine(refill=True):
        return lambda m: [
            c.text
            for c in generate_texts(
                m,
                tokenizer,
                prompts,
                args.max_new_tokens,
                task.stop_sequences,
                args.batch_size,
                refill=refill,
            )
        ]

    runs = {
        "a": (
            "(a) plain generate, batch 8",
            "float32",
            lambda m: plain_loop(m, tokenizer, task, prompts, args.max_new_tokens),
        ),
        "b": ("(b) engine fp32", "float32", engine()),
        "c": ("(c) engine default dtype", "auto", engine()),
        "d": ("(d) (c) without refill", "auto", engine(refill=False)),
    }
    rows = [run(*runs[key]) for key in args.runs]
    base = rows[0]
    print(f"\nratios to {base['run'].split()[0]}:")
    for row in rows[1:]:
        same = sum(p == q for p, q in zip(row["programs"], base["programs"], strict=True))
        print(
            f"{row['run']:<28} useful tok/s x{row['useful_tokens_per_s'] / base['useful_tokens_per_s']:.2f}  "
            f"problems/s x{row['problems_per_s'] / base['problems_per_s']:.2f}  "
            f"programs identical to {base['run'].split()[0]}: {same}/{len(prompts)}"
        )
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"ceiling_gflops": ceiling, "runs": rows}, f, indent=1)


if __name__ == "__main__":
    main()
