"""Generate completions with a transformers model, then execute them in the sandbox and score pass@k.

Two steps joined by a saved generations JSON (as in bigcode-evaluation-harness), so either reruns alone:

    task = get_task("mbpp")
    docs = task.get_dataset()[:20]
    generations = generate(model, tokenizer, task, docs, n_samples=10, temperature=0.8)
    write_generations("run/generations/phi-1-A-mbpp.json", task, generations, model="...")
    results = score(task, docs, generations, k=[1, 10])
    write_results("run/results/phi-1-A-mbpp.json", results, model="...", variant="A", ir=None)

`prompt_fn(doc) -> str` replaces the task's own prompt (variants B/C put the IR in it; see
codereps/prompts.py). Generation is batched with left padding and the KV cache, stops at the task's stop
sequences, and shows a progress bar.
"""

import json
import time
from pathlib import Path

GENERATIONS_FORMAT = "codereps-generations-v1"

# The results JSON the leaderboard reads; fields a caller does not know stay null.
RESULT_FIELDS = (
    "model",
    "base_model",
    "variant",
    "ir",
    "task",
    "pass@1",
    "pass@10",
    "n_samples",
    "temperature",
    "ir_tokens_per_prompt",
    "train_tokens_per_s",
)


# Kept per candidate in the results JSON: the judge's verdict and, where the task has them, its details.
OUTCOME_FIELDS = ("status", "error", "verdict", "base", "plus", "passed_plus", "tests")
# Task-level metrics besides pass@k that score_candidates may return (APPS's, EvalPlus's skipped rows).
EXTRA_METRICS = ("strict_accuracy", "test_case_accuracy", "bad_rows", "sanitize")


def generate(
    model,
    tokenizer,
    task,
    docs,
    n_samples: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 512,
    batch_size: int = 8,
    prompt_fn=None,
    top_p: float = 0.95,
    progress: bool = True,
) -> list[dict]:
    """For each doc: {"task_id", "prompt", "completions": raw texts, "programs": what will run}."""
    import torch
    from tqdm.auto import tqdm

    if n_samples < 1 or batch_size < 1 or max_new_tokens < 1:
        raise ValueError(
            f"n_samples, batch_size, max_new_tokens must be >= 1 (got {n_samples}, {batch_size}, {max_new_tokens})"
        )
    prompt_of = prompt_fn or task.get_prompt
    prompts = [prompt_of(doc) for doc in docs]
    # Every (doc, sample) pair is one row; rows of the same prompt sit together so batches share lengths.
    rows = [(i, prompts[i]) for i in range(len(docs)) for _ in range(n_samples)]
    completions = [[] for _ in docs]

    tokenizer.padding_side = "left"  # decoder-only: new tokens must follow each prompt directly
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    sampling = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p}
        if temperature > 0
        else {"do_sample": False}
    )
    device = next(model.parameters()).device
    model.eval()
    bar = tqdm(total=len(rows), desc=f"generate {task.name}", unit="sample", disable=not progress)
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        encoded = tokenizer([prompt for _, prompt in batch], return_tensors="pt", padding=True).to(device)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                use_cache=True,
                pad_token_id=tokenizer.pad_token_id,
                stop_strings=list(task.stop_sequences) or None,
                tokenizer=tokenizer,
                **sampling,
            )
        new_tokens = output[:, encoded["input_ids"].shape[1] :]
        for (doc_index, _), text in zip(
            batch, tokenizer.batch_decode(new_tokens, skip_special_tokens=True), strict=True
        ):
            completions[doc_index].append(text)
        bar.update(len(batch))
    bar.close()
    return [
        {
            "task_id": task.get_problem_id(doc),
            "prompt": prompt,
            "completions": texts,
            "programs": [task.postprocess_generation(text, doc) for text in texts],
        }
        for doc, prompt, texts in zip(docs, prompts, completions, strict=True)
    ]


def score(
    task,
    docs,
    generations,
    k=None,
    workers=None,
    timeout=None,
    isolation="auto",
    progress: bool = True,
    sanitize: bool = False,
) -> dict:
    """Execute every program of `generations` against its doc's tests; pass@k, per-problem outcomes, timings."""
    from tqdm.auto import tqdm

    from eval_space.pass_at_k.pass_at_k import normalize_ks, score_candidates

    ks = normalize_ks(k)
    if len(generations) != len(docs):
        raise ValueError(f"{len(generations)} generations for {len(docs)} problems")
    for doc, generation in zip(docs, generations, strict=True):
        if str(generation["task_id"]) != task.get_problem_id(doc):
            raise ValueError(
                f"generation for problem {generation['task_id']} given for problem {task.get_problem_id(doc)}"
            )
    programs = [generation["programs"] for generation in generations]
    if sanitize:  # EvalPlus-style: the entry function and what it needs (eval_space/tasks/sanitize.py)
        from eval_space.tasks.sanitize import sanitize as sanitize_program

        programs = [
            [sanitize_program(p, task.get_entry_point(doc)) for p in doc_programs]
            for doc, doc_programs in zip(docs, programs, strict=True)
        ]
    total = sum(len(p) for p in programs)
    bar = tqdm(total=total, desc=f"execute {task.name}", unit="candidate", disable=not progress)
    start = time.perf_counter()
    metric = score_candidates(
        programs,
        task.get_references(docs, workers=workers, isolation=isolation),
        k=ks,
        num_workers=workers,
        timeout=timeout,
        problem_ids=[task.get_problem_id(doc) for doc in docs],
        isolation=isolation,
        progress=bar.update,
    )
    seconds = time.perf_counter() - start
    bar.close()
    per_problem = []
    for doc, outcomes in zip(docs, metric["results"], strict=True):
        record = {
            "task_id": task.get_problem_id(doc),
            "n": len(outcomes),
            "correct": sum(o["passed"] for o in outcomes),
            "verdict": outcomes[0].get("verdict") if outcomes else None,
            "outcomes": [{key: o[key] for key in OUTCOME_FIELDS if key in o} for o in outcomes],
        }
        if any("passed_plus" in o for o in outcomes):
            record["correct_plus"] = sum(bool(o.get("passed_plus")) for o in outcomes)
        per_problem.append(record)
    metric["bad_rows"] = {
        **getattr(task, "bad_rows", {}),
        **metric["bad_rows"],
    }  # malformed at load, or unjudgeable
    samples = {len(outcomes) for outcomes in metric["results"] if outcomes}
    return {
        "task": task.name,
        **{f"pass@{kk}": metric[f"pass@{kk}"] for kk in ks},
        "k": ks,
        "n_samples": samples.pop() if len(samples) == 1 else None,
        "n_problems": len(docs),
        "sanitize": sanitize,
        "n_scored": metric["n_scored"],
        "isolation": metric["isolation"],
        "verdicts": metric["verdicts"],
        "in_process_problems": metric["in_process_problems"],
        **{key: metric[key] for key in metric if key.endswith("+") or key in EXTRA_METRICS},
        "per_problem": per_problem,
        "timings": {
            "execution_s": round(seconds, 3),
            "candidates_per_s": round(total / seconds, 2) if seconds else None,
        },
    }


def write_generations(path, task, generations, **metadata) -> Path:
    """metadata: model, temperature, n_samples, max_new_tokens, ... (anything JSON-serializable)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": GENERATIONS_FORMAT, "task": task.name, **metadata, "generations": generations}
    _write_json_atomically(path, payload)
    return path


def load_generations(path, task, docs) -> tuple[list[dict], dict]:
    """Our generations JSON, or bigcode's plain list (per problem, the programs, in dataset order).

    Returns (generations matched to `docs`, the file's metadata)."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: cannot read generations ({e})") from e
    if isinstance(payload, list):  # bigcode-evaluation-harness: list[list[str]] of programs
        if len(payload) < len(docs):
            raise ValueError(f"{path}: {len(payload)} problems of generations, but {len(docs)} requested")
        generations = []
        for i, (doc, programs) in enumerate(zip(docs, payload, strict=False)):
            if not isinstance(programs, list) or not all(isinstance(p, str) for p in programs):
                raise ValueError(f"{path}: entry {i} is not a list of program strings")
            generations.append(
                {
                    "task_id": task.get_problem_id(doc),
                    "prompt": None,
                    "completions": None,
                    "programs": programs,
                }
            )
        return generations, {}
    if not isinstance(payload, dict) or payload.get("format") != GENERATIONS_FORMAT:
        raise ValueError(
            f"{path}: not a generations file (expected format {GENERATIONS_FORMAT!r} or a list of lists)"
        )
    if payload["task"] != task.name and payload["task"] not in getattr(task, "generations_of", ()):
        raise ValueError(f"{path}: generations are for task {payload['task']!r}, not {task.name!r}")
    if payload["task"] == task.name:
        id_of = task.get_problem_id
    else:  # e.g. `mbpp` generations rescored on `mbpp+`: the same problems under EvalPlus's ids
        id_of = lambda doc: task.foreign_id(doc, payload["task"])  # noqa: E731
    by_id = {}
    for i, generation in enumerate(payload["generations"]):
        if not isinstance(generation.get("programs"), list):
            raise ValueError(f"{path}: generation {i} has no list of programs")
        by_id[str(generation["task_id"])] = generation
    missing = [id_of(doc) for doc in docs if id_of(doc) not in by_id]
    if missing:
        raise ValueError(f"{path}: no generations for problems {missing[:10]}")
    metadata = {key: value for key, value in payload.items() if key != "generations"}
    matched = [{**by_id[id_of(doc)], "task_id": task.get_problem_id(doc)} for doc in docs]
    return matched, metadata


def write_results(path, results: dict, **metadata) -> Path:
    """The leaderboard's results JSON: RESULT_FIELDS first (null when unknown), then everything else."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged = {**results, **metadata}
    payload = {field: merged.get(field) for field in RESULT_FIELDS}
    payload.update({key: value for key, value in merged.items() if key not in payload})
    _write_json_atomically(path, payload)
    return path


def evaluate_model(
    model,
    tokenizer,
    task,
    docs=None,
    n_samples: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 512,
    batch_size: int = 8,
    top_p: float = 0.95,
    k=None,
    prompt_fn=None,
    workers=None,
    timeout=None,
    generations_path=None,
    results_path=None,
    progress: bool = True,
    metadata: dict | None = None,
    sanitize: bool = False,
) -> dict:
    """generate + score + write both files: what `codereps evaluate` and the experiment runner call.

    metadata (model, base_model, variant, ir, ir_tokens_per_prompt, ...) goes into both JSON files."""
    metadata = dict(metadata or {})
    docs = task.get_dataset() if docs is None else docs
    start = time.perf_counter()
    generations = generate(
        model,
        tokenizer,
        task,
        docs,
        n_samples,
        temperature,
        max_new_tokens,
        batch_size,
        prompt_fn,
        top_p,
        progress,
    )
    generation_s = time.perf_counter() - start
    settings = {
        "n_samples": n_samples,
        "temperature": temperature,
        "top_p": top_p,
        "max_new_tokens": max_new_tokens,
    }
    if generations_path is not None:
        write_generations(generations_path, task, generations, **settings, **metadata)
    results = score(
        task, docs, generations, k=k, workers=workers, timeout=timeout, progress=progress, sanitize=sanitize
    )
    results["timings"]["generation_s"] = round(generation_s, 3)
    results.update(settings)
    if generations_path is not None:
        results["generations_file"] = str(generations_path)
    if results_path is not None:
        write_results(results_path, results, **metadata)
    return {**results, **metadata}


def _write_json_atomically(path: Path, payload):
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload, indent=1) + "\n")
    temporary.replace(path)
