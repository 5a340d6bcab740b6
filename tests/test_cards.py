"""Every card's YAML parses with huggingface_hub and carries the fields the Hub uses (codereps/card_check.py)."""

import sysconfig
from pathlib import Path

import pytest
from tokenizer_fixtures import train_base_tokenizer

from codereps.card_check import CardError, card_problems, load_card
from codereps.cli import main as codereps_main
from codereps.paths import REPO_ROOT
from model_cards.space_cards import leaderboard_space_card, metric_space_card, results_dataset_card

STDLIB_FILES = (
    "bisect",
    "colorsys",
    "textwrap",
    "heapq",
    "fnmatch",
    "string",
    "shlex",
    "glob",
    "getopt",
    "calendar",
)


def test_committed_leaderboard_readme_is_the_rendered_card():
    folder = REPO_ROOT / "eval_space" / "leaderboard"
    assert (folder / "README.md").read_text() == str(leaderboard_space_card("mrochk"))
    assert card_problems(folder, "space") == []
    data = load_card(folder, "space").data
    assert (data.sdk, data.app_file, data.datasets) == ("gradio", "app.py", ["mrochk/codereps-results"])


def test_metric_space_readme_is_a_complete_space_card():
    folder = REPO_ROOT / "eval_space" / "pass_at_k"
    data = load_card(folder, "space").data
    assert {"evaluate", "metric"} <= set(data.tags)
    assert card_problems(folder, "space") == []


def test_rendered_space_and_results_cards_are_complete(tmp_path):
    space = tmp_path / "space"
    space.mkdir()
    (space / "app.py").write_text("")
    for card in (leaderboard_space_card("ns", models=["ns/codereps-tiny-C"]), metric_space_card("ns")):
        card.save(space / "README.md")
        assert card_problems(space, "space") == []
    assert load_card(space, "space").data.title == "pass@k"

    results = tmp_path / "results"
    results.mkdir()
    row = {"model": "ns/codereps-tiny-C", "variant": "C", "ir": "cfg", "task": "mbpp", "pass@1": 0.25}
    results_dataset_card("ns", [row]).save(results / "README.md")
    assert card_problems(results, "dataset", needs_configs=False) == []
    assert "| `ns/codereps-tiny-C` | C | cfg | mbpp | 0.250 |  |" in (results / "README.md").read_text()


@pytest.fixture(scope="module")
def built_dataset(tmp_path_factory):
    """A real `codereps dataset build --source local` over ten stdlib modules."""
    root = tmp_path_factory.mktemp("cards")
    sources = root / "src"
    sources.mkdir()
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for name in STDLIB_FILES:
        (sources / f"{name}.py").write_text((stdlib / f"{name}.py").read_text())
    folder = root / "dataset"
    assert (
        codereps_main(
            ["dataset", "build", "--source", "local", "--input", str(sources), "--output", str(folder)]
        )
        == 0
    )
    return folder


def test_dataset_card_from_the_builder_is_complete(built_dataset):
    assert card_problems(built_dataset, "dataset") == []
    data = load_card(built_dataset, "dataset").data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["local"]


def test_tokenizer_card_from_the_builder_is_complete(built_dataset, tmp_path):
    base = train_base_tokenizer(
        tmp_path / "base", [p.read_text() for p in built_dataset.parent.glob("src/*.py")]
    )
    out = tmp_path / "tokenizers"
    argv = ["tokenizer", "train", "--dataset", str(built_dataset), "--base-tokenizer", str(base)]
    assert (
        codereps_main(
            [*argv, "--field", "cfg", "--vocab-size", "300", "--output", str(out), "--namespace", "ns"]
        )
        == 0
    )
    folder = out / "codereps-cfg-tokenizer"
    assert card_problems(folder, "model") == []
    assert load_card(folder, "model").data.datasets == ["ns/codereps"]


def _write(folder: Path, readme: str, *files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(readme)
    for name in files:
        (folder / name).write_text("{}")
    return folder


def test_incomplete_or_broken_cards_are_named(tmp_path):
    with pytest.raises(CardError, match=r"empty/README.md: no card"):
        card_problems(tmp_path / "empty", "model")
    broken = _write(tmp_path / "broken", "---\nlicense: [unclosed\n---\n")
    with pytest.raises(CardError, match=r"broken/README.md: card metadata does not parse"):
        card_problems(broken, "model")

    model = _write(
        tmp_path / "model", "---\nlicense: mit\ntags: [x]\n---\n", "config.json", "adapter_config.json"
    )
    assert card_problems(model, "model", evaluated=True) == [
        "README.md: no `datasets` (links the model to its training data)",
        "README.md: no `base_model` (the Hub's model tree)",
        "README.md: no `model-index` results although the model was evaluated",
    ]
    from_scratch = _write(
        tmp_path / "scratch", "---\nlicense: mit\ntags: [x]\ndatasets: [ns/codereps]\n---\n", "config.json"
    )
    assert card_problems(from_scratch, "model") == []  # no base model to name
    space = _write(tmp_path / "space", "---\nlicense: mit\ntags: [x]\nsdk: gradio\napp_file: app.py\n---\n")
    assert card_problems(space, "space") == ["README.md: app_file app.py is not in the folder"]
    dataset = _write(tmp_path / "dataset", "---\ntags: [x]\n---\n")
    assert card_problems(dataset, "dataset") == [
        "README.md: no `license` (the Hub shows and filters by it)",
        "README.md: no `configs` (load_dataset(repo, config) reads the configs' data_files)",
    ]


def test_evaluated_model_card_with_model_index_is_complete(tmp_path):
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    data = ModelCardData(
        license="apache-2.0",
        tags=["codereps"],
        datasets=["ns/codereps"],
        base_model="HuggingFaceTB/SmolLM2-135M-Instruct",
        model_name="codereps-smollm2-C",
        eval_results=[
            EvalResult(
                task_type="text-generation",
                dataset_type="ns/codereps",
                dataset_name="MBPP",
                metric_type="pass@1",
                metric_value=0.25,
            )
        ],
    )
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    ModelCard.from_template(data).save(folder / "README.md")
    assert card_problems(folder, "model", evaluated=True) == []


# The shape `codereps train` writes to training_log.json (trainers/training_log.py), as in a smoke run.
TRAINING_LOG = {
    "loss_curve": [{"step": 2, "loss": 6.71}, {"step": 12, "loss": 6.25}],
    "first_loss": 6.71,
    "final_loss": 6.25,
    "train_tokens": 13461.0,
    "train_tokens_per_s": 362.1,
    "wall_time_s": 37.2,
    "peak_memory_mb": 691.2,
    "device": "cpu",
    "model": "codereps-smollm2-C",
    "base_model": "smollm2",
    "variant": "C",
    "ir": "cfg",
    "dataset": "build/experiments/smol/dataset",
    "dataset_config": "mbpp",
    "train_split": "train",
    "train_examples": 374,
    "skipped_rows": [],
    "steps": 12,
    "hyperparameters": {
        "learning_rate": 0.005,
        "num_train_epochs": 3.0,
        "max_steps": 12,
        "per_device_train_batch_size": 4,
        "gradient_accumulation_steps": 1,
        "max_length": 384,
        "packing": False,
        "seed": 0,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "lora_target_modules": "all-linear",
        "load_in_4bit": False,
        "bnb_4bit_quant_type": None,
        "double_quant": None,
    },
}


@pytest.mark.parametrize("evaluated", [False, True])
def test_model_card_from_model_cards_is_complete(tmp_path, evaluated):
    from leaderboard_fixtures import lm_result

    from model_cards.model_card import model_card

    results = lm_result("smollm2", "C", "cfg", 0.25, 0.5, 120.0) if evaluated else None
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "adapter").mkdir()
    model_card(TRAINING_LOG, results, namespace="ns").save(folder / "README.md")
    assert card_problems(folder, "model", evaluated=evaluated) == []
    data = load_card(folder, "model").data
    assert (data.base_model, data.datasets, data.license) == (
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        ["ns/codereps"],
        "apache-2.0",
    )
    if evaluated:
        assert [(r.metric_name, r.metric_value) for r in data.eval_results] == [
            ("pass@1", 0.25),
            ("pass@10", 0.5),
        ]
