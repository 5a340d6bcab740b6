"""What a trained or evaluated classifier leaves in its folder: eval JSON, leaderboard results, card."""

import json
from pathlib import Path

EVAL_FILE = "eval_results.json"
TRAIN_STATS_FILE = "training_stats.json"


def dataset_repo_id(dataset: str, namespace: str) -> str:
    """A local dataset folder stands for the project's dataset repo; anything else is a Hub repo id."""
    return f"{namespace}/codereps" if Path(dataset).exists() else dataset


def leaderboard_results(name, classifier, metrics, dataset_id, split, train_stats=None):
    """The leaderboard's classification-tab record (same top-level keys as the pass@k results)."""
    from model_cards.classifier_card import base_model_repo_id

    ir = [m for m in classifier.members if m != "src"]
    return {
        "model": name,
        "base_model": base_model_repo_id(classifier.base_model),
        "variant": classifier.arch,
        "ir": "+".join(ir),
        "task": f"pair-classification-{classifier.pair}",
        "dataset": dataset_id,
        "split": split,
        "accuracy": metrics["accuracy"],
        "f1": metrics["f1"],
        "n_samples": metrics["n_samples"],
        "confusion": metrics["confusion"],
        "max_lengths": classifier.max_lengths,
        "truncated_share": metrics.get("truncated_share"),
        "train_pairs_per_s": train_stats and train_stats["train_pairs_per_s"],
        "train_wall_s": train_stats and train_stats["train_wall_s"],
    }


def write_outputs(model_dir, classifier, metrics, dataset, split, namespace, name=None):
    """`eval_results.json`, `results/<name>.json` and the card `README.md` in `model_dir`."""
    from model_cards.classifier_card import classifier_card

    model_dir = Path(model_dir)
    name = name or model_dir.name
    stats_file = model_dir / TRAIN_STATS_FILE
    train_stats = json.loads(stats_file.read_text()) if stats_file.is_file() else None
    dataset_id = dataset_repo_id(dataset, namespace)
    (model_dir / EVAL_FILE).write_text(
        json.dumps({"dataset": dataset_id, "split": split, **metrics}, indent=2)
    )
    results_dir = model_dir / "results"
    results_dir.mkdir(exist_ok=True)
    record = leaderboard_results(name, classifier, metrics, dataset_id, split, train_stats)
    (results_dir / f"{name}.json").write_text(json.dumps(record, indent=2))
    card = classifier_card(
        f"{namespace}/{name}", classifier.metadata(), metrics, dataset_id, split, train_stats
    )
    card.save(model_dir / "README.md")
    return record
