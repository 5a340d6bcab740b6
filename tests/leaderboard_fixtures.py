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


def lm_result(base, variant, ir, pass1, pass10, ir_tokens):
    result = {
        "model": f"mrochk/codereps-{base}-{variant}",
        "base_model": base,
        "variant": variant,
        "ir": ir,
        "task": "mbpp",
        "pass@1": pass1,
        "n_samples": 10,
        "temperature": 0.8,
        "ir_tokens_per_prompt": ir_tokens if ir else 0.0,
        "train_tokens_per_s": 1500.0 - 2 * ir_tokens if ir else 1500.0,
        "per_problem": [{"task_id": 11, "n": 10, "c": int(pass1 * 10)}],
    }
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
    report = root / "tokenizer_report"
    report.mkdir()
    (report / "compression.json").write_text(json.dumps(COMPRESSION_REPORT, indent=2))
    return results
