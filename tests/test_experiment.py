"""`codereps experiment --preset smoke` runs every step for real, and a second run skips every finished one."""

import json
import subprocess
import sys

import pytest


def _run(output, *extra):
    cmd = [
        sys.executable,
        "-m",
        "codereps",
        "experiment",
        "--preset",
        "smoke",
        "--output",
        str(output),
        *extra,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
def test_smoke_experiment_runs_then_skips(tmp_path):
    out = _run(tmp_path, "--max-steps", "4")
    assert "PLUMBING CHECK" in out
    for variant in "ABC":
        model_dir = tmp_path / "models" / f"codereps-tiny-{variant}"
        log = json.loads((model_dir / "training_log.json").read_text())
        assert log["steps"] == 4 and log["variant"] == variant
        assert (model_dir / "merged" / "config.json").exists()
        card = (model_dir / "merged" / "README.md").read_text()
        assert f"Variant **{variant}**" in card and "model-index" in card and "pass@1" in card
        results = json.loads((tmp_path / "results" / f"codereps-tiny-{variant}.json").read_text())
        assert results["variant"] == variant and results["task"] == "humaneval"
        assert 0.0 <= results["pass@1"] <= 1.0 and results["n_problems"] == 8
        assert [p["task_id"] for p in results["per_problem"]][0] == "HumanEval/132"  # the held-out tasks
    assert (tmp_path / "tokenizers" / "cfg-extended" / "codereps_extension.json").exists()
    table = out[out.index("variant    pass@1") :]
    rows = {line.split()[0]: line.split() for line in table.splitlines()[1:4]}
    assert rows["A"][2] == "0.0" and float(rows["C"][2]) < float(rows["B"][2])  # IR tokens per prompt

    assert "paired vs codereps-tiny-A on the same 8 problems" in out
    comparisons = json.loads((tmp_path / "comparisons.json").read_text())
    assert [(c["variant"], c["baseline"], c["problems"]) for c in comparisons] == [
        ("B", "codereps-tiny-A", 8),
        ("C", "codereps-tiny-A", 8),
    ]

    again = _run(tmp_path, "--max-steps", "4")
    for step in (
        "dataset humaneval",
        "IR tokenizer cfg",
        "extended tokenizer cfg",
        "train A",
        "train B",
        "train C",
    ):
        assert f"{step}: complete, skipped" in again
