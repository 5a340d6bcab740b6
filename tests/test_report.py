"""`codereps report RUN`: the table, PNGs and paired comparisons from a run folder's results alone."""

import json
import re

import pytest

from codereps.cli import main
from eval_space.report import ReportError, compare, load_results, write_report
from trainers.experiment import plan_models, split_labels


def _write(run, variant, seed, correct, warmup=None, **extra):
    name = f"m-{variant}{'-warm' if warmup else ''}-s{seed}"
    results = {
        "model": name,
        "variant": variant,
        "task": "mbpp",
        "seed": seed,
        "warmup": warmup,
        "ir_source": {"A": "none", "C-plan": "generated"}.get(variant, "reference"),
        "ir_encoding": None if variant == "A" else "ir-tokens",
        "pass@1": sum(correct) / len(correct),
        "n_samples": 1,
        "temperature": 0.0,
        "ir_tokens_per_prompt": 0.0 if variant != "C" else 20.0,
        "generated_tokens_per_problem": 50.0,
        "timings": {"generation_s": 3.0},
        "train_wall_time_s": 10.0,
        "per_problem": [{"task_id": str(i), "n": 1, "correct": c} for i, c in enumerate(correct)],
        **extra,
    }
    (run / "results").mkdir(parents=True, exist_ok=True)
    (run / "results" / f"{name}.json").write_text(json.dumps(results))
    log = run / "models" / name
    log.mkdir(parents=True, exist_ok=True)
    (log / "training_log.json").write_text(
        json.dumps({"loss_curve": [{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.5}]})
    )


def test_report_aggregates_seeds_and_pairs_against_a(tmp_path, capsys):
    warm = {"corpus": "build/corpus:local", "steps": 200, "encoding": "ir-tokens"}
    for seed in (0, 1):
        _write(tmp_path, "A", seed, [1, 0, 0, 0, 0, 0, 1, 0])
        _write(tmp_path, "C", seed, [1, 1, 0, 0, 1, 0, 1, 0])
        _write(tmp_path, "C-plan", seed, [1, 0, 0, 0, 0, 0, 0, 0], warmup=warm, ir_fidelity=0.25)
    assert main(["report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "paired vs m-A on the same 8 problems, seed by seed" in printed
    assert re.search(r"^C\s+0,1\s+\+0\.250 ", printed, re.M)

    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert [r["variant"] for r in summary] == ["A", "C", "C-plan-warm"]
    c = summary[1]
    assert c["pass@1"] == pytest.approx(0.5) and c["seeds"] == [0, 1] and c["pass@1_ci95"][0] < 0.5
    comparisons = json.loads((tmp_path / "comparisons.json").read_text())
    assert [(x["variant"], x["seed"]) for x in comparisons] == [
        ("C", 0),
        ("C", 1),
        ("C", None),
        ("C-plan-warm", 0),
        ("C-plan-warm", 1),
        ("C-plan-warm", None),
    ]
    assert comparisons[2]["pass@1_difference"] == pytest.approx(0.25) and comparisons[2]["better_on"] == 2
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "| C-plan-warm | written by the model | ir-tokens | corpus:local, 200 steps | 0,1 |" in readme
    assert "0.250" in readme  # the warm plan variant's IR fidelity
    for png in ("pass_at_1", "pass_at_1_vs_tokens", "loss_curves", "paired_vs_A"):
        assert (tmp_path / "report" / f"{png}.png").stat().st_size > 1000


def test_paired_block_names_each_variants_own_seeds_when_counts_differ(tmp_path, capsys):
    # a second seed added for A and C only: B pairs with A's seed 0, C with both of A's seeds
    for seed in (0, 1):
        _write(tmp_path, "A", seed, [1, 0, 0, 0])
        _write(tmp_path, "C", seed, [1, 1, 0, 0])
    _write(tmp_path, "B", 0, [0, 0, 0, 0])
    assert main(["report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert re.search(r"^B\s+0\s+-0\.250 ", printed, re.M)
    assert re.search(r"^C\s+0,1\s+\+0\.250 ", printed, re.M)
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "| B | 0 | -0.250 |" in readme and "| C | 0,1 | +0.250 |" in readme


def test_report_without_a_has_no_comparisons_and_bad_folders_are_one_line(tmp_path, capsys):
    _write(tmp_path, "C", 0, [1, 0])
    assert compare(load_results(tmp_path)) == []
    assert write_report(tmp_path)["comparisons"] == []
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert "no results/ folder" in capsys.readouterr().err
    (tmp_path / "results" / "bad.json").write_text("{")
    with pytest.raises(ReportError, match="bad.json: not JSON"):
        load_results(tmp_path)


def test_a_warm_twin_can_be_named_alone():
    assert split_labels(["A", "C-warm", "C-plan", "C-plan-warm", "A"]) == (["A", "C-plan"], ["C"])
    cold, warm_only = split_labels(["A", "C-warm"])
    assert [s.name("p") for s in plan_models(cold, [0], warm_only)] == ["p-A-s0", "p-C-warm-s0"]


def test_models_are_planned_per_seed_cold_first_then_warm_twins():
    specs = plan_models(["A", "C", "C-plan"], [0, 1], ["C-plan"])
    assert [s.name("p") for s in specs] == [
        "p-A-s0",
        "p-C-s0",
        "p-C-plan-s0",
        "p-C-plan-warm-s0",
        "p-A-s1",
        "p-C-s1",
        "p-C-plan-s1",
        "p-C-plan-warm-s1",
    ]


def _plus(correct_plus):
    per_problem = [
        {"task_id": f"Mbpp/{i}", "n": 1, "correct": 1, "correct_plus": c} for i, c in enumerate(correct_plus)
    ]
    return {"task": "mbpp+", "problems": len(correct_plus), "per_problem": per_problem}


def test_report_gives_pass_at_1_plus_with_its_interval_and_paired_difference(tmp_path, capsys):
    _write(tmp_path, "A", 0, [1, 0, 0, 1], plus=_plus([1, 0, 0]))
    _write(tmp_path, "C", 0, [1, 1, 0, 1], plus=_plus([1, 1, 1]))
    _write(tmp_path, "B", 0, [1, 1, 0, 0])  # not rescored: no pass@1+ for B, nor a paired one
    assert main(["report", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "pass@1+ on the 3 mbpp+ problems" in printed and "+0.667 [" in printed

    summary = {r["variant"]: r for r in json.loads((tmp_path / "report" / "summary.json").read_text())}
    assert summary["A"]["pass@1+"] == pytest.approx(1 / 3, abs=1e-4) and summary["A"]["plus_problems"] == 3
    low, high = summary["C"]["pass@1+_ci95"]
    assert summary["C"]["pass@1+"] == 1.0 and low == high == 1.0
    assert summary["B"]["pass@1+"] is None
    comparisons = {c["variant"]: c for c in json.loads((tmp_path / "comparisons.json").read_text())}
    assert comparisons["C"]["plus"]["pass@1_difference"] == pytest.approx(2 / 3, abs=1e-4)
    assert comparisons["C"]["plus"]["better_on"] == 2 and "plus" not in comparisons["B"]
    readme = (tmp_path / "report" / "README.md").read_text()
    assert "| pass@1+ [95% CI] |" in readme and "0.333 [" in readme and "`mbpp+` (3 of the problems" in readme
    assert "| B | 0 | +0.000 |" in readme and " - | - |" in readme
