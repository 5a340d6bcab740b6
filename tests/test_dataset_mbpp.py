"""Acceptance: `codereps dataset build --source mbpp` gives the upstream splits, every row with its IRs."""

import json

import pytest
from dataset_fixtures import build, build_mbpp_folder, load_config, load_report


@pytest.fixture(scope="module")
def mbpp_folder(tmp_path_factory, shared_data):
    return build_mbpp_folder(tmp_path_factory.mktemp("mbpp"), shared_data)


UPSTREAM_FIELDS = ["task_id", "text", "code", "test_list", "test_setup_code", "challenge_test_list"]


def test_mbpp_loads_with_upstream_splits_and_every_ir(mbpp_folder):
    ds = load_config(mbpp_folder, "mbpp")
    assert {split: ds[split].num_rows for split in ds} == {
        "train": 374,
        "validation": 90,
        "test": 500,
        "prompt": 10,
    }
    for split, (low, high) in {
        "prompt": (1, 10),
        "test": (11, 510),
        "validation": (511, 600),
        "train": (601, 974),
    }.items():
        ids = ds[split]["task_id"]
        assert sorted(ids) == list(range(low, high + 1)), split
    for split in ds:
        rows = ds[split]
        assert rows.column_names[: len(UPSTREAM_FIELDS)] == UPSTREAM_FIELDS
        assert all(rows["ast"]) and all(rows["cfg"]), f"empty IR in {split}"
        assert rows["ir_error"] == [None] * rows.num_rows
        assert rows["src"] == rows["code"]
        assert all(a.startswith("MODULE_") for a in rows["ast"])
        assert all(n == int(c[1 : c.index("]")]) for n, c in zip(rows["n_params"], rows["cfg"], strict=True))


def test_mbpp_rows_match_the_input_file(mbpp_folder, shared_data):
    upstream = {}
    with open(shared_data / "mbpp" / "mbpp.jsonl") as f:
        for line in f:
            row = json.loads(line)
            upstream[row["task_id"]] = row
    ds = load_config(mbpp_folder, "mbpp", split="test")
    for row in ds.select(range(0, 500, 50)):
        original = upstream[row["task_id"]]
        assert {k: row[k] for k in UPSTREAM_FIELDS} == original
        assert row["src_chars"] == len(original["code"])


def test_card_yaml_lists_configs_splits_and_sizes(mbpp_folder):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(mbpp_folder / "README.md")
    [config] = card.data.configs
    assert config["config_name"] == "mbpp"
    assert [f["split"] for f in config["data_files"]] == ["train", "validation", "test", "prompt"]
    assert config["data_files"][0]["path"] == ["data/mbpp/train-00000-of-00001.parquet"]
    info = card.data.dataset_info
    assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
        "train": 374,
        "validation": 90,
        "test": 500,
        "prompt": 10,
    }
    assert card.data.license == "cc-by-4.0"
    assert "text-generation" in card.data.task_categories
    assert "codereps dataset build --source mbpp" in card.text
    report = load_report(mbpp_folder, "mbpp")
    assert report["rows_written"] == 974 and report["skipped"] == {} and report["ir_failures_kept"] == {}


def test_sanitized_mbpp_is_its_own_config(tmp_path, shared_data):
    folder = tmp_path / "ds"
    assert (
        build(
            "build",
            "--source",
            "mbpp",
            "--input",
            shared_data / "mbpp" / "sanitized-mbpp.json",
            "--output",
            folder,
        )
        == 0
    )
    ds = load_config(folder, "mbpp-sanitized")
    assert {split: ds[split].num_rows for split in ds} == {
        "train": 120,
        "validation": 43,
        "test": 257,
        "prompt": 7,
    }
    assert ds["test"].column_names[:6] == [
        "source_file",
        "task_id",
        "prompt",
        "code",
        "test_imports",
        "test_list",
    ]
    assert all(ds["train"]["cfg"])


def test_a_solution_that_cannot_be_serialized_is_kept_and_reported(tmp_path):
    good = {"task_id": 601, "text": "t", "code": "def f(x):\n    return x", "test_list": ["assert f(1) == 1"],
            "test_setup_code": "", "challenge_test_list": []}  # fmt: skip
    broken = dict(good, task_id=602, code="def f(x:\n    return x")
    src = tmp_path / "mbpp.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in (good, broken)) + "\n")
    folder = tmp_path / "ds"
    assert build("build", "--source", "mbpp", "--input", src, "--output", folder) == 0
    train = load_config(folder, "mbpp", split="train")
    assert train["task_id"] == [601, 602]
    assert train["ir_error"][0] is None and train["ir_error"][1].startswith("syntax_error: ")
    assert train["ast"][1] is None and train["cfg"][1] is None
    assert load_report(folder, "mbpp")["ir_failures_kept"] == {"syntax_error": 1}
    assert "Kept without IR (`ir_error` set): `syntax_error` 1" in (folder / "README.md").read_text()


@pytest.mark.parametrize("num_proc", [2])
def test_humaneval_from_the_package(tmp_path, num_proc):
    folder = tmp_path / "ds"
    assert build("build", "--source", "humaneval", "--output", folder, "--workers", num_proc) == 0
    ds = load_config(folder, "humaneval", split="test")
    assert ds.num_rows == 164
    assert ds["task_id"][:2] == ["HumanEval/0", "HumanEval/1"]  # input order kept with 2 processes
    assert ds["func_name"] == ds["entry_point"]
    assert ds[0]["src"] == ds[0]["prompt"] + ds[0]["canonical_solution"]
    assert all(ds["cfg"])
