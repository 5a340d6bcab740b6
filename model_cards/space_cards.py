"""Cards for the leaderboard Space, the pass@k metric Space and the results dataset.

Each returns a `huggingface_hub` card whose YAML front matter is what the Hub
reads for a Space (`sdk`, `app_file`, ...) or a dataset (`license`, `tags`).
"""

from model_cards.render import render_card

GRADIO_SDK = "gradio"
LEADERBOARD_NAME = "codereps-leaderboard"
RESULTS_NAME = "codereps-results"
METRIC_NAME = "pass_at_k"


def _fmt(value) -> str:
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def leaderboard_space_card(namespace: str, models=(), datasets=(), sdk_version: str | None = None):
    """README of the Gradio leaderboard Space `<namespace>/codereps-leaderboard`."""
    from huggingface_hub import SpaceCard, SpaceCardData

    results_repo = f"{namespace}/{RESULTS_NAME}"
    card_data = SpaceCardData(
        title="codereps leaderboard",
        sdk=GRADIO_SDK,
        sdk_version=sdk_version,
        app_file="app.py",
        license="apache-2.0",
        models=sorted(models) or None,
        datasets=sorted({results_repo, *datasets}),
        tags=["leaderboard", "code", "pass@k", "intermediate-representation"],
        short_description="pass@k of code LMs fine-tuned with AST/CFG IRs",
        emoji="📊",
        colorFrom="indigo",
        colorTo="green",
        pinned=False,
    )
    return render_card(
        "leaderboard_space.md.j2", card_data, SpaceCard, results_repo=results_repo, models=sorted(models)
    )


def metric_space_card(namespace: str, usage: str = "", sdk_version: str | None = None):
    """README (metric card + Space front matter) of `<namespace>/pass_at_k`, as `evaluate` metric Spaces have."""
    from huggingface_hub import SpaceCard, SpaceCardData

    card_data = SpaceCardData(
        title="pass@k",
        sdk=GRADIO_SDK,
        sdk_version=sdk_version,
        app_file="app.py",
        license="apache-2.0",
        tags=["evaluate", "metric", "code"],
        description="Unbiased pass@k of generated programs against unit tests (Chen et al., 2021).",
        emoji="🧪",
        colorFrom="blue",
        colorTo="red",
        pinned=False,
    )
    return render_card(
        "metric_space.md.j2", card_data, SpaceCard, metric_repo=f"{namespace}/{METRIC_NAME}", usage=usage
    )


def results_dataset_card(namespace: str, results=(), extra_files=()):
    """README of the results dataset `<namespace>/codereps-results`; `results` are the results JSON dicts."""
    from huggingface_hub import DatasetCard, DatasetCardData

    rows = [
        {
            "model": r.get("model", "?"),
            "variant": r.get("variant", ""),
            "ir": _fmt(r.get("ir")),
            "task": r.get("task", ""),
            "pass1": _fmt(r.get("pass@1")),
            "pass10": _fmt(r.get("pass@10")),
        }
        for r in sorted(results, key=lambda r: str(r.get("model")))
    ]
    card_data = DatasetCardData(
        pretty_name="codereps results",
        license="apache-2.0",
        language=["en", "code"],
        tags=["leaderboard", "evaluation", "code", "pass@k"],
        size_categories="n<1K",
    )
    return render_card(
        "results_dataset.md.j2",
        card_data,
        DatasetCard,
        pretty_name="codereps results",
        rows=rows,
        extra_files=sorted(extra_files),
        space_repo=f"{namespace}/{LEADERBOARD_NAME}",
        metric_repo=f"{namespace}/{METRIC_NAME}",
    )
