"""Multi-machine builds: `--part K/M` shares are disjoint and complete; `merge` sums them into one folder."""

import json

import pytest
from dataset_fixtures import build, load_config, load_report, read_config


def test_parts_merge_into_the_single_machine_build(tmp_path, shared_data):
    sample = shared_data / "codesearchnet" / "python_sample.jsonl.gz"
    whole = tmp_path / "whole"
    assert (
        build("build", "--source", "codesearchnet", "--input", sample, "--output", whole, "--filter", "seed")
        == 0
    )
    parts = []
    for k in range(3):
        part = tmp_path / f"part-{k}"
        assert build("build", "--source", "codesearchnet", "--input", sample, "--output", part,
                     "--filter", "seed", "--part", f"{k}/3", "--num-proc", 2) == 0  # fmt: skip
        parts.append(part)
    merged = tmp_path / "merged"
    assert build("merge", "--output", merged, *parts) == 0

    whole_report, merged_report = load_report(whole, "codesearchnet"), load_report(merged, "codesearchnet")
    for key in ("items_read", "rows_written", "removed_by_filter", "skipped"):
        assert merged_report[key] == whole_report[key], key
    for split, table in read_config(whole, "codesearchnet").items():
        merged_rows = read_config(merged, "codesearchnet")[split].to_pylist()
        assert sorted(merged_rows, key=json.dumps) == sorted(table.to_pylist(), key=json.dumps)
    files = merged_report["splits"]["test"]["files"]
    assert files == [f"data/codesearchnet/test-{i:05d}-of-00003.parquet" for i in range(3)]
    assert (
        load_config(merged, "codesearchnet", split="test").num_rows
        == whole_report["splits"]["test"]["num_examples"]
    )

    assert build("pairs", "--output", merged, "--from", "codesearchnet", "--configs", "pairs-ast-cfg") == 0
    balance = load_report(merged, "pairs-ast-cfg")["label_balance"]
    assert all(0.45 <= share <= 0.55 for share in balance.values())
    assert build("merge", "--output", tmp_path / "again", merged) == 0  # pair configs are left to be rebuilt
    assert sorted(p.stem for p in (tmp_path / "again" / "reports").glob("*.json")) == ["codesearchnet"]


def test_merge_refuses_mismatched_parts(tmp_path, shared_data, capsys):
    local = tmp_path / "project"
    local.mkdir()
    (local / "a.py").write_text("def a(x):\n    return x\n")
    assert build("build", "--source", "local", "--input", local, "--output", tmp_path / "p0") == 0
    assert build("build", "--source", "humaneval", "--output", tmp_path / "p1") == 0
    assert build("merge", "--output", tmp_path / "m", tmp_path / "p0", tmp_path / "p1") == 1
    assert "config 'humaneval' is missing from" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse rejects it before anything runs
        build("build", "--source", "local", "--input", local, "--output", tmp_path / "p2", "--part", "2/2")
    assert "--part 2/2: need 0 <= K < M" in capsys.readouterr().err
