"""`codereps experiment --preset smoke` runs every step for real, quietly, and a second run skips every finished one."""

import json
import subprocess
import sys

import pytest
from safetensors.torch import load_file

VARIANTS = ["A", "B", "C", "B-plan", "C-plan", "A-aux"]


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
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def _adapter(run, name):
    return load_file(run / "models" / name / "adapter" / "adapter_model.safetensors")


@pytest.mark.slow
def test_smoke_study_runs_quietly_reports_then_skips(tmp_path):
    out = _run(tmp_path, "--variants", *VARIANTS, "--seeds", "0", "1")
    assert "PLUMBING CHECK" in out
    assert len(out.splitlines()) <= 45, out  # one line per step, the table and the paired block
    assert "{'loss'" not in out and "Warning" not in out  # the trainers' logs went to <run>/logs
    assert (tmp_path / "logs" / "train-codereps-tiny-C-plan-s1.log").read_text()

    models = [f"codereps-tiny-{v}-s{seed}" for v in [*VARIANTS, "C-plan-warm"] for seed in (0, 1)]
    assert sorted(p.stem for p in (tmp_path / "results").glob("*.json")) == sorted(models)
    for name in models:
        results = json.loads((tmp_path / "results" / f"{name}.json").read_text())
        low, high = results["pass@1_ci95"]
        assert low <= results["pass@1"] <= high and results["n_problems"] == 4
        assert results["seed"] == int(name[-1]) and results["ir_source"] in (
            "none",
            "reference",
            "generated",
            "aux",
        )
        assert (results["warmup"] is not None) == ("-warm-" in name)
        # the same programs rescored on HumanEval+'s stricter tests
        assert results["plus_task"] == "humaneval+" and results["plus"]["problems"] == 4
        assert results["pass@1+"] == results["plus"]["pass@1+"] is not None
        card = (tmp_path / "models" / name / "merged" / "README.md").read_text()
        assert "pass@1" in card and f"seed {results['seed']}" in card
    warm = json.loads((tmp_path / "results" / "codereps-tiny-C-plan-warm-s0.json").read_text())
    assert warm["warmup"]["steps"] == 4 and warm["warmup"]["corpus"].endswith("corpus:local")
    plan = json.loads((tmp_path / "results" / "codereps-tiny-C-plan-s0.json").read_text())
    assert plan["ir_encoding"] == "ir-tokens" and plan["ir_fidelity"] is not None

    # two seeds: different adapter initialisation and data order -> different adapters
    seed0, seed1 = _adapter(tmp_path, "codereps-tiny-A-s0"), _adapter(tmp_path, "codereps-tiny-A-s1")
    assert seed0.keys() == seed1.keys() and any(not (seed0[k] == seed1[k]).all() for k in seed0)

    report = (tmp_path / "report" / "README.md").read_text()
    for png in ("pass_at_1", "pass_at_1_vs_tokens", "loss_curves", "paired_vs_A"):
        assert (tmp_path / "report" / f"{png}.png").stat().st_size > 1000 and f"({png}.png)" in report
    assert "| C-plan-warm | written by the model | ir-tokens |" in report and "pass@1+ [95% CI]" in report
    comparisons = json.loads((tmp_path / "comparisons.json").read_text())
    over_seeds = [c for c in comparisons if c["seed"] is None]
    assert [c["variant"] for c in over_seeds] == ["B", "C", "B-plan", "C-plan", "C-plan-warm", "A-aux"]
    assert all(c["seeds"] == [0, 1] and c["problems"] == 4 for c in over_seeds)
    assert len([c for c in comparisons if c["seed"] is not None]) == 2 * len(over_seeds)

    again = _run(tmp_path, "--variants", *VARIANTS, "--seeds", "0", "1")
    for step in ("dataset humaneval, mbpp", "warm-up corpus", "IR tokenizer cfg", "extended tokenizer cfg"):
        assert f"{step}: complete, skipped" in again
    assert "warm-up ir-tokens: complete, skipped" in again
    for variant in [*VARIANTS, "C-plan-warm"]:
        for seed in (0, 1):
            assert f"{variant} seed {seed}: complete, skipped" in again

    # a warm twin named alone joins the run folder: the warm-up is reused, its cold variant not retrained
    more = _run(tmp_path, "--variants", "C-warm", "--seeds", "0")
    assert "warm-up ir-tokens: complete, skipped" in more and "C seed 0:" not in more
    assert "C-warm seed 0: complete, skipped" not in more
    assert (
        json.loads((tmp_path / "results" / "codereps-tiny-C-warm-s0.json").read_text())["warmup"]["steps"]
        == 4
    )


@pytest.mark.slow
def test_failed_step_names_itself_and_its_log(tmp_path):
    cmd = [sys.executable, "-m", "codereps", "experiment", "--preset", "smoke", "--output", str(tmp_path)]
    cmd += ["--variants", "A", "--seeds", "0", "--mbpp", str(tmp_path / "missing.jsonl")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert "error: MBPP not found at" in done.stderr and "Traceback" not in done.stdout + done.stderr


def test_without_a_the_note_says_which_baseline_the_comparison_uses(tmp_path):
    from trainers.experiment import _baseline_note

    assert "nor in the run folder: no paired comparison" in _baseline_note(tmp_path, "codereps-tiny", [0, 1])
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "codereps-tiny-A-s1.json").write_text("{}")
    assert _baseline_note(tmp_path, "codereps-tiny", [0, 1]).endswith(
        "paired against the run folder's A (seeds 1)"
    )
