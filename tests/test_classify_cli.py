"""`codereps classify train/eval` end to end on a tiny pair dataset, and its bad-input exits."""

import json

import pytest
from classify_fixtures import train_tiny_tokenizer, write_pair_dataset

from codereps.cli import main as codereps_main

TINY = ["--d-model-a", "16", "--d-model-b", "16", "--n-layers-a", "1", "--n-layers-b", "1"]
TINY += ["--n-heads-a", "2", "--n-heads-b", "2", "--d-ff-encoder", "32", "--d-ff-head", "32"]


@pytest.fixture(scope="module")
def functions(funcskeleton_golden):
    return [f for f in funcskeleton_golden if len(f["src"]) < 200][:60]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, functions):
    folder = tmp_path_factory.mktemp("cli-pairs")
    return write_pair_dataset(folder, {"train": functions[:40], "test": functions[40:]}, pairs=("src-cfg",))


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory, functions):
    root = tmp_path_factory.mktemp("cli-tokenizers")
    return {m: train_tiny_tokenizer([f[m] for f in functions], root / m, 270) for m in ("src", "cfg", "ast")}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset, tokenizers):
    out = tmp_path_factory.mktemp("cli-model") / "codereps-dual-src-cfg"
    rc = codereps_main(
        ["classify", "train", "--arch", "dual-encoder", "--pair", "src-cfg", "--dataset", str(dataset)]
        + ["--output", str(out), "--max-steps", "4", "--batch-size", "8", "--logging-steps", "2"]
        + ["--src-tokenizer", str(tokenizers["src"]), "--cfg-tokenizer", str(tokenizers["cfg"]), *TINY]
    )
    assert rc == 0
    return out


def test_train_writes_a_model_repo_folder(trained):
    names = {p.name for p in trained.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer-src", "tokenizer-cfg", "README.md"} <= names
    assert {"eval_results.json", "errors.jsonl", "accuracy_vs_ir_length.png", "training_stats.json"} <= names
    stats = json.loads((trained / "training_stats.json").read_text())
    assert stats["steps"] == 4 and len(stats["logged_losses"]) == 2
    meta = json.loads((trained / "config.json").read_text())["codereps"]
    assert meta["arch"] == "dual-encoder" and meta["members"] == ["src", "cfg"]
    # lengths from the train split: mean + 2 std, and the share of rows cut off
    for slot in ("a", "b"):
        choice = meta["length_choices"][slot]
        assert choice["max_length"] == meta["max_lengths"][slot] >= choice["mean"]
        assert 0 <= choice["truncated_share"] < 0.2


def test_eval_prints_and_writes_metrics_card_and_leaderboard_record(trained, dataset, capsys):
    from huggingface_hub import ModelCard

    from eval_space.leaderboard.leaderboard_data import load_leaderboard_data

    capsys.readouterr()
    rc = codereps_main(
        ["classify", "eval", "--model", str(trained), "--dataset", str(dataset), "--pair", "src-cfg"]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    metrics = json.loads((trained / "eval_results.json").read_text())
    assert f"accuracy {metrics['accuracy']:.4f}  F1 {metrics['f1']:.4f}" in printed
    assert metrics["n_samples"] == 20 and sum(metrics["confusion"].values()) == 20
    errors = [json.loads(line) for line in (trained / "errors.jsonl").read_text().splitlines()]
    assert len(errors) == metrics["n_errors"]
    for error in errors:
        assert (
            error["label"] != error["predicted"] and error["tokens_a"] and error["b_correct"].startswith("[")
        )

    card = ModelCard.load(trained / "README.md")
    index = card.data.to_dict()["model-index"][0]["results"][0]
    assert index["metrics"][0] == {"type": "accuracy", "value": metrics["accuracy"]}
    assert index["dataset"]["config"] == "pairs-src-cfg"
    assert "`pooling=cls`, `norm_first=False`" in card.text  # the seed's layout, named in the card

    # the leaderboard reads the results record into its classifier tab
    board = load_leaderboard_data(str(trained / "results"))
    assert not board.problems
    [row] = board.classifier_rows
    assert row["model"] == "codereps-dual-src-cfg" and row["accuracy"] == metrics["accuracy"]
    assert row["variant"] == "dual-encoder" and row["ir"] == "cfg"


def test_bad_inputs_exit_with_a_clear_message(trained, dataset, tokenizers, tmp_path, capsys):
    def run(*argv):
        capsys.readouterr()
        rc = codereps_main(["classify", *argv])
        return rc, capsys.readouterr().err

    rc, err = run("eval", "--model", str(trained), "--dataset", str(dataset), "--pair", "src-ast")
    assert rc == 2 and "was trained on src-cfg pairs, not src-ast" in err
    rc, err = run(
        "train",
        "--arch",
        "dual-encoder",
        "--pair",
        "ast-cfg",
        "--dataset",
        str(dataset),
        "--output",
        str(tmp_path),
    )
    assert rc == 2 and "no config 'pairs-ast-cfg' (configs: pairs-src-cfg)" in err
    # the AST tokenizer given for the CFG member
    rc, err = run(
        "eval", "--model", str(trained), "--dataset", str(dataset), "--pair", "src-cfg",
        "--cfg-tokenizer", str(tokenizers["ast"]),
    )  # fmt: skip
    assert rc == 2 and "does not match the model's" in err
    rc, err = run(
        "eval",
        "--model",
        str(trained),
        "--dataset",
        str(dataset),
        "--pair",
        "src-cfg",
        "--split",
        "validation",
    )
    assert rc == 2 and "cannot load split 'validation'" in err
    assert not (tmp_path / "config.json").exists()  # nothing written for a failed run
