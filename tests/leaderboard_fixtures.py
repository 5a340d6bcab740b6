"""A small results folder shaped like `<run>/results/` (+ tokenizer report) for leaderboard and publish tests."""

import json

# pass@1 values chosen distinct so any sort order is unambiguous.
LM_RESULTS = [
    ("tiny-llama", "A", None, 0.10, 0.30, 180.0),
    ("tiny-llama", "B", "cfg", 0.25, 0.45, 260.0),
    ("tiny-llama", "C", "cfg", 0.20, 0.50, 95.0),
    ("tiny-phi", "A", None, 0.05, 0.15, 180.0),
    ("tiny-phi", "B", "ast", 0.35, 0.55, 300.0),
    ("tiny-phi", "C", "ast", 0.30, None, 110.0),
]

# The shape `codereps tokenizer report` writes (tokenizer_builder/report.py), trimmed to two fields.
COMPRESSION_REPORT = {
    "dataset": "build/ds",
    "budgets": [128, 256],
    "fields": {
        field: {
            "rows": 100,
            "base": {"mean": base, "p50": base, "p95": 2 * base, "max": 3 * base, "fits": {"128": 0.4, "256": 0.8}},
            "ir": {
                "512": {"mean": base / ratio, "p50": base / ratio, "p95": 2 * base / ratio, "max": 300,
                        "fits": {"128": 0.9, "256": 1.0}, "ratio": ratio, "round_trip_exact": 100},
            },
        }
        for field, base, ratio in (("ast", 400.0, 8.0), ("cfg", 200.0, 5.0))
    },
}  # fmt: skip


N_PROBLEMS, N_SAMPLES = 20, 10
# The study's fields, given only to the tiny-llama results: tiny-phi's stand for results written before them.
STUDY_FIELDS = {
    "A": {"ir_source": "none", "ir_encoding": None, "warmup": None, "seed": 0},
    "B": {"ir_source": "reference", "ir_encoding": "text", "warmup": None, "seed": 0},
    "C": {"ir_source": "reference", "ir_encoding": "ir-tokens", "warmup": {"corpus": "csn", "steps": 200}, "seed": 0},
}  # fmt: skip
# tiny-llama-B carries its own interval (the study writes one), which the leaderboard shows as given.
GIVEN_CI95 = [0.2, 0.3]
# The run's comparisons.json lists tiny-llama-B only; the others are computed from per_problem.
COMPARISONS = [
    {
        "variant": "B",
        "baseline": "mrochk/codereps-tiny-llama-A",
        "model": "mrochk/codereps-tiny-llama-B",
        "problems": N_PROBLEMS,
        "pass@1_difference": 0.15,
        "ci95": [0.05, 0.25],
        "better_on": 5,
        "worse_on": 1,
        "sign_test_p": 0.2188,
        "seed": 0,
    }
]


def per_problem(pass1):
    """N_PROBLEMS problems of N_SAMPLES samples whose mean correct/n is `pass1`: solved ones first, then none."""
    correct = round(pass1 * N_PROBLEMS * N_SAMPLES)
    counts = [min(N_SAMPLES, max(0, correct - N_SAMPLES * i)) for i in range(N_PROBLEMS)]
    return [{"task_id": 11 + i, "n": N_SAMPLES, "correct": c} for i, c in enumerate(counts)]


def lm_result(base, variant, ir, pass1, pass10, ir_tokens):
    result = {
        "model": f"mrochk/codereps-{base}-{variant}",
        "base_model": base,
        "variant": variant,
        "ir": ir,
        "task": "mbpp",
        "pass@1": pass1,
        "n_samples": N_SAMPLES,
        "temperature": 0.8,
        "ir_tokens_per_prompt": ir_tokens if ir else 0.0,
        "train_tokens_per_s": 1500.0 - 2 * ir_tokens if ir else 1500.0,
        "per_problem": per_problem(pass1),
    }
    if base == "tiny-llama":
        result.update(STUDY_FIELDS[variant])
        if variant == "B":
            result["pass@1_ci95"] = GIVEN_CI95
    if pass10 is not None:
        result["pass@10"] = pass10
    return result


def write_results_folder(root, with_classifier=True, with_broken=False):
    results = root / "results"
    results.mkdir(parents=True)
    for base, variant, ir, pass1, pass10, ir_tokens in LM_RESULTS:
        payload = lm_result(base, variant, ir, pass1, pass10, ir_tokens)
        (results / f"codereps-{base}-{variant}.json").write_text(json.dumps(payload, indent=2))
    if with_classifier:
        (results / "classifier-src-cfg.json").write_text(
            json.dumps(
                {"model": "mrochk/codereps-pair-src-cfg", "pair": "src-cfg", "accuracy": 0.875, "f1": 0.86}
            )
        )
    if with_broken:
        (results / "broken.json").write_text("{not json")
    (root / "comparisons.json").write_text(json.dumps(COMPARISONS, indent=2))
    report = root / "tokenizer_report"
    report.mkdir()
    (report / "compression.json").write_text(json.dumps(COMPRESSION_REPORT, indent=2))
    return results
