"""Leaderboard data loading, filtering, sorting and the pass@k chart (no browser; see test_leaderboard_browser)."""

import json

import pytest
from leaderboard_fixtures import GIVEN_CI95, LM_RESULTS, lm_result, write_results_folder
from olah_fixtures import run_against_hub, serve_local_hub

from codereps.hub import publish_to_local_hub
from eval_space.leaderboard.app import build_demo, pass_at_k_figure
from eval_space.leaderboard.leaderboard_data import (
    CI_COLUMN,
    VS_A_COLUMN,
    display_table,
    lm_table,
    load_leaderboard_data,
)
from eval_space.paired import compare_pass_at_1, pass_at_1_ci95


@pytest.fixture
def results_folder(tmp_path):
    return write_results_folder(tmp_path)


def test_results_folder_is_read_into_tables(tmp_path):
    results = write_results_folder(tmp_path, with_broken=True)
    (results / "notes.json").write_text(json.dumps({"comment": "not a result"}))
    data = load_leaderboard_data(str(results))

    assert sorted(r["model"] for r in data.lm_rows) == sorted(
        f"mrochk/codereps-{b}-{v}" for b, v, *_ in LM_RESULTS
    )
    assert data.classifier_rows == [
        {"model": "mrochk/codereps-pair-src-cfg", "pair": "src-cfg", "accuracy": 0.875, "f1": 0.86}
    ]
    # the run layout keeps the tokenizer report beside results/
    rows = data.tokenizer_tables["compression.json"]
    assert [(r["field"], r["tokenizer"], r["ratio vs base"]) for r in rows] == [
        ("ast", "base", 1.0),
        ("ast", "IR BPE 512", 8.0),
        ("cfg", "base", 1.0),
        ("cfg", "IR BPE 512", 5.0),
    ]
    assert rows[1]["mean"] == 50.0 and rows[1]["fits 128"] == 0.9
    assert len(data.problems) == 2
    assert data.problems[0].startswith("broken.json: unreadable JSON")
    assert data.problems[1] == "notes.json: neither LM results (pass@1) nor classifier results (accuracy)"


def test_table_filters_and_sorts(results_folder):
    data = load_leaderboard_data(str(results_folder))
    table = lm_table(data)
    assert list(table["pass@1"]) == sorted((r[3] for r in LM_RESULTS), reverse=True)
    assert list(table["ir"]).count("none") == 2  # variant A has no IR

    only_c = lm_table(data, variants=["C"], sort_by="pass@10", ascending=True)
    assert list(only_c["model"]) == ["mrochk/codereps-tiny-llama-C", "mrochk/codereps-tiny-phi-C"]  # NaN last
    phi = lm_table(data, base_models=["tiny-phi"], irs=["ast"], search="-B")
    assert list(phi["model"]) == ["mrochk/codereps-tiny-phi-B"]
    with pytest.raises(ValueError, match="cannot sort by 'bogus'"):
        lm_table(data, sort_by="bogus")


def test_chart_draws_one_bar_per_model(results_folder):
    data = load_leaderboard_data(str(results_folder))
    fig = pass_at_k_figure(lm_table(data), "pass@1")
    bars = fig.axes[0].patches
    assert sorted(round(b.get_height(), 2) for b in bars) == sorted(r[3] for r in LM_RESULTS)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["A", "B (ast)", "B (cfg)", "C (ast)", "C (cfg)"]  # B and C were trained with two IRs
    only_llama = pass_at_k_figure(lm_table(data, base_models=["tiny-llama"]), "pass@1")
    assert [t.get_text() for t in only_llama.axes[0].get_legend().get_texts()] == ["A", "B", "C"]
    fig10 = pass_at_k_figure(lm_table(data), "pass@10")
    assert len(fig10.axes[0].patches) == 5  # tiny-phi-C has no pass@10: no bar rather than a zero bar


def test_a_run_folder_reads_its_results(results_folder):
    data = load_leaderboard_data(str(results_folder.parent))
    assert len(data.lm_rows) == len(LM_RESULTS) and "compression.json" in data.tokenizer_tables


def _by_model(table):
    return {row["model"].removeprefix("mrochk/codereps-"): row for row in table.to_dict("records")}


def test_each_pass_at_1_has_its_interval(results_folder):
    rows = _by_model(lm_table(load_leaderboard_data(str(results_folder))))
    assert rows["tiny-llama-B"][CI_COLUMN] == "[0.200, 0.300]"  # the results' own pass@1_ci95, as given
    assert (rows["tiny-llama-B"]["ci_low"], rows["tiny-llama-B"]["ci_high"]) == tuple(GIVEN_CI95)
    # older results without the field: the paired module's bootstrap over their per_problem records
    phi_b = lm_result("tiny-phi", "B", "ast", 0.35, 0.55, 300.0)
    low, high = pass_at_1_ci95(phi_b)
    assert rows["tiny-phi-B"][CI_COLUMN] == f"[{low:.3f}, {high:.3f}]"
    assert low < 0.35 < high and high - low > 0.1  # 20 problems: a wide interval around the estimate


def test_paired_comparison_with_a_from_the_run_or_per_problem(results_folder):
    rows = _by_model(lm_table(load_leaderboard_data(str(results_folder.parent))))
    assert rows["tiny-llama-A"][VS_A_COLUMN] == rows["tiny-phi-A"][VS_A_COLUMN] == "baseline"
    assert rows["tiny-llama-B"][VS_A_COLUMN] == "+0.150 [+0.050, +0.250] p=0.219"  # comparisons.json
    # not in comparisons.json: computed against the A of the same base model and task
    computed = compare_pass_at_1(
        lm_result("tiny-phi", "A", None, 0.05, 0.15, 180.0),
        lm_result("tiny-phi", "C", "ast", 0.30, None, 110.0),
    )
    low, high = computed["ci95"]
    assert (
        rows["tiny-phi-C"][VS_A_COLUMN] == f"+0.250 [{low:+.3f}, {high:+.3f}] p={computed['sign_test_p']:.3g}"
    )


def test_study_fields_shown_and_blank_for_older_results(results_folder):
    rows = _by_model(display_table(lm_table(load_leaderboard_data(str(results_folder)))))
    llama_c, phi_c = rows["tiny-llama-C"], rows["tiny-phi-C"]
    assert [llama_c[c] for c in ("ir_source", "ir_encoding", "warmup", "seed")] == [
        "reference",
        "ir-tokens",
        "csn (200 steps)",
        "0",
    ]
    assert [rows["tiny-llama-A"][c] for c in ("ir_source", "ir_encoding", "warmup")] == ["none"] * 3
    assert [phi_c[c] for c in ("ir_source", "ir_encoding", "warmup", "seed")] == [""] * 4
    assert phi_c["pass@10"] == ""  # missing: a blank cell, not NaN
    assert "ci_low" not in rows["tiny-phi-C"] and "pass@1+" not in rows["tiny-phi-C"]


def test_a_run_folder_reads_only_its_results(tmp_path):
    """A run folder holds model configs, logs and comparisons.json beside results/: none is a skipped result."""
    write_results_folder(tmp_path)
    (tmp_path / "base-model").mkdir()
    (tmp_path / "base-model" / "config.json").write_text(json.dumps({"model_type": "llama"}))
    (tmp_path / "models" / "tiny-A").mkdir(parents=True)
    (tmp_path / "models" / "tiny-A" / "training_log.json").write_text("{}")
    data = load_leaderboard_data(str(tmp_path))
    assert (len(data.lm_rows), data.problems) == (len(LM_RESULTS), [])


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_leaderboard_data(str(tmp_path / "nowhere" / "deep"))
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_leaderboard_data("/nonexistent")  # one slash, but a path: never sent to the Hub


def test_demo_builds_with_classifier_tab(results_folder):
    demo = build_demo(str(results_folder))
    config = demo.get_config_file()
    labels = [c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"]
    assert labels == ["Leaderboard", "Tokenizer efficiency", "Pair classifiers"]


def test_demo_without_classifier_results_has_no_classifier_tab(tmp_path):
    results = write_results_folder(tmp_path, with_classifier=False)
    config = build_demo(str(results)).get_config_file()
    labels = [c["props"].get("label") for c in config["components"] if c.get("type") == "tabitem"]
    assert labels == ["Leaderboard", "Tokenizer efficiency"]


@pytest.mark.hub
def test_results_are_read_from_a_hub_dataset_through_olah(tmp_path):
    results = write_results_folder(tmp_path)
    publish_to_local_hub(results, tmp_path / "hub", "dataset", "ns/codereps-results")
    with serve_local_hub(tmp_path / "hub") as endpoint:
        out = run_against_hub(
            endpoint,
            """
            from eval_space.leaderboard.leaderboard_data import lm_table, load_leaderboard_data
            data = load_leaderboard_data("ns/codereps-results")
            print(list(lm_table(data)["model"])[0], len(data.lm_rows), len(data.classifier_rows), data.problems)
            """,
            tmp_path,
        )
    assert out.split("\n")[-2] == "mrochk/codereps-tiny-phi-B 6 1 []"
